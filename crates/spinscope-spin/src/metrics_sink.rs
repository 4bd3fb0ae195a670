//! The metrics in the store (see docs/metrics.md): writing a request's
//! observations (the gateway, and the exporter and readiness for their own
//! rejections) and reading them all back (the exporter, and the detailed
//! health view), in the layout that stays exact on the store in use.

use crate::kv::{Encoding, KvError, Store, Swap};
use crate::refusals;
use spinscope::config::Config;
use spinscope::keys;
use spinscope::metrics::activity::ActivityLimits;
use spinscope::metrics::series::RejectReason;
use spinscope::metrics::{self, catalog, counters, Limits, Recorder, Snapshot};
use std::time::Duration;

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
        Some(store) if config.metrics_store == "default" => Ok(MetricsStore::Shared(store)),
        _ => Store::open(&config.metrics_store).map(MetricsStore::Own),
    }
}

/// Shards tried before a recording is counted as failed.
const MAX_ATTEMPTS: u32 = 64;

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

/// Records a request's observations in the layout the store can keep exact
/// (docs/metrics.md): shard records by compare-and-swap where that is sound
/// (Spin's SQLite stores: one write per request), one `increment` per
/// series field where it is not (Spin's Redis store). On failure the error
/// is returned for the caller's log and counted with one increment when the
/// store still takes writes; the request itself is never failed by it.
pub fn record(store: &Store, recorder: &Recorder, config: &Config) -> Result<(), String> {
    if recorder.is_empty() {
        return Ok(());
    }
    let outcome = match store.encoding() {
        Ok(Encoding::Decimal) => record_counters(store, recorder).map_err(|e| e.to_string()),
        Ok(Encoding::LittleEndian) => record_in_shard(store, recorder, config),
        Err(e) => Err(e.to_string()),
    };
    if outcome.is_err() {
        let _ = store.increment(keys::METRICS_RECORD_FAILURES, 1);
    }
    outcome
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

/// The shard layout: one compare-and-swap on an existing shard record, or
/// its creation by the one writer that claims it.
fn record_in_shard(store: &Store, recorder: &Recorder, config: &Config) -> Result<(), String> {
    let limits = limits(config);
    let apply = |snapshot: &mut Snapshot| {
        snapshot.apply(recorder, &limits);
        snapshot.encode()
    };
    for attempt in 0..MAX_ATTEMPTS {
        // A lost race moves on to another random shard after a short,
        // growing, jittered pause, so writers spread out instead of
        // colliding on the same record again.
        if attempt > 0 {
            let jitter = u64::from(crate::random_bytes::<1>()[0]) * 8; // 0–2 ms
            crate::time::sleep(Duration::from_micros(jitter + 250 * u64::from(attempt.min(16))));
        }
        let shard = u32::from_le_bytes(crate::random_bytes::<4>()) % config.metrics_shards.max(1);
        let key = keys::metrics_shard(shard);
        // A record that does not decode is left as it is, for the exporter
        // and /health/detailed to report: overwriting it would lose counts.
        let swap = store.swap_existing(&key, |bytes| Snapshot::decode(bytes).ok().map(|mut s| apply(&mut s)));
        match swap.map_err(|e| e.to_string())? {
            Swap::Written => return Ok(()),
            Swap::Absent => {
                if store.claim(&keys::metrics_shard_claim(shard)).map_err(|e| e.to_string())? {
                    store.set(&key, &apply(&mut Snapshot::new())).map_err(|e| e.to_string())?;
                    return Ok(());
                }
                // Another writer is creating this shard: try another.
            }
            Swap::Declined | Swap::Lost => {}
        }
    }
    Err(format!("no shard could be written after {MAX_ATTEMPTS} attempts"))
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
}

/// Reads every metric back and merges it, plus the counter of failed
/// recordings, in the layout [`record`] uses on this store. Counters
/// written by `increment` are read in either backend's encoding.
pub fn collect(store: &Store, config: &Config) -> Collected {
    let mut out = match store.encoding() {
        Ok(Encoding::Decimal) => collect_counters(store, config),
        Ok(Encoding::LittleEndian) => collect_shards(store, config.metrics_shards),
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

/// The shard layout: one `get` per shard (Spin's Redis `get-many` is not to
/// be relied on).
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
