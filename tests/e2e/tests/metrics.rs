//! Metrics end to end: calls through the real gateway, scraped from the
//! real exporter, counted exactly, under concurrency, across two hosts
//! sharing Redis, and valid for a strict parser and for `promtool`.

use serde_json::json;
use spinscope_e2e::*;
use spinscope_testkit::exposition::Exposition;
use std::time::Duration;

const HOSTILE: &str = "hostile \"quoted\" \\back\\slash\nnew line ✓ ünïcødé";

fn app() -> HostBuilder {
    HostBuilder::app(Some(&["gateway", "metrics", "text-tools", "calc"]))
        .var("tool_components", "text-tools,calc,faults")
}

fn call(mcp: &mut Mcp, name: &str, args: serde_json::Value) {
    let r = mcp.request("tools/call", json!({"name": name, "arguments": args}));
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn every_count_is_exact_after_mixed_calls() {
    let host = app().var("tool_timeout_ms", "1000").var("max_request_bytes", "65536").start();
    let (mut mcp, _) = Mcp::connect(&host); // 2 HTTP requests: initialize, initialized
    for i in 0..5 {
        call(&mut mcp, "word_count", json!({"text": format!("call {i}")}));
    }
    for _ in 0..3 {
        call(&mut mcp, "failing", json!({}));
    }
    call(&mut mcp, "slow", json!({"ms": 5000}));
    call(&mut mcp, "calculate", json!({"expression": "1+1"}));
    let unknown = mcp.request("tools/call", json!({"name": "nope", "arguments": {}}));
    assert_eq!(unknown.json()["error"]["code"], -32602);
    // server/discover is modern whatever the session: without its _meta
    // envelope it is refused as a modern request is (400, -32602).
    let discover = mcp.request("server/discover", json!({}));
    assert_eq!((discover.status, discover.json()["error"]["code"].as_i64()), (400, Some(-32602)));
    mcp.request("ping", json!({}));
    let too_big = mcp.post_raw(&"x".repeat(70_000), &[]);
    assert_eq!(too_big.status, 413);
    // 2 + 10 tool calls + unknown + discover + ping + 413 = 16 requests to /mcp
    let total_requests = 16.0;

    let e = scrape_until(&host, |e| value(e, "spinscope_http_requests_total", &[]) >= total_requests);
    assert_eq!(value(&e, "spinscope_http_requests_total", &[("route", "/mcp")]), total_requests);
    assert_eq!(value(&e, "spinscope_http_requests_total", &[("status", "413")]), 1.0);
    assert_eq!(value(&e, "spinscope_http_requests_total", &[("status", "202")]), 1.0);
    assert_eq!(value(&e, "spinscope_http_request_duration_seconds_count", &[("route", "/mcp")]), total_requests);

    let calls =
        |tool: &str, outcome: &str| value(&e, "spinscope_tool_calls_total", &[("tool", tool), ("outcome", outcome)]);
    assert_eq!(calls("word_count", "success"), 5.0);
    assert_eq!(calls("failing", "error"), 3.0);
    assert_eq!(calls("slow", "timeout"), 1.0);
    assert_eq!(calls("calculate", "success"), 1.0);
    assert_eq!(value(&e, "spinscope_tool_calls_total", &[]), 10.0);
    assert_eq!(value(&e, "spinscope_tool_call_duration_seconds_count", &[("tool", "word_count")]), 5.0);
    assert_eq!(
        value(&e, "spinscope_tool_call_duration_seconds_bucket", &[("tool", "slow"), ("le", "0.5")]),
        0.0,
        "the timed-out call took about a second"
    );

    let mcp_count = |method: &str, outcome: &str| {
        value(&e, "spinscope_mcp_requests_total", &[("method", method), ("outcome", outcome)])
    };
    // A tool's isError fails the operation, as error_type says (the conventions).
    assert_eq!(mcp_count("tools/call", "success"), 6.0);
    assert_eq!(mcp_count("tools/call", "tool_error"), 4.0);
    assert_eq!(mcp_count("tools/call", "error"), 1.0);
    assert_eq!(mcp_count("server/discover", "error"), 1.0);
    assert_eq!(
        value(&e, "spinscope_mcp_requests_total", &[("method", "tools/call"), ("mcp_protocol_version", "2025-06-18")]),
        11.0
    );
    assert_eq!(mcp_count("initialize", "success"), 1.0);
    assert_eq!(mcp_count("ping", "success"), 1.0);
    let op = |labels: &[(&str, &str)]| value(&e, "spinscope_mcp_server_operation_duration_seconds_count", labels);
    assert_eq!(
        op(&[("mcp_method_name", "tools/call"), ("gen_ai_tool_name", "failing"), ("error_type", "tool_error")]),
        3.0
    );
    assert_eq!(op(&[("mcp_method_name", "tools/call"), ("gen_ai_tool_name", "_other"), ("error_type", "-32602")]), 1.0);
    assert_eq!(op(&[("mcp_method_name", "tools/call"), ("gen_ai_tool_name", "word_count"), ("error_type", "")]), 5.0);

    assert_eq!(value(&e, "spinscope_rejected_total", &[("reason", "payload")]), 1.0);
    assert_eq!(value(&e, "spinscope_sessions_created_total", &[]), 1.0);
    assert_eq!(value(&e, "spinscope_sessions_active", &[]), 1.0);
    assert_eq!(value(&e, "spinscope_metrics_record_failures_total", &[]), 0.0);
    assert_eq!(value(&e, "spinscope_build_info", &[]), 1.0);

    // The JSON view agrees.
    let j = host.get("/metrics?format=json").json();
    assert_eq!(j["tool_calls_total"], json!({"success": 6, "error": 3, "timeout": 1, "circuit_open": 0}));
    assert_eq!(j["tools"]["failing"]["error"], 3);
    assert_eq!(j["rejected_total"]["payload"], 1);
    assert_eq!(j["sessions_active"], 1);
    assert_eq!(j["tool_call_duration_seconds_count"], 10);

    // OpenMetrics on request.
    let om = request("GET", &host.url("/metrics"), &[("accept", "application/openmetrics-text; version=1.0.0")], None);
    assert!(om.header("content-type").unwrap().starts_with("application/openmetrics-text"));
    assert!(om.body.ends_with("# EOF\n"));
    assert!(om.body.contains("# TYPE spinscope_tool_calls counter\n"));

    promtool_check(&host.get("/metrics").body);
}

/// One session, then `threads` × `per_thread` concurrent `sha256` calls,
/// each answered 200.
fn concurrent_sha256_calls(host: &Host, threads: usize, per_thread: usize) {
    let (mcp, _) = Mcp::connect(host);
    let headers = mcp.headers();
    let url = host.url("/mcp");
    let statuses = concurrently(threads, per_thread, move |i| {
        let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let body = json!({"jsonrpc":"2.0","id":i,"method":"tools/call","params":{"name":"sha256","arguments":{"text": i.to_string()}}});
        request("POST", &url, &h, Some(body.to_string().as_bytes())).status
    });
    assert!(statuses.iter().all(|s| *s == 200));
}

/// 500 concurrent calls on a fresh default store count exactly 500, with
/// the file as `make up` prepares it (write-ahead logging) and as Spin
/// creates it (rollback journal): the journal changes the write rate, never
/// the counts.
#[test]
fn five_hundred_concurrent_calls_lose_nothing() {
    for (journal, mode) in [(Journal::Wal, "wal"), (Journal::SpinDefault, "delete")] {
        let host = app().journal(journal).start();
        concurrent_sha256_calls(&host, 50, 10);
        let e = scrape_until(&host, |e| value(e, "spinscope_tool_calls_total", &[]) >= 500.0);
        assert_eq!(value(&e, "spinscope_tool_calls_total", &[("tool", "sha256"), ("outcome", "success")]), 500.0);
        assert_eq!(value(&e, "spinscope_tool_call_duration_seconds_count", &[]), 500.0);
        assert_eq!(value(&e, "spinscope_http_requests_total", &[]), 502.0);
        assert_eq!(value(&e, "spinscope_metrics_record_failures_total", &[]), 0.0);
        let state = host.stop();
        assert_eq!(spinscope_sqlite::journal_mode(&state).unwrap(), mode, "{journal:?}");
    }
}

#[test]
fn an_in_memory_metrics_store_counts_exactly_and_writes_nothing_to_disk() {
    let host = HostBuilder::app(None).var("tool_components", "text-tools,calc").metrics_in_memory().start();
    concurrent_sha256_calls(&host, 32, 8);
    let e = scrape_until(&host, |e| value(e, "spinscope_tool_calls_total", &[]) >= 256.0);
    assert_eq!(value(&e, "spinscope_tool_calls_total", &[("tool", "sha256"), ("outcome", "success")]), 256.0);
    assert_eq!(value(&e, "spinscope_http_requests_total", &[]), 258.0);
    assert_eq!(value(&e, "spinscope_metrics_record_failures_total", &[]), 0.0);
    // The detailed health view reads the same store.
    let detailed = host.get("/health/detailed").json();
    assert_eq!(detailed["parts"]["store"]["metrics_observations_unreadable"], 0, "{detailed}");
    assert_eq!(detailed["parts"]["gateway"]["http_requests"], 258, "{detailed}");
    // Sessions stay in the default store on disk; the metrics never go there.
    let state = host.stop();
    let db = rusqlite::Connection::open(state.join("sqlite_key_value.db")).unwrap();
    let keys: Vec<String> = db
        .prepare("SELECT key FROM spin_key_value")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(keys.iter().any(|k| k.starts_with("spinscope:v1:session:")), "{keys:?}");
    assert!(!keys.iter().any(|k| k.contains(":metrics:")), "{keys:?}");
}

/// Connections Redis has accepted since it started (`INFO stats`).
fn connections_received(redis: &RedisServer) -> u64 {
    let info = redis.command(&["INFO", "stats"]);
    info.lines()
        .find_map(|l| l.strip_prefix("total_connections_received:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no total_connections_received in {info}"))
}

/// The multi-instance setup: two hosts on one Redis, 2 × 5,000 calls at 32
/// connections each. Every call is answered 200, both scrapes count every
/// call exactly once, and the hosts open no store connection per request
/// (Spin's Redis compare-and-swap opens one each time, so the metrics
/// never use it there).
/// What a recorded `tools/call` costs the store, exactly, counted by Redis
/// (every store operation is one command there). A handshake-era call
/// reads its session and the tool map, a 2026-07-28 call the tool map
/// alone, and both read the store's counter marker once to tell the
/// metrics layout (`Layout::detect`). Both write with `INCRBY` alone (and
/// the session's last-seen `SET`): no compare-and-swap (`WATCH`/`EXEC`),
/// no key listing, nothing deleted.
#[test]
fn a_recorded_call_reads_only_what_it_needs_and_never_swaps() {
    const CALLS: u64 = 10;
    let redis = RedisServer::start();
    let host = app().redis(&redis).start();
    let (mut mcp, _) = Mcp::connect(&host);
    let modern = ModernRequest::call("word_count", json!({"text": "a b"}));
    // The first calls fill the tool map.
    call(&mut mcp, "word_count", json!({"text": "a b"}));
    assert_eq!(modern.send(&host, &[]).status, 200);

    // One request in 256 also seals pending audit records (docs/audit.md),
    // with commands of its own: a batch it fell in is measured again, so
    // what is counted is the calls' own work.
    let clean = |cost: &std::collections::BTreeMap<String, f64>| cost.values().all(|n| n.fract() == 0.0);
    let measure = |mut one: Box<dyn FnMut() + '_>| {
        let mut cost = Default::default();
        for _ in 0..4 {
            let before = redis.settled_commandstats();
            for _ in 0..CALLS {
                one();
            }
            cost = commands_per_call(&before, &redis.settled_commandstats(), CALLS);
            if clean(&cost) {
                break;
            }
        }
        cost
    };
    let legacy = measure(Box::new(|| call(&mut mcp, "word_count", json!({"text": "a b"}))));
    let stateless = measure(Box::new(|| assert_eq!(modern.send(&host, &[]).status, 200)));

    // Reads: the session (which says the store's encoding, so the layout
    // marker is not read) and the tool map; the tool map and the marker.
    assert_eq!(legacy.get("get"), Some(&2.0), "{legacy:?}");
    assert_eq!(stateless.get("get"), Some(&2.0), "{stateless:?}");
    for (era, cost) in [("legacy", &legacy), ("modern", &stateless)] {
        // `PING`: Spin's check when a store is opened (the local host sends it too).
        let allowed = ["get", "ping", "incrby", "set"];
        assert!(cost.keys().all(|c| allowed.contains(&c.as_str())), "{era}: {cost:?}");
        let increments = cost.get("incrby").copied().unwrap_or(0.0);
        assert!(increments >= 10.0 && increments.fract() == 0.0, "{era}: {cost:?}");
    }
    // `SET`s: the call's audit event (a pending record of its own on Redis,
    // docs/audit.md), and in the handshake era the session's last-seen time.
    assert_eq!(legacy.get("set"), Some(&2.0), "the session's last-seen time and the audit event: {legacy:?}");
    assert_eq!(stateless.get("set"), Some(&1.0), "no session to refresh; the audit event: {stateless:?}");
}

