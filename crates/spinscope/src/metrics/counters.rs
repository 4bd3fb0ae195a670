//! The counter layout: every field of every series is a key of its own,
//! moved only by `wasi:keyvalue` `atomics.increment`.
//!
//! It is the layout for stores whose compare-and-swap cannot be trusted:
//! on Spin's Redis store every `swap` reports `cas-failed` even when it was
//! applied, and opens a connection of its own (docs/metrics.md). An
//! increment there is one `INCRBY` on the store's shared connection:
//! atomic, never lost, never applied twice, whatever the concurrency and
//! however many instances share the store.
//!
//! Keys, after [`crate::keys::COUNTER_PREFIX`]:
//!
//! ```text
//! <metric>:c:<labels>     counter
//! <metric>:g:<labels>     gauge (the sum of its deltas)
//! <metric>:b<i>:<labels>  histogram bucket i, not cumulative (the last is +Inf)
//! <metric>:s:<labels>     histogram sum, in millionths of the unit
//! ~s:r:<session>          a session's requests   (~s:t: tool calls, ~s:l: last seen ms, written with `set`)
//! ~t:r:<tenant>           a tenant's requests    (~t:t: tool calls, ~t:e: errors)
//! ```
//!
//! `<labels>` is the JSON array of the label values, `<session>` and
//! `<tenant>` JSON strings, so any value fits and the key splits at its
//! first two colons. A histogram's count is the sum of its buckets.

use super::activity::{Activity, ActivityLimits, SessionActivity, TenantActivity};
use super::catalog::{self, Kind, MetricDef};
use super::recorder::{Observation, Recorder};
use super::snapshot::{bucket_index, micros, Key, Limits, SeriesValue, Snapshot};
use crate::keys::COUNTER_PREFIX;
use std::collections::BTreeMap;

/// What one request writes in the counter layout.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Writes {
    /// Keys to `increment`, each once, by the sum of its deltas.
    pub increments: Vec<(String, i64)>,
    /// Keys to `set` to a decimal value (a session's last-seen time: a
    /// maximum, which increments cannot express; the latest write wins).
    pub sets: Vec<(String, u64)>,
}

fn series_key(metric: &MetricDef, field: &str, labels: &[String]) -> String {
    let labels = serde_json::to_string(labels).expect("strings serialize");
    format!("{COUNTER_PREFIX}{}:{field}:{labels}", metric.name)
}

fn activity_key(kind: &str, field: char, id: &str) -> String {
    let id = serde_json::to_string(id).expect("strings serialize");
    format!("{COUNTER_PREFIX}~{kind}:{field}:{id}")
}

/// The increments and sets that record `recorder`, deltas to the same key
/// added together, keys in a stable order.
pub fn writes(recorder: &Recorder) -> Writes {
    let mut adds: BTreeMap<String, i64> = BTreeMap::new();
    let mut add = |key: String, delta: i64| *adds.entry(key).or_default() += delta;
    for observation in &recorder.observations {
        match observation {
            Observation::Add { metric, labels, delta } => {
                add(series_key(metric, "c", labels), i64::try_from(*delta).unwrap_or(i64::MAX))
            }
            Observation::GaugeAdd { metric, labels, delta } => add(series_key(metric, "g", labels), *delta),
            Observation::Observe { metric, labels, value } => {
                add(series_key(metric, &format!("b{}", bucket_index(metric, *value)), labels), 1);
                add(series_key(metric, "s", labels), micros(*value));
            }
        }
    }
    let mut sets = BTreeMap::new();
    for note in &recorder.notes {
        add(activity_key("t", 'r', &note.tenant), 1);
        add(activity_key("t", 't', &note.tenant), i64::from(note.tool_call));
        add(activity_key("t", 'e', &note.tenant), i64::from(note.error));
        if let Some(session) = &note.session {
            add(activity_key("s", 'r', session), 1);
            add(activity_key("s", 't', session), i64::from(note.tool_call));
            let last = sets.entry(activity_key("s", 'l', session)).or_insert(0u64);
            *last = (*last).max(note.at_ms);
        }
    }
    adds.retain(|_, delta| *delta != 0);
    Writes { increments: adds.into_iter().collect(), sets: sets.into_iter().collect() }
}

