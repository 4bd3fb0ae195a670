//! The observation layout ([`crate::metrics_layout::Layout::Observations`]),
//! the metrics layout on SQLite stores (docs/metrics.md): a recorded
//! request writes its observations once, under a key of its own, with a
//! plain `set` (no read, no compare-and-swap, nothing to lose or retry: the
//! one fsynced write per request that the store's serialized commits allow).
//! Readers add the pending records to the fold record in memory; folders
//! (every scrape, and now and then a gateway) also write that sum back with
//! one compare-and-swap of the existing fold record and delete what they
//! folded with one `delete-many`.
//!
//! Why it stays exact: observation ids are random 128-bit values, so a
//! deleted record never comes back; a record is deleted only after a fold
//! that counts it has been written; and the fold record lists the records
//! it counts that may still exist (`FoldRecord::ids`), which every reader
//! and folder skips. The fold record's bytes never repeat (its generation
//! grows), so "unchanged since I read it" is a byte comparison: a reader
//! that sees the same record before and after reading the pending records
//! has a consistent view, and a folder's swap succeeds only on the record
//! it folded into.

use crate::audit::Sealer;
use crate::kv::{KvError, Store, Swap};
use spinscope::audit::state::{encode_segment, Sealing};
use spinscope::audit::Event;
use spinscope::keys;
use spinscope::metrics::{catalog, FoldRecord, Limits, Recorder, Snapshot};
use std::collections::BTreeSet;
use std::time::Duration;

/// Observation records one fold writes into the fold record at most (the
/// rest stay pending and are still counted by every reader): it bounds the
/// fold record's `ids` and the work of one swap.
pub const FOLD_BATCH: usize = 1024;

/// Writes one request's observations, and its audit events, as a record
/// of its own: one `set`. The series caps apply when the record is folded;
/// the events are sealed into the audit chain then (`crate::audit`).
pub fn write(store: &Store, recorder: &Recorder, events: &[Event]) -> Result<(), KvError> {
    let mut snapshot = Snapshot::new();
    snapshot.apply(recorder, &Limits::UNLIMITED);
    let mut bytes = snapshot.encode();
    if !events.is_empty() {
        bytes.pop(); // the record's closing brace
        bytes.extend_from_slice(AUDIT_MEMBER);
        serde_json::to_writer(&mut bytes, events).expect("events serialize");
        bytes.push(b'}');
    }
    let id = spinscope::trace::hex(&crate::random_bytes::<16>());
    store.set(&keys::metrics_obs(&id), &bytes)
}

/// The member of an observation record that carries its audit events.
const AUDIT_MEMBER: &[u8] = b",\"au\":";

/// The audit events an observation record carries (none when it has no
/// such member), or `Err` when they do not read (a newer gateway's event
/// kind, a damaged record): then the record is left in place, unfolded,
/// never folded and deleted with its events lost.
fn carried_events(bytes: &[u8]) -> Result<Vec<Event>, ()> {
    #[derive(serde::Deserialize)]
    struct Carried {
        #[serde(default)]
        au: Vec<Event>,
    }
    let has_member = bytes.windows(AUDIT_MEMBER.len()).any(|w| w == AUDIT_MEMBER);
    match has_member {
        true => serde_json::from_slice::<Carried>(bytes).map(|c| c.au).map_err(drop),
        false => Ok(Vec::new()),
    }
}

/// What a reader saw.
pub struct View {
    /// The fold record plus every pending observation record.
    pub snapshot: Snapshot,
    /// Observation records counted that were not folded before this read.
    pub pending: usize,
    /// Observation records under the prefix that do not decode: left in
    /// place (deleting them would hide lost counts), not counted.
    pub unreadable: Vec<String>,
}

