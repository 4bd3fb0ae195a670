//! `hop`: the floor of a tool call, for `make bench` (docs/benchmark.md).
//!
//! It takes the same JSON-RPC `tools/call` body the gateway takes and
//! forwards the call over Spin service chaining to `text-tools` exactly as
//! the gateway does (the URL and body of `gateway::tool_map::call_request`,
//! the same headers, through the same `outbound::send`), then answers the
//! tool's result as the JSON-RPC result. Nothing else: no session, no
//! configuration, no store, no tool map, no checks, no recording.

use serde_json::{json, Value};
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;
use spinscope::gateway::tool_map;
use spinscope_spin::outbound::{self, Outgoing};
use std::time::Duration;

/// The component every call goes to.
const COMPONENT: &str = "text-tools";

#[http_component]
fn handle(req: Request) -> Response {
    let Ok(message) = serde_json::from_slice::<Value>(req.body()) else {
        return answer(
            400,
            &json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": "Parse error"}}),
        );
    };
    let params = &message["params"];
    let tool = params["name"].as_str().unwrap_or_default();
    let (url, body) = tool_map::call_request(COMPONENT, tool, &params["arguments"], None, false);
    let request = Outgoing::post(url, body)
        .header("content-type", "application/json")
        .header("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        .header("x-request-id", "hop");
    let result = outbound::send(request, Duration::from_secs(30), 8 << 20)
        .ok()
        .filter(|reply| reply.status == 200)
        .and_then(|reply| serde_json::from_slice::<Value>(&reply.body).ok());
    match result {
        Some(result) => answer(200, &json!({"jsonrpc": "2.0", "id": message["id"], "result": result})),
        None => answer(
            502,
            &json!({"jsonrpc": "2.0", "id": message["id"], "error": {"code": -32603, "message": "tool failed"}}),
        ),
    }
}

fn answer(status: u16, body: &Value) -> Response {
    Response::builder().status(status).header("content-type", "application/json").body(body.to_string()).build()
}
