//! Readiness and the health summaries (see docs/probes.md):
//!
//! - `GET /health/ready` and `GET /ready`: runs the `config`, `kv` and
//!   `tools` checks; 200 when the app can serve, 503 naming what fails;
//! - `GET /health`: the same verdict, with uptime and each check's status;
//! - `GET /health/detailed`: the same plus figures per part (gateway
//!   requests and errors, sessions, per-tool status and calls, store latency),
//!   read from the metrics.
//!
//! Readiness results are cached in the store (`keys::READY_CACHE`) for
//! `ready_cache_ttl_ms`, so frequent polling costs one store read;
//! `?fresh=1` runs the checks anyway (and refreshes the cache).

use serde_json::{json, Map, Value};
use spin_sdk::http::{IncomingRequest, IntoResponse, Response};
use spin_sdk::http_component;
use spinscope::config::{reads, LoadedConfig};
use spinscope::gateway::admission::Credentials;
use spinscope::gateway::breaker as breaker_rules;
use spinscope::gateway::identity::identify;
use spinscope::health::{self, elapsed_ms, Check, Report, Status, ToolProbe};
use spinscope::keys;
use spinscope::log::rfc3339_ms;
use spinscope_spin::head::Head;
use spinscope_spin::kv::{KvError, Store};
use spinscope_spin::outbound::SendFailure;
use spinscope_spin::respond::json_response;
use spinscope_spin::tool_components;
use spinscope_spin::{diag, gate, metrics_sink, random_bytes, respond, settings, startup, time};
use std::time::Duration;

const VERSION: &str = env!("CARGO_PKG_VERSION");
/// Upper bound on a tool component's metadata answer during readiness.
const TOOLS_TIMEOUT_CAP: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Ready,
    Summary,
    Detailed,
}

/// `/health` and `/health/detailed` need a key in auth mode (401, counted
/// as `rejected_total{reason="unauthorized"}`); readiness stays open for
/// the orchestrator. An `api_keys` value that cannot be read or parsed
/// fails closed (503), whatever the other variables say. `Err` refuses.
fn authorize(req: &Head, endpoint: Endpoint, loaded: &LoadedConfig) -> Result<(), Response> {
    if endpoint == Endpoint::Ready {
        return Ok(());
    }
    // Keys or OAuth that cannot be read fail closed, whatever else parses.
    if let Some(problem) = loaded.problems.iter().find(|p| p.variable == "api_keys" || p.variable.starts_with("oauth_"))
    {
        diag::warn(loaded.config.log_format, &format!("Refusing {}", req.path()), &problem.to_string());
        return Err(respond::misconfigured("variable 'api_keys' cannot be used"));
    }
    gate::require_key(&loaded.config, req).map(drop)
}

#[http_component]
fn handle(req: IncomingRequest) -> anyhow::Result<impl IntoResponse> {
    let (req, head) = match respond::read_only(&req) {
        Ok(read) => read,
        Err(refused) => return Ok(refused),
    };
    let endpoint = match req.path() {
        "/health/ready" | "/ready" => Endpoint::Ready,
        "/health" => Endpoint::Summary,
        "/health/detailed" => Endpoint::Detailed,
        other => {
            let body = json!({"status": "error", "message": format!("no probe at {other}")});
            return Ok(json_response(404, &body, head));
        }
    };
    let config_began = time::monotonic_ns();
    let loaded = settings::load(reads::READY);
    let config_ms = elapsed_ms(config_began, time::monotonic_ns());
    if let Err(refused) = authorize(&req, endpoint, &loaded) {
        return Ok(refused);
    }

    let now = time::now_unix_ms();
    let store = Store::open_default();
    // A fresh run costs every tool component a request and the store a
    // write: in auth mode only a caller with a key may ask for one; anyone
    // else gets the cached answer.
    let fresh = health::wants_fresh(req.query()) && may_refresh(&req, &loaded);
    let (report, cached) = readiness(&loaded, config_ms, &store, now, fresh);
    let required: &[&str] = if loaded.config.tools_required { &[health::CHECK_TOOLS] } else { &[] };
    let status = report.http_status(required);

    let body = match endpoint {
        Endpoint::Ready => {
            let mut body = report.to_json(now, cached);
            body["version"] = VERSION.into();
            body
        }
        Endpoint::Summary => summary(&report, cached, &loaded, &store, now),
        Endpoint::Detailed => {
            let mut body = summary(&report, cached, &loaded, &store, now);
            body["checks"] = report.checks_json();
            body["parts"] = parts(&report, &loaded, &store);
            body
        }
    };
    Ok(json_response(status, &body, head))
}