/// A snapshot rebuilt from the counter keys.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Assembled {
    /// The series and activity read back.
    pub snapshot: Snapshot,
    /// Keys of the sessions idle past the TTL: nothing shows them any more,
    /// so the exporter deletes them.
    pub stale: Vec<String>,
    /// Keys under the prefix that this version does not know (skipped).
    pub unknown: Vec<String>,
}

/// One parsed key.
enum Field {
    Series { metric: &'static MetricDef, labels: Vec<String>, part: Part },
    Session { id: String, part: char },
    Tenant { id: String, part: char },
}

enum Part {
    Counter,
    Gauge,
    Bucket(usize),
    Sum,
}

fn parse_key(key: &str) -> Option<Field> {
    let rest = key.strip_prefix(COUNTER_PREFIX)?;
    let (name, rest) = rest.split_once(':')?;
    let (field, tail) = rest.split_once(':')?;
    match name {
        "~s" | "~t" => {
            let id: String = serde_json::from_str(tail).ok()?;
            let part = match field {
                "r" | "t" | "l" if name == "~s" => field.chars().next()?,
                "r" | "t" | "e" if name == "~t" => field.chars().next()?,
                _ => return None,
            };
            Some(if name == "~s" { Field::Session { id, part } } else { Field::Tenant { id, part } })
        }
        _ => {
            let metric = catalog::by_name(name)?;
            let labels: Vec<String> = serde_json::from_str(tail).ok()?;
            if labels.len() != metric.labels.len() {
                return None;
            }
            let part = match (metric.kind, field) {
                (Kind::Counter, "c") => Part::Counter,
                (Kind::Gauge, "g") => Part::Gauge,
                (Kind::Histogram, "s") => Part::Sum,
                (Kind::Histogram, b) => {
                    let index: usize = b.strip_prefix('b')?.parse().ok()?;
                    (index <= metric.buckets.len()).then_some(Part::Bucket(index))?
                }
                _ => return None,
            };
            Some(Field::Series { metric, labels, part })
        }
    }
}

/// Rebuilds the merged view from `(key, value)` pairs read back from the
/// store. A metric's series beyond `limits.max_series_per_metric` (in label
/// order) are left out and counted in `metrics_series_dropped_total`, so
/// the cap holds for the merged view; sessions follow `limits.activity` at
/// `now_ms`.
pub fn assemble(entries: impl IntoIterator<Item = (String, i64)>, limits: &Limits, now_ms: u64) -> Assembled {
    let mut out = Assembled::default();
    let mut series: BTreeMap<Key, (&'static MetricDef, SeriesValue)> = BTreeMap::new();
    let mut activity = Activity::default();
    let mut session_keys: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (key, value) in entries {
        let Some(field) = parse_key(&key) else {
            out.unknown.push(key);
            continue;
        };
        let unsigned = value.max(0) as u64;
        match field {
            Field::Series { metric, labels, part } => {
                let (_, entry) =
                    series.entry((metric.name, labels)).or_insert_with(|| (metric, SeriesValue::zero(metric)));
                match (entry, part) {
                    (SeriesValue::Counter(c), Part::Counter) => *c = unsigned,
                    (SeriesValue::Gauge(g), Part::Gauge) => *g = value,
                    (SeriesValue::Histogram(h), Part::Bucket(i)) => {
                        h.buckets[i] = unsigned;
                        h.count = h.buckets.iter().sum();
                    }
                    (SeriesValue::Histogram(h), Part::Sum) => h.sum_micros = value,
                    _ => {}
                }
            }
            Field::Session { id, part } => {
                let s: &mut SessionActivity = activity.sessions.entry(id.clone()).or_default();
                match part {
                    'r' => s.requests = unsigned,
                    't' => s.tool_calls = unsigned,
                    _ => s.last_ms = unsigned,
                }
                session_keys.entry(id).or_default().push(key);
            }
            Field::Tenant { id, part } => {
                let t: &mut TenantActivity = activity.tenants.entry(id).or_default();
                match part {
                    'r' => t.requests = unsigned,
                    't' => t.tool_calls = unsigned,
                    _ => t.errors = unsigned,
                }
            }
        }
    }
    for ((_, labels), (metric, value)) in series {
        match out.snapshot.entry(metric, &labels, limits) {
            Some(slot) => *slot = value,
            None => out.snapshot.add_counter(&catalog::METRICS_SERIES_DROPPED_TOTAL, &[metric.name], 1),
        }
    }
    let ttl = limits.activity.session_ttl_ms;
    activity.sessions.retain(|id, s| {
        let live = now_ms.saturating_sub(s.last_ms) <= ttl;
        if !live {
            out.stale.extend(session_keys.remove(id).unwrap_or_default());
        }
        live
    });
    activity.prune(now_ms, &ActivityLimits { session_ttl_ms: ttl, ..limits.activity });
    out.snapshot.activity = activity;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::activity::Note;
    use crate::metrics::catalog::*;

    fn recorder(tool: &str, seconds: f64, session: Option<&str>) -> Recorder {
        let mut r = Recorder::new();
        r.inc(&TOOL_CALLS_TOTAL, &[tool, "text-tools", "success"], 1);
        r.gauge_add(&SESSIONS_ACTIVE, &[], 1);
        r.observe(&TOOL_CALL_DURATION_SECONDS, &[tool, "text-tools"], seconds);
        r.observe(&TOOL_CALL_DURATION_SECONDS, &[tool, "text-tools"], seconds);
        r.note(Note {
            tenant: "acme".into(),
            session: session.map(Into::into),
            tool_call: true,
            error: false,
            at_ms: 5_000,
        });
        r
    }

    /// Applies writes to an in-memory "store" the way a real one would.
    fn run(store: &mut BTreeMap<String, i64>, writes: &Writes) {
        for (key, delta) in &writes.increments {
            *store.entry(key.clone()).or_default() += delta;
        }
        for (key, value) in &writes.sets {
            store.insert(key.clone(), *value as i64);
        }
    }

    #[test]
    fn increments_rebuild_the_same_snapshot_as_applying() {
        let mut store = BTreeMap::new();
        let mut expected = Snapshot::new();
        for (tool, secs, session) in [("wc", 0.004, Some("s1")), ("wc", 0.3, Some("s1")), ("sha", 7.0, None)] {
            let r = recorder(tool, secs, session);
            run(&mut store, &writes(&r));
            expected.apply(&r, &Limits::default());
        }
        let assembled = assemble(store, &Limits::default(), 6_000);
        assert_eq!(assembled.snapshot, expected);
        assert!(assembled.stale.is_empty() && assembled.unknown.is_empty());
    }

    #[test]
    fn one_request_adds_each_key_once() {
        let w = writes(&recorder("wc", 0.004, Some("s1")));
        let keys: Vec<&str> = w.increments.iter().map(|(k, _)| k.as_str()).collect();
        let mut unique = keys.clone();
        unique.dedup();
        assert_eq!(keys, unique);
        let bucket = w.increments.iter().find(|(k, _)| k.contains("tool_call_duration_seconds:b")).unwrap();
        assert_eq!(bucket.1, 2, "two observations in one bucket: one increment by 2");
        assert!(!w.increments.iter().any(|(k, _)| k.contains(":e:")), "zero deltas are not written");
        assert_eq!(w.sets.len(), 1);
    }

    #[test]
    fn labels_with_colons_and_quotes_round_trip() {
        let mut store = BTreeMap::new();
        run(&mut store, &writes(&recorder("a:b\"c", 0.1, Some("x:y"))));
        let snapshot = assemble(store, &Limits::default(), 5_000).snapshot;
        assert_eq!(snapshot.counter(&TOOL_CALLS_TOTAL, &["a:b\"c", "text-tools", "success"]), 1);
        assert_eq!(snapshot.activity().sessions["x:y"].tool_calls, 1);
    }

    #[test]
    fn the_cap_holds_for_the_merged_view_and_stale_sessions_are_named() {
        let mut store = BTreeMap::new();
        for tool in ["a", "b", "c"] {
            run(&mut store, &writes(&recorder(tool, 0.1, Some(tool))));
        }
        store.insert(format!("{COUNTER_PREFIX}no_such_metric:c:[]"), 3);
        let limits =
            Limits { max_series_per_metric: 2, activity: ActivityLimits { session_ttl_ms: 500, ..Default::default() } };
        let out = assemble(store, &limits, 6_000);
        assert_eq!(out.snapshot.series(&TOOL_CALLS_TOTAL).count(), 2);
        assert_eq!(out.snapshot.counter(&METRICS_SERIES_DROPPED_TOTAL, &["tool_calls_total"]), 1);
        assert!(out.snapshot.activity().sessions.is_empty());
        assert_eq!(out.stale.len(), 9, "three keys for each of three idle sessions");
        assert_eq!(out.unknown.len(), 1);
    }
}
