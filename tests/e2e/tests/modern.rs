//! MCP 2026-07-28 end to end: stateless requests beside handshake-era
//! sessions on the same `/mcp`, every header rule with the request that
//! breaks it, SEP-1303's tool errors, and what metrics, logs and spans say.

use serde_json::{json, Value};
use spinscope::auth::hash_key;
use spinscope_e2e::*;
use spinscope_testkit::logfmt::parse_logfmt;
use std::collections::HashMap;

fn app() -> HostBuilder {
    HostBuilder::app(Some(&["gateway", "metrics", "text-tools", "calc"]))
        .var("tool_components", "text-tools,calc,faults")
}

fn code(reply: &Reply) -> Option<i64> {
    reply.json()["error"]["code"].as_i64()
}

fn fields(line: &str) -> HashMap<String, String> {
    parse_logfmt(line).into_iter().collect()
}

#[test]
fn every_header_rule_has_its_status_and_code() {
    let host = app().start();

    let discover = ModernRequest::new("server/discover", json!({})).send(&host, &[]);
    assert_eq!(discover.status, 200, "{}", discover.body);
    let result = &discover.json()["result"];
    assert_eq!(result["supportedVersions"], json!(["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"]));
    assert_eq!(result["capabilities"]["tools"]["listChanged"], false);
    assert_eq!(result["resultType"], "complete");
    assert_eq!(result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"], "spinscope");
    assert_eq!((result["ttlMs"].as_u64(), result["cacheScope"].as_str()), (Some(10_000), Some("public")));

    // A valid call; a session id a modern client should not send is ignored,
    // and none is ever minted.
    let call = ModernRequest::call("word_count", json!({"text": "a b c"}));
    let ok = call.send(&host, &[("mcp-session-id", "no-such-session")]);
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.json()["result"]["structuredContent"]["words"], 3);
    assert_eq!(ok.json()["result"]["resultType"], "complete");
    assert_eq!(ok.header("mcp-session-id"), None);
    // A name a header cannot carry as is travels base64-encoded.
    let encoded = ModernRequest::call("word_count", json!({"text": "a b c"}))
        .header("mcp-name", Some("=?base64?d29yZF9jb3VudA==?="))
        .send(&host, &[]);
    assert_eq!(encoded.status, 200, "{}", encoded.body);

    let c = || ModernRequest::call("word_count", json!({"text": "x"}));
    let cases: Vec<(&str, ModernRequest, u16, i64)> = vec![
        ("no _meta envelope", c().meta_version(None), 400, -32602),
        ("no MCP-Protocol-Version", c().header("mcp-protocol-version", None), 400, -32020),
        (
            "MCP-Protocol-Version differs from _meta",
            c().header("mcp-protocol-version", Some("2025-11-25")),
            400,
            -32020,
        ),
        ("no Mcp-Method", c().header("mcp-method", None), 400, -32020),
        ("Mcp-Method differs from method", c().header("mcp-method", Some("tools/list")), 400, -32020),
        ("no Mcp-Name", c().header("mcp-name", None), 400, -32020),
        ("Mcp-Name differs from params.name", c().header("mcp-name", Some("calculate")), 400, -32020),
        ("malformed base64 Mcp-Name", c().header("mcp-name", Some("=?base64?***?=")), 400, -32020),
        (
            "unsupported revision",
            c().header("mcp-protocol-version", Some("1900-01-01")).meta_version(Some("1900-01-01")),
            400,
            -32022,
        ),
        ("unknown tool", ModernRequest::call("no_such_tool", json!({})), 400, -32602),
        ("ping was removed", ModernRequest::new("ping", json!({})), 404, -32601),
        ("initialize inside a modern request", ModernRequest::new("initialize", json!({})), 404, -32601),
        ("a method not served", ModernRequest::new("resources/list", json!({})), 404, -32601),
    ];
    for (what, request, status, expected) in &cases {
        let reply = request.send(&host, &[]);
        assert_eq!((reply.status, code(&reply)), (*status, Some(*expected)), "{what}: {}", reply.body);
        assert_eq!(reply.json()["id"], 1, "{what}: the error answers the request");
    }
    let unsupported = cases[8].1.send(&host, &[]);
    let data = &unsupported.json()["error"]["data"];
    assert_eq!(data["requested"], "1900-01-01");
    assert!(data["supported"].as_array().unwrap().contains(&json!("2026-07-28")), "{data}");
    assert!(ModernRequest::new("initialize", json!({})).send(&host, &[]).json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("2025-11-25"));

    // Notifications: acknowledged, unless they name a revision not served.
    let note = |version: &str| {
        let body = json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {}}).to_string();
        host.post(
            "/mcp",
            &[("content-type", "application/json"), ("mcp-protocol-version", version), ("mcp-method", "x")],
            &body,
        )
    };
    assert_eq!(note("2026-07-28").status, 202);
    let refused = note("1900-01-01");
    assert_eq!((refused.status, code(&refused)), (400, Some(-32022)));
    // No GET stream and no session to DELETE in this revision.
    let modern_header = [("mcp-protocol-version", MODERN)];
    assert_eq!(request("GET", &host.url("/mcp"), &modern_header, None).status, 405);
    assert_eq!(request("DELETE", &host.url("/mcp"), &modern_header, None).status, 405);

    let calls = [("method", "tools/call"), ("mcp_protocol_version", MODERN), ("outcome", "success")];
    // Every request above is counted (a write lands after its response).
    let sent = 2.0 + cases.len() as f64 + 2.0 + 2.0 + 1.0;
    let e = scrape_until(&host, |e| value(e, "spinscope_mcp_requests_total", &[]) >= sent);
    assert_eq!(value(&e, "spinscope_mcp_requests_total", &calls), 2.0);
    assert_eq!(value(&e, "spinscope_sessions_created_total", &[]), 0.0, "a modern request needs no session");
    let unsupported = [("mcp_protocol_version", "_other"), ("error_type", "-32022")];
    assert!(value(&e, "spinscope_mcp_server_operation_duration_seconds_count", &unsupported) >= 1.0);
    let mismatch = [("mcp_method_name", "tools/call"), ("error_type", "-32020")];
    assert_eq!(value(&e, "spinscope_mcp_server_operation_duration_seconds_count", &mismatch), 7.0);
}

