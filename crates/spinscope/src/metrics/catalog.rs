//! The one place every metric is defined: name, type, help, labels,
//! buckets. The gateway records through these definitions and the exporter
//! renders from them; nothing else spells a metric name.

/// Common prefix of every exported metric name.
pub const PREFIX: &str = "spinscope_";

/// The metric type, as in Prometheus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up.
    Counter,
    /// Goes up and down (here: the sum of its deltas).
    Gauge,
    /// Observations counted in buckets, with their sum and count.
    Histogram,
}

impl Kind {
    /// The name in `# TYPE` lines.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// The base unit of a metric's values; the name ends with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A count, no unit.
    None,
    /// Seconds.
    Seconds,
    /// Bytes.
    Bytes,
}

impl Unit {
    /// The name in OpenMetrics `# UNIT` lines, if any.
    pub fn as_str(self) -> Option<&'static str> {
        match self {
            Unit::None => None,
            Unit::Seconds => Some("seconds"),
            Unit::Bytes => Some("bytes"),
        }
    }
}

/// One metric family.
#[derive(Debug, PartialEq)]
pub struct MetricDef {
    /// Name without [`PREFIX`]; counters end in `_total`.
    pub name: &'static str,
    /// Counter, gauge or histogram.
    pub kind: Kind,
    /// One line of help text.
    pub help: &'static str,
    /// Label names, in the order callers pass values.
    pub labels: &'static [&'static str],
    /// Upper bounds of the histogram buckets (without `+Inf`).
    pub buckets: &'static [f64],
    /// The unit, which the name ends with.
    pub unit: Unit,
}

impl MetricDef {
    /// The exported name, with [`PREFIX`].
    pub fn full_name(&self) -> String {
        format!("{PREFIX}{}", self.name)
    }
}

/// Prometheus' default latency buckets, in seconds.
pub const HTTP_DURATION_BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
/// Body sizes from 64 B to 4 MiB.
pub const SIZE_BUCKETS: &[f64] = &[64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0];
/// Per-request memory high-water marks: 1 MiB to 4 GiB (wasm32's limit), doubling.
pub const MEMORY_BUCKETS: &[f64] = &[
    1048576.0,
    2097152.0,
    4194304.0,
    8388608.0,
    16777216.0,
    33554432.0,
    67108864.0,
    134217728.0,
    268435456.0,
    536870912.0,
    1073741824.0,
    2147483648.0,
    4294967296.0,
];
/// The explicit bucket boundaries the OpenTelemetry MCP semantic
/// conventions recommend for `mcp.server.operation.duration` (semantic
/// conventions `docs/gen-ai/mcp.md`, "Metric: mcp.server.operation.duration").
pub const MCP_DURATION_BUCKETS: &[f64] =
    &[0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0];

macro_rules! metric {
    ($id:ident, $name:literal, $kind:ident, $unit:ident, $help:literal, [$($label:literal),*], $buckets:expr) => {
        #[doc = concat!("`spinscope_", $name, "`: ", $help)]
        pub static $id: MetricDef = MetricDef {
            name: $name,
            kind: Kind::$kind,
            help: $help,
            labels: &[$($label),*],
            buckets: $buckets,
            unit: Unit::$unit,
        };
    };
}

