//! The metrics record codec: how a [`Snapshot`] is kept in the store, as
//! one JSON value. Every metrics record has this form: a request's
//! observation record, the fold record (which adds a `fold` member, see
//! [`super::FoldRecord`]), and the shard records earlier versions wrote
//! (folded once by `spinscope-sqlite prepare`). [`Snapshot::fold_encoded`]
//! adds a record straight from its bytes.
//!
//! Encoding (version 2, JSON):
//!
//! ```text
//! {"v":2,"series":[
//!   {"m":"tool_calls_total","l":["wordcount","text-tools","success"],"c":5},
//!   {"m":"sessions_active","l":[],"g":-1},
//!   {"m":"tool_call_duration_seconds","l":["wordcount","text-tools"],"hs":[[1,2,14,1],400030000,3]},
//!   {"m":"http_request_duration_seconds","l":["/mcp","POST"],"h":[[3,2,4,1,1,1,1,1,1,1,1,1],90210000,18]}
//! ]}
//! ```
//!
//! A series is identified by its metric name (without the `spinscope_`
//! prefix) and its label values in catalog order, so label values need no
//! escaping inside keys. `c` is a counter (u64), `g` a gauge (i64, the sum of
//! the deltas), `h` a histogram: the count of each bucket of the catalog plus
//! one for `+Inf` (per bucket, not cumulative, so merging is addition), the
//! sum in integer micro-units (exact under addition, unlike floats) and the
//! count. `hs` is the same histogram written sparsely, its buckets as
//! `index, count` pairs of the non-empty ones only: a request's own record
//! (one observation per histogram) is written so, which makes it a third
//! shorter and cheaper to fold. Version 1 records (always dense) still read.
//! Series of metrics this version does not know, or whose shape no longer
//! matches the catalog, are skipped when decoding, so a record written by an
//! older or newer spinscope of the same version still reads; a newer version
//! number is refused whole, so an older spinscope leaves such a record alone
//! instead of dropping the histograms it cannot read.

use super::activity::{Activity, RawActivity};
use super::catalog::{self, Kind, MetricDef};
use super::snapshot::{fold_activity, Histogram, Key, Limits, SeriesValue, Snapshot};
use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;

/// Version of the record encoding written.
const VERSION: u64 = 2;
/// Versions read; any other is a [`DecodeError`] (version 1 has no `hs`).
const READABLE: [u64; 2] = [1, 2];

/// A metrics record that could not be read at all (not JSON, or another
/// encoding version). Unknown series inside a readable record are no error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid metrics record: {}", self.0)
    }
}

impl std::error::Error for DecodeError {}

impl Snapshot {
    /// The record's bytes (see the module documentation). Written by hand:
    /// it runs on every recorded request, and building a `serde_json::Value`
    /// tree first costs several times more.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(32 + self.series.len() * 96);
        push_fmt(&mut out, format_args!("{{\"v\":{VERSION},\"series\":["));
        for (i, ((name, labels), value)) in self.series.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"m\":");
            push_json_str(&mut out, name);
            out.extend_from_slice(b",\"l\":[");
            for (j, label) in labels.iter().enumerate() {
                if j > 0 {
                    out.push(b',');
                }
                push_json_str(&mut out, label);
            }
            out.extend_from_slice(b"],");
            match value {
                SeriesValue::Counter(c) => push_fmt(&mut out, format_args!("\"c\":{c}")),
                SeriesValue::Gauge(g) => push_fmt(&mut out, format_args!("\"g\":{g}")),
                SeriesValue::Histogram(h) => {
                    let filled = h.buckets.iter().filter(|n| **n > 0).count();
                    if 2 * filled < h.buckets.len() {
                        out.extend_from_slice(b"\"hs\":[[");
                        let pairs = h.buckets.iter().enumerate().filter(|(_, n)| **n > 0);
                        for (k, (index, n)) in pairs.enumerate() {
                            if k > 0 {
                                out.push(b',');
                            }
                            push_fmt(&mut out, format_args!("{index},{n}"));
                        }
                    } else {
                        out.extend_from_slice(b"\"h\":[[");
                        for (k, n) in h.buckets.iter().enumerate() {
                            if k > 0 {
                                out.push(b',');
                            }
                            push_fmt(&mut out, format_args!("{n}"));
                        }
                    }
                    push_fmt(&mut out, format_args!("],{},{}]", h.sum_micros, h.count));
                }
            }
            out.push(b'}');
        }
        out.push(b']');
        self.activity.encode_into(&mut out);
        out.push(b'}');
        out
    }

    /// Decodes a metrics record. Series of metrics this version does not know,
    /// or whose shape no longer matches the catalog (label count, kind,
    /// bucket count, buckets not adding up to the count), are skipped one by
    /// one, so a bad series never costs the rest of the record.
    pub fn decode(bytes: &[u8]) -> Result<Snapshot, DecodeError> {
        // Fast path: the record read straight into typed series (no
        // `serde_json::Value` tree: folding decodes every observation
        // record once, so this runs once per recorded request). A record
        // that does not fit these types is read again item by item below.
        if let Ok(record) = serde_json::from_slice::<TypedRecord<'_>>(bytes) {
            return assemble(record.v, record.series.into_iter().map(Some), record.activity);
        }
        let record: RawRecord = serde_json::from_slice(bytes).map_err(|e| DecodeError(e.to_string()))?;
        let series = record.series.iter().map(|item| RawSeries::deserialize(item).ok());
        assemble(record.v, series, record.activity)
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
}

