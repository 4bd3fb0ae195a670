//! The metrics in the store (see docs/metrics.md): writing a request's
//! observations (the gateway, and the exporter and readiness for their own
//! rejections) and reading them all back (the exporter, and the detailed
//! health view), in the layout that stays exact on the store in use.

use crate::kv::{Encoding, KvError, Store};
use crate::metrics_fold;
use crate::refusals;
use spinscope::config::Config;
use spinscope::keys;
use spinscope::metrics::activity::ActivityLimits;
use spinscope::metrics::series::RejectReason;
use spinscope::metrics::{self, catalog, counters, Limits, Recorder, Snapshot};

/// The store holding the metric shards (`metrics_store`): usually the
/// default store, which the caller has open already.
pub enum MetricsStore<'a> {
    /// The store the caller already has open.
    Shared(&'a Store),
    /// A store of its own, opened for the metrics.
    Own(Store),
}

impl std::ops::Deref for MetricsStore<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        match self {
            MetricsStore::Shared(store) => store,
            MetricsStore::Own(store) => store,
        }
    }
}

/// Opens the metrics store, reusing `default` when it is the default store.
pub fn metrics_store<'a>(config: &Config, default: Option<&'a Store>) -> Result<MetricsStore<'a>, KvError> {
    match default {
        Some(store) if config.metrics_store == DEFAULT_STORE => Ok(MetricsStore::Shared(store)),
        _ => Store::open(&config.metrics_store).map(MetricsStore::Own),
    }
}

/// The caps a recording and the merged view keep to.
fn limits(config: &Config) -> Limits {
    Limits {
        max_series_per_metric: config.metrics_max_series_per_metric,
        activity: ActivityLimits {
            session_ttl_ms: config.session_idle_timeout.as_millis() as u64,
            ..ActivityLimits::default()
        },
    }
}

/// The caps of the fold record (SQLite layout): the activity of as many
/// sessions and tenants as the eight shard records of the earlier layout
/// kept between them, now that one record holds it all.
fn fold_limits(config: &Config) -> Limits {
    let mut limits = limits(config);
    limits.activity.max_sessions *= 8;
    limits.activity.max_tenants *= 8;
    limits
}

/// Records a request's observations in the layout the store can keep exact
/// (docs/metrics.md): one observation record written with `set` on Spin's
/// SQLite stores (one write per request, folded later by the exporter), one
/// `increment` per series field on Spin's Redis store (whose `set` of many
/// keys could never be folded exactly: its compare-and-swap is broken). On failure the error
/// is returned for the caller's log and counted with one increment when the
/// store still takes writes; the request itself is never failed by it.
///
/// `hint` is the encoding a session record or the tool map kept ([`store_hint`]): when
/// the metrics live in the default store, it saves reading the marker.
pub fn record(store: &Store, recorder: &Recorder, config: &Config, hint: Option<Encoding>) -> Result<(), String> {
    if recorder.is_empty() {
        return Ok(());
    }
    let encoding = match hint {
        Some(encoding) if config.metrics_store == DEFAULT_STORE => Ok(encoding),
        _ => store.encoding(),
    };
    let outcome = match encoding {
        Ok(Encoding::Decimal) => record_counters(store, recorder).map_err(|e| e.to_string()),
        Ok(Encoding::LittleEndian) => record_observation(store, recorder, config),
        Err(e) => Err(e.to_string()),
    };
    if outcome.is_err() {
        let _ = store.increment(keys::METRICS_RECORD_FAILURES, 1);
    }
    outcome
}

/// The label of the default store.
const DEFAULT_STORE: &str = "default";

/// What a record the gateway reads on every call keeps of the store it is
/// written to (a session record's `store_encoding`, and the cached tool
/// map's): its counter encoding when the metrics live in that same store,
/// so that a call knows the layout without reading the marker. A record
/// describes the store it is in, so the hint cannot go stale; one written
/// while the metrics lived elsewhere has none.
pub fn store_hint(config: &Config, default_store: &Store) -> Option<String> {
    if config.metrics_store != DEFAULT_STORE {
        return None;
    }
    default_store.encoding().ok().map(|e| e.tag().to_string())
}

/// The counter layout: each key moved by one atomic increment.
fn record_counters(store: &Store, recorder: &Recorder) -> Result<(), KvError> {
    let writes = counters::writes(recorder);
    for (key, delta) in &writes.increments {
        store.increment(key, *delta)?;
    }
    for (key, value) in &writes.sets {
        store.set(key, value.to_string().as_bytes())?;
    }
    Ok(())
}

/// The SQLite layout (`metrics_fold`): the request's own record, one `set`.
fn record_observation(store: &Store, recorder: &Recorder, config: &Config) -> Result<(), String> {
    metrics_fold::write(store, recorder).map_err(|e| e.to_string())?;
    // One recording in 256 also folds (after its own write, off the response
    // path: two fsyncs per 256 requests), so the pending records stay
    // bounded when nobody scrapes. Its failure loses nothing: the records
    // stay pending for the next folder, and every reader counts them.
    if crate::random_bytes::<1>()[0] == 0 {
        let now = crate::time::now_unix_ms();
        let _ = metrics_fold::fold(store, &fold_limits(config), now, 2);
    }
    Ok(())
}

