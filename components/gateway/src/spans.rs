//! The gateway's spans (OTLP export, opt-in with `otlp_traces_endpoint`):
//! one MCP server span per request, parented on the incoming context, and a
//! client span per tool call, whose id is the `traceparent` the tool saw.
//! Sent after the response, so the client never waits on the collector.

use crate::record::RequestRecord;
use spinscope::metrics::series::{ErrorType, ToolOutcome};
use spinscope::otlp::{Span, SpanKind};

/// The server span and, after a tool call, its client span, for a request
/// answered with `http_status` after `duration_ns`.
pub fn build(record: &RequestRecord, duration_ns: u64, http_status: u16) -> Vec<Span> {
    let trace = &record.trace;
    let start_unix_ns = record.began_unix_ms * 1_000_000;
    let method = record.mcp_method.clone().unwrap_or_else(|| "mcp".to_string());
    let name = match &record.tool_name {
        Some(tool) => format!("{method} {tool}"),
        None => method.clone(),
    };
    let error_type = record.error.map(ErrorType::label);
    let mut server = Span {
        trace_id: trace.trace_id,
        span_id: trace.span_id,
        parent_span_id: trace.parent_span_id,
        name,
        kind: SpanKind::Server,
        start_unix_nanos: start_unix_ns,
        end_unix_nanos: start_unix_ns + duration_ns,
        attributes: Vec::new(),
        error: error_type.clone(),
    }
    .attr("mcp.method.name", method.as_str())
    .attr_int("http.response.status_code", http_status as i64);
    if let Some(v) = &record.session_id {
        server = server.attr("mcp.session.id", v.as_str());
    }
    if let Some(v) = &record.protocol_version {
        server = server.attr("mcp.protocol.version", v.as_str());
    }
    // Who called: the session's client, or a modern request's own `_meta`.
    if let Some(v) = &record.client_name {
        server = server.attr("spinscope.client.name", v.as_str());
    }
    if let Some(v) = &record.client_version {
        server = server.attr("spinscope.client.version", v.as_str());
    }
    if let Some(v) = &record.rpc_id {
        server = server.attr("jsonrpc.request.id", v.as_str());
    }
    if let Some(tool) = &record.tool_name {
        server = server.attr("gen_ai.tool.name", tool.as_str()).attr("gen_ai.operation.name", "execute_tool");
    }
    if let Some(e) = &error_type {
        server = server.attr("error.type", e.as_str());
    }
    if let Some(ErrorType::Rpc(code)) = record.error {
        server = server.attr_int("rpc.response.status_code", code);
    }
    let mut spans = vec![server];
    if let (Some(call), Some(tool)) = (&record.tool_call, &record.tool_name) {
        let mut span = Span {
            trace_id: call.span.trace_id,
            span_id: call.span.span_id,
            parent_span_id: Some(trace.span_id),
            name: format!("execute_tool {tool}"),
            kind: SpanKind::Client,
            start_unix_nanos: start_unix_ns + call.start_offset_ns,
            end_unix_nanos: start_unix_ns + call.end_offset_ns,
            attributes: Vec::new(),
            // The failure, redacted by `invoke` (never the client's text as is).
            error: match call.outcome {
                ToolOutcome::Success => None,
                outcome => Some(call.error.clone().unwrap_or_else(|| outcome.as_str().to_string())),
            },
        }
        .attr("gen_ai.tool.name", tool.as_str())
        .attr("gen_ai.operation.name", "execute_tool")
        .attr("mcp.method.name", "tools/call")
        .attr("spinscope.component.id", call.component.as_str())
        .attr("spinscope.outcome", call.outcome.as_str());
        if call.outcome != ToolOutcome::Success {
            span = span.attr("error.type", if call.outcome == ToolOutcome::Timeout { "timeout" } else { "tool_error" });
        }
        spans.push(span);
    }
    spans
}