/// A revision the server does not serve is refused as such (400, -32022,
/// with the revisions it does serve) even when the rest of the envelope is
/// not what that server's revision asks for: a client of a later revision
/// need not send 2026-07-28's `clientCapabilities` to learn what to speak.
/// Both when `_meta` and the header name the unknown revision, and when
/// only the `MCP-Protocol-Version` header does.
#[test]
fn an_unsupported_revision_is_told_before_the_envelope_is_checked() {
    let host = app().start();
    let served =
        ModernRequest::new("server/discover", json!({})).send(&host, &[]).json()["result"]["supportedVersions"].clone();
    let mut served: Vec<&str> = served.as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    served.sort_unstable();

    // `_meta` with the revision and client info, but no clientCapabilities.
    let without_capabilities = |meta_version: &str| {
        let meta = json!({
            "io.modelcontextprotocol/protocolVersion": meta_version,
            "io.modelcontextprotocol/clientInfo": {"name": "e2e-future", "version": "9"},
        });
        ModernRequest::new("tools/list", json!({"_meta": meta}))
            .meta_version(None)
            .header("mcp-protocol-version", Some("2099-01-01"))
    };
    let cases = [
        ("_meta and MCP-Protocol-Version name 2099-01-01", without_capabilities("2099-01-01")),
        ("only MCP-Protocol-Version names 2099-01-01 (_meta: 2026-07-28)", without_capabilities(MODERN)),
    ];
    for (what, request) in &cases {
        let body = request.body();
        assert!(body["params"]["_meta"].get("io.modelcontextprotocol/clientCapabilities").is_none(), "{body}");
        let reply = request.send(&host, &[]);
        assert_eq!((reply.status, code(&reply)), (400, Some(-32022)), "{what}: {}", reply.body);
        let json = reply.json();
        assert_eq!(json["id"], 1, "{what}: the error answers the request");
        let supported = &json["error"]["data"]["supported"];
        assert!(supported.as_array().is_some_and(|s| s.contains(&json!(MODERN))), "{what}: {}", reply.body);
        let mut listed: Vec<&str> = supported.as_array().unwrap().iter().filter_map(Value::as_str).collect();
        listed.sort_unstable();
        assert_eq!(listed, served, "{what}: data.supported lists the revisions served: {}", reply.body);
    }
}