metric!(
    HTTP_REQUESTS_TOTAL,
    "http_requests_total",
    Counter,
    None,
    "HTTP requests served, by route, method and status code.",
    ["route", "method", "status"],
    &[]
);
metric!(
    HTTP_REQUEST_DURATION_SECONDS,
    "http_request_duration_seconds",
    Histogram,
    Seconds,
    "Time to answer an HTTP request, in seconds.",
    ["route", "method"],
    HTTP_DURATION_BUCKETS
);
metric!(
    HTTP_REQUEST_SIZE_BYTES,
    "http_request_size_bytes",
    Histogram,
    Bytes,
    "Size of HTTP request bodies, in bytes.",
    ["route", "method"],
    SIZE_BUCKETS
);
metric!(
    HTTP_RESPONSE_SIZE_BYTES,
    "http_response_size_bytes",
    Histogram,
    Bytes,
    "Size of HTTP response bodies, in bytes.",
    ["route", "method"],
    SIZE_BUCKETS
);
metric!(
    MCP_REQUESTS_TOTAL,
    "mcp_requests_total",
    Counter,
    None,
    "MCP messages handled, by JSON-RPC method, protocol revision and outcome (success, error or tool_error).",
    ["method", "mcp_protocol_version", "outcome"],
    &[]
);
metric!(
    MCP_SERVER_OPERATION_DURATION_SECONDS,
    "mcp_server_operation_duration_seconds",
    Histogram,
    Seconds,
    "Duration of MCP server operations (OpenTelemetry mcp.server.operation.duration), in seconds.",
    ["mcp_method_name", "gen_ai_tool_name", "mcp_protocol_version", "error_type"],
    MCP_DURATION_BUCKETS
);
metric!(
    TOOL_CALLS_TOTAL,
    "tool_calls_total",
    Counter,
    None,
    "Tool calls, by tool, component and outcome (success, error, timeout or circuit_open).",
    ["tool", "component", "outcome"],
    &[]
);
metric!(
    TOOL_CALL_DURATION_SECONDS,
    "tool_call_duration_seconds",
    Histogram,
    Seconds,
    "Duration of tool calls, in seconds.",
    ["tool", "component"],
    MCP_DURATION_BUCKETS
);
metric!(
    TOOL_EXECUTION_DURATION_SECONDS,
    "tool_execution_duration_seconds",
    Histogram,
    Seconds,
    "The tool's own execution time, as its component reports it (Server-Timing exec), in seconds.",
    ["tool", "component"],
    MCP_DURATION_BUCKETS
);
metric!(
    COMPONENT_MEMORY_BYTES,
    "component_memory_bytes",
    Histogram,
    Bytes,
    "Linear memory of a component's instance at the end of a request (its high-water mark), in bytes: the gateway's own, and each tool component's that reports it.",
    ["component"],
    MEMORY_BUCKETS
);
metric!(
    TOOL_DISCOVERY_FAILURES_TOTAL,
    "tool_discovery_failures_total",
    Counter,
    None,
    "Tool components that failed to list their tools.",
    ["component"],
    &[]
);
metric!(
    REJECTED_TOTAL,
    "rejected_total",
    Counter,
    None,
    "Requests rejected before doing work, by reason (unauthorized, payload, concurrency, rate_limit, sessions).",
    ["reason"],
    &[]
);
metric!(IN_FLIGHT_REQUESTS, "in_flight_requests", Gauge, None, "Gateway requests being handled right now.", [], &[]);
metric!(
    SESSIONS_ACTIVE,
    "sessions_active",
    Gauge,
    None,
    "MCP sessions created and not yet ended or found expired.",
    [],
    &[]
);
metric!(SESSIONS_CREATED_TOTAL, "sessions_created_total", Counter, None, "MCP sessions created.", [], &[]);
metric!(
    OUTPUT_TRUNCATED_TOTAL,
    "output_truncated_total",
    Counter,
    None,
    "Tool results whose output hit max_output_bytes and was truncated.",
    [],
    &[]
);
metric!(
    BUILD_INFO,
    "build_info",
    Gauge,
    None,
    "Always 1; the version label tells which spinscope is running.",
    ["version"],
    &[]
);
metric!(
    METRICS_SERIES_DROPPED_TOTAL,
    "metrics_series_dropped_total",
    Counter,
    None,
    "New series refused by the per-metric series cap, by metric.",
    ["metric"],
    &[]
);
metric!(
    METRICS_RECORD_FAILURES_TOTAL,
    "metrics_record_failures_total",
    Counter,
    None,
    "Requests whose metrics could not be written to the store.",
    [],
    &[]
);

