use super::declare::{declarations, Declaration};
use super::families::families;
use super::report::take;
use super::*;
use crate::mcp::Tool;
use crate::metrics::catalog::{self, PREFIX, TOOL_METRICS, TOOL_METRIC_REPORTS_DROPPED_TOTAL};
use crate::metrics::{
    render_json, render_openmetrics, render_prometheus, Limits, Recorder, RenderContext, SeriesValue, Snapshot,
};
use serde_json::{json, Value};
use spinscope_testkit::exposition::{parse, parse_openmetrics};

/// The example of docs/tools.md: one counter, one histogram.
fn declared_tool() -> Tool {
    serde_json::from_value(json!({
        "name": "parse_records",
        "inputSchema": { "type": "object" },
        "_meta": { META_KEY: [
            { "name": "records_processed_total", "type": "counter", "help": "Records processed.", "labels": ["format"] },
            { "name": "record_size_bytes", "type": "histogram", "help": "Record sizes.", "labels": ["format"],
              "buckets": [64, 1024, 65536] }
        ] }
    }))
    .unwrap()
}

fn declared() -> Vec<Declaration> {
    let (declared, problems) = declarations(&declared_tool());
    assert!(problems.is_empty(), "{problems:?}");
    declared
}

fn result_with(reports: Value) -> Value {
    json!({ "content": [{ "type": "text", "text": "ok" }], "_meta": { META_KEY: reports } })
}

/// A snapshot of `calls` results of `parse_records` on `faults`.
fn recorded(results: &mut [Value]) -> Snapshot {
    let tool = declared_tool();
    let mut r = Recorder::new();
    for result in results {
        let reports = take(result, &tool, 64);
        r.tool_metrics("faults", "parse_records", &reports, ["faults"]);
    }
    let mut s = Snapshot::new();
    s.apply(&r, &Limits::default());
    s
}

fn context() -> RenderContext {
    let tool_metrics = declared().into_iter().map(|d| ("faults".to_string(), d)).collect();
    RenderContext { tool_metrics, ..RenderContext::default() }
}

#[test]
fn series_keys_read_back_whatever_the_label_values() {
    let labels = [("format", "a b&c=d%é\"\n"), ("k", "")];
    let key = series_key("m_total", "value", &labels);
    assert_eq!(key.matches(' ').count(), 2, "{key}");
    let (metric, part, back) = parse_series_key(&key).unwrap();
    assert_eq!((metric, part), ("m_total", "value"));
    assert_eq!(back, labels.map(|(n, v)| (n.to_string(), v.to_string())));
    assert_eq!(parse_series_key("m_total sum"), Some(("m_total", "sum", Vec::new())));
}

#[test]
fn the_export_prefix_cannot_meet_ours() {
    assert!(!PREFIX.starts_with(EXPORT_PREFIX) && !EXPORT_PREFIX.starts_with(PREFIX));
    assert!(catalog::all().iter().all(|m| !m.full_name().starts_with(EXPORT_PREFIX)));
}

#[test]
fn a_declaration_that_keeps_the_rules_is_read_whole() {
    let d = declared();
    assert_eq!(d.len(), 2);
    assert_eq!(
        (d[0].name.as_str(), d[0].kind, d[0].labels.as_slice()),
        ("records_processed_total", ToolKind::Counter, &["format".to_string()][..])
    );
    assert_eq!((d[1].kind, d[1].buckets.as_slice()), (ToolKind::Histogram, &[64.0, 1024.0, 65536.0][..]));
    let plain: Tool = serde_json::from_value(json!({ "name": "t", "inputSchema": {} })).unwrap();
    assert_eq!(declarations(&plain), (Vec::new(), Vec::new()));
}

