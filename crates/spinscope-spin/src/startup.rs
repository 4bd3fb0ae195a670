//! The app's start time in the store (`keys::STARTED_AT`): recorded by the
//! first request that finds the app initialised (a successful startup
//! probe, or a `/health` summary with valid variables), read for uptime by
//! the health views.

use crate::kv::{KvError, Store};
use spinscope::{health, keys};

/// The recorded start time (unix ms). With `record`, records `now` when
/// there is none: only the first probe to claim [`keys::STARTED_AT_CLAIM`]
/// writes it, so concurrent first probes agree on one time (a
/// compare-and-swap on the absent key would let each of them win on Spin's
/// SQLite store). Without `record`, only reads it (which still proves the
/// store answers).
pub fn started_at(store: &Store, now: u64, record: bool) -> Result<Option<u64>, KvError> {
    if let Some(at) = store.get(keys::STARTED_AT)?.as_deref().and_then(health::decode_started_at) {
        return Ok(Some(at));
    }
    if !record {
        return Ok(None);
    }
    if store.claim(keys::STARTED_AT_CLAIM)? {
        store.set(keys::STARTED_AT, &health::encode_started_at(now))?;
    }
    // A probe that lost the claim reports its own time until the winner's
    // is written, a few milliseconds later.
    Ok(Some(now))
}
