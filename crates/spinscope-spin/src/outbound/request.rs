//! Building a request, handing it to the host and writing its body, all
//! under the deadline.

use super::error_code::{describe, stream_error};
use super::{Outgoing, SendFailure};
use wasi::clocks::monotonic_clock;
use wasi::http::outgoing_handler;
use wasi::http::types::{
    Fields, FutureIncomingResponse, HeaderError, Method, OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};
use wasi::io::poll::{self, Pollable};
use wasi::io::streams::{OutputStream, StreamError};

/// Builds the request, hands it to the host and writes its body.
pub(super) fn start(request: Outgoing, deadline: u64) -> Result<FutureIncomingResponse, SendFailure> {
    let (scheme, authority, path_with_query) = split_url(&request.url)?;
    let mut fields: Vec<(String, Vec<u8>)> =
        request.headers.into_iter().map(|(name, value)| (name, value.into_bytes())).collect();
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
    outgoing.set_method(&method(&request.method)).map_err(|()| invalid(&format!("method {:?}", request.method)))?;
    outgoing.set_scheme(Some(&scheme)).map_err(|()| invalid("scheme"))?;
    outgoing.set_authority(Some(authority)).map_err(|()| invalid(&format!("authority {authority:?}")))?;
    outgoing.set_path_with_query(Some(&path_with_query)).map_err(|()| invalid(&format!("path {path_with_query:?}")))?;
    let body = outgoing.body().map_err(|()| invalid("body"))?;

    // Best effort: a host without these timeouts is still cut off by our deadline.
    let remaining = deadline.saturating_sub(monotonic_clock::now());
    let options = RequestOptions::new();
    let _ = options.set_connect_timeout(Some(remaining));
    let _ = options.set_first_byte_timeout(Some(remaining));

    // Hand the request over before writing the body: the host only drains the
    // body stream once it is sending, so a larger body would never fit otherwise.
    let future =
        outgoing_handler::handle(outgoing, Some(options)).map_err(|code| SendFailure::Http(describe(&code)))?;
    match write_body(body, &request.body, deadline) {
        Err(SendFailure::Timeout) => Err(SendFailure::Timeout),
        // A closed body stream usually means the host already refused the
        // request (denied, no such component); the response says why, or is
        // a legitimate early response, so let it decide.
        Ok(()) | Err(_) => Ok(future),
    }
}

pub(super) fn write_body(body: OutgoingBody, data: &[u8], deadline: u64) -> Result<(), SendFailure> {
    if !data.is_empty() {
        // The stream is a child of the body: it must be gone before `finish`.
        let stream = body.write().map_err(|()| SendFailure::Invalid("request body stream unavailable".into()))?;
        write_all(&stream, data, deadline)?;
    }
    OutgoingBody::finish(body, None).map_err(|code| SendFailure::Http(describe(&code)))
}

pub(super) fn write_all(stream: &OutputStream, mut data: &[u8], deadline: u64) -> Result<(), SendFailure> {
    let failed = |e: StreamError| SendFailure::Http(format!("writing request body: {}", stream_error(e)));
    while !data.is_empty() {
        let permitted = stream.check_write().map_err(failed)?;
        if permitted == 0 {
            wait(&stream.subscribe(), deadline)?;
            continue;
        }
        let n = data.len().min(usize::try_from(permitted).unwrap_or(usize::MAX));
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
pub(super) fn wait(pollable: &Pollable, deadline: u64) -> Result<(), SendFailure> {
    let timer = monotonic_clock::subscribe_instant(deadline);
    if poll::poll(&[pollable, &timer]).contains(&0) {
        Ok(())
    } else {
        Err(SendFailure::Timeout)
    }
}

/// Splits an absolute URL into scheme, authority and path-with-query.
pub(super) fn split_url(url: &str) -> Result<(Scheme, &str, String), SendFailure> {
    let invalid = |why: &str| SendFailure::Invalid(format!("URL {url:?}: {why}"));
    let (scheme, rest) = url.split_once("://").ok_or_else(|| invalid("not absolute"))?;
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
    let path_with_query = if path.starts_with('/') { path.to_owned() } else { format!("/{path}") };
    Ok((scheme, authority, path_with_query))
}

pub(super) fn method(name: &str) -> Method {
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

pub(super) fn header_error(e: &HeaderError) -> &'static str {
    match e {
        HeaderError::InvalidSyntax => "invalid header name or value",
        HeaderError::Forbidden => "forbidden header",
        HeaderError::Immutable => "immutable headers",
    }
}
