//! Session state stays bounded and its gauge exact: a per-tenant cap on
//! live sessions, expired sessions swept, `sessions_active` back to zero.

use serde_json::json;
use spinscope::gateway::session_id;
use spinscope_e2e::*;
use spinscope_testkit::exposition::parse;
use std::time::{Duration, Instant};

fn app() -> HostBuilder {
    HostBuilder::app(Some(&["gateway", "metrics", "text-tools", "calc"])).var("tool_components", "text-tools,calc")
}

fn gauge(host: &Host, name: &str) -> f64 {
    let r = host.get("/metrics");
    assert_eq!(r.status, 200, "{}", r.body);
    parse(&r.body).unwrap().value(name, &[]).unwrap_or(0.0)
}

fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check() {
        assert!(Instant::now() < deadline, "{what}: not reached in time");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The session records in the default SQLite store.
fn session_keys(host: &Host) -> usize {
    let db = rusqlite::Connection::open(host.state_dir.join("sqlite_key_value.db")).unwrap();
    db.query_row("SELECT count(*) FROM spin_key_value WHERE key LIKE 'spinscope:v1:session:%'", [], |r| {
        r.get::<_, i64>(0)
    })
    .unwrap() as usize
}

#[test]
fn expired_sessions_are_swept_and_the_gauge_returns_to_zero() {
    let host = app().var("session_idle_timeout_secs", "1").start();
    let mut clients: Vec<Mcp> = (0..5).map(|_| Mcp::connect(&host).0).collect();
    wait_for("five live sessions", || gauge(&host, "spinscope_sessions_active") == 5.0);
    assert_eq!(session_keys(&host), 5);
    // One is ended by its client, one by its own late request; the other
    // three expire unseen and are swept by a scrape.
    assert_eq!(
        request("DELETE", &host.url("/mcp"), &[("mcp-session-id", clients[0].session.as_deref().unwrap())], None)
            .status,
        204
    );
    std::thread::sleep(Duration::from_millis(2_200));
    let late = clients[1].request("ping", json!({}));
    assert_eq!(late.status, 404, "{}", late.body);
    wait_for("the gauge back to zero", || gauge(&host, "spinscope_sessions_active") == 0.0);
    assert_eq!(session_keys(&host), 0, "expired session records are gone");
    // Nothing ended twice: a second late request changes nothing.
    assert_eq!(clients[1].request("ping", json!({})).status, 404);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(gauge(&host, "spinscope_sessions_active"), 0.0);
}

#[test]
fn a_tenant_holds_at_most_max_sessions_per_tenant() {
    let host = app().var("max_sessions_per_tenant", "3").start();
    let mut held: Vec<Mcp> = (0..3).map(|_| Mcp::connect(&host).0).collect();
    let mut fourth = Mcp::new(&host);
    let refused = fourth.request(
        "initialize",
        json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}),
    );
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert_eq!(refused.json()["id"], 1, "{}", refused.body);
    assert!(refused.json()["error"]["message"].as_str().unwrap().contains("3 live sessions"));
    assert!(refused.header("retry-after").is_some());
    // Ending one makes room.
    let ended = held.pop().unwrap();
    assert_eq!(
        request("DELETE", &host.url("/mcp"), &[("mcp-session-id", ended.session.as_deref().unwrap())], None).status,
        204
    );
    let (_again, reply) = Mcp::connect(&host);
    assert_eq!(reply.status, 200);
    wait_for("the refusal counted", || {
        let r = host.get("/metrics");
        parse(&r.body).unwrap().value("spinscope_rejected_total", &[("reason", "sessions")]) == Some(1.0)
    });
    assert_eq!(gauge(&host, "spinscope_sessions_active"), 3.0);
}

/// A handshake-era `tools/call` on SQLite reads its session with the
/// tool's entry and the breakers, in one `get-many`, because the session
/// id says its store can (`spinscope::gateway::session_id`). What is read
/// ahead stays right when the request writes: the session's last-seen
/// time is refreshed (a write of a key read ahead), the tool map is
/// written on the first call (its entries were read ahead absent), and
/// every later call still finds both.
#[test]
fn on_sqlite_a_call_reads_its_session_with_the_tool_and_stays_exact() {
    // Refreshed on every request: last-seen granularity is a tenth of the timeout.
    let host = app().var("session_idle_timeout_secs", "1").start();
    let (mut mcp, _) = Mcp::connect(&host);
    let id = mcp.session.clone().expect("a session id");
    assert!(session_id::batch_reads(&id), "an id made on SQLite says so: {id}");
    for i in 0..8 {
        let text = "one two three ".repeat(i + 1);
        let result = mcp.call_tool("word_count", json!({"text": text}));
        assert_eq!(result["structuredContent"]["words"], json!(3 * (i + 1)), "{result}");
        std::thread::sleep(Duration::from_millis(150));
    }
    // The refreshes were written: the session is alive past its timeout
    // from creation, and ends once.
    assert_eq!(mcp.request("ping", json!({})).status, 200);
    assert_eq!(gauge(&host, "spinscope_sessions_active"), 1.0);
}

/// On Redis a session id says its store reads keys one at a time, so a
/// call never sends Spin's Redis `get-many` (a `KEYS`); an id that says
/// otherwise (a client may send anything) costs one refused `KEYS` and is
/// then looked up the usual way: unknown, 404, nothing scanned.
#[test]
fn on_redis_a_session_id_that_claims_batch_reads_is_refused_cleanly() {
    let redis = RedisServer::start();
    // Audit off: one request in 256 seals pending audit events after its
    // answer, with a key listing (`KEYS *`) that would land in the counts.
    let host = app().var("audit_enabled", "false").redis(&redis).start();
    let (mut mcp, _) = Mcp::connect(&host);
    let id = mcp.session.clone().expect("a session id");
    assert!(!session_id::batch_reads(&id), "an id made on Redis says so: {id}");
    // `KEYS` calls so far (`initialize` sweeps with `KEYS *`), and refused ones.
    let keys = || redis.command_calls("keys");
    let before = keys();
    mcp.call_tool("word_count", json!({"text": "a b"}));
    mcp.call_tool("word_count", json!({"text": "a b"}));
    assert_eq!(keys(), before, "a real session's call sends no KEYS");

    // The same id with the hint flipped: another, unknown session.
    let last = u8::from_str_radix(&id[31..], 16).unwrap() | 1;
    let forged = format!("{}{:x}", &id[..31], last);
    assert!(session_id::batch_reads(&forged));
    let mut forger = Mcp::new(&host);
    forger.protocol_version = mcp.protocol_version.clone();
    forger.session = Some(forged);
    let reply = forger.request("tools/call", json!({"name": "word_count", "arguments": {"text": "a b"}}));
    assert_eq!(reply.status, 404, "{}", reply.body);
    assert_eq!(keys(), (before.0, before.1 + 1), "one KEYS, refused: nothing scanned");
    // The real session still works.
    assert_eq!(mcp.call_tool("word_count", json!({"text": "a b c"}))["structuredContent"]["words"], json!(3));
}