/// With breakers on, a 2026-07-28 call first tries to read the tool's
/// entry, the breakers and the store's encoding marker in one `get-many`
/// (`tools::read_ahead`). Spin's Redis store refuses it (its `get-many` is
/// a `KEYS` with the keys as arguments: refused at once, nothing scanned),
/// and the refusal tells the encoding: the marker is not read. So the call
/// costs what it did, one command spent differently: the entry's and the
/// breaker's `GET`s and one refused `KEYS`, no marker `GET`.
#[test]
fn on_redis_a_refused_read_ahead_replaces_the_encoding_read() {
    const CALLS: u64 = 10;
    let redis = RedisServer::start();
    // Audit off: one request in 256 seals pending audit events, with a
    // key listing (`KEYS *`) of its own.
    let host = app().var("breaker_failures", "5").var("audit_enabled", "false").redis(&redis).start();
    let modern = ModernRequest::call("word_count", json!({"text": "a b"}));
    assert_eq!(modern.send(&host, &[]).status, 200, "fills the tool map");
    let rejected_keys = || redis.command_calls("keys").1;
    let (before, refused_before) = (redis.settled_commandstats(), rejected_keys());
    for _ in 0..CALLS {
        assert_eq!(modern.send(&host, &[]).status, 200);
    }
    let cost = commands_per_call(&before, &redis.settled_commandstats(), CALLS);
    assert_eq!(rejected_keys() - refused_before, CALLS, "one refused KEYS per call: {cost:?}");
    assert_eq!(cost.get("get"), Some(&2.0), "the entry and text-tools' breaker; no marker: {cost:?}");
    assert_eq!(cost.get("keys"), None, "no KEYS ran: {cost:?}");
}

