//! API keys, tenants, limits and rejections, end to end.

use serde_json::json;
use spinscope::auth::hash_key;
use spinscope_e2e::*;
use spinscope_testkit::exposition::parse;
use std::time::{Duration, Instant};

const KEY_A: &str = "key-for-acme-0123456789";
const KEY_B: &str = "key-for-globex-9876543210";

fn api_keys() -> String {
    format!("acme:{},globex:{}", hash_key(KEY_A), hash_key(KEY_B))
}

fn app() -> HostBuilder {
    HostBuilder::app(None).var("tool_components", "text-tools,calc,faults")
}

fn init_body() -> String {
    json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}).to_string()
}

fn call_route(host: &Host, route: &str, key: Option<&str>) -> Reply {
    let auth = key.map(|k| format!("Bearer {k}"));
    let mut headers: Vec<(&str, &str)> =
        vec![("content-type", "application/json"), ("accept", "application/json, text/event-stream")];
    if let Some(a) = &auth {
        headers.push(("authorization", a));
    }
    if route == "/mcp" {
        request("POST", &host.url(route), &headers, Some(init_body().as_bytes()))
    } else {
        request("GET", &host.url(route), &headers, None)
    }
}

const OPEN_ROUTES: &[&str] = &["/health/live", "/health/startup", "/health/ready", "/ready"];
const PROTECTED_ROUTES: &[&str] = &["/mcp", "/metrics", "/health", "/health/detailed"];

fn metric(host: &Host, key: Option<&str>, name: &str, labels: &[(&str, &str)]) -> f64 {
    let r = call_route(host, "/metrics", key);
    assert_eq!(r.status, 200, "{}", r.body);
    parse(&r.body).unwrap().value(name, labels).unwrap_or(0.0)
}

fn wait_for(mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check() {
        assert!(Instant::now() < deadline, "condition not reached in time");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn every_route_in_open_mode_needs_no_key() {
    let host = app().start();
    for route in OPEN_ROUTES.iter().chain(PROTECTED_ROUTES) {
        for key in [None, Some("wrong"), Some(KEY_A)] {
            let r = call_route(&host, route, key);
            assert_eq!(r.status, 200, "{route} with {key:?}: {}", r.body);
        }
    }
}

#[test]
fn every_route_in_auth_mode_follows_the_matrix() {
    let host = app().var("api_keys", &api_keys()).start();
    // Refusals before authentication, by reason: no key, a wrong key.
    let (mut missing, mut invalid) = (0.0, 0.0);
    for route in OPEN_ROUTES {
        for key in [None, Some("wrong"), Some(KEY_B), Some(KEY_A)] {
            assert_eq!(call_route(&host, route, key).status, 200, "{route} must stay open ({key:?})");
        }
    }
    for route in PROTECTED_ROUTES {
        for (key, expected) in [(None, 401), (Some("wrong"), 401), (Some(KEY_B), 200), (Some(KEY_A), 200)] {
            let r = call_route(&host, route, key);
            assert_eq!(r.status, expected, "{route} with {key:?}: {}", r.body);
            if expected == 401 {
                match key {
                    None => missing += 1.0,
                    Some(_) => invalid += 1.0,
                }
                assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"), "{route}");
                let _: serde_json::Value = r.json();
            }
        }
    }
    // X-API-Key works too.
    let r = request("GET", &host.url("/metrics"), &[("x-api-key", KEY_B)], None);
    assert_eq!(r.status, 200);
    let refused = |reason| metric(&host, Some(KEY_A), "spinscope_rejected_total", &[("reason", reason)]);
    wait_for(|| refused("missing_key") >= missing && refused("invalid_key") >= invalid);
    assert_eq!((refused("missing_key"), refused("invalid_key")), (missing, invalid));
}

#[test]
fn sessions_belong_to_their_tenant_and_scrapes_reveal_no_tenant_data() {
    let host = app().var("api_keys", &api_keys()).var("log_level", "trace").start();
    let (acme, _) = {
        let mut mcp = Mcp::new(&host);
        let auth = format!("Bearer {KEY_A}");
        let r = mcp.post_raw(&init_body(), &[("authorization", &auth)]);
        assert_eq!(r.status, 200, "{}", r.body);
        mcp.session = Some(r.header("mcp-session-id").unwrap().to_string());
        (mcp, r)
    };
    let ping = r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#;
    let auth_a = format!("Bearer {KEY_A}");
    let auth_b = format!("Bearer {KEY_B}");
    assert_eq!(acme.post_raw(ping, &[("authorization", &auth_a)]).status, 200);
    // The same session id from the other tenant: as if it did not exist.
    let stolen = acme.post_raw(ping, &[("authorization", &auth_b)]);
    assert_eq!(stolen.status, 404, "{}", stolen.body);
    let owned = acme.headers();
    let mut h: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    h.push(("authorization", &auth_b));
    assert_eq!(request("DELETE", &host.url("/mcp"), &h, None).status, 404, "cannot end another tenant's session");
    assert_eq!(acme.post_raw(ping, &[("authorization", &auth_a)]).status, 200, "still alive for its owner");

    let r = acme.post_raw(
        &json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"word_count","arguments":{"text":"x"}}})
            .to_string(),
        &[("authorization", &auth_a)],
    );
    assert_eq!(r.status, 200);
    // The tenant is in the logs (the access line comes after the response)...
    host.wait_for_log(|l| l.contains("tenant=acme") && l.contains("dur_ms="));
    host.wait_for_log(|l| l.contains("tenant=\"acme\""));
    // ...but never a key or a key hash.
    let everything = format!("{}\n{}", host.stdout.text(), host.stderr.text());
    for secret in [KEY_A.to_string(), KEY_B.to_string(), hash_key(KEY_A), hash_key(KEY_B)] {
        assert!(!everything.contains(&secret), "a key or its hash reached the logs");
    }

    // Under auth, scrapes are global aggregates only.
    let session = acme.session.clone().unwrap();
    let text = call_route(&host, "/metrics", Some(KEY_B)).body;
    assert!(!text.contains(&session) && !text.contains("acme") && !text.contains("tenant"));
    let json = request("GET", &host.url("/metrics?format=json"), &[("authorization", &auth_b)], None).json();
    assert!(json.get("sessions").is_none() && json.get("tenants").is_none(), "{json}");
    assert!(!json.to_string().contains(&session) && !json.to_string().contains("acme"), "{json}");
}

