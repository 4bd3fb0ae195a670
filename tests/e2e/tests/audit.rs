//! The audit trail end to end (docs/audit.md): one event per tool call,
//! refusal and session, sealed into a hash chain that `GET /audit` pages
//! through and `GET /audit/verify` checks; tampering with the store is
//! found and named; tenants read their own events; two hosts sharing Redis
//! write one chain.

use serde_json::{json, Value};
use spinscope::audit::{Head, Sealed};
use spinscope_e2e::*;

const KEY: &str = "an audit key of at least sixteen bytes";

fn app() -> HostBuilder {
    HostBuilder::app(Some(&["gateway", "metrics", "audit", "text-tools"])).var("tool_components", "text-tools")
}

/// Every event `GET /audit` gives, paging `limit` at a time with the cursor.
fn all_events(host: &Host, headers: &[(&str, &str)], query: &str, limit: usize) -> Vec<Sealed> {
    let mut events = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("/audit?limit={limit}{query}");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let r = request("GET", &host.url(&url), headers, None);
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.header("content-type"), Some("application/x-ndjson"));
        let page: Vec<Sealed> = r.body.lines().map(|l| serde_json::from_str(l).expect("an event")).collect();
        assert!(page.len() <= limit);
        events.extend(page);
        match r.header("audit-next-cursor") {
            Some(c) => cursor = Some(c.to_string()),
            None => return events,
        }
    }
}

fn head_of(r: &Reply) -> Head {
    let (seq, hash) = r.header("audit-head").expect("an audit-head header").split_once(':').unwrap();
    Head { seq: seq.parse().unwrap(), hash: hash.to_string() }
}

/// Calls `n` word counts and one unknown tool; returns the session's client.
fn calls(host: &Host, n: usize) {
    let (mut mcp, _) = Mcp::connect(host);
    for i in 0..n {
        mcp.call_tool("word_count", json!({ "text": format!("call {i}") }));
    }
    let unknown = mcp.request("tools/call", json!({ "name": "delete_records", "arguments": {} }));
    assert_eq!(unknown.status, 200);
}

fn verify(host: &Host, headers: &[(&str, &str)]) -> (u16, Value) {
    let r = request("GET", &host.url("/audit/verify"), headers, None);
    (r.status, r.json())
}

/// The chain on one host: exact, contiguous, paged, filtered, verified.
fn one_event_per_call_and_the_chain_verifies(host: &Host) {
    calls(host, 12);
    let events = all_events(host, &[], "", 5);
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=events.len() as u64).collect::<Vec<_>>(), "sequence numbers without gaps");
    let count = |kind: &str| events.iter().filter(|e| e.event.kind.as_str() == kind).count();
    assert_eq!(count("tool_call"), 13, "one per tools/call, the unknown tool's included");
    assert_eq!(count("session_created"), 1);
    let unknown: Vec<&Sealed> = events.iter().filter(|e| e.event.tool.as_deref() == Some("_other")).collect();
    assert_eq!(unknown.len(), 1);
    assert_eq!(unknown[0].event.outcome.as_deref(), Some("error"));
    let call = events.iter().find(|e| e.event.tool.as_deref() == Some("word_count")).unwrap();
    assert_eq!(call.event.component.as_deref(), Some("text-tools"));
    assert_eq!(call.event.arguments_sha256.as_ref().map(String::len), Some(64));
    assert!(call.event.duration_us.is_some() && call.event.request_id.is_some() && call.event.trace_id.is_some());
    assert_eq!(all_events(host, &[], "&tool=word_count", 1000).len(), 12);
    assert_eq!(all_events(host, &[], "&outcome=error", 1000).len(), 1);
    assert_eq!(all_events(host, &[], "&kind=session_created", 1000).len(), 1);
    assert_eq!(all_events(host, &[], "&since=10", 1000).first().map(|e| e.seq), Some(10));
    let bad = request("GET", &host.url("/audit?tools=x"), &[], None);
    assert_eq!(bad.status, 400, "a typo never widens the answer: {}", bad.body);
    let (status, verified) = verify(host, &[]);
    assert_eq!(status, 200, "{verified}");
    assert_eq!(verified["events"], json!(events.len()));
    let r = request("GET", &host.url("/audit?limit=1"), &[], None);
    let head = head_of(&r);
    assert_eq!(head.seq, events.len() as u64);
    spinscope::audit::verify(&events, Head::default(), None, Some(&head)).expect("verifies offline too");
    // The metrics count the events and show the head.
    let e = scrape_until(host, |e| value(e, "spinscope_audit_chain_head_sequence", &[]) >= head.seq as f64);
    assert_eq!(value(&e, "spinscope_audit_chain_broken_sequence", &[]), 0.0, "the scrape's check finds it intact");
    assert_eq!(value(&e, "spinscope_audit_events_total", &[("kind", "tool_call")]), 13.0);
}

