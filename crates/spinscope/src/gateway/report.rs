//! Two of the record's renderings: its metric observations (one store
//! write) and its access line. The third, its spans, is [`super::spans`].

use super::record::{RequestRecord, ROUTE};
use crate::log::{access_line_as, Access, LogFormat};
use crate::metrics::activity::Note;
use crate::metrics::series::{HttpRequest, McpOperation, ToolCall};
use crate::metrics::Recorder;

/// The gateway's own `component` label in `component_memory_bytes`.
pub const GATEWAY_COMPONENT: &str = "gateway";

/// How the request was answered, measured by the adapter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Answered {
    /// The HTTP status.
    pub status: u16,
    /// From the first byte to the response sent, in seconds.
    pub duration_s: f64,
    /// The response body's size.
    pub response_bytes: usize,
}

impl RequestRecord {
    /// The request's metric observations; `tool_components` bounds the
    /// discovery failures' label, `now_ms` dates the activity note.
    pub fn to_recorder(&self, tool_components: &[String], answered: Answered, now_ms: u64) -> Recorder {
        let mut rec = Recorder::new();
        rec.http_request(HttpRequest {
            route: ROUTE,
            method: &self.http_method,
            status: answered.status,
            duration_s: answered.duration_s,
            request_bytes: self.request_bytes,
            response_bytes: answered.response_bytes,
        });
        if let Some(method) = &self.mcp_method {
            let tool = self.tool_name.as_deref().unwrap_or("");
            let protocol_version = self.protocol_version.as_deref();
            let duration_s = answered.duration_s;
            rec.mcp_operation(McpOperation { method, tool, protocol_version, error: self.error, duration_s });
        }
        if let (Some(call), Some(tool)) = (&self.tool_call, &self.tool_name) {
            match &call.invocation {
                Some(invocation) => {
                    rec.tool_call(ToolCall {
                        tool,
                        component: &call.component,
                        outcome: call.outcome,
                        duration_s: invocation.duration_s(),
                    });
                    if let Some(ms) = invocation.execution_ms {
                        rec.tool_execution(tool, &call.component, ms / 1e3);
                    }
                    if let Some(bytes) = invocation.memory_bytes {
                        rec.component_memory(&call.component, bytes, tool_components.iter().map(String::as_str));
                    }
                    let known = tool_components.iter().map(String::as_str);
                    rec.tool_metrics(&call.component, tool, &invocation.reports, known);
                }
                None => rec.tool_call_refused(tool, &call.component, call.outcome),
            }
        }
        if let (Some((allowed, _)), Some(tool)) = (self.authorization, &self.tool_name) {
            rec.authorization_decision(allowed, tool);
        }
        for component in &self.discovery_failures {
            rec.discovery_failure(component, tool_components.iter().map(String::as_str));
        }
        if let Some(bytes) = self.memory_bytes {
            rec.component_memory(GATEWAY_COMPONENT, bytes, [GATEWAY_COMPONENT]);
        }
        for (component, transition) in &self.breaker_transitions {
            rec.breaker_transition(component, transition.label(), tool_components.iter().map(String::as_str));
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
                error: self.failed,
                at_ms: now_ms,
            }),
        }
        rec
    }

    /// The access line (always written, whatever `log_level` says), in
    /// the app's `log_format`.
    pub fn access_line(&self, answered: Answered, now_ms: u64, format: LogFormat) -> String {
        let access = Access {
            ts_unix_ms: now_ms,
            request_id: &self.request_id,
            method: &self.http_method,
            path: ROUTE,
            status: answered.status,
            dur_ms: (answered.duration_s * 1e3).round() as u64,
            tenant: self.tenant.as_deref(),
            trace_id: &self.trace.trace_id_hex(),
            span_id: &self.trace.span_id_hex(),
        };
        access_line_as(&access, format)
    }
}

#[cfg(test)]
mod tests;
