//! A request in flight: waiting for its head, then reading its body in
//! chunks up to the size cap.

use super::error_code::{describe, is_timeout, stream_error};
use super::{Head, Reply, SendFailure};
use std::time::Duration;
use wasi::clocks::monotonic_clock;
use wasi::http::types::{FutureIncomingResponse, IncomingBody, IncomingResponse};
use wasi::io::poll::Pollable;
use wasi::io::streams::{InputStream, StreamError};

/// How much to read from a response body per call.
const READ_CHUNK: usize = 64 * 1024;

pub(super) struct InFlight {
    pub(super) index: usize,
    pub(super) started: u64,
    pub(super) stage: Stage,
}

pub(super) enum Stage {
    Head(FutureIncomingResponse),
    Body(BodyRead),
}

impl InFlight {
    pub(super) fn subscribe(&self) -> Pollable {
        match &self.stage {
            Stage::Head(future) => future.subscribe(),
            Stage::Body(read) => read.stream.subscribe(),
        }
    }

    /// Makes what progress is possible without blocking; `Some` once finished.
    /// Each piece of the body read is shown to `observe` first.
    pub(super) fn advance(
        &mut self,
        max_bytes: usize,
        deadline: u64,
        observe: &mut dyn FnMut(usize, &Head<'_>, &[u8]),
    ) -> Option<Result<Reply, SendFailure>> {
        if let Stage::Head(future) = &self.stage {
            match future.get()? {
                Ok(Ok(response)) => match BodyRead::new(response) {
                    Ok(read) => self.stage = Stage::Body(read),
                    Err(failure) => return Some(Err(failure)),
                },
                // The host's own timeouts were set to our deadline.
                Ok(Err(code)) if is_timeout(&code) && monotonic_clock::now() >= deadline => {
                    return Some(Err(SendFailure::Timeout))
                }
                Ok(Err(code)) => return Some(Err(SendFailure::Http(describe(&code)))),
                Err(()) => unreachable!("a response is only taken once, then the stage changes"),
            }
        }
        let Stage::Body(read) = &mut self.stage else { unreachable!("the head stage either moved on or returned") };
        let index = self.index;
        let truncated = match read.read_available(max_bytes, &mut |head, chunk| observe(index, head, chunk))? {
            Ok(truncated) => truncated,
            Err(failure) => return Some(Err(failure)),
        };
        Some(Ok(Reply {
            status: read.status,
            headers: std::mem::take(&mut read.headers),
            body: std::mem::take(&mut read.buf),
            truncated,
            elapsed: Duration::from_nanos(monotonic_clock::now().saturating_sub(self.started)),
        }))
    }
}

/// A response whose body is being read.
pub(super) struct BodyRead {
    // Fields drop in declaration order, and wasi child resources (the stream of
    // the body, the body of the response) must go before their parents.
    stream: InputStream,
    _body: IncomingBody,
    _response: IncomingResponse,
    status: u16,
    headers: Vec<(String, String)>,
    buf: Vec<u8>,
}

impl BodyRead {
    fn new(response: IncomingResponse) -> Result<BodyRead, SendFailure> {
        let status = response.status();
        let headers = response
            .headers()
            .entries()
            .into_iter()
            .map(|(name, value)| (name, String::from_utf8_lossy(&value).into_owned()))
            .collect();
        let taken = || SendFailure::Http("response body already taken".into());
        let body = response.consume().map_err(|()| taken())?;
        let stream = body.stream().map_err(|()| taken())?;
        Ok(BodyRead { stream, _body: body, _response: response, status, headers, buf: Vec::new() })
    }

    /// Reads what is available now; `Some(Ok(truncated))` once the body is complete.
    fn read_available(
        &mut self,
        max_bytes: usize,
        observe: &mut dyn FnMut(&Head<'_>, &[u8]),
    ) -> Option<Result<bool, SendFailure>> {
        loop {
            // Asking for one byte past the limit tells a body of exactly
            // `max_bytes` apart from a longer one.
            let wanted = max_bytes.saturating_add(1) - self.buf.len();
            match self.stream.read(wanted.min(READ_CHUNK) as u64) {
                Ok(chunk) if chunk.is_empty() => return None,
                Ok(chunk) => {
                    let kept = chunk.len().min(max_bytes.saturating_sub(self.buf.len()));
                    observe(&Head { status: self.status, headers: &self.headers }, &chunk[..kept]);
                    self.buf.extend_from_slice(&chunk);
                    if self.buf.len() > max_bytes {
                        self.buf.truncate(max_bytes);
                        return Some(Ok(true));
                    }
                }
                Err(StreamError::Closed) => return Some(Ok(false)),
                Err(e) => {
                    let why = format!("reading response body: {}", stream_error(e));
                    return Some(Err(SendFailure::Http(why)));
                }
            }
        }
    }
}
