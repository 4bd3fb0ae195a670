//! The audit trail on Spin's key-value store (docs/audit.md): where a
//! request's events wait, who seals them into the chain, and reading the
//! chain back. The chain itself is `spinscope::audit`.
//!
//! Where events wait (the request writes them before it answers, so no
//! client holds the answer of a call whose event can be lost):
//!
//! * **In the request's observation record** when the metrics are kept as
//!   observation records in the default store (SQLite, the default): the
//!   one write a recorded request makes carries them, and the metrics fold
//!   seals them, in the same compare-and-swap of the fold record that
//!   holds the chain's state ([`Carrier::Records`]).
//! * **In a record of their own** otherwise (Redis, or the metrics in
//!   another store): one `set` per request that has events, sealed by
//!   whoever claims the current sealing window with `increment` (Spin's
//!   compare-and-swap cannot be trusted on Redis), the state in
//!   `keys::AUDIT_STATE` ([`Carrier::Standalone`]).

pub mod check;

use crate::kv::{KvError, Store};
use crate::metrics_fold;
use crate::metrics_layout::Layout;
use spinscope::audit::state::{decode_segment, encode_segment, Sealing};
use spinscope::audit::{AuditState, Event, Sealed};
use spinscope::config::Config;
use spinscope::keys;
use spinscope::metrics::series::RejectReason;
use spinscope::metrics::FoldRecord;
use std::time::Duration;

/// What sealing needs from the configuration.
#[derive(Clone, Default)]
pub struct Sealer {
    /// `audit_key`'s bytes.
    pub key: Option<Vec<u8>>,
    /// `audit_retention_events`.
    pub retention: u64,
}

impl Sealer {
    /// From the configuration.
    pub fn of(config: &Config) -> Sealer {
        Sealer { key: config.audit_key.as_ref().map(|k| k.bytes().to_vec()), retention: config.audit_retention_events }
    }

    /// Seals `pending` into `state` as a new segment (random id: two
    /// racing sealers never write one key).
    pub fn seal(&self, state: &mut AuditState, pending: Vec<Event>, now_ms: u64) -> Option<(String, Sealing)> {
        let id = format!("{now_ms:013}-{}", spinscope::trace::hex(&crate::random_bytes::<8>()));
        state.seal_batch(pending, id.clone(), self.key.as_deref(), self.retention, now_ms).map(|s| (id, s))
    }
}

/// Where pending events wait (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carrier {
    /// In the requests' observation records, sealed by the metrics fold.
    Records,
    /// In records of their own, sealed by the window's claimant.
    Standalone,
}

/// The carrier of this app's events (`store` is the default store).
pub fn carrier(config: &Config, store: &Store) -> Result<Carrier, KvError> {
    if config.metrics_store != "default" {
        return Ok(Carrier::Standalone);
    }
    Ok(match Layout::detect(store)? {
        Layout::Observations => Carrier::Records,
        Layout::Counters => Carrier::Standalone,
    })
}

/// Writes `events` as one pending record of their own: one `set`.
pub fn write_pending(store: &Store, events: &[Event], now_ms: u64) -> Result<(), KvError> {
    let id = format!("{now_ms:013}-{}", spinscope::trace::hex(&crate::random_bytes::<16>()));
    let bytes = serde_json::to_vec(events).expect("events serialize");
    store.set(&keys::audit_pending(&id), &bytes)
}

/// Writes `recorder` and events that no request's record carries (a
/// sweep of expired sessions, a window of refusals), with their
/// `audit_events_total`, in one write: the events in its observation
/// record where the fold seals them, else as a pending record.
pub fn record_events(
    config: &Config,
    default_store: &Store,
    mut recorder: spinscope::metrics::Recorder,
    events: &[Event],
) -> Result<(), String> {
    let events = if config.audit_enabled { events } else { &[] };
    recorder.audit_events(events);
    let metrics_store = crate::metrics_sink::metrics_store(config, Some(default_store)).map_err(|e| e.to_string())?;
    let shared = matches!(metrics_store, crate::metrics_sink::MetricsStore::Shared(_));
    let audit = crate::metrics_sink::Audit { events, default_store: if shared { None } else { Some(default_store) } };
    crate::metrics_sink::record(&metrics_store, &recorder, audit)
}