/// A snapshot from a record's parts; `None` is a series that did not parse.
fn assemble<'a>(
    v: u64,
    series: impl Iterator<Item = Option<RawSeries<'a>>>,
    activity: Option<RawActivity>,
) -> Result<Snapshot, DecodeError> {
    check_version(v)?;
    let mut snapshot = Snapshot::new();
    for raw in series.flatten() {
        let Some((metric, value)) = checked(&raw) else { continue };
        let value = value.to_value(metric);
        let labels = raw.l.into_iter().map(Cow::into_owned).collect();
        snapshot.series.insert((metric.name, labels), value);
    }
    snapshot.activity = activity.map(Activity::from).unwrap_or_default();
    Ok(snapshot)
}

pub(super) fn check_version(v: u64) -> Result<(), DecodeError> {
    match READABLE.contains(&v) {
        true => Ok(()),
        false => Err(DecodeError(format!("unsupported version {v}"))),
    }
}

/// The record with every series typed (the fast path).
#[derive(Deserialize)]
pub(super) struct TypedRecord<'a> {
    pub(super) v: u64,
    #[serde(borrow)]
    pub(super) series: Vec<RawSeries<'a>>,
    #[serde(default)]
    pub(super) activity: Option<RawActivity>,
}

/// The record with each series left as JSON, to skip a bad one alone.
#[derive(Deserialize)]
struct RawRecord {
    v: u64,
    series: Vec<Value>,
    #[serde(default)]
    activity: Option<RawActivity>,
}

/// One series as written: `c`, `g`, or `h` or `hs`, by the metric's kind.
/// Strings are borrowed from the record where they need no unescaping.
#[derive(Deserialize)]
pub(super) struct RawSeries<'a> {
    #[serde(borrow)]
    m: Cow<'a, str>,
    #[serde(borrow)]
    pub(super) l: Vec<Cow<'a, str>>,
    #[serde(default)]
    c: Option<u64>,
    #[serde(default)]
    g: Option<i64>,
    /// Buckets, sum in micro-units, count.
    #[serde(default)]
    h: Option<(Vec<u64>, i64, u64)>,
    /// Non-empty buckets as `index, count` pairs, sum, count.
    #[serde(default)]
    hs: Option<(Vec<u64>, i64, u64)>,
}

/// A series' value checked against its metric, still in the record.
pub(super) enum Checked<'r> {
    Counter(u64),
    Gauge(i64),
    /// Every bucket, sum in micro-units, count.
    Dense(&'r [u64], i64, u64),
    /// `index, count` pairs of the non-empty buckets, sum, count.
    Sparse(&'r [u64], i64, u64),
}

/// A series checked against the catalog: a metric this version knows, its
/// label count, its kind's value, and a histogram whose buckets match the
/// catalog's and add up to its count (the text formats need the `+Inf`
/// bucket to equal the count). A sparse histogram's indexes must also be
/// in range and increasing, as the encoder writes them.
pub(super) fn checked<'r>(raw: &'r RawSeries<'_>) -> Option<(&'static MetricDef, Checked<'r>)> {
    let metric = catalog::by_name(&raw.m)?;
    if raw.l.len() != metric.labels.len() {
        return None;
    }
    let value = match metric.kind {
        Kind::Counter => Checked::Counter(raw.c?),
        Kind::Gauge => Checked::Gauge(raw.g?),
        Kind::Histogram => {
            let len = metric.buckets.len() + 1;
            match (&raw.h, &raw.hs) {
                (Some((buckets, sum, count)), None) => {
                    if buckets.len() != len || total(buckets.iter().copied()) != Some(*count) {
                        return None;
                    }
                    Checked::Dense(buckets, *sum, *count)
                }
                (None, Some((pairs, sum, count))) => {
                    if pairs.len() % 2 != 0 || total(pairs.iter().skip(1).step_by(2).copied()) != Some(*count) {
                        return None;
                    }
                    let mut next = 0u64;
                    for index in pairs.iter().step_by(2) {
                        if *index < next || *index >= len as u64 {
                            return None;
                        }
                        next = index + 1;
                    }
                    Checked::Sparse(pairs, *sum, *count)
                }
                _ => return None,
            }
        }
    };
    Some((metric, value))
}

