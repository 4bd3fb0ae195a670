//! Health, startup and readiness probes (issue 5), end to end: the real host
//! serving the real `health` and `ready` components with the example tool
//! components, on SQLite or on a real Redis that a test can stop.

use serde_json::Value;
use spinscope::keys;
use spinscope::metrics::series::{ErrorType, HttpRequest, McpOperation, ToolCall, ToolOutcome};
use spinscope::metrics::{FoldRecord, Limits, Recorder, Snapshot};
use spinscope_e2e::*;

const APP: &[&str] = &["health", "ready", "text-tools", "calc"];
const PROBE_PATHS: &[&str] =
    &["/health/live", "/health/startup", "/health/ready", "/ready", "/health", "/health/detailed"];

fn app() -> HostBuilder {
    HostBuilder::app(Some(APP))
}

/// Every probe answer is uncacheable JSON.
fn assert_probe_headers(path: &str, reply: &Reply) {
    assert_eq!(reply.header("content-type"), Some("application/json"), "{path}: {reply:?}");
    assert_eq!(reply.header("cache-control"), Some("no-store"), "{path}: {reply:?}");
}

fn get(host: &Host, path: &str) -> (u16, Value) {
    let reply = host.get(path);
    assert_probe_headers(path, &reply);
    (reply.status, reply.json())
}

fn is_rfc3339(v: &Value) -> bool {
    v.as_str().is_some_and(|s| s.len() == 24 && s.ends_with('Z') && s.as_bytes()[10] == b'T')
}

