//! The fold record: where the per-request observation records of the SQLite
//! layout end up (docs/metrics.md, "observation records and the fold").
//!
//! On SQLite each request writes its observations once, under a key of its
//! own (a [`Snapshot`] of that request alone, in the shard record encoding).
//! Whoever folds (the exporter on a scrape, a gateway now and then) adds
//! them into the one fold record and then deletes them. The fold record is
//! a shard record with one more member:
//!
//! ```text
//! {"v":2,"series":[…],"activity":{…},"fold":{"n":42,"ids":["9f…",…]}}
//! ```
//!
//! `n` counts the folds, so no two versions of the record are ever the same
//! bytes (the compare-and-swap that writes it compares bytes). `ids` are the
//! observation records the record holds whose deletion is not yet known to
//! have happened: those of its last fold, plus any earlier ones still found
//! in the store then. A record whose id is listed there is already counted
//! and is only deleted, never added again, so a folder that died between
//! writing the fold and deleting its records costs nothing twice.

use super::activity::{Activity, ActivityLimits};
use super::catalog::{self, MetricDef};
use super::shard_record::{check_version, checked, Checked, TypedRecord};
use super::snapshot::{DecodeError, Key, Limits, SeriesValue, Snapshot};
use serde::Deserialize;
use std::collections::BTreeSet;

/// The fold record: the folded totals and the bookkeeping that makes
/// folding idempotent (see the module documentation).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FoldRecord {
    /// Everything folded so far.
    pub snapshot: Snapshot,
    /// Folds so far: each write of the record has a new one.
    pub generation: u64,
    /// Observation records counted in `snapshot` that may still exist.
    pub ids: BTreeSet<String>,
}

#[derive(Deserialize)]
struct RawFold {
    #[serde(default)]
    fold: Option<RawFoldState>,
}

#[derive(Deserialize)]
struct RawFoldState {
    n: u64,
    ids: Vec<String>,
}

impl FoldRecord {
    /// The record's bytes: the shard record with the `fold` member last.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.snapshot.encode();
        out.pop(); // the record's closing brace
        out.extend_from_slice(format!(",\"fold\":{{\"n\":{},\"ids\":", self.generation).as_bytes());
        // Hex ids need no escaping; serde_json writes them exactly.
        let _ = serde_json::to_writer(&mut out, &self.ids);
        out.extend_from_slice(b"}}");
        out
    }

    /// Reads a fold record. A shard record without `fold` reads as
    /// generation 0 with no ids.
    pub fn decode(bytes: &[u8]) -> Result<FoldRecord, DecodeError> {
        let snapshot = Snapshot::decode(bytes)?;
        let raw: RawFold = serde_json::from_slice(bytes).map_err(|e| DecodeError(e.to_string()))?;
        let (generation, ids) = raw.fold.map(|f| (f.n, f.ids.into_iter().collect())).unwrap_or_default();
        Ok(FoldRecord { snapshot, generation, ids })
    }
}

impl Snapshot {
    /// Adds one observation record (or any snapshot) under the same caps a
    /// recording obeys: a series new to `self` beyond
    /// `limits.max_series_per_metric` is dropped and counted in
    /// `metrics_series_dropped_total` (its observations for histograms, one
    /// otherwise, which is what [`Snapshot::apply`] would have counted for a
    /// single request); sessions idle at `now_ms` past the TTL, and the least
    /// recently seen beyond the cap, are dropped.
    pub fn fold_in(&mut self, other: &Snapshot, limits: &Limits, now_ms: u64) {
        self.fold_unpruned(other, limits);
        self.activity.prune(now_ms, &limits.activity);
    }

    /// `fold_in` but the pruning of sessions.
    fn fold_unpruned(&mut self, other: &Snapshot, limits: &Limits) {
        for ((name, labels), value) in &other.series {
            let Some(metric) = catalog::by_name(name) else { continue };
            let Some(entry) = self.entry(metric, labels, limits) else {
                let dropped = match value {
                    SeriesValue::Histogram(h) => h.count,
                    _ => 1,
                };
                self.add_counter(&catalog::METRICS_SERIES_DROPPED_TOTAL, &[metric.name], dropped);
                continue;
            };
            match (entry, value) {
                (SeriesValue::Counter(a), SeriesValue::Counter(b)) => *a = a.saturating_add(*b),
                (SeriesValue::Gauge(a), SeriesValue::Gauge(b)) => *a = a.saturating_add(*b),
                (SeriesValue::Histogram(a), SeriesValue::Histogram(b)) if a.buckets.len() == b.buckets.len() => {
                    for (x, y) in a.buckets.iter_mut().zip(&b.buckets) {
                        *x = x.saturating_add(*y);
                    }
                    a.sum_micros = a.sum_micros.saturating_add(b.sum_micros);
                    a.count = a.count.saturating_add(b.count);
                }
                _ => {}
            }
        }
        fold_activity(&mut self.activity, other.activity.clone(), &limits.activity);
    }

