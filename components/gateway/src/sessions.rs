//! MCP sessions in the key-value store: created on `initialize`, required
//! on every later request, ended by `DELETE /mcp` or by idling past
//! `session_idle_timeout_secs`.

use serde::{Deserialize, Serialize};
use spinscope::keys;
use spinscope_spin::kv::{KvError, Store};
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub created_ms: u64,
    pub last_seen_ms: u64,
    pub protocol_version: String,
    #[serde(default)]
    pub client: Option<String>,
    #[serde(default)]
    pub tenant: Option<String>,
}

pub enum Lookup {
    Active(Session),
    /// Unknown, deleted, or not a session id at all.
    Missing,
    /// Idle past the timeout; the record has been removed.
    Expired,
}

/// 128 random bits, hex: unguessable, and only visible ASCII as the spec asks.
pub fn new_id(random: [u8; 16]) -> String {
    spinscope::trace::hex(&random)
}

fn well_formed(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

pub fn create(store: &Store, id: &str, session: &Session) -> Result<(), KvError> {
    store.set(&keys::session(id), &serde_json::to_vec(session).expect("session serializes"))
}

pub fn lookup(store: &Store, id: &str, now_ms: u64, idle: Duration) -> Result<Lookup, KvError> {
    if !well_formed(id) {
        return Ok(Lookup::Missing);
    }
    let Some(bytes) = store.get(&keys::session(id))? else {
        return Ok(Lookup::Missing);
    };
    let Ok(session) = serde_json::from_slice::<Session>(&bytes) else {
        return Ok(Lookup::Missing);
    };
    if now_ms.saturating_sub(session.last_seen_ms) > idle.as_millis() as u64 {
        store.delete(&keys::session(id))?;
        return Ok(Lookup::Expired);
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
    create(store, id, session)?;
    Ok(true)
}

pub fn delete(store: &Store, id: &str) -> Result<bool, KvError> {
    if !well_formed(id) || !store.exists(&keys::session(id))? {
        return Ok(false);
    }
    store.delete(&keys::session(id))?;
    Ok(true)
}
