//! Hostile and sloppy input at `POST /mcp` (issue 23, items 6 and 7): a
//! message with a key twice (parsers disagree on which one wins), an id
//! beyond 64 bits, a body not declared `application/json`. Each is refused
//! with its documented answer, in every era, and `/metrics` records the
//! refusal and nothing else: no tool call, no MCP operation but the failed
//! one (`docs/metrics.md`, "What counts as an error").

use serde_json::{json, Value};
use spinscope_e2e::*;
use spinscope_testkit::exposition::Exposition;
use std::collections::BTreeMap;

fn app() -> HostBuilder {
    HostBuilder::app(Some(&["gateway", "metrics", "text-tools", "calc"])).var("tool_components", "text-tools,calc")
}

/// `(method, outcome)` → count of `mcp_requests_total`, every revision summed.
fn mcp_operations(e: &Exposition) -> BTreeMap<(String, String), f64> {
    let mut ops = BTreeMap::new();
    let Some(family) = e.family("spinscope_mcp_requests_total") else { return ops };
    for sample in family.samples.iter().filter(|s| s.value > 0.0) {
        let label = |name: &str| sample.labels.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap();
        *ops.entry((label("method"), label("outcome"))).or_insert(0.0) += sample.value;
    }
    ops
}

fn ops(expected: &[(&str, &str, f64)]) -> BTreeMap<(String, String), f64> {
    expected.iter().map(|(m, o, n)| ((m.to_string(), o.to_string()), *n)).collect()
}

/// Waits until `sent` requests to `/mcp` are recorded, then checks that the
/// MCP operations are exactly `expected`, that no tool was called and
/// nothing counted as a rejection, and that the open-mode tenant counts
/// `errors` errors and `statuses` answers with these statuses.
fn check_metrics(host: &Host, sent: f64, expected: &[(&str, &str, f64)], errors: f64, statuses: &[(&str, f64)]) {
    let e = scrape_until(host, |e| value(e, "spinscope_http_requests_total", &[("route", "/mcp")]) >= sent);
    let text = host.get("/metrics").body;
    assert_eq!(value(&e, "spinscope_http_requests_total", &[("route", "/mcp")]), sent, "{text}");
    assert_eq!(mcp_operations(&e), ops(expected), "MCP operations:\n{text}");
    assert_eq!(value(&e, "spinscope_tool_calls_total", &[]), 0.0, "no tool call:\n{text}");
    assert_eq!(value(&e, "spinscope_rejected_total", &[]), 0.0, "no rejection reason:\n{text}");
    for (status, count) in statuses {
        let answered = value(&e, "spinscope_http_requests_total", &[("route", "/mcp"), ("status", status)]);
        assert_eq!(answered, *count, "HTTP {status}:\n{text}");
    }
    let tenants = host.get("/metrics?format=json").json()["tenants"]["-"].clone();
    assert_eq!(tenants["errors"].as_f64(), Some(errors), "{tenants}");
    assert_eq!(tenants["tool_calls"].as_f64(), Some(0.0), "{tenants}");
}

/// A JSON-RPC error answer: its HTTP status, code and message.
fn refused(reply: &Reply) -> (u16, i64, String) {
    let body = reply.json();
    let message = body["error"]["message"].as_str().unwrap_or_default().to_string();
    (reply.status, body["error"]["code"].as_i64().unwrap_or(0), message)
}

/// `body` with `member` (a `"key":value` text) added at its top level, first.
fn with_member(body: &Value, member: &str) -> String {
    let text = body.to_string();
    format!("{{{member},{}", &text[1..])
}

