//! The chain's checks on the store: a bounded one at every scrape
//! (`spinscope::audit::check`), and what a full `/audit/verify` found,
//! kept so that `audit_chain_broken_sequence` and its alert hold until the chain
//! verifies again. Healthy checks write nothing.

use crate::kv::{KvError, Store};
use spinscope::audit::check::{self, Found};
use spinscope::audit::state::decode_segment;
use spinscope::audit::{AuditState, Broken, Sealed};
use spinscope::keys;

/// Segment `id`'s events: `Ok(Err(why))` when it is missing or does not
/// decode (the chain is broken there), `Err` when the store failed (it
/// says nothing about the chain).
pub fn read_segment(store: &Store, id: &str) -> Result<Result<Vec<Sealed>, String>, KvError> {
    Ok(match store.get(&keys::audit_segment(id))? {
        Some(bytes) => decode_segment(&bytes).map_err(|e| format!("audit segment {id} does not decode: {e}")),
        None => Err(format!("audit segment {id} is missing")),
    })
}

/// The break a check found earlier, if one is kept.
pub fn found(store: &Store) -> Result<Option<Found>, KvError> {
    Ok(store.get(keys::AUDIT_BROKEN)?.and_then(|bytes| serde_json::from_slice(&bytes).ok()))
}

/// This scrape's check: the kept break if there is one, else the segments
/// [`check::plan`] picks, a new break kept. `None`: intact as far as read.
pub fn scrape_check(
    store: &Store,
    key: Option<&[u8]>,
    state: &AuditState,
    now_ms: u64,
) -> Result<Option<Found>, KvError> {
    if let Some(kept) = found(store)? {
        return Ok(Some(kept));
    }
    for index in check::plan(state, now_ms) {
        let s = &state.segments[index];
        let checked = match read_segment(store, &s.id)? {
            Ok(events) => check::segment(state, index, &events, key).map(|_| ()),
            Err(why) => Err(Broken { seq: s.first, why }),
        };
        if let Err(broken) = checked {
            let found = Found::new(&broken, now_ms);
            keep(store, &found)?;
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// A full verification's result: a break is kept, a pass clears a kept one.
pub fn verified(store: &Store, broken: Option<&Broken>, now_ms: u64) -> Result<(), KvError> {
    match broken {
        Some(b) => keep(store, &Found::new(b, now_ms)),
        // Read first: a healthy chain's verification writes nothing.
        None if store.get(keys::AUDIT_BROKEN)?.is_some() => store.delete(keys::AUDIT_BROKEN),
        None => Ok(()),
    }
}

fn keep(store: &Store, found: &Found) -> Result<(), KvError> {
    store.set(keys::AUDIT_BROKEN, &serde_json::to_vec(found).expect("a break serializes"))
}