#[test]
fn two_hosts_sharing_redis_add_to_the_same_numbers() {
    const PER_HOST: usize = 5_000;
    let redis = RedisServer::start();
    let a = app().redis(&redis).start();
    let b = app().redis(&redis).start();
    let run = |host: &Host| {
        let (mcp, _) = Mcp::connect(host);
        let headers = mcp.headers();
        let url = host.url("/mcp");
        concurrently(32, PER_HOST / 32 + 1, move |i| {
            if i >= PER_HOST {
                return 200;
            }
            let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let body = json!({"jsonrpc":"2.0","id":i,"method":"tools/call","params":{"name":"word_count","arguments":{"text":"a b c"}}});
            request("POST", &url, &h, Some(body.to_string().as_bytes())).status
        })
    };
    // Warm up: each host opens its store connection(s) once.
    run_once(&a);
    run_once(&b);
    let before = connections_received(&redis);
    let (ra, rb) = std::thread::scope(|s| {
        let ta = s.spawn(|| run(&a));
        let tb = s.spawn(|| run(&b));
        (ta.join().unwrap(), tb.join().unwrap())
    });
    let refused = ra.iter().chain(&rb).filter(|s| **s != 200).count();
    assert_eq!(refused, 0, "every call must be answered 200");
    let opened = connections_received(&redis) - before;
    // Two `connections_received` probes of the test itself, plus a few
    // reconnections at most: nothing that grows with the requests.
    assert!(opened <= 8, "{opened} Redis connections opened during {} requests", 2 * PER_HOST);
    let total = (2 * PER_HOST + 2) as f64;
    // On Redis each series is its own counter and a scrape reads them one by
    // one: a recording still landing can show in one series and not yet in
    // the next. Wait until every figure checked below has caught up.
    let settled = |e: &Exposition| {
        value(e, "spinscope_tool_calls_total", &[]) >= total
            && value(e, "spinscope_tool_call_duration_seconds_count", &[]) >= total
            && value(e, "spinscope_sessions_created_total", &[]) >= 4.0
    };
    let e = scrape_until(&a, settled);
    let failures = value(&e, "spinscope_metrics_record_failures_total", &[]);
    let logs = |host: &Host| host.logs().into_iter().filter(|l| l.contains("Metrics not recorded")).collect::<Vec<_>>();
    assert_eq!(
        value(&e, "spinscope_tool_calls_total", &[("tool", "word_count")]),
        total,
        "record failures: {failures}; failed recordings logged: {:?} {:?}",
        logs(&a),
        logs(&b)
    );
    assert_eq!(value(&e, "spinscope_tool_call_duration_seconds_count", &[]), total);
    assert_eq!(value(&e, "spinscope_sessions_created_total", &[]), 4.0);
    assert_eq!(value(&e, "spinscope_metrics_record_failures_total", &[]), 0.0);
    let from_b = scrape_until(&b, settled);
    assert_eq!(value(&from_b, "spinscope_tool_calls_total", &[("tool", "word_count")]), total);
}

