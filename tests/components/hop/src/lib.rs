//! `hop`: the floor of a tool call, for `make bench` (docs/benchmark.md).
//!
//! It takes the same JSON-RPC `tools/call` body the gateway takes and
//! forwards the call over Spin service chaining to `text-tools` exactly as
//! the gateway does (the URL and body of `gateway::tool_map::call_request`,
//! the same headers, through the same `outbound::send`), then answers the
//! tool's result as the JSON-RPC result. Nothing else: no session, no
//! configuration, no store, no tool map, no checks, no recording.
//!
//! Unless asked, for the bench's ablation rows (`SPINSCOPE_BENCH_ONLY=ablation`):
//! `HOP_EXTRAS` in the component's environment (read from the instance's
//! own environment, no host call) lists the gateway's kinds of host work
//! to add, so each one's cost on Spin is measured alone:
//! - `config`: every variable of the component in one `get-all`, as the
//!   gateway reads its configuration;
//! - `store`: the default store opened and read as a handshake-era
//!   `tools/call` reads it on SQLite (one `get-many` of a session, the
//!   tool's entry and two breaker states);
//! - `log`: one access line on stdout.

use serde_json::{json, Value};
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;
use spinscope::gateway::tool_map;
use spinscope::keys;
use spinscope_spin::outbound::{self, Outgoing};
use std::time::Duration;

/// The component every call goes to.
const COMPONENT: &str = "text-tools";

#[http_component]
fn handle(req: Request) -> Response {
    let extras = std::env::var("HOP_EXTRAS").unwrap_or_default();
    let wants = |extra: &str| extras.split(',').any(|e| e.trim() == extra);
    if wants("config") {
        let vars = spinscope_spin::vars::get_all().unwrap_or_default();
        std::hint::black_box(vars);
    }
    if wants("store") {
        read_as_the_gateway_does();
    }
    if wants("log") {
        println!("ts=2026-12-07T00:00:00Z level=info target=gateway msg=Request method=tools/call status=200 hop=true");
    }
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

/// The store calls of a handshake-era `tools/call` through the gateway
/// (recording off) on SQLite: open, and one `get-many` of the session, the
/// tool's entry and the breakers.
fn read_as_the_gateway_does() {
    let Ok(store) = spinscope_spin::kv::Store::open_default() else { return };
    let mut wanted = vec![keys::tool_entry("word_count").unwrap_or_default()];
    wanted.extend(["text-tools", "calc"].map(keys::breaker_state));
    wanted.push(keys::session("0af7651916cd43dd8448eb211c80319d"));
    let _ = std::hint::black_box(store.read_ahead(&wanted));
}
