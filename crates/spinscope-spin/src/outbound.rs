//! Concurrent outgoing HTTP under one deadline, over `wasi:http/outgoing-handler`.
//!
//! spin-sdk's `send` cannot time out, and awaiting several of its futures still
//! needs an executor; here every request is handed to the host first, then a
//! single `wasi:io/poll` loop waits on all of them and on a deadline timer.
//! This is how the gateway fans `tools/list` out to every tool component at
//! once and bounds a `tools/call`.

use std::fmt;
use std::time::Duration;

use wasi::clocks::monotonic_clock;
use wasi::http::outgoing_handler;
use wasi::http::types::{
    self, ErrorCode, Fields, FutureIncomingResponse, HeaderError, IncomingBody, IncomingResponse,
    Method, OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};
use wasi::io::poll::{self, Pollable};
use wasi::io::streams::{InputStream, OutputStream, StreamError};

/// How much to read from a response body per call.
const READ_CHUNK: usize = 64 * 1024;

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
        Outgoing {
            method: "GET".into(),
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A `POST` of `body` to `url`, without headers.
    pub fn post(url: impl Into<String>, body: impl Into<Vec<u8>>) -> Outgoing {
        Outgoing {
            method: "POST".into(),
            url: url.into(),
            headers: Vec::new(),
            body: body.into(),
        }
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
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a request produced no [`Reply`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendFailure {
    /// The deadline passed before the response (headers and body) was complete.
    Timeout,
    /// The host reported a `wasi:http` error, e.g. `connection-refused`.
    Http(String),
    /// The request could not be built (bad URL, method or header).
    Invalid(String),
}

impl fmt::Display for SendFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendFailure::Timeout => f.write_str("timed out"),
            SendFailure::Http(code) => write!(f, "HTTP error: {code}"),
            SendFailure::Invalid(why) => write!(f, "invalid request: {why}"),
        }
    }
}

impl std::error::Error for SendFailure {}