/// One session and one call, answered 200.
fn run_once(host: &Host) {
    let (mut mcp, _) = Mcp::connect(host);
    call(&mut mcp, "word_count", json!({"text": "warm"}));
}

#[test]
fn hostile_tool_names_keep_the_exposition_valid() {
    let host = app().start();
    let (mut mcp, _) = Mcp::connect(&host);
    let r = mcp.request("tools/call", json!({"name": HOSTILE, "arguments": {}}));
    assert_eq!(r.json()["result"]["isError"], json!(true), "{}", r.body);
    // A name the gateway does not know is bounded, not recorded.
    let long_unknown = format!("{}\"\n\\", "z".repeat(10 * 1024));
    mcp.request("tools/call", json!({"name": long_unknown, "arguments": {}}));
    let e = scrape_until(&host, |e| value(e, "spinscope_tool_calls_total", &[]) >= 1.0);
    assert_eq!(value(&e, "spinscope_tool_calls_total", &[("tool", HOSTILE), ("outcome", "error")]), 1.0);
    let body = host.get("/metrics").body;
    assert!(!body.contains("zzzzzzzzzz"), "unknown client-sent names must not become labels");
    promtool_check(&body);
    let om = request("GET", &host.url("/metrics"), &[("accept", "application/openmetrics-text")], None);
    assert!(om.body.ends_with("# EOF\n"));
    let j = host.get("/metrics?format=json").json();
    assert_eq!(j["tools"][HOSTILE]["error"], 1);
}

