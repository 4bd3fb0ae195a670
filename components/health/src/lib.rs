//! Liveness (`GET /health/live`) and startup (`GET /health/startup`) probes.
//!
//! Liveness never touches the store, the variables or another component, so
//! a slow or broken dependency can never get the app restarted. Startup
//! answers 200 once the app is initialised: every variable resolves and
//! parses, the store answers, and the app's start time is recorded in the
//! store (`keys::STARTED_AT`, written once by the request that claims it);
//! 503 with the reasons before that. See docs/probes.md.
//!
//! Auth: these probes stay open even when `api_keys` is set (the kubelet
//! has no API key), and their answers carry no tenant or session data.

use serde_json::json;
use spin_sdk::http::{IncomingRequest, IntoResponse};
use spin_sdk::http_component;
use spinscope::config::reads;
use spinscope::health::elapsed_ms;
use spinscope::log::rfc3339_ms;
use spinscope_spin::respond::{self, json_response};
use spinscope_spin::{kv, settings, startup, time};

const VERSION: &str = env!("CARGO_PKG_VERSION");

#[http_component]
fn handle(req: IncomingRequest) -> anyhow::Result<impl IntoResponse> {
    let (req, head) = match respond::read_only(&req) {
        Ok(read) => read,
        Err(refused) => return Ok(refused),
    };
    let now = time::now_unix_ms();
    let (status, body) = match req.path() {
        "/health/live" => (200, json!({"status": "ok", "timestamp": rfc3339_ms(now), "version": VERSION})),
        "/health/startup" => startup(now),
        other => (404, json!({"status": "error", "message": format!("no probe at {other}")})),
    };
    Ok(json_response(status, &body, head))
}

fn startup(now: u64) -> (u16, serde_json::Value) {
    let began = time::monotonic_ns();
    let loaded = settings::load(reads::HEALTH);
    let mut reasons: Vec<String> = loaded.problems.iter().map(ToString::to_string).collect();
    // The start time is recorded only once the app is initialised; before
    // that the store is still asked, so its failure is reported too.
    let started = kv::Store::open_default().and_then(|store| startup::started_at(&store, now, reasons.is_empty()));
    let started_at = match started {
        Ok(at) => at,
        Err(e) => {
            reasons.push(format!("key-value store: {e}"));
            None
        }
    };
    let duration_ms = elapsed_ms(began, time::monotonic_ns());
    let mut body = json!({
        "status": if reasons.is_empty() { "ok" } else { "starting" },
        "timestamp": rfc3339_ms(now),
        "version": VERSION,
        "started_at": started_at.map(rfc3339_ms),
        "startup_duration": format!("{duration_ms:.3}ms"),
        "startup_duration_ms": duration_ms,
    });
    if reasons.is_empty() {
        (200, body)
    } else {
        let variables: Vec<&str> = loaded.problems.iter().map(|p| p.variable.as_str()).collect();
        body["reasons"] = json!(reasons);
        body["variables"] = json!(variables);
        (503, body)
    }
}