#[test]
fn invalid_arguments_are_tool_errors_from_2025_11_25_on() {
    let host = app().var("log_level", "debug").start();

    // 2026-07-28: a result the model can read; the tool is not called.
    let modern = ModernRequest::call("word_count", json!({"txt": "a"})).send(&host, &[]);
    assert_eq!(modern.status, 200, "{}", modern.body);
    let result = &modern.json()["result"];
    assert_eq!(result["isError"], true);
    assert!(result_text(result).contains("missing required argument \"text\""), "{result}");

    // 2025-11-25, in a session: the same.
    let mut mcp = Mcp::new(&host);
    let init = mcp.request(
        "initialize",
        json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "late", "version": "1"}}),
    );
    mcp.session = Some(init.header("mcp-session-id").expect("session").to_string());
    mcp.protocol_version = Some("2025-11-25".into());
    let late = mcp.request("tools/call", json!({"name": "word_count", "arguments": {"txt": "a"}}));
    assert_eq!(late.json()["result"]["isError"], true, "{}", late.body);

    // Earlier revisions keep JSON-RPC -32602; an unknown tool is -32602 in all.
    let (mut old, _) = Mcp::connect(&host);
    let early = old.request("tools/call", json!({"name": "word_count", "arguments": {"txt": "a"}}));
    assert_eq!(code(&early), Some(-32602), "{}", early.body);
    let unknown = mcp.request("tools/call", json!({"name": "nope", "arguments": {}}));
    assert_eq!(code(&unknown), Some(-32602));

    let rejected =
        [("mcp_method_name", "tools/call"), ("gen_ai_tool_name", "word_count"), ("error_type", "tool_error")];
    let e = scrape_until(&host, |e| {
        // Each call's metrics are written after its answer: wait for all three.
        value(e, "spinscope_mcp_server_operation_duration_seconds_count", &rejected) >= 2.0
            && value(e, "spinscope_tool_calls_total", &[("tool", "word_count"), ("outcome", "error")]) >= 3.0
    });
    let per_version = |v: &str| {
        let mut labels = rejected.to_vec();
        labels.push(("mcp_protocol_version", v));
        value(&e, "spinscope_mcp_server_operation_duration_seconds_count", &labels)
    };
    assert_eq!((per_version(MODERN), per_version("2025-11-25")), (1.0, 1.0));
    // One definition of an error: a tool-level error in every revision
    // (the early -32602 too), though the tool never ran.
    let errors = [("tool", "word_count"), ("outcome", "error")];
    assert_eq!(value(&e, "spinscope_tool_calls_total", &errors), 3.0, "counted at the tool");
    let durations = [("tool", "word_count")];
    assert_eq!(value(&e, "spinscope_tool_call_duration_seconds_count", &durations), 0.0, "never called");

    let line = host.wait_for_log(|l| l.contains("Tool arguments rejected") && l.contains("e2e-modern"));
    let f = fields(&line);
    assert_eq!((f["level"].as_str(), f["tool_name"].as_str()), ("warn", "word_count"));
    assert_eq!(
        (f["client"].as_str(), f["client_version"].as_str(), f["session_id"].as_str()),
        ("e2e-modern", "2.0", "-")
    );
    assert!(f["error"].contains("missing required argument"), "{line}");
}

