//! The shard record: how a [`Snapshot`] is kept in the store, one JSON
//! value per shard.
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
use super::snapshot::{DecodeError, Histogram, SeriesValue, Snapshot};
use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;

/// Version of the record encoding written.
const VERSION: u64 = 2;
/// Versions read; any other is a [`DecodeError`] (version 1 has no `hs`).
const READABLE: [u64; 2] = [1, 2];

impl Snapshot {
    /// The shard record (see the module documentation). Written by hand:
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

    /// Decodes a shard record. Series of metrics this version does not know,
    /// or whose shape no longer matches the catalog (label count, kind,
    /// bucket count, buckets not adding up to the count), are skipped one by
    /// one, so a bad series never costs the rest of the shard.
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
