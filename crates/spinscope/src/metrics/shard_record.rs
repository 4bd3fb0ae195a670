//! The shard record: how a [`Snapshot`] is kept in the store, one JSON
//! value per shard.
//!
//! Encoding (version 1, JSON):
//!
//! ```text
//! {"v":1,"series":[
//!   {"m":"tool_calls_total","l":["wordcount","text-tools","success"],"c":5},
//!   {"m":"sessions_active","l":[],"g":-1},
//!   {"m":"tool_call_duration_seconds","l":["wordcount","text-tools"],"h":[[0,2,0,...,1],400030000,3]}
//! ]}
//! ```
//!
//! A series is identified by its metric name (without the `spinscope_`
//! prefix) and its label values in catalog order, so label values need no
//! escaping inside keys. `c` is a counter (u64), `g` a gauge (i64, the sum of
//! the deltas), `h` a histogram: the count of each bucket of the catalog plus
//! one for `+Inf` (per bucket, not cumulative, so merging is addition), the
//! sum in integer micro-units (exact under addition, unlike floats) and the
//! count. Series of metrics this version does not know, or whose shape no
//! longer matches the catalog, are skipped when decoding, so a record written
//! by an older or newer spinscope still reads.

use super::activity::{Activity, RawActivity};
use super::catalog::{self, Kind, MetricDef};
use super::snapshot::{DecodeError, Histogram, SeriesValue, Snapshot};
use serde::Deserialize;
use serde_json::Value;

/// Version of the record encoding; a different one is a [`DecodeError`].
const VERSION: u64 = 1;

impl Snapshot {
    /// The shard record (see the module documentation). Written by hand:
    /// it runs on every recorded request, and building a `serde_json::Value`
    /// tree first costs several times more.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(32 + self.series.len() * 96);
        out.extend_from_slice(b"{\"v\":1,\"series\":[");
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
                    out.extend_from_slice(b"\"h\":[[");
                    for (k, n) in h.buckets.iter().enumerate() {
                        if k > 0 {
                            out.push(b',');
                        }
                        push_fmt(&mut out, format_args!("{n}"));
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

    /// Decodes a shard record. Series of metrics this version does not know,
    /// or whose shape no longer matches the catalog (label count, kind,
    /// bucket count, buckets not adding up to the count), are skipped one by
    /// one, so a bad series never costs the rest of the shard.
    pub fn decode(bytes: &[u8]) -> Result<Snapshot, DecodeError> {
        // Fast path: the record read straight into typed series (no
        // `serde_json::Value` tree: folding decodes every observation
        // record once, so this runs once per recorded request). A record
        // that does not fit these types is read again item by item below.
        if let Ok(record) = serde_json::from_slice::<TypedRecord>(bytes) {
            return assemble(record.v, record.series.into_iter().map(Some), record.activity);
        }
        let record: RawRecord = serde_json::from_slice(bytes).map_err(|e| DecodeError(e.to_string()))?;
        let series = record.series.iter().map(|item| RawSeries::deserialize(item).ok());
        assemble(record.v, series, record.activity)
    }
}

/// A snapshot from a record's parts; `None` is a series that did not parse.
fn assemble(
    v: u64,
    series: impl Iterator<Item = Option<RawSeries>>,
    activity: Option<RawActivity>,
) -> Result<Snapshot, DecodeError> {
    if v != VERSION {
        return Err(DecodeError(format!("unsupported version {v}")));
    }
    let mut snapshot = Snapshot::new();
    for (metric, labels, value) in series.flatten().filter_map(checked) {
        snapshot.series.insert((metric.name, labels), value);
    }
    snapshot.activity = activity.map(Activity::from).unwrap_or_default();
    Ok(snapshot)
}

/// The record with every series typed (the fast path).
#[derive(Deserialize)]
struct TypedRecord {
    v: u64,
    series: Vec<RawSeries>,
    #[serde(default)]
    activity: Option<RawActivity>,
}

/// The record with each series left as JSON, to skip a bad one alone.
#[derive(Deserialize)]
struct RawRecord {
    v: u64,
    series: Vec<Value>,
    #[serde(default)]
    activity: Option<RawActivity>,
}

/// One series as written: `c`, `g` or `h` by the metric's kind.
#[derive(Deserialize)]
struct RawSeries {
    m: String,
    l: Vec<String>,
    #[serde(default)]
    c: Option<u64>,
    #[serde(default)]
    g: Option<i64>,
    /// Buckets, sum in micro-units, count.
    #[serde(default)]
    h: Option<(Vec<u64>, i64, u64)>,
}

/// A series checked against the catalog: a metric this version knows, its
/// label count, its kind's value, and a histogram whose buckets match the
/// catalog's and add up to its count.
fn checked(raw: RawSeries) -> Option<(&'static MetricDef, Vec<String>, SeriesValue)> {
    let metric = catalog::by_name(&raw.m)?;
    if raw.l.len() != metric.labels.len() {
        return None;
    }
    let value = match metric.kind {
        Kind::Counter => SeriesValue::Counter(raw.c?),
        Kind::Gauge => SeriesValue::Gauge(raw.g?),
        Kind::Histogram => {
            let (buckets, sum_micros, count) = raw.h?;
            // The text formats need the +Inf bucket to equal the count.
            let consistent = buckets.iter().try_fold(0u64, |a, b| a.checked_add(*b)) == Some(count);
            if buckets.len() != metric.buckets.len() + 1 || !consistent {
                return None;
            }
            SeriesValue::Histogram(Histogram { buckets, sum_micros, count })
        }
    };
    Some((metric, raw.l, value))
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