#[test]
fn a_key_given_twice_is_refused_in_every_era() {
    let host = app().start();
    let (mut mcp, _) = Mcp::connect(&host);
    let mut sent = 2.0;

    // Handshake era, in a session: `method` twice at the top level.
    let call = json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call",
        "params": {"name": "word_count", "arguments": {"text": "a b"}}});
    let reply = mcp.post_raw(&with_member(&call, r#""method":"tools/list""#), &[]);
    sent += 1.0;
    let (status, code, message) = refused(&reply);
    assert_eq!((status, code), (400, -32600), "{}", reply.body);
    assert!(message.contains(r#"duplicate key "method""#), "{message}");

    // A key twice at the top level of `params`.
    let body = r#"{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"word_count","arguments":{"text":"a"},"name":"sha256"}}"#;
    let reply = mcp.post_raw(body, &[]);
    sent += 1.0;
    let (status, code, message) = refused(&reply);
    assert_eq!((status, code), (400, -32600), "{}", reply.body);
    assert!(message.contains(r#"duplicate key "name" in "params""#), "{message}");

    // Handshake era, no session yet: an `initialize` that asks two revisions creates none.
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"e2e","version":"1"},"protocolVersion":"2025-03-26"}}"#;
    let reply = Mcp::new(&host).post_raw(init, &[]);
    sent += 1.0;
    let (status, code, message) = refused(&reply);
    assert_eq!((status, code), (400, -32600), "{}", reply.body);
    assert!(message.contains(r#"duplicate key "protocolVersion" in "params""#), "{message}");
    assert_eq!(reply.header("mcp-session-id"), None, "no session for an ambiguous initialize");

    // 2026-07-28: a valid request but for an `id` twice.
    let modern = ModernRequest::call("word_count", json!({"text": "a b"}));
    let headers: Vec<(&str, &str)> = modern.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let reply = host.post("/mcp", &headers, &with_member(&modern.body(), r#""id":2"#));
    sent += 1.0;
    let (status, code, message) = refused(&reply);
    assert_eq!((status, code), (400, -32600), "{}", reply.body);
    assert!(message.contains(r#"duplicate key "id""#), "{message}");
    assert_eq!(reply.json()["id"], Value::Null, "an id given twice is answered with none");

    // The session still serves.
    assert_eq!(mcp.request("ping", json!({})).status, 200);
    sent += 1.0;

    check_metrics(
        &host,
        sent,
        &[
            ("initialize", "success", 1.0),
            ("notifications/initialized", "success", 1.0),
            ("ping", "success", 1.0),
            ("_other", "error", 4.0),
        ],
        4.0,
        &[("400", 4.0)],
    );
    let created = value(&scrape(&host), "spinscope_sessions_created_total", &[]);
    assert_eq!(created, 1.0, "only the valid initialize created a session");
}

#[test]
fn an_integer_id_beyond_64_bits_is_told_as_such() {
    let host = app().start();
    let (mcp, _) = Mcp::connect(&host);
    let mut sent = 2.0;

    let reply = mcp.post_raw(r#"{"jsonrpc":"2.0","id":18446744073709551616,"method":"ping"}"#, &[]);
    sent += 1.0;
    let (status, code, message) = refused(&reply);
    assert_eq!((status, code), (400, -32600), "{}", reply.body);
    assert!(message.contains("\"id\" is an integer out of range"), "{message}");
    assert!(!message.contains("non-integer"), "{message}");
    assert_eq!(reply.json()["id"], Value::Null);

    let modern = ModernRequest::new("tools/list", json!({}));
    let headers: Vec<(&str, &str)> = modern.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let body = modern.body().to_string().replacen(r#""id":1"#, r#""id":-9223372036854775809"#, 1);
    assert!(body.contains("-9223372036854775809"), "{body}");
    let reply = host.post("/mcp", &headers, &body);
    sent += 1.0;
    let (status, code, message) = refused(&reply);
    assert_eq!((status, code), (400, -32600), "{}", reply.body);
    assert!(message.contains("\"id\" is an integer out of range"), "{message}");

    // The largest id that fits is echoed exactly.
    let reply = mcp.post_raw(r#"{"jsonrpc":"2.0","id":18446744073709551615,"method":"ping"}"#, &[]);
    sent += 1.0;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.contains(r#""id":18446744073709551615"#), "{}", reply.body);

    check_metrics(
        &host,
        sent,
        &[
            ("initialize", "success", 1.0),
            ("notifications/initialized", "success", 1.0),
            ("ping", "success", 1.0),
            ("_other", "error", 2.0),
        ],
        2.0,
        &[("400", 2.0)],
    );
}

#[test]
fn a_body_not_declared_json_is_refused_unread() {
    let host = app().start();
    let (mcp, _) = Mcp::connect(&host);
    let mut sent = 2.0;
    let ping = r#"{"jsonrpc":"2.0","id":3,"method":"ping"}"#;
    // The session's headers, with the Content-Type replaced (`None`: left out).
    let post = |content_type: Option<&str>| {
        let owned = mcp.headers();
        let mut headers: Vec<(&str, &str)> =
            owned.iter().filter(|(k, _)| k != "content-type").map(|(k, v)| (k.as_str(), v.as_str())).collect();
        if let Some(t) = content_type {
            headers.push(("content-type", t));
        }
        host.post("/mcp", &headers, ping)
    };

    for (content_type, named) in [(Some("text/plain"), "text/plain"), (None, "none was sent")] {
        let reply = post(content_type);
        sent += 1.0;
        let (status, code, message) = refused(&reply);
        assert_eq!((status, code), (415, -32600), "{content_type:?}: {}", reply.body);
        assert!(message.contains("application/json") && message.contains(named), "{message}");
        assert_eq!(reply.json()["id"], Value::Null, "the body was never read");
    }
    let modern = ModernRequest::call("word_count", json!({"text": "a b"})).header("content-type", Some("text/plain"));
    let reply = modern.send(&host, &[]);
    sent += 1.0;
    assert_eq!(refused(&reply).0, 415, "{}", reply.body);

    // Any case, with parameters, is JSON.
    let reply = post(Some("Application/JSON; charset=UTF-8"));
    sent += 1.0;
    assert_eq!(reply.status, 200, "{}", reply.body);

    check_metrics(
        &host,
        sent,
        &[("initialize", "success", 1.0), ("notifications/initialized", "success", 1.0), ("ping", "success", 1.0)],
        3.0,
        &[("415", 3.0)],
    );
}
