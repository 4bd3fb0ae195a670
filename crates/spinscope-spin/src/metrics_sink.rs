//! Writing a request's metric observations: one compare-and-swap on one of
//! the shard records (see docs/metrics.md), shared by every component that
//! records (the gateway, and the exporter for its own rejections).

use crate::kv::{Store, UpdateOutcome};
use spinscope::config::Config;
use spinscope::keys;
use spinscope::metrics::{Limits, Recorder, Snapshot};

/// Compare-and-swap attempts before a recording is counted as failed.
const MAX_ATTEMPTS: u32 = 16;

/// Adds `recorder` to a random shard. On failure the error is returned for
/// the caller's log and counted with one increment when the store still
/// takes writes; the request itself is never failed by it.
pub fn record(store: &Store, recorder: &Recorder, config: &Config) -> Result<(), String> {
    if recorder.is_empty() {
        return Ok(());
    }
    let limits = Limits { max_series_per_metric: config.metrics_max_series_per_metric };
    let shard = u32::from_le_bytes(crate::random_bytes::<4>()) % config.metrics_shards.max(1);
    let key = keys::metrics_shard(shard);
    let outcome = store.update(&key, MAX_ATTEMPTS, |current| {
        let mut snapshot = current.and_then(|b| Snapshot::decode(b).ok()).unwrap_or_default();
        snapshot.apply(recorder, &limits);
        Some(snapshot.encode())
    });
    let failure = match outcome {
        Ok(UpdateOutcome::Written { .. }) | Ok(UpdateOutcome::Unchanged) => return Ok(()),
        Ok(UpdateOutcome::Contended { attempts }) => format!("shard {shard} still contended after {attempts} attempts"),
        Err(e) => e.to_string(),
    };
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