#[test]
fn every_call_has_one_event_and_the_chain_verifies_on_sqlite() {
    let host = app().start();
    one_event_per_call_and_the_chain_verifies(&host);
}

#[test]
fn every_call_has_one_event_and_the_chain_verifies_on_redis() {
    let redis = RedisServer::start();
    let host = app().redis(&redis).start();
    one_event_per_call_and_the_chain_verifies(&host);
}

#[test]
fn two_hosts_sharing_redis_write_one_chain() {
    let redis = RedisServer::start();
    let a = app().redis(&redis).start();
    let b = app().redis(&redis).start();
    for _ in 0..3 {
        calls(&a, 5);
        calls(&b, 5);
    }
    let events = all_events(&a, &[], "", 1000);
    assert_eq!(events.iter().filter(|e| e.event.kind.as_str() == "tool_call").count(), 36);
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=events.len() as u64).collect::<Vec<_>>());
    assert_eq!(verify(&b, &[]).0, 200);
}

/// Rewrites the largest stored segment of a stopped host's SQLite store
/// with `edit`, which returns the sequence number the chain must now break at.
fn edit_segment(state_dir: &std::path::Path, edit: impl Fn(&mut Vec<String>) -> u64) -> u64 {
    let db = rusqlite::Connection::open(state_dir.join(spinscope_sqlite::FILE_NAME)).unwrap();
    let (key, value): (String, Vec<u8>) = db
        .query_row(
            "SELECT key, value FROM spin_key_value WHERE store = 'default' \
             AND key LIKE 'spinscope:v1:audit:seg:%' ORDER BY length(value) DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let mut lines: Vec<String> = String::from_utf8(value).unwrap().lines().map(str::to_string).collect();
    assert!(lines.len() >= 4, "a segment of several events: {lines:?}");
    let at = edit(&mut lines);
    let edited = lines.join("\n") + "\n";
    db.execute(
        "UPDATE spin_key_value SET value = ?1 WHERE store = 'default' AND key = ?2",
        rusqlite::params![edited.as_bytes(), key],
    )
    .unwrap();
    at
}

fn seq_of(line: &str) -> u64 {
    serde_json::from_str::<Sealed>(line).unwrap().seq
}

/// An edit of a segment's lines, returning the sequence number the chain
/// must now break at.
type Edit = fn(&mut Vec<String>) -> u64;

/// The four tamperings both stores are tried with.
const EDITS: [(&str, Edit); 4] = [
    ("an edited field", |l| {
        let i = l.iter().position(|l| l.contains("\"outcome\":\"success\"")).unwrap();
        l[i] = l[i].replacen("\"outcome\":\"success\"", "\"outcome\":\"error\"", 1);
        seq_of(&l[i])
    }),
    ("a deleted event", |l| seq_of(&l.remove(2))),
    ("two swapped", |l| {
        l.swap(1, 2);
        seq_of(&l[2])
    }),
    ("the newest dropped", |l| seq_of(&l.pop().unwrap())),
];

/// Starts a host, calls, seals, stops it; returns its state directory.
fn sealed_state(key: Option<&str>) -> std::path::PathBuf {
    let mut builder = app();
    if let Some(k) = key {
        builder = builder.var("audit_key", k);
    }
    let host = builder.start();
    calls(&host, 6);
    assert_eq!(verify(&host, &[]).0, 200);
    host.stop()
}

fn restart(state: &std::path::Path, key: Option<&str>) -> Host {
    let mut builder = app().state_dir(state);
    if let Some(k) = key {
        builder = builder.var("audit_key", k);
    }
    builder.start()
}

#[test]
fn tampering_with_the_store_is_found_and_named() {
    for key in [None, Some(KEY)] {
        for (what, edit) in EDITS {
            let state = sealed_state(key);
            let at = edit_segment(&state, edit);
            let host = restart(&state, key);
            // The scrape's own check finds it before anyone verifies.
            let broken = value(&scrape(&host), "spinscope_audit_chain_broken_sequence", &[]);
            assert_eq!(broken, at as f64, "{what} (key: {}): the scrape's check", key.is_some());
            let (status, body) = verify(&host, &[]);
            assert_eq!(status, 409, "{what} (key: {}): {body}", key.is_some());
            assert_eq!(body["broken_seq"], json!(at), "{what}: {body}");
            host.stop();
        }
    }
    // Without the key, a forger can rehash the segment consistently: a
    // keyed chain still fails, since no link can be right without the key.
    let state = sealed_state(Some(KEY));
    let first = edit_segment(&state, |lines| {
        let sealed: Vec<Sealed> = lines.iter().map(|l| serde_json::from_str(l).unwrap()).collect();
        let mut events: Vec<spinscope::audit::Event> = sealed.iter().map(|s| s.event.clone()).collect();
        events[0].outcome = Some("forged".into());
        let from = Head { seq: sealed[0].seq - 1, hash: sealed[0].prev.clone() };
        let (forged, _) = spinscope::audit::chain::seal(&from, events, None);
        *lines = forged.iter().map(|e| serde_json::to_string(e).unwrap()).collect();
        sealed[0].seq
    });
    let host = restart(&state, Some(KEY));
    assert_eq!(value(&scrape(&host), "spinscope_audit_chain_broken_sequence", &[]), first as f64, "forged");
    let (status, body) = verify(&host, &[]);
    assert_eq!((status, body["broken_seq"].clone()), (409, json!(first)), "{body}");
}

/// A session and one call with `auth`.
fn call_as(host: &Host, auth: &str) {
    let mut mcp = Mcp::new(host);
    let with = [("authorization", auth)];
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "e2e", "version": "1"}}});
    let r = mcp.post_raw(&init.to_string(), &with);
    assert_eq!(r.status, 200, "{}", r.body);
    mcp.session = r.header("mcp-session-id").map(str::to_string);
    mcp.protocol_version = Some("2025-06-18".into());
    assert_eq!(mcp.post_raw(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#, &with).status, 202);
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "word_count", "arguments": {"text": "a b"}}});
    let r = mcp.post_raw(&call.to_string(), &with);
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn tenants_read_their_own_events_and_admins_everything() {
    let keys = [("acme", "key-acme-0123456789"), ("beta", "key-beta-0123456789"), ("ops", "key-ops-0123456789")];
    let entry = |(tenant, key): (&str, &str)| format!("{tenant}:{}", spinscope::auth::hash_key(key));
    let spec = format!("{},{},{}:admin", entry(keys[0]), entry(keys[1]), entry(keys[2]));
    let host = app().var("api_keys", &spec).start();
    for (_, key) in &keys[..2] {
        call_as(&host, &format!("Bearer {key}"));
    }
    let bearer = |key: &str| format!("Bearer {key}");
    let acme = bearer(keys[0].1);
    let ops = bearer(keys[2].1);
    let own = all_events(&host, &[("authorization", &acme)], "", 1000);
    assert!(!own.is_empty() && own.iter().all(|e| e.event.tenant.as_deref() == Some("acme")), "{own:?}");
    let other = request("GET", &host.url("/audit?tenant=beta"), &[("authorization", &acme)], None);
    assert_eq!(other.status, 403);
    assert_eq!(verify(&host, &[("authorization", &acme)]).0, 403, "verifying takes the admin role");
    assert_eq!(request("GET", &host.url("/audit"), &[], None).status, 401);
    let everything = all_events(&host, &[("authorization", &ops)], "", 1000);
    let tenants: std::collections::BTreeSet<_> = everything.iter().filter_map(|e| e.event.tenant.clone()).collect();
    assert_eq!(tenants.into_iter().collect::<Vec<_>>(), ["acme", "beta"]);
    assert_eq!(verify(&host, &[("authorization", &ops)]).0, 200);
}

