//! The record's spans (OTLP export, opt-in with `otlp_traces_endpoint`):
//! one MCP server span per request, parented on the incoming context, and
//! a client span per tool invocation, whose id is the `traceparent` the
//! tool saw. A request that carried no JSON-RPC message (`GET`, `DELETE`,
//! a refusal before the body) is named as HTTP names it: `GET /mcp`.

use super::record::{RequestRecord, ROUTE};
use crate::metrics::series::{ErrorType, ToolOutcome};
use crate::otlp::{Span, SpanKind};

/// The server span and, after a tool invocation, its client span, for a
/// request answered with `http_status` after `duration_ns`.
pub fn build(record: &RequestRecord, duration_ns: u64, http_status: u16) -> Vec<Span> {
    let trace = &record.trace;
    let start_unix_ns = record.began_unix_ms * 1_000_000;
    let name = match (&record.mcp_method, &record.tool_name) {
        (Some(method), Some(tool)) => format!("{method} {tool}"),
        (Some(method), None) => method.clone(),
        (None, _) => format!("{} {ROUTE}", record.http_method),
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
    .attr_int("http.response.status_code", http_status as i64);
    let optional = [
        ("mcp.method.name", &record.mcp_method),
        ("mcp.session.id", &record.session_id),
        ("mcp.protocol.version", &record.protocol_version),
        // Who called: the session's client, or a modern request's own `_meta`.
        ("spinscope.client.name", &record.client_name),
        ("spinscope.client.version", &record.client_version),
        ("jsonrpc.request.id", &record.rpc_id),
    ];
    for (key, value) in optional {
        if let Some(v) = value {
            server = server.attr(key, v.as_str());
        }
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
    let call = record.tool_call.as_ref().and_then(|c| Some((c, c.invocation.as_ref()?)));
    if let (Some((call, invocation)), Some(tool)) = (call, &record.tool_name) {
        let mut span = Span {
            trace_id: invocation.span.trace_id,
            span_id: invocation.span.span_id,
            parent_span_id: Some(trace.span_id),
            name: format!("execute_tool {tool}"),
            kind: SpanKind::Client,
            start_unix_nanos: start_unix_ns + invocation.start_offset_ns,
            end_unix_nanos: start_unix_ns + invocation.end_offset_ns,
            attributes: Vec::new(),
            // The failure, redacted by the invocation (never the client's text as is).
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

#[cfg(test)]
mod tests;
