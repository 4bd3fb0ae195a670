//! The JSON view (`/metrics?format=json`), in the spirit of the wasmrun
//! agent server's: totals by outcome, duration sum and count, rejections by
//! reason, sessions, in-flight, per-tool figures, then every series.
//!
//! ```json
//! {
//!   "version": "0.1.0",
//!   "tool_calls_total": {"success": 12, "error": 1, "timeout": 0},
//!   "tool_call_duration_seconds_sum": 4.2,
//!   "tool_call_duration_seconds_count": 13,
//!   "tools": {"word_count": {"component": "text-tools", "success": 12, "error": 0, "timeout": 0,
//!                            "duration_seconds_sum": 0.9, "count": 12}},
//!   "http_requests_total": 40,
//!   "mcp_requests_total": {"success": 38, "error": 2},
//!   "rejected_total": {"unauthorized": 0, "payload": 1, "concurrency": 0, "rate_limit": 0},
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
//! Bucket counts in `series` are cumulative, as in the text formats.

use super::catalog::{self, MetricDef};
use super::snapshot::{SeriesValue, Snapshot};
use super::RenderContext;
use serde_json::{json, Map, Value};

fn by_label(snapshot: &Snapshot, metric: &MetricDef, label: usize, keys: &[&str]) -> Map<String, Value> {
    let mut out: Map<String, Value> = keys.iter().map(|k| (k.to_string(), json!(0))).collect();
    for (labels, value) in snapshot.series(metric) {
        if let SeriesValue::Counter(c) = value {
            let entry = out.entry(labels[label].clone()).or_insert(json!(0));
            *entry = json!(entry.as_u64().unwrap_or(0) + c);
        }
    }
    out
}

fn total(snapshot: &Snapshot, metric: &MetricDef) -> u64 {
    snapshot.series(metric).map(|(_, v)| if let SeriesValue::Counter(c) = v { *c } else { 0 }).sum()
}

pub fn render_json(snapshot: &Snapshot, context: &RenderContext) -> Value {
    let mut duration_sum = 0.0;
    let mut duration_count = 0;
    let mut tools: Map<String, Value> = Map::new();
    for (labels, value) in snapshot.series(&catalog::TOOL_CALLS_TOTAL) {
        if let SeriesValue::Counter(c) = value {
            let tool = tools.entry(labels[0].clone()).or_insert_with(|| {
                json!({"component": labels[1], "success": 0, "error": 0, "timeout": 0, "duration_seconds_sum": 0.0, "count": 0})
            });
            let slot = &mut tool[labels[2].as_str()];
            *slot = json!(slot.as_u64().unwrap_or(0) + c);
        }
    }
    for (labels, value) in snapshot.series(&catalog::TOOL_CALL_DURATION_SECONDS) {
        if let SeriesValue::Histogram(h) = value {
            duration_sum += h.sum();
            duration_count += h.count;
            if let Some(tool) = tools.get_mut(&labels[0]) {
                tool["duration_seconds_sum"] = json!(tool["duration_seconds_sum"].as_f64().unwrap_or(0.0) + h.sum());
                tool["count"] = json!(tool["count"].as_u64().unwrap_or(0) + h.count);
            }
        }
    }
    let series: Vec<Value> = catalog::all()
        .iter()
        .flat_map(|metric| {
            snapshot.series(metric).map(move |(labels, value)| {
                let labels: Map<String, Value> =
                    metric.labels.iter().zip(labels).map(|(k, v)| (k.to_string(), json!(v))).collect();
                let mut item = json!({"name": metric.full_name(), "labels": labels});
                match value {
                    SeriesValue::Counter(c) => item["value"] = json!(c),
                    SeriesValue::Gauge(g) => item["value"] = json!(g),
                    SeriesValue::Histogram(h) => {
                        let mut cumulative = 0;
                        let mut buckets = Map::new();
                        for (i, n) in h.buckets.iter().enumerate() {
                            cumulative += n;
                            let le = metric.buckets.get(i).map(|b| format!("{b}")).unwrap_or_else(|| "+Inf".into());
                            buckets.insert(le, json!(cumulative));
                        }
                        item["buckets"] = Value::Object(buckets);
                        item["sum"] = json!(h.sum());
                        item["count"] = json!(h.count);
                    }
                }
                item
            })
        })
        .collect();
    json!({
        "version": context.version,
        "tool_calls_total": by_label(snapshot, &catalog::TOOL_CALLS_TOTAL, 2, &["success", "error", "timeout"]),
        "tool_call_duration_seconds_sum": duration_sum,
        "tool_call_duration_seconds_count": duration_count,
        "tools": tools,
        "http_requests_total": total(snapshot, &catalog::HTTP_REQUESTS_TOTAL),
        "mcp_requests_total": by_label(snapshot, &catalog::MCP_REQUESTS_TOTAL, 1, &["success", "error"]),
        "rejected_total": by_label(snapshot, &catalog::REJECTED_TOTAL, 0, &["unauthorized", "payload", "concurrency", "rate_limit"]),
        "sessions_active": snapshot.gauge(&catalog::SESSIONS_ACTIVE, &[]),
        "sessions_created_total": snapshot.counter(&catalog::SESSIONS_CREATED_TOTAL, &[]),
        "in_flight_requests": snapshot.gauge(&catalog::IN_FLIGHT_REQUESTS, &[]),
        "output_truncated_total": snapshot.counter(&catalog::OUTPUT_TRUNCATED_TOTAL, &[]),
        "metrics_record_failures_total": snapshot.counter(&catalog::METRICS_RECORD_FAILURES_TOTAL, &[]),
        "series": series,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::catalog::*;
    use crate::metrics::{Limits, Recorder};

    #[test]
    fn json_totals_and_series() {
        let mut r = Recorder::new();
        r.inc(&TOOL_CALLS_TOTAL, &["wc", "text", "success"], 2);
        r.inc(&TOOL_CALLS_TOTAL, &["wc", "text", "timeout"], 1);
        r.observe(&TOOL_CALL_DURATION_SECONDS, &["wc", "text"], 0.5);
        r.inc(&REJECTED_TOTAL, &["payload"], 1);
        let mut s = Snapshot::new();
        s.apply(&r, &Limits::default());
        let j = render_json(&s, &RenderContext { version: "9".into() });
        assert_eq!(j["tool_calls_total"], json!({"success": 2, "error": 0, "timeout": 1}));
        assert_eq!(j["tools"]["wc"]["timeout"], 1);
        assert_eq!(j["tools"]["wc"]["count"], 1);
        assert_eq!(j["tool_call_duration_seconds_sum"], 0.5);
        assert_eq!(j["rejected_total"]["payload"], 1);
        assert_eq!(j["rejected_total"]["rate_limit"], 0);
        let hist = j["series"].as_array().unwrap().iter().find(|s| s["name"] == "spinscope_tool_call_duration_seconds").unwrap();
        assert_eq!(hist["buckets"]["0.5"], 1);
        assert_eq!(hist["buckets"]["+Inf"], 1);
    }
}