#[test]
fn the_series_cap_drops_and_counts() {
    let host = app().var("metrics_max_series_per_metric", "2").start();
    let (mut mcp, _) = Mcp::connect(&host);
    for tool in ["word_count", "sha256", "calculate"] {
        let args = if tool == "calculate" { json!({"expression": "1"}) } else { json!({"text": "x"}) };
        call(&mut mcp, tool, args);
    }
    let e = scrape_until(&host, |e| {
        value(e, "spinscope_metrics_series_dropped_total", &[("metric", "tool_calls_total")]) >= 1.0
    });
    assert_eq!(e.family("spinscope_tool_calls_total").unwrap().samples.len(), 2);
    assert_eq!(value(&e, "spinscope_metrics_series_dropped_total", &[("metric", "tool_calls_total")]), 1.0);
}

#[test]
fn recording_off_records_nothing_and_a_dead_store_fails_the_scrape() {
    let host = app().var("metrics_enabled", "false").start();
    let (mut mcp, _) = Mcp::connect(&host);
    call(&mut mcp, "word_count", json!({"text": "x"}));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(value(&scrape(&host), "spinscope_tool_calls_total", &[]), 0.0);
    drop(host);

    let redis = RedisServer::start();
    let host = app().redis(&redis).start();
    let (mut mcp, _) = Mcp::connect(&host);
    call(&mut mcp, "word_count", json!({"text": "x"}));
    redis.stop();
    // The local host fails the store call at once: 503. Spin's Redis store
    // does not fail it, it waits for Redis: the scrape is still unanswered
    // when the client gives up (docs/host.md). Never a 200 with numbers.
    match request_within(DEAD_STORE_WAIT, "GET", &host.url("/metrics"), &[], None) {
        Some(scrape) => {
            assert_eq!(scrape.status, 503, "{}", scrape.body);
            assert!(scrape.body.contains("unavailable"), "{}", scrape.body);
        }
        None => assert_eq!(host.kind, HostKind::Spin, "the local host must answer a scrape when the store is gone"),
    }
}

