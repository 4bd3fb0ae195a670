//! The metrics layout on SQLite stores (docs/metrics.md): a recorded
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

use crate::kv::{KvError, Store, Swap};
use spinscope::keys;
use spinscope::metrics::{FoldRecord, Limits, Recorder, Snapshot};
use std::collections::BTreeSet;
use std::time::Duration;

/// Observation records one fold writes into the fold record at most (the
/// rest stay pending and are still counted by every reader): it bounds the
/// fold record's `ids` and the work of one swap.
pub const FOLD_BATCH: usize = 1024;

/// Writes one request's observations as a record of its own: one `set`.
/// The series caps apply when the record is folded.
pub fn write(store: &Store, recorder: &Recorder) -> Result<(), KvError> {
    let mut snapshot = Snapshot::new();
    snapshot.apply(recorder, &Limits::UNLIMITED);
    let id = spinscope::trace::hex(&crate::random_bytes::<16>());
    store.set(&keys::metrics_obs(&id), &snapshot.encode())
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
/// consistent view. With `persist`, also folds up to [`FOLD_BATCH`] of the
/// pending records into the fold record and deletes them (creating the fold
/// record first if nobody has). Gives up after `attempts` rounds in which a
/// concurrent folder changed the fold record under it.
pub fn read(store: &Store, limits: &Limits, now_ms: u64, persist: bool, attempts: u32) -> Result<View, KvError> {
    let mut claimed = false;
    for attempt in 0..attempts {
        if attempt > 0 {
            // Spread concurrent folders apart: 0-2 ms plus a growing step.
            let jitter = u64::from(crate::random_bytes::<1>()[0]) * 8;
            crate::time::sleep(Duration::from_micros(jitter + 500 * u64::from(attempt.min(8))));
        }
        let current = store.get(keys::METRICS_FOLD)?;
        let record = match &current {
            Some(bytes) => FoldRecord::decode(bytes)
                .map_err(|e| KvError::Other(format!("{} (never overwritten): {e}", keys::METRICS_FOLD)))?,
            None => FoldRecord::default(),
        };
        let found = observations(store, &record)?;
        let mut view = View {
            snapshot: record.snapshot.clone(),
            pending: found.pending.len(),
            unreadable: found.unreadable.clone(),
        };
        for (_, observed) in &found.pending {
            view.snapshot.fold_in(observed, limits, now_ms);
        }
        match &current {
            None if persist && !claimed => {
                // Created once, by the claimer, then only ever swapped: a
                // swap of an absent key is an upsert on Spin's SQLite store.
                claimed = true;
                if store.claim(keys::METRICS_FOLD_CLAIM)? {
                    store.set(keys::METRICS_FOLD, &FoldRecord::default().encode())?;
                }
                continue;
            }
            Some(bytes) if persist && !(found.pending.is_empty() && found.leftovers.is_empty()) => {
                if persist_fold(store, bytes, record, &found, limits, now_ms)? {
                    return Ok(view);
                }
            }
            // Nothing to write: the view holds if the record did not change
            // while the pending records were read.
            _ => {
                if store.get(keys::METRICS_FOLD)? == current {
                    return Ok(view);
                }
            }
        }
    }
    Err(KvError::Other(format!("{} changed under {attempts} consecutive reads", keys::METRICS_FOLD)))
}

/// The pending observation records, and the ones the fold record already
/// counts that still exist.
struct Found {
    /// Id and records, in id order.
    pending: Vec<(String, Snapshot)>,
    leftovers: Vec<String>,
    unreadable: Vec<String>,
}

fn observations(store: &Store, record: &FoldRecord) -> Result<Found, KvError> {
    let mut wanted: BTreeSet<String> = store.keys_with_prefix(keys::METRICS_OBS_PREFIX)?.into_iter().collect();
    wanted.extend(record.ids.iter().map(|id| keys::metrics_obs(id)));
    let wanted: Vec<String> = wanted.into_iter().collect();
    let mut found = Found { pending: Vec::new(), leftovers: Vec::new(), unreadable: Vec::new() };
    // Records deleted since the listing are simply not found: they were
    // folded into a fold record that this read's final check will see.
    for (key, bytes) in store.get_many(&wanted)? {
        let Some(id) = key.strip_prefix(keys::METRICS_OBS_PREFIX) else { continue };
        if record.ids.contains(id) {
            found.leftovers.push(id.to_string());
            continue;
        }
        match Snapshot::decode(&bytes) {
            Ok(observed) => found.pending.push((id.to_string(), observed)),
            Err(_) => found.unreadable.push(key),
        }
    }
    found.pending.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(found)
}

/// Writes up to [`FOLD_BATCH`] pending records into the fold record read as
/// `seen`, then deletes them. `false` when another folder changed the
/// record first (nothing written; the caller reads again).
fn persist_fold(
    store: &Store,
    seen: &[u8],
    mut record: FoldRecord,
    found: &Found,
    limits: &Limits,
    now_ms: u64,
) -> Result<bool, KvError> {
    // Records an earlier folder counted but did not delete (it died, or its
    // delete failed): deleting them is safe (the record counts them), and
    // once they are gone the new record need not list them.
    let leftovers: Vec<String> = found.leftovers.iter().map(|id| keys::metrics_obs(id)).collect();
    store.delete_many(&leftovers)?;
    let batch = &found.pending[..found.pending.len().min(FOLD_BATCH)];
    for (_, observed) in batch {
        record.snapshot.fold_in(observed, limits, now_ms);
    }
    record.generation += 1;
    record.ids = batch.iter().map(|(id, _)| id.clone()).collect();
    let encoded = record.encode();
    match store.swap_existing(keys::METRICS_FOLD, |now| (now == seen).then_some(encoded))? {
        Swap::Written => {}
        Swap::Absent | Swap::Declined | Swap::Lost => return Ok(false),
    }
    let folded: Vec<String> = batch.iter().map(|(id, _)| keys::metrics_obs(id)).collect();
    // A failed delete loses nothing: the fold record lists these records,
    // so every reader skips them and the next folder deletes them.
    let _ = store.delete_many(&folded);
    Ok(true)
}
