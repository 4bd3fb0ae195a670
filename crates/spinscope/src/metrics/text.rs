//! The text exposition formats: Prometheus 0.0.4 and OpenMetrics 1.0.
//!
//! Every catalog family is rendered, in catalog order, with its metadata even
//! when it has no series (a family without labels then shows one sample at
//! 0, so dashboards see a zero rather than no data); series are sorted by
//! label values. Everything goes into one `String` sized up front: label
//! values are escaped straight into it, and a histogram's label set is
//! escaped once per series, not once per bucket line.
//!
//! Hand-written rather than prometheus-client's encoder: the series come
//! from merged store records, not from live registry handles, and this
//! renders them straight from the snapshot in one pass.

use super::catalog::{self, Kind, MetricDef, PREFIX};
use super::snapshot::{Histogram, SeriesValue, Snapshot};
use super::tool_metrics::families::{families, ToolFamily};
use super::RenderContext;
use std::fmt::Write;

/// Content type of [`render_prometheus`].
pub const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
/// Content type of [`render_openmetrics`].
pub const OPENMETRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Prometheus,
    OpenMetrics,
}

/// Prometheus text format 0.0.4.
pub fn render_prometheus(snapshot: &Snapshot, context: &RenderContext) -> String {
    render(snapshot, context, Format::Prometheus)
}

/// OpenMetrics 1.0 text: counter families named without `_total` (their
/// samples keep it), `# UNIT` for seconds and bytes, canonical `le` values,
/// no `_created` samples, and a final `# EOF`.
pub fn render_openmetrics(snapshot: &Snapshot, context: &RenderContext) -> String {
    render(snapshot, context, Format::OpenMetrics)
}

fn render(snapshot: &Snapshot, context: &RenderContext, format: Format) -> String {
    // About 80 bytes per counter line; histograms have ~15 lines per series.
    let mut out = String::with_capacity(4096 + snapshot.len() * 640);
    let mut scratch = String::new();
    for metric in catalog::all() {
        family(&mut out, &mut scratch, metric, snapshot, context, format);
    }
    for tool_family in families(snapshot, &context.tool_metrics) {
        tool_metric_family(&mut out, &mut scratch, &tool_family, format);
    }
    if format == Format::OpenMetrics {
        out.push_str("# EOF\n");
    }
    out
}

/// Escapes a label value (Prometheus and OpenMetrics alike) or, with
/// `quote` false, Prometheus HELP text, which leaves `"` alone.
fn escape_into(out: &mut String, value: &str, quote: bool) {
    // Copy unescaped runs whole; most values have nothing to escape.
    let mut start = 0;
    for (i, c) in value.char_indices() {
        let escaped = match c {
            '\\' => "\\\\",
            '\n' => "\\n",
            '"' if quote => "\\\"",
            _ => continue,
        };
        out.push_str(&value[start..i]);
        out.push_str(escaped);
        start = i + 1;
    }
    out.push_str(&value[start..]);
}

/// A bucket bound as a label value. Prometheus takes any float; OpenMetrics
/// asks for its canonical rendering: Go's shortest `%g` (exponent form below
/// 1e-4 and from 1e6) with `.0` added when there is no point or exponent.
fn le_value(bound: f64, format: Format) -> String {
    if bound == f64::INFINITY {
        return "+Inf".into();
    }
    if format == Format::Prometheus {
        return format!("{bound}");
    }
    let scientific = format!("{bound:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if bound != 0.0 && !(-4..6).contains(&exponent) {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.unsigned_abs())
    } else {
        let mut plain = format!("{bound}");
        if !plain.contains('.') {
            plain.push_str(".0");
        }
        plain
    }
}

/// Writes `<prefix>name{labels,extra}` (braces only when there is a label).
fn sample_start(out: &mut String, prefix: &str, name: &str, suffix: &str, labels: &str, extra: Option<(&str, &str)>) {
    out.push_str(prefix);
    out.push_str(name);
    out.push_str(suffix);
    if labels.is_empty() && extra.is_none() {
        return;
    }
    out.push('{');
    out.push_str(labels);
    if let Some((name, value)) = extra {
        if !labels.is_empty() {
            out.push(',');
        }
        out.push_str(name);
        out.push_str("=\"");
        out.push_str(value);
        out.push('"');
    }
    out.push('}');
}