/// Spin killed (SIGKILL) under 32 concurrent clients, then restarted on the
/// same store: every call a client got an answer for has its event, and the
/// chain verifies (sequence numbers are given at sealing: no holes).
#[test]
fn no_answered_call_loses_its_event_when_the_host_is_killed() {
    let host = app().start();
    let url = host.url("/mcp");
    let request = ModernRequest::call("word_count", json!({ "text": "a b c" }));
    let headers: Vec<(String, String)> = request.headers.clone();
    let body = request.body().to_string();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let clients: Vec<_> = (0..32)
        .map(|t| {
            let (url, headers, body, stop) = (url.clone(), headers.clone(), body.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut answered = Vec::new();
                let mut i = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let id = format!("crash-{t}-{i}");
                    i += 1;
                    let mut h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                    h.push(("x-request-id", &id));
                    match post_or_nothing(&url, &h, &body) {
                        Some((200, text)) if text.contains("\"result\"") => answered.push(id),
                        Some(_) => {}
                        None => break,
                    }
                }
                answered
            })
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let state = host.stop();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let answered: Vec<String> = clients.into_iter().flat_map(|c| c.join().unwrap()).collect();
    assert!(answered.len() > 50, "the load ran: {} answered", answered.len());
    let host = app().state_dir(&state).start();
    let events = all_events(&host, &[], "&kind=tool_call", 1000);
    let recorded: std::collections::HashSet<&str> =
        events.iter().filter_map(|e| e.event.request_id.as_deref()).collect();
    let lost: Vec<&String> = answered.iter().filter(|id| !recorded.contains(id.as_str())).collect();
    assert!(
        lost.is_empty(),
        "{} of {} answered calls have no event: {:?}",
        lost.len(),
        answered.len(),
        &lost[..lost.len().min(5)]
    );
    let (status, body) = verify(&host, &[]);
    assert_eq!(status, 200, "{body}");
}