/// Whether the caller may bypass the readiness cache: anyone in open mode,
/// a caller with a valid key in auth mode (never counted as a rejection:
/// readiness itself stays open).
fn may_refresh(req: &Head, loaded: &LoadedConfig) -> bool {
    let header = |name: &str| req.header(name);
    let credentials =
        Credentials { authorization: header("authorization"), api_key: header("x-api-key"), origin: None };
    let mut keys = spinscope_spin::oauth_keys::source(&loaded.config);
    loaded.config.is_open()
        || identify(&loaded.config, None, credentials, keys.as_mut(), time::now_unix_ms() / 1000).is_ok()
}

/// The cached report if one is fresh (and `fresh` was not asked), else a
/// new run of the checks, which then replaces the cache.
fn readiness(
    loaded: &LoadedConfig,
    config_ms: f64,
    store: &Result<Store, KvError>,
    now: u64,
    fresh: bool,
) -> (Report, bool) {
    let ttl_ms = loaded.config.ready_cache_ttl.as_millis() as u64;
    if !fresh && ttl_ms > 0 {
        // A store that fails here fails the `kv` check just below.
        let cached = store
            .as_ref()
            .ok()
            .and_then(|s| s.get(keys::READY_CACHE).ok().flatten())
            .and_then(|bytes| Report::decode_cache(&bytes))
            .filter(|r| r.fresh(now, ttl_ms));
        if let Some(report) = cached {
            return (report, true);
        }
    }
    let mut report = Report::new(spinscope::trace::hex(&random_bytes::<8>()), now);
    report.add(health::CHECK_CONFIG, health::config_check(loaded, config_ms));
    report.add(health::CHECK_KV, kv_check(store));
    report.add(health::CHECK_TOOLS, tools_check(loaded, store));
    if ttl_ms > 0 {
        if let Ok(store) = store {
            // Best effort: a failed write only means the next probe runs the checks.
            let _ = store.set(keys::READY_CACHE, &report.encode_cache());
        }
    }
    (report, false)
}

/// `kv`: write, read back and delete a throw-away key.
fn kv_check(store: &Result<Store, KvError>) -> Check {
    let began = time::monotonic_ns();
    let result = match store {
        Ok(store) => round_trip(store),
        Err(e) => Err(format!("open: {e}")),
    };
    let ms = elapsed_ms(began, time::monotonic_ns());
    match result {
        Ok(()) => Check::new(Status::Ok, ms, "probe key written, read back and deleted"),
        Err(why) => Check::new(Status::Error, ms, why),
    }
}

fn round_trip(store: &Store) -> Result<(), String> {
    let key = format!("{}{}", keys::PROBE_PREFIX, spinscope::trace::hex(&random_bytes::<8>()));
    let value = spinscope::trace::hex(&random_bytes::<16>()).into_bytes();
    store.set(&key, &value).map_err(|e| format!("write: {e}"))?;
    let read = store.get(&key);
    // Delete even when the read failed, so probe keys do not pile up.
    let deleted = store.delete(&key);
    match read {
        Err(e) => return Err(format!("read back: {e}")),
        Ok(None) => return Err("read back: the key just written is missing".into()),
        Ok(Some(v)) if v != value => return Err("read back: a different value than written".into()),
        Ok(Some(_)) => {}
    }
    deleted.map_err(|e| format!("delete: {e}"))
}

