//! Notifications a tool sends while it works (progress, log messages),
//! relayed to the client as they arrive, in a Streamable HTTP SSE
//! response, by each revision's rules.
//!
//! A tool component that speaks spinscope's extension (docs/tools.md) may
//! answer `tools/call` with `content-type: text/event-stream`: one event per
//! JSON-RPC notification it sends, in order, as it works, then one event
//! whose data is its result. The gateway reads that answer as it arrives
//! ([`EventReader`]), keeps the notifications the client asked for
//! ([`Relay`]) and, when the client accepts `text/event-stream`, sends each
//! one on at once: the client's answer becomes an SSE stream whose last
//! event is the JSON-RPC response. Otherwise, or when none is kept, the
//! answer is the JSON response as always.

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

/// A tool's `text/event-stream` answer, read as it arrives: each complete
/// event whose data is a JSON object with a `method` is a notification;
/// the last event whose data is anything else is the result.
#[derive(Debug, Default)]
pub struct EventReader {
    /// Bytes of an event not yet complete.
    pending: Vec<u8>,
    /// The result's data, once seen.
    result: Vec<u8>,
}

impl EventReader {
    /// Takes the next `chunk` of the body; returns the notifications it
    /// completed, in order.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<Value> {
        self.pending.extend_from_slice(chunk);
        let mut notifications = Vec::new();
        let mut start = 0;
        while let Some(end) = self.pending[start..].windows(2).position(|w| w == b"\n\n") {
            let event = String::from_utf8_lossy(&self.pending[start..start + end]).into_owned();
            self.event(&event, &mut notifications);
            start += end + 2;
        }
        self.pending.drain(..start);
        notifications
    }

    /// The body has ended: the notifications of an unterminated last event
    /// (if any), and the result's data as a body to read as the plain answer.
    pub fn finish(mut self) -> (Vec<Value>, Vec<u8>) {
        let mut notifications = Vec::new();
        let rest = String::from_utf8_lossy(&std::mem::take(&mut self.pending)).into_owned();
        self.event(&rest, &mut notifications);
        (notifications, self.result)
    }

    fn event(&mut self, event: &str, notifications: &mut Vec<Value>) {
        let data: Vec<&str> =
            event.lines().filter_map(|l| l.strip_prefix("data:")).map(|d| d.strip_prefix(' ').unwrap_or(d)).collect();
        if data.is_empty() {
            return;
        }
        let data = data.join("\n");
        match serde_json::from_str::<Value>(&data) {
            Ok(v) if v.get("method").is_some_and(Value::is_string) => notifications.push(v),
            _ => self.result = data.into_bytes(),
        }
    }
}

/// A whole `text/event-stream` answer at once: its notifications and its
/// result ([`EventReader`]).
pub fn split_event_stream(body: &[u8]) -> (Vec<Value>, Vec<u8>) {
    let mut reader = EventReader::default();
    let mut notifications = reader.push(body);
    let (rest, result) = reader.finish();
    notifications.extend(rest);
    (notifications, result)
}

/// Which of a call's notifications the client gets: progress only for the
/// request's own `progressToken`; log messages (`notifications/message`)
/// on 2026-07-28 only when the request set a log level in `_meta` and at
/// or above it, and in the handshake era at or above the session's level
/// (none: no messages); nothing else; at most [`MAX_NOTIFICATIONS`].
#[derive(Debug, Clone)]
pub struct Relay {
    token: Option<Value>,
    era: Era,
    /// The minimum severity of a log message, once known.
    level: Option<usize>,
    /// The handshake era's session level has been given.
    session_level_known: bool,
    kept: usize,
}

impl Relay {
    /// The rules for a request with `params`, in `era`.
    pub fn new(params: Option<&Value>, era: Era) -> Relay {
        let meta = params.and_then(|p| p.get("_meta"));
        let token = meta.and_then(|m| m.get("progressToken")).filter(|t| t.is_string() || t.is_number()).cloned();
        let level = match era {
            Era::Modern => meta.and_then(|m| m.get(LOG_LEVEL_META)).and_then(Value::as_str).and_then(severity),
            Era::Handshake => None,
        };
        Relay { token, era, level, session_level_known: era == Era::Modern, kept: 0 }
    }

