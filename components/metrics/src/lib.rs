//! The exporter (`GET /metrics`): merges the metrics from the key-value
//! store (folding pending observation records on SQLite, see
//! `metrics_sink::collect`) and renders them as Prometheus text 0.0.4 (default),
//! OpenMetrics 1.0 (when `Accept` asks for `application/openmetrics-text`)
//! or JSON (`?format=json`).

use spin_sdk::http::{IncomingRequest, IntoResponse, Method, Response};
use spin_sdk::http_component;
use spinscope::audit::{AuditState, Event, Kind};
use spinscope::config::{reads, Config};
use spinscope::gateway::tool_map::ToolMap;
use spinscope::keys;
use spinscope::metrics::tool_metrics::declare::{declared_by, Declaration};
use spinscope::metrics::{self, catalog, Recorder, RenderContext, Snapshot};
use spinscope_spin::head::Head;
use spinscope_spin::{audit, breaker, diag, gate, in_flight, kv, metrics_sink, respond, sessions, settings, time};

/// The live session records (`(id, record)`), for the open-mode JSON.
fn session_records(store: &kv::Store) -> Vec<(String, serde_json::Value)> {
    let keys = store.keys_with_prefix(keys::SESSION_PREFIX).unwrap_or_default();
    keys.iter()
        .filter_map(|k| {
            let record = serde_json::from_slice(&store.get(k).ok()??).ok()?;
            Some((k.trim_start_matches(keys::SESSION_PREFIX).to_string(), record))
        })
        .collect()
}

/// The app's secret for session labels: read, or created once by the one
/// request that claims it. `None` while its creator has not written it yet.
fn label_key(store: &kv::Store) -> Option<Vec<u8>> {
    if let Some(key) = store.get(keys::SESSION_LABEL_KEY).ok().flatten() {
        return Some(key);
    }
    if store.claim(keys::SESSION_LABEL_KEY_CLAIM).ok()? {
        let key = spinscope::trace::hex(&spinscope_spin::random_bytes::<32>()).into_bytes();
        store.set(keys::SESSION_LABEL_KEY, &key).ok()?;
        return Some(key);
    }
    store.get(keys::SESSION_LABEL_KEY).ok().flatten()
}

fn text(status: u16, body: String) -> Response {
    Response::builder().status(status).header("content-type", "text/plain; charset=utf-8").body(body).build()
}

#[http_component]
fn handle(req: IncomingRequest) -> anyhow::Result<impl IntoResponse> {
    let req = match Head::without_body(&req) {
        Ok(head) => head,
        Err(refused) => return Ok(Response::from(refused)),
    };
    if !matches!(req.method(), Method::Get | Method::Head) {
        return Ok(Response::builder().status(405).header("allow", "GET, HEAD").body(()).build());
    }
    let loaded = settings::load(reads::METRICS);
    if !loaded.problems.is_empty() {
        diag::warn(loaded.config.log_format, "Metrics exporter misconfigured", &settings::problems_message(&loaded));
        return Ok(respond::misconfigured(&settings::problems_public(&loaded)));
    }
    let config = loaded.config;
    // With API keys configured, a scrape needs one too; it then shows only
    // app-wide aggregates (never per-tenant or per-session data).
    if let Err(refused) = gate::require_key(&config, &req) {
        return Ok(refused);
    }
    // A store that cannot be read is a failed scrape (Prometheus records it
    // in `up`), never a page of zeros.
    let snapshot = match collect(&config) {
        Ok(collected) => collected,
        Err(e) => return Ok(text(503, format!("metrics store unavailable: {e}\n"))),
    };
    let context = RenderContext { version: env!("CARGO_PKG_VERSION").to_string(), tool_metrics: tool_metrics() };
    let wants_json = req.query().split('&').any(|p| p == "format=json");
    let accept = req.header("accept").unwrap_or_default();
    let (content_type, body) = if wants_json {
        // Open mode only: sessions (with their call counts) and tenants.
        // Never in the Prometheus formats (unbounded labels), never under
        // auth (one tenant must not see another's activity).
        let mut extra = serde_json::Map::new();
        if config.is_open() {
            // Sessions appear under a keyed label, never their id; without
            // the key (a store that cannot keep it) they are left out.
            if let Some((store, key)) = kv::Store::open_default().ok().and_then(|s| label_key(&s).map(|k| (s, k))) {
                let label = |id: &str| spinscope::auth::session_label(&key, id);
                extra.insert("sessions".into(), snapshot.activity().sessions_json(&session_records(&store), label));
            }
            extra.insert("tenants".into(), snapshot.activity().tenants_json());
        }
        ("application/json", metrics::render_json_text(&snapshot, &context, &extra))
    } else if accept.contains("application/openmetrics-text") {
        (metrics::OPENMETRICS_CONTENT_TYPE, metrics::render_openmetrics(&snapshot, &context))
    } else {
        (metrics::PROMETHEUS_CONTENT_TYPE, metrics::render_prometheus(&snapshot, &context))
    };
    Ok(Response::builder()
        .status(200)
        .header("content-type", content_type)
        .header("cache-control", "no-store")
        .body(body)
        .build())
}