impl Checked<'_> {
    fn to_value(&self, metric: &MetricDef) -> SeriesValue {
        let mut value = SeriesValue::zero(metric);
        self.add_to(&mut value);
        value
    }

    /// Adds this value to a series of the same metric (saturating, as
    /// merging does).
    pub(super) fn add_to(&self, target: &mut SeriesValue) {
        match (self, target) {
            (Checked::Counter(b), SeriesValue::Counter(a)) => *a = a.saturating_add(*b),
            (Checked::Gauge(b), SeriesValue::Gauge(a)) => *a = a.saturating_add(*b),
            (Checked::Dense(buckets, sum, count), SeriesValue::Histogram(h)) => {
                for (a, b) in h.buckets.iter_mut().zip(buckets.iter()) {
                    *a = a.saturating_add(*b);
                }
                add_sum_count(h, *sum, *count);
            }
            (Checked::Sparse(pairs, sum, count), SeriesValue::Histogram(h)) => {
                for pair in pairs.chunks_exact(2) {
                    if let Some(a) = h.buckets.get_mut(pair[0] as usize) {
                        *a = a.saturating_add(pair[1]);
                    }
                }
                add_sum_count(h, *sum, *count);
            }
            _ => {}
        }
    }
}

/// The sum of bucket counts, `None` when it overflows.
fn total(mut counts: impl Iterator<Item = u64>) -> Option<u64> {
    counts.try_fold(0u64, |a, b| a.checked_add(b))
}

fn add_sum_count(h: &mut Histogram, sum_micros: i64, count: u64) {
    h.sum_micros = h.sum_micros.saturating_add(sum_micros);
    h.count = h.count.saturating_add(count);
}

