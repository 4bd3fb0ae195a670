//! The text exposition formats: Prometheus 0.0.4 and OpenMetrics 1.0.

use super::catalog::{self, Kind, MetricDef, PREFIX};
use super::snapshot::{SeriesValue, Snapshot};
use super::RenderContext;
use std::fmt::Write;

pub const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
pub const OPENMETRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Prometheus,
    OpenMetrics,
}

/// Label values: backslash, double quote and line feed escaped.
fn escape_label(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// HELP text: backslash and line feed escaped.
fn escape_help(value: &str) -> String {
    value.replace('\\', "\\\\").replace('\n', "\\n")
}

fn float(value: f64) -> String {
    if value.is_infinite() {
        if value > 0.0 { "+Inf".into() } else { "-Inf".into() }
    } else if value.is_nan() {
        "NaN".into()
    } else {
        format!("{value}")
    }
}

fn labels(out: &mut String, names: &[&str], values: &[String], le: Option<&str>) {
    if names.is_empty() && le.is_none() {
        return;
    }
    out.push('{');
    let mut first = true;
    for (name, value) in names.iter().zip(values) {
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str(name);
        out.push_str("=\"");
        escape_label(out, value);
        out.push('"');
    }
    if let Some(le) = le {
        if !first {
            out.push(',');
        }
        out.push_str("le=\"");
        out.push_str(le);
        out.push('"');
    }
    out.push('}');
}

fn family(out: &mut String, metric: &MetricDef, snapshot: &Snapshot, format: Format) {
    let name = metric.full_name();
    // OpenMetrics names a counter family without `_total`.
    let family_name = match (format, metric.kind) {
        (Format::OpenMetrics, Kind::Counter) => name.trim_end_matches("_total").to_string(),
        _ => name.clone(),
    };
    let _ = writeln!(out, "# HELP {family_name} {}", escape_help(metric.help));
    let _ = writeln!(out, "# TYPE {family_name} {}", metric.kind.as_str());
    if format == Format::OpenMetrics {
        match metric.unit {
            catalog::Unit::Seconds => {
                let _ = writeln!(out, "# UNIT {family_name} seconds");
            }
            catalog::Unit::Bytes => {
                let _ = writeln!(out, "# UNIT {family_name} bytes");
            }
            catalog::Unit::None => {}
        }
    }
    let mut any = false;
    for (values, value) in snapshot.series(metric) {
        any = true;
        match value {
            SeriesValue::Counter(c) => {
                out.push_str(&name);
                labels(out, metric.labels, values, None);
                let _ = writeln!(out, " {c}");
            }
            SeriesValue::Gauge(g) => {
                out.push_str(&name);
                labels(out, metric.labels, values, None);
                let _ = writeln!(out, " {g}");
            }
            SeriesValue::Histogram(h) => {
                let mut cumulative = 0u64;
                for (i, count) in h.buckets.iter().enumerate() {
                    cumulative += count;
                    let le = metric.buckets.get(i).map(|b| float(*b)).unwrap_or_else(|| "+Inf".into());
                    out.push_str(&name);
                    out.push_str("_bucket");
                    labels(out, metric.labels, values, Some(&le));
                    let _ = writeln!(out, " {cumulative}");
                }
                out.push_str(&name);
                out.push_str("_sum");
                labels(out, metric.labels, values, None);
                let _ = writeln!(out, " {}", float(h.sum()));
                out.push_str(&name);
                out.push_str("_count");
                labels(out, metric.labels, values, None);
                let _ = writeln!(out, " {}", h.count);
            }
        }
    }
    // A family without labels always has its one sample.
    if !any && metric.labels.is_empty() && metric.kind != Kind::Histogram {
        let _ = writeln!(out, "{name} 0");
    }
}

fn render(snapshot: &Snapshot, context: &RenderContext, format: Format) -> String {
    let mut snapshot = snapshot.clone();
    snapshot.set_gauge(&catalog::BUILD_INFO, &[context.version.as_str()], 1);
    let mut out = String::with_capacity(256 + snapshot.len() * 160);
    for metric in catalog::all() {
        family(&mut out, metric, &snapshot, format);
    }
    if format == Format::OpenMetrics {
        out.push_str("# EOF\n");
    }
    debug_assert!(out.lines().all(|l| l.starts_with('#') || l.starts_with(PREFIX)));
    out
}

/// Prometheus text format 0.0.4.
pub fn render_prometheus(snapshot: &Snapshot, context: &RenderContext) -> String {
    render(snapshot, context, Format::Prometheus)
}

/// OpenMetrics 1.0 text (no `_created` samples).
pub fn render_openmetrics(snapshot: &Snapshot, context: &RenderContext) -> String {
    render(snapshot, context, Format::OpenMetrics)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::catalog::*;
    use crate::metrics::{Limits, Recorder};

    fn small() -> Snapshot {
        let mut r = Recorder::new();
        r.inc(&REJECTED_TOTAL, &["payload"], 3);
        r.gauge_add(&SESSIONS_ACTIVE, &[], 2);
        r.observe(&HTTP_REQUEST_DURATION_SECONDS, &["/mcp", "POST"], 0.003);
        r.observe(&HTTP_REQUEST_DURATION_SECONDS, &["/mcp", "POST"], 0.2);
        let mut s = Snapshot::new();
        s.apply(&r, &Limits::default());
        s
    }

    fn ctx() -> RenderContext {
        RenderContext { version: "1.2.3".into() }
    }

    fn block<'a>(text: &'a str, family: &str) -> Vec<&'a str> {
        text.lines().filter(|l| l.contains(family)).collect()
    }

    #[test]
    fn prometheus_text_matches_hand_checked_output() {
        let text = render_prometheus(&small(), &ctx());
        assert_eq!(
            block(&text, "spinscope_rejected_total"),
            [
                "# HELP spinscope_rejected_total Requests rejected before doing work, by reason (unauthorized, payload, concurrency, rate_limit).",
                "# TYPE spinscope_rejected_total counter",
                "spinscope_rejected_total{reason=\"payload\"} 3",
            ]
        );
        assert_eq!(
            block(&text, "spinscope_sessions_active"),
            [
                "# HELP spinscope_sessions_active MCP sessions created and not yet ended or found expired.",
                "# TYPE spinscope_sessions_active gauge",
                "spinscope_sessions_active 2",
            ]
        );
        assert_eq!(
            block(&text, "spinscope_http_request_duration_seconds"),
            [
                "# HELP spinscope_http_request_duration_seconds Time to answer an HTTP request, in seconds.",
                "# TYPE spinscope_http_request_duration_seconds histogram",
                "spinscope_http_request_duration_seconds_bucket{route=\"/mcp\",method=\"POST\",le=\"0.005\"} 1",
                "spinscope_http_request_duration_seconds_bucket{route=\"/mcp\",method=\"POST\",le=\"0.01\"} 1",
                "spinscope_http_request_duration_seconds_bucket{route=\"/mcp\",method=\"POST\",le=\"0.025\"} 1",
                "spinscope_http_request_duration_seconds_bucket{route=\"/mcp\",method=\"POST\",le=\"0.05\"} 1",
                "spinscope_http_request_duration_seconds_bucket{route=\"/mcp\",method=\"POST\",le=\"0.1\"} 1",
                "spinscope_http_request_duration_seconds_bucket{route=\"/mcp\",method=\"POST\",le=\"0.25\"} 2",
                "spinscope_http_request_duration_seconds_bucket{route=\"/mcp\",method=\"POST\",le=\"0.5\"} 2",
                "spinscope_http_request_duration_seconds_bucket{route=\"/mcp\",method=\"POST\",le=\"1\"} 2",
                "spinscope_http_request_duration_seconds_bucket{route=\"/mcp\",method=\"POST\",le=\"2.5\"} 2",
                "spinscope_http_request_duration_seconds_bucket{route=\"/mcp\",method=\"POST\",le=\"5\"} 2",
                "spinscope_http_request_duration_seconds_bucket{route=\"/mcp\",method=\"POST\",le=\"10\"} 2",
                "spinscope_http_request_duration_seconds_bucket{route=\"/mcp\",method=\"POST\",le=\"+Inf\"} 2",
                "spinscope_http_request_duration_seconds_sum{route=\"/mcp\",method=\"POST\"} 0.203",
                "spinscope_http_request_duration_seconds_count{route=\"/mcp\",method=\"POST\"} 2",
            ]
        );
        assert!(text.contains("spinscope_build_info{version=\"1.2.3\"} 1\n"));
        assert!(text.contains("spinscope_sessions_created_total 0\n"));
        assert!(text.contains("# TYPE spinscope_tool_calls_total counter\n"));
    }

    #[test]
    fn openmetrics_names_counter_families_without_total_and_ends_with_eof() {
        let text = render_openmetrics(&small(), &ctx());
        assert!(text.contains("# TYPE spinscope_rejected counter\nspinscope_rejected_total{reason=\"payload\"} 3\n"), "{text}");
        assert!(text.contains("# UNIT spinscope_http_request_duration_seconds seconds\n"));
        assert!(text.ends_with("# EOF\n"));
        assert!(!text.lines().any(|l| l.split(['{', ' ']).next().unwrap().ends_with("_created")));
    }

    #[test]
    fn hostile_label_values_are_escaped() {
        let mut r = Recorder::new();
        r.inc(&TOOL_CALLS_TOTAL, &["a\"b\\c\nd", "ünï", "success"], 1);
        let mut s = Snapshot::new();
        s.apply(&r, &Limits::default());
        let text = render_prometheus(&s, &ctx());
        assert!(text.contains(r#"spinscope_tool_calls_total{tool="a\"b\\c\nd",component="ünï",outcome="success"} 1"#), "{text}");
    }
}