metric!(
    TRACE_EXPORT_FAILURES_TOTAL,
    "trace_export_failures_total",
    Counter,
    None,
    "Span batches the OTLP collector did not accept (down, refused, or an error status).",
    [],
    &[]
);

metric!(
    CIRCUIT_BREAKER_STATE,
    "circuit_breaker_state",
    Gauge,
    None,
    "Circuit breaker of each tool component: 0 closed, 1 open, 2 half-open (read from the store at each scrape).",
    ["component"],
    &[]
);
metric!(
    CIRCUIT_BREAKER_TRANSITIONS_TOTAL,
    "circuit_breaker_transitions_total",
    Counter,
    None,
    "Circuit breaker transitions of each tool component, by the state entered (open or closed).",
    ["component", "to"],
    &[]
);

metric!(
    TOOL_COMPONENT_UP,
    "tool_component_up",
    Gauge,
    None,
    "Whether each tool component is up: it listed its tools at the last discovery and its circuit breaker is not open.",
    ["component"],
    &[]
);

metric!(
    TOOL_METRIC_REPORTS_DROPPED_TOTAL,
    "tool_metric_reports_dropped_total",
    Counter,
    None,
    "Tool metric reports dropped: undeclared, malformed, or too many in one result (docs/tools.md).",
    ["component", "reason"],
    &[]
);

metric!(
    TOOL_METRICS,
    "tool_metrics",
    Counter,
    None,
    "Internal: every tool's own metrics, rendered as the tool_* families they declare (metrics::tool_metrics).",
    ["component", "tool", "series"],
    &[]
);

metric!(
    AUTHORIZATION_DECISIONS_TOTAL,
    "authorization_decisions_total",
    Counter,
    None,
    "Tool calls the tool policy decided (tool_policy), by decision (allowed, denied) and tool.",
    ["decision", "tool"],
    &[]
);

metric!(
    AUDIT_EVENTS_TOTAL,
    "audit_events_total",
    Counter,
    None,
    "Audit events written, by kind (docs/audit.md).",
    ["kind"],
    &[]
);

metric!(
    AUDIT_EVENTS_DROPPED_TOTAL,
    "audit_events_dropped_total",
    Counter,
    None,
    "Audit events dropped by retention (audit_retention_events), oldest first; each drop is itself an event.",
    [],
    &[]
);

metric!(
    AUDIT_CHAIN_HEAD_SEQUENCE,
    "audit_chain_head_sequence",
    Gauge,
    None,
    "The sequence number of the last sealed audit event (0 before the first).",
    [],
    &[]
);

metric!(
    AUDIT_CHAIN_BROKEN_SEQUENCE,
    "audit_chain_broken_sequence",
    Gauge,
    None,
    "0 while the audit chain's checks find it intact; else the first broken sequence number a check (each scrape's, or /audit/verify) found, until /audit/verify passes again.",
    [],
    &[]
);

/// Families recorded and stored like the others but never rendered under
/// their own name (see [`super::tool_metrics`]).
static INTERNAL: [&MetricDef; 1] = [&TOOL_METRICS];

