//! The one record of a request: filled as the request runs, then read by
//! everything that reports on it after the response (the access line, the
//! spans, the metrics write, the activity note).

use spinscope::config::Config;
use spinscope::metrics::activity::Note;
use spinscope::metrics::series::{ErrorType, HttpRequest, McpOperation, RejectReason, ToolCall, ToolOutcome};
use spinscope::metrics::Recorder;
use spinscope::trace::TraceContext;
use spinscope_spin::kv::Encoding;

/// The gateway's route.
pub const ROUTE: &str = "/mcp";

/// What one request did.
#[derive(Debug)]
pub struct RequestRecord {
    /// `X-Request-Id`, kept from the client when safe, else new.
    pub request_id: String,
    /// Monotonic clock at the first byte, for durations.
    pub began_ns: u64,
    /// Wall clock at the first byte, for span timestamps.
    pub began_unix_ms: u64,
    /// The request's trace context (from `traceparent` or `params._meta`).
    pub trace: TraceContext,
    /// HTTP method, upper case.
    pub http_method: String,
    /// Request body size.
    pub request_bytes: usize,
    /// The authenticated tenant (`None` in open mode).
    pub tenant: Option<String>,
    /// The in-flight window this request holds a slot in, released at the end.
    pub in_flight_slot: Option<u64>,
    /// Why the request was refused before doing work, if it was.
    pub rejected: Option<RejectReason>,
    /// The MCP session the request belongs to.
    pub session_id: Option<String>,
    /// The request's protocol revision: its session's, or its own `_meta`'s.
    pub protocol_version: Option<String>,
    /// The client's name (`clientInfo`: the session's, or the request's own).
    pub client_name: Option<String>,
    /// The client's version, when the request carries it (`initialize` or a
    /// modern request).
    pub client_version: Option<String>,
    /// The store's counter encoding as the session record keeps it, which
    /// spares the metrics write a read of the marker.
    pub store_encoding: Option<Encoding>,
    /// The JSON-RPC method (`_invalid` for a message that did not parse).
    pub mcp_method: Option<String>,
    /// The JSON-RPC id, as text.
    pub rpc_id: Option<String>,
    /// The tool named by a `tools/call` (`_other` when unknown).
    pub tool_name: Option<String>,
    /// What went wrong, as `error.type`.
    pub error: Option<ErrorType>,
    /// The tool invocation, when one happened.
    pub tool_call: Option<ToolCallRecord>,
    /// Sessions this request created (0 or 1).
    pub sessions_created: u64,
    /// How this request moved the live sessions (+1, -1 or 0).
    pub sessions_active_delta: i64,
    /// Tool outputs cut or discarded.
    pub output_truncated: u64,
    /// Tool components that did not list their tools.
    pub discovery_failures: Vec<String>,
    /// Failed span exports.
    pub trace_export_failures: u64,
}

/// One tool invocation.
#[derive(Debug, Clone)]
pub struct ToolCallRecord {
    /// The component called.
    pub component: String,
    /// How it ended.
    pub outcome: ToolOutcome,
    /// The client span's context: the `traceparent` the tool saw.
    pub span: TraceContext,
    /// Start and end, in ns after the request's first byte.
    pub start_offset_ns: u64,
    pub end_offset_ns: u64,
    /// Why the call failed, redacted (`spinscope::redact`): the client
    /// span's status message. `None` when it succeeded, or when failures
    /// are neither logged nor exported.
    pub error: Option<String>,
}

impl ToolCallRecord {
    /// The call's duration in seconds.
    pub fn duration_s(&self) -> f64 {
        self.end_offset_ns.saturating_sub(self.start_offset_ns) as f64 / 1e9
    }
}

impl RequestRecord {
    /// A record for a request that has just arrived.
    pub fn new(request_id: String, began_ns: u64, began_unix_ms: u64, trace: TraceContext) -> Self {
        RequestRecord {
            request_id,
            began_ns,
            began_unix_ms,
            trace,
            http_method: String::new(),
            request_bytes: 0,
            tenant: None,
            in_flight_slot: None,
            rejected: None,
            session_id: None,
            protocol_version: None,
            client_name: None,
            client_version: None,
            store_encoding: None,
            mcp_method: None,
            rpc_id: None,
            tool_name: None,
            error: None,
            tool_call: None,
            sessions_created: 0,
            sessions_active_delta: 0,
            output_truncated: 0,
            discovery_failures: Vec::new(),
            trace_export_failures: 0,
        }
    }

    /// Whether the request failed in any way, for the tenant's error count.
    pub fn failed(&self, status: u16) -> bool {
        let tool_failed = self.tool_call.as_ref().is_some_and(|c| c.outcome != ToolOutcome::Success);
        status >= 400 || self.error.is_some() || tool_failed
    }

    /// The request's metric observations, answered with `status` after
    /// `duration_s`; `now_ms` dates its activity note.
    pub fn to_recorder(
        &self,
        config: &Config,
        status: u16,
        duration_s: f64,
        response_bytes: usize,
        now_ms: u64,
    ) -> Recorder {
        let mut rec = Recorder::new();
        rec.http_request(HttpRequest {
            route: ROUTE,
            method: &self.http_method,
            status,
            duration_s,
            request_bytes: self.request_bytes,
            response_bytes,
        });
        if let Some(method) = &self.mcp_method {
            let tool = self.tool_name.as_deref().unwrap_or("");
            let protocol_version = self.protocol_version.as_deref();
            rec.mcp_operation(McpOperation { method, tool, protocol_version, error: self.error, duration_s });
        }
        if let (Some(call), Some(tool)) = (&self.tool_call, &self.tool_name) {
            rec.tool_call(ToolCall {
                tool,
                component: &call.component,
                outcome: call.outcome,
                duration_s: call.duration_s(),
            });
        }
        for component in &self.discovery_failures {
            rec.discovery_failure(component, config.tool_components.iter().map(String::as_str));
        }
        rec.sessions(self.sessions_created, self.sessions_active_delta);
        rec.output_truncated(self.output_truncated);
        rec.trace_export_failures(self.trace_export_failures);
        match self.rejected {
            Some(reason) => rec.rejected(reason),
            None => rec.note(Note {
                tenant: self.tenant.clone().unwrap_or_else(|| "-".into()),
                session: self.session_id.clone(),
                tool_call: self.tool_call.is_some(),
                error: self.failed(status),
                at_ms: now_ms,
            }),
        }
        rec
    }
}