/// `tools`: every tool component answers `GET /` with its tool list, all
/// asked at once under one bounded deadline.
fn tools_check(loaded: &LoadedConfig, store: &Result<Store, KvError>) -> Check {
    let components = &loaded.config.tool_components;
    let timeout = loaded.config.tool_timeout.min(TOOLS_TIMEOUT_CAP);
    let began = time::monotonic_ns();
    let replies = tool_components::list_tools(components, timeout);
    let total_ms = elapsed_ms(began, time::monotonic_ns());
    let probes: Vec<ToolProbe> = components
        .iter()
        .zip(replies)
        .map(|(component, reply)| {
            let (latency_ms, outcome) = match reply {
                Ok(r) => {
                    (r.elapsed.as_secs_f64() * 1000.0, health::classify_tool_reply(r.status, r.truncated, &r.body))
                }
                // No reply: the time until the probe gave up on it (at most).
                Err(SendFailure::Timeout) => (total_ms, Err(format!("no answer within {} ms", timeout.as_millis()))),
                Err(e) => (total_ms, Err(e.to_string())),
            };
            let breaker = store.as_ref().ok().map(|s| {
                let gauge = breaker_rules::gauge(spinscope_spin::breaker::state(s, component), time::now_unix_ms());
                breaker_rules::state_label(gauge)
            });
            ToolProbe { component: component.clone(), latency_ms, outcome, breaker }
        })
        .collect();
    health::tools_check(&probes, loaded.config.tools_required, total_ms)
}

/// `/health`: the verdict, uptime, and each check's status.
fn summary(report: &Report, cached: bool, loaded: &LoadedConfig, store: &Result<Store, KvError>, now: u64) -> Value {
    let started_at =
        store.as_ref().ok().and_then(|s| startup::started_at(s, now, loaded.problems.is_empty()).ok().flatten());
    json!({
        "status": report.status().as_str(),
        "timestamp": rfc3339_ms(now),
        "version": VERSION,
        "started_at": started_at.map(rfc3339_ms),
        "uptime_seconds": started_at.map(|at| now.saturating_sub(at) as f64 / 1000.0),
        "checked_at": rfc3339_ms(report.checked_at_ms),
        "cached": cached,
        "check_id": report.id,
        "failing": report.failing(),
        "checks": report.statuses_json(),
    })
}

/// `/health/detailed` figures per part: the gateway, each tool component
/// (readiness status merged with its call counts), and the store.
fn parts(report: &Report, loaded: &LoadedConfig, store: &Result<Store, KvError>) -> Value {
    let began = time::monotonic_ns();
    let collected = match store {
        Ok(store) => match metrics_sink::metrics_store(&loaded.config, Some(store)) {
            Ok(metrics) => metrics_sink::collect(&metrics, &loaded.config),
            Err(e) => metrics_sink::Collected { store_error: Some(e), ..Default::default() },
        },
        Err(_) => metrics_sink::Collected::default(),
    };
    let mut snapshot = collected.snapshot;
    if let Ok(store) = store {
        spinscope_spin::breaker::gauges_into(&mut snapshot, store, &loaded.config.tool_components, time::now_unix_ms());
    }
    let snapshot = &snapshot;
    let metrics_read_ms = elapsed_ms(began, time::monotonic_ns());
    let mut figures = health::figures(snapshot, &loaded.config.tool_components);

    // Per tool component: readiness status and latency, then the call figures.
    let readiness = report
        .checks
        .get(health::CHECK_TOOLS)
        .and_then(|c| c.details.get("components"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some(tools) = figures["tools"].as_object_mut() {
        for (component, entry) in tools.iter_mut() {
            let mut merged: Map<String, Value> =
                readiness.get(component).and_then(Value::as_object).cloned().unwrap_or_else(|| {
                    let mut m = Map::new();
                    m.insert("status".into(), "unknown".into());
                    m.insert("message".into(), "not in tool_components; figures from earlier calls".into());
                    m
                });
            if let Some(calls) = entry.as_object() {
                merged.extend(calls.clone());
            }
            *entry = Value::Object(merged);
        }
    }
    let kv = report.checks.get(health::CHECK_KV);
    figures["store"] = json!({
        "status": kv.map(|c| c.status.as_str()).unwrap_or("error"),
        "latency_ms": kv.map(|c| c.latency_ms),
        "message": kv.map(|c| c.message.clone()),
        "metrics_read_ms": metrics_read_ms,
        "metrics_observations_pending": collected.pending_observations,
        "metrics_observations_unreadable": collected.unreadable_observations.len(),
        "metrics_record_failures": collected.record_failures,
    });
    figures
}
