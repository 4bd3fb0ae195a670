//! Sends an answer built whole first (`spinscope::gateway::Reply`) on a
//! `ResponseOutparam`, so a component can do its bookkeeping after the
//! client has the whole answer; or an SSE answer event by event
//! ([`EventStream`]).

use spin_sdk::http::{Fields, OutgoingBody, OutgoingResponse, ResponseOutparam};
use spinscope::gateway::Reply;
use spinscope::log::LogFormat;
use wasi::io::streams::OutputStream;

/// Writes `reply` with the request id; the body is finished when this
/// returns, so the client has its whole answer before any bookkeeping.
///
/// The answer goes out in one TCP segment where it can: with its length
/// known (`content-length`, no chunked trailer) and its first bytes already
/// in the body when the head is handed over. Spin's HTTP server does not
/// set `TCP_NODELAY`; a head sent alone, then the body, had the body wait
/// for the client's delayed ACK (about 40 ms on Linux) on a third of the
/// calls of a client that sends one request at a time (docs/benchmark.md).
pub async fn send(response_out: ResponseOutparam, reply: Reply, request_id: &str, format: LogFormat) {
    let mut fields: Vec<(String, Vec<u8>)> = reply.headers.into_iter().map(|(k, v)| (k, v.into_bytes())).collect();
    fields.push(("x-request-id".into(), request_id.as_bytes().to_vec()));
    if !fields.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-length")) {
        fields.push(("content-length".into(), reply.body.len().to_string().into_bytes()));
    }
    let headers = Fields::from_list(&fields).unwrap_or_else(|_| Fields::new());
    let response = OutgoingResponse::new(headers);
    let _ = response.set_status_code(reply.status);
    let Ok(body) = response.body() else {
        response_out.set(response);
        return;
    };
    let Ok(stream) = body.write() else {
        response_out.set(response);
        return;
    };
    // What the body takes without waiting, written before the head is
    // handed over: waiting here would wait for a reader that is not there yet.
    let ready = stream.check_write().map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX));
    let first = ready.min(reply.body.len());
    let early = first > 0 && stream.write(&reply.body[..first]).is_ok();
    response_out.set(response);
    let rest = if early { &reply.body[first..] } else { &reply.body[..] };
    // The flush also sends what went in early when nothing is left.
    if let Err(e) = write_all(&stream, rest).and_then(|()| stream.blocking_flush()) {
        crate::diag::warn(format, "Response body not written", &format!("{e:?}"));
    }
    drop(stream);
    let _ = OutgoingBody::finish(body, None);
}

/// Writes and flushes `bytes`, waiting as the client reads them.
fn write_all(stream: &OutputStream, bytes: &[u8]) -> Result<(), wasi::io::streams::StreamError> {
    // `blocking-write-and-flush` takes at most 4096 bytes a call.
    bytes.chunks(4096).try_for_each(|chunk| stream.blocking_write_and_flush(chunk))
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
        write_all(&self.stream, bytes).map_err(|e| format!("{e:?}"))
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
