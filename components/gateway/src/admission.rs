//! Admission: the checks a request passes before the gateway does any work
//! for it, in `spinscope::gateway::admission::ORDER`: configuration, API
//! key and origin without the store; then the tenant's rate in it; then
//! the body, read under its size limit and deadline; then, once the body
//! is in, a concurrency slot.

use crate::context::Context;
use spin_sdk::http::IncomingRequest;
use spinscope::auth::{RateDecision, RateWindow};
use spinscope::gateway::admission::Credentials;
use spinscope::gateway::identity::{identify, Admitted};
use spinscope::gateway::GatewayError;
use spinscope_spin::body::{self, BodyError};
use spinscope_spin::in_flight::{self, Slot};
use spinscope_spin::{oauth_keys, rate_limit, time};

/// The checks that need no store, in order: configuration, access token
/// or API key, origin. Returns who was let in.
pub fn authenticate(cx: &Context) -> Result<Admitted, GatewayError> {
    let credentials = Credentials {
        authorization: cx.header("authorization"),
        api_key: cx.header("x-api-key"),
        origin: cx.header("origin"),
    };
    let mut keys = oauth_keys::source(&cx.config);
    identify(&cx.config, cx.misconfiguration.as_ref(), credentials, keys.as_mut(), time::now_unix_ms() / 1000)
}

/// The gateway-wide limit on requests in flight, taken once the body is
/// in, so a client that sends slowly holds no slot. Without the store it
/// cannot be kept: the request is refused (503).
pub fn within_concurrency(cx: &Context) -> Result<Option<Slot>, GatewayError> {
    let now = time::now_unix_ms();
    let max = cx.config.max_concurrency;
    if max == 0 {
        return Ok(None);
    }
    let unchecked =
        |e: spinscope_spin::kv::KvError| GatewayError::LimitUnchecked { limit: "Concurrency", cause: e.to_string() };
    let store = cx.store().map_err(unchecked)?;
    match in_flight::take(store, now, max as i64).map_err(unchecked)? {
        Some(slot) => Ok(Some(slot)),
        None => Err(GatewayError::OverConcurrency { max }),
    }
}

/// The tenant's rate limit (see [`RateWindow`]). Without the store it
/// cannot be kept: the request is refused (503), never let through.
pub fn within_rate_limit(cx: &Context) -> Result<(), GatewayError> {
    let (now, tenant) = (time::now_unix_ms(), cx.record.tenant.as_deref().unwrap_or("-"));
    let per_minute = cx.config.rate_limit_per_minute;
    if per_minute == 0 {
        return Ok(());
    }
    let window = RateWindow::new(per_minute, cx.config.rate_limit_burst);
    let unchecked =
        |e: spinscope_spin::kv::KvError| GatewayError::LimitUnchecked { limit: "Rate", cause: e.to_string() };
    let store = cx.store().map_err(unchecked)?;
    match rate_limit::check(store, &window, tenant, now).map_err(unchecked)? {
        RateDecision::Admit => Ok(()),
        RateDecision::Refuse { retry_after_secs } => Err(GatewayError::RateLimited { per_minute, retry_after_secs }),
    }
}

/// Reads the body under `max_request_bytes` (413 past it) within
/// `body_timeout_ms` (408 past it).
pub fn read_body(cx: &Context, request: IncomingRequest) -> Result<Vec<u8>, GatewayError> {
    let max = cx.config.max_request_bytes;
    let announced = cx.header("content-length").and_then(|v| v.trim().parse::<usize>().ok());
    let deadline = cx.config.body_timeout;
    body::read_limited(request, max, announced, deadline).map_err(|e| match e {
        BodyError::TooLarge => GatewayError::PayloadTooLarge { max },
        BodyError::TooSlow => GatewayError::BodyTooSlow { after_ms: deadline.as_millis() as u64 },
        BodyError::Unreadable(e) => GatewayError::BodyUnreadable(e),
    })
}
