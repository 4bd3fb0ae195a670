//! A tool's SSE answer read as it arrives: each notification the client
//! asked for goes on to it at once (`spinscope::gateway::notifications`
//! decides which; [`Context::relay`] sends), and the result is left as the
//! tool's plain answer.

use crate::context::Context;
use serde_json::Value;
use spinscope::gateway::notifications::{self, EventReader, Relay};
use spinscope::mcp::modern::Era;
use spinscope_spin::outbound::{Head, Reply};
use spinscope_spin::sessions;

/// Reads one tool call's answer for notifications.
pub struct ToolStream<'a> {
    cx: &'a Context,
    /// The client takes an SSE answer: notifications are sent on.
    live: bool,
    /// The tool answered `text/event-stream` (known with the first piece).
    event_stream: Option<bool>,
    reader: EventReader,
    relay: Relay,
}

impl<'a> ToolStream<'a> {
    /// For a call with `params` (the request's, with its `_meta`).
    pub fn new(cx: &'a Context, params: &Value) -> Self {
        ToolStream {
            cx,
            live: notifications::accepts_event_stream(cx.header("accept")),
            event_stream: None,
            reader: EventReader::default(),
            relay: Relay::new(Some(params), cx.era),
        }
    }

    /// The next piece of the tool's body.
    pub fn observe(&mut self, head: &Head<'_>, chunk: &[u8]) {
        let event_stream =
            *self.event_stream.get_or_insert_with(|| notifications::is_event_stream(head.header("content-type")));
        if event_stream {
            for notification in self.reader.push(chunk) {
                self.pass_on(&notification);
            }
        }
    }

    /// The body has ended: an SSE answer's last notifications go on, and
    /// its result becomes the body read as the tool's answer.
    pub fn finish(mut self, reply: &mut Reply) {
        if self.event_stream != Some(true) || reply.truncated {
            return;
        }
        let (rest, result) = std::mem::take(&mut self.reader).finish();
        for notification in rest {
            self.pass_on(&notification);
        }
        reply.body = result;
    }

    fn pass_on(&mut self, notification: &Value) {
        if !self.live {
            return;
        }
        if self.relay.needs_session_level(notification) {
            // Read only when the tool logged: the session's `logging/setLevel`.
            let level = match (self.cx.era, self.cx.record.session_id.as_deref(), self.cx.store()) {
                (Era::Handshake, Some(id), Ok(store)) => sessions::log_level(store, id).ok().flatten(),
                _ => None,
            };
            self.relay.session_level(level.as_deref());
        }
        if let Some(kept) = self.relay.keep(notification) {
            self.cx.relay(&kept);
        }
    }
}
