//! MCP session records in the key-value store: created on `initialize`,
//! required on every later request of the handshake era, ended by
//! `DELETE /mcp` or by idling past `session_idle_timeout_secs`, and swept
//! when they expire unseen.
//!
//! Every session is ended exactly once, whoever notices first (the owner's
//! next request, a `DELETE`, a sweep): the ender claims it with an
//! `increment`, so `sessions_active` (+1 when created, −1 when ended) and
//! the tenant's live count stay exact under any concurrency.

use crate::kv::{Encoding, KvError, Store};
use serde::{Deserialize, Serialize};
use spinscope::gateway::session_id;
use spinscope::keys;
use std::time::Duration;

/// One session record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    /// Unix ms of `initialize`.
    pub created_ms: u64,
    /// Unix ms of the latest request (refreshed at most every tenth of the
    /// idle timeout).
    pub last_seen_ms: u64,
    /// The negotiated revision.
    pub protocol_version: String,
    /// `clientInfo.name`, bounded.
    #[serde(default)]
    pub client: Option<String>,
    /// `clientInfo.version`, bounded.
    #[serde(default)]
    pub client_version: Option<String>,
    /// The tenant that owns it (`None` in open mode).
    #[serde(default)]
    pub tenant: Option<String>,
    /// In open mode, the client address that opened it, counted against
    /// `max_sessions_per_client` until the session ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_addr: Option<String>,
    /// What the client said in `initialize` it can give a tool that asks
    /// (`gateway::bridge::declared_capabilities`: elicitation, roots, sampling).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<String>,
    /// The counter encoding of the store it lives in, as the writer found
    /// it (`kv::Encoding::tag`): a later request that reads the session
    /// learns it with the session, and saves the encoding marker's read.
    /// Set by every write of the record; older records have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_encoding: Option<String>,
}

impl Session {
    fn expired(&self, now_ms: u64, idle: Duration) -> bool {
        now_ms.saturating_sub(self.last_seen_ms) > idle.as_millis() as u64
    }

    fn tenant_label(&self) -> &str {
        self.tenant.as_deref().unwrap_or("-")
    }
}

/// What a lookup found.
pub enum Lookup {
    /// A live session.
    Active(Session),
    /// Unknown, deleted, or not a session id at all.
    Missing,
    /// Idle past the timeout: it has been ended; `ended_here` tells whether
    /// this lookup ended it (and so moves the gauge).
    Expired {
        /// Whether this call ended it.
        ended_here: bool,
    },
}

/// A new session id (`spinscope::gateway::session_id`): 127 random bits,
/// and whether `store` reads many keys in one call (Spin's SQLite store).
pub fn new_id(random: [u8; 16], store: &Store) -> String {
    session_id::new(random, matches!(store.encoding(), Ok(Encoding::LittleEndian)))
}

fn read(store: &Store, id: &str) -> Result<Option<Session>, KvError> {
    let session: Option<Session> = store.get(&keys::session(id))?.and_then(|bytes| serde_json::from_slice(&bytes).ok());
    if let Some(encoding) = session.as_ref().and_then(|s| s.store_encoding.as_deref()).and_then(Encoding::from_tag) {
        store.learn_encoding(encoding);
    }
    Ok(session)
}

fn write(store: &Store, id: &str, session: &Session) -> Result<(), KvError> {
    let mut session = session.clone();
    session.store_encoding = store.encoding().ok().map(|e| e.tag().to_string());
    store.set(&keys::session(id), &serde_json::to_vec(&session).expect("session serializes"))
}

/// Why a session could not be created.
#[derive(Debug)]
pub enum CreateError {
    /// The tenant holds `max` live sessions already.
    TooMany {
        /// The cap.
        max: u64,
    },
    /// The client address holds `max` live sessions already (open mode).
    TooManyForClient {
        /// The cap.
        max: u64,
    },
    /// The store failed.
    Store(KvError),
}

impl From<KvError> for CreateError {
    fn from(e: KvError) -> Self {
        CreateError::Store(e)
    }
}

/// The caps a new session is held to.
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    /// Live sessions per tenant.
    pub per_tenant: u64,
    /// Live sessions per client address, when the session has one (0: no cap).
    pub per_client: u64,
}

