//! `tools/call`: find the tool's component, check the arguments, call it
//! over service chaining with a deadline, and turn whatever happens into a
//! `CallToolResult` (`isError: true` when it failed), logged with redacted
//! arguments. A failure is told twice: the client gets a short message
//! (never a host's trap details); the log line and the span get the whole
//! story, redacted (`spinscope::redact`).

use crate::context::Context;
use crate::discovery;
use crate::logger::TARGET_INVOCATION;
use crate::record::ToolCallRecord;
use serde_json::{json, Value};
use spinscope::log::{Level, LogLine};
use spinscope::mcp::{self, RpcError};
use spinscope::metrics::series::{ErrorType, ToolOutcome};
use spinscope::redact::{redact_arguments, redact_message, RedactionPolicy};
use spinscope_spin::outbound::{self, Outgoing, Reply as ToolReply, SendFailure};
use spinscope_spin::{random_bytes, time};

/// `tools/call`: a JSON-RPC error only for a request that cannot be
/// served (unknown tool; invalid arguments before 2025-11-25); a tool that
/// fails gives a result with `isError`.
pub fn tools_call(cx: &mut Context, params: Option<&Value>) -> Result<Value, RpcError> {
    let call = mcp::parse_call_tool_params(params)?;
    let Some(entry) = discovery::find_tool(cx, &call.name) else {
        cx.record.tool_name = Some(spinscope::metrics::OTHER.to_string());
        return Err(mcp::unknown_tool(&call.name));
    };
    cx.record.tool_name = Some(entry.tool.name.clone());
    if cx.config.validate_tool_arguments {
        if let Err(problem) = mcp::validate_arguments(&entry.tool.input_schema, &call.arguments) {
            let message = format!("invalid arguments for tool '{}': {problem}", call.name);
            let version = cx.record.protocol_version.as_deref().unwrap_or("");
            if !mcp::invalid_arguments_are_tool_errors(version) {
                return Err(RpcError::invalid_params(message));
            }
            return Ok(refuse_arguments(cx, &entry.component, &message));
        }
    }
    Ok(invoke(cx, &entry.component, &entry.tool.name, &call.arguments))
}

/// From 2025-11-25 on (SEP-1303), arguments that fail the tool's schema are
/// a tool execution error: a result with `isError` the model can read and
/// correct, not a JSON-RPC error its client may never show it. The tool is
/// not called; the log says why, redacted.
fn refuse_arguments(cx: &mut Context, component: &str, message: &str) -> Value {
    cx.record.error = Some(ErrorType::ToolError);
    let policy = RedactionPolicy::with_extra_keys(&cx.config.redact_keys);
    let error = redact_message(message, &policy, MAX_ERROR_CHARS);
    let line = cx
        .log
        .line(Level::Warn, TARGET_INVOCATION, "Tool arguments rejected")
        .field("tool_name", cx.record.tool_name.as_deref().unwrap_or("-"))
        .field("component_id", component)
        .field("session_id", cx.record.session_id.as_deref().unwrap_or("-"))
        .field("tenant", cx.record.tenant.as_deref().unwrap_or("-"))
        .field_opt("client", cx.record.client_name.as_deref())
        .field_opt("client_version", cx.record.client_version.as_deref())
        .field("error", error.as_str());
    cx.log.emit(line);
    mcp::tool_error_result(message)
}

/// Longest `error` logged or exported, in characters (after redaction).
const MAX_ERROR_CHARS: usize = 500;
/// Longest `detail` (a trap's backtrace) logged, in characters.
const MAX_DETAIL_CHARS: usize = 4000;

/// What the tool's answer means.
struct Ending {
    outcome: ToolOutcome,
    result: Value,
    /// Why the call failed, when it did.
    failure: Option<Failure>,
}

/// A failure as the operator sees it, before redaction (the client has its
/// own, shorter message in the result).
struct Failure {
    /// The failure in full: the `error` logged and the span's status.
    text: String,
    /// The host's account of it (a trap's wasm backtrace), logged only.
    detail: Option<String>,
}

impl Ending {
    /// A failure the client is told about in `message`, and the log in `text`.
    fn failed(outcome: ToolOutcome, message: &str, text: String, detail: Option<String>) -> Self {
        Ending { outcome, result: mcp::tool_error_result(message), failure: Some(Failure { text, detail }) }
    }

