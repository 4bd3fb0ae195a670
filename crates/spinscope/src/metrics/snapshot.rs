//! The aggregate of many series: what one shard record holds, and what the
//! exporter renders after merging all shards.
//!
//! Encoding (version 1, JSON): `{"v":1,"series":[{"m":NAME,"l":[LABEL VALUES],
//! "c":COUNTER | "g":GAUGE | "h":[[BUCKET COUNTS...,+INF],SUM_MICROS,COUNT]}]}`.
//! Series are identified by metric name and the label values in catalog
//! order, so label values need no escaping inside keys. Bucket counts are
//! stored per bucket (not cumulative); sums in integer micro-units.

use super::catalog::{self, Kind, MetricDef};
use super::recorder::{Observation, Recorder};
use serde_json::{json, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    /// One count per bucket of the catalog, plus one for `+Inf`.
    pub buckets: Vec<u64>,
    pub sum_micros: i64,
    pub count: u64,
}

impl Histogram {
    fn new(metric: &MetricDef) -> Self {
        Histogram { buckets: vec![0; metric.buckets.len() + 1], sum_micros: 0, count: 0 }
    }

    fn observe(&mut self, metric: &MetricDef, value: f64) {
        let index = metric.buckets.iter().position(|b| value <= *b).unwrap_or(metric.buckets.len());
        self.buckets[index] += 1;
        self.sum_micros = self.sum_micros.saturating_add((value * 1e6).round() as i64);
        self.count += 1;
    }

    pub fn sum(&self) -> f64 {
        self.sum_micros as f64 / 1e6
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum SeriesValue {
    Counter(u64),
    Gauge(i64),
    Histogram(Histogram),
}

/// Bounds on what a snapshot may hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// New series of one metric beyond this are dropped (and counted).
    pub max_series_per_metric: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_series_per_metric: 1000 }
    }
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct ApplyReport {
    pub dropped: u64,
}

#[derive(Debug)]
pub struct DecodeError(pub String);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid metrics record: {}", self.0)
    }
}

impl std::error::Error for DecodeError {}