/// The audit events of refusal windows just folded (requests refused
/// before authentication: one event per reason and window, never one per
/// request).
pub fn refusal_events(folded: &[crate::refusals::Folded], config: &Config) -> Vec<Event> {
    let key = config.audit_key.as_ref().map(|k| k.bytes());
    let window_ms = spinscope::sampling::WINDOW_SECS * 1000;
    let event = |f: &crate::refusals::Folded| {
        let mut e = Event::new(spinscope::audit::Kind::Refusals, (f.window + 1) * window_ms);
        e.outcome = Some(f.reason.clone());
        e.count = Some(f.count);
        e.exemplars = f.exemplars.clone();
        e.sign(key)
    };
    folded.iter().map(event).collect()
}

/// The exemplar of one refusal: its origin and request id, bounded.
pub fn refusal_exemplar(origin: Option<&str>, request_id: &str) -> String {
    spinscope::bounded::client_string(&format!("origin={} request_id={request_id}", origin.unwrap_or("-")))
}

/// Counts a refusal before authentication for `reason` in the metrics
/// store (see `crate::refusals`) and, when that folds old windows, writes
/// their audit events.
pub fn count_refusal(
    config: &Config,
    default_store: Option<&Store>,
    reason: RejectReason,
    exemplar: &str,
) -> Result<(), String> {
    let metrics_store = crate::metrics_sink::metrics_store(config, default_store).map_err(|e| e.to_string())?;
    let folded = crate::refusals::count(&metrics_store, reason.as_str(), exemplar).map_err(|e| e.to_string())?;
    if folded.is_empty() || !config.audit_enabled {
        return Ok(());
    }
    let opened;
    let default = match default_store {
        Some(store) => store,
        None => {
            opened = Store::open_default().map_err(|e| e.to_string())?;
            &opened
        }
    };
    record_events(config, default, Default::default(), &refusal_events(&folded, config))
}

/// Sealing windows of the standalone layout: a sealer claims its window
/// with `increment`, starts only in the window's first half, and gives up
/// (writing nothing) if it has not written the segment within
/// [`SEAL_BUDGET`], so it is done before the next window opens: two
/// sealers never overlap, and no compare-and-swap is needed. The margin
/// (0.2 s) is what the instances' clocks may disagree by.
const WINDOW_MS: u64 = 2_000;
const START_WITHIN_MS: u64 = 1_000;
const SEAL_BUDGET: Duration = Duration::from_millis(800);
/// Pending records one standalone seal takes at most.
const STANDALONE_BATCH: usize = 1024;

/// Seals what is pending, by whichever layout holds it: the metrics fold
/// (which seals as it folds), or a standalone seal.
pub fn seal_now(store: &Store, config: &Config, now_ms: u64) -> Result<(), String> {
    // Refusal windows old enough become their events first.
    if let Ok(metrics_store) = crate::metrics_sink::metrics_store(config, Some(store)) {
        if let Ok(folded) = crate::refusals::fold_now(&metrics_store) {
            record_events(config, store, Default::default(), &refusal_events(&folded, config))?;
        }
    }
    match carrier(config, store).map_err(|e| e.to_string())? {
        Carrier::Records => {
            let limits = crate::metrics_sink::fold_limits(config);
            metrics_fold::fold(store, &limits, &Sealer::of(config), now_ms, 8).map_err(|e| e.to_string())
        }
        Carrier::Standalone => seal_standalone_waiting(store, &Sealer::of(config)).map_err(|e| e.to_string()),
    }
}

/// Seals as [`seal_standalone`] does, waiting (at most one window) for a
/// window of its own: a reader that wants what was answered a moment ago.
pub fn seal_standalone_waiting(store: &Store, sealer: &Sealer) -> Result<(), KvError> {
    for _ in 0..3 {
        let now = crate::time::now_unix_ms();
        if now % WINDOW_MS < START_WITHIN_MS && seal_standalone(store, sealer, now)? {
            return Ok(());
        }
        // Into the next window's first half.
        crate::time::sleep(Duration::from_millis(WINDOW_MS - now % WINDOW_MS + 5));
    }
    Ok(())
}

/// One standalone seal, if this caller holds the current window: `false`
/// when it does not (another sealer does, or it is too late in the window).
pub fn seal_standalone(store: &Store, sealer: &Sealer, now_ms: u64) -> Result<bool, KvError> {
    let claim = keys::audit_seal_claim(now_ms / WINDOW_MS);
    if now_ms % WINDOW_MS >= START_WITHIN_MS || !store.claim(&claim)? {
        return Ok(false);
    }
    let sealed = seal_claimed(store, sealer, now_ms);
    // Done: a later sealer may take this window too (none overlaps: this
    // one has finished). A sealer that dies leaves its claim, one key.
    let _ = store.delete(&claim);
    sealed.map(|()| true)
}

