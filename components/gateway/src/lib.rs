//! The spinscope gateway: an MCP server on Streamable HTTP at `/mcp`
//! (JSON-RPC 2.0, revisions 2025-03-26, 2025-06-18 and 2025-11-25) that
//! routes `tools/list` and `tools/call` to tool components over Spin service
//! chaining, and makes every call observable: access log, invocation log
//! with redacted arguments, trace context, metrics.
//!
//! The response is sent first; the access log line and the one metrics
//! write happen after it, so the client never waits on them.

mod record;
mod server;
mod sessions;
mod spans;
mod telemetry;
mod tools;

use futures::SinkExt;
use spin_sdk::http::{Fields, IncomingRequest, OutgoingResponse, ResponseOutparam};
use spin_sdk::http_component;
use spinscope::config::Config;
use spinscope_spin::{random_bytes, time, vars};

/// An HTTP answer, built before anything is written.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn new(status: u16) -> Self {
        Reply { status, headers: Vec::new(), body: Vec::new() }
    }

    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        let mut r = Reply::new(status);
        r.headers.push(("content-type".into(), "application/json".into()));
        r.body = value.to_string().into_bytes();
        r
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

#[http_component]
async fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
    let began_ns = time::monotonic_ns();
    let config = Config::from_lookup(|name| vars::get(name).ok().flatten());
    let headers: Vec<(String, String)> = request
        .headers()
        .entries()
        .into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), String::from_utf8_lossy(&v).into_owned()))
        .collect();
    let request_id = headers
        .iter()
        .find(|(k, _)| k == "x-request-id")
        .map(|(_, v)| v.clone())
        .filter(|v| spinscope::log::is_safe_request_id(v))
        .unwrap_or_else(|| spinscope::log::new_request_id(&random_bytes::<8>()));

    let mut exchange = server::Exchange::new(config, request_id.clone(), headers, began_ns);
    let reply = exchange.serve(request).await;

    let status = reply.status;
    let body_len = reply.body.len();
    send(response_out, reply, &request_id).await;
    exchange.finish(status, body_len);
}

async fn send(response_out: ResponseOutparam, reply: Reply, request_id: &str) {
    let mut fields: Vec<(String, Vec<u8>)> =
        reply.headers.into_iter().map(|(k, v)| (k, v.into_bytes())).collect();
    fields.push(("x-request-id".into(), request_id.as_bytes().to_vec()));
    let headers = Fields::from_list(&fields).unwrap_or_else(|_| Fields::new());
    let response = OutgoingResponse::new(headers);
    let _ = response.set_status_code(reply.status);
    let mut body = response.take_body();
    response_out.set(response);
    if !reply.body.is_empty() {
        if let Err(e) = body.send(reply.body).await {
            eprintln!("could not write the response body: {e}");
        }
    }
    // Dropping the sink finishes the body: the client has its whole answer.
    drop(body);
}
