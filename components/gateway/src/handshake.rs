//! The session steps of the handshake era: `initialize` creates a session,
//! every later message must name a live one of the caller's tenant, and
//! `DELETE /mcp` ends it. The records themselves are in
//! `spinscope_spin::sessions`.

use crate::context::Context;
use serde_json::Value;
use spinscope::gateway::logger::TARGET_GATEWAY;
use spinscope::gateway::record::ClientFacts;
use spinscope::gateway::{peer, GatewayError};
use spinscope::log::Level;
use spinscope::mcp;
use spinscope_spin::kv::KvError;
use spinscope_spin::sessions::{self, Caps, CreateError, Lookup, Session};
use spinscope_spin::{random_bytes, time};

/// A session `initialize` created.
pub struct Created {
    /// Its id (`MCP-Session-Id`).
    pub session_id: String,
    /// The negotiated revision and the client.
    pub client: ClientFacts,
    /// Expired sessions ended on the way.
    pub swept: u64,
}

fn unavailable(e: KvError) -> GatewayError {
    GatewayError::StoreUnavailable { cause: e.to_string() }
}

/// `initialize`: negotiates the revision and creates the session.
pub fn initialize(cx: &Context, params: Option<&Value>) -> Result<Created, GatewayError> {
    let capabilities = spinscope::gateway::bridge::declared_capabilities(params);
    let params = mcp::parse_initialize_params(params)?;
    let version = mcp::negotiate(&params.protocol_version);
    let store = cx.store().map_err(unavailable)?;
    let session_id = sessions::new_id(random_bytes::<16>(), store);
    let now = time::now_unix_ms();
    let session = Session {
        created_ms: now,
        last_seen_ms: now,
        protocol_version: version.to_string(),
        client: params.client_name.clone(),
        client_version: params.client_version.clone(),
        tenant: cx.record.tenant.clone(),
        // Open mode's clients share one tenant: each address has a share.
        client_addr: match cx.config.is_open() && cx.config.max_sessions_per_client > 0 {
            true => peer::client_address(cx.header(peer::CLIENT_ADDR_HEADER)),
            false => None,
        },
        capabilities,
        store_encoding: None,
    };
    // Sessions that expired unseen are ended here, a bounded number at a
    // time, so the store does not grow and the live counts stay exact.
    let swept = sessions::sweep(store, now, cx.config.session_idle_timeout).unwrap_or_else(|e| {
        cx.warn(Level::Warn, "Expired sessions not swept", &e.to_string());
        0
    });
    let caps = Caps { per_tenant: cx.config.max_sessions_per_tenant, per_client: cx.config.max_sessions_per_client };
    match sessions::create(store, &session_id, &session, caps) {
        Ok(()) => {}
        Err(CreateError::TooMany { max }) => return Err(GatewayError::TooManySessions { max, swept }),
        Err(CreateError::TooManyForClient { max }) => return Err(GatewayError::TooManyClientSessions { max, swept }),
        Err(CreateError::Store(e)) => return Err(unavailable(e)),
    }
    let line = cx
        .log
        .line(Level::Info, TARGET_GATEWAY, "Session created")
        .field("session_id", session_id.as_str())
        .field("protocol_version", version)
        .field_opt("client", params.client_name.as_deref());
    cx.log.emit(line);
    let client =
        ClientFacts { protocol_version: version.to_string(), name: params.client_name, version: params.client_version };
    Ok(Created { session_id, client, swept })
}

/// A session a message belongs to.
pub struct InSession {
    /// Its id.
    pub session_id: String,
    /// The negotiated revision and the client.
    pub client: ClientFacts,
    /// What the client can give a tool that asks (`gateway::bridge`).
    pub capabilities: Vec<String>,
}

/// Every message after `initialize`: the `MCP-Session-Id` must name a live
/// session of the caller's tenant, and `MCP-Protocol-Version`, when sent,
/// a supported revision. Refreshes the session's last-seen time.
pub fn require_session(cx: &Context) -> Result<InSession, GatewayError> {
    if let Some(version) = cx.header(mcp::PROTOCOL_VERSION_HEADER) {
        if mcp::supported_version(version).is_none() {
            return Err(GatewayError::UnsupportedRevision { requested: spinscope::bounded::client_string(version) });
        }
    }
    let session_id = cx.header(mcp::SESSION_ID_HEADER).ok_or(GatewayError::MissingSession)?.to_string();
    let now = time::now_unix_ms();
    let idle = cx.config.session_idle_timeout;
    let store = cx.store().map_err(unavailable)?;
    let mut session = match sessions::lookup(store, &session_id, now, idle).map_err(unavailable)? {
        Lookup::Expired { ended_here } => return Err(GatewayError::SessionExpired { ended_here }),
        // Another tenant's session does not exist for this caller.
        Lookup::Active(session) if session.tenant == cx.record.tenant => session,
        Lookup::Active(_) | Lookup::Missing => return Err(GatewayError::UnknownSession),
    };
    if let Err(e) = sessions::touch(store, &session_id, &mut session, now, idle) {
        cx.warn(Level::Warn, "Could not refresh session", &e.to_string());
    }
    let client = ClientFacts {
        protocol_version: session.protocol_version,
        name: session.client,
        version: session.client_version,
    };
    Ok(InSession { session_id, client, capabilities: session.capabilities })
}

/// `logging/setLevel`: the session's log level for the log messages tools
/// send during its calls (`gateway::notifications`), kept in the store.
pub fn set_log_level(cx: &Context, params: Option<&serde_json::Value>) -> Result<(), GatewayError> {
    let level = params.and_then(|p| p.get("level")).and_then(serde_json::Value::as_str).unwrap_or_default();
    if !spinscope::gateway::notifications::is_log_level(level) {
        return Err(GatewayError::InvalidParams(format!(
            "params.level must be a log level (debug, info, notice, warning, error, critical, alert, emergency), got {:?}",
            spinscope::bounded::client_string(level)
        )));
    }
    let session_id = cx.header(mcp::SESSION_ID_HEADER).ok_or(GatewayError::MissingSession)?;
    let store = cx.store().map_err(unavailable)?;
    sessions::set_log_level(store, session_id, level).map_err(unavailable)
}

/// `DELETE /mcp`: ends the caller's session; returns its id.
pub fn end_session(cx: &Context) -> Result<String, GatewayError> {
    let session_id = cx.header(mcp::SESSION_ID_HEADER).ok_or(GatewayError::MissingSession)?.to_string();
    let now = time::now_unix_ms();
    let store = cx.store().map_err(unavailable)?;
    let ended = match sessions::lookup(store, &session_id, now, cx.config.session_idle_timeout).map_err(unavailable)? {
        Lookup::Active(s) if s.tenant == cx.record.tenant => sessions::end(store, &session_id).map_err(unavailable)?,
        Lookup::Expired { ended_here } => return Err(GatewayError::SessionExpired { ended_here }),
        Lookup::Active(_) | Lookup::Missing => false,
    };
    if !ended {
        return Err(GatewayError::UnknownSession);
    }
    cx.log.emit(cx.log.line(Level::Info, TARGET_GATEWAY, "Session ended").field("session_id", session_id.as_str()));
    Ok(session_id)
}
