//! The app's start time in the store (`keys::STARTED_AT`): recorded by the
//! first successful startup probe, read for uptime by the health views.

use crate::kv::{KvError, Store};
use spinscope::{keys, probe};

/// The recorded start time (unix ms). With `record`, records `now` when
/// there is none, by compare-and-swap on an absent or unreadable value, so
/// concurrent first probes agree on one time; without, only reads it (which
/// still proves the store answers).
pub fn started_at(store: &Store, now: u64, record: bool) -> Result<Option<u64>, KvError> {
    let read = |store: &Store| -> Result<Option<u64>, KvError> {
        Ok(store.get(keys::STARTED_AT)?.as_deref().and_then(probe::decode_started_at))
    };
    if let Some(at) = read(store)? {
        return Ok(Some(at));
    }
    if !record {
        return Ok(None);
    }
    store.update(keys::STARTED_AT, 5, |current| match current.and_then(probe::decode_started_at) {
        Some(_) => None,
        None => Some(probe::encode_started_at(now)),
    })?;
    Ok(Some(read(store)?.unwrap_or(now)))
}
