//! The spinscope gateway: an MCP server on Streamable HTTP at `/mcp`
//! (JSON-RPC 2.0; the stateless revision 2026-07-28 and the handshake-era
//! revisions 2025-03-26, 2025-06-18 and 2025-11-25, side by side) that
//! routes `tools/list` and `tools/call` to tool components over Spin service
//! chaining, and makes every call observable: access log, invocation log
//! with redacted arguments, trace context, metrics.
//!
//! A request runs through steps that each take the [`context::Context`]
//! and either go on or end in a [`error::GatewayError`]: admission
//! ([`admission`]), then the JSON-RPC message ([`rpc`]): standing alone in
//! the modern era ([`stateless`]), or in its session ([`handshake`]); then
//! tool discovery ([`discovery`]) and invocation
//! ([`invoke`]). The response is sent first; the access line, the spans and
//! the one metrics write ([`finish`]) happen after it, all read from the
//! request's one record ([`record`]).

mod admission;
mod context;
mod discovery;
mod error;
mod finish;
mod handshake;
mod invoke;
mod logger;
mod record;
mod reply;
mod rpc;
mod spans;
mod stateless;

use context::Context;
use error::GatewayError;
use reply::Reply;
use spin_sdk::http::{IncomingRequest, Method, ResponseOutparam};
use spin_sdk::http_component;
use spinscope::mcp;
use spinscope_spin::time;

/// The server's name, as `initialize` and modern results give it.
pub(crate) const SERVER_NAME: &str = "spinscope";
/// The server's version.
pub(crate) const VERSION: &str = env!("CARGO_PKG_VERSION");

#[http_component]
async fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
    let mut cx = Context::new(&request, time::monotonic_ns());
    let reply = match serve(&mut cx, request).await {
        Ok(reply) => reply,
        Err(error) => cx.fail(error),
    };
    let (status, body_len) = (reply.status, reply.body.len());
    reply::send(response_out, reply, &cx.record.request_id).await;
    finish::finish(&mut cx, status, body_len);
}

/// The request path: admission, then the method's own step.
async fn serve(cx: &mut Context, request: IncomingRequest) -> Result<Reply, GatewayError> {
    let method = request.method();
    cx.record.http_method = method_name(&method);
    admission::admit(cx)?;
    match method {
        Method::Post => {
            let body = admission::read_body(cx, request).await?;
            rpc::handle(cx, &body)
        }
        // The modern era has no session to end (405, as for GET).
        Method::Delete if !is_modern(cx) => handshake::end_session(cx),
        _ => {
            let message = "use POST for JSON-RPC messages, or DELETE to end a handshake-era session; this server offers no GET stream";
            Ok(Reply::json(405, &mcp::error(None, mcp::INVALID_REQUEST, message, None))
                .with_header("allow", "POST, DELETE"))
        }
    }
}

/// Whether the request names a revision past the handshake era.
fn is_modern(cx: &Context) -> bool {
    mcp::modern::era(None, None, cx.header(mcp::PROTOCOL_VERSION_HEADER)) == mcp::modern::Era::Modern
}

fn method_name(method: &Method) -> String {
    match method {
        Method::Get => "GET".into(),
        Method::Head => "HEAD".into(),
        Method::Post => "POST".into(),
        Method::Put => "PUT".into(),
        Method::Delete => "DELETE".into(),
        Method::Patch => "PATCH".into(),
        Method::Options => "OPTIONS".into(),
        Method::Connect => "CONNECT".into(),
        Method::Trace => "TRACE".into(),
        Method::Other(m) => m.to_ascii_uppercase(),
    }
}