/// The seal of a window's claimant.
fn seal_claimed(store: &Store, sealer: &Sealer, now_ms: u64) -> Result<(), KvError> {
    let started = crate::time::monotonic_ns();
    let mut state = read_standalone_state(store)?;
    // What the last seal sealed but did not get to delete.
    let sealed: Vec<String> = state.sealed_ids.iter().map(|id| keys::audit_pending(id)).collect();
    store.delete_many(&sealed)?;
    let mut listed: Vec<String> =
        store.keys_with_prefix(keys::AUDIT_PENDING_PREFIX)?.into_iter().filter(|k| !sealed.contains(k)).collect();
    listed.sort_unstable();
    listed.truncate(STANDALONE_BATCH);
    let mut events = Vec::new();
    let mut ids = Vec::new();
    // One `get` each: this layout runs on Redis, whose `get-many` Spin
    // gets wrong (it takes keys for patterns).
    for (key, bytes) in store.get_each(&listed)? {
        // A record that does not parse stays pending (a newer gateway's
        // event kind, a damaged record), never dropped.
        if let Ok(mut found) = serde_json::from_slice::<Vec<Event>>(&bytes) {
            events.append(&mut found);
            ids.push(key.trim_start_matches(keys::AUDIT_PENDING_PREFIX).to_string());
        }
    }
    let Some((id, sealing)) = sealer.seal(&mut state, events, now_ms) else { return Ok(()) };
    state.sealed_ids = ids;
    store.set(&keys::audit_segment(&id), &encode_segment(&sealing.events))?;
    if crate::time::monotonic_ns() - started > SEAL_BUDGET.as_nanos() as u64 {
        // Too late in the window: another sealer may start; this one
        // leaves everything pending as it was.
        let _ = store.delete(&keys::audit_segment(&id));
        return Ok(());
    }
    store.set(keys::AUDIT_STATE, &serde_json::to_vec(&state).expect("the state serializes"))?;
    let pending: Vec<String> = state.sealed_ids.iter().map(|id| keys::audit_pending(id)).collect();
    let _ = store.delete_many(&pending);
    delete_segments(store, &sealing.dropped_segments);
    Ok(())
}

/// Deletes segments retention dropped (after the state no longer lists
/// them; a failed delete leaves an unlisted key, nothing worse).
pub fn delete_segments(store: &Store, ids: &[String]) {
    let keys: Vec<String> = ids.iter().map(|id| keys::audit_segment(id)).collect();
    let _ = store.delete_many(&keys);
}

fn read_standalone_state(store: &Store) -> Result<AuditState, KvError> {
    match store.get(keys::AUDIT_STATE)? {
        Some(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| KvError::Other(format!("{} (never overwritten): {e}", keys::AUDIT_STATE))),
        None => Ok(AuditState::default()),
    }
}

/// The chain's state, wherever this layout keeps it.
pub fn state(store: &Store, config: &Config) -> Result<AuditState, KvError> {
    match carrier(config, store)? {
        Carrier::Records => match store.get(keys::METRICS_FOLD)? {
            Some(bytes) => FoldRecord::decode(&bytes)
                .map(|r| r.audit.unwrap_or_default())
                .map_err(|e| KvError::Other(e.to_string())),
            None => Ok(AuditState::default()),
        },
        Carrier::Standalone => read_standalone_state(store),
    }
}

/// The sealed events of the segments that reach `from_seq` or later,
/// oldest first. A segment that is missing or does not decode is an error
/// naming it: a reader must not skip events silently.
pub fn events_from(store: &Store, state: &AuditState, from_seq: u64) -> Result<Vec<Sealed>, String> {
    let wanted: Vec<_> = state.segments.iter().filter(|s| s.last >= from_seq).collect();
    let keys: Vec<String> = wanted.iter().map(|s| keys::audit_segment(&s.id)).collect();
    let found = store.get_each(&keys).map_err(|e| e.to_string())?;
    let mut events = Vec::new();
    for (segment, key) in wanted.iter().zip(&keys) {
        let Some((_, bytes)) = found.iter().find(|(k, _)| k == key) else {
            return Err(format!("segment {}..{} is missing ({key})", segment.first, segment.last));
        };
        let mut sealed = decode_segment(bytes).map_err(|e| format!("segment {key}: {e}"))?;
        events.append(&mut sealed);
    }
    Ok(events)
}