fn push_json_str(out: &mut Vec<u8>, s: &str) {
    // serde_json escapes exactly as JSON requires; writing into a Vec
    // cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

fn push_fmt(out: &mut Vec<u8>, args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = out.write_fmt(args);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::activity::ActivityLimits;
    use crate::metrics::catalog::*;
    use crate::metrics::snapshot::fixtures::*;
    use crate::metrics::Recorder;

    #[test]
    fn the_encoding_is_the_documented_one() {
        let mut r = Recorder::new();
        r.inc(&REJECTED_TOTAL, &["pay\"load"], 3);
        r.gauge_add(&SESSIONS_ACTIVE, &[], -2);
        r.observe(&HTTP_REQUEST_SIZE_BYTES, &["/mcp", "POST"], 100.0);
        let mut s = Snapshot::new();
        s.apply(&r, &Limits::default());
        assert_eq!(
            String::from_utf8(s.encode()).unwrap(),
            concat!(
                r#"{"v":2,"series":["#,
                r#"{"m":"http_request_size_bytes","l":["/mcp","POST"],"hs":[[1,1],100000000,1]},"#,
                r#"{"m":"rejected_total","l":["pay\"load"],"c":3},"#,
                r#"{"m":"sessions_active","l":[],"g":-2}"#,
                r#"]}"#
            )
        );
        assert_eq!(Snapshot::new().encode(), br#"{"v":2,"series":[]}"#);
        assert_eq!(Snapshot::decode(br#"{"v":1,"series":[]}"#).unwrap(), Snapshot::new());
        // A histogram with most buckets filled is written densely.
        let mut r = Recorder::new();
        for size in [10.0, 100.0, 1_000.0, 10_000.0, 100_000.0, 1e9] {
            r.observe(&HTTP_REQUEST_SIZE_BYTES, &["/mcp", "POST"], size);
        }
        let mut dense = Snapshot::new();
        dense.apply(&r, &Limits::default());
        let bytes = String::from_utf8(dense.encode()).unwrap();
        assert!(bytes.contains(r#""h":[[1,1,1,0,1,0,1,0,0,1],"#), "{bytes}");
        assert_eq!(Snapshot::decode(bytes.as_bytes()).unwrap(), dense);
    }

    #[test]
    fn sparse_and_dense_histograms_read_the_same() {
        let dense = br#"{"v":2,"series":[{"m":"tool_call_duration_seconds","l":["a","b"],"h":[[0,2,0,0,0,0,0,0,0,0,0,0,0,0,1],7,3]}]}"#;
        let sparse = br#"{"v":2,"series":[{"m":"tool_call_duration_seconds","l":["a","b"],"hs":[[1,2,14,1],7,3]}]}"#;
        let (dense, sparse) = (Snapshot::decode(dense).unwrap(), Snapshot::decode(sparse).unwrap());
        assert_eq!(dense.len(), 1);
        assert_eq!(dense, sparse);
        // Each bad sparse shape skips its series alone.
        for bad in [
            r#"[1,2,14],7,3"#,   // a pair cut short
            r#"[1,2,15,1],7,3"#, // index past +Inf
            r#"[14,1,1,2],7,3"#, // indexes going back
            r#"[1,2,1,1],7,3"#,  // an index twice
            r#"[1,2,14,1],7,4"#, // buckets not adding up to the count
            r#"[-1,2],7,2"#,     // not an index
        ] {
            let raw = format!(
                r#"{{"v":2,"series":[{{"m":"tool_call_duration_seconds","l":["a","b"],"hs":[{bad}]}},{{"m":"sessions_created_total","l":[],"c":5}}]}}"#
            );
            let s = Snapshot::decode(raw.as_bytes()).unwrap();
            assert_eq!(s.len(), 1, "{bad}");
            assert_eq!(s.counter(&SESSIONS_CREATED_TOTAL, &[]), 5);
        }
        let both = br#"{"v":2,"series":[{"m":"tool_call_duration_seconds","l":["a","b"],"hs":[[1,1],7,1],"h":[[0,1,0,0,0,0,0,0,0,0,0,0,0,0,0],7,1]}]}"#;
        assert!(Snapshot::decode(both).unwrap().is_empty(), "both forms at once");
    }

    #[test]
    fn unknown_metrics_and_shapes_are_skipped() {
        let raw = br#"{"v":1,"series":[{"m":"from_the_future_total","l":[],"c":1,"x":{"y":[]}},
            {"m":"tool_call_duration_seconds","l":["a","b"],"h":[[1,2],3,3]},
            {"m":"tool_call_duration_seconds","l":["a","c"],"h":[[0,0,0,0,0,0,0,0,0,0,0,0,0,0,1],3,2]},
            {"m":"tool_calls_total","l":["a"],"c":1},
            {"m":"tool_calls_total","l":["a","b",3],"c":1},
            {"m":"tool_calls_total","l":["a","b","c"],"c":-1},
            {"m":"sessions_active","l":[],"c":1},
            {"m":"sessions_created_total","c":1},
            {"l":[],"c":1},
            {"m":"sessions_created_total","l":[],"c":5}],"extra":true}"#;
        let s = Snapshot::decode(raw).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s.counter(&SESSIONS_CREATED_TOTAL, &[]), 5);
        assert!(Snapshot::decode(br#"{"v":3,"series":[]}"#).is_err(), "a newer version is refused whole");
        assert!(Snapshot::decode(b"garbage").is_err());
        assert!(Snapshot::decode(b"").is_err());
    }

    #[test]
    fn activity_travels_in_the_record_and_old_records_still_read() {
        use crate::metrics::activity::Note;
        let mut r = recorder();
        r.note(Note { tenant: "acme".into(), session: Some("ab\"c".into()), tool_call: true, error: false, at_ms: 5 });
        let mut s = Snapshot::new();
        s.apply(&r, &Limits::default());
        let bytes = s.encode();
        let decoded = Snapshot::decode(&bytes).unwrap();
        assert_eq!(decoded, s);
        assert_eq!(decoded.activity().sessions["ab\"c"].tool_calls, 1);
        assert_eq!(decoded.activity().tenants["acme"].requests, 1);
        // A record without the field (an older gateway) has no activity.
        let plain = br#"{"v":1,"series":[{"m":"sessions_created_total","l":[],"c":2}]}"#;
        let old = Snapshot::decode(plain).unwrap();
        assert!(old.activity().is_empty());
        assert_eq!(old.counter(&SESSIONS_CREATED_TOTAL, &[]), 2);
        // A record with only activity is not empty.
        let mut only = Recorder::new();
        only.note(Note { tenant: "-".into(), session: None, tool_call: false, error: false, at_ms: 1 });
        assert!(!only.is_empty());
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
}