    /// A failure told the same way to the client and to the log.
    fn failed_with(outcome: ToolOutcome, message: String) -> Self {
        Ending::failed(outcome, &message, message.clone(), None)
    }
}

/// Calls one tool and always returns a `CallToolResult`.
fn invoke(cx: &mut Context, component: &str, tool: &str, arguments: &Value) -> Value {
    let started_ns = time::monotonic_ns();
    let span = cx.record.trace.child(&random_bytes::<8>());
    let policy = RedactionPolicy::with_extra_keys(&cx.config.redact_keys);
    let logging = cx.log.enabled(TARGET_INVOCATION, Level::Error);
    let logged_arguments = if logging { redact_arguments(arguments, &policy) } else { String::new() };
    let line = |cx: &Context, level: Level, message: &str| -> LogLine {
        cx.log
            .line(level, TARGET_INVOCATION, message)
            .field("tool_name", tool)
            .field("component_id", component)
            .field("tool_span_id", span.span_id_hex())
            .field("session_id", cx.record.session_id.as_deref().unwrap_or("-"))
            .field("tenant", cx.record.tenant.as_deref().unwrap_or("-"))
            .field_opt("client", cx.record.client_name.as_deref())
            .field_opt("client_version", cx.record.client_version.as_deref())
    };
    cx.log.emit(line(cx, Level::Debug, "Tool invocation started").field("arguments", logged_arguments.as_str()));

    let mut request = Outgoing::post(discovery::tool_url(component, tool), arguments.to_string())
        .header("content-type", "application/json")
        .header("traceparent", span.traceparent())
        .header("x-request-id", cx.record.request_id.as_str());
    if let Some(state) = &span.tracestate {
        request = request.header("tracestate", state.as_str());
    }
    if let Some(baggage) = &cx.baggage {
        request = request.header("baggage", baggage.as_str());
    }
    let max_output = cx.config.max_output_bytes;
    let hard_cap = max_output.saturating_mul(8).max(8 << 20);
    let reply = outbound::send(request, cx.config.tool_timeout, hard_cap);
    let execution_ms = match &reply {
        Ok(r) => r.elapsed.as_secs_f64() * 1e3,
        Err(_) => (time::monotonic_ns() - started_ns) as f64 / 1e6,
    };
    // Redaction runs only for who reads it: the failure line, the exported span.
    let reported = logging || cx.config.otlp_traces_endpoint.is_some();
    let mut ending = interpret(cx, tool, reply, hard_cap, reported);
    if let Some(original) = limit_output(&mut ending.result, max_output) {
        cx.record.output_truncated += 1;
        let truncated = line(cx, Level::Warn, "Tool output truncated")
            .field_u64("output_bytes", original as u64)
            .field_u64("max_output_bytes", max_output as u64);
        cx.log.emit(truncated);
    }

    let ended_ns = time::monotonic_ns();
    let duration_ms = (ended_ns - started_ns) as f64 / 1e6;
    if ending.outcome != ToolOutcome::Success {
        cx.record.error = Some(ErrorType::ToolError);
    }
    let (level, message) = match ending.outcome {
        ToolOutcome::Success => (Level::Debug, "Tool invocation completed successfully"),
        _ => (Level::Error, "Tool invocation failed"),
    };
    let failure = ending.failure.as_ref();
    let error = failure.filter(|_| reported).map(|f| redact_message(&f.text, &policy, MAX_ERROR_CHARS));
    let detail = failure
        .and_then(|f| f.detail.as_deref())
        .filter(|_| logging)
        .map(|d| redact_message(d, &policy, MAX_DETAIL_CHARS));
    let done = line(cx, level, message)
        .field("arguments", logged_arguments.as_str())
        .field_u64("duration_ms", duration_ms.round() as u64)
        .field_u64("execution_ms", execution_ms.round() as u64)
        .field("outcome", ending.outcome.as_str())
        .field_opt("error", error.as_deref())
        .field_opt("detail", detail);
    cx.log.emit(done);
    cx.record.tool_call = Some(ToolCallRecord {
        component: component.to_string(),
        outcome: ending.outcome,
        span,
        start_offset_ns: started_ns.saturating_sub(cx.record.began_ns),
        end_offset_ns: ended_ns.saturating_sub(cx.record.began_ns),
        error,
    });
    ending.result
}

