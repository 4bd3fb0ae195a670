//! A `POST /mcp` body: one JSON-RPC message, answered in its era. A
//! modern (2026-07-28) request stands alone: its `_meta` envelope is
//! checked against the routing headers (`spinscope::mcp::modern`), and it
//! touches the store only for the tool map and its one metrics write. A
//! handshake-era message belongs to a session, except `initialize`.

use crate::context::Context;
use crate::tools::{self, CallFacts};
use crate::{bridge, catalog};
use crate::{handshake, SERVER_NAME, VERSION};
use serde_json::{json, Value};
use spinscope::gateway::record::{ClientFacts, SessionsMoved, INVALID_MESSAGE};
use spinscope::gateway::route::{self, Operation};
use spinscope::gateway::{GatewayError, Reply};
use spinscope::mcp::modern::{self, CacheScope, Era};
use spinscope::mcp::{self, Incoming};

/// Parses the message and answers it: a request gets its result or error,
/// a notification or response 202.
pub fn handle(cx: &mut Context, body: &[u8]) -> Result<Reply, GatewayError> {
    let message = mcp::parse_message(body).map_err(|e| {
        cx.record.message(INVALID_MESSAGE, None);
        GatewayError::from(e)
    })?;
    let era = modern::era(message.method(), message.params(), cx.header(mcp::PROTOCOL_VERSION_HEADER));
    cx.retrace(message.params().and_then(|p| p.get("_meta")), era);
    match message {
        Incoming::Request { id, method, params } => {
            cx.record.message(&method, Some(&id));
            cx.id = Some(id.clone());
            let result = match era {
                Era::Modern => modern_request(cx, &method, params.as_ref()),
                Era::Handshake if method == "initialize" => return initialize(cx, params.as_ref()),
                Era::Handshake => session_request(cx, &method, params.as_ref()),
            }?;
            Ok(Reply::json(200, &mcp::success(&id, result)))
        }
        Incoming::Notification { method, params } => {
            cx.record.message(&method, None);
            match era {
                Era::Modern => {
                    let version =
                        modern::notification_version(params.as_ref(), cx.header(mcp::PROTOCOL_VERSION_HEADER))?;
                    cx.record.client(ClientFacts { protocol_version: version.into(), ..ClientFacts::default() });
                }
                Era::Handshake => in_session(cx)?,
            }
            Ok(Reply::new(202))
        }
        Incoming::Response(_) if era == Era::Modern => Err(GatewayError::UnexpectedResponse),
        Incoming::Response(response) => {
            in_session(cx)?;
            // The answer to a tool's input request, for the call that waits.
            bridge::keep_response(cx, &response)?;
            Ok(Reply::new(202))
        }
    }
}

/// `initialize`: a new session, named in `MCP-Session-Id`.
fn initialize(cx: &mut Context, params: Option<&Value>) -> Result<Reply, GatewayError> {
    let created = handshake::initialize(cx, params)?;
    let version = created.client.protocol_version.clone();
    cx.record.session(created.session_id.clone(), created.client);
    cx.record.sessions_moved(SessionsMoved { created: 1, ended: created.swept });
    let id = cx.id.clone().expect("a request");
    let mut result = mcp::initialize_result(&version, SERVER_NAME, VERSION, None);
    result["capabilities"] = declared_capabilities(cx, true);
    Ok(Reply::json(200, &mcp::success(&id, result)).with_header("mcp-session-id", created.session_id))
}

/// What the components offer besides tools, as `initialize` and
/// `server/discover` declare it (`session`: `initialize`, with `logging`).
/// A discovery made only for this (when no map is cached yet) logs what
/// failed but does not count it: `tool_discovery_failures_total` counts the
/// listings and calls that clients asked for.
fn declared_capabilities(cx: &mut Context, session: bool) -> Value {
    catalog::capabilities(cx, &mut CallFacts::default(), session)
}

/// The session a handshake-era message belongs to, into the record.
fn in_session(cx: &mut Context) -> Result<(), GatewayError> {
    let session = handshake::require_session(cx)?;
    cx.record.session(session.session_id, session.client);
    cx.client_capabilities = session.capabilities;
    Ok(())
}

