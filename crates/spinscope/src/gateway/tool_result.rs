//! What a tool component's answer means: whatever happened to the call
//! (timeout, trap, non-200, invalid JSON, oversized output, the tool's own
//! `isError`) becomes a `CallToolResult`, and a failure is told twice: the
//! client gets a short message (never a host's trap details); the log line
//! and the span get the whole story, which the caller redacts.

use super::error::{GatewayError, ToolFailure};
use crate::mcp;
use crate::metrics::series::ToolOutcome;
use serde_json::{json, Value};

/// How the request to the tool component ended, as plain data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolAnswer {
    /// No answer within the deadline.
    Timeout,
    /// The host's HTTP error code; a trap is `internal-error (<backtrace>)`
    /// on the local host.
    HttpError(String),
    /// Any other failure to make the call.
    Unreachable(String),
    /// The component answered.
    Answered {
        /// Its status.
        status: u16,
        /// Its body, at most the hard cap.
        body: Vec<u8>,
        /// The body was longer than the hard cap.
        truncated: bool,
    },
}

/// What the tool's answer means.
#[derive(Debug, Clone, PartialEq)]
pub struct Ending {
    /// The result the client gets.
    pub result: Value,
    /// Why the call failed, when it did.
    pub failure: Option<Failure>,
    /// Outputs cut or discarded (0 or 1).
    pub output_truncated: u64,
}

/// A failure as the operator sees it, before redaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// What failed, as the one error type.
    pub error: GatewayError,
    /// The failure in full: the `error` logged and the span's status.
    pub text: String,
    /// The host's account of it (a trap's wasm backtrace), logged only.
    pub detail: Option<String>,
}

impl Ending {
    /// The call's outcome label.
    pub fn outcome(&self) -> ToolOutcome {
        match &self.failure {
            None => ToolOutcome::Success,
            Some(Failure {
                error: GatewayError::ToolFailed { failure: ToolFailure::CircuitOpen { .. }, .. }, ..
            }) => ToolOutcome::CircuitOpen,
            Some(Failure { error: GatewayError::ToolFailed { failure, .. }, .. }) if failure.is_timeout() => {
                ToolOutcome::Timeout
            }
            Some(_) => ToolOutcome::Error,
        }
    }

    fn failed(tool: &str, failure: ToolFailure, text: Option<String>, detail: Option<String>) -> Self {
        let error = GatewayError::ToolFailed { tool: tool.to_string(), failure };
        let message = error.to_string();
        Ending {
            result: mcp::tool_error_result(&message),
            failure: Some(Failure { text: text.unwrap_or(message), error, detail }),
            output_truncated: 0,
        }
    }
}

/// The ending of a call its component's open breaker refuses: the
/// component is not called; the client reads when to retry.
pub fn circuit_open(tool: &str, retry_after_ms: u64) -> Ending {
    let failure = ToolFailure::CircuitOpen { retry_after_s: retry_after_ms.div_ceil(1000).max(1) };
    Ending::failed(tool, failure, None, None)
}

/// Limits an interpretation keeps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// `tool_timeout_ms`, as the timeout message says it.
    pub timeout_ms: u64,
    /// Answers longer than this were cut by the transport and are discarded.
    pub hard_cap: usize,
    /// Whether anyone reads the failure's full text (the log, an exported
    /// span): else it is not built.
    pub reported: bool,
}

/// Longest body head the client reads of a non-200 answer, in bytes.
const BODY_HEAD_BYTES: usize = 200;

/// The answer of `tool`'s component, or why there was none, as an [`Ending`].
pub fn interpret(tool: &str, answer: ToolAnswer, bounds: Bounds) -> Ending {
    match answer {
        ToolAnswer::Timeout => Ending::failed(tool, ToolFailure::Timeout { after_ms: bounds.timeout_ms }, None, None),
        ToolAnswer::HttpError(code) => {
            // The client gets the error code, the log the rest.
            let (name, detail) = match code.split_once(" (") {
                Some((name, _)) => (name.to_string(), Some(code.clone())),
                None => (code, None),
            };
            Ending::failed(tool, ToolFailure::Unreachable { reason: format!("HTTP error: {name}") }, None, detail)
        }
        ToolAnswer::Unreachable(reason) => Ending::failed(tool, ToolFailure::Unreachable { reason }, None, None),
        ToolAnswer::Answered { status, body, .. } if status != 200 => {
            // The client reads the body's start; the log the body as a whole
            // (redacted before it is cut, so no secret leaks in part).
            let error = GatewayError::ToolFailed { tool: tool.to_string(), failure: ToolFailure::Status { status } };
            let said = |text: &str| match text.trim() {
                "" => error.to_string(),
                text => format!("{error}: {text}"),
            };
            let message = said(&String::from_utf8_lossy(&body[..body.len().min(BODY_HEAD_BYTES)]));
            let text = if bounds.reported { said(&String::from_utf8_lossy(&body)) } else { message.clone() };
            Ending {
                result: mcp::tool_error_result(&message),
                failure: Some(Failure { error, text, detail: None }),
                output_truncated: 0,
            }
        }
        ToolAnswer::Answered { truncated: true, .. } => Ending {
            output_truncated: 1,
            ..Ending::failed(tool, ToolFailure::OutputTooLarge { max: bounds.hard_cap }, None, None)
        },
        ToolAnswer::Answered { body, .. } => match mcp::parse_call_tool_result(&body) {
            Err(problem) => Ending::failed(tool, ToolFailure::InvalidResult { problem }, None, None),
            Ok(result) if mcp::call_tool_result_is_error(&result) => {
                // The client reads the tool's own result; the log its first text.
                let text = if bounds.reported { first_text(&result) } else { None };
                let error = GatewayError::ToolFailed { tool: tool.to_string(), failure: ToolFailure::Reported };
                let text = text.unwrap_or_else(|| "the tool reported an error".into());
                Ending { result, failure: Some(Failure { error, text, detail: None }), output_truncated: 0 }
            }
            Ok(result) => Ending { result, failure: None, output_truncated: 0 },
        },
    }
}

/// The first text item of a result, whole (it is cut after redaction).
fn first_text(result: &Value) -> Option<String> {
    result["content"].as_array()?.iter().find_map(|c| c["text"].as_str()).map(str::to_owned)
}

/// Cuts a result's content to `max` bytes in all (text items cut, other
/// items kept whole while they fit, `structuredContent` dropped), with a
/// visible note; returns the original size when it did.
pub fn limit_output(result: &mut Value, max: usize) -> Option<usize> {
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

#[cfg(test)]
mod tests;