#[test]
fn a_modern_request_is_traced_from_its_meta_and_names_its_client() {
    let receiver = OtlpReceiver::start();
    let host = app()
        .var("otlp_collector_host", &format!("http://127.0.0.1:{}", receiver.port))
        .var("otlp_traces_endpoint", &format!("http://127.0.0.1:{}/v1/traces", receiver.port))
        .var("log_level", "debug")
        .start();
    let meta_trace = "0123456789abcdef0123456789abcdef";
    let params = json!({
        "name": "word_count",
        "arguments": {"text": "x y"},
        "_meta": {"traceparent": format!("00-{meta_trace}-1111111111111111-01")}
    });
    let header_trace = "fedcba9876543210fedcba9876543210";
    let reply = ModernRequest::new("tools/call", params)
        .send(&host, &[("traceparent", &format!("00-{header_trace}-2222222222222222-01"))]);
    assert_eq!(reply.status, 200, "{}", reply.body);

    // 2026-07-28 makes _meta the request's own trace context: it wins.
    let server = receiver.wait_for("tools/call word_count", meta_trace);
    assert_eq!(server["parentSpanId"], "1111111111111111");
    let attr = |key: &str| span_attr(&server, key);
    assert_eq!(attr("mcp.protocol.version"), MODERN);
    assert_eq!(attr("spinscope.client.name"), "e2e-modern");
    assert_eq!(attr("spinscope.client.version"), "2.0");
    assert_eq!(attr("mcp.session.id"), Value::Null);
    assert!(receiver.spans().iter().all(|s| s["traceId"] != header_trace));

    let line = host.wait_for_log(|l| l.contains("Tool invocation completed successfully"));
    let f = fields(&line);
    assert_eq!((f["client"].as_str(), f["client_version"].as_str()), ("e2e-modern", "2.0"));
    assert_eq!(f["trace_id"], meta_trace);

    // The tool sees the trace and baggage of _meta, not the transport's.
    let params = json!({
        "name": "echo_headers",
        "arguments": {},
        "_meta": {"traceparent": format!("00-{meta_trace}-1111111111111111-01"), "baggage": "tenantTier=gold"}
    });
    let echoed = ModernRequest::new("tools/call", params).send(&host, &[("baggage", "fromHeader=1")]);
    let seen = &echoed.json()["result"]["structuredContent"];
    assert_eq!(seen["baggage"], "tenantTier=gold", "{}", echoed.body);
    assert!(seen["traceparent"].as_str().unwrap().contains(meta_trace), "{seen}");
    assert!(host.logs().iter().all(|l| !l.contains("tenantTier")), "baggage is never logged");
}

#[test]
fn keys_limits_and_cache_scope_hold_in_the_modern_era() {
    const KEY: &str = "key-for-acme-0123456789";
    let host = app()
        .var("api_keys", &format!("acme:{}", hash_key(KEY)))
        .var("tool_map_ttl_ms", "30000")
        .var("max_request_bytes", "4096")
        .start();
    let list = ModernRequest::new("tools/list", json!({}));
    assert_eq!(list.send(&host, &[]).status, 401);
    let bearer = format!("Bearer {KEY}");
    let listed = list.send(&host, &[("authorization", &bearer)]);
    assert_eq!(listed.status, 200, "{}", listed.body);
    let result = &listed.json()["result"];
    assert_eq!((result["ttlMs"].as_u64(), result["cacheScope"].as_str()), (Some(30_000), Some("private")));
    assert!(result["tools"].as_array().unwrap().iter().any(|t| t["name"] == "word_count"));
    let big = ModernRequest::call("word_count", json!({"text": "x".repeat(10_000)}));
    assert_eq!(big.send(&host, &[("authorization", &bearer)]).status, 413);
}