/// A request inside a session.
fn session_request(cx: &mut Context, method: &str, params: Option<&Value>) -> Result<Value, GatewayError> {
    if method == "tools/call" {
        // The session and the call's first reads in one store call.
        tools::read_ahead(cx, params, Era::Handshake);
    }
    in_session(cx)?;
    match route::operation(method, Era::Handshake)? {
        Operation::Ping => Ok(json!({})),
        Operation::SetLogLevel => {
            handshake::set_log_level(cx, params)?;
            Ok(json!({}))
        }
        operation => serve(cx, operation, method, params),
    }
}

/// A modern request: its envelope first, then its operation.
fn modern_request(cx: &mut Context, method: &str, params: Option<&Value>) -> Result<Value, GatewayError> {
    let envelope = modern::check_request(method, params, cx.headers()).map_err(|e| {
        // Counted under the revision asked for (`_other` in metrics).
        if let Some(requested) = e.data.as_ref().and_then(|d| d["requested"].as_str()) {
            cx.record.revision_asked(requested);
        }
        GatewayError::from(e)
    })?;
    cx.record.client(envelope.into());
    let ttl_ms = cx.config.tool_map_ttl.as_millis() as u64;
    // One tool list for every caller, but behind keys it is still theirs:
    // shared caches may keep it only in open mode.
    let scope =
        if cx.config.is_open() && cx.config.tool_policy.is_empty() { CacheScope::Public } else { CacheScope::Private };
    let mut result = match route::operation(method, Era::Modern)? {
        Operation::Discover => {
            let mut result = modern::discover_result(ttl_ms, scope);
            result["capabilities"] = declared_capabilities(cx, false);
            result
        }
        // Cacheable results (SEP-2549): the lists, and a resource's contents.
        operation @ (Operation::ToolsList | Operation::CatalogList) => {
            let mut result = serve(cx, operation, method, params)?;
            modern::set_cache_hints(&mut result, ttl_ms, scope);
            result
        }
        Operation::CatalogRequest if method == "resources/read" => {
            let mut result = serve(cx, Operation::CatalogRequest, method, params)?;
            modern::set_cache_hints(&mut result, ttl_ms, scope);
            result
        }
        operation => {
            if operation == Operation::ToolsCall {
                tools::read_ahead(cx, params, Era::Modern);
            }
            serve(cx, operation, method, params)?
        }
    };
    result = modern::complete(result, SERVER_NAME, VERSION);
    Ok(result)
}

/// The tools, prompts, resources and completions, in either era: the
/// step returns its facts, written here.
fn serve(cx: &mut Context, operation: Operation, method: &str, params: Option<&Value>) -> Result<Value, GatewayError> {
    let mut facts = CallFacts::default();
    let result = match operation {
        Operation::ToolsList => tools::list(cx, params, &mut facts),
        Operation::CatalogList => catalog::list(cx, method, params, &mut facts),
        Operation::CatalogRequest => catalog::request(cx, method, params, &mut facts),
        _ => tools::call(cx, params, &mut facts),
    };
    if let Some(tool) = &facts.tool {
        cx.record.tool(tool);
    }
    cx.record.discovery_failed(facts.discovery_failures);
    if let Some((call, truncated)) = facts.called {
        cx.record.tool_called(call, truncated);
        crate::finish::tool_call_ended(cx);
    }
    if let Some((component, transition)) = facts.transition {
        cx.record.breaker_moved(component, transition);
    }
    if let Some(digest) = facts.arguments_sha256 {
        cx.record.arguments_digested(digest);
    }
    if let Some((allowed, rule)) = facts.authorization {
        cx.record.authorized(allowed, rule);
    }
    if let Some(error) = &facts.tool_error {
        cx.note(error);
    }
    match facts.relayed_for {
        Some((true, name)) => cx.record.prompt(&name),
        Some((false, uri)) => cx.record.resource(&uri),
        None => {}
    }
    result
}
