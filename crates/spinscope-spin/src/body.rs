//! A request body read under a size limit.

use futures::StreamExt;
use spin_sdk::http::IncomingRequest;

/// Bytes past the limit read and thrown away before the refusal, so a
/// client that sent a little too much gets its answer on a clean
/// connection (closing on unread data resets it, and the answer with it).
/// Anything larger is refused without reading further.
const DRAIN_BYTES: usize = 1 << 20;

/// Why a body was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// Over the limit.
    #[error("request body exceeds the limit")]
    TooLarge,
    /// The stream failed.
    #[error("{0}")]
    Unreadable(String),
}

/// Reads the body, refusing it once it passes `max` bytes: at once when
/// `announced` (its `Content-Length`) is far over, else after reading (not
/// keeping) at most [`DRAIN_BYTES`] more.
pub async fn read_limited(
    request: IncomingRequest,
    max: usize,
    announced: Option<usize>,
) -> Result<Vec<u8>, BodyError> {
    if announced.is_some_and(|len| len > max.saturating_add(DRAIN_BYTES)) {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    let mut read = 0usize;
    let mut stream = request.into_body_stream();
    while let Some(chunk) = stream.next().await {
        let bytes = chunk.map_err(|e| BodyError::Unreadable(e.to_string()))?;
        read += bytes.len();
        if read > max.saturating_add(DRAIN_BYTES) {
            return Err(BodyError::TooLarge);
        }
        if read <= max {
            body.extend_from_slice(&bytes);
        }
    }
    if read > max {
        return Err(BodyError::TooLarge);
    }
    Ok(body)
}
