//! A request body read under a size limit and a deadline, so that no
//! client can hold the request (and whatever it holds) by sending slowly.

use spin_sdk::http::IncomingRequest;
use std::time::Duration;
use wasi::clocks::monotonic_clock;
use wasi::io::poll;
use wasi::io::streams::StreamError;

/// Bytes past the limit read and thrown away before the refusal, so a
/// client that sent a little too much gets its answer on a clean
/// connection (closing on unread data resets it, and the answer with it).
/// Anything larger is refused without reading further.
const DRAIN_BYTES: usize = 1 << 20;

/// The most read at once.
const CHUNK: u64 = 64 * 1024;

/// Why a body was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// Over the limit.
    #[error("request body exceeds the limit")]
    TooLarge,
    /// Not all of it arrived before the deadline.
    #[error("request body not received within the deadline")]
    TooSlow,
    /// The stream failed.
    #[error("{0}")]
    Unreadable(String),
}

/// Reads the body, refusing it once it passes `max` bytes (at once when
/// `announced`, its `Content-Length`, is far over, else after reading but
/// not keeping at most [`DRAIN_BYTES`] more), or when it has not all
/// arrived within `deadline` of this call.
pub fn read_limited(
    request: IncomingRequest,
    max: usize,
    announced: Option<usize>,
    deadline: Duration,
) -> Result<Vec<u8>, BodyError> {
    if announced.is_some_and(|len| len > max.saturating_add(DRAIN_BYTES)) {
        return Err(BodyError::TooLarge);
    }
    let unreadable = |what: &str| BodyError::Unreadable(what.to_string());
    let incoming = request.consume().map_err(|()| unreadable("the body was already consumed"))?;
    let stream = incoming.stream().map_err(|()| unreadable("the body stream was already taken"))?;
    let until = monotonic_clock::now().saturating_add(u64::try_from(deadline.as_nanos()).unwrap_or(u64::MAX));
    let timer = monotonic_clock::subscribe_instant(until);
    let mut body = Vec::new();
    let mut read = 0usize;
    loop {
        match stream.read(CHUNK) {
            Ok(bytes) if bytes.is_empty() => {
                // Nothing yet: wait for more, or for the deadline.
                let ready = stream.subscribe();
                poll::poll(&[&ready, &timer]);
                drop(ready);
                if timer.ready() {
                    return Err(BodyError::TooSlow);
                }
            }
            Ok(bytes) => {
                read += bytes.len();
                if read > max.saturating_add(DRAIN_BYTES) {
                    return Err(BodyError::TooLarge);
                }
                if read <= max {
                    body.extend_from_slice(&bytes);
                }
                if monotonic_clock::now() >= until {
                    return Err(BodyError::TooSlow);
                }
            }
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(e)) => return Err(BodyError::Unreadable(e.to_debug_string())),
        }
    }
    if read > max {
        return Err(BodyError::TooLarge);
    }
    Ok(body)
}
