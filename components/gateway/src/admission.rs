//! Admission: the checks a request passes before the gateway does any work
//! for it (configuration, origin, API key, concurrency, rate limit), and the
//! body read under its size limit. Each refusal is a [`GatewayError`].

use crate::context::Context;
use crate::error::GatewayError;
use crate::logger::TARGET_GATEWAY;
use futures::StreamExt;
use spin_sdk::http::IncomingRequest;
use spinscope::auth::{Caller, RateWindow};
use spinscope::keys;
use spinscope::log::Level;
use spinscope::mcp;
use spinscope::metrics::series::RejectReason;
use spinscope_spin::kv::{KvError, Store};
use spinscope_spin::{metrics_sink, time};

/// Every check, in order; `Ok` admits the request.
pub fn admit(cx: &mut Context) -> Result<(), GatewayError> {
    configured(cx)?;
    origin_allowed(cx)?;
    authenticate(cx)?;
    let now = time::now_unix_ms();
    within_concurrency(cx, now)?;
    within_rate_limit(cx, now)
}

fn configured(cx: &Context) -> Result<(), GatewayError> {
    let Some((message, public)) = &cx.misconfiguration else { return Ok(()) };
    cx.log.emit(cx.log.line(Level::Error, TARGET_GATEWAY, "Server misconfigured").field("error", message.as_str()));
    Err(GatewayError::rpc(503, None, mcp::INTERNAL_ERROR, format!("server misconfigured: {public}")))
}

fn origin_allowed(cx: &Context) -> Result<(), GatewayError> {
    let Some(origin) = cx.header("origin") else { return Ok(()) };
    if cx.config.origin_allowed(origin) {
        return Ok(());
    }
    cx.log.emit(cx.log.line(Level::Warn, TARGET_GATEWAY, "Origin refused").field("origin", origin));
    Err(GatewayError::rpc(403, None, mcp::INVALID_REQUEST, format!("origin {origin} is not allowed")))
}

fn authenticate(cx: &mut Context) -> Result<(), GatewayError> {
    let caller = cx.config.api_keys.authenticate(cx.header("authorization"), cx.header("x-api-key"));
    if caller.allowed() {
        cx.record.tenant = caller.tenant().map(str::to_string);
        return Ok(());
    }
    let reason = if caller == Caller::Missing { "missing" } else { "invalid" };
    cx.log.emit(cx.log.line(Level::Warn, TARGET_GATEWAY, "Request without a valid API key").field("reason", reason));
    let message = "a valid API key is required (Authorization: Bearer <key> or X-API-Key)";
    Err(GatewayError::rejected(RejectReason::Unauthorized, 401, mcp::INVALID_REQUEST, message)
        .with_header("www-authenticate", "Bearer realm=\"spinscope\""))
}

/// The gateway-wide limit on requests in flight: a slot is taken with one
/// `increment` of this minute's counter (released in `finish`). Without
/// the store the limit cannot be kept: the request is refused (503).
fn within_concurrency(cx: &mut Context, now: u64) -> Result<(), GatewayError> {
    let max = cx.config.max_concurrency as i64;
    if max == 0 {
        return Ok(());
    }
    let minute = now / 60_000;
    let taken = cx.store().and_then(|store| take_slot(store, minute, now, max).map_err(|e| e.to_string()));
    match taken {
        Ok(true) => cx.record.in_flight_slot = Some(minute),
        Ok(false) => {
            let message = format!("more than {max} requests in flight; retry shortly");
            return Err(GatewayError::rejected(RejectReason::Concurrency, 429, mcp::INTERNAL_ERROR, message)
                .with_header("retry-after", "1"));
        }
        Err(e) => return Err(limit_unchecked(cx, "Concurrency limit not checked", &e)),
    }
    Ok(())
}

/// A limit that cannot be kept fails closed: 503, logged with the cause.
fn limit_unchecked(cx: &Context, message: &str, error: &str) -> GatewayError {
    cx.warn(Level::Error, message, error);
    GatewayError::rpc(503, None, mcp::INTERNAL_ERROR, "a request limit cannot be checked right now; try again later")
        .with_header("retry-after", "1")
}

