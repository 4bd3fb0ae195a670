//! Concurrent outgoing HTTP under one deadline, over `wasi:http/outgoing-handler`.
//!
//! spin-sdk's `send` cannot time out, and awaiting several of its futures still
//! needs an executor; here every request is handed to the host first, then a
//! single `wasi:io/poll` loop waits on all of them and on a deadline timer.
//! This is how the gateway fans `tools/list` out to every tool component at
//! once and bounds a `tools/call`.

mod error_code;
mod request;
mod response;

use request::start;
use response::{InFlight, Stage};
use std::time::Duration;

use wasi::clocks::monotonic_clock;
use wasi::io::poll::{self, Pollable};

/// A request to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// `GET`, `POST`, ...
    pub method: String,
    /// An absolute `http://` or `https://` URL, e.g. `http://calc.spin.internal/calculate`.
    pub url: String,
    /// Request headers, in order.
    pub headers: Vec<(String, String)>,
    /// The request body (empty for `GET`).
    pub body: Vec<u8>,
}

impl Outgoing {
    /// A `GET` of `url`, without headers.
    pub fn get(url: impl Into<String>) -> Outgoing {
        Outgoing { method: "GET".into(), url: url.into(), headers: Vec::new(), body: Vec::new() }
    }

    /// A `POST` of `body` to `url`, without headers.
    pub fn post(url: impl Into<String>, body: impl Into<Vec<u8>>) -> Outgoing {
        Outgoing { method: "POST".into(), url: url.into(), headers: Vec::new(), body: body.into() }
    }

    /// Adds a header (builder style).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Outgoing {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// A response, read up to the size limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The HTTP status code.
    pub status: u16,
    /// Header values that are not UTF-8 are converted lossily.
    pub headers: Vec<(String, String)>,
    /// The body, at most `max_response_bytes` of it.
    pub body: Vec<u8>,
    /// The body was longer than `max_response_bytes` and was cut there.
    pub truncated: bool,
    /// From just before the request was handed to the host to the end of its body.
    pub elapsed: Duration,
}

impl Reply {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Why a request produced no [`Reply`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendFailure {
    /// The deadline passed before the response (headers and body) was complete.
    #[error("timed out")]
    Timeout,
    /// The host reported a `wasi:http` error, e.g. `connection-refused`.
    #[error("HTTP error: {0}")]
    Http(String),
    /// The request could not be built (bad URL, method or header).
    #[error("invalid request: {0}")]
    Invalid(String),
}

/// Sends one request; see [`send_all`].
pub fn send(request: Outgoing, timeout: Duration, max_response_bytes: usize) -> Result<Reply, SendFailure> {
    send_all(vec![request], timeout, max_response_bytes).pop().expect("send_all returns one result per request")
}

/// The head of a response whose body is arriving: its status and headers.
pub struct Head<'a> {
    /// The HTTP status code.
    pub status: u16,
    /// The headers, as [`Reply::headers`].
    pub headers: &'a [(String, String)],
}

impl Head<'_> {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Sends one request as [`send`] does, and shows `observe` each piece of
/// the body as it arrives (within `max_response_bytes`), so that a stream
/// can be passed on while it is read; the [`Reply`] still has it all.
pub fn send_observed(
    request: Outgoing,
    timeout: Duration,
    max_response_bytes: usize,
    observe: &mut dyn FnMut(&Head<'_>, &[u8]),
) -> Result<Reply, SendFailure> {
    let mut observe = |_: usize, head: &Head<'_>, chunk: &[u8]| observe(head, chunk);
    send_each(vec![request], timeout, max_response_bytes, &mut observe).pop().expect("one result per request")
}

/// Sends all `requests` concurrently and returns their results in the same
/// order. Whatever is not complete `timeout` after the call is a
/// [`SendFailure::Timeout`]; bodies are cut at `max_response_bytes`.
///
/// Request bodies are written one request at a time (they are small: tool
/// arguments); the waiting for responses is what overlaps. Redirects are not
/// followed.
pub fn send_all(
    requests: Vec<Outgoing>,
    timeout: Duration,
    max_response_bytes: usize,
) -> Vec<Result<Reply, SendFailure>> {
    send_each(requests, timeout, max_response_bytes, &mut |_, _, _| {})
}

/// [`send_all`], showing `observe` each piece of each body (by the
/// request's index) as it arrives.
fn send_each(
    requests: Vec<Outgoing>,
    timeout: Duration,
    max_response_bytes: usize,
    observe: &mut dyn FnMut(usize, &Head<'_>, &[u8]),
) -> Vec<Result<Reply, SendFailure>> {
    let deadline = monotonic_clock::now().saturating_add(u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX));
    let mut results: Vec<Option<Result<Reply, SendFailure>>> = vec![None; requests.len()];
    let mut in_flight = Vec::new();

    for (index, request) in requests.into_iter().enumerate() {
        let started = monotonic_clock::now();
        match start(request, deadline) {
            Ok(future) => in_flight.push(InFlight { index, started, stage: Stage::Head(future) }),
            Err(failure) => results[index] = Some(Err(failure)),
        }
    }

    let timer = monotonic_clock::subscribe_instant(deadline);
    while !in_flight.is_empty() {
        let ready = {
            // Pollables are children of the futures and streams they watch, so
            // they are dropped here, before any of those can finish and go.
            let pollables: Vec<Pollable> = in_flight.iter().map(InFlight::subscribe).collect();
            let mut watched: Vec<&Pollable> = pollables.iter().collect();
            watched.push(&timer);
            poll::poll(&watched)
        };
        let mut position = 0u32;
        in_flight.retain_mut(|flight| {
            let is_ready = ready.contains(&position);
            position += 1;
            if !is_ready {
                return true;
            }
            match flight.advance(max_response_bytes, deadline, observe) {
                Some(result) => {
                    results[flight.index] = Some(result);
                    false
                }
                None => true,
            }
        });
        if timer.ready() {
            break;
        }
    }

    // Dropping what is still in flight cancels it.
    drop(in_flight);
    results.into_iter().map(|result| result.unwrap_or(Err(SendFailure::Timeout))).collect()
}