/// Requests in flight now: this minute's counter plus the previous one's.
pub fn in_flight(store: &Store, now_ms: u64) -> i64 {
    let minute = now_ms / 60_000;
    [minute, minute.saturating_sub(1)]
        .iter()
        .filter_map(|m| store.get(&keys::in_flight(*m)).ok().flatten())
        .filter_map(|b| metrics::decode_counter(&b))
        .sum::<i64>()
        .max(0)
}

/// Deletes the in-flight counters of minutes before the previous one:
/// nothing reads them again (see [`in_flight`]). Run by the exporter, which
/// lists keys anyway; admission never lists.
pub fn drop_stale_in_flight(store: &Store, now_ms: u64) -> Result<usize, KvError> {
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

/// Every shard merged, and what reading them met.
#[derive(Default)]
pub struct Collected {
    /// The merged series and activity of every readable shard.
    pub snapshot: Snapshot,
    /// Shards read (an absent shard counts: nothing recorded there yet).
    pub shards_read: u32,
    /// Shards that could not be read or decoded, with the reason.
    pub unreadable: Vec<(u32, String)>,
    /// The first store error met, if any: the numbers are then incomplete.
    pub store_error: Option<KvError>,
    /// The counter of failed recordings, when it could be read.
    pub record_failures: Option<u64>,
    /// Observation records not yet folded when read (SQLite layout).
    pub pending_observations: usize,
    /// Observation records that do not decode: not counted, left in place.
    pub unreadable_observations: Vec<String>,
}

/// Reads every metric back and merges it, plus the counter of failed
/// recordings, in the layout [`record`] uses on this store. Counters
/// written by `increment` are read in either backend's encoding.
pub fn collect(store: &Store, config: &Config) -> Collected {
    let mut out = match store.encoding() {
        Ok(Encoding::Decimal) => collect_counters(store, config),
        Ok(Encoding::LittleEndian) => collect_folded(store, config),
        Err(e) => Collected { store_error: Some(e), ..Collected::default() },
    };
    // Requests refused for want of a key are counted apart (`refusals`).
    match refusals::total(store) {
        Ok(refused) => {
            out.snapshot.add_counter(&catalog::REJECTED_TOTAL, &[RejectReason::Unauthorized.as_str()], refused)
        }
        Err(e) => {
            out.store_error.get_or_insert(e);
        }
    }
    match store.get(keys::METRICS_RECORD_FAILURES) {
        Ok(value) => {
            out.record_failures = Some(value.as_deref().and_then(metrics::decode_counter).unwrap_or(0).max(0) as u64)
        }
        Err(e) => {
            out.store_error.get_or_insert(e);
        }
    }
    out
}

/// The SQLite layout: the fold record and the pending observation records
/// (`metrics_fold::read`, which also folds a bounded batch of them), plus
/// the shard records earlier versions wrote by compare-and-swap, which are
/// still read and no longer written.
fn collect_folded(store: &Store, config: &Config) -> Collected {
    let mut out = collect_shards(store, config.metrics_shards);
    let now = crate::time::now_unix_ms();
    match metrics_fold::read(store, &fold_limits(config), now, 16) {
        Ok(view) => {
            out.snapshot.merge(&view.snapshot);
            out.pending_observations = view.pending;
            out.unreadable_observations = view.unreadable;
        }
        Err(e) => {
            out.store_error.get_or_insert(e);
        }
    }
    out
}

/// The shard records of earlier versions: one `get` per shard.
fn collect_shards(store: &Store, shards: u32) -> Collected {
    let mut out = Collected::default();
    for shard in 0..shards {
        match store.get(&keys::metrics_shard(shard)) {
            Ok(None) => out.shards_read += 1,
            Ok(Some(bytes)) => match Snapshot::decode(&bytes) {
                Ok(s) => {
                    out.snapshot.merge(&s);
                    out.shards_read += 1;
                }
                Err(e) => out.unreadable.push((shard, e.to_string())),
            },
            Err(e) => {
                out.unreadable.push((shard, e.to_string()));
                out.store_error.get_or_insert(e);
            }
        }
    }
    out
}

/// The counter layout: list the keys (Spin's Redis store lists them with
/// `KEYS *`, fine for a store of spinscope's size, see docs/metrics.md), `get` each, rebuild the merged view;
/// the keys of sessions idle past the timeout are deleted on the way.
fn collect_counters(store: &Store, config: &Config) -> Collected {
    let mut out = Collected::default();
    let keys = match store.keys_with_prefix(keys::COUNTER_PREFIX) {
        Ok(keys) => keys,
        Err(e) => {
            out.store_error = Some(e);
            return out;
        }
    };
    let mut entries = Vec::with_capacity(keys.len());
    for key in keys {
        match store.get(&key) {
            // A value that is no counter is skipped like an unknown series.
            Ok(Some(bytes)) => entries.extend(metrics::decode_counter(&bytes).map(|value| (key, value))),
            Ok(None) => {}
            Err(e) => {
                out.store_error.get_or_insert(e);
            }
        }
    }
    let assembled = counters::assemble(entries, &limits(config), crate::time::now_unix_ms());
    for key in &assembled.stale {
        let _ = store.delete(key);
    }
    // Keys of metrics this version does not know are skipped, as the
    // shard decoder skips their series.
    out.snapshot = assembled.snapshot;
    out
}