/// The tool's HTTP answer, or why there was none, as an [`Ending`]; the
/// failure's full text is kept only when it is `reported`.
fn interpret(
    cx: &mut Context,
    tool: &str,
    reply: Result<ToolReply, SendFailure>,
    hard_cap: usize,
    reported: bool,
) -> Ending {
    match reply {
        Err(SendFailure::Timeout) => {
            let message = format!("tool '{tool}' timed out after {} ms", cx.config.tool_timeout.as_millis());
            Ending::failed_with(ToolOutcome::Timeout, message)
        }
        Err(SendFailure::Http(code)) => {
            // The local host tells a trap as `internal-error (<backtrace>)`:
            // the client gets the error code, the log the rest.
            let (name, detail) = match code.split_once(" (") {
                Some((name, _)) => (name.to_string(), Some(code.clone())),
                None => (code.clone(), None),
            };
            let message = format!("tool '{tool}' could not be reached: HTTP error: {name}");
            Ending::failed(ToolOutcome::Error, &message, message.clone(), detail)
        }
        Err(e) => Ending::failed_with(ToolOutcome::Error, format!("tool '{tool}' could not be reached: {e}")),
        Ok(r) if r.status != 200 => {
            // The client reads the body's start; the log the body as a whole
            // (redacted before it is cut, so no secret leaks in part).
            let head = String::from_utf8_lossy(&r.body[..r.body.len().min(200)]).into_owned();
            let said = |text: &str| match text.trim() {
                "" => format!("tool '{tool}' failed: its component answered HTTP {}", r.status),
                text => format!("tool '{tool}' failed: its component answered HTTP {}: {text}", r.status),
            };
            let message = said(&head);
            let text = if reported { said(&String::from_utf8_lossy(&r.body)) } else { message.clone() };
            Ending::failed(ToolOutcome::Error, &message, text, None)
        }
        Ok(r) if r.truncated => {
            cx.record.output_truncated += 1;
            Ending::failed_with(
                ToolOutcome::Error,
                format!("tool '{tool}' returned more than {hard_cap} bytes; its output was discarded"),
            )
        }
        Ok(r) => match mcp::parse_call_tool_result(&r.body) {
            Err(problem) => {
                Ending::failed_with(ToolOutcome::Error, format!("tool '{tool}' returned an invalid result: {problem}"))
            }
            Ok(result) if mcp::call_tool_result_is_error(&result) => {
                // The client reads the tool's own result; the log its first text.
                let text = if reported { first_text(&result) } else { None };
                let text = text.unwrap_or_else(|| "the tool reported an error".into());
                Ending { outcome: ToolOutcome::Error, result, failure: Some(Failure { text, detail: None }) }
            }
            Ok(result) => Ending { outcome: ToolOutcome::Success, result, failure: None },
        },
    }
}

/// The first text item of a result, whole (it is cut after redaction).
fn first_text(result: &Value) -> Option<String> {
    result["content"].as_array()?.iter().find_map(|c| c["text"].as_str()).map(str::to_owned)
}

/// Cuts a result's text content to `max` bytes in all, with a visible note;
/// returns the original size when it did.
fn limit_output(result: &mut Value, max: usize) -> Option<usize> {
    let size: usize =
        result["content"].as_array().map(|items| items.iter().map(|i| i.to_string().len()).sum()).unwrap_or(0)
            + result.get("structuredContent").map(|s| s.to_string().len()).unwrap_or(0);
    if size <= max {
        return None;
    }
    let mut budget = max;
    let mut kept = Vec::new();
    for item in result["content"].as_array().cloned().unwrap_or_default() {
        if budget == 0 {
            break;
        }
        match item["text"].as_str() {
            Some(text) => {
                let mut cut = text.len().min(budget);
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                budget -= cut;
                let mut item = item.clone();
                item["text"] = Value::String(text[..cut].to_string());
                kept.push(item);
            }
            None => {
                let len = item.to_string().len();
                if len <= budget {
                    budget -= len;
                    kept.push(item);
                }
            }
        }
    }
    kept.push(json!({
        "type": "text",
        "text": format!("[spinscope: output truncated: the tool returned {size} bytes, the limit is {max} bytes]"),
    }));
    result["content"] = Value::Array(kept);
    if let Some(obj) = result.as_object_mut() {
        obj.remove("structuredContent");
    }
    Some(size)
}