/// A POST's status and body, `None` when the host is gone (killed).
fn post_or_nothing(url: &str, headers: &[(&str, &str)], body: &str) -> Option<(u16, String)> {
    let agent = ureq::AgentBuilder::new().timeout(std::time::Duration::from_secs(5)).build();
    let mut req = agent.post(url);
    for (k, v) in headers {
        req = req.set(k, v);
    }
    match req.send_string(body) {
        Ok(r) => Some((r.status(), r.into_string().unwrap_or_default())),
        Err(ureq::Error::Status(code, r)) => Some((code, r.into_string().unwrap_or_default())),
        Err(_) => None,
    }
}

/// Retention keeps about `audit_retention_events`, dropping whole sealed
/// segments oldest first; each drop is itself an event, and the chain still
/// verifies from the checkpoint it records, online and offline.
#[test]
fn retention_drops_the_oldest_and_the_chain_verifies_from_its_checkpoint() {
    let host = app().var("audit_retention_events", "1000").start();
    let modern = ModernRequest::call("word_count", json!({ "text": "a" }));
    let url = host.url("/mcp");
    let headers = modern.headers.clone();
    let body = modern.body().to_string();
    for _ in 0..6 {
        let (url, headers, body) = (url.clone(), headers.clone(), body.clone());
        concurrently(8, 25, move |_| {
            let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            assert_eq!(post_or_nothing(&url, &h, &body).map(|r| r.0), Some(200));
        });
        // Each read seals what is pending into a segment of its own.
        assert_eq!(host.get("/audit?limit=1").status, 200);
    }
    let (status, verified) = verify(&host, &[]);
    assert_eq!(status, 200, "{verified}");
    assert!(verified["dropped"].as_u64().unwrap() > 0, "{verified}");
    assert!(verified["from"]["seq"].as_u64().unwrap() > 0, "{verified}");
    let events = all_events(&host, &[], "", 1000);
    assert!(events.len() <= 1000 + 201, "{} kept", events.len());
    assert!(events.iter().any(|e| e.event.kind.as_str() == "retention"));
    let from = Head { seq: events[0].seq - 1, hash: events[0].prev.clone() };
    spinscope::audit::verify(&events, from, None, None).expect("verifies offline from the checkpoint");
    let e = scrape_until(&host, |e| value(e, "spinscope_audit_events_dropped_total", &[]) > 0.0);
    assert!(value(&e, "spinscope_audit_events_dropped_total", &[]) >= verified["dropped"].as_u64().unwrap() as f64);
}