    /// Folds an encoded record in, as `fold_in` of the decoded record
    /// would, without building the record's snapshot: the series are added
    /// straight from the bytes, and a label list is copied only for a
    /// series new to `self`. Folding runs once per recorded request, so
    /// this is the path the SQLite layout's folders take. Nothing is added
    /// from a record that does not decode.
    ///
    /// Unlike `fold_in`, it does not drop idle or excess sessions (a pass
    /// over every session, per record): call [`Snapshot::prune_activity`]
    /// once after the batch.
    pub fn fold_encoded(&mut self, bytes: &[u8], limits: &Limits) -> Result<(), DecodeError> {
        let Ok(record) = serde_json::from_slice::<TypedRecord<'_>>(bytes) else {
            // Not in the writer's exact shape: read item by item, skipping
            // the bad series, as `Snapshot::decode` does.
            self.fold_unpruned(&Snapshot::decode(bytes)?, limits);
            return Ok(());
        };
        check_version(record.v)?;
        // One key, its strings reused from series to series.
        let mut key: Key = ("", Vec::new());
        for raw in &record.series {
            let Some((metric, value)) = checked(raw) else { continue };
            key.0 = metric.name;
            key.1.resize_with(raw.l.len(), String::new);
            for (slot, label) in key.1.iter_mut().zip(&raw.l) {
                slot.clear();
                slot.push_str(label);
            }
            match self.keyed_entry(metric, &key, limits) {
                Some(entry) => value.add_to(entry),
                None => {
                    let dropped = match value {
                        Checked::Dense(_, _, count) | Checked::Sparse(_, _, count) => count,
                        _ => 1,
                    };
                    self.add_counter(&catalog::METRICS_SERIES_DROPPED_TOTAL, &[metric.name], dropped);
                }
            }
        }
        if let Some(activity) = record.activity {
            fold_activity(&mut self.activity, Activity::from(activity), &limits.activity);
        }
        Ok(())
    }

    /// Drops sessions idle at `now_ms` past the TTL, and the least recently
    /// seen beyond the cap (after a batch of [`Snapshot::fold_encoded`]).
    pub fn prune_activity(&mut self, now_ms: u64, limits: &Limits) {
        self.activity.prune(now_ms, &limits.activity);
    }

    /// [`Snapshot::entry`] for a key already built: the key is copied only
    /// when the series is new.
    fn keyed_entry(&mut self, metric: &'static MetricDef, key: &Key, limits: &Limits) -> Option<&mut SeriesValue> {
        if !self.series.contains_key(key) {
            // Creates it, or refuses it by the cap, by the same rule.
            return self.entry(metric, &key.1, limits);
        }
        self.series.get_mut(key)
    }
}

