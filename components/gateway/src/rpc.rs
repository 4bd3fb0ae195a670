//! A `POST /mcp` body: one JSON-RPC message, routed to its step.

use crate::context::Context;
use crate::error::GatewayError;
use crate::handshake;
use crate::reply::Reply;
use crate::{discovery, invoke, stateless};
use serde_json::{json, Value};
use spinscope::bounded::client_string;
use spinscope::mcp::modern::{self, Era};
use spinscope::mcp::{self, Incoming, RequestId, RpcError};

/// Parses the message and answers it in its era: a modern request stands
/// alone ([`stateless`]); a handshake-era request gets its result or error
/// in its session, a notification or response 202.
pub fn handle(cx: &mut Context, body: &[u8]) -> Result<Reply, GatewayError> {
    let message = mcp::parse_message(body).map_err(|e| {
        cx.record.mcp_method = Some("_invalid".into());
        GatewayError::new(400, e)
    })?;
    let era = modern::era(message.method(), message.params(), cx.header(mcp::PROTOCOL_VERSION_HEADER));
    cx.retrace(message.params().and_then(|p| p.get("_meta")), era);
    if era == Era::Modern {
        return stateless::handle(cx, message);
    }
    match message {
        Incoming::Request { id, method, params } => {
            // Both end up in the spans: bounded, as everything a client sends.
            cx.record.mcp_method = Some(client_string(&method));
            cx.record.rpc_id = Some(client_string(&id.to_string()));
            if method == "initialize" {
                return handshake::initialize(cx, &id, params.as_ref());
            }
            handshake::require_session(cx, Some(&id))?;
            dispatch(cx, &id, &method, params.as_ref())
        }
        Incoming::Notification { method, .. } => {
            cx.record.mcp_method = Some(client_string(&method));
            handshake::require_session(cx, None)?;
            Ok(Reply::new(202))
        }
        Incoming::Response(_) => {
            handshake::require_session(cx, None)?;
            Ok(Reply::new(202))
        }
    }
}

/// A request inside a session, by method.
fn dispatch(cx: &mut Context, id: &RequestId, method: &str, params: Option<&Value>) -> Result<Reply, GatewayError> {
    let result = match method {
        "ping" => Ok(json!({})),
        "tools/list" => discovery::tools_list(cx, params),
        "tools/call" => invoke::tools_call(cx, params),
        other => Err(RpcError::method_not_found(other)),
    };
    match result {
        Ok(result) => Ok(Reply::json(200, &mcp::success(id, result))),
        Err(e) => Err(GatewayError::new(200, e.with_id(Some(id.clone())))),
    }
}