/// The same four edits on Redis, with and without the key: the scrape's
/// check and `/audit/verify` name the break; the alert's gauge holds
/// until the segment is put back and the chain verifies again.
#[test]
fn tampering_on_redis_is_found_too() {
    for key in [None, Some(KEY)] {
        let redis = RedisServer::start();
        let mut builder = app().redis(&redis);
        if let Some(k) = key {
            builder = builder.var("audit_key", k);
        }
        let host = builder.start();
        calls(&host, 6);
        assert_eq!(verify(&host, &[]).0, 200);
        let mut con = redis::Client::open(redis.url()).unwrap().get_connection().unwrap();
        let keys: Vec<String> = redis::cmd("KEYS").arg("spinscope:v1:audit:seg:*").query(&mut con).unwrap();
        // The largest segment (a seal may have split the calls in two).
        let mut segments: Vec<(String, String)> =
            keys.into_iter().map(|k| (redis::cmd("GET").arg(&k).query(&mut con).unwrap(), k)).collect();
        segments.sort_by_key(|(v, _)| v.len());
        let (original, segment) = segments.pop().expect("a sealed segment");
        let set = |con: &mut redis::Connection, value: &str| {
            let _: () = redis::cmd("SET").arg(&segment).arg(value).query(con).unwrap();
        };
        for (what, edit) in EDITS {
            let mut lines: Vec<String> = original.lines().map(str::to_string).collect();
            assert!(lines.len() >= 4, "a segment of several events: {lines:?}");
            let at = edit(&mut lines);
            set(&mut con, &(lines.join("\n") + "\n"));
            let broken = value(&scrape(&host), "spinscope_audit_chain_broken_sequence", &[]);
            assert_eq!(broken, at as f64, "{what} (key: {}): the scrape's check", key.is_some());
            let (status, body) = verify(&host, &[]);
            assert_eq!((status, body["broken_seq"].clone()), (409, json!(at)), "{what}: {body}");
            // Put back: the chain verifies, and the gauge comes back to 1.
            set(&mut con, &original);
            assert_eq!(verify(&host, &[]).0, 200, "{what}: restored");
            assert_eq!(value(&scrape(&host), "spinscope_audit_chain_broken_sequence", &[]), 0.0, "{what}: restored");
        }
        host.stop();
    }
}

/// 32 concurrent clients, 5,000 tool calls mixed with rejections: exactly
/// one event per call and per refusal of an authenticated caller (here,
/// an oversize body), the refusals of callers without a key summarised per
/// window with the exact count (fewer than 64 a window are counted one by
/// one), and sequence numbers without gaps; the chain verifies.
#[test]
fn five_thousand_calls_mixed_with_rejections_have_exactly_their_events() {
    const CALLS: usize = 5_000;
    const OVERSIZE: usize = 100;
    const KEYLESS: usize = 40;
    let key = "key-acme-0123456789";
    let spec = format!("acme:{}:admin", spinscope::auth::hash_key(key));
    let host = app().var("api_keys", &spec).var("max_request_bytes", "4096").start();
    let auth = format!("Bearer {key}");
    let modern = ModernRequest::call("word_count", json!({ "text": "a b" }));
    let (url, headers, body) = (host.url("/mcp"), modern.headers.clone(), modern.body().to_string());
    let caller = auth.clone();
    let big = ModernRequest::call("word_count", json!({ "text": "x".repeat(8192) })).body().to_string();
    let statuses = concurrently(32, (CALLS + OVERSIZE + KEYLESS) / 32 + 1, move |i| {
        let mut h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let (expected, payload) = if i < CALLS {
            h.push(("authorization", &caller));
            (200, &body)
        } else if i < CALLS + OVERSIZE {
            h.push(("authorization", &caller));
            (413, &big)
        } else if i < CALLS + OVERSIZE + KEYLESS {
            (401, &body)
        } else {
            return true;
        };
        post_or_nothing(&url, &h, payload).map(|r| r.0) == Some(expected)
    });
    assert!(statuses.iter().all(|ok| *ok), "every request got its expected status");
    let admin = [("authorization", auth.as_str())];
    let events = all_events(&host, &admin, "", 1000);
    let count = |kind: &str| events.iter().filter(|e| e.event.kind.as_str() == kind).count();
    assert_eq!(count("tool_call"), CALLS);
    let payload =
        events.iter().filter(|e| e.event.kind.as_str() == "refusal" && e.event.outcome.as_deref() == Some("payload"));
    assert_eq!(payload.count(), OVERSIZE);
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=events.len() as u64).collect::<Vec<_>>(), "no gaps");
    // The keyless refusals' windows are folded 30 s after they end.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(75);
    let summarised = loop {
        let summaries = all_events(&host, &admin, "&kind=refusals", 1000);
        let counted: u64 = summaries.iter().filter_map(|e| e.event.count).sum();
        if counted >= KEYLESS as u64 || std::time::Instant::now() > deadline {
            break summaries;
        }
        std::thread::sleep(std::time::Duration::from_secs(2));
    };
    assert!(summarised.len() <= 3, "one event per window, not per request: {}", summarised.len());
    assert!(summarised
        .iter()
        .all(|e| e.event.outcome.as_deref() == Some("missing_key") && !e.event.exemplars.is_empty()));
    assert_eq!(summarised.iter().filter_map(|e| e.event.count).sum::<u64>(), KEYLESS as u64, "the exact count");
    assert_eq!(verify(&host, &admin).0, 200);
}