/// A store an earlier version wrote keeps its counts: its shard records are
/// folded into the fold record once, by `spinscope-sqlite prepare` (which
/// the harness runs before the host starts, as `make up` does), and never
/// read again; one that does not decode, which that version's exporter left
/// out too, is left as it was.
#[test]
fn an_earlier_versions_shard_records_are_folded_once_and_an_unreadable_one_kept() {
    use spinscope::keys;
    use spinscope::metrics::series::{ToolCall, ToolOutcome};
    use spinscope::metrics::{Limits, Recorder, Snapshot};
    let mut earlier = Recorder::new();
    for _ in 0..3 {
        let call =
            ToolCall { tool: "sha256", component: "text-tools", outcome: ToolOutcome::Success, duration_s: 0.01 };
        earlier.tool_call(call);
    }
    let mut shard = Snapshot::new();
    shard.apply(&earlier, &Limits::UNLIMITED);
    let corrupt = b"{\"v\":1,\"series\":[ not json".to_vec();
    let state =
        state_with_store(&[(keys::metrics_shard(0), shard.encode()), (keys::metrics_shard(1), corrupt.clone())]);
    let host = app().state_dir(&state).start();
    concurrent_sha256_calls(&host, 4, 10);
    let e = scrape_until(&host, |e| value(e, "spinscope_tool_calls_total", &[]) >= 43.0);
    assert_eq!(value(&e, "spinscope_tool_calls_total", &[]), 43.0, "the earlier version's 3 and the 40 calls");
    let text = host.get("/metrics").body;
    assert!(!text.contains("shard"), "{text}");
    promtool_check(&text);
    assert!(host.get("/metrics?format=json").json().get("skipped_shards").is_none());
    drop(host);
    let db = rusqlite::Connection::open(state.join("sqlite_key_value.db")).unwrap();
    let shards: Vec<(String, Vec<u8>)> = db
        .prepare("SELECT key, value FROM spin_key_value WHERE key LIKE 'spinscope:v1:metrics:shard%'")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(shards, [(keys::metrics_shard(1), corrupt)], "folded and deleted; the unreadable one left as it was");
}