fn take_slot(store: &Store, minute: u64, now: u64, max: i64) -> Result<bool, KvError> {
    store.increment(&keys::in_flight(minute), 1)?;
    if metrics_sink::in_flight(store, now) > max {
        let _ = store.increment(&keys::in_flight(minute), -1);
        return Ok(false);
    }
    Ok(true)
}

/// The tenant's rate limit (see [`RateWindow`]). Without the store it
/// cannot be kept: the request is refused (503), never let through.
fn within_rate_limit(cx: &mut Context, now: u64) -> Result<(), GatewayError> {
    let per_minute = cx.config.rate_limit_per_minute;
    if per_minute == 0 {
        return Ok(());
    }
    let window = RateWindow::new(per_minute, cx.config.rate_limit_burst);
    let tenant = cx.record.tenant.as_deref().unwrap_or("-");
    let decision = cx.store().and_then(|store| rate_decision(store, &window, tenant, now).map_err(|e| e.to_string()));
    match decision {
        Ok(Ok(())) => Ok(()),
        Ok(Err(retry_after_secs)) => {
            let message = format!("rate limit of {per_minute} requests a minute reached");
            Err(GatewayError::rejected(RejectReason::RateLimit, 429, mcp::INTERNAL_ERROR, message)
                .with_header("retry-after", retry_after_secs.to_string()))
        }
        Err(e) => Err(limit_unchecked(cx, "Rate limit not checked", &e)),
    }
}

/// Counts this request in its tenant's rate window and decides: one
/// `increment`, plus a `get` of the previous window when the count alone
/// does not refuse. The first request of a window deletes the window
/// before the previous one, which nothing reads again.
fn rate_decision(store: &Store, window: &RateWindow, tenant: &str, now: u64) -> Result<Result<(), u64>, KvError> {
    let index = window.index(now);
    let current = store.increment(&keys::rate_limit(tenant, index), 1)?.max(0) as u64;
    if current == 1 && index >= 2 {
        let _ = store.delete(&keys::rate_limit(tenant, index - 2));
    }
    if current > window.limit {
        return Ok(window.admit(now, 0, current));
    }
    let previous = match index.checked_sub(1) {
        Some(prev) => {
            store.get(&keys::rate_limit(tenant, prev))?.as_deref().and_then(spinscope::metrics::decode_counter)
        }
        None => None,
    };
    Ok(window.admit(now, previous.unwrap_or(0).max(0) as u64, current))
}

/// Bytes past `max_request_bytes` read and thrown away before a 413, so a
/// client that sent a little too much gets its answer on a clean
/// connection (closing on unread data resets it, and the answer with it).
/// Anything larger is refused without reading further.
const DRAIN_BYTES: usize = 1 << 20;

/// Reads the body, refusing it (413) once it passes the limit: at once when
/// `Content-Length` says it is far over, else after reading (not keeping)
/// at most [`DRAIN_BYTES`] more.
pub async fn read_body(cx: &mut Context, request: IncomingRequest) -> Result<Vec<u8>, GatewayError> {
    let max = cx.config.max_request_bytes;
    let too_large = || {
        let message = format!("request body exceeds the limit of {max} bytes");
        GatewayError::rejected(RejectReason::Payload, 413, mcp::INVALID_REQUEST, message)
    };
    let announced = cx.header("content-length").and_then(|v| v.trim().parse::<usize>().ok());
    if announced.is_some_and(|len| len > max.saturating_add(DRAIN_BYTES)) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    let mut read = 0usize;
    let mut stream = request.into_body_stream();
    while let Some(chunk) = stream.next().await {
        let bytes = chunk.map_err(|e| {
            GatewayError::rpc(400, None, mcp::PARSE_ERROR, format!("could not read the request body: {e}"))
        })?;
        read += bytes.len();
        if read > max.saturating_add(DRAIN_BYTES) {
            return Err(too_large());
        }
        if read <= max {
            body.extend_from_slice(&bytes);
        }
    }
    if read > max {
        return Err(too_large());
    }
    cx.record.request_bytes = body.len();
    Ok(body)
}
