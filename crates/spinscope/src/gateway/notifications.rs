//! Notifications a tool sends while it works (progress, log messages),
//! relayed to the client in the call's answer as a Streamable HTTP SSE
//! response, by each revision's rules.
//!
//! A tool component that speaks spinscope's extension (docs/tools.md) may
//! answer `tools/call` with `content-type: text/event-stream`: one event per
//! JSON-RPC notification it sent, in order, then one event whose data is
//! its result. The gateway reads the whole answer (the tool's own time is
//! unchanged), keeps the notifications the client asked for, and, when the
//! client accepts `text/event-stream`, answers with an SSE stream of those
//! notifications followed by the JSON-RPC response; otherwise, or when
//! none is kept, with the JSON response as always. The notifications reach
//! the client when the call ends, in the order sent, not as they happen.

use crate::mcp::modern::Era;
use serde_json::{json, Value};

/// The most notifications relayed from one call; the rest are dropped.
pub const MAX_NOTIFICATIONS: usize = 100;

/// `_meta` key of a 2026-07-28 request's log level (no level: no log messages).
pub const LOG_LEVEL_META: &str = "io.modelcontextprotocol/logLevel";

/// RFC 5424 severities as MCP names them, least severe first.
const LEVELS: [&str; 8] = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"];

/// Whether `level` is one of the log levels `logging/setLevel` takes.
pub fn is_log_level(level: &str) -> bool {
    severity(level).is_some()
}

fn severity(level: &str) -> Option<usize> {
    LEVELS.iter().position(|l| *l == level)
}

/// Whether a `content-type` is an SSE stream.
pub fn is_event_stream(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|t| t.trim_start().to_ascii_lowercase().starts_with("text/event-stream"))
}

/// A tool's `text/event-stream` answer: the notifications (events whose
/// data is a JSON object with a `method`), and the result (the last event
/// whose data is anything else) as a body to read as the plain answer.
pub fn split_event_stream(body: &[u8]) -> (Vec<Value>, Vec<u8>) {
    let text = String::from_utf8_lossy(body);
    let mut notifications = Vec::new();
    let mut result = Vec::new();
    for event in text.split("\n\n") {
        let data: Vec<&str> =
            event.lines().filter_map(|l| l.strip_prefix("data:")).map(|d| d.strip_prefix(' ').unwrap_or(d)).collect();
        if data.is_empty() {
            continue;
        }
        let data = data.join("\n");
        match serde_json::from_str::<Value>(&data) {
            Ok(v) if v.get("method").is_some_and(Value::is_string) => notifications.push(v),
            _ => result = data.into_bytes(),
        }
    }
    (notifications, result)
}

/// The notifications the client gets: progress only for the request's own
/// `progressToken`; log messages (`notifications/message`) on 2026-07-28
/// only when the request set a log level in `_meta` and at or above it, and
/// in the handshake era at or above `session_level` (none: no messages);
/// nothing else; at most [`MAX_NOTIFICATIONS`].
pub fn relayable(
    notifications: Vec<Value>,
    params: Option<&Value>,
    era: Era,
    session_level: Option<&str>,
) -> Vec<Value> {
    let meta = params.and_then(|p| p.get("_meta"));
    let token = meta.and_then(|m| m.get("progressToken")).filter(|t| t.is_string() || t.is_number());
    let level = match era {
        Era::Modern => meta.and_then(|m| m.get(LOG_LEVEL_META)).and_then(Value::as_str),
        Era::Handshake => session_level,
    }
    .and_then(severity);
    notifications
        .into_iter()
        .filter(|n| match n["method"].as_str() {
            Some("notifications/progress") => token.is_some() && n["params"].get("progressToken") == token,
            Some("notifications/message") => {
                level.is_some_and(|min| n["params"]["level"].as_str().and_then(severity).is_some_and(|l| l >= min))
            }
            _ => false,
        })
        .take(MAX_NOTIFICATIONS)
        .map(|n| json!({"jsonrpc": "2.0", "method": n["method"], "params": n["params"]}))
        .collect()
}