/// ` <value>\n` after a sample's name: integers written by hand, since
/// `fmt` is most of a render's time when there are thousands of bucket
/// lines.
fn value_line(out: &mut String, value: i128) {
    let mut digits = [0u8; 40];
    let mut at = digits.len();
    let mut rest = value.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.push(' ');
    if value < 0 {
        out.push('-');
    }
    out.push_str(std::str::from_utf8(&digits[at..]).expect("ASCII digits"));
    out.push('\n');
}

/// `a="x",b="y"` for one series, into `scratch`.
fn label_set(scratch: &mut String, names: &[&str], values: &[String]) {
    label_pairs(scratch, names.iter().copied().zip(values.iter().map(String::as_str)));
}

/// [`label_set`] from name and value pairs.
fn label_pairs<'a>(scratch: &mut String, pairs: impl Iterator<Item = (&'a str, &'a str)>) {
    scratch.clear();
    for (i, (name, value)) in pairs.enumerate() {
        if i > 0 {
            scratch.push(',');
        }
        scratch.push_str(name);
        scratch.push_str("=\"");
        escape_into(scratch, value, true);
        scratch.push('"');
    }
}

/// A family's `# HELP`, `# TYPE` (and OpenMetrics' `# UNIT`) lines.
struct Meta<'a> {
    prefix: &'a str,
    name: &'a str,
    kind: Kind,
    unit: Option<&'static str>,
    help: &'a str,
}

fn metadata(out: &mut String, meta: Meta, format: Format) {
    let Meta { prefix, name, kind, unit, help: text } = meta;
    let help = |out: &mut String, family: &str| {
        let _ = write!(out, "# HELP {prefix}{family} ");
        escape_into(out, text, format == Format::OpenMetrics);
        out.push('\n');
    };
    let type_name = kind.as_str();
    match format {
        Format::Prometheus => {
            help(out, name);
            let _ = writeln!(out, "# TYPE {prefix}{name} {type_name}");
        }
        Format::OpenMetrics => {
            // The family of a counter is named without `_total`; the
            // order TYPE, UNIT, HELP is the one the specification asks for.
            let family = match kind {
                Kind::Counter => name.strip_suffix("_total").unwrap_or(name),
                _ => name,
            };
            let _ = writeln!(out, "# TYPE {prefix}{family} {type_name}");
            if let Some(unit) = unit {
                let _ = writeln!(out, "# UNIT {prefix}{family} {unit}");
            }
            help(out, family);
        }
    }
}

fn histogram(out: &mut String, full: (&str, &str), labels: &str, le: &[String], h: &Histogram, format: Format) {
    let (prefix, name) = full;
    let mut cumulative = 0u64;
    for (bound, count) in le.iter().zip(&h.buckets) {
        cumulative = cumulative.saturating_add(*count);
        sample_start(out, prefix, name, "_bucket", labels, Some(("le", bound)));
        value_line(out, cumulative.into());
    }
    sample_start(out, prefix, name, "_sum", labels, None);
    let _ = write!(out, " {}", h.sum());
    // OpenMetrics wants floats to look like floats.
    if format == Format::OpenMetrics && h.sum_micros % 1_000_000 == 0 {
        out.push_str(".0");
    }
    out.push('\n');
    sample_start(out, prefix, name, "_count", labels, None);
    // Decoding guarantees the buckets add up to the count, so the +Inf
    // bucket above equals this.
    value_line(out, h.count.into());
}

fn family(
    out: &mut String,
    scratch: &mut String,
    metric: &'static MetricDef,
    snapshot: &Snapshot,
    context: &RenderContext,
    format: Format,
) {
    let meta =
        Meta { prefix: PREFIX, name: metric.name, kind: metric.kind, unit: metric.unit.as_str(), help: metric.help };
    metadata(out, meta, format);
    let name = metric.name;
    // Rendered from the context, never from the store.
    if std::ptr::eq(metric, &catalog::BUILD_INFO) {
        label_set(scratch, metric.labels, std::slice::from_ref(&context.version));
        sample_start(out, PREFIX, name, "", scratch, None);
        out.push_str(" 1\n");
        return;
    }
    let le: Vec<String> = if metric.kind == Kind::Histogram {
        metric.buckets.iter().chain([&f64::INFINITY]).map(|b| le_value(*b, format)).collect()
    } else {
        Vec::new()
    };
    let mut any = false;
    for (values, value) in snapshot.series(metric) {
        any = true;
        label_set(scratch, metric.labels, values);
        match value {
            SeriesValue::Counter(c) => {
                sample_start(out, PREFIX, name, "", scratch, None);
                value_line(out, (*c).into());
            }
            SeriesValue::Gauge(g) => {
                sample_start(out, PREFIX, name, "", scratch, None);
                value_line(out, (*g).into());
            }
            SeriesValue::Histogram(h) => histogram(out, (PREFIX, name), scratch, &le, h, format),
        }
    }
    // A family without labels always has its one series.
    if !any && metric.labels.is_empty() {
        match metric.kind {
            Kind::Counter | Kind::Gauge => {
                sample_start(out, PREFIX, name, "", "", None);
                out.push_str(" 0\n");
            }
            Kind::Histogram => {
                let zero = Histogram { buckets: vec![0; le.len()], sum_micros: 0, count: 0 };
                histogram(out, (PREFIX, name), "", &le, &zero, format);
            }
        }
    }
}