/// The tools' metric declarations, from the cached tool map (none when
/// there is no map yet: recorded tool metrics then render from their
/// series alone).
fn tool_metrics() -> Vec<(String, Declaration)> {
    let map = kv::Store::open_default().ok().and_then(|s| s.get(keys::TOOL_MAP).ok().flatten());
    let Some(map) = map.and_then(|bytes| serde_json::from_slice::<ToolMap>(&bytes).ok()) else { return Vec::new() };
    declared_by(map.tools.iter().map(|e| (e.component.as_str(), &e.tool)))
}

/// Every metric merged (see `metrics_sink::collect`), with the in-flight
/// gauge and the counter of failed recordings. A store error fails the
/// scrape (503): partial numbers would look like counter resets.
fn collect(config: &Config) -> Result<Snapshot, kv::KvError> {
    let store = kv::Store::open_default()?;
    let metrics_store = metrics_sink::metrics_store(config, Some(&store))?;
    sweep_sessions(&store, config);
    if let Err(e) = in_flight::drop_stale(&store, time::now_unix_ms()) {
        diag::warn(config.log_format, "Stale in-flight counters not dropped", &e.to_string());
    }
    // A scrape seals pending audit events too (the fold below does on the
    // observation layout; the standalone layout seals here).
    if config.audit_enabled {
        if let Ok(audit::Carrier::Standalone) = audit::carrier(config, &store) {
            let sealed = audit::seal_standalone(&store, &audit::Sealer::of(config), time::now_unix_ms());
            if let Err(e) = sealed {
                diag::warn(config.log_format, "Audit events not sealed", &e.to_string());
            }
        }
    }
    let collected = metrics_sink::collect(&metrics_store, config);
    if let Some(e) = collected.store_error {
        return Err(e);
    }
    for key in &collected.unreadable_observations {
        diag::warn(config.log_format, "Metrics observation record skipped: it does not decode (left in place)", key);
    }
    let mut merged = collected.snapshot;
    merged.set_gauge(&catalog::IN_FLIGHT_REQUESTS, &[], in_flight::count(&store, time::now_unix_ms()));
    breaker::gauges_into(&mut merged, &store, &config.tool_components, time::now_unix_ms());
    merged.add_counter(&catalog::METRICS_RECORD_FAILURES_TOTAL, &[], collected.record_failures.unwrap_or(0));
    if let Ok(state) = audit::state(&store, config) {
        merged.set_gauge(&catalog::AUDIT_CHAIN_HEAD_SEQUENCE, &[], state.head.seq as i64);
        if config.audit_enabled {
            chain_checked(&mut merged, &store, config, &state);
        }
    }
    Ok(merged)
}

/// `audit_chain_broken_sequence` from this scrape's bounded check of the
/// chain (0, intact, is also what renders when the store failed: the
/// check said nothing, and a store error has its own signals).
fn chain_checked(merged: &mut Snapshot, store: &kv::Store, config: &Config, state: &AuditState) {
    let key = config.audit_key.as_ref().map(|k| k.bytes());
    match audit::check::scrape_check(store, key, state, time::now_unix_ms()) {
        Ok(None) => merged.set_gauge(&catalog::AUDIT_CHAIN_BROKEN_SEQUENCE, &[], 0),
        Ok(Some(found)) => {
            let what = format!("sequence {}: {}", found.seq, found.why);
            diag::warn(config.log_format, "Audit chain broken", &what);
            merged.set_gauge(&catalog::AUDIT_CHAIN_BROKEN_SEQUENCE, &[], found.seq as i64);
        }
        Err(e) => diag::warn(config.log_format, "Audit chain not checked", &e.to_string()),
    }
}

/// Ends sessions that expired unseen (a bounded number per scrape, see
/// `sessions::sweep`) and records the drop of `sessions_active`, so the
/// gauge comes back down even when no client returns.
fn sweep_sessions(store: &kv::Store, config: &Config) {
    let ended = match sessions::sweep(store, time::now_unix_ms(), config.session_idle_timeout) {
        Ok(0) => return,
        Ok(n) => n,
        Err(e) => return diag::warn(config.log_format, "Expired sessions not swept", &e.to_string()),
    };
    let mut recorder = Recorder::new();
    recorder.sessions(0, -(ended as i64));
    // One audit event for the sessions this sweep ended, in the same write.
    let mut expired = Event::new(Kind::SessionEnded, time::now_unix_ms());
    expired.outcome = Some("expired".into());
    expired.count = Some(ended);
    let events = [expired.sign(config.audit_key.as_ref().map(|k| k.bytes()))];
    if let Err(e) = audit::record_events(config, store, recorder, &events) {
        diag::warn(config.log_format, "Swept sessions not recorded", &e);
    }
}
