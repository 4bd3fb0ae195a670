//! The session steps of the handshake era: `initialize` creates a session,
//! every later message must name a live one of the caller's tenant, and
//! `DELETE /mcp` ends it. The records themselves are in
//! `spinscope_spin::sessions`.

use crate::context::Context;
use crate::error::GatewayError;
use crate::logger::TARGET_GATEWAY;
use crate::reply::Reply;
use crate::{SERVER_NAME, VERSION};
use serde_json::Value;
use spinscope::log::Level;
use spinscope::mcp::{self, RequestId};
use spinscope::metrics::series::RejectReason;
use spinscope_spin::kv::Encoding;
use spinscope_spin::sessions::{self, CreateError, Lookup, Session};
use spinscope_spin::{metrics_sink, random_bytes, time};

/// `initialize`: negotiates the revision and creates the session.
pub fn initialize(cx: &mut Context, id: &RequestId, params: Option<&Value>) -> Result<Reply, GatewayError> {
    let params =
        mcp::parse_initialize_params(params).map_err(|e| GatewayError::new(200, e.with_id(Some(id.clone()))))?;
    let version = mcp::negotiate(&params.protocol_version);
    let session_id = sessions::new_id(random_bytes::<16>());
    let now = time::now_unix_ms();
    let session = Session {
        created_ms: now,
        last_seen_ms: now,
        protocol_version: version.to_string(),
        client: params.client_name.clone(),
        client_version: params.client_version.clone(),
        tenant: cx.record.tenant.clone(),
        store_encoding: None,
    };
    let store = cx.store().map_err(|e| cx.store_unavailable(Some(id), &e))?;
    let session = Session { store_encoding: metrics_sink::store_hint(&cx.config, store), ..session };
    // Sessions that expired unseen are ended here, a bounded number at a
    // time, so the store does not grow and the live counts stay exact.
    let swept = sessions::sweep(store, now, cx.config.session_idle_timeout);
    match sessions::create(store, &session_id, &session, cx.config.max_sessions_per_tenant) {
        Ok(()) => {}
        Err(CreateError::TooMany { max }) => {
            let message =
                format!("this tenant already holds {max} live sessions; end one (DELETE /mcp) or let one expire");
            cx.record.sessions_active_delta -= swept.unwrap_or(0) as i64;
            let refused = GatewayError::rejected(RejectReason::Sessions, 429, mcp::INTERNAL_ERROR, message);
            return Err(refused.with_id(id).with_header("retry-after", "60"));
        }
        Err(CreateError::Store(e)) => return Err(cx.store_unavailable(Some(id), &e.to_string())),
    }
    match swept {
        Ok(n) => cx.record.sessions_active_delta -= n as i64,
        Err(e) => cx.warn(Level::Warn, "Expired sessions not swept", &e.to_string()),
    }
    cx.record.sessions_created += 1;
    cx.record.sessions_active_delta += 1;
    cx.record.session_id = Some(session_id.clone());
    cx.record.protocol_version = Some(version.to_string());
    cx.record.client_name = params.client_name.clone();
    cx.record.client_version = params.client_version.clone();
    cx.record.store_encoding = session.store_encoding.as_deref().and_then(Encoding::from_tag);
    let line = cx
        .log
        .line(Level::Info, TARGET_GATEWAY, "Session created")
        .field("session_id", session_id.as_str())
        .field("protocol_version", version)
        .field_opt("client", params.client_name.as_deref());
    cx.log.emit(line);
    let result = mcp::initialize_result(version, SERVER_NAME, VERSION, None);
    Ok(Reply::json(200, &mcp::success(id, result)).with_header("mcp-session-id", session_id))
}