/// Sends one request; see [`send_all`].
pub fn send(
    request: Outgoing,
    timeout: Duration,
    max_response_bytes: usize,
) -> Result<Reply, SendFailure> {
    send_all(vec![request], timeout, max_response_bytes)
        .pop()
        .expect("send_all returns one result per request")
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
    let deadline = monotonic_clock::now()
        .saturating_add(u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX));
    let mut results: Vec<Option<Result<Reply, SendFailure>>> = vec![None; requests.len()];
    let mut in_flight = Vec::new();

    for (index, request) in requests.into_iter().enumerate() {
        let started = monotonic_clock::now();
        match start(request, deadline) {
            Ok(future) => in_flight.push(InFlight {
                index,
                started,
                stage: Stage::Head(future),
            }),
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
            match flight.advance(max_response_bytes, deadline) {
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
    results
        .into_iter()
        .map(|result| result.unwrap_or(Err(SendFailure::Timeout)))
        .collect()
}

/// Builds the request, hands it to the host and writes its body.
fn start(request: Outgoing, deadline: u64) -> Result<FutureIncomingResponse, SendFailure> {
    let (scheme, authority, path_with_query) = split_url(&request.url)?;
    let mut fields: Vec<(String, Vec<u8>)> = request
        .headers
        .into_iter()
        .map(|(name, value)| (name, value.into_bytes()))
        .collect();
    // The body is known in full: say how long it is rather than chunking it.
    if !request.body.is_empty() && !fields.iter().any(|(n, _)| n.eq_ignore_ascii_case("content-length")) {
        fields.push(("content-length".into(), request.body.len().to_string().into_bytes()));
    }
    let headers = Fields::from_list(&fields).map_err(|e| {
        let names: Vec<&str> = fields.iter().map(|(name, _)| name.as_str()).collect();
        SendFailure::Invalid(format!("{} among headers {names:?}", header_error(&e)))
    })?;

    let outgoing = OutgoingRequest::new(headers);
    let invalid = |what: &str| SendFailure::Invalid(format!("{what} rejected by the host"));
    outgoing
        .set_method(&method(&request.method))
        .map_err(|()| invalid(&format!("method {:?}", request.method)))?;
    outgoing
        .set_scheme(Some(&scheme))
        .map_err(|()| invalid("scheme"))?;
    outgoing
        .set_authority(Some(authority))
        .map_err(|()| invalid(&format!("authority {authority:?}")))?;
    outgoing
        .set_path_with_query(Some(&path_with_query))
        .map_err(|()| invalid(&format!("path {path_with_query:?}")))?;
    let body = outgoing.body().map_err(|()| invalid("body"))?;

    // Best effort: a host without these timeouts is still cut off by our deadline.
    let remaining = deadline.saturating_sub(monotonic_clock::now());
    let options = RequestOptions::new();
    let _ = options.set_connect_timeout(Some(remaining));
    let _ = options.set_first_byte_timeout(Some(remaining));

    // Hand the request over before writing the body: the host only drains the
    // body stream once it is sending, so a larger body would never fit otherwise.
    let future = outgoing_handler::handle(outgoing, Some(options))
        .map_err(|code| SendFailure::Http(describe(&code)))?;
    match write_body(body, &request.body, deadline) {
        Err(SendFailure::Timeout) => Err(SendFailure::Timeout),
        // A closed body stream usually means the host already refused the
        // request (denied, no such component); the response says why, or is
        // a legitimate early response, so let it decide.
        Ok(()) | Err(_) => Ok(future),
    }
}

fn write_body(body: OutgoingBody, data: &[u8], deadline: u64) -> Result<(), SendFailure> {
    if !data.is_empty() {
        // The stream is a child of the body: it must be gone before `finish`.
        let stream = body
            .write()
            .map_err(|()| SendFailure::Invalid("request body stream unavailable".into()))?;
        write_all(&stream, data, deadline)?;
    }
    OutgoingBody::finish(body, None).map_err(|code| SendFailure::Http(describe(&code)))
}

fn write_all(stream: &OutputStream, mut data: &[u8], deadline: u64) -> Result<(), SendFailure> {
    let failed =
        |e: StreamError| SendFailure::Http(format!("writing request body: {}", stream_error(e)));
    while !data.is_empty() {
        let permitted = stream.check_write().map_err(failed)?;
        if permitted == 0 {
            wait(&stream.subscribe(), deadline)?;
            continue;
        }
        let n = data
            .len()
            .min(usize::try_from(permitted).unwrap_or(usize::MAX));
        stream.write(&data[..n]).map_err(failed)?;
        data = &data[n..];
    }
    stream.flush().map_err(failed)?;
    // A flush is complete once the stream accepts writes again.
    while stream.check_write().map_err(failed)? == 0 {
        wait(&stream.subscribe(), deadline)?;
    }
    Ok(())
}

/// Blocks until `pollable` is ready or the deadline passes.
fn wait(pollable: &Pollable, deadline: u64) -> Result<(), SendFailure> {
    let timer = monotonic_clock::subscribe_instant(deadline);
    if poll::poll(&[pollable, &timer]).contains(&0) {
        Ok(())
    } else {
        Err(SendFailure::Timeout)
    }
}

struct InFlight {
    index: usize,
    started: u64,
    stage: Stage,
}

enum Stage {
    Head(FutureIncomingResponse),
    Body(BodyRead),
}

impl InFlight {
    fn subscribe(&self) -> Pollable {
        match &self.stage {
            Stage::Head(future) => future.subscribe(),
            Stage::Body(read) => read.stream.subscribe(),
        }
    }

    /// Makes what progress is possible without blocking; `Some` once finished.
    fn advance(&mut self, max_bytes: usize, deadline: u64) -> Option<Result<Reply, SendFailure>> {
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
        let Stage::Body(read) = &mut self.stage else {
            unreachable!("the head stage either moved on or returned")
        };
        let truncated = match read.read_available(max_bytes)? {
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
struct BodyRead {
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
        Ok(BodyRead {
            stream,
            _body: body,
            _response: response,
            status,
            headers,
            buf: Vec::new(),
        })
    }

    /// Reads what is available now; `Some(Ok(truncated))` once the body is complete.
    fn read_available(&mut self, max_bytes: usize) -> Option<Result<bool, SendFailure>> {
        loop {
            // Asking for one byte past the limit tells a body of exactly
            // `max_bytes` apart from a longer one.
            let wanted = max_bytes.saturating_add(1) - self.buf.len();
            match self.stream.read(wanted.min(READ_CHUNK) as u64) {
                Ok(chunk) if chunk.is_empty() => return None,
                Ok(chunk) => {
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

/// Splits an absolute URL into scheme, authority and path-with-query.
fn split_url(url: &str) -> Result<(Scheme, &str, String), SendFailure> {
    let invalid = |why: &str| SendFailure::Invalid(format!("URL {url:?}: {why}"));
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| invalid("not absolute"))?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        _ => return Err(invalid("scheme is not http or https")),
    };
    let rest = rest.split('#').next().unwrap_or_default();
    let (authority, path) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    if authority.is_empty() {
        return Err(invalid("no host"));
    }
    let path_with_query = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    Ok((scheme, authority, path_with_query))
}

fn method(name: &str) -> Method {
    match name {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        "CONNECT" => Method::Connect,
        "OPTIONS" => Method::Options,
        "TRACE" => Method::Trace,
        "PATCH" => Method::Patch,
        other => Method::Other(other.to_owned()),
    }
}

fn is_timeout(code: &ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::ConnectionTimeout
            | ErrorCode::ConnectionReadTimeout
            | ErrorCode::HttpResponseTimeout
    )
}

fn header_error(e: &HeaderError) -> &'static str {
    match e {
        HeaderError::InvalidSyntax => "invalid header name or value",
        HeaderError::Forbidden => "forbidden header",
        HeaderError::Immutable => "immutable headers",
    }
}

/// A stream error, with the `wasi:http` error code behind it when there is one.
fn stream_error(e: StreamError) -> String {
    match e {
        StreamError::Closed => "stream closed".into(),
        StreamError::LastOperationFailed(err) => match types::http_error_code(&err) {
            Some(code) => describe(&code),
            None => err.to_debug_string(),
        },
    }
}

/// A `wasi:http` error code as its WIT name, plus its payload when it says something.
fn describe(code: &ErrorCode) -> String {
    use ErrorCode as E;
    let size = |n: Option<u64>| n.map(|n| n.to_string());
    let field = |p: &types::FieldSizePayload| match (&p.field_name, p.field_size) {
        (Some(name), Some(n)) => Some(format!("{name}: {n}")),
        (Some(name), None) => Some(name.clone()),
        (None, n) => size(n.map(u64::from)),
    };
    let (name, detail) = match code {
        E::DnsTimeout => ("dns-timeout", None),
        E::DnsError(p) => ("dns-error", p.rcode.clone()),
        E::DestinationNotFound => ("destination-not-found", None),
        E::DestinationUnavailable => ("destination-unavailable", None),
        E::DestinationIpProhibited => ("destination-ip-prohibited", None),
        E::DestinationIpUnroutable => ("destination-ip-unroutable", None),
        E::ConnectionRefused => ("connection-refused", None),
        E::ConnectionTerminated => ("connection-terminated", None),
        E::ConnectionTimeout => ("connection-timeout", None),
        E::ConnectionReadTimeout => ("connection-read-timeout", None),
        E::ConnectionWriteTimeout => ("connection-write-timeout", None),
        E::ConnectionLimitReached => ("connection-limit-reached", None),
        E::TlsProtocolError => ("tls-protocol-error", None),
        E::TlsCertificateError => ("tls-certificate-error", None),
        E::TlsAlertReceived(p) => ("tls-alert-received", p.alert_message.clone()),
        E::HttpRequestDenied => ("http-request-denied", None),
        E::HttpRequestLengthRequired => ("http-request-length-required", None),
        E::HttpRequestBodySize(n) => ("http-request-body-size", size(*n)),
        E::HttpRequestMethodInvalid => ("http-request-method-invalid", None),
        E::HttpRequestUriInvalid => ("http-request-uri-invalid", None),
        E::HttpRequestUriTooLong => ("http-request-uri-too-long", None),
        E::HttpRequestHeaderSectionSize(n) => {
            ("http-request-header-section-size", size(n.map(u64::from)))
        }
        E::HttpRequestHeaderSize(p) => ("http-request-header-size", p.as_ref().and_then(field)),
        E::HttpRequestTrailerSectionSize(n) => {
            ("http-request-trailer-section-size", size(n.map(u64::from)))
        }
        E::HttpRequestTrailerSize(p) => ("http-request-trailer-size", field(p)),
        E::HttpResponseIncomplete => ("http-response-incomplete", None),
        E::HttpResponseHeaderSectionSize(n) => {
            ("http-response-header-section-size", size(n.map(u64::from)))
        }
        E::HttpResponseHeaderSize(p) => ("http-response-header-size", field(p)),
        E::HttpResponseBodySize(n) => ("http-response-body-size", size(*n)),
        E::HttpResponseTrailerSectionSize(n) => {
            ("http-response-trailer-section-size", size(n.map(u64::from)))
        }
        E::HttpResponseTrailerSize(p) => ("http-response-trailer-size", field(p)),
        E::HttpResponseTransferCoding(c) => ("http-response-transfer-coding", c.clone()),
        E::HttpResponseContentCoding(c) => ("http-response-content-coding", c.clone()),
        E::HttpResponseTimeout => ("http-response-timeout", None),
        E::HttpUpgradeFailed => ("http-upgrade-failed", None),
        E::HttpProtocolError => ("http-protocol-error", None),
        E::LoopDetected => ("loop-detected", None),
        E::ConfigurationError => ("configuration-error", None),
        E::InternalError(msg) => ("internal-error", msg.clone()),
    };
    match detail {
        Some(detail) => format!("{name} ({detail})"),
        None => name.to_owned(),
    }
}
