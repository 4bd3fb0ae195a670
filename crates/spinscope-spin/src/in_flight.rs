//! The gateway-wide count of requests in flight (`max_concurrency`): a
//! request takes a slot with one `increment` of this minute's counter and
//! gives it back with another when it has been answered. Two minutes are
//! read, so a request that began in the previous minute is still counted;
//! the exporter drops older counters.

use crate::kv::{KvError, Store};
use spinscope::keys;
use spinscope::metrics;

/// A slot held by one request: the minute whose counter it moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    minute: u64,
}

/// Takes a slot unless more than `max` requests would then be in flight
/// (`Ok(None)`: the increment is undone at once).
pub fn take(store: &Store, now_ms: u64, max: i64) -> Result<Option<Slot>, KvError> {
    let minute = now_ms / 60_000;
    store.increment(&keys::in_flight(minute), 1)?;
    if count(store, now_ms) > max {
        let _ = store.increment(&keys::in_flight(minute), -1);
        return Ok(None);
    }
    Ok(Some(Slot { minute }))
}

/// Gives a slot back; a failure leaves it counted until its minute ages out.
pub fn release(store: &Store, slot: Slot) -> Result<(), KvError> {
    store.increment(&keys::in_flight(slot.minute), -1).map(|_| ())
}

/// Requests in flight now: this minute's counter plus the previous one's.
pub fn count(store: &Store, now_ms: u64) -> i64 {
    let minute = now_ms / 60_000;
    [minute, minute.saturating_sub(1)]
        .iter()
        .filter_map(|m| store.get(&keys::in_flight(*m)).ok().flatten())
        .filter_map(|b| metrics::decode_counter(&b))
        .sum::<i64>()
        .max(0)
}

/// Deletes the counters of minutes before the previous one: nothing reads
/// them again (see [`count`]). Run by the exporter, which lists keys
/// anyway; admission never lists.
pub fn drop_stale(store: &Store, now_ms: u64) -> Result<usize, KvError> {
    let previous = (now_ms / 60_000).saturating_sub(1);
    let mut dropped = 0;
    for key in store.keys_with_prefix(keys::IN_FLIGHT_PREFIX)? {
        let minute = key.strip_prefix(keys::IN_FLIGHT_PREFIX).and_then(|m| m.parse::<u64>().ok());
        if minute.is_some_and(|m| m < previous) {
            store.delete(&key)?;
            dropped += 1;
        }
    }
    Ok(dropped)
}