#[test]
fn each_broken_declaration_is_ignored_and_said_why() {
    let bad = [
        json!({ "type": "counter", "help": "no name" }),
        json!({ "name": "Records_total", "type": "counter" }),
        json!({ "name": "records", "type": "counter" }),
        json!({ "name": "size_total", "type": "histogram", "buckets": [1] }),
        json!({ "name": "size_count", "type": "histogram", "buckets": [1] }),
        json!({ "name": "size", "type": "gauge" }),
        json!({ "name": "size", "type": "histogram" }),
        json!({ "name": "size", "type": "histogram", "buckets": [] }),
        json!({ "name": "size", "type": "histogram", "buckets": [2, 1] }),
        json!({ "name": "size", "type": "histogram", "buckets": [1, "x"] }),
        json!({ "name": "a_total", "type": "counter", "buckets": [1] }),
        json!({ "name": "a_total", "type": "counter", "labels": ["component"] }),
        json!({ "name": "a_total", "type": "counter", "labels": ["le"] }),
        json!({ "name": "a_total", "type": "counter", "labels": ["x", "x"] }),
        json!({ "name": "a_total", "type": "counter", "labels": ["Bad"] }),
        json!({ "name": "a_total", "type": "counter", "labels": "x" }),
        json!({ "name": "a_total", "type": "counter", "help": "two\nlines" }),
        json!({ "name": "a_total", "type": "counter", "labels": ["a","b","c","d","e","f","g","h","i"] }),
    ];
    for item in bad {
        let tool: Tool =
            serde_json::from_value(json!({ "name": "t", "inputSchema": {}, "_meta": { META_KEY: [item.clone(), { "name": "ok_total", "type": "counter" }] } }))
                .unwrap();
        let (declared, problems) = declarations(&tool);
        assert_eq!(declared.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), ["ok_total"], "{item}");
        assert_eq!(problems.len(), 1, "{item}: {problems:?}");
    }
    let twice: Tool = serde_json::from_value(json!({ "name": "t", "inputSchema": {}, "_meta": { META_KEY: [
        { "name": "a_total", "type": "counter" }, { "name": "a_total", "type": "counter" }] } }))
    .unwrap();
    assert_eq!(declarations(&twice).0.len(), 1);
    let not_a_list: Tool =
        serde_json::from_value(json!({ "name": "t", "inputSchema": {}, "_meta": { META_KEY: {} } })).unwrap();
    assert_eq!(declarations(&not_a_list).1.len(), 1);
}

#[test]
fn reports_leave_the_result_and_good_ones_become_increments() {
    let mut result = result_with(json!([
        { "name": "records_processed_total", "value": 3, "labels": { "format": "csv" } },
        { "name": "record_size_bytes", "value": 512, "labels": { "format": "csv" } },
        { "name": "record_size_bytes", "value": 1e9, "labels": { "format": "csv" } },
    ]));
    let reports = take(&mut result, &declared_tool(), 64);
    assert!(result.get("_meta").is_none(), "our key is gone, and `_meta` with it when empty: {result}");
    assert!(reports.dropped.is_empty());
    let parts: Vec<(&str, u64)> = reports.increments.iter().map(|i| (i.series.as_str(), i.delta)).collect();
    assert_eq!(
        parts,
        [
            ("records_processed_total value format=csv", 3),
            ("record_size_bytes bucket:1024 format=csv", 1),
            ("record_size_bytes sum format=csv", 512_000_000),
            ("record_size_bytes bucket:+Inf format=csv", 1),
            ("record_size_bytes sum format=csv", 1_000_000_000_000_000),
        ]
    );
    // Another `_meta` key of the tool's stays.
    let mut result = json!({ "content": [], "_meta": { META_KEY: [], "other": 1 } });
    take(&mut result, &declared_tool(), 64);
    assert_eq!(result["_meta"], json!({ "other": 1 }));
}

#[test]
fn bad_reports_are_dropped_by_reason() {
    let mut result = result_with(json!([
        { "name": "not_declared_total", "value": 1 },
        { "value": 1 },
        "not an object",
        { "name": "records_processed_total", "value": -1, "labels": { "format": "csv" } },
        { "name": "records_processed_total", "value": 1.5, "labels": { "format": "csv" } },
        { "name": "records_processed_total", "value": "1", "labels": { "format": "csv" } },
        { "name": "records_processed_total", "labels": { "format": "csv" } },
        { "name": "records_processed_total", "value": 1 },
        { "name": "records_processed_total", "value": 1, "labels": { "format": "csv", "extra": "x" } },
        { "name": "records_processed_total", "value": 1, "labels": { "kind": "csv" } },
        { "name": "records_processed_total", "value": 1, "labels": { "format": 7 } },
        { "name": "records_processed_total", "value": 1, "labels": { "format": "x".repeat(MAX_VALUE_BYTES + 1) } },
        { "name": "record_size_bytes", "value": -0.5, "labels": { "format": "csv" } },
        { "name": "records_processed_total", "value": 2, "labels": { "format": "csv" } },
    ]));
    let reports = take(&mut result, &declared_tool(), 64);
    assert_eq!(reports.dropped, [(DropReason::Undeclared, 1), (DropReason::Malformed, 12)]);
    assert_eq!(reports.increments.len(), 1, "the one good report stands");
    let mut not_a_list = result_with(json!({ "name": "x" }));
    assert_eq!(take(&mut not_a_list, &declared_tool(), 64).dropped, [(DropReason::Malformed, 1)]);
}

