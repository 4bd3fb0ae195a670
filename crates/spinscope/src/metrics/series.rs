//! The typed way to record: one method per metric family of the
//! [`catalog`](super::catalog), its labels as named fields and enums, so a
//! label can be neither forgotten, misplaced nor misspelled. The label
//! values that come from clients are bounded here, once.

use super::catalog;
use super::recorder::Recorder;
use super::tool_metrics::report::Reports;
use super::{bounded, MCP_METHODS};
use crate::mcp::served_version;

/// How a tool call ended (`outcome` of `tool_calls_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolOutcome {
    /// The tool answered a result without `isError`.
    Success,
    /// The tool failed, answered `isError`, or could not be reached.
    Error,
    /// The tool did not answer within `tool_timeout_ms`.
    Timeout,
    /// Not called: its component's circuit breaker is open.
    CircuitOpen,
}

impl ToolOutcome {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            ToolOutcome::Success => "success",
            ToolOutcome::Error => "error",
            ToolOutcome::Timeout => "timeout",
            ToolOutcome::CircuitOpen => "circuit_open",
        }
    }
}

/// Why a request was refused before doing work (`reason` of `rejected_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectReason {
    /// No API key (401).
    MissingKey,
    /// An API key that matches no entry (401).
    InvalidKey,
    /// An `Origin` not in `allowed_origins` (403).
    Origin,
    /// An OAuth access token that does not validate (401).
    InvalidToken,
    /// A valid access token without a scope it needs (403).
    InsufficientScope,
    /// The body is over `max_request_bytes` (413).
    Payload,
    /// Over `max_concurrency` requests in flight (429).
    Concurrency,
    /// The tenant's rate limit is reached (429).
    RateLimit,
    /// The tenant holds `max_sessions_per_tenant` live sessions (429 to
    /// `initialize`).
    Sessions,
}

impl RejectReason {
    /// Every reason, in the order the JSON format lists them.
    pub const ALL: [RejectReason; 9] = [
        RejectReason::MissingKey,
        RejectReason::InvalidKey,
        RejectReason::InvalidToken,
        RejectReason::Origin,
        RejectReason::InsufficientScope,
        RejectReason::Payload,
        RejectReason::Concurrency,
        RejectReason::RateLimit,
        RejectReason::Sessions,
    ];

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::MissingKey => "missing_key",
            RejectReason::InvalidKey => "invalid_key",
            RejectReason::Origin => "origin",
            RejectReason::InvalidToken => "invalid_token",
            RejectReason::InsufficientScope => "insufficient_scope",
            RejectReason::Payload => "payload",
            RejectReason::Concurrency => "concurrency",
            RejectReason::RateLimit => "rate_limit",
            RejectReason::Sessions => "sessions",
        }
    }
}

impl RejectReason {
    /// The reasons of refusals before authentication: counted by sampling
    /// (`spinscope_spin::refusals`), never a store write each, and never an
    /// audit event each.
    pub const UNAUTHENTICATED: [RejectReason; 4] =
        [RejectReason::MissingKey, RejectReason::InvalidKey, RejectReason::InvalidToken, RejectReason::Origin];

    /// Whether the request was refused before its caller was authenticated.
    pub fn is_unauthenticated(self) -> bool {
        Self::UNAUTHENTICATED.contains(&self)
    }
}

/// The `error.type` of an MCP operation, as the OpenTelemetry MCP semantic
/// conventions define it: the JSON-RPC error code, or `tool_error` for a
/// `CallToolResult` with `isError`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    /// A JSON-RPC error response with this code.
    Rpc(i64),
    /// A tool call that failed; the JSON-RPC response itself succeeded.
    ToolError,
    /// A tool call refused because its component's breaker is open (a
    /// tool error too, told apart).
    CircuitOpen,
}

impl ErrorType {
    /// The label and attribute value.
    pub fn label(self) -> String {
        match self {
            ErrorType::Rpc(code) => code.to_string(),
            ErrorType::ToolError => "tool_error".to_string(),
            ErrorType::CircuitOpen => "circuit_open".to_string(),
        }
    }
}

/// An MCP method as the gateway names it everywhere (the `method` label,
/// the span name and `mcp.method.name`): one of [`MCP_METHODS`], else
/// `_other`.
pub(crate) fn mcp_method(method: &str) -> &str {
    bounded(method, MCP_METHODS.iter().copied())
}

/// The HTTP methods recorded as themselves; anything else is `_other`.
const HTTP_METHODS: [&str; 7] = ["GET", "POST", "DELETE", "HEAD", "OPTIONS", "PUT", "PATCH"];

/// One HTTP request served by a component.
#[derive(Debug, Clone, Copy)]
pub struct HttpRequest<'a> {
    /// The component's route, e.g. `/mcp`.
    pub route: &'a str,
    /// The request method, as sent (bounded to the common methods).
    pub method: &'a str,
    /// The response status.
    pub status: u16,
    /// From the first byte read to the response sent, in seconds.
    pub duration_s: f64,
    /// Request body size.
    pub request_bytes: usize,
    /// Response body size.
    pub response_bytes: usize,
}

