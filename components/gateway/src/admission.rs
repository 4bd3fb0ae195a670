//! Admission: the checks a request passes before the gateway does any work
//! for it, in `spinscope::gateway::admission::ORDER` (configuration, API
//! key, origin without the store; then concurrency and the tenant's rate
//! in it), and the body read under its size limit.

use crate::context::Context;
use spin_sdk::http::IncomingRequest;
use spinscope::auth::{RateDecision, RateWindow};
use spinscope::gateway::admission::{precheck, Credentials};
use spinscope::gateway::GatewayError;
use spinscope_spin::body::{self, BodyError};
use spinscope_spin::in_flight::{self, Slot};
use spinscope_spin::{rate_limit, time};

/// What admission found.
pub struct Admitted {
    /// The caller's tenant (`None` in open mode).
    pub tenant: Option<String>,
    /// The in-flight slot taken, when `max_concurrency` is set.
    pub slot: Option<Slot>,
}

/// Every check, in order; `Ok` admits the request.
pub fn admit(cx: &Context) -> Result<Admitted, GatewayError> {
    let credentials = Credentials {
        authorization: cx.header("authorization"),
        api_key: cx.header("x-api-key"),
        origin: cx.header("origin"),
    };
    let tenant = precheck(&cx.config, cx.misconfiguration.as_ref(), credentials)?;
    let now = time::now_unix_ms();
    let slot = within_concurrency(cx, now)?;
    if let Err(refused) = within_rate_limit(cx, tenant.as_deref().unwrap_or("-"), now) {
        // The slot is given back at once: this request will not run.
        if let (Some(slot), Ok(store)) = (slot, cx.store()) {
            let _ = in_flight::release(store, slot);
        }
        return Err(refused);
    }
    Ok(Admitted { tenant, slot })
}

/// The gateway-wide limit on requests in flight. Without the store it
/// cannot be kept: the request is refused (503).
fn within_concurrency(cx: &Context, now: u64) -> Result<Option<Slot>, GatewayError> {
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
fn within_rate_limit(cx: &Context, tenant: &str, now: u64) -> Result<(), GatewayError> {
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

/// Reads the body under `max_request_bytes` (413 past it).
pub async fn read_body(cx: &Context, request: IncomingRequest) -> Result<Vec<u8>, GatewayError> {
    let max = cx.config.max_request_bytes;
    let announced = cx.header("content-length").and_then(|v| v.trim().parse::<usize>().ok());
    body::read_limited(request, max, announced).await.map_err(|e| match e {
        BodyError::TooLarge => GatewayError::PayloadTooLarge { max },
        BodyError::Unreadable(e) => GatewayError::BodyUnreadable(e),
    })
}