/// [`Activity::merge`] under the tenant cap [`Activity::note`] keeps; the
/// caller prunes sessions.
fn fold_activity(mine: &mut Activity, mut other: Activity, limits: &ActivityLimits) {
    let room = limits.max_tenants.saturating_sub(mine.tenants.len());
    let new: Vec<String> = other.tenants.keys().filter(|t| !mine.tenants.contains_key(*t)).cloned().collect();
    for tenant in new.into_iter().skip(room) {
        other.tenants.remove(&tenant);
    }
    mine.merge(&other);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::activity::Note;
    use crate::metrics::catalog::*;
    use crate::metrics::Recorder;

    fn call(tool: &str, session: &str, at_ms: u64) -> Snapshot {
        let mut r = Recorder::new();
        r.inc(&TOOL_CALLS_TOTAL, &[tool, "text-tools", "success"], 1);
        r.observe(&TOOL_CALL_DURATION_SECONDS, &[tool, "text-tools"], 0.015);
        r.note(Note { tenant: "-".into(), session: Some(session.into()), tool_call: true, error: false, at_ms });
        let mut s = Snapshot::new();
        s.apply(&r, &Limits::UNLIMITED);
        s
    }

    #[test]
    fn folding_adds_like_applying() {
        let mut folded = Snapshot::new();
        let mut applied = Snapshot::new();
        for i in 0..5 {
            folded.fold_in(&call("a", "s1", i), &Limits::default(), 10);
            let mut r = Recorder::new();
            r.inc(&TOOL_CALLS_TOTAL, &["a", "text-tools", "success"], 1);
            r.observe(&TOOL_CALL_DURATION_SECONDS, &["a", "text-tools"], 0.015);
            r.note(Note { tenant: "-".into(), session: Some("s1".into()), tool_call: true, error: false, at_ms: i });
            applied.apply(&r, &Limits::default());
        }
        assert_eq!(folded, applied);
        assert_eq!(folded.counter(&TOOL_CALLS_TOTAL, &["a", "text-tools", "success"]), 5);
        assert_eq!(folded.activity().sessions["s1"].requests, 5);
    }

    #[test]
    fn folding_keeps_the_caps() {
        let limits = Limits {
            max_series_per_metric: 1,
            activity: ActivityLimits { max_sessions: 1, session_ttl_ms: 100, max_tenants: 1 },
        };
        let mut s = Snapshot::new();
        s.fold_in(&call("a", "s1", 1_000), &limits, 1_000);
        s.fold_in(&call("b", "s2", 1_050), &limits, 1_050);
        assert_eq!(s.series(&TOOL_CALLS_TOTAL).count(), 1);
        assert_eq!(s.counter(&METRICS_SERIES_DROPPED_TOTAL, &["tool_calls_total"]), 1);
        assert_eq!(s.counter(&METRICS_SERIES_DROPPED_TOTAL, &["tool_call_duration_seconds"]), 1);
        assert_eq!(s.activity().sessions.keys().collect::<Vec<_>>(), ["s2"], "least recently seen evicted");
        let mut other = Activity::default();
        other.note(
            &Note { tenant: "t2".into(), session: None, tool_call: false, error: false, at_ms: 0 },
            &limits.activity,
        );
        let mut with_tenant = Snapshot::new();
        with_tenant.activity = other;
        s.fold_in(&with_tenant, &limits, 1_060);
        assert_eq!(s.activity().tenants.keys().collect::<Vec<_>>(), ["-"], "tenant cap");
        s.fold_in(&Snapshot::new(), &limits, 5_000);
        assert!(s.activity().sessions.is_empty(), "idle past the TTL");
    }

    #[test]
    fn folding_encoded_records_adds_like_folding_decoded_ones() {
        let limits = Limits { max_series_per_metric: 3, ..Limits::default() };
        let records: Vec<Vec<u8>> = (0..6)
            .map(|i| {
                let mut s = call(&format!("t{}", i % 4), &format!("s{}", i % 2), 100 + i);
                s.add_counter(&SESSIONS_CREATED_TOTAL, &[], i);
                s.encode()
            })
            .collect();
        let (mut direct, mut decoded) = (Snapshot::new(), Snapshot::new());
        for bytes in &records {
            direct.fold_encoded(bytes, &limits).unwrap();
            decoded.fold_in(&Snapshot::decode(bytes).unwrap(), &limits, 200);
        }
        direct.prune_activity(200, &limits);
        assert_eq!(direct, decoded);
        assert_eq!(direct.series(&TOOL_CALLS_TOTAL).count(), 3, "the cap holds");
        assert_eq!(direct.counter(&METRICS_SERIES_DROPPED_TOTAL, &["tool_call_duration_seconds"]), 1);
        assert_eq!(direct.counter(&SESSIONS_CREATED_TOTAL, &[]), 15);
        // A record in an older or looser shape takes the item-by-item path,
        // bad series skipped alone; one that does not decode adds nothing.
        let loose = br#"{"v":1,"series":[{"m":"tool_calls_total","l":["t0","text-tools","success"],"c":2},
            {"m":"tool_calls_total","l":["t0",7,"success"],"c":1}],"extra":[1]}"#;
        direct.fold_encoded(loose, &limits).unwrap();
        assert_eq!(direct.counter(&TOOL_CALLS_TOTAL, &["t0", "text-tools", "success"]), 4);
        let before = direct.clone();
        for bad in [&b"{"[..], br#"{"v":3,"series":[]}"#, br#"{"v":2}"#] {
            assert!(direct.fold_encoded(bad, &limits).is_err());
        }
        assert_eq!(direct, before);
    }

    #[test]
    fn excess_sessions_go_oldest_first_in_one_pass() {
        let limits = Limits {
            activity: ActivityLimits { max_sessions: 2, session_ttl_ms: 1_000, max_tenants: 8 },
            ..Limits::default()
        };
        let mut s = Snapshot::new();
        for (session, at) in [("d", 500), ("a", 900), ("c", 300), ("b", 900)] {
            s.fold_encoded(&call("x", session, at).encode(), &limits).unwrap();
        }
        s.prune_activity(1_000, &limits);
        assert_eq!(s.activity().sessions.keys().collect::<Vec<_>>(), ["a", "b"]);
        s.prune_activity(1_950, &limits);
        assert!(s.activity().sessions.is_empty(), "idle past the TTL");
    }

    #[test]
    fn the_fold_record_round_trips_and_reads_plain_records() {
        let record = FoldRecord {
            snapshot: call("a", "s1", 7),
            generation: 3,
            ids: ["00ff".to_string(), "abcd".to_string()].into_iter().collect(),
        };
        let bytes = record.encode();
        assert!(bytes.ends_with(br#","fold":{"n":3,"ids":["00ff","abcd"]}}"#), "{}", String::from_utf8_lossy(&bytes));
        assert_eq!(FoldRecord::decode(&bytes).unwrap(), record);
        // The plain shard decoder reads it too (it ignores `fold`).
        assert_eq!(Snapshot::decode(&bytes).unwrap(), record.snapshot);
        let empty = FoldRecord::default();
        assert_eq!(empty.encode(), br#"{"v":2,"series":[],"fold":{"n":0,"ids":[]}}"#);
        assert_eq!(FoldRecord::decode(br#"{"v":1,"series":[]}"#).unwrap(), empty);
        assert!(FoldRecord::decode(b"{").is_err());
    }
}