/// One JSON-RPC message handled by the gateway.
#[derive(Debug, Clone, Copy)]
pub struct McpOperation<'a> {
    /// The method, as sent (bounded to the methods the gateway knows).
    pub method: &'a str,
    /// The tool of a `tools/call`, else empty.
    pub tool: &'a str,
    /// The request's protocol revision, when known (bounded to those served).
    pub protocol_version: Option<&'a str>,
    /// What went wrong, if anything.
    pub error: Option<ErrorType>,
    /// In seconds.
    pub duration_s: f64,
}

/// One tool invocation.
#[derive(Debug, Clone, Copy)]
pub struct ToolCall<'a> {
    /// The tool's name as its component lists it.
    pub tool: &'a str,
    /// The component that owns it.
    pub component: &'a str,
    /// How it ended.
    pub outcome: ToolOutcome,
    /// In seconds.
    pub duration_s: f64,
}

impl Recorder {
    /// `http_requests_total`, `http_request_duration_seconds` and the two size histograms.
    pub fn http_request(&mut self, r: HttpRequest<'_>) {
        let method = bounded(r.method, HTTP_METHODS);
        let status = r.status.to_string();
        self.inc(&catalog::HTTP_REQUESTS_TOTAL, &[r.route, method, &status], 1);
        self.observe(&catalog::HTTP_REQUEST_DURATION_SECONDS, &[r.route, method], r.duration_s);
        self.observe(&catalog::HTTP_REQUEST_SIZE_BYTES, &[r.route, method], r.request_bytes as f64);
        self.observe(&catalog::HTTP_RESPONSE_SIZE_BYTES, &[r.route, method], r.response_bytes as f64);
    }

    /// `mcp_requests_total` (a tool error is still a successful JSON-RPC
    /// exchange) and `mcp_server_operation_duration_seconds`.
    pub fn mcp_operation(&mut self, op: McpOperation<'_>) {
        let method = mcp_method(op.method);
        // The OpenTelemetry MCP conventions count every JSON-RPC error and a
        // tool's `isError` as a failed operation (error.type set), so both
        // families say the same: `outcome` is `error_type`'s class.
        let outcome = match op.error {
            None => "success",
            Some(ErrorType::ToolError | ErrorType::CircuitOpen) => "tool_error",
            Some(ErrorType::Rpc(_)) => "error",
        };
        let version = op.protocol_version.map(|v| served_version(v).unwrap_or(super::OTHER)).unwrap_or("");
        self.inc(&catalog::MCP_REQUESTS_TOTAL, &[method, version, outcome], 1);
        let error = op.error.map(ErrorType::label).unwrap_or_default();
        let labels = [method, op.tool, version, &error];
        self.observe(&catalog::MCP_SERVER_OPERATION_DURATION_SECONDS, &labels, op.duration_s);
    }

    /// `tool_calls_total` and `tool_call_duration_seconds`.
    pub fn tool_call(&mut self, call: ToolCall<'_>) {
        self.inc(&catalog::TOOL_CALLS_TOTAL, &[call.tool, call.component, call.outcome.as_str()], 1);
        self.observe(&catalog::TOOL_CALL_DURATION_SECONDS, &[call.tool, call.component], call.duration_s);
    }

    /// `tool_calls_total{outcome="error"}` of a call refused before the tool
    /// ran (its arguments failed the schema): a tool-level error like any
    /// other, with no duration, since nothing was invoked.
    pub fn tool_call_refused(&mut self, tool: &str, component: &str, outcome: ToolOutcome) {
        self.inc(&catalog::TOOL_CALLS_TOTAL, &[tool, component, outcome.as_str()], 1);
    }

