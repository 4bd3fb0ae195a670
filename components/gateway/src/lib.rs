//! The spinscope gateway: an MCP server on Streamable HTTP at `/mcp`
//! (JSON-RPC 2.0; the stateless revision 2026-07-28 and the handshake-era
//! revisions 2025-03-26, 2025-06-18 and 2025-11-25, side by side) that
//! routes `tools/list` and `tools/call` to tool components over Spin service
//! chaining, and makes every call observable.
//!
//! This crate is the Spin adapter: request I/O, the store, outbound calls
//! and the order of the steps. Every decision is a function of
//! `spinscope::gateway`, tested natively there. The steps ([`admission`],
//! [`rpc`], [`handshake`], [`tools`]) take the request's [`Context`]
//! read-only and return what they found or a `GatewayError`; only the
//! request flow (this file and [`rpc`]) writes the facts into the record.
//! The response is sent first; the access line, the spans and the one
//! metrics write ([`finish`]) read the record after it, except for a
//! request with audit events: its one write (metrics and events) is made
//! before the answer leaves, so that no client holds an answer whose event
//! a crash could lose.

mod admission;
mod bridge;
mod catalog;
mod context;
mod finish;
mod handshake;
mod relay;
mod rpc;
mod tools;

use context::{Context, Delivery};
use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;
use spinscope::gateway::route::{self, HttpAction};
use spinscope::gateway::{GatewayError, Reply};
use spinscope::mcp;
use spinscope_spin::{stream_reply, time};

/// The server's name, as `initialize` and modern results give it.
pub(crate) const SERVER_NAME: &str = "spinscope";
/// The server's version.
pub(crate) const VERSION: &str = env!("CARGO_PKG_VERSION");

#[http_component]
async fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
    let mut cx = Context::new(&request, time::monotonic_ns());
    let path = request.path_with_query().unwrap_or_default();
    if path.starts_with(spinscope::oauth::metadata::WELL_KNOWN) {
        // The Protected Resource Metadata: public, static, nothing recorded.
        let reply = metadata(&cx);
        stream_reply::send(response_out, reply, &cx.record.request_id, cx.config.log_format).await;
        return;
    }
    cx.hold(response_out);
    let mut reply = match serve(&mut cx, request).await {
        Ok(reply) => reply,
        Err(error) => cx.fail(error),
    };
    if let Err(cause) = finish::before_answer(&mut cx, reply.status, reply.body.len()) {
        reply = cx.fail(GatewayError::AuditUnavailable { cause });
    }
    let (mut status, body_len) = (reply.status, reply.body.len());
    match cx.take_answer() {
        Delivery::Waiting(response_out) => {
            stream_reply::send(response_out, reply, &cx.record.request_id, cx.config.log_format).await
        }
        // A tool's notifications went out as they came: the response is
        // the last event of the SSE answer, whose status was 200.
        Delivery::Streaming(mut stream) => {
            if !reply.body.is_empty() {
                let mut event = b"event: message\ndata: ".to_vec();
                event.extend(reply.body.iter().filter(|b| **b != b'\n'));
                event.extend(b"\n\n");
                if let Err(e) = stream.write(&event) {
                    cx.warn(spinscope::log::Level::Info, "Response not sent: the client has gone", &e);
                }
            }
            stream.finish();
            status = 200;
        }
        Delivery::Gone => {}
    }
    finish::finish(&mut cx, status, body_len);
}

/// `GET /.well-known/oauth-protected-resource[/mcp]` (RFC 9728): where
/// to get a token for this resource; 404 while OAuth is off.
fn metadata(cx: &Context) -> Reply {
    let Some(oauth) = &cx.config.oauth else {
        return Reply::json(404, &serde_json::json!({"error": "OAuth is off (oauth_issuer is not set)"}));
    };
    if cx.record.http_method != "GET" && cx.record.http_method != "HEAD" {
        return Reply::new(405).with_header("allow", "GET, HEAD");
    }
    let doc = spinscope::oauth::metadata::document(
        &oauth.resource,
        std::slice::from_ref(&oauth.issuer),
        &oauth.scopes_supported,
    );
    Reply::json(200, &doc).with_header("cache-control", "max-age=300")
}

/// The request path: admission (`spinscope::gateway::admission::ORDER`),
/// then the HTTP method's own step.
async fn serve(cx: &mut Context, request: IncomingRequest) -> Result<Reply, GatewayError> {
    let admitted = admission::authenticate(cx)?;
    cx.record.admitted(admitted.tenant.clone());
    cx.caller = admitted;
    admission::within_rate_limit(cx)?;
    let action = route::http_action(&cx.record.http_method, cx.header(mcp::PROTOCOL_VERSION_HEADER));
    let body = match action {
        HttpAction::Message => {
            spinscope::gateway::admission::json_content_type(cx.header("content-type"))?;
            Some(admission::read_body(cx, request)?)
        }
        _ => None,
    };
    cx.slot = admission::within_concurrency(cx)?;
    match (action, body) {
        (HttpAction::Message, Some(body)) => {
            cx.record.request_bytes = body.len();
            rpc::handle(cx, &body)
        }
        (HttpAction::EndSession, _) => {
            let ended = handshake::end_session(cx)?;
            cx.record.session_ended(ended);
            Ok(Reply::new(204))
        }
        _ => Err(GatewayError::MethodNotAllowed),
    }
}
