//! The JSON view (`/metrics?format=json`), in the spirit of the wasmrun
//! agent server's: totals by outcome, duration sum and count, rejections by
//! reason, sessions, in-flight, per-tool figures, then every series.
//!
//! ```json
//! {
//!   "version": "0.1.0",
//!   "tool_calls_total": {"success": 12, "error": 1, "timeout": 0, "circuit_open": 0},
//!   "tool_call_duration_seconds_sum": 4.2,
//!   "tool_call_duration_seconds_count": 13,
//!   "tools": {"word_count": {"component": "text-tools", "success": 12, "error": 0, "timeout": 0, "circuit_open": 0,
//!                            "duration_seconds_sum": 0.9, "count": 12}},
//!   "http_requests_total": 40,
//!   "mcp_requests_total": {"success": 38, "error": 2, "tool_error": 1},
//!   "rejected_total": {"missing_key": 0, "invalid_key": 0, "invalid_token": 0, "origin": 0, "insufficient_scope": 0, "payload": 1, "concurrency": 0, "rate_limit": 0, "sessions": 0},
//!   "sessions_active": 3,
//!   "sessions_created_total": 4,
//!   "in_flight_requests": 0,
//!   "output_truncated_total": 0,
//!   "metrics_record_failures_total": 0,
//!   "series": [{"name": "spinscope_tool_calls_total",
//!               "labels": {"tool": "word_count", "component": "text-tools", "outcome": "success"},
//!               "value": 12},
//!              {"name": "spinscope_tool_call_duration_seconds", "labels": {...},
//!               "buckets": {"0.01": 3, "...": 0, "+Inf": 12}, "sum": 0.9, "count": 12}]
//! }
//! ```
//!
//! The outcome and reason objects always hold the listed keys (0 when
//! unseen), plus any other value recorded. `tools` adds up every component
//! serving a tool (`component` names the first, in name order); its
//! `duration_seconds_sum` and `count` come from the duration histogram.
//! `series` lists every stored series in exposition order (not
//! `spinscope_build_info`, which is `version` here); gauges and counters have
//! `value`, histograms `buckets` (cumulative, keyed by `le` as in the text
//! format), `sum` (in the base unit) and `count`.

use super::catalog::{self, MetricDef};
use super::snapshot::{SeriesValue, Snapshot};
use super::tool_metrics::families::{families, ToolFamily, ToolSeries};
use super::RenderContext;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::{json, Map, Value};

/// The outcomes a tool call ends with.
const TOOL_OUTCOMES: [&str; 4] = ["success", "error", "timeout", "circuit_open"];

/// Counter totals of `metric` by the value of its label number `label`,
/// with every one of `keys` present.
fn by_label(snapshot: &Snapshot, metric: &MetricDef, label: usize, keys: &[&str]) -> Map<String, Value> {
    let mut totals: Vec<(String, u64)> = keys.iter().map(|k| (k.to_string(), 0)).collect();
    for (labels, value) in snapshot.series(metric) {
        let (Some(key), SeriesValue::Counter(c)) = (labels.get(label), value) else { continue };
        match totals.iter_mut().find(|(k, _)| k == key) {
            Some((_, total)) => *total = total.saturating_add(*c),
            None => totals.push((key.clone(), *c)),
        }
    }
    totals.into_iter().map(|(k, v)| (k, json!(v))).collect()
}

fn total(snapshot: &Snapshot, metric: &MetricDef) -> u64 {
    snapshot
        .series(metric)
        .map(|(_, v)| if let SeriesValue::Counter(c) = v { *c } else { 0 })
        .fold(0, u64::saturating_add)
}

#[derive(Default)]
struct ToolFigures<'a> {
    component: &'a str,
    outcomes: [u64; 4],
    sum_micros: i64,
    count: u64,
}

