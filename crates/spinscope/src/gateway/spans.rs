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
//!
//! Names and attributes are the OpenTelemetry MCP conventions', listed
//! once in [`semconv`]. The server span is parented on the request's own
//! context (`params._meta` first, then the HTTP header) and links the other
//! when both came and differ; both spans carry the `tracestate` given.

use super::record::{RequestRecord, ROUTE};
use crate::mcp::modern::Era;
use crate::metrics::series::{self, ErrorType, ToolOutcome};
use crate::otlp::{AttributeValue, Link, Span, SpanKind};
use crate::redact::{redact_text, RedactionPolicy, REDACTED, STRING_TRUNCATION_MARK};
use crate::trace::TraceContext;

pub mod semconv;

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

/// The `tracestate` a span exports (OTLP `traceState`): the one the
/// request was given, unless redaction finds a secret in it, in which case
/// none (a `tracestate` cannot be exported in part). The tool still gets
/// it as it came, as the W3C spec asks of a participant.
pub fn exported_tracestate(state: Option<&str>) -> Option<String> {
    let state = state?;
    (redact_text(state, &RedactionPolicy::default()) == state).then(|| state.to_string())
}

/// The server span's links: the context the request carried that did not
/// become its parent ([`crate::trace::TraceContext::from_incoming`]).
fn links(trace: &TraceContext) -> Vec<Link> {
    trace
        .links
        .iter()
        .map(|l| Link {
            trace_id: l.trace_id,
            span_id: l.span_id,
            trace_state: exported_tracestate(l.tracestate.as_deref()),
            attributes: vec![(semconv::LINK_SOURCE.to_string(), AttributeValue::Str(l.source.as_str().to_string()))],
        })
        .collect()
}

/// The server span and, after a tool invocation, its client span, for a
/// request answered with `http_status` after `duration_ns`.
pub fn build(record: &RequestRecord, duration_ns: u64, http_status: u16) -> Vec<Span> {
    let trace = &record.trace;
    let start_unix_ns = record.began_unix_ns;
    // The method as the metrics name it: a client cannot name a span.
    let method = record.mcp_method.as_deref().map(series::mcp_method);
    let name = match method {
        Some(method) => semconv::span_name(method, record.tool_name.as_deref()),
        None => format!("{} {ROUTE}", record.http_method),
    };
    let error_type = record.error.map(ErrorType::label);
    let trace_state = exported_tracestate(trace.tracestate.as_deref());
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
        trace_state,
        links: links(trace),
    }
    .attr_int(semconv::HTTP_RESPONSE_STATUS_CODE, http_status as i64)
    .attr(semconv::NETWORK_TRANSPORT, semconv::TCP)
    .attr(semconv::NETWORK_PROTOCOL_NAME, semconv::HTTP);
    if let Some(method) = method {
        server = server.attr(semconv::MCP_METHOD_NAME, method);
    }
    if let (Some(session), Era::Handshake) = (&record.session_id, record.era) {
        // Ours, minted by `initialize` (an unknown one never reaches the
        // record); 2026-07-28 is stateless, with no session to name.
        server = server.attr(semconv::MCP_SESSION_ID, session.as_str());
    }
    let written_by_the_client = [
        // The session's revision, or the one a modern request asked for.
        (semconv::MCP_PROTOCOL_VERSION, &record.protocol_version),
        // Who called: the session's client, or a modern request's own `_meta`.
        (semconv::CLIENT_NAME, &record.client_name),
        (semconv::CLIENT_VERSION, &record.client_version),
        (semconv::JSONRPC_REQUEST_ID, &record.rpc_id),
        // What a prompts/get or resources/read was relayed for.
        (semconv::GEN_AI_PROMPT_NAME, &record.prompt_name),
        (semconv::MCP_RESOURCE_URI, &record.resource_uri),
    ];
    for (key, value) in written_by_the_client {
        if let Some(v) = value {
            server = server.attr(key, client_attribute(v));
        }
    }
    if let Some(tool) = &record.tool_name {
        server = server
            .attr(semconv::GEN_AI_TOOL_NAME, tool.as_str())
            .attr(semconv::GEN_AI_OPERATION_NAME, semconv::EXECUTE_TOOL);
    }
    if let Some(e) = &error_type {
        server = server.attr(semconv::ERROR_TYPE, e.as_str());
    }
    if let Some(ErrorType::Rpc(code)) = record.error {
        // A string in the conventions, as `error.type`.
        server = server.attr(semconv::RPC_RESPONSE_STATUS_CODE, code.to_string());
    }
    let mut spans = vec![server];
    spans.extend(tool_call(record));
    spans
}

/// The client span of the request's tool invocation, if it made one (the
/// second span [`build`] gives). The nested mode ends it as soon as the
/// call is recorded, so that the host's spans after it are not its children.
pub fn tool_call(record: &RequestRecord) -> Option<Span> {
    let trace = &record.trace;
    let start_unix_ns = record.began_unix_ns;
    let trace_state = exported_tracestate(trace.tracestate.as_deref());
    let call = record.tool_call.as_ref().and_then(|c| Some((c, c.invocation.as_ref()?)));
    let (Some((call, invocation)), Some(tool)) = (call, &record.tool_name) else { return None };
    let mut span = Span {
        trace_id: invocation.span.trace_id,
        span_id: invocation.span.span_id,
        parent_span_id: Some(trace.span_id),
        name: format!("{} {tool}", semconv::EXECUTE_TOOL),
        kind: SpanKind::Client,
        start_unix_nanos: start_unix_ns + invocation.start_offset_ns,
        end_unix_nanos: start_unix_ns + invocation.end_offset_ns,
        attributes: Vec::new(),
        // The failure, redacted by the invocation (never the client's text as is).
        error: match call.outcome {
            ToolOutcome::Success => None,
            outcome => Some(call.error.clone().unwrap_or_else(|| outcome.as_str().to_string())),
        },
        trace_state,
        links: Vec::new(),
    }
    .attr(semconv::GEN_AI_TOOL_NAME, tool.as_str())
    .attr(semconv::GEN_AI_OPERATION_NAME, semconv::EXECUTE_TOOL)
    .attr(semconv::MCP_METHOD_NAME, "tools/call")
    .attr(semconv::COMPONENT_ID, call.component.as_str())
    .attr(semconv::OUTCOME, call.outcome.as_str());
    if call.outcome != ToolOutcome::Success {
        let error_type = if call.outcome == ToolOutcome::Timeout { "timeout" } else { "tool_error" };
        span = span.attr(semconv::ERROR_TYPE, error_type);
    }
    Some(span)
}

#[cfg(test)]
mod tests;
