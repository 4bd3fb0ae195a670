//! The tool-component contract (FTL's), for Spin components written in Rust.
//!
//! A tool component is a Spin HTTP component the gateway reaches by service
//! chaining, e.g. `http://calc.spin.internal/calculate`. It answers:
//!
//! - `GET /` with a JSON array of tool metadata: `name`, `title`,
//!   `description`, `inputSchema`, optional `outputSchema`, `annotations`;
//! - `POST /<tool-name>`, the body being the arguments JSON object, with
//!   `200` and an MCP `CallToolResult`: `content: [{"type": "text", "text": ...}]`,
//!   optional `structuredContent` (an object matching `outputSchema`), `isError`.
//!
//! An unknown tool gets `404` with a `CallToolResult` whose `isError` is true.
//! Bad arguments get `200` with `isError: true` and a readable message, so the
//! model can correct its call. The tool name is the last segment of the request
//! path, which works however the component is reached (chained or routed);
//! `spin-path-info` alone would not. A `traceparent` header may come with the
//! request; tools are free to ignore it. See docs/tools.md.
//!
//! spinscope extends the contract for components that also serve prompts,
//! resources and completions (docs/tools.md, "Prompts, resources and
//! completions"): the gateway's `GET /` carries [`CATALOG_HEADER`], and such
//! a component answers it with an object (`tools`, `prompts`, `resources`,
//! `resourceTemplates`, `completions`) instead of the array; the gateway
//! sends those requests as `POST /_mcp/<method>` ([`mcp_method`]) with the
//! request's `params`, and the component answers 200 with the MCP result,
//! or another status with `{"error": {"code", "message", "data"}}`
//! ([`rpc_error`]), which the gateway relays as the JSON-RPC error.

pub mod own_metrics;
pub mod stream;

use serde_json::Value;
use spin_sdk::http::{Method, Request, Response};

/// What a request asks of a tool component.
pub enum Route<'a> {
    /// `GET /`: the tool list.
    List,
    /// `POST /<tool-name>`.
    Call(&'a str),
    /// Anything else (answered 405 by [`serve`]).
    Other,
}

/// The header of the gateway's `GET /` that asks for the whole catalog
/// (an object) rather than the tool array.
pub const CATALOG_HEADER: &str = "spinscope-catalog";

/// The path prefix of the MCP methods other than the tools'.
pub const MCP_PATH: &str = "/_mcp/";

/// Whether the gateway asked for the whole catalog.
pub fn wants_catalog(req: &Request) -> bool {
    req.header(CATALOG_HEADER).is_some()
}

/// The MCP method of a `POST /_mcp/<method>` (e.g. `prompts/get`), checked
/// before [`route`]: such a path is no tool call.
pub fn mcp_method(req: &Request) -> Option<&str> {
    if *req.method() != Method::Post {
        return None;
    }
    let path = req.path();
    path.find(MCP_PATH).map(|at| &path[at + MCP_PATH.len()..])
}

/// A JSON-RPC error the gateway relays as it is: `status` is the HTTP status
/// of this hop (not 200), `code`, `message` and `data` the error's.
pub fn rpc_error(status: u16, code: i64, message: &str, data: Option<Value>) -> Response {
    let mut error = serde_json::json!({"code": code, "message": message});
    if let Some(data) = data {
        error["data"] = data;
    }
    json_response(status, &serde_json::json!({ "error": error }))
}

/// A `tools/call` answer with the notifications the tool sent while it
/// worked (progress, log messages), for the gateway to relay as the
/// revision allows: `text/event-stream`, one event per notification, then
/// one with the result (docs/tools.md). All at the end: a tool that
/// should be heard while it works sends them with [`stream::EventSink`].
pub fn event_stream(notifications: &[Value], result: &Value) -> Response {
    let mut body = String::new();
    for message in notifications.iter().chain(std::iter::once(result)) {
        body.push_str("event: message\ndata: ");
        body.push_str(&message.to_string());
        body.push_str("\n\n");
    }
    Response::builder().status(200).header("content-type", "text/event-stream").body(body).build()
}

