//! Sends an answer built whole first (`spinscope::gateway::Reply`) on a
//! `ResponseOutparam`, so a component can do its bookkeeping after the
//! client has the whole answer; or an SSE answer event by event
//! ([`EventStream`]).

use futures::SinkExt;
use spin_sdk::http::{Fields, OutgoingBody, OutgoingResponse, ResponseOutparam};
use spinscope::gateway::Reply;
use spinscope::log::LogFormat;
use wasi::io::streams::OutputStream;

/// Writes `reply` with the request id; the body is finished when this
/// returns, so the client has its whole answer before any bookkeeping.
pub async fn send(response_out: ResponseOutparam, reply: Reply, request_id: &str, format: LogFormat) {
    let mut fields: Vec<(String, Vec<u8>)> = reply.headers.into_iter().map(|(k, v)| (k, v.into_bytes())).collect();
    fields.push(("x-request-id".into(), request_id.as_bytes().to_vec()));
    let headers = Fields::from_list(&fields).unwrap_or_else(|_| Fields::new());
    let response = OutgoingResponse::new(headers);
    let _ = response.set_status_code(reply.status);
    let mut body = response.take_body();
    response_out.set(response);
    if !reply.body.is_empty() {
        if let Err(e) = body.send(reply.body).await {
            crate::diag::warn(format, "Response body not written", &e.to_string());
        }
    }
    drop(body);
}

/// An SSE answer sent while it is made: the head goes out when it is
/// opened, each event as soon as it is written, so the client sees a
/// tool's progress as it happens.
pub struct EventStream {
    // Fields drop in declaration order: the stream before its body.
    stream: OutputStream,
    body: Option<OutgoingBody>,
}

impl EventStream {
    /// Answers 200 with `content-type: text/event-stream` and the request
    /// id, and keeps the body open for events.
    pub fn open(response_out: ResponseOutparam, request_id: &str) -> Result<EventStream, String> {
        let fields = [
            ("content-type".to_string(), b"text/event-stream".to_vec()),
            ("cache-control".to_string(), b"no-cache".to_vec()),
            ("x-request-id".to_string(), request_id.as_bytes().to_vec()),
        ];
        let headers = Fields::from_list(&fields).unwrap_or_else(|_| Fields::new());
        let response = OutgoingResponse::new(headers);
        let _ = response.set_status_code(200);
        let body = response.body().map_err(|()| "response body already taken".to_string())?;
        let stream = body.write().map_err(|()| "response body stream already taken".to_string())?;
        response_out.set(response);
        Ok(EventStream { stream, body: Some(body) })
    }

    /// Writes `bytes` and flushes them to the client.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), String> {
        // `blocking-write-and-flush` takes at most 4096 bytes a call.
        for chunk in bytes.chunks(4096) {
            self.stream.blocking_write_and_flush(chunk).map_err(|e| format!("{e:?}"))?;
        }
        Ok(())
    }

    /// Ends the answer.
    pub fn finish(mut self) {
        let body = self.body.take();
        drop(self);
        if let Some(body) = body {
            let _ = OutgoingBody::finish(body, None);
        }
    }
}