/// Whether the client takes an SSE answer (its `Accept` names it).
pub fn accepts_event_stream(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| a.split(',').any(|t| t.trim().to_ascii_lowercase().starts_with("text/event-stream")))
}

/// The SSE body: each notification, then the JSON-RPC response.
pub fn event_stream(notifications: &[Value], response: &Value) -> Vec<u8> {
    let mut body = String::new();
    for message in notifications.iter().chain(std::iter::once(response)) {
        body.push_str("event: message\ndata: ");
        body.push_str(&message.to_string());
        body.push_str("\n\n");
    }
    body.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(token: Value, n: u64) -> Value {
        json!({"jsonrpc": "2.0", "method": "notifications/progress",
            "params": {"progressToken": token, "progress": n, "total": 100}})
    }

    fn log(level: &str) -> Value {
        json!({"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": level, "data": "x"}})
    }

    #[test]
    fn a_stream_splits_into_notifications_and_the_result() {
        let body = format!(
            "event: message\ndata: {}\n\ndata: {}\n\n: a comment\n\nevent: message\ndata: {}\n\n",
            progress(json!("t"), 0),
            log("info"),
            json!({"content": [{"type": "text", "text": "done"}]})
        );
        let (notes, result) = split_event_stream(body.as_bytes());
        assert_eq!(notes.len(), 2);
        let result: Value = serde_json::from_slice(&result).unwrap();
        assert_eq!(result["content"][0]["text"], "done");
        assert!(is_event_stream(Some("text/event-stream; charset=utf-8")));
        assert!(!is_event_stream(Some("application/json")) && !is_event_stream(None));
    }

    #[test]
    fn only_what_the_request_asked_for_is_relayed() {
        let all = vec![
            progress(json!("t"), 0),
            progress(json!("other"), 1),
            log("debug"),
            log("error"),
            json!({"method": "x"}),
        ];
        let no_meta = json!({"name": "t"});
        assert!(relayable(all.clone(), Some(&no_meta), Era::Modern, None).is_empty(), "no token, no level");
        let token = json!({"_meta": {"progressToken": "t"}});
        let kept = relayable(all.clone(), Some(&token), Era::Modern, None);
        assert_eq!(kept, [progress(json!("t"), 0)]);
        let leveled = json!({"_meta": {LOG_LEVEL_META: "warning"}});
        let kept = relayable(all.clone(), Some(&leveled), Era::Modern, None);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0]["params"]["level"], "error");
        // The handshake era: the session's level, not _meta's.
        assert!(relayable(all.clone(), Some(&leveled), Era::Handshake, None).is_empty());
        assert_eq!(relayable(all.clone(), None, Era::Handshake, Some("debug")).len(), 2);
        let many: Vec<Value> = (0..500).map(|i| progress(json!(7), i)).collect();
        assert_eq!(
            relayable(many, Some(&json!({"_meta": {"progressToken": 7}})), Era::Modern, None).len(),
            MAX_NOTIFICATIONS
        );
    }

    #[test]
    fn the_answer_is_the_notifications_then_the_response() {
        assert!(is_log_level("warning") && !is_log_level("verbose"));
        assert!(accepts_event_stream(Some("application/json, text/event-stream")));
        assert!(!accepts_event_stream(Some("application/json")) && !accepts_event_stream(None));
        let body = event_stream(&[log("info")], &json!({"jsonrpc": "2.0", "id": 1, "result": {}}));
        let text = String::from_utf8(body).unwrap();
        let events: Vec<&str> = text.split("\n\n").filter(|e| !e.is_empty()).collect();
        assert_eq!(events.len(), 2);
        assert!(events[1].ends_with(r#""result":{}}"#), "{text}");
    }
}