/// Reads the fold record and every pending observation record into one
/// consistent view, after folding up to [`FOLD_BATCH`] of the pending
/// records into the fold record and deleting them (creating the fold record
/// first if nobody has). Gives up after `attempts` rounds in which a
/// concurrent folder changed the fold record under it.
pub fn read(store: &Store, limits: &Limits, sealer: &Sealer, now_ms: u64, attempts: u32) -> Result<View, KvError> {
    run(store, limits, sealer, now_ms, true, attempts).map(|view| view.expect("a view was asked for"))
}

/// Folds as [`read`] does, without building a view (a gateway keeping the
/// pending records bounded): records past the batch are not even decoded.
pub fn fold(store: &Store, limits: &Limits, sealer: &Sealer, now_ms: u64, attempts: u32) -> Result<(), KvError> {
    run(store, limits, sealer, now_ms, false, attempts).map(drop)
}

/// [`read`] and [`fold`]; the view is `None` unless `want_view`.
fn run(
    store: &Store,
    limits: &Limits,
    sealer: &Sealer,
    now_ms: u64,
    want_view: bool,
    attempts: u32,
) -> Result<Option<View>, KvError> {
    let mut claimed = false;
    for attempt in 0..attempts {
        if attempt > 0 {
            // Spread concurrent folders apart: 0-2 ms plus a growing step.
            let jitter = u64::from(crate::random_bytes::<1>()[0]) * 8;
            crate::time::sleep(Duration::from_micros(jitter + 500 * u64::from(attempt.min(8))));
        }
        let current = store.get(keys::METRICS_FOLD)?;
        if current.is_none() && !claimed {
            // Created once, by the claimer, then only ever swapped: a swap
            // of an absent key is an upsert on Spin's SQLite store.
            claimed = true;
            if store.claim(keys::METRICS_FOLD_CLAIM)? {
                store.set(keys::METRICS_FOLD, &FoldRecord::default().encode())?;
            }
            continue;
        }
        let record = match &current {
            Some(bytes) => FoldRecord::decode(bytes)
                .map_err(|e| KvError::Other(format!("{} (never overwritten): {e}", keys::METRICS_FOLD)))?,
            None => FoldRecord::default(),
        };
        let folded = fold_pending(store, record, limits, sealer, now_ms, want_view)?;
        match &current {
            Some(bytes) if !(folded.batch.is_empty() && folded.leftovers.is_empty()) => {
                if persist_fold(store, bytes, &folded)? {
                    return Ok(folded.view);
                }
            }
            // Nothing to write, and no view wanted.
            _ if !want_view => return Ok(None),
            // Nothing to write: the view holds if the record did not change
            // while the pending records were read.
            _ => {
                if store.get(keys::METRICS_FOLD)? == current {
                    return Ok(folded.view);
                }
            }
        }
    }
    Err(KvError::Other(format!("{} changed under {attempts} consecutive reads", keys::METRICS_FOLD)))
}

/// The fold record with a batch of pending records folded in, and the view.
struct Folded {
    /// The fold record to write: the one read plus `batch`, its next
    /// generation, listing `batch`.
    record: FoldRecord,
    /// Ids of the pending records folded into `record`, the first in id order.
    batch: Vec<String>,
    /// Records the fold record read already counts that still exist.
    leftovers: Vec<String>,
    /// The audit events of `batch`, sealed as a new segment of the chain
    /// whose state `record` holds (its id, and what to write and drop).
    sealing: Option<(String, Sealing)>,
    view: Option<View>,
}