/// Stores a new session, unless its client address (when it has one) or
/// its tenant holds as many live ones as `caps` allow already. The
/// client's count is taken first, so a client at its cap never takes a
/// place of the tenant's.
pub fn create(store: &Store, id: &str, session: &Session, caps: Caps) -> Result<(), CreateError> {
    let client = session.client_addr.as_deref().filter(|_| caps.per_client > 0).map(keys::sessions_live_client);
    if let Some(live) = &client {
        if store.increment(live, 1)? > caps.per_client as i64 {
            store.increment(live, -1)?;
            return Err(CreateError::TooManyForClient { max: caps.per_client });
        }
    }
    let live = keys::sessions_live(session.tenant_label());
    if store.increment(&live, 1)? > caps.per_tenant as i64 {
        store.increment(&live, -1)?;
        if let Some(client) = &client {
            store.increment(client, -1)?;
        }
        return Err(CreateError::TooMany { max: caps.per_tenant });
    }
    write(store, id, session)?;
    Ok(())
}

/// The session `id`; an expired one is ended on the way.
pub fn lookup(store: &Store, id: &str, now_ms: u64, idle: Duration) -> Result<Lookup, KvError> {
    if !session_id::well_formed(id) {
        return Ok(Lookup::Missing);
    }
    let Some(session) = read(store, id)? else {
        return Ok(Lookup::Missing);
    };
    if session.expired(now_ms, idle) {
        return Ok(Lookup::Expired { ended_here: end(store, id)? });
    }
    Ok(Lookup::Active(session))
}

/// Refreshes `last_seen` only when it is stale by a tenth of the idle
/// timeout (at most a minute), so an active session costs a store write
/// about once a minute, not once per request.
pub fn touch(store: &Store, id: &str, session: &mut Session, now_ms: u64, idle: Duration) -> Result<bool, KvError> {
    let granularity = (idle.as_millis() as u64 / 10).min(60_000);
    if now_ms.saturating_sub(session.last_seen_ms) < granularity {
        return Ok(false);
    }
    session.last_seen_ms = now_ms;
    write(store, id, session)?;
    Ok(true)
}

/// Sets session `id`'s log level (`logging/setLevel`): a key of its own, so
/// that no refresh of the session record can lose it.
pub fn set_log_level(store: &Store, id: &str, level: &str) -> Result<(), KvError> {
    store.set(&keys::session_log_level(id), level.as_bytes())
}

/// Session `id`'s log level, if it set one.
pub fn log_level(store: &Store, id: &str) -> Result<Option<String>, KvError> {
    Ok(store.get(&keys::session_log_level(id))?.map(|b| String::from_utf8_lossy(&b).into_owned()))
}

/// Ends the session `id` if it still exists: true when this call ended it.
/// The caller that claims the end deletes the record and lowers its
/// tenant's live count; a concurrent caller gets false.
pub fn end(store: &Store, id: &str) -> Result<bool, KvError> {
    let claim = keys::session_end_claim(id);
    if !store.claim(&claim)? {
        return Ok(false);
    }
    // The record is read after the claim: a claimer that comes after an
    // earlier one has finished finds it gone.
    let ended = match read(store, id)? {
        Some(session) => {
            store.delete(&keys::session(id))?;
            store.delete(&keys::session_log_level(id))?;
            store.increment(&keys::sessions_live(session.tenant_label()), -1)?;
            if let Some(address) = &session.client_addr {
                // Set only when the cap was on at creation, so the
                // counter moves down exactly as often as it moved up.
                store.increment(&keys::sessions_live_client(address), -1)?;
            }
            true
        }
        None => false,
    };
    store.delete(&claim)?;
    Ok(ended)
}

/// The most expired sessions one sweep ends, so a sweep's cost is bounded.
pub const SWEEP_MAX: usize = 32;

/// Ends up to [`SWEEP_MAX`] sessions idle past `idle`; returns how many
/// this call ended. Listing the keys reads the whole store (Redis:
/// `KEYS *`), so callers sweep on rare requests (`initialize`, scrapes).
pub fn sweep(store: &Store, now_ms: u64, idle: Duration) -> Result<u64, KvError> {
    let mut ended = 0;
    let mut examined = 0;
    for key in store.keys_with_prefix(keys::SESSION_PREFIX)? {
        let id = key.trim_start_matches(keys::SESSION_PREFIX);
        if !session_id::well_formed(id) {
            continue;
        }
        let expired = match read(store, id)? {
            Some(session) => session.expired(now_ms, idle),
            // Unreadable: leave it, it is not ours to guess.
            None => false,
        };
        if expired {
            ended += u64::from(end(store, id)?);
            examined += 1;
            if examined >= SWEEP_MAX {
                break;
            }
        }
    }
    Ok(ended)
}