fn tools(snapshot: &Snapshot) -> (Map<String, Value>, i64, u64) {
    let mut tools: std::collections::BTreeMap<&str, ToolFigures<'_>> = Default::default();
    for (labels, value) in snapshot.series(&catalog::TOOL_CALLS_TOTAL) {
        let ([tool, component, outcome], SeriesValue::Counter(c)) = (labels, value) else { continue };
        let figures = tools
            .entry(tool.as_str())
            .or_insert_with(|| ToolFigures { component: component.as_str(), ..Default::default() });
        if let Some(i) = TOOL_OUTCOMES.iter().position(|o| o == outcome) {
            figures.outcomes[i] = figures.outcomes[i].saturating_add(*c);
        }
    }
    let (mut sum_micros, mut count) = (0i64, 0u64);
    for (labels, value) in snapshot.series(&catalog::TOOL_CALL_DURATION_SECONDS) {
        let ([tool, component], SeriesValue::Histogram(h)) = (labels, value) else { continue };
        sum_micros = sum_micros.saturating_add(h.sum_micros);
        count = count.saturating_add(h.count);
        let figures = tools
            .entry(tool.as_str())
            .or_insert_with(|| ToolFigures { component: component.as_str(), ..Default::default() });
        figures.sum_micros = figures.sum_micros.saturating_add(h.sum_micros);
        figures.count = figures.count.saturating_add(h.count);
    }
    let map = tools
        .into_iter()
        .map(|(tool, f)| {
            let [success, error, timeout, circuit_open] = f.outcomes;
            let value = json!({
                "component": f.component,
                "success": success,
                "error": error,
                "timeout": timeout,
                "circuit_open": circuit_open,
                "duration_seconds_sum": seconds(f.sum_micros),
                "count": f.count,
            });
            (tool.to_string(), value)
        })
        .collect();
    (map, sum_micros, count)
}

fn seconds(micros: i64) -> f64 {
    micros as f64 / 1e6
}

/// The summary members, in documented order (everything but `series`).
fn summary(snapshot: &Snapshot, context: &RenderContext) -> Vec<(&'static str, Value)> {
    let (tools, duration_micros, duration_count) = tools(snapshot);
    let reasons = crate::metrics::series::RejectReason::ALL.map(|r| r.as_str());
    vec![
        ("version", json!(context.version)),
        ("tool_calls_total", Value::Object(by_label(snapshot, &catalog::TOOL_CALLS_TOTAL, 2, &TOOL_OUTCOMES))),
        ("tool_call_duration_seconds_sum", json!(seconds(duration_micros))),
        ("tool_call_duration_seconds_count", json!(duration_count)),
        ("tools", Value::Object(tools)),
        ("http_requests_total", json!(total(snapshot, &catalog::HTTP_REQUESTS_TOTAL))),
        (
            "mcp_requests_total",
            Value::Object(by_label(snapshot, &catalog::MCP_REQUESTS_TOTAL, 2, &["success", "error", "tool_error"])),
        ),
        ("rejected_total", Value::Object(by_label(snapshot, &catalog::REJECTED_TOTAL, 0, &reasons))),
        ("sessions_active", json!(snapshot.gauge(&catalog::SESSIONS_ACTIVE, &[]))),
        ("sessions_created_total", json!(snapshot.counter(&catalog::SESSIONS_CREATED_TOTAL, &[]))),
        ("in_flight_requests", json!(snapshot.gauge(&catalog::IN_FLIGHT_REQUESTS, &[]))),
        ("output_truncated_total", json!(snapshot.counter(&catalog::OUTPUT_TRUNCATED_TOTAL, &[]))),
        ("metrics_record_failures_total", json!(snapshot.counter(&catalog::METRICS_RECORD_FAILURES_TOTAL, &[]))),
    ]
}

/// The `series` list, serialized straight from the snapshot: building a
/// `Value` per series and bucket costs several times more at 10,000 series.
struct SeriesList<'a>(&'a Snapshot, Vec<ToolFamily>);

/// One series of a tool's own family.
struct ToolItem<'a> {
    family: &'a ToolFamily,
    series: &'a ToolSeries,
    bounds: &'a [String],
}

struct SeriesItem<'a> {
    name: &'a str,
    metric: &'a MetricDef,
    labels: &'a [String],
    value: &'a SeriesValue,
    bounds: &'a [String],
}

struct LabelMap<'a>(&'a [&'a str], &'a [String]);

struct Buckets<'a>(&'a [String], &'a [u64]);

