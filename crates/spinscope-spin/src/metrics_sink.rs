//! The metric shard records in the store (see docs/metrics.md): writing a
//! request's observations with one compare-and-swap on one shard (the
//! gateway, and the exporter for its own rejections), and reading them all
//! back (the exporter, and the detailed health view).

use crate::kv::{KvError, Store, UpdateOutcome};
use spinscope::config::Config;
use spinscope::keys;
use spinscope::metrics::activity::ActivityLimits;
use spinscope::metrics::{self, Limits, Recorder, Snapshot};
use std::time::Duration;

/// The store holding the metric shards (`metrics_store`): usually the
/// default store, which the caller has open already.
pub enum MetricsStore<'a> {
    Shared(&'a Store),
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

/// Compare-and-swap attempts before a recording is counted as failed.
const MAX_ATTEMPTS: u32 = 64;

/// Adds `recorder` to a random shard. On failure the error is returned for
/// the caller's log and counted with one increment when the store still
/// takes writes; the request itself is never failed by it.
pub fn record(store: &Store, recorder: &Recorder, config: &Config) -> Result<(), String> {
    if recorder.is_empty() {
        return Ok(());
    }
    let limits = Limits {
        max_series_per_metric: config.metrics_max_series_per_metric,
        activity: ActivityLimits { session_ttl_ms: config.session_idle_timeout.as_millis() as u64, ..ActivityLimits::default() },
    };
    let mut failure = String::new();
    for attempt in 0..MAX_ATTEMPTS {
        // A lost race moves on to another random shard after a short,
        // growing, jittered pause, so writers spread out instead of
        // colliding on the same record again.
        if attempt > 0 {
            let jitter = u64::from(crate::random_bytes::<1>()[0]) * 8; // 0–2 ms
            crate::time::sleep(Duration::from_micros(jitter + 250 * u64::from(attempt.min(16))));
        }
        let shard = u32::from_le_bytes(crate::random_bytes::<4>()) % config.metrics_shards.max(1);
        let outcome = store.update(&keys::metrics_shard(shard), 1, |current| {
            let mut snapshot = current.and_then(|b| Snapshot::decode(b).ok()).unwrap_or_default();
            snapshot.apply(recorder, &limits);
            Some(snapshot.encode())
        });
        match outcome {
            Ok(UpdateOutcome::Written { .. }) | Ok(UpdateOutcome::Unchanged) => return Ok(()),
            Ok(UpdateOutcome::Contended { .. }) => failure = format!("shards still contended after {MAX_ATTEMPTS} attempts"),
            Err(e) => {
                failure = e.to_string();
                break;
            }
        }
    }
    let _ = store.increment(keys::METRICS_RECORD_FAILURES, 1);
    Err(failure)
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

/// Every shard merged, and what reading them met.
#[derive(Default)]
pub struct Collected {
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

/// Reads every shard with one `get` each (Spin's Redis `get-many` is not to
/// be relied on) and merges them, plus the counter of failed recordings.
/// Counters written by `increment` are read in either backend's encoding.
pub fn collect(store: &Store, shards: u32) -> Collected {
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
    match store.get(keys::METRICS_RECORD_FAILURES) {
        Ok(value) => out.record_failures = Some(value.as_deref().and_then(metrics::decode_counter).unwrap_or(0).max(0) as u64),
        Err(e) => {
            out.store_error.get_or_insert(e);
        }
    }
    out
}
