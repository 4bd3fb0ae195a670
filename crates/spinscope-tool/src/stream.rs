//! A `tools/call` answered while the tool works: each notification goes to
//! the gateway the moment it is sent, and the gateway passes it on to the
//! client at once (docs/tools.md, "Notifications"). For a tool component
//! whose handler takes the `ResponseOutparam` (an async `#[http_component]`
//! over `IncomingRequest`); [`respond`] sends its other answers.

use serde_json::Value;
use spin_sdk::http::{Fields, OutgoingBody, OutgoingResponse, Response, ResponseOutparam};
use wasi::io::streams::OutputStream;

/// An open `text/event-stream` answer: [`EventSink::send`] each
/// notification, then [`EventSink::finish`] with the result.
pub struct EventSink {
    // Fields drop in declaration order: the stream before its body.
    stream: OutputStream,
    body: Option<OutgoingBody>,
}

impl EventSink {
    /// Answers 200 `text/event-stream` and keeps the body open.
    pub fn open(out: ResponseOutparam) -> Result<EventSink, String> {
        let headers = Fields::from_list(&[("content-type".to_string(), b"text/event-stream".to_vec())])
            .map_err(|e| format!("{e:?}"))?;
        let response = OutgoingResponse::new(headers);
        let _ = response.set_status_code(200);
        let body = response.body().map_err(|()| "response body already taken".to_string())?;
        let stream = body.write().map_err(|()| "response body stream already taken".to_string())?;
        out.set(response);
        Ok(EventSink { stream, body: Some(body) })
    }

    /// Sends one JSON-RPC notification now.
    pub fn send(&mut self, notification: &Value) -> Result<(), String> {
        self.event(notification)
    }

    /// Sends the result, last, and ends the answer.
    pub fn finish(mut self, result: &Value) -> Result<(), String> {
        let sent = self.event(result);
        let body = self.body.take();
        drop(self);
        if let Some(body) = body {
            OutgoingBody::finish(body, None).map_err(|e| format!("{e:?}"))?;
        }
        sent
    }

    fn event(&mut self, message: &Value) -> Result<(), String> {
        let event = format!("event: message\ndata: {message}\n\n");
        // `blocking-write-and-flush` takes at most 4096 bytes a call.
        for chunk in event.as_bytes().chunks(4096) {
            self.stream.blocking_write_and_flush(chunk).map_err(|e| format!("{e:?}"))?;
        }
        Ok(())
    }
}

/// Sends a whole `response` on `out`.
pub async fn respond(out: ResponseOutparam, response: Response) {
    let body = response.body().to_vec();
    match OutgoingResponse::try_from(response) {
        Ok(head) => {
            let _ = out.set_with_body(head, body).await;
        }
        Err(_) => out.set(OutgoingResponse::new(Fields::new())),
    }
}