static ALL: [&MetricDef; 29] = [
    &HTTP_REQUESTS_TOTAL,
    &HTTP_REQUEST_DURATION_SECONDS,
    &HTTP_REQUEST_SIZE_BYTES,
    &HTTP_RESPONSE_SIZE_BYTES,
    &MCP_REQUESTS_TOTAL,
    &MCP_SERVER_OPERATION_DURATION_SECONDS,
    &TOOL_CALLS_TOTAL,
    &TOOL_CALL_DURATION_SECONDS,
    &TOOL_EXECUTION_DURATION_SECONDS,
    &COMPONENT_MEMORY_BYTES,
    &TOOL_DISCOVERY_FAILURES_TOTAL,
    &CIRCUIT_BREAKER_STATE,
    &CIRCUIT_BREAKER_TRANSITIONS_TOTAL,
    &TOOL_COMPONENT_UP,
    &TOOL_METRIC_REPORTS_DROPPED_TOTAL,
    &REJECTED_TOTAL,
    &IN_FLIGHT_REQUESTS,
    &SESSIONS_ACTIVE,
    &SESSIONS_CREATED_TOTAL,
    &OUTPUT_TRUNCATED_TOTAL,
    &BUILD_INFO,
    &METRICS_SERIES_DROPPED_TOTAL,
    &METRICS_RECORD_FAILURES_TOTAL,
    &TRACE_EXPORT_FAILURES_TOTAL,
    &AUTHORIZATION_DECISIONS_TOTAL,
    &AUDIT_EVENTS_TOTAL,
    &AUDIT_EVENTS_DROPPED_TOTAL,
    &AUDIT_CHAIN_HEAD_SEQUENCE,
    &AUDIT_CHAIN_BROKEN_SEQUENCE,
];

/// Every metric, in exposition order.
pub fn all() -> &'static [&'static MetricDef] {
    &ALL
}

/// A metric by its name without the prefix, internal ones included.
pub fn by_name(name: &str) -> Option<&'static MetricDef> {
    ALL.iter().chain(&INTERNAL).copied().find(|m| m.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_prometheus_conventions() {
        let mut seen = std::collections::HashSet::new();
        for m in all() {
            assert!(seen.insert(m.name), "{} defined twice", m.name);
            assert!(m.name.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{}", m.name);
            assert_eq!(m.kind == Kind::Counter, m.name.ends_with("_total"), "{}", m.name);
            match m.unit {
                Unit::Seconds => assert!(m.name.ends_with("_seconds")),
                Unit::Bytes => assert!(m.name.ends_with("_bytes")),
                Unit::None => {}
            }
            assert_eq!(m.kind == Kind::Histogram, !m.buckets.is_empty(), "{}", m.name);
            assert!(m.buckets.windows(2).all(|w| w[0] < w[1]), "{}", m.name);
            assert!(m.labels.iter().all(|l| *l != "le" && !l.starts_with("__")), "{}", m.name);
            assert!(!m.help.contains('\n'), "{}", m.name);
        }
        assert_eq!(by_name("tool_calls_total"), Some(&TOOL_CALLS_TOTAL));
        assert_eq!(by_name("spinscope_tool_calls_total"), None);
    }

    #[test]
    fn mcp_buckets_are_the_semantic_conventions_ones() {
        assert_eq!(
            MCP_DURATION_BUCKETS,
            [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0]
        );
        assert_eq!(MCP_SERVER_OPERATION_DURATION_SECONDS.buckets, MCP_DURATION_BUCKETS);
        assert_eq!(TOOL_CALL_DURATION_SECONDS.buckets, MCP_DURATION_BUCKETS);
    }
}

#[cfg(test)]
mod docs {
    /// The metric reference in docs/operations.md lists exactly the catalog.
    #[test]
    fn the_reference_matches_the_catalog() {
        let doc = include_str!("../../../../docs/operations.md");
        let listed: Vec<&str> =
            doc.lines().filter_map(|l| l.strip_prefix("| `spinscope_")).filter_map(|l| l.split('`').next()).collect();
        let catalog: Vec<&str> = super::all().iter().map(|m| m.name).collect();
        assert_eq!(listed, catalog, "docs/operations.md and the catalog disagree");
        for m in super::all() {
            let row = doc.lines().find(|l| l.starts_with(&format!("| `spinscope_{}`", m.name))).unwrap();
            assert!(row.contains(&format!("| {} |", m.kind.as_str())), "{row}");
            for label in m.labels {
                assert!(row.contains(&format!("`{label}`")), "{row} lacks {label}");
            }
        }
    }
}
