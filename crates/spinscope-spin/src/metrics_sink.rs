//! Writing a request's metric observations: one compare-and-swap on one of
//! the shard records (see docs/metrics.md), shared by every component that
//! records (the gateway, and the exporter for its own rejections).

use crate::kv::{Store, UpdateOutcome};
use spinscope::config::Config;
use spinscope::keys;
use spinscope::metrics::{Limits, Recorder, Snapshot};
use std::time::Duration;

/// Compare-and-swap attempts before a recording is counted as failed.
const MAX_ATTEMPTS: u32 = 64;

/// Adds `recorder` to a random shard. On failure the error is returned for
/// the caller's log and counted with one increment when the store still
/// takes writes; the request itself is never failed by it.
pub fn record(store: &Store, recorder: &Recorder, config: &Config) -> Result<(), String> {
    if recorder.is_empty() {
        return Ok(());
    }
    let limits = Limits { max_series_per_metric: config.metrics_max_series_per_metric };
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
        .filter_map(|b| spinscope::metrics::decode_counter(&b))
        .sum::<i64>()
        .max(0)
}