impl Serialize for SeriesList<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for metric in catalog::all() {
            let name = metric.full_name();
            let bounds: Vec<String> = metric.buckets.iter().map(|b| format!("{b}")).chain(["+Inf".into()]).collect();
            for (labels, value) in self.0.series(metric) {
                seq.serialize_element(&SeriesItem { name: &name, metric, labels, value, bounds: &bounds })?;
            }
        }
        for family in &self.1 {
            let bounds: Vec<String> = family.bounds.iter().map(|b| format!("{b}")).chain(["+Inf".into()]).collect();
            for series in &family.series {
                seq.serialize_element(&ToolItem { family, series, bounds: &bounds })?;
            }
        }
        seq.end()
    }
}

impl Serialize for ToolItem<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("name", &self.family.name)?;
        let labels: Map<String, Value> =
            self.series.labels.iter().map(|(n, v)| (n.clone(), Value::String(v.clone()))).collect();
        map.serialize_entry("labels", &labels)?;
        value_entries(&mut map, &self.series.value, self.bounds)?;
        map.end()
    }
}

/// A series' `value`, or its `buckets` (cumulative, by `le`), `sum` and `count`.
fn value_entries<M: SerializeMap>(map: &mut M, value: &SeriesValue, bounds: &[String]) -> Result<(), M::Error> {
    match value {
        SeriesValue::Counter(c) => map.serialize_entry("value", c),
        SeriesValue::Gauge(g) => map.serialize_entry("value", g),
        SeriesValue::Histogram(h) => {
            map.serialize_entry("buckets", &Buckets(bounds, &h.buckets))?;
            map.serialize_entry("sum", &h.sum())?;
            map.serialize_entry("count", &h.count)
        }
    }
}

impl Serialize for SeriesItem<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("name", self.name)?;
        map.serialize_entry("labels", &LabelMap(self.metric.labels, self.labels))?;
        value_entries(&mut map, self.value, self.bounds)?;
        map.end()
    }
}

impl Serialize for LabelMap<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in self.0.iter().zip(self.1) {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl Serialize for Buckets<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        let mut cumulative = 0u64;
        for (le, n) in self.0.iter().zip(self.1) {
            cumulative = cumulative.saturating_add(*n);
            map.serialize_entry(le, &cumulative)?;
        }
        map.end()
    }
}

struct View<'a> {
    summary: Vec<(&'static str, Value)>,
    series: SeriesList<'a>,
    extra: &'a Map<String, Value>,
}

impl Serialize for View<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (key, value) in &self.summary {
            map.serialize_entry(key, value)?;
        }
        for (key, value) in self.extra {
            map.serialize_entry(key, value)?;
        }
        map.serialize_entry("series", &self.series)?;
        map.end()
    }
}

/// The JSON view of a merged snapshot (schema in the module documentation)
/// as a `Value`, for callers that add members.
pub fn render_json(snapshot: &Snapshot, context: &RenderContext) -> Value {
    let view = View {
        summary: summary(snapshot, context),
        series: SeriesList(snapshot, families(snapshot, &context.tool_metrics)),
        extra: &Map::new(),
    };
    serde_json::to_value(&view).expect("the view serializes: string keys only")
}