    /// Whether deciding on `notification` needs the session's log level
    /// first ([`Relay::session_level`]): read only when a tool logged.
    pub fn needs_session_level(&self, notification: &Value) -> bool {
        !self.session_level_known && notification["method"] == "notifications/message"
    }

    /// The handshake-era session's level (`logging/setLevel`), if any.
    pub fn session_level(&mut self, level: Option<&str>) {
        if self.era == Era::Handshake {
            self.level = level.and_then(severity);
        }
        self.session_level_known = true;
    }

    /// The notification as the client gets it, or `None` if it is not relayed.
    pub fn keep(&mut self, notification: &Value) -> Option<Value> {
        let kept = match notification["method"].as_str() {
            Some("notifications/progress") => {
                self.token.is_some() && notification["params"].get("progressToken") == self.token.as_ref()
            }
            Some("notifications/message") => self.level.is_some_and(|min| {
                notification["params"]["level"].as_str().and_then(severity).is_some_and(|l| l >= min)
            }),
            _ => false,
        };
        if !kept || self.kept >= MAX_NOTIFICATIONS {
            return None;
        }
        self.kept += 1;
        Some(json!({"jsonrpc": "2.0", "method": notification["method"], "params": notification["params"]}))
    }
}

/// All of a call's notifications the client gets, at once ([`Relay`]).
pub fn relayable(
    notifications: Vec<Value>,
    params: Option<&Value>,
    era: Era,
    session_level: Option<&str>,
) -> Vec<Value> {
    let mut relay = Relay::new(params, era);
    relay.session_level(session_level);
    notifications.iter().filter_map(|n| relay.keep(n)).collect()
}

/// Whether the client takes an SSE answer (its `Accept` names it).
pub fn accepts_event_stream(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| a.split(',').any(|t| t.trim().to_ascii_lowercase().starts_with("text/event-stream")))
}

/// One SSE event carrying `message`.
pub fn event(message: &Value) -> Vec<u8> {
    format!("event: message\ndata: {message}\n\n").into_bytes()
}

/// The SSE body: each notification, then the JSON-RPC response.
pub fn event_stream(notifications: &[Value], response: &Value) -> Vec<u8> {
    notifications.iter().chain(std::iter::once(response)).flat_map(event).collect()
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

    #[test]
    fn a_stream_read_in_pieces_gives_each_notification_once_complete() {
        let body = format!(
            "event: message\ndata: {}\n\nevent: message\ndata: {}\n\nevent: message\ndata: {}",
            progress(json!("t"), 1),
            log("error"),
            json!({"content": []})
        );
        let whole = split_event_stream(body.as_bytes());
        // Every way of cutting the body in two gives the same events, each
        // as soon as its blank line has arrived.
        for cut in 0..body.len() {
            let mut reader = EventReader::default();
            let mut seen = reader.push(&body.as_bytes()[..cut]);
            assert_eq!(seen.len(), body[..cut].matches("\n\n").count(), "cut at {cut}");
            seen.extend(reader.push(&body.as_bytes()[cut..]));
            let (rest, result) = reader.finish();
            seen.extend(rest);
            assert_eq!((seen, result), whole.clone(), "cut at {cut}");
        }
        assert_eq!(whole.0.len(), 2);
    }

    #[test]
    fn a_relay_reads_the_session_level_only_for_a_log_message() {
        let mut relay = Relay::new(Some(&json!({"_meta": {"progressToken": 1}})), Era::Handshake);
        assert!(!relay.needs_session_level(&progress(json!(1), 0)));
        assert!(relay.keep(&progress(json!(1), 0)).is_some());
        assert!(relay.needs_session_level(&log("info")));
        relay.session_level(Some("warning"));
        assert!(!relay.needs_session_level(&log("info")));
        assert!(relay.keep(&log("info")).is_none() && relay.keep(&log("alert")).is_some());
        let modern = Relay::new(None, Era::Modern);
        assert!(!modern.needs_session_level(&log("info")), "2026-07-28 takes the level from _meta");
    }
}