type Key = (&'static str, Vec<String>);

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Snapshot {
    series: BTreeMap<Key, SeriesValue>,
}

impl Snapshot {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.series.len()
    }

    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    fn series_of(&self, metric: &str) -> usize {
        self.series.keys().filter(|(m, _)| *m == metric).count()
    }

    /// Entry for a series, or `None` when it is new and its metric is full.
    fn entry(&mut self, metric: &'static MetricDef, labels: &[String], limits: &Limits) -> Option<&mut SeriesValue> {
        let key = (metric.name, labels.to_vec());
        if !self.series.contains_key(&key) {
            let exempt = metric.name == catalog::METRICS_SERIES_DROPPED_TOTAL.name;
            if !exempt && self.series_of(metric.name) >= limits.max_series_per_metric {
                return None;
            }
            let value = match metric.kind {
                Kind::Counter => SeriesValue::Counter(0),
                Kind::Gauge => SeriesValue::Gauge(0),
                Kind::Histogram => SeriesValue::Histogram(Histogram::new(metric)),
            };
            self.series.insert(key.clone(), value);
        }
        self.series.get_mut(&key)
    }

    /// Adds a recorder's observations; series refused by the cap are counted
    /// in `metrics_series_dropped_total{metric}`.
    pub fn apply(&mut self, recorder: &Recorder, limits: &Limits) -> ApplyReport {
        let mut report = ApplyReport::default();
        for observation in &recorder.observations {
            let (metric, labels) = match observation {
                Observation::Add { metric, labels, .. }
                | Observation::GaugeAdd { metric, labels, .. }
                | Observation::Observe { metric, labels, .. } => (*metric, labels),
            };
            let Some(entry) = self.entry(metric, labels, limits) else {
                report.dropped += 1;
                self.add_counter(&catalog::METRICS_SERIES_DROPPED_TOTAL, &[metric.name], 1);
                continue;
            };
            match (observation, entry) {
                (Observation::Add { delta, .. }, SeriesValue::Counter(c)) => *c = c.saturating_add(*delta),
                (Observation::GaugeAdd { delta, .. }, SeriesValue::Gauge(g)) => *g = g.saturating_add(*delta),
                (Observation::Observe { value, .. }, SeriesValue::Histogram(h)) => h.observe(metric, *value),
                _ => {}
            }
        }
        report
    }

    /// Adds to a counter directly (the exporter uses it for values kept
    /// outside the shards).
    pub fn add_counter(&mut self, metric: &'static MetricDef, labels: &[&str], delta: u64) {
        let labels: Vec<String> = labels.iter().map(|l| l.to_string()).collect();
        let unlimited = Limits { max_series_per_metric: usize::MAX };
        if let Some(SeriesValue::Counter(c)) = self.entry(metric, &labels, &unlimited) {
            *c = c.saturating_add(delta);
        }
    }

    /// Sets a gauge directly.
    pub fn set_gauge(&mut self, metric: &'static MetricDef, labels: &[&str], value: i64) {
        let labels: Vec<String> = labels.iter().map(|l| l.to_string()).collect();
        let unlimited = Limits { max_series_per_metric: usize::MAX };
        if let Some(SeriesValue::Gauge(g)) = self.entry(metric, &labels, &unlimited) {
            *g = value;
        }
    }

    /// Adds another snapshot (another shard) into this one.
    pub fn merge(&mut self, other: &Snapshot) {
        for (key, value) in &other.series {
            match (self.series.get_mut(key), value) {
                (None, v) => {
                    self.series.insert(key.clone(), v.clone());
                }
                (Some(SeriesValue::Counter(a)), SeriesValue::Counter(b)) => *a = a.saturating_add(*b),
                (Some(SeriesValue::Gauge(a)), SeriesValue::Gauge(b)) => *a = a.saturating_add(*b),
                (Some(SeriesValue::Histogram(a)), SeriesValue::Histogram(b)) if a.buckets.len() == b.buckets.len() => {
                    for (x, y) in a.buckets.iter_mut().zip(&b.buckets) {
                        *x = x.saturating_add(*y);
                    }
                    a.sum_micros = a.sum_micros.saturating_add(b.sum_micros);
                    a.count = a.count.saturating_add(b.count);
                }
                _ => {}
            }
        }
    }

    /// Series of one metric, in stable (label value) order.
    pub fn series(&self, metric: &MetricDef) -> impl Iterator<Item = (&[String], &SeriesValue)> {
        let name = metric.name;
        self.series.iter().filter(move |((m, _), _)| *m == name).map(|((_, l), v)| (l.as_slice(), v))
    }

    /// A counter's value (0 when absent).
    pub fn counter(&self, metric: &MetricDef, labels: &[&str]) -> u64 {
        let key: Key = (metric.name, labels.iter().map(|l| l.to_string()).collect());
        match self.series.get(&key) {
            Some(SeriesValue::Counter(c)) => *c,
            _ => 0,
        }
    }

    /// A gauge's value (0 when absent).
    pub fn gauge(&self, metric: &MetricDef, labels: &[&str]) -> i64 {
        let key: Key = (metric.name, labels.iter().map(|l| l.to_string()).collect());
        match self.series.get(&key) {
            Some(SeriesValue::Gauge(g)) => *g,
            _ => 0,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let series: Vec<Value> = self
            .series
            .iter()
            .map(|((m, l), v)| match v {
                SeriesValue::Counter(c) => json!({"m": m, "l": l, "c": c}),
                SeriesValue::Gauge(g) => json!({"m": m, "l": l, "g": g}),
                SeriesValue::Histogram(h) => json!({"m": m, "l": l, "h": [h.buckets, h.sum_micros, h.count]}),
            })
            .collect();
        serde_json::to_vec(&json!({"v": 1, "series": series})).expect("snapshot serializes")
    }

    /// Decodes a shard record. Series of metrics this version does not know,
    /// or whose shape no longer matches the catalog, are skipped.
    pub fn decode(bytes: &[u8]) -> Result<Snapshot, DecodeError> {
        let doc: Value = serde_json::from_slice(bytes).map_err(|e| DecodeError(e.to_string()))?;
        if doc["v"] != 1 {
            return Err(DecodeError(format!("unsupported version {}", doc["v"])));
        }
        let list = doc["series"].as_array().ok_or_else(|| DecodeError("no series list".into()))?;
        let mut snapshot = Snapshot::new();
        for item in list {
            let Some(metric) = item["m"].as_str().and_then(catalog::by_name) else { continue };
            let Some(labels) = item["l"].as_array() else { continue };
            let labels: Option<Vec<String>> = labels.iter().map(|l| l.as_str().map(str::to_string)).collect();
            let Some(labels) = labels.filter(|l| l.len() == metric.labels.len()) else { continue };
            let value = match metric.kind {
                Kind::Counter => item["c"].as_u64().map(SeriesValue::Counter),
                Kind::Gauge => item["g"].as_i64().map(SeriesValue::Gauge),
                Kind::Histogram => decode_histogram(metric, &item["h"]).map(SeriesValue::Histogram),
            };
            if let Some(value) = value {
                snapshot.series.insert((metric.name, labels), value);
            }
        }
        Ok(snapshot)
    }
}

fn decode_histogram(metric: &MetricDef, value: &Value) -> Option<Histogram> {
    let parts = value.as_array()?;
    let buckets: Option<Vec<u64>> = parts.first()?.as_array()?.iter().map(Value::as_u64).collect();
    let buckets = buckets.filter(|b| b.len() == metric.buckets.len() + 1)?;
    Some(Histogram { buckets, sum_micros: parts.get(1)?.as_i64()?, count: parts.get(2)?.as_u64()? })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::catalog::*;

    fn recorder() -> Recorder {
        let mut r = Recorder::new();
        r.inc(&TOOL_CALLS_TOTAL, &["sha256", "text-tools", "success"], 2);
        r.observe(&TOOL_CALL_DURATION_SECONDS, &["sha256", "text-tools"], 0.015);
        r.observe(&TOOL_CALL_DURATION_SECONDS, &["sha256", "text-tools"], 400.0);
        r.gauge_add(&SESSIONS_ACTIVE, &[], 1);
        r
    }

    #[test]
    fn apply_encode_decode_merge() {
        let mut a = Snapshot::new();
        a.apply(&recorder(), &Limits::default());
        let decoded = Snapshot::decode(&a.encode()).unwrap();
        assert_eq!(decoded, a);
        let mut merged = decoded.clone();
        merged.merge(&a);
        assert_eq!(merged.counter(&TOOL_CALLS_TOTAL, &["sha256", "text-tools", "success"]), 4);
        assert_eq!(merged.gauge(&SESSIONS_ACTIVE, &[]), 2);
        let (_, h) = merged.series(&TOOL_CALL_DURATION_SECONDS).next().unwrap();
        let SeriesValue::Histogram(h) = h else { panic!() };
        assert_eq!(h.count, 4);
        assert_eq!(h.buckets[1], 2, "0.015 falls in le=0.02");
        assert_eq!(*h.buckets.last().unwrap(), 2, "400 s falls in +Inf");
        assert_eq!(h.sum_micros, 2 * 400_015_000);
    }

    #[test]
    fn the_cap_drops_new_series_and_counts_them() {
        let mut s = Snapshot::new();
        let limits = Limits { max_series_per_metric: 2 };
        let mut r = Recorder::new();
        for tool in ["a", "b", "c", "d"] {
            r.inc(&TOOL_CALLS_TOTAL, &[tool, "x", "success"], 1);
        }
        let report = s.apply(&r, &limits);
        assert_eq!(report.dropped, 2);
        assert_eq!(s.series(&TOOL_CALLS_TOTAL).count(), 2);
        assert_eq!(s.counter(&METRICS_SERIES_DROPPED_TOTAL, &["tool_calls_total"]), 2);
    }

    #[test]
    fn unknown_metrics_and_shapes_are_skipped() {
        let raw = br#"{"v":1,"series":[{"m":"from_the_future_total","l":[],"c":1},
            {"m":"tool_call_duration_seconds","l":["a","b"],"h":[[1,2],3,3]},
            {"m":"sessions_created_total","l":[],"c":5}]}"#;
        let s = Snapshot::decode(raw).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s.counter(&SESSIONS_CREATED_TOTAL, &[]), 5);
        assert!(Snapshot::decode(b"{\"v\":2}").is_err());
        assert!(Snapshot::decode(b"garbage").is_err());
    }

    #[test]
    fn wrong_label_counts_are_ignored() {
        let mut r = Recorder::new();
        // Only in release: debug builds assert.
        if !cfg!(debug_assertions) {
            r.inc(&TOOL_CALLS_TOTAL, &["only-one"], 1);
        }
        assert!(r.is_empty());
    }
}
