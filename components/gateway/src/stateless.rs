//! The modern era (MCP 2026-07-28): every request stands alone. Its
//! revision, client info and capabilities come in `params._meta`, checked
//! against the `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name` headers
//! (`spinscope::mcp::modern`); there is no `initialize` and no session, so
//! a request touches the store only for the tool map and its one metrics
//! write. Auth, limits, logs, spans and metrics are the same as in the
//! handshake era: they run around this step.

use crate::context::Context;
use crate::error::GatewayError;
use crate::reply::Reply;
use crate::{discovery, invoke, SERVER_NAME, VERSION};
use serde_json::Value;
use spinscope::bounded::client_string;
use spinscope::mcp::modern::{self, CacheScope};
use spinscope::mcp::{self, Incoming, RequestId, RpcError};

/// Answers one modern message.
pub fn handle(cx: &mut Context, message: Incoming) -> Result<Reply, GatewayError> {
    match message {
        Incoming::Request { id, method, params } => {
            cx.record.mcp_method = Some(client_string(&method));
            cx.record.rpc_id = Some(client_string(&id.to_string()));
            let envelope = modern::check_request(&method, params.as_ref(), cx.headers()).map_err(|e| {
                // Counted under the revision asked for (`_other` in metrics).
                if let Some(requested) = e.data.as_ref().and_then(|d| d["requested"].as_str()) {
                    cx.record.protocol_version = Some(requested.to_string());
                }
                refuse(e, &id)
            })?;
            cx.record.protocol_version = Some(envelope.protocol_version.to_string());
            cx.record.client_name = envelope.client_name;
            cx.record.client_version = envelope.client_version;
            match dispatch(cx, &method, params.as_ref()) {
                Ok(result) => {
                    let result = modern::complete(result, SERVER_NAME, VERSION);
                    Ok(Reply::json(200, &mcp::success(&id, result)))
                }
                Err(e) => Err(refuse(e, &id)),
            }
        }
        Incoming::Notification { method, params } => {
            cx.record.mcp_method = Some(client_string(&method));
            // The revision defines no notification a client sends over HTTP;
            // one is acknowledged, unless it names a revision not served.
            let meta_version = params
                .as_ref()
                .and_then(|p| p.get("_meta"))
                .and_then(|m| m.get(modern::PROTOCOL_VERSION_META))
                .and_then(Value::as_str);
            let version = cx.header(mcp::PROTOCOL_VERSION_HEADER).or(meta_version).unwrap_or("").to_string();
            match mcp::MODERN_VERSIONS.iter().find(|v| **v == version) {
                Some(v) => {
                    cx.record.protocol_version = Some(v.to_string());
                    Ok(Reply::new(202))
                }
                None => Err(GatewayError::new(400, modern::unsupported_version(&version))),
            }
        }
        Incoming::Response(_) => {
            let message = "a 2026-07-28 client sends requests and notifications only, never a JSON-RPC response";
            Err(GatewayError::rpc(400, None, mcp::INVALID_REQUEST, message))
        }
    }
}

/// A modern request by method: `server/discover`, the tools, and -32601
/// (HTTP 404) for anything else, `initialize` and `ping` included.
fn dispatch(cx: &mut Context, method: &str, params: Option<&Value>) -> Result<Value, RpcError> {
    let ttl_ms = cx.config.tool_map_ttl.as_millis() as u64;
    // One tool list for every caller, but behind keys it is still theirs:
    // shared caches may keep it only in open mode.
    let scope = if cx.config.api_keys.is_open() { CacheScope::Public } else { CacheScope::Private };
    match method {
        modern::DISCOVER => Ok(modern::discover_result(ttl_ms, scope)),
        "tools/list" => discovery::tools_list(cx, params).map(|mut result| {
            modern::set_cache_hints(&mut result, ttl_ms, scope);
            result
        }),
        "tools/call" => invoke::tools_call(cx, params),
        other => Err(modern::method_not_found(other)),
    }
}

/// A modern error: the HTTP status the transport gives its code.
fn refuse(error: RpcError, id: &RequestId) -> GatewayError {
    GatewayError::new(modern::http_status(error.code), error.with_id(Some(id.clone())))
}