/// Every message after `initialize`: the `MCP-Session-Id` must name a live
/// session of the caller's tenant, and `MCP-Protocol-Version`, when sent,
/// a supported revision. Refreshes the session's last-seen time.
pub fn require_session(cx: &mut Context, id: Option<&RequestId>) -> Result<(), GatewayError> {
    let Some(session_id) = cx.header(mcp::SESSION_ID_HEADER).map(str::to_string) else {
        let message = "missing MCP-Session-Id header: send initialize first";
        return Err(GatewayError::rpc(400, id, mcp::INVALID_REQUEST, message));
    };
    if let Some(version) = cx.header(mcp::PROTOCOL_VERSION_HEADER) {
        if mcp::supported_version(version).is_none() {
            let supported = mcp::SUPPORTED_VERSIONS.join(", ");
            let message = format!("unsupported MCP-Protocol-Version {version:?}; supported: {supported}");
            return Err(GatewayError::rpc(400, id, mcp::INVALID_REQUEST, message));
        }
    }
    let now = time::now_unix_ms();
    let idle = cx.config.session_idle_timeout;
    let lookup =
        cx.store().and_then(|store| sessions::lookup(store, &session_id, now, idle).map_err(|e| e.to_string()));
    let mut session = match lookup {
        Err(e) => return Err(cx.store_unavailable(id, &e)),
        Ok(Lookup::Missing) => {
            return Err(GatewayError::session_not_found(id, "session not found: send initialize to start a new one"))
        }
        Ok(Lookup::Expired { ended_here }) => {
            cx.record.sessions_active_delta -= i64::from(ended_here);
            return Err(GatewayError::session_not_found(id, "session expired: send initialize to start a new one"));
        }
        // Another tenant's session does not exist for this caller.
        Ok(Lookup::Active(session)) if session.tenant != cx.record.tenant => {
            return Err(GatewayError::session_not_found(id, "session not found: send initialize to start a new one"))
        }
        Ok(Lookup::Active(session)) => session,
    };
    if let Ok(store) = cx.store() {
        if let Err(e) = sessions::touch(store, &session_id, &mut session, now, idle) {
            cx.warn(Level::Warn, "Could not refresh session", &e.to_string());
        }
    }
    cx.record.session_id = Some(session_id);
    cx.record.protocol_version = Some(session.protocol_version);
    cx.record.client_name = session.client;
    cx.record.client_version = session.client_version;
    cx.record.store_encoding = session.store_encoding.as_deref().and_then(Encoding::from_tag);
    Ok(())
}

/// `DELETE /mcp`: ends the caller's session.
pub fn end_session(cx: &mut Context) -> Result<Reply, GatewayError> {
    let Some(session_id) = cx.header(mcp::SESSION_ID_HEADER).map(str::to_string) else {
        return Err(GatewayError::rpc(400, None, mcp::INVALID_REQUEST, "missing MCP-Session-Id header"));
    };
    let now = time::now_unix_ms();
    let idle = cx.config.session_idle_timeout;
    let tenant = cx.record.tenant.clone();
    // (ended by this request, an expired session ended on the way)
    let outcome = cx.store().and_then(|store| -> Result<(bool, bool), String> {
        match sessions::lookup(store, &session_id, now, idle).map_err(|e| e.to_string())? {
            Lookup::Active(s) if s.tenant == tenant => {
                Ok((sessions::end(store, &session_id).map_err(|e| e.to_string())?, false))
            }
            Lookup::Expired { ended_here } => Ok((false, ended_here)),
            _ => Ok((false, false)),
        }
    });
    match outcome {
        Err(e) => Err(cx.store_unavailable(None, &e)),
        Ok((false, expired_ended)) => {
            cx.record.sessions_active_delta -= i64::from(expired_ended);
            Err(GatewayError::session_not_found(None, "session not found"))
        }
        Ok((true, _)) => {
            cx.record.sessions_active_delta -= 1;
            cx.log.emit(
                cx.log.line(Level::Info, TARGET_GATEWAY, "Session ended").field("session_id", session_id.as_str()),
            );
            cx.record.session_id = Some(session_id);
            Ok(Reply::new(204))
        }
    }
}