#[test]
fn the_report_cap_and_the_off_switch() {
    let many: Vec<Value> = (0..5)
        .map(|_| json!({ "name": "records_processed_total", "value": 1, "labels": { "format": "csv" } }))
        .collect();
    let reports = take(&mut result_with(json!(many)), &declared_tool(), 3);
    assert_eq!((reports.increments.len(), reports.dropped.as_slice()), (3, &[(DropReason::TooMany, 2)][..]));
    let mut result = result_with(json!(many));
    assert_eq!(take(&mut result, &declared_tool(), 0), Default::default(), "off: nothing read, nothing counted");
    assert!(result.get("_meta").is_none(), "and still never shown to the client");
}

#[test]
fn recorded_reports_render_as_valid_families_in_every_format() {
    let mut results = [
        result_with(json!([
            { "name": "records_processed_total", "value": 3, "labels": { "format": "csv" } },
            { "name": "record_size_bytes", "value": 100, "labels": { "format": "csv" } },
        ])),
        result_with(json!([
            { "name": "records_processed_total", "value": 2, "labels": { "format": "json\"\n" } },
            { "name": "record_size_bytes", "value": 70000, "labels": { "format": "csv" } },
            { "name": "nope_total", "value": 1 },
        ])),
    ];
    let s = recorded(&mut results);
    assert_eq!(s.counter(&TOOL_METRIC_REPORTS_DROPPED_TOTAL, &["faults", "undeclared"]), 1);
    let text = render_prometheus(&s, &context());
    let parsed = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let sample = |name: &str, labels: &[(&str, &str)]| parsed.value(name, labels);
    let csv = [("component", "faults"), ("tool", "parse_records"), ("format", "csv")];
    assert_eq!(sample("tool_records_processed_total", &csv), Some(3.0));
    assert_eq!(
        sample(
            "tool_records_processed_total",
            &[("component", "faults"), ("tool", "parse_records"), ("format", "json\"\n")]
        ),
        Some(2.0)
    );
    let bucket = |le: &str| {
        let mut labels = csv.to_vec();
        labels.push(("le", le));
        sample("tool_record_size_bytes_bucket", &labels)
    };
    assert_eq!(
        (bucket("64"), bucket("1024"), bucket("65536"), bucket("+Inf")),
        (Some(0.0), Some(1.0), Some(1.0), Some(2.0))
    );
    assert_eq!(sample("tool_record_size_bytes_sum", &csv), Some(70100.0));
    assert_eq!(sample("tool_record_size_bytes_count", &csv), Some(2.0));
    assert!(text.contains("# HELP tool_records_processed_total Records processed.\n"));
    assert!(!text.contains("spinscope_tool_metrics"), "the internal family is never rendered");
    let om = render_openmetrics(&s, &context());
    parse_openmetrics(&om).unwrap_or_else(|e| panic!("{e}\n{om}"));
    assert!(om.contains("# TYPE tool_records_processed counter\n"));
    let json = render_json(&s, &context());
    let series = json["series"].as_array().unwrap();
    let counter = series.iter().find(|s| s["name"] == "tool_records_processed_total").unwrap();
    assert_eq!(counter["labels"]["format"], "csv");
    let histogram = series.iter().find(|s| s["name"] == "tool_record_size_bytes").unwrap();
    assert_eq!((histogram["count"].clone(), histogram["buckets"]["+Inf"].clone()), (json!(2), json!(2)));
}

#[test]
fn undeclared_families_still_render_from_what_was_recorded() {
    let s = recorded(&mut [result_with(json!([
        { "name": "records_processed_total", "value": 1, "labels": { "format": "csv" } },
        { "name": "record_size_bytes", "value": 2000, "labels": { "format": "csv" } },
    ]))]);
    let found = families(&s, &[]);
    assert_eq!(found.len(), 2);
    let histogram = found.iter().find(|f| f.kind == ToolKind::Histogram).unwrap();
    assert_eq!(histogram.bounds, [65536.0], "only the buckets with counts");
    let text = render_prometheus(&s, &RenderContext::default());
    parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
}