#[test]
fn open_mode_json_lists_sessions_with_their_calls_but_prometheus_never_does() {
    let host = app().start();
    let (mut busy, _) = Mcp::connect(&host);
    let (idle, _) = Mcp::connect(&host);
    for i in 0..3 {
        busy.call_tool("word_count", json!({"text": format!("call {i}")}));
    }
    busy.call_tool("failing", json!({}));
    busy.request("ping", json!({}));
    let (busy_id, idle_id) = (busy.session.clone().unwrap(), idle.session.clone().unwrap());
    // Metrics are written after each response: wait for the last one.
    let deadline = Instant::now() + Duration::from_secs(20);
    let json = loop {
        let json = host.get("/metrics?format=json").json();
        if json["tenants"]["-"]["requests"] == 9 || Instant::now() > deadline {
            break json;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let sessions = json["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{json}");
    // Sessions are listed under a short keyed label, never their id: an
    // anonymous reader must not be able to use or end them.
    let body = json.to_string();
    assert!(!body.contains(&busy_id) && !body.contains(&idle_id), "{json}");
    let busy = sessions.iter().find(|s| s["calls"] == 4).unwrap_or_else(|| panic!("busy session not listed: {json}"));
    let idle = sessions.iter().find(|s| s["calls"] == 0).unwrap_or_else(|| panic!("idle session not listed: {json}"));
    // initialize, initialized, 4 tools/call, ping
    assert_eq!(busy["requests"], 7, "{json}");
    assert_eq!(busy["protocol_version"], "2025-06-18");
    let label = busy["label"].as_str().unwrap();
    assert_eq!(label.len(), 8);
    assert_ne!(label, idle["label"].as_str().unwrap());
    // The label is no session id: DELETE with it ends nothing.
    let mut intruder = Mcp::new(&host);
    intruder.session = Some(label.to_string());
    assert_eq!(request("DELETE", &host.url("/mcp"), &[("mcp-session-id", label)], None).status, 404);
    intruder.protocol_version = Some("2025-06-18".into());
    assert_eq!(intruder.post_raw(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#, &[]).status, 404);
    assert_eq!(ping_in_session(&host, &busy_id).status, 200, "the session still works");
    // 9 requests in open mode (tenant "-"), 4 tool calls, 1 of them failed.
    assert_eq!(json["tenants"], json!({"-": {"requests": 9, "tool_calls": 4, "errors": 1}}), "{json}");
    let text = host.get("/metrics").body;
    assert!(!text.contains(&busy_id) && !text.contains(&idle_id));
}

/// A ping in the session `id`, as its own client would send it.
fn ping_in_session(host: &Host, id: &str) -> Reply {
    let mut client = Mcp::new(host);
    client.session = Some(id.to_string());
    client.protocol_version = Some("2025-06-18".into());
    client.post_raw(r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#, &[])
}

#[test]
fn body_limit_is_exact() {
    let limit = 2048;
    let host = app().var("max_request_bytes", &limit.to_string()).start();
    let (mcp, _) = Mcp::connect(&host);
    let base = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    let at_limit = format!("{base}{}", " ".repeat(limit - base.len()));
    assert_eq!(at_limit.len(), limit);
    assert_eq!(mcp.post_raw(&at_limit, &[]).status, 200);
    let over = format!("{at_limit} ");
    let r = mcp.post_raw(&over, &[]);
    assert_eq!(r.status, 413);
    assert!(r.body.contains("2048"));
    wait_for(|| metric(&host, None, "spinscope_rejected_total", &[("reason", "payload")]) >= 1.0);
    assert_eq!(metric(&host, None, "spinscope_rejected_total", &[("reason", "payload")]), 1.0);
}

#[test]
fn a_burst_above_max_concurrency_gets_429_and_the_gauge_returns_to_zero() {
    let host = app().var("max_concurrency", "2").start();
    let (mcp, _) = Mcp::connect(&host);
    let headers = mcp.headers();
    let url = host.url("/mcp");
    let replies = concurrently(8, 1, move |i| {
        let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let body =
            json!({"jsonrpc":"2.0","id":i,"method":"tools/call","params":{"name":"slow","arguments":{"ms":1500}}});
        request("POST", &url, &h, Some(body.to_string().as_bytes()))
    });
    let refused = replies.iter().filter(|r| r.status == 429).count();
    let served = replies.iter().filter(|r| r.status == 200).count();
    assert_eq!(refused + served, 8);
    assert!((1..=2).contains(&served), "at most 2 in flight: served {served}");
    assert!(refused >= 6);
    assert!(replies.iter().filter(|r| r.status == 429).all(|r| r.header("retry-after").is_some()));
    wait_for(|| metric(&host, None, "spinscope_rejected_total", &[("reason", "concurrency")]) >= refused as f64);
    assert_eq!(metric(&host, None, "spinscope_rejected_total", &[("reason", "concurrency")]), refused as f64);
    wait_for(|| metric(&host, None, "spinscope_in_flight_requests", &[]) == 0.0);
    // Capacity is back.
    assert_eq!(mcp.post_raw(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#, &[]).status, 200);
}

#[test]
fn the_rate_limit_is_enforced_per_tenant_and_refills() {
    let host =
        app().var("api_keys", &api_keys()).var("rate_limit_per_minute", "600").var("rate_limit_burst", "3").start();
    let auth_a = format!("Bearer {KEY_A}");
    let auth_b = format!("Bearer {KEY_B}");
    let get = |auth: &str| request("GET", &host.url("/mcp"), &[("authorization", auth)], None).status;
    // 600 a minute in bursts of 3: windows of 300 ms. Start just after a
    // window opens, so the burst and the refusal fall in one window even on
    // a slow host (the sliding weight of a previous window is tested
    // natively in spinscope::auth).
    let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    std::thread::sleep(Duration::from_millis(300 - ms % 300 + 10));
    // GET /mcp is 405 once admitted: three, then 429.
    assert_eq!([get(&auth_a), get(&auth_a), get(&auth_a)], [405, 405, 405]);
    let limited = request("GET", &host.url("/mcp"), &[("authorization", &auth_a)], None);
    assert_eq!(limited.status, 429);
    assert!(limited.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(get(&auth_b), 405, "another tenant has its own bucket");
    // 600 a minute in bursts of 3: windows of 300 ms. Two windows later
    // the refused burst no longer weighs.
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(get(&auth_a), 405, "refilled");
    wait_for(|| metric(&host, Some(KEY_B), "spinscope_rejected_total", &[("reason", "rate_limit")]) >= 1.0);
    // The scrapes above were not rate limited (only the gateway is).
    assert_eq!(metric(&host, Some(KEY_B), "spinscope_rejected_total", &[("reason", "rate_limit")]), 1.0);
}

/// 200 requests at once for a tenant allowed 10 a minute: exactly 10 are
/// admitted, on Spin's SQLite store and on Redis (the limit is kept with
/// `increment` alone, which both stores do atomically).
#[test]
fn the_rate_limit_admits_exactly_its_limit_on_sqlite_and_redis() {
    let redis = RedisServer::start();
    for store in ["sqlite", "redis"] {
        let builder = app().var("api_keys", &api_keys()).var("rate_limit_per_minute", "10");
        let host = if store == "redis" { builder.redis(&redis).start() } else { builder.start() };
        let url = host.url("/mcp");
        let auth = format!("Bearer {KEY_A}");
        let statuses = concurrently(200, 1, move |_| request("GET", &url, &[("authorization", &auth)], None).status);
        let admitted = statuses.iter().filter(|s| **s == 405).count();
        let refused = statuses.iter().filter(|s| **s == 429).count();
        assert_eq!((admitted, refused), (10, 190), "{store}: {statuses:?}");
        wait_for(|| metric(&host, Some(KEY_B), "spinscope_rejected_total", &[("reason", "rate_limit")]) >= 190.0);
        assert_eq!(
            metric(&host, Some(KEY_B), "spinscope_rejected_total", &[("reason", "rate_limit")]),
            190.0,
            "{store}"
        );
    }
}

/// In auth mode a fresh readiness run (every tool component asked, a store
/// write) is for callers with a key; anyone else gets the cached answer.
#[test]
fn only_a_caller_with_a_key_can_force_a_fresh_readiness_run() {
    let host = app().var("api_keys", &api_keys()).var("ready_cache_ttl_ms", "60000").start();
    let first = call_route(&host, "/health/ready", None).json();
    let anonymous = call_route(&host, "/health/ready?fresh=1", None).json();
    assert_eq!(anonymous["cached"], true, "{anonymous}");
    assert_eq!(anonymous["check_id"], first["check_id"]);
    let wrong = call_route(&host, "/health/ready?fresh=1", Some("wrong")).json();
    assert_eq!(wrong["check_id"], first["check_id"], "a wrong key is no key");
    let keyed = call_route(&host, "/health/ready?fresh=1", Some(KEY_A)).json();
    assert_eq!(keyed["cached"], false, "{keyed}");
    assert_ne!(keyed["check_id"], first["check_id"]);
}

/// SQLite's file change counter (header bytes 24..28): one more for every
/// write transaction on the default store in rollback-journal mode (in WAL
/// mode the header is only rewritten at checkpoints, so the test that counts
/// with it runs on Spin's default journal).
fn sqlite_writes(host: &Host) -> u32 {
    let bytes = std::fs::read(host.state_dir.join("sqlite_key_value.db")).expect("the default store");
    u32::from_be_bytes(bytes[24..28].try_into().unwrap())
}

/// A flood of requests with a bad key (half of them from a refused
/// `Origin` too) costs the store far fewer writes than requests (exact
/// counting up to 64 per 10 s, weighted sampling above), is still counted
/// without bias, and does not stop keyed clients.
#[test]
fn a_bad_key_flood_costs_few_writes_and_is_counted_within_the_error() {
    const FLOOD: usize = 2_000;
    let host = app().var("api_keys", &api_keys()).journal(Journal::SpinDefault).start();
    let (mut keyed, _) = {
        let mut mcp = Mcp::new(&host);
        let auth = format!("Bearer {KEY_A}");
        let r = mcp.post_raw(&init_body(), &[("authorization", &auth)]);
        assert_eq!(r.status, 200, "{}", r.body);
        mcp.session = Some(r.header("mcp-session-id").unwrap().to_string());
        mcp.protocol_version = Some("2025-06-18".into());
        (mcp, ())
    };
    let before = sqlite_writes(&host);
    let window = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() / 10;
    let first_window = window();
    let url = host.url("/mcp");
    let flood = std::thread::spawn(move || {
        concurrently(32, FLOOD / 32 + 1, move |i| {
            if i >= FLOOD {
                return 401;
            }
            // Every other one also names a refused origin: the key is
            // checked first, so it is a 401 counted the same way.
            let origin = if i % 2 == 0 { "https://evil.example" } else { "http://127.0.0.1" };
            let h = [("authorization", "Bearer not-a-key"), ("content-type", "application/json"), ("origin", origin)];
            request("POST", &url, &h, Some(init_body().as_bytes())).status
        })
    });
    let auth = format!("Bearer {KEY_A}");
    for i in 0..10 {
        let body = json!({"jsonrpc":"2.0","id":i,"method":"tools/call","params":{"name":"word_count","arguments":{"text":"a b"}}});
        let r = keyed.post_raw(&body.to_string(), &[("authorization", &auth)]);
        assert_eq!(r.status, 200, "a keyed call during the flood: {}", r.body);
    }
    let statuses = flood.join().unwrap();
    let windows = (window() - first_window + 1) as u32;
    assert!(statuses.iter().all(|s| *s == 401));
    std::thread::sleep(Duration::from_millis(500));
    let writes = sqlite_writes(&host) - before;
    // Each 10-second window the flood touches counts its first 64 exactly,
    // then about 64 × ln(n/64) more: some 280 for 2,000 one at a time, up
    // to about 450 when 32 arrive at once and read the same count (they are
    // still weighted without bias); plus the keyed calls' own writes.
    let bound = (windows * 550 + 60).min(FLOOD as u32 / 2);
    assert!(writes < bound, "{writes} store writes for {FLOOD} refused requests over {windows} window(s)");
    let counted = metric(&host, Some(KEY_A), "spinscope_rejected_total", &[("reason", "invalid_key")]);
    // Unbiased; its standard error is about 6 % for 2,000 refusals in a
    // window (docs/auth.md), 8.5 % if the flood spans two: 40 % is more
    // than four of them.
    assert!((counted - FLOOD as f64).abs() <= 0.4 * FLOOD as f64, "counted {counted} of {FLOOD}");
    let _ = keyed.session.take();
}

/// The in-flight counters of old minutes are deleted once nothing reads
/// them (the exporter drops them), so the store does not keep one per
/// minute forever.
#[test]
fn old_in_flight_counters_are_deleted() {
    let now_minute = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() / 60;
    let old = spinscope::keys::in_flight(now_minute - 10);
    let state = state_with_store(&[(old.clone(), 3i64.to_le_bytes().to_vec())]);
    let host = app().var("max_concurrency", "4").state_dir(&state).start();
    let (mut mcp, _) = Mcp::connect(&host);
    mcp.call_tool("word_count", json!({"text": "a"}));
    assert_eq!(metric(&host, None, "spinscope_in_flight_requests", &[]), 0.0, "an old minute never counts");
    let db = rusqlite::Connection::open(state.join("sqlite_key_value.db")).unwrap();
    let left: i64 = db.query_row("SELECT count(*) FROM spin_key_value WHERE key = ?1", [&old], |r| r.get(0)).unwrap();
    assert_eq!(left, 0, "the old counter is deleted");
}

/// A limit that cannot be kept fails closed: with the store gone, a request
/// under a rate limit is refused (503 on the local host, whose store calls
/// fail at once; Spin's hang until Redis is back, so there no answer comes),
/// never served unchecked.
#[test]
fn limits_fail_closed_when_the_store_is_gone() {
    let redis = RedisServer::start();
    let host = app().redis(&redis).var("rate_limit_per_minute", "1000").start();
    let (mcp, _) = Mcp::connect(&host);
    let headers = mcp.headers();
    redis.stop();
    let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let ping = br#"{"jsonrpc":"2.0","id":9,"method":"ping"}"#;
    match request_within(Duration::from_secs(5), "POST", &host.url("/mcp"), &h, Some(ping)) {
        Some(reply) => {
            assert_eq!(reply.status, 503, "{}", reply.body);
            assert!(reply.body.contains("limit"), "{}", reply.body);
            host.wait_for_log(|l| l.contains("Rate limit not checked"));
        }
        None => assert_eq!(host_kind(), HostKind::Spin, "only Spin waits for a dead Redis"),
    }
}

/// An `api_keys` value that does not parse fails closed in every component
/// that authenticates (503), and no answer quotes the value.
#[test]
fn an_invalid_api_keys_fails_closed_everywhere_without_quoting_it() {
    let secret = "acme:not-a-sha256-but-a-secret-4711";
    let host = app().var("api_keys", secret).start();
    for route in PROTECTED_ROUTES {
        for key in [None, Some(KEY_A)] {
            let r = call_route(&host, route, key);
            assert_eq!(r.status, 503, "{route} with {key:?}: {}", r.body);
            assert!(!r.body.contains("not-a-sha256"), "{route} quotes the value: {}", r.body);
        }
    }
    for route in OPEN_ROUTES {
        let r = call_route(&host, route, None);
        assert!(!r.body.contains("not-a-sha256"), "{route} quotes the value: {}", r.body);
    }
    host.wait_for_log(|l| l.contains("api_keys"));
}