/// The JSON view of a merged snapshot as text, members in documented
/// order, with `extra` members (such as the exporter's `sessions`) before
/// `series`. Several times faster than [`render_json`] on many series.
pub fn render_json_text(snapshot: &Snapshot, context: &RenderContext, extra: &Map<String, Value>) -> String {
    let view = View {
        summary: summary(snapshot, context),
        series: SeriesList(snapshot, families(snapshot, &context.tool_metrics)),
        extra,
    };
    serde_json::to_string(&view).expect("the view serializes: string keys only")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::catalog::*;
    use crate::metrics::{Limits, Recorder};

    #[test]
    fn json_matches_hand_checked_output() {
        let mut r = Recorder::new();
        r.inc(&TOOL_CALLS_TOTAL, &["wc", "text", "success"], 2);
        r.inc(&TOOL_CALLS_TOTAL, &["wc", "text", "timeout"], 1);
        r.observe(&TOOL_CALL_DURATION_SECONDS, &["wc", "text"], 0.5);
        r.observe(&TOOL_CALL_DURATION_SECONDS, &["wc", "text"], 0.25);
        r.inc(&REJECTED_TOTAL, &["payload"], 1);
        r.inc(&MCP_REQUESTS_TOTAL, &["tools/call", "2025-11-25", "success"], 3);
        r.inc(&HTTP_REQUESTS_TOTAL, &["/mcp", "POST", "200"], 3);
        r.inc(&HTTP_REQUESTS_TOTAL, &["/mcp", "GET", "405"], 1);
        r.gauge_add(&SESSIONS_ACTIVE, &[], 1);
        let mut s = Snapshot::new();
        s.apply(&r, &Limits::default());
        s.set_gauge(&IN_FLIGHT_REQUESTS, &[], 2);
        let j = render_json(&s, &RenderContext { version: "9".into(), ..RenderContext::default() });
        let expected = json!({
            "version": "9",
            "tool_calls_total": {"success": 2, "error": 0, "timeout": 1, "circuit_open": 0},
            "tool_call_duration_seconds_sum": 0.75,
            "tool_call_duration_seconds_count": 2,
            "tools": {"wc": {"component": "text", "success": 2, "error": 0, "timeout": 1, "circuit_open": 0,
                             "duration_seconds_sum": 0.75, "count": 2}},
            "http_requests_total": 4,
            "mcp_requests_total": {"success": 3, "error": 0, "tool_error": 0},
            "rejected_total": {"missing_key": 0, "invalid_key": 0, "invalid_token": 0, "origin": 0, "insufficient_scope": 0, "payload": 1, "concurrency": 0, "rate_limit": 0, "sessions": 0},
            "sessions_active": 1,
            "sessions_created_total": 0,
            "in_flight_requests": 2,
            "output_truncated_total": 0,
            "metrics_record_failures_total": 0,
            "series": [
                {"name": "spinscope_http_requests_total", "labels": {"route": "/mcp", "method": "GET", "status": "405"}, "value": 1},
                {"name": "spinscope_http_requests_total", "labels": {"route": "/mcp", "method": "POST", "status": "200"}, "value": 3},
                {"name": "spinscope_mcp_requests_total", "labels": {"method": "tools/call", "mcp_protocol_version": "2025-11-25", "outcome": "success"}, "value": 3},
                {"name": "spinscope_tool_calls_total", "labels": {"tool": "wc", "component": "text", "outcome": "success"}, "value": 2},
                {"name": "spinscope_tool_calls_total", "labels": {"tool": "wc", "component": "text", "outcome": "timeout"}, "value": 1},
                {"name": "spinscope_tool_call_duration_seconds", "labels": {"tool": "wc", "component": "text"},
                 "buckets": {"0.01": 0, "0.02": 0, "0.05": 0, "0.1": 0, "0.2": 0, "0.5": 2, "1": 2, "2": 2, "5": 2,
                             "10": 2, "30": 2, "60": 2, "120": 2, "300": 2, "+Inf": 2},
                 "sum": 0.75, "count": 2},
                {"name": "spinscope_rejected_total", "labels": {"reason": "payload"}, "value": 1},
                {"name": "spinscope_in_flight_requests", "labels": {}, "value": 2},
                {"name": "spinscope_sessions_active", "labels": {}, "value": 1},
            ],
        });
        assert_eq!(j, expected, "{j:#}");
    }

    #[test]
    fn empty_and_odd_values() {
        let mut r = Recorder::new();
        r.inc(&REJECTED_TOTAL, &["\"odd\"\n"], 1);
        r.inc(&TOOL_CALLS_TOTAL, &["t", "c", "count"], 1);
        let mut s = Snapshot::new();
        s.apply(&r, &Limits::default());
        let j = render_json(&s, &RenderContext::default());
        assert_eq!(j["rejected_total"]["\"odd\"\n"], 1);
        assert_eq!(j["tool_calls_total"]["count"], 1);
        assert_eq!(j["tools"]["t"]["count"], 0, "an unknown outcome is not a per-tool figure");
        let empty = render_json(&Snapshot::new(), &RenderContext::default());
        assert_eq!(empty["tools"], json!({}));
        assert_eq!(empty["series"], json!([]));
        assert_eq!(empty["http_requests_total"], 0);
        // The text form is the same document, in documented order.
        let mut extra = Map::new();
        extra.insert("sessions".into(), json!([{"id": "a"}]));
        let text = render_json_text(&s, &RenderContext::default(), &extra);
        let mut with_extra = j.clone();
        with_extra["sessions"] = json!([{"id": "a"}]);
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), with_extra);
        assert!(text.starts_with("{\"version\":"));
        assert!(text.contains("}],\"series\":[{\"name\":\"spinscope_tool_calls_total\""), "{text}");
    }
}