#[test]
fn conflicting_or_tampered_series_are_left_out() {
    let mut r = Recorder::new();
    // The same name as a counter on one component and a histogram on another.
    r.inc(&TOOL_METRICS, &["a", "t", "x_total value"], 1);
    r.inc(&TOOL_METRICS, &["b", "t", "x_total bucket:1"], 1);
    // Series that the gateway never writes.
    r.inc(&TOOL_METRICS, &["a", "t", "y_total value le=1"], 1);
    r.inc(&TOOL_METRICS, &["a", "t", "y_total value k=1&k=2"], 1);
    r.inc(&TOOL_METRICS, &["a", "t", "y_total value no-equals"], 1);
    r.inc(&TOOL_METRICS, &["a", "t", "y_total value k=%FF"], 1);
    r.inc(&TOOL_METRICS, &["a", "t", "Bad value"], 1);
    r.inc(&TOOL_METRICS, &["a", "t", "alone"], 1);
    let mut s = Snapshot::new();
    s.apply(&r, &Limits::default());
    let found = families(&s, &[]);
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].name.as_str(), found[0].series.len()), ("tool_x_total", 1));
    assert!(matches!(found[0].series[0].value, SeriesValue::Counter(1)));
    parse(&render_prometheus(&s, &RenderContext::default())).unwrap();
}

#[test]
fn the_series_cap_bounds_every_tool_metric_at_once() {
    let tool = declared_tool();
    let mut r = Recorder::new();
    for i in 0..10 {
        let mut result = result_with(
            json!([{ "name": "records_processed_total", "value": 1, "labels": { "format": format!("f{i}") } }]),
        );
        r.tool_metrics("faults", "parse_records", &take(&mut result, &tool, 64), ["faults"]);
    }
    let mut s = Snapshot::new();
    s.apply(&r, &Limits { max_series_per_metric: 4, ..Limits::default() });
    assert_eq!(s.series(&TOOL_METRICS).count(), 4);
    assert_eq!(s.counter(&catalog::METRICS_SERIES_DROPPED_TOTAL, &["tool_metrics"]), 6);
}

#[test]
fn declarations_at_their_limits() {
    let tool = |metrics: Value| -> Tool {
        serde_json::from_value(json!({ "name": "t", "inputSchema": {}, "_meta": { META_KEY: metrics } })).unwrap()
    };
    let counters =
        |n: usize| Value::Array((0..n).map(|i| json!({ "name": format!("c{i}_total"), "type": "counter" })).collect());
    assert_eq!(declarations(&tool(counters(MAX_DECLARATIONS))).0.len(), MAX_DECLARATIONS);
    let (kept, problems) = declarations(&tool(counters(MAX_DECLARATIONS + 1)));
    assert_eq!((kept.len(), problems.len()), (MAX_DECLARATIONS, 1));
    let histogram = |buckets: usize, help: usize| {
        let b: Vec<usize> = (1..=buckets).collect();
        json!([{ "name": "h", "type": "histogram", "buckets": b, "help": "x".repeat(help) }])
    };
    assert_eq!(declarations(&tool(histogram(MAX_BUCKETS, MAX_HELP_BYTES))).0.len(), 1);
    assert!(declarations(&tool(histogram(MAX_BUCKETS + 1, 1))).0.is_empty());
    assert!(declarations(&tool(histogram(1, MAX_HELP_BYTES + 1))).0.is_empty());
    let labels = |n: usize| json!([{ "name": "a_total", "type": "counter", "labels": (0..n).map(|i| format!("l{i}")).collect::<Vec<_>>() }]);
    assert_eq!(declarations(&tool(labels(MAX_LABELS))).0.len(), 1);
    assert!(declarations(&tool(labels(MAX_LABELS + 1))).0.is_empty());
    let named = |len: usize| json!([{ "name": format!("{}_total", "n".repeat(len - 6)), "type": "counter" }]);
    assert_eq!(declarations(&tool(named(MAX_NAME_BYTES))).0.len(), 1);
    assert!(declarations(&tool(named(MAX_NAME_BYTES + 1))).0.is_empty());
}