#[test]
fn every_probe_answers_ok_on_a_healthy_app() {
    let host = app().start();

    let (status, live) = get(&host, "/health/live");
    assert_eq!(status, 200, "{live}");
    assert_eq!(live["status"], "ok");
    assert!(is_rfc3339(&live["timestamp"]), "{live}");
    assert_eq!(live["version"], env!("CARGO_PKG_VERSION"));

    let (status, startup) = get(&host, "/health/startup");
    assert_eq!(status, 200, "{startup}");
    assert_eq!(startup["status"], "ok");
    assert!(is_rfc3339(&startup["started_at"]), "{startup}");
    assert!(startup["startup_duration_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{startup}");
    assert!(startup["startup_duration"].as_str().is_some_and(|s| s.ends_with("ms")), "{startup}");
    // The start time is recorded once: a second probe reports the same one.
    assert_eq!(get(&host, "/health/startup").1["started_at"], startup["started_at"]);

    for path in ["/health/ready", "/ready"] {
        let (status, ready) = get(&host, &format!("{path}?fresh=1"));
        assert_eq!(status, 200, "{ready}");
        assert_eq!(ready["status"], "ok", "{ready}");
        assert_eq!(ready["cached"], false);
        assert!(is_rfc3339(&ready["timestamp"]) && is_rfc3339(&ready["checked_at"]), "{ready}");
        assert_eq!(ready["failing"], serde_json::json!([]));
        for name in ["config", "kv", "tools"] {
            let check = &ready["checks"][name];
            assert_eq!(check["status"], "ok", "{name}: {ready}");
            assert!(check["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{name}: {ready}");
            assert!(check["message"].is_string(), "{name}: {ready}");
        }
        let components = &ready["checks"]["tools"]["components"];
        for component in ["text-tools", "calc"] {
            assert_eq!(components[component]["status"], "ok", "{ready}");
            assert!(components[component]["tools"].as_u64().is_some_and(|n| n > 0), "{ready}");
            assert!(components[component]["latency_ms"].as_f64().is_some(), "{ready}");
        }
        assert_eq!(components.as_object().unwrap().len(), 2, "{ready}");
        assert_eq!(ready["checks"]["tools"]["required"], false);
    }

    let (status, summary) = get(&host, "/health");
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["status"], "ok");
    assert_eq!(summary["started_at"], startup["started_at"], "uptime counts from the recorded start");
    assert!(summary["uptime_seconds"].as_f64().is_some_and(|s| s >= 0.0), "{summary}");
    assert_eq!(summary["checks"], serde_json::json!({"config": "ok", "kv": "ok", "tools": "ok"}));

    let (status, detailed) = get(&host, "/health/detailed");
    assert_eq!(status, 200, "{detailed}");
    assert_eq!(detailed["started_at"], startup["started_at"]);
    assert_eq!(detailed["checks"]["kv"]["status"], "ok", "{detailed}");
    let parts = &detailed["parts"];
    assert_eq!(parts["gateway"]["http_requests"], 0, "no gateway traffic yet: {detailed}");
    assert_eq!(parts["gateway"]["sessions_active"], 0, "{detailed}");
    assert_eq!(parts["tools"]["calc"]["status"], "ok", "{detailed}");
    assert_eq!(parts["tools"]["calc"]["calls"], 0, "{detailed}");
    assert_eq!(parts["store"]["status"], "ok", "{detailed}");
    assert!(parts["store"]["latency_ms"].as_f64().is_some(), "{detailed}");
    assert_eq!(parts["store"]["metrics_observations_pending"], 0, "{detailed}");
    assert_eq!(parts["store"]["metrics_observations_unreadable"], 0, "{detailed}");
}

#[test]
fn only_get_and_head_are_allowed() {
    let host = app().start();
    for path in PROBE_PATHS {
        for method in ["POST", "PUT", "DELETE"] {
            let reply = request(method, &host.url(path), &[], Some(b"{}"));
            assert_eq!(reply.status, 405, "{method} {path}: {}", reply.body);
            assert_eq!(reply.header("allow"), Some("GET, HEAD"), "{method} {path}");
            assert_probe_headers(path, &reply);
            assert_eq!(reply.json()["status"], "error");
        }
        let head = request("HEAD", &host.url(path), &[], None);
        assert_eq!(head.status, 200, "HEAD {path}");
        assert_probe_headers(path, &head);
        assert!(head.body.is_empty(), "HEAD {path}: {}", head.body);
    }
}

#[test]
fn the_store_going_away_fails_readiness_but_not_liveness() {
    let redis = RedisServer::start();
    let host = app().redis(&redis).start();
    assert_eq!(get(&host, "/health/startup").0, 200);
    let (status, ready) = get(&host, "/health/ready?fresh=1");
    assert_eq!(status, 200, "{ready}");
    // The kv check cleans up after itself, and the report is cached in Redis.
    assert_eq!(redis.command(&["KEYS", "spinscope:v1:probe:*"]), "*0\r\n");
    assert!(redis.command(&["GET", spinscope::keys::READY_CACHE]).contains(ready["check_id"].as_str().unwrap()));

    redis.stop();
    // What both hosts share once the store is gone: nothing that needs it
    // answers success, and liveness still answers at once. The local host
    // fails each store call at once (503, naming the store); Spin's Redis
    // store does not fail it but waits for Redis, so those requests are
    // still unanswered when the client gives up (docs/host.md). The probes
    // run at once so that Spin's wait is paid once.
    let paths = ["/health/ready?fresh=1", "/health/ready", "/ready", "/health", "/health/startup"];
    let replies: Vec<Option<Reply>> = std::thread::scope(|s| {
        let asks: Vec<_> = paths
            .iter()
            .map(|path| s.spawn(|| request_within(DEAD_STORE_WAIT, "GET", &host.url(path), &[], None)))
            .collect();
        asks.into_iter().map(|a| a.join().unwrap()).collect()
    });
    let answered: Vec<(&str, Reply)> = paths.iter().zip(replies).filter_map(|(p, r)| r.map(|r| (*p, r))).collect();
    if answered.len() < paths.len() {
        assert_eq!(host.kind, HostKind::Spin, "the local host must answer every probe when the store is gone");
    }
    // Liveness never touches the store, even with store calls hanging.
    let live = request_within(DEAD_STORE_WAIT, "GET", &host.url("/health/live"), &[], None).expect("liveness answers");
    assert_eq!(live.status, 200, "liveness never touches the store: {}", live.body);
    assert_eq!(live.json()["status"], "ok");

    for (path, reply) in answered {
        assert_probe_headers(path, &reply);
        let body = reply.json();
        match path {
            "/health" => {
                assert_eq!(reply.status, 503, "{body}");
                assert_eq!(body["checks"]["kv"], "error");
                assert_eq!(body["uptime_seconds"], Value::Null, "no start time without a store: {body}");
            }
            "/health/startup" => {
                assert_eq!(reply.status, 503, "{body}");
                assert!(body["reasons"].to_string().contains("key-value store"), "{body}");
            }
            _ => assert_ready_without_store(path, reply.status, &body),
        }
    }
}

/// A readiness report once the store is gone: the kv check fails, the rest
/// does not.
fn assert_ready_without_store(path: &str, status: u16, ready: &Value) {
    assert_eq!(status, 503, "{path}: {ready}");
    assert_eq!(ready["status"], "error", "{ready}");
    assert_eq!(ready["cached"], false, "an unreachable cache is a miss: {ready}");
    assert_eq!(ready["failing"], serde_json::json!(["kv"]), "{ready}");
    assert_eq!(ready["checks"]["kv"]["status"], "error");
    assert!(ready["checks"]["kv"]["message"].as_str().unwrap().contains("key-value store"), "{ready}");
    // The other parts are still fine.
    assert_eq!(ready["checks"]["tools"]["status"], "ok", "{ready}");
    assert_eq!(ready["checks"]["config"]["status"], "ok", "{ready}");
}

#[test]
fn a_tool_component_down_degrades_readiness() {
    let host = app().var("tool_components", "text-tools,calc,ghost").start();
    let (status, ready) = get(&host, "/health/ready?fresh=1");
    assert_eq!(status, 200, "degraded is still ready unless tools are required: {ready}");
    assert_eq!(ready["status"], "degraded");
    assert_eq!(ready["failing"], serde_json::json!(["tools"]));
    let tools = &ready["checks"]["tools"];
    assert_eq!(tools["status"], "degraded");
    assert!(tools["message"].as_str().unwrap().contains("ghost"), "{ready}");
    assert_eq!(tools["components"]["ghost"]["status"], "error", "{ready}");
    assert!(tools["components"]["ghost"]["message"].as_str().unwrap().contains("http-request-denied"), "{ready}");
    assert_eq!(tools["components"]["text-tools"]["status"], "ok");
    assert_eq!(tools["components"]["calc"]["status"], "ok");
    assert_eq!(ready["checks"]["kv"]["status"], "ok");

    let (status, summary) = get(&host, "/health");
    assert_eq!(status, 200);
    assert_eq!(summary["status"], "degraded");
    assert_eq!(summary["checks"]["tools"], "degraded");
    let (_, detailed) = get(&host, "/health/detailed");
    assert_eq!(detailed["parts"]["tools"]["ghost"]["status"], "error", "{detailed}");
    assert_eq!(detailed["parts"]["tools"]["text-tools"]["status"], "ok", "{detailed}");
    drop(host);

    let host = app().var("tool_components", "text-tools,calc,ghost").var("tools_required", "true").start();
    let (status, ready) = get(&host, "/health/ready?fresh=1");
    assert_eq!(status, 503, "{ready}");
    assert_eq!(ready["status"], "degraded");
    assert_eq!(ready["checks"]["tools"]["required"], true);
    assert_eq!(ready["checks"]["tools"]["components"]["ghost"]["status"], "error");
    assert_eq!(get(&host, "/health/live").0, 200);
}

#[test]
fn a_malformed_variable_fails_config_and_startup() {
    let host = app().var("tool_timeout_ms", "soon").start();
    let (status, ready) = get(&host, "/health/ready");
    assert_eq!(status, 503, "{ready}");
    assert_eq!(ready["status"], "error");
    assert_eq!(ready["failing"], serde_json::json!(["config"]));
    let config = &ready["checks"]["config"];
    assert_eq!(config["status"], "error");
    let message = config["message"].as_str().unwrap();
    assert!(message.contains("tool_timeout_ms") && message.contains("soon"), "{message}");
    assert_eq!(config["variables"], serde_json::json!(["tool_timeout_ms"]));
    // The rest of the app still checks out (the bad variable takes its default).
    assert_eq!(ready["checks"]["kv"]["status"], "ok");
    assert_eq!(ready["checks"]["tools"]["status"], "ok");

    let (status, startup) = get(&host, "/health/startup");
    assert_eq!(status, 503, "{startup}");
    assert_eq!(startup["status"], "starting");
    assert!(startup["reasons"].to_string().contains("tool_timeout_ms"), "{startup}");
    assert_eq!(startup["variables"], serde_json::json!(["tool_timeout_ms"]));
    assert_eq!(startup["started_at"], Value::Null, "not initialised, so no start time: {startup}");

    let (status, live) = get(&host, "/health/live");
    assert_eq!(status, 200, "{live}");
}

#[test]
fn readiness_is_cached_for_the_ttl_and_fresh_bypasses_it() {
    // A TTL far longer than the test makes the cache hits deterministic.
    let host = app().var("ready_cache_ttl_ms", "600000").start();
    let (_, first) = get(&host, "/health/ready");
    assert_eq!(first["cached"], false, "{first}");
    let (status, second) = get(&host, "/health/ready");
    assert_eq!(status, 200);
    assert_eq!(second["cached"], true, "{second}");
    assert_eq!(second["checked_at"], first["checked_at"]);
    assert_eq!(second["check_id"], first["check_id"]);
    assert_eq!(second["checks"], first["checks"], "the cached report is served as it was");
    // The other route and the summaries share the cache.
    assert_eq!(get(&host, "/ready").1["check_id"], first["check_id"]);
    let (_, summary) = get(&host, "/health");
    assert_eq!(
        (summary["cached"].clone(), summary["check_id"].clone()),
        (Value::Bool(true), first["check_id"].clone())
    );

    let (_, fresh) = get(&host, "/health/ready?fresh=1");
    assert_eq!(fresh["cached"], false, "{fresh}");
    assert_ne!(fresh["check_id"], first["check_id"], "a new run");
    // ... which replaced the cached report.
    let (_, after) = get(&host, "/health/ready");
    assert_eq!(after["cached"], true);
    assert_eq!(after["check_id"], fresh["check_id"]);
    assert_eq!(after["checked_at"], fresh["checked_at"]);
    drop(host);

    // TTL 0 turns the cache off.
    let host = app().var("ready_cache_ttl_ms", "0").start();
    let ids: Vec<Value> = (0..3)
        .map(|_| {
            let (_, r) = get(&host, "/health/ready");
            assert_eq!(r["cached"], false, "{r}");
            r["check_id"].clone()
        })
        .collect();
    assert!(ids[0] != ids[1] && ids[1] != ids[2], "{ids:?}");
}

/// `n` HTTP requests answered `status`.
fn http(r: &mut Recorder, status: u16, n: usize) {
    for _ in 0..n {
        let request = HttpRequest {
            route: "/mcp",
            method: "POST",
            status,
            duration_s: 0.01,
            request_bytes: 1,
            response_bytes: 1,
        };
        r.http_request(request);
    }
}

/// `n` `tools/call` operations, failed with `error` if any.
fn mcp_calls(r: &mut Recorder, error: Option<ErrorType>, n: usize) {
    for _ in 0..n {
        let op = McpOperation {
            method: "tools/call",
            tool: "calculate",
            protocol_version: Some("2025-06-18"),
            error,
            duration_s: 0.01,
        };
        r.mcp_operation(op);
    }
}

/// `n` calls of `tool` on `component` that ended with `outcome`.
fn calls(r: &mut Recorder, tool: &str, component: &str, outcome: ToolOutcome, n: usize) {
    for _ in 0..n {
        r.tool_call(ToolCall { tool, component, outcome, duration_s: 0.01 });
    }
}

#[test]
fn detailed_view_reads_the_metrics() {
    // A fold record and a pending observation record, as the app writes
    // them in the default SQLite store, before the host starts.
    let mut first = Recorder::new();
    http(&mut first, 200, 7);
    http(&mut first, 500, 1);
    mcp_calls(&mut first, None, 5);
    calls(&mut first, "calculate", "calc", ToolOutcome::Success, 4);
    first.sessions(0, 2);
    let mut second = Recorder::new();
    http(&mut second, 200, 2);
    mcp_calls(&mut second, Some(ErrorType::Rpc(-32603)), 2);
    calls(&mut second, "calculate", "calc", ToolOutcome::Error, 1);
    calls(&mut second, "word_count", "text-tools", ToolOutcome::Timeout, 1);
    second.sessions(0, 1);
    let [first, second] = [first, second].map(|recorder| {
        let mut snapshot = Snapshot::new();
        snapshot.apply(&recorder, &Limits::default());
        snapshot
    });
    let fold = FoldRecord { snapshot: first, generation: 1, ids: Default::default(), audit: None };
    let state = state_with_store(&[
        (keys::METRICS_FOLD.to_string(), fold.encode()),
        (keys::metrics_obs(&"1".repeat(32)), second.encode()),
        // A corrupt one is counted nowhere, and reported.
        (keys::metrics_obs(&"3".repeat(32)), b"not json".to_vec()),
    ]);

    let host = app().state_dir(&state).start();
    let (status, detailed) = get(&host, "/health/detailed");
    assert_eq!(status, 200, "{detailed}");
    let parts = &detailed["parts"];
    assert_eq!(parts["gateway"]["http_requests"], 10, "{detailed}");
    assert_eq!(parts["gateway"]["http_errors"], 1);
    assert_eq!(parts["gateway"]["mcp_requests"], 7);
    assert_eq!(parts["gateway"]["mcp_errors"], 2);
    assert_eq!(parts["gateway"]["sessions_active"], 3);
    assert_eq!(parts["tools"]["calc"]["calls"], 5);
    assert_eq!(parts["tools"]["calc"]["errors"], 1);
    assert_eq!(parts["tools"]["calc"]["status"], "ok");
    assert_eq!(parts["tools"]["text-tools"]["timeouts"], 1);
    assert_eq!(parts["store"]["metrics_observations_unreadable"], 1, "{detailed}");
    assert!(parts["store"]["latency_ms"].as_f64().is_some());
    // The summary view has no figures.
    assert!(get(&host, "/health").1.get("parts").is_none());
}

#[test]
fn detailed_view_counts_the_gateways_traffic() {
    let host = HostBuilder::app(Some(&["gateway", "health", "ready", "text-tools", "calc"])).start();
    let (mut mcp, _) = Mcp::connect(&host);
    let result = mcp.call_tool("calculate", serde_json::json!({"expression": "6 * 7"}));
    assert_eq!(result_text(&result), "42", "{result}");
    // initialize, notifications/initialized, tools/call: the gateway records
    // each after its response is sent, so wait for the third to land.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let detailed = loop {
        let (status, detailed) = get(&host, "/health/detailed");
        assert_eq!(status, 200, "{detailed}");
        if detailed["parts"]["gateway"]["http_requests"] == 3 || std::time::Instant::now() > deadline {
            break detailed;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let parts = &detailed["parts"];
    assert_eq!(parts["gateway"]["http_requests"], 3, "{detailed}");
    assert_eq!(parts["gateway"]["http_errors"], 0, "{detailed}");
    assert_eq!(parts["gateway"]["sessions_active"], 1, "{detailed}");
    assert_eq!(parts["gateway"]["sessions_created"], 1, "{detailed}");
    assert_eq!(parts["tools"]["calc"]["calls"], 1, "{detailed}");
    assert_eq!(parts["tools"]["calc"]["errors"], 0, "{detailed}");
    assert_eq!(parts["tools"]["calc"]["status"], "ok", "{detailed}");
    assert_eq!(parts["tools"]["text-tools"]["calls"], 0, "{detailed}");
}