/// Reads the contract's route from a request.
pub fn route(req: &Request) -> Route<'_> {
    let tool = req.path().rsplit('/').next().unwrap_or_default();
    match req.method() {
        Method::Get if tool.is_empty() || is_base_path(req) => Route::List,
        Method::Post => Route::Call(tool),
        _ => Route::Other,
    }
}

/// Whether the request is for the component's base path when it is routed
/// under a prefix, e.g. `GET /calc` for route `/calc/...`.
fn is_base_path(req: &Request) -> bool {
    req.header("spin-path-info").and_then(|v| v.as_str()).is_some_and(|info| info.is_empty() || info == "/")
}

/// Serves the contract: `list` answers `GET /`; `call` runs a tool on its raw
/// arguments and returns its `CallToolResult`, or `None` for an unknown tool.
/// A call's answer says how long the tool ran and how large the instance's
/// memory grew ([`measured`]).
pub fn serve(req: &Request, list: impl FnOnce() -> Value, call: impl FnOnce(&str, &[u8]) -> Option<Value>) -> Response {
    let began = now_ns();
    match route(req) {
        Route::List => json_response(200, &list()),
        Route::Call(tool) => match call(tool, req.body()) {
            Some(result) => measured(json_response(200, &result), began),
            None => unknown_tool(tool),
        },
        Route::Other => method_not_allowed(),
    }
}

/// The response header that carries the tool's own execution time, W3C
/// `Server-Timing` with one metric, `exec`, in milliseconds: the gateway
/// tells it apart from the rest of the call (instantiation, chaining).
pub const SERVER_TIMING: &str = "server-timing";
/// The response header that carries the instance's linear memory at the
/// end of the call (its high-water mark: wasm memory never shrinks), bytes.
pub const MEMORY_HEADER: &str = "spinscope-memory-bytes";

/// `response` with the call's `Server-Timing` (since `began_ns`) and its
/// memory size: what a tool built without [`serve`] adds to report them.
pub fn measured(mut response: Response, began_ns: u64) -> Response {
    let exec_ms = now_ns().saturating_sub(began_ns) as f64 / 1e6;
    response.set_header(SERVER_TIMING, format!("exec;dur={exec_ms:.3}"));
    if let Some(bytes) = memory_bytes() {
        response.set_header(MEMORY_HEADER, bytes.to_string());
    }
    response
}

/// The monotonic clock, ns (0 off wasm, where tests run natively).
pub fn now_ns() -> u64 {
    #[cfg(target_arch = "wasm32")]
    return wasi::clocks::monotonic_clock::now();
    #[cfg(not(target_arch = "wasm32"))]
    return 0;
}

/// The instance's linear memory now, in bytes.
pub fn memory_bytes() -> Option<u64> {
    #[cfg(target_arch = "wasm32")]
    return Some(core::arch::wasm32::memory_size(0) as u64 * 65_536);
    #[cfg(not(target_arch = "wasm32"))]
    return None;
}

/// `404` with an `isError` result.
pub fn unknown_tool(tool: &str) -> Response {
    json_response(404, &error_result(format!("unknown tool {tool:?}")))
}

/// `405` with an `isError` result naming the two allowed forms.
pub fn method_not_allowed() -> Response {
    json_response(405, &error_result("use GET / or POST /<tool-name>".into()))
}

pub use spinscope::mcp::{parse_tool_arguments as args, structured_result, text_result};

/// A failed result the model can read.
pub fn error_result(message: String) -> Value {
    spinscope::mcp::tool_error_result(&message)
}

/// A JSON response.
pub fn json_response(status: u16, body: &Value) -> Response {
    Response::builder().status(status).header("content-type", "application/json").body(body.to_string()).build()
}
