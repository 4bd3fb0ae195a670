//! Liveness (`GET /health/live`) and startup (`GET /health/startup`) probes.
//!
//! Liveness never touches the store or another component, so a slow
//! dependency can never get the app restarted. Startup answers 200 once the
//! app is initialised: every variable parses, the store answers, and the
//! app's start time is recorded in the store (first writer wins).

use serde_json::json;
use spin_sdk::http::{IntoResponse, Request, Response};
use spin_sdk::http_component;
use spinscope::config::Config;
use spinscope::keys;
use spinscope_spin::{kv, time, vars};

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn json_response(status: u16, body: serde_json::Value) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("cache-control", "no-store")
        .body(body.to_string())
        .build()
}

#[http_component]
fn handle(req: Request) -> anyhow::Result<impl IntoResponse> {
    if *req.method() != spin_sdk::http::Method::Get && *req.method() != spin_sdk::http::Method::Head {
        return Ok(Response::builder().status(405).header("allow", "GET, HEAD").body(()).build());
    }
    let now = time::now_unix_ms();
    Ok(match req.path() {
        "/health/live" => json_response(
            200,
            json!({"status": "ok", "timestamp": spinscope::log::rfc3339_ms(now), "version": VERSION}),
        ),
        "/health/startup" => startup(now),
        other => json_response(404, json!({"status": "error", "message": format!("no probe at {other}")})),
    })
}

fn startup(now: u64) -> Response {
    let began = time::monotonic_ns();
    let mut reasons = Vec::new();
    if let Err(errors) = Config::from_lookup(|name| vars::get(name).ok().flatten()) {
        reasons.extend(errors.iter().map(|e| e.to_string()));
    }
    let started_at = match record_start(now) {
        Ok(at) => Some(at),
        Err(e) => {
            reasons.push(format!("key-value store: {e}"));
            None
        }
    };
    let duration_ms = (time::monotonic_ns() - began) as f64 / 1e6;
    let mut body = json!({
        "status": if reasons.is_empty() { "ok" } else { "starting" },
        "timestamp": spinscope::log::rfc3339_ms(now),
        "version": VERSION,
        "startup_duration_ms": duration_ms,
        "started_at": started_at.map(spinscope::log::rfc3339_ms),
    });
    if reasons.is_empty() {
        json_response(200, body)
    } else {
        body["reasons"] = json!(reasons);
        json_response(503, body)
    }
}

/// Records the app's start time once (compare-and-swap on an absent key, so
/// concurrent first probes agree) and returns the recorded time.
fn record_start(now: u64) -> Result<u64, kv::KvError> {
    let store = kv::Store::open_default()?;
    if let Some(bytes) = store.get(keys::STARTED_AT)? {
        if let Some(at) = std::str::from_utf8(&bytes).ok().and_then(|s| s.parse().ok()) {
            return Ok(at);
        }
    }
    store.update(keys::STARTED_AT, 5, |current| match current {
        Some(_) => None,
        None => Some(now.to_string().into_bytes()),
    })?;
    let bytes = store.get(keys::STARTED_AT)?.unwrap_or_default();
    Ok(std::str::from_utf8(&bytes).ok().and_then(|s| s.parse().ok()).unwrap_or(now))
}