/// A tool's own family (see [`super::tool_metrics`]), after the catalog's.
fn tool_metric_family(out: &mut String, scratch: &mut String, family: &ToolFamily, format: Format) {
    let kind = family.kind.kind();
    metadata(out, Meta { prefix: "", name: &family.name, kind, unit: None, help: &family.help }, format);
    let le: Vec<String> = family.bounds.iter().chain([&f64::INFINITY]).map(|b| le_value(*b, format)).collect();
    for series in &family.series {
        label_pairs(scratch, series.labels.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        match &series.value {
            SeriesValue::Histogram(h) => histogram(out, ("", &family.name), scratch, &le, h, format),
            SeriesValue::Counter(c) => {
                sample_start(out, "", &family.name, "", scratch, None);
                value_line(out, (*c).into());
            }
            SeriesValue::Gauge(g) => {
                sample_start(out, "", &family.name, "", scratch, None);
                value_line(out, (*g).into());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::catalog::*;
    use crate::metrics::{Limits, Recorder};
    use spinscope_testkit::exposition::{parse, parse_openmetrics};

    /// A counter with labels, a gauge, and a histogram with 2 observations.
    fn small() -> Snapshot {
        let mut r = Recorder::new();
        r.inc(&REJECTED_TOTAL, &["payload"], 3);
        r.gauge_add(&SESSIONS_ACTIVE, &[], 2);
        r.observe(&HTTP_REQUEST_DURATION_SECONDS, &["/mcp", "POST"], 0.003);
        r.observe(&HTTP_REQUEST_DURATION_SECONDS, &["/mcp", "POST"], 0.2);
        r.observe(&HTTP_REQUEST_SIZE_BYTES, &["/mcp", "POST"], 2_000_000.0);
        let mut s = Snapshot::new();
        s.apply(&r, &Limits::default());
        s
    }

    fn ctx() -> RenderContext {
        RenderContext { version: "1.2.3".into(), ..RenderContext::default() }
    }

    /// The lines of one family: its metadata and samples.
    fn block<'a>(text: &'a str, family: &str) -> Vec<&'a str> {
        text.lines()
            .filter(|l| {
                let name = l.strip_prefix("# ").map_or(*l, |m| m.split(' ').nth(1).unwrap_or(""));
                let name = name.split(['{', ' ']).next().unwrap();
                name == family
                    || ["_total", "_bucket", "_sum", "_count"].iter().any(|s| name.strip_suffix(s) == Some(family))
            })
            .collect()
    }

    #[test]
    fn values_are_written_as_fmt_would() {
        for v in [0i128, 7, -7, 10, 1_000_000, u64::MAX.into(), i64::MIN.into(), i64::MAX.into()] {
            let mut out = String::from("x");
            value_line(&mut out, v);
            assert_eq!(out, format!("x {v}\n"));
        }
    }

    #[test]
    fn prometheus_text_matches_hand_checked_output() {
        let text = render_prometheus(&small(), &ctx());
        assert_eq!(
            block(&text, "spinscope_rejected_total"),
            [
                "# HELP spinscope_rejected_total Requests rejected before doing work, by reason (unauthorized, payload, concurrency, rate_limit, sessions).",
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
        assert_eq!(
            block(&text, "spinscope_http_request_size_bytes")[2..],
            [
                "spinscope_http_request_size_bytes_bucket{route=\"/mcp\",method=\"POST\",le=\"64\"} 0",
                "spinscope_http_request_size_bytes_bucket{route=\"/mcp\",method=\"POST\",le=\"256\"} 0",
                "spinscope_http_request_size_bytes_bucket{route=\"/mcp\",method=\"POST\",le=\"1024\"} 0",
                "spinscope_http_request_size_bytes_bucket{route=\"/mcp\",method=\"POST\",le=\"4096\"} 0",
                "spinscope_http_request_size_bytes_bucket{route=\"/mcp\",method=\"POST\",le=\"16384\"} 0",
                "spinscope_http_request_size_bytes_bucket{route=\"/mcp\",method=\"POST\",le=\"65536\"} 0",
                "spinscope_http_request_size_bytes_bucket{route=\"/mcp\",method=\"POST\",le=\"262144\"} 0",
                "spinscope_http_request_size_bytes_bucket{route=\"/mcp\",method=\"POST\",le=\"1048576\"} 0",
                "spinscope_http_request_size_bytes_bucket{route=\"/mcp\",method=\"POST\",le=\"4194304\"} 1",
                "spinscope_http_request_size_bytes_bucket{route=\"/mcp\",method=\"POST\",le=\"+Inf\"} 1",
                "spinscope_http_request_size_bytes_sum{route=\"/mcp\",method=\"POST\"} 2000000",
                "spinscope_http_request_size_bytes_count{route=\"/mcp\",method=\"POST\"} 1",
            ]
        );
        // Families without series: metadata only, or a 0 sample when unlabelled.
        assert_eq!(
            block(&text, "spinscope_tool_calls_total"),
            [
                "# HELP spinscope_tool_calls_total Tool calls, by tool, component and outcome (success, error, timeout or circuit_open).",
                "# TYPE spinscope_tool_calls_total counter",
            ]
        );
        assert!(
            text.contains("\n# TYPE spinscope_sessions_created_total counter\nspinscope_sessions_created_total 0\n")
        );
        assert!(text.contains("\n# TYPE spinscope_in_flight_requests gauge\nspinscope_in_flight_requests 0\n"));
        assert!(text.contains("\n# TYPE spinscope_build_info gauge\nspinscope_build_info{version=\"1.2.3\"} 1\n"));
        assert_eq!(text.matches("# TYPE ").count(), catalog::all().len());
        assert_eq!(text.matches("# HELP ").count(), catalog::all().len());
        assert!(text.starts_with("# HELP spinscope_http_requests_total ") && text.ends_with(" 0\n"));
        parse(&text).unwrap();
    }

    #[test]
    fn openmetrics_matches_hand_checked_output() {
        let text = render_openmetrics(&small(), &ctx());
        assert!(
            text.contains(concat!(
                "# TYPE spinscope_rejected counter\n",
                "# HELP spinscope_rejected Requests rejected before doing work, by reason (unauthorized, payload, concurrency, rate_limit, sessions).\n",
                "spinscope_rejected_total{reason=\"payload\"} 3\n",
                "# TYPE spinscope_in_flight_requests gauge\n",
            )),
            "{text}"
        );
        assert!(text.contains(concat!(
            "# TYPE spinscope_sessions_active gauge\n",
            "# HELP spinscope_sessions_active MCP sessions created and not yet ended or found expired.\n",
            "spinscope_sessions_active 2\n",
        )));
        assert_eq!(
            block(&text, "spinscope_http_request_size_bytes"),
            [
                "# TYPE spinscope_http_request_size_bytes histogram",
                "# UNIT spinscope_http_request_size_bytes bytes",
                "# HELP spinscope_http_request_size_bytes Size of HTTP request bodies, in bytes.",
                "spinscope_http_request_size_bytes_bucket{route=\"/mcp\",method=\"POST\",le=\"64.0\"} 0",
                "spinscope_http_request_size_bytes_bucket{route=\"/mcp\",method=\"POST\",le=\"256.0\"} 0",
                "spinscope_http_request_size_bytes_bucket{route=\"/mcp\",method=\"POST\",le=\"1024.0\"} 0",
                "spinscope_http_request_size_bytes_bucket{route=\"/mcp\",method=\"POST\",le=\"4096.0\"} 0",
                "spinscope_http_request_size_bytes_bucket{route=\"/mcp\",method=\"POST\",le=\"16384.0\"} 0",
                "spinscope_http_request_size_bytes_bucket{route=\"/mcp\",method=\"POST\",le=\"65536.0\"} 0",
                "spinscope_http_request_size_bytes_bucket{route=\"/mcp\",method=\"POST\",le=\"262144.0\"} 0",
                "spinscope_http_request_size_bytes_bucket{route=\"/mcp\",method=\"POST\",le=\"1.048576e+06\"} 0",
                "spinscope_http_request_size_bytes_bucket{route=\"/mcp\",method=\"POST\",le=\"4.194304e+06\"} 1",
                "spinscope_http_request_size_bytes_bucket{route=\"/mcp\",method=\"POST\",le=\"+Inf\"} 1",
                "spinscope_http_request_size_bytes_sum{route=\"/mcp\",method=\"POST\"} 2000000.0",
                "spinscope_http_request_size_bytes_count{route=\"/mcp\",method=\"POST\"} 1",
            ]
        );
        assert!(text.contains("le=\"0.005\"} 1\n"));
        assert!(text.contains("le=\"1.0\"} 2\n"));
        assert!(text.contains("_sum{route=\"/mcp\",method=\"POST\"} 0.203\n"));
        assert!(text.contains("\n# TYPE spinscope_sessions_created counter\n# HELP spinscope_sessions_created MCP sessions created.\nspinscope_sessions_created_total 0\n"));
        assert!(text.ends_with("spinscope_build_info{version=\"1.2.3\"} 1\n# TYPE spinscope_metrics_series_dropped counter\n# HELP spinscope_metrics_series_dropped New series refused by the per-metric series cap, by metric.\n# TYPE spinscope_metrics_record_failures counter\n# HELP spinscope_metrics_record_failures Requests whose metrics could not be written to the store.\nspinscope_metrics_record_failures_total 0\n# TYPE spinscope_trace_export_failures counter\n# HELP spinscope_trace_export_failures Span batches the OTLP collector did not accept (down, refused, or an error status).\nspinscope_trace_export_failures_total 0\n# TYPE spinscope_authorization_decisions counter\n# HELP spinscope_authorization_decisions Tool calls the tool policy decided (tool_policy), by decision (allowed, denied) and tool.\n# TYPE spinscope_audit_events counter\n# HELP spinscope_audit_events Audit events written, by kind (docs/audit.md).\n# TYPE spinscope_audit_events_dropped counter\n# HELP spinscope_audit_events_dropped Audit events dropped by retention (audit_retention_events), oldest first; each drop is itself an event.\nspinscope_audit_events_dropped_total 0\n# TYPE spinscope_audit_chain_head_sequence gauge\n# HELP spinscope_audit_chain_head_sequence The sequence number of the last sealed audit event (0 before the first).\nspinscope_audit_chain_head_sequence 0\n# TYPE spinscope_audit_chain_broken_sequence gauge\n# HELP spinscope_audit_chain_broken_sequence 0 while the audit chain's checks find it intact; else the first broken sequence number a check (each scrape's, or /audit/verify) found, until /audit/verify passes again.\nspinscope_audit_chain_broken_sequence 0\n# EOF\n"), "{text}");
        assert!(!text.lines().any(|l| l.split(['{', ' ']).next().unwrap().ends_with("_created")));
        parse_openmetrics(&text).unwrap();
    }

    #[test]
    fn canonical_openmetrics_numbers() {
        // The examples of the OpenMetrics 1.0 specification.
        let om = |v| le_value(v, Format::OpenMetrics);
        for (v, want) in [
            (0.0, "0.0"),
            (0.001, "0.001"),
            (0.95, "0.95"),
            (1.0, "1.0"),
            (1.7, "1.7"),
            (10.0, "10.0"),
            (1e-10, "1e-10"),
            (1e-9, "1e-09"),
            (1e-5, "1e-05"),
            (1e-4, "0.0001"),
            (100000.0, "100000.0"),
            (1e6, "1e+06"),
            (1e10, "1e+10"),
            (1.1e23, "1.1e+23"),
            (f64::INFINITY, "+Inf"),
        ] {
            assert_eq!(om(v), want, "{v}");
        }
        assert_eq!(le_value(1.0, Format::Prometheus), "1");
        assert_eq!(le_value(0.025, Format::Prometheus), "0.025");
    }

    #[test]
    fn hostile_label_values_are_escaped() {
        let mut r = Recorder::new();
        r.inc(&TOOL_CALLS_TOTAL, &["a\"b\\c\nd", "ünï", "success"], 1);
        r.inc(&TOOL_CALLS_TOTAL, &["\\n", "\"\"", "\r\t"], 1);
        let mut s = Snapshot::new();
        s.apply(&r, &Limits::default());
        let text = render_prometheus(&s, &RenderContext { version: "v\"1\n".into(), ..RenderContext::default() });
        assert!(
            text.contains(
                "spinscope_tool_calls_total{tool=\"a\\\"b\\\\c\\nd\",component=\"ünï\",outcome=\"success\"} 1\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("spinscope_tool_calls_total{tool=\"\\\\n\",component=\"\\\"\\\"\",outcome=\"\r\t\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("spinscope_build_info{version=\"v\\\"1\\n\"} 1\n"));
    }

    #[test]
    fn help_escaping_differs_between_the_formats() {
        let mut out = String::new();
        escape_into(&mut out, "say \"hi\"\\\nbye", false);
        assert_eq!(out, "say \"hi\"\\\\\\nbye");
        out.clear();
        escape_into(&mut out, "say \"hi\"\\\nbye", true);
        assert_eq!(out, "say \\\"hi\\\"\\\\\\nbye");
    }

    fn hostile() -> Vec<String> {
        let mut values: Vec<String> = [
            "quote\"d",
            "back\\slash",
            "trailing\\",
            "\\\"",
            "new\nline",
            "\n",
            "carriage\rreturn",
            "tab\there",
            "nul\0byte",
            "ünïcødé ✓ 🦀 日本",
            "{}=,",
            "} 1\nspinscope_fake 2",
            "",
            " ",
            "# HELP x",
            "le",
            "+Inf",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        values.push("x".repeat(10 * 1024));
        values.push("\"\\\n".repeat(3 * 1024));
        values
    }

    fn hostile_snapshot() -> Snapshot {
        let mut r = Recorder::new();
        for h in hostile() {
            r.inc(&TOOL_CALLS_TOTAL, &[&h, &h, "success"], 1);
            r.observe(&TOOL_CALL_DURATION_SECONDS, &[&h, &h], 0.3);
            r.observe(&MCP_SERVER_OPERATION_DURATION_SECONDS, &["tools/call", &h, "", ""], 0.3);
        }
        let mut s = Snapshot::new();
        s.apply(&r, &Limits::default());
        s
    }

    #[test]
    fn encoder_output_parses_with_hostile_labels() {
        let s = hostile_snapshot();
        let context = RenderContext { version: "9\"\n\\".into(), ..RenderContext::default() };
        for (text, parsed) in [
            (render_prometheus(&s, &context), parse(&render_prometheus(&s, &context))),
            (render_openmetrics(&s, &context), parse_openmetrics(&render_openmetrics(&s, &context))),
        ] {
            let parsed = parsed.unwrap_or_else(|e| panic!("{e}\n{text}"));
            for h in hostile() {
                let labels = [("tool", h.as_str()), ("component", h.as_str())];
                assert_eq!(parsed.value("spinscope_tool_calls_total", &labels), Some(1.0), "{h:?}");
                assert_eq!(parsed.value("spinscope_tool_call_duration_seconds_count", &labels), Some(1.0), "{h:?}");
                let mcp = [("gen_ai_tool_name", h.as_str()), ("error_type", "")];
                assert_eq!(parsed.value("spinscope_mcp_server_operation_duration_seconds_count", &mcp), Some(1.0));
            }
            assert_eq!(parsed.value("spinscope_build_info", &[("version", "9\"\n\\")]), Some(1.0));
            assert_eq!(parsed.value("spinscope_fake", &[]), None);
            assert_eq!(parsed.family("spinscope_tool_call_duration_seconds").unwrap().kind, "histogram");
            let help = parsed.family("spinscope_sessions_active").unwrap().help.as_deref();
            assert_eq!(help, Some(SESSIONS_ACTIVE.help));
            assert_eq!(parsed.families.len(), all().len());
        }
    }

    #[test]
    fn openmetrics_families_and_units() {
        let text = render_openmetrics(&hostile_snapshot(), &RenderContext::default());
        let parsed = parse_openmetrics(&text).unwrap();
        let calls = parsed.family("spinscope_tool_calls").unwrap();
        assert_eq!((calls.kind.as_str(), calls.samples[0].name.as_str()), ("counter", "spinscope_tool_calls_total"));
        let duration = parsed.family("spinscope_tool_call_duration_seconds").unwrap();
        assert_eq!(duration.unit.as_deref(), Some("seconds"));
        // 0.0.4 is not OpenMetrics (no `# EOF`).
        assert!(parse_openmetrics(&render_prometheus(&Snapshot::new(), &RenderContext::default())).is_err());
    }
}