    /// `circuit_breaker_transitions_total` of one component, bounded to `known`.
    pub fn breaker_transition<'a>(&mut self, component: &'a str, to: &str, known: impl IntoIterator<Item = &'a str>) {
        self.inc(&catalog::CIRCUIT_BREAKER_TRANSITIONS_TOTAL, &[bounded(component, known), to], 1);
    }

    /// `tool_execution_duration_seconds`: the tool's own time, as it said.
    pub fn tool_execution(&mut self, tool: &str, component: &str, seconds: f64) {
        self.observe(&catalog::TOOL_EXECUTION_DURATION_SECONDS, &[tool, component], seconds);
    }

    /// `component_memory_bytes` of one component, bounded to `known`.
    pub fn component_memory<'a>(&mut self, component: &'a str, bytes: u64, known: impl IntoIterator<Item = &'a str>) {
        self.observe(&catalog::COMPONENT_MEMORY_BYTES, &[bounded(component, known)], bytes as f64);
    }

    /// `tool_discovery_failures_total` of one component, bounded to `known`.
    pub fn discovery_failure<'a>(&mut self, component: &'a str, known: impl IntoIterator<Item = &'a str>) {
        self.inc(&catalog::TOOL_DISCOVERY_FAILURES_TOTAL, &[bounded(component, known)], 1);
    }

    /// A tool's own metrics, as one call result reported them (see
    /// [`super::tool_metrics`]), and `tool_metric_reports_dropped_total`
    /// for those dropped; `component` is bounded to `known`.
    pub fn tool_metrics<'a>(
        &mut self,
        component: &'a str,
        tool: &str,
        reports: &Reports,
        known: impl IntoIterator<Item = &'a str>,
    ) {
        let component = bounded(component, known);
        for i in &reports.increments {
            self.inc(&catalog::TOOL_METRICS, &[component, tool, &i.series], i.delta);
        }
        for (reason, n) in &reports.dropped {
            self.inc(&catalog::TOOL_METRIC_REPORTS_DROPPED_TOTAL, &[component, reason.as_str()], *n);
        }
    }

    /// `authorization_decisions_total` of one tool call.
    pub fn authorization_decision(&mut self, allowed: bool, tool: &str) {
        self.inc(&catalog::AUTHORIZATION_DECISIONS_TOTAL, &[if allowed { "allowed" } else { "denied" }, tool], 1);
    }

    /// `audit_events_total` of the events a request wrote.
    pub fn audit_events(&mut self, events: &[crate::audit::Event]) {
        for e in events {
            self.inc(&catalog::AUDIT_EVENTS_TOTAL, &[e.kind.as_str()], 1);
        }
    }

    /// `rejected_total`.
    pub fn rejected(&mut self, reason: RejectReason) {
        self.inc(&catalog::REJECTED_TOTAL, &[reason.as_str()], 1);
    }

    /// `sessions_created_total` up by `created`, `sessions_active` moved by `active_delta`.
    pub fn sessions(&mut self, created: u64, active_delta: i64) {
        self.inc(&catalog::SESSIONS_CREATED_TOTAL, &[], created);
        self.gauge_add(&catalog::SESSIONS_ACTIVE, &[], active_delta);
    }

    /// `output_truncated_total`.
    pub fn output_truncated(&mut self, count: u64) {
        self.inc(&catalog::OUTPUT_TRUNCATED_TOTAL, &[], count);
    }

    /// `trace_export_failures_total`.
    pub fn trace_export_failures(&mut self, count: u64) {
        self.inc(&catalog::TRACE_EXPORT_FAILURES_TOTAL, &[], count);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{Limits, Snapshot};

    #[test]
    fn typed_calls_land_in_their_series() {
        let mut r = Recorder::new();
        let http = HttpRequest {
            route: "/mcp",
            method: "BREW",
            status: 200,
            duration_s: 0.01,
            request_bytes: 10,
            response_bytes: 20,
        };
        r.http_request(http);
        r.mcp_operation(McpOperation {
            method: "tools/call",
            tool: "wc",
            protocol_version: Some("2026-07-28"),
            error: Some(ErrorType::ToolError),
            duration_s: 0.01,
        });
        r.mcp_operation(McpOperation {
            method: "nope/x",
            tool: "",
            protocol_version: Some("1900-01-01"),
            error: Some(ErrorType::Rpc(-32601)),
            duration_s: 0.01,
        });
        r.mcp_operation(McpOperation {
            method: "server/discover",
            tool: "",
            protocol_version: None,
            error: None,
            duration_s: 0.01,
        });
        r.tool_call(ToolCall { tool: "wc", component: "text", outcome: ToolOutcome::Timeout, duration_s: 1.0 });
        r.discovery_failure("evil\"name", ["text"]);
        r.rejected(RejectReason::RateLimit);
        r.sessions(1, -1);
        let mut s = Snapshot::new();
        s.apply(&r, &Limits::default());
        assert_eq!(s.counter(&catalog::HTTP_REQUESTS_TOTAL, &["/mcp", "_other", "200"]), 1);
        assert_eq!(
            s.counter(&catalog::MCP_REQUESTS_TOTAL, &["tools/call", "2026-07-28", "tool_error"]),
            1,
            "a tool error is a failed operation, as error_type says"
        );
        assert_eq!(s.counter(&catalog::MCP_REQUESTS_TOTAL, &["_other", "_other", "error"]), 1);
        assert_eq!(s.counter(&catalog::MCP_REQUESTS_TOTAL, &["server/discover", "", "success"]), 1);
        let duration = &catalog::MCP_SERVER_OPERATION_DURATION_SECONDS;
        assert!(s.histogram(duration, &["_other", "", "_other", "-32601"]).is_some());
        assert!(s.histogram(duration, &["tools/call", "wc", "2026-07-28", "tool_error"]).is_some());
        assert_eq!(s.counter(&catalog::TOOL_CALLS_TOTAL, &["wc", "text", "timeout"]), 1);
        assert_eq!(s.counter(&catalog::TOOL_DISCOVERY_FAILURES_TOTAL, &["_other"]), 1);
        assert_eq!(s.counter(&catalog::REJECTED_TOTAL, &["rate_limit"]), 1);
        assert_eq!(s.counter(&catalog::SESSIONS_CREATED_TOTAL, &[]), 1);
        assert_eq!(s.gauge(&catalog::SESSIONS_ACTIVE, &[]), -1);
    }
}
