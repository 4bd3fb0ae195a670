//! The record's spans (OTLP export, opt-in with `otlp_traces_endpoint`):
//! one MCP server span per request, parented on the incoming context, and
//! a client span per tool invocation, whose id is the `traceparent` the
//! tool saw. A request that carried no JSON-RPC message (`GET`, `DELETE`,
//! a refusal before the body) is named as HTTP names it: `GET /mcp`.
//!
//! What a client chose is bounded before it reaches a span: the method (in
//! the span name and `mcp.method.name`) is folded to the known set exactly
//! as the metrics fold it (`_other` otherwise), the tool is a known one or
//! `_other` already, and every other value the client wrote (the JSON-RPC
//! id, the client's name and version, the revision it asked for) goes
//! through [`client_attribute`]: redacted, and cut.

use super::record::{RequestRecord, ROUTE};
use crate::metrics::series::{self, ErrorType, ToolOutcome};
use crate::otlp::{Span, SpanKind};
use crate::redact::{redact_text, RedactionPolicy, REDACTED, STRING_TRUNCATION_MARK};

/// The longest client-supplied attribute value exported, in bytes (before
/// [`STRING_TRUNCATION_MARK`]).
pub const MAX_CLIENT_ATTRIBUTE_BYTES: usize = 128;

/// A value the client wrote, as a span attribute: redacted as free text
/// with the default policy ([`redact_text`]) and, when redaction finds
/// anything in it, exported as [`REDACTED`] whole (an id or a client name
/// is no prose: whatever sits beside a recognised secret, as `pw=hunter2`
/// beside a `Bearer` token, may be a secret the rules cannot tell); then
/// cut to [`MAX_CLIENT_ATTRIBUTE_BYTES`] on a character boundary. The cut
/// comes after the redaction, and is shorter than the record's own bound,
/// so no secret leaks in part through either cut.
pub fn client_attribute(value: &str) -> String {
    if redact_text(value, &RedactionPolicy::default()) != value {
        return REDACTED.to_string();
    }
    if value.len() <= MAX_CLIENT_ATTRIBUTE_BYTES {
        return value.to_string();
    }
    let mut cut = MAX_CLIENT_ATTRIBUTE_BYTES;
    while !value.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{STRING_TRUNCATION_MARK}", &value[..cut])
}

/// The server span and, after a tool invocation, its client span, for a
/// request answered with `http_status` after `duration_ns`.
pub fn build(record: &RequestRecord, duration_ns: u64, http_status: u16) -> Vec<Span> {
    let trace = &record.trace;
    let start_unix_ns = record.began_unix_ms * 1_000_000;
    // The method as the metrics name it: a client cannot name a span.
    let method = record.mcp_method.as_deref().map(series::mcp_method);
    let name = match (method, &record.tool_name) {
        (Some(method), Some(tool)) => format!("{method} {tool}"),
        (Some(method), None) => method.to_string(),
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
    if let Some(method) = method {
        server = server.attr("mcp.method.name", method);
    }
    if let Some(session) = &record.session_id {
        // Ours, minted by `initialize` (an unknown one never reaches the record).
        server = server.attr("mcp.session.id", session.as_str());
    }
    let written_by_the_client = [
        // The session's revision, or the one a modern request asked for.
        ("mcp.protocol.version", &record.protocol_version),
        // Who called: the session's client, or a modern request's own `_meta`.
        ("spinscope.client.name", &record.client_name),
        ("spinscope.client.version", &record.client_version),
        ("jsonrpc.request.id", &record.rpc_id),
        // What a prompts/get or resources/read was relayed for.
        ("gen_ai.prompt.name", &record.prompt_name),
        ("mcp.resource.uri", &record.resource_uri),
    ];
    for (key, value) in written_by_the_client {
        if let Some(v) = value {
            server = server.attr(key, client_attribute(v));
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
