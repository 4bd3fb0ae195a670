//! The gateway's spans (OTLP export, opt-in with `otlp_traces_endpoint`):
//! one MCP server span per request, parented on the incoming context, and a
//! client span per tool call, whose id is the `traceparent` the tool saw.
//! Sent after the response, so the client never waits on the collector.

use spinscope::otlp::{Span, SpanKind};
use spinscope::trace::TraceContext;

/// What the exchange learned, for the spans.
#[derive(Debug, Default)]
pub struct SpanFacts {
    pub mcp_method: Option<String>,
    pub rpc_id: Option<String>,
    pub session_id: Option<String>,
    pub protocol_version: Option<String>,
    pub tool: Option<String>,
    /// JSON-RPC error code, or `tool_error`.
    pub error_type: Option<String>,
    pub rpc_error_code: Option<i64>,
    pub tool_call: Option<ToolCallSpan>,
}

#[derive(Debug)]
pub struct ToolCallSpan {
    pub context: TraceContext,
    pub component: String,
    pub start_offset_ns: u64,
    pub end_offset_ns: u64,
    pub outcome: &'static str,
    pub error: Option<String>,
}

pub fn build(trace: &TraceContext, facts: &SpanFacts, start_unix_ns: u64, duration_ns: u64, http_status: u16) -> Vec<Span> {
    let method = facts.mcp_method.clone().unwrap_or_else(|| "mcp".to_string());
    let name = match &facts.tool {
        Some(tool) => format!("{method} {tool}"),
        None => method.clone(),
    };
    let mut server = Span {
        trace_id: trace.trace_id,
        span_id: trace.span_id,
        parent_span_id: trace.parent_span_id,
        name,
        kind: SpanKind::Server,
        start_unix_nanos: start_unix_ns,
        end_unix_nanos: start_unix_ns + duration_ns,
        attributes: Vec::new(),
        error: facts.error_type.clone(),
    }
    .attr("mcp.method.name", method.as_str())
    .attr_int("http.response.status_code", http_status as i64);
    if let Some(v) = &facts.session_id {
        server = server.attr("mcp.session.id", v.as_str());
    }
    if let Some(v) = &facts.protocol_version {
        server = server.attr("mcp.protocol.version", v.as_str());
    }
    if let Some(v) = &facts.rpc_id {
        server = server.attr("jsonrpc.request.id", v.as_str());
    }
    if let Some(tool) = &facts.tool {
        server = server.attr("gen_ai.tool.name", tool.as_str()).attr("gen_ai.operation.name", "execute_tool");
    }
    if let Some(e) = &facts.error_type {
        server = server.attr("error.type", e.as_str());
    }
    if let Some(code) = facts.rpc_error_code {
        server = server.attr_int("rpc.response.status_code", code);
    }
    let mut spans = vec![server];
    if let (Some(call), Some(tool)) = (&facts.tool_call, &facts.tool) {
        let mut span = Span {
            trace_id: call.context.trace_id,
            span_id: call.context.span_id,
            parent_span_id: Some(trace.span_id),
            name: format!("execute_tool {tool}"),
            kind: SpanKind::Client,
            start_unix_nanos: start_unix_ns + call.start_offset_ns,
            end_unix_nanos: start_unix_ns + call.end_offset_ns,
            attributes: Vec::new(),
            error: call.error.clone(),
        }
        .attr("gen_ai.tool.name", tool.as_str())
        .attr("gen_ai.operation.name", "execute_tool")
        .attr("mcp.method.name", "tools/call")
        .attr("spinscope.component.id", call.component.as_str())
        .attr("spinscope.outcome", call.outcome);
        if call.error.is_some() {
            span = span.attr("error.type", if call.outcome == "timeout" { "timeout" } else { "tool_error" });
        }
        spans.push(span);
    }
    spans
}