/// Lists the observation records and folds them, straight from their
/// bytes, in id order: the first [`FOLD_BATCH`] readable ones into the
/// fold record, all of them into the view when `want_view` (the view is the
/// new fold record plus the rest, so each record is decoded once). Records
/// the fold record already counts are skipped.
fn fold_pending(
    store: &Store,
    mut record: FoldRecord,
    limits: &Limits,
    sealer: &Sealer,
    now_ms: u64,
    want_view: bool,
) -> Result<Folded, KvError> {
    let mut wanted: BTreeSet<String> = store.keys_with_prefix(keys::METRICS_OBS_PREFIX)?.into_iter().collect();
    wanted.extend(record.ids.iter().map(|id| keys::metrics_obs(id)));
    let wanted: Vec<String> = wanted.into_iter().collect();
    // Records deleted since the listing are simply not found: they were
    // folded into a fold record that this read's final check will see.
    let mut found = store.get_many(&wanted)?;
    found.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut ids = Vec::new();
    let mut leftovers = Vec::new();
    let mut rest = Vec::new();
    let mut unreadable = Vec::new();
    let mut events = Vec::new();
    for (key, bytes) in &found {
        let Some(id) = key.strip_prefix(keys::METRICS_OBS_PREFIX) else { continue };
        if record.ids.contains(id) {
            leftovers.push(id.to_string());
        } else if ids.len() < FOLD_BATCH {
            let Ok(mut carried) = carried_events(bytes) else {
                unreadable.push(key.clone());
                continue;
            };
            match record.snapshot.fold_encoded(bytes, limits) {
                Ok(()) => {
                    ids.push(id.to_string());
                    events.append(&mut carried);
                }
                Err(_) => unreadable.push(key.clone()),
            }
        } else if want_view {
            rest.push((key, bytes));
        }
    }
    record.snapshot.prune_activity(now_ms, limits);
    record.generation += 1;
    record.ids = ids.iter().cloned().collect();
    let sealing = match events.is_empty() {
        true => None,
        false => sealer.seal(record.audit.get_or_insert_default(), events, now_ms),
    };
    if let Some((_, s)) = &sealing {
        record.snapshot.add_counter(&catalog::AUDIT_EVENTS_DROPPED_TOTAL, &[], s.dropped_events);
    }
    let view = want_view.then(|| {
        let mut snapshot = record.snapshot.clone();
        let mut pending = ids.len();
        for (key, bytes) in rest {
            match snapshot.fold_encoded(bytes, limits) {
                Ok(()) => pending += 1,
                Err(_) => unreadable.push(key.clone()),
            }
        }
        snapshot.prune_activity(now_ms, limits);
        View { snapshot, pending, unreadable }
    });
    Ok(Folded { record, batch: ids, leftovers, sealing, view })
}

/// Writes the fold record of `folded` over the one read as `seen`, then
/// deletes the records it folded. `false` when another folder changed the
/// record first (nothing written; the caller reads again).
fn persist_fold(store: &Store, seen: &[u8], folded: &Folded) -> Result<bool, KvError> {
    // Records an earlier folder counted but did not delete (it died, or its
    // delete failed): deleting them is safe (the record counts them), and
    // once they are gone the new record need not list them.
    let leftovers: Vec<String> = folded.leftovers.iter().map(|id| keys::metrics_obs(id)).collect();
    store.delete_many(&leftovers)?;
    // The new segment is written first, under a key of its own: the fold
    // record that lists it is what makes it part of the chain.
    if let Some((id, sealing)) = &folded.sealing {
        store.set(&keys::audit_segment(id), &encode_segment(&sealing.events))?;
    }
    let encoded = folded.record.encode();
    match store.swap_existing(keys::METRICS_FOLD, |now| (now == seen).then_some(encoded))? {
        Swap::Written => {}
        Swap::Absent | Swap::Declined | Swap::Lost => {
            if let Some((id, _)) = &folded.sealing {
                let _ = store.delete(&keys::audit_segment(id));
            }
            return Ok(false);
        }
    }
    if let Some((_, sealing)) = &folded.sealing {
        crate::audit::delete_segments(store, &sealing.dropped_segments);
    }
    let folded: Vec<String> = folded.batch.iter().map(|id| keys::metrics_obs(id)).collect();
    // A failed delete loses nothing: the fold record lists these records,
    // so every reader skips them and the next folder deletes them.
    let _ = store.delete_many(&folded);
    Ok(true)
}
