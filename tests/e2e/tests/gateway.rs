//! The MCP gateway end to end: the real gateway, tool and fault components
//! served by the host under test, driven over HTTP like an MCP client would.

use serde_json::json;
use spinscope_e2e::*;
use spinscope_testkit::logfmt::parse_logfmt;
use std::collections::HashMap;

fn app() -> HostBuilder {
    HostBuilder::app(Some(&["gateway", "text-tools", "calc"])).var("tool_components", "text-tools,calc,faults")
}

fn fields(line: &str) -> HashMap<String, String> {
    parse_logfmt(line).into_iter().collect()
}

#[test]
fn a_whole_session_calls_every_example_tool() {
    let host = app().start();
    let (mut mcp, init) = Mcp::connect(&host);
    let result = &init.json()["result"];
    assert_eq!(result["protocolVersion"], "2025-06-18");
    assert_eq!(result["serverInfo"]["name"], "spinscope");
    assert!(result["capabilities"]["tools"].is_object());
    assert_eq!(init.header("content-type"), Some("application/json"));

    assert_eq!(mcp.request("ping", json!({})).json()["result"], json!({}));

    let list = mcp.request("tools/list", json!({})).json();
    let names: Vec<&str> =
        list["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    for expected in ["word_count", "sha256", "change_case", "calculate", "statistics", "slow", "echo"] {
        assert!(names.contains(&expected), "{expected} missing from {names:?}");
    }

    let wc = mcp.call_tool("word_count", json!({"text": "one two three\nfour"}));
    assert_eq!(wc["isError"], json!(false), "{wc}");
    assert_eq!(wc["structuredContent"]["words"], 4, "{wc}");
    let sha = mcp.call_tool("sha256", json!({"text": "abc"}));
    assert!(result_text(&sha).contains("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), "{sha}");
    let case = mcp.call_tool("change_case", json!({"text": "Hello World", "case": "snake"}));
    assert!(result_text(&case).contains("hello_world"), "{case}");
    let calc = mcp.call_tool("calculate", json!({"expression": "2 * (3 + 4) ^ 2"}));
    assert!(result_text(&calc).contains("98"), "{calc}");
    let stats = mcp.call_tool("statistics", json!({"numbers": [1, 2, 3, 4]}));
    assert_eq!(stats["structuredContent"]["mean"], 2.5, "{stats}");
    let bad = mcp.call_tool("calculate", json!({"expression": "1 / 0"}));
    assert_eq!(bad["isError"], json!(true), "{bad}");
}

#[test]
fn versions_are_negotiated() {
    let host = app().start();
    for (asked, expected) in [("2025-03-26", "2025-03-26"), ("2025-11-25", "2025-11-25"), ("1999-01-01", "2025-11-25")]
    {
        let mut mcp = Mcp::new(&host);
        let r = mcp.request(
            "initialize",
            json!({"protocolVersion": asked, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}),
        );
        assert_eq!(r.json()["result"]["protocolVersion"], expected);
    }
}

#[test]
fn json_rpc_errors_have_the_right_codes() {
    let host = app().start();
    let (mut mcp, _) = Mcp::connect(&host);
    let parse = mcp.post_raw("{not json", &[]);
    assert_eq!(parse.status, 400);
    assert_eq!(parse.json()["error"]["code"], -32700);
    assert_eq!(parse.json()["id"], json!(null));

    let invalid = mcp.post_raw(r#"{"jsonrpc":"1.0","id":7,"method":"ping"}"#, &[]);
    assert_eq!(invalid.json()["error"]["code"], -32600, "{}", invalid.body);
    let batch = mcp.post_raw(r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#, &[]);
    assert_eq!(batch.json()["error"]["code"], -32600);

    // server/discover belongs to 2026-07-28 whatever the session: without
    // its _meta envelope it is a modern request lacking it (tests/modern.rs).
    let discover = mcp.request("server/discover", json!({}));
    assert_eq!(discover.status, 400);
    assert_eq!(discover.json()["error"]["code"], -32602);
    assert_eq!(discover.json()["id"], 2);

    let unknown_tool = mcp.request("tools/call", json!({"name": "no_such_tool", "arguments": {}}));
    assert_eq!(unknown_tool.json()["error"]["code"], -32602, "{}", unknown_tool.body);
    let schema = mcp.request("tools/call", json!({"name": "calculate", "arguments": {"expression": 5}}));
    assert_eq!(schema.json()["error"]["code"], -32602, "{}", schema.body);
    assert!(schema.body.contains("expression"), "{}", schema.body);
    let no_name = mcp.request("tools/call", json!({"arguments": {}}));
    assert_eq!(no_name.json()["error"]["code"], -32602);
}

#[test]
fn a_misconfigured_server_answers_internal_error_naming_the_variable() {
    let host = app().var("tool_timeout_ms", "soon").start();
    let mut mcp = Mcp::new(&host);
    let r = mcp.request(
        "initialize",
        json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}),
    );
    assert_eq!(r.status, 503);
    assert_eq!(r.json()["error"]["code"], -32603);
    assert!(r.body.contains("tool_timeout_ms"), "{}", r.body);
    // The answer names the variable, never its value (the caller may not be
    // authenticated); the log has the details.
    assert!(!r.body.contains("soon"), "{}", r.body);
    host.wait_for_log(|l| l.contains("Server misconfigured") && l.contains("soon"));
}

#[test]
fn session_rules_follow_the_spec() {
    let host = app().var("session_idle_timeout_secs", "1").start();
    let (mcp, _) = Mcp::connect(&host);
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;

    let mut anonymous = Mcp::new(&host);
    anonymous.protocol_version = Some("2025-06-18".into());
    assert_eq!(anonymous.post_raw(ping, &[]).status, 400, "missing session id");

    anonymous.session = Some("0123456789abcdef0123456789abcdef".into());
    assert_eq!(anonymous.post_raw(ping, &[]).status, 404, "unknown session");
    anonymous.session = Some("not-even-hex".into());
    assert_eq!(anonymous.post_raw(ping, &[]).status, 404);

    assert_eq!(mcp.post_raw(ping, &[]).status, 200);
    assert_eq!(mcp.post_raw(ping, &[("mcp-protocol-version", "2099-01-01")]).status, 400, "unsupported version header");

    // Expired after the idle timeout.
    std::thread::sleep(std::time::Duration::from_millis(2200));
    let expired = mcp.post_raw(ping, &[]);
    assert_eq!(expired.status, 404);
    assert!(expired.body.contains("expired"), "{}", expired.body);

    // Deleted by the client.
    let (fresh, _) = Mcp::connect(&host);
    let owned = fresh.headers();
    let headers: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let deleted = request("DELETE", &host.url("/mcp"), &headers, None);
    assert_eq!(deleted.status, 204);
    assert_eq!(fresh.post_raw(ping, &[]).status, 404);
    assert_eq!(request("DELETE", &host.url("/mcp"), &headers, None).status, 404);
}

#[test]
fn transport_rules() {
    let host = app().start();
    let get = host.get("/mcp");
    assert_eq!(get.status, 405);
    assert_eq!(get.header("allow"), Some("POST, DELETE"));
    let mut mcp = Mcp::new(&host);
    let init = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}).to_string();
    assert_eq!(mcp.post_raw(&init, &[("origin", "https://evil.example")]).status, 403);
    assert_eq!(mcp.post_raw(&init, &[("origin", "http://localhost:3000")]).status, 200);
    let (mcp2, _) = Mcp::connect(&host);
    mcp.session = mcp2.session.clone();
    let response = mcp.post_raw(r#"{"jsonrpc":"2.0","id":5,"result":{}}"#, &[]);
    assert_eq!(response.status, 202);
    assert!(response.body.is_empty());
}

#[test]
fn tools_list_pages_with_next_cursor() {
    let host = app().var("tools_page_size", "3").start();
    let (mut mcp, _) = Mcp::connect(&host);
    let mut cursor: Option<String> = None;
    let mut names = Vec::new();
    for _ in 0..20 {
        let params = match &cursor {
            Some(c) => json!({"cursor": c}),
            None => json!({}),
        };
        let page = mcp.request("tools/list", params).json();
        let tools = page["result"]["tools"].as_array().unwrap();
        assert!(tools.len() <= 3);
        names.extend(tools.iter().map(|t| t["name"].as_str().unwrap().to_string()));
        match page["result"]["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(names.len(), 16, "{names:?}");
    let bad = mcp.request("tools/list", json!({"cursor": "garbage"}));
    assert_eq!(bad.json()["error"]["code"], -32602);
}

#[test]
fn every_fault_becomes_an_error_result_and_the_server_keeps_serving() {
    let host = app().var("tool_timeout_ms", "1500").var("max_output_bytes", "4096").start();
    let (mut mcp, _) = Mcp::connect(&host);
    let slow = mcp.call_tool("slow", json!({"ms": 10000}));
    assert_eq!(slow["isError"], json!(true));
    assert!(result_text(&slow).contains("timed out"), "{slow}");
    for tool in ["failing", "broken", "trapping", "not_a_result"] {
        let r = mcp.call_tool(tool, json!({}));
        assert_eq!(r["isError"], json!(true), "{tool}: {r}");
        assert!(!result_text(&r).is_empty(), "{tool}: {r}");
    }
    let huge = mcp.call_tool("huge", json!({"bytes": 100000}));
    let texts: Vec<&str> = huge["content"].as_array().unwrap().iter().filter_map(|c| c["text"].as_str()).collect();
    assert!(texts.iter().any(|t| t.contains("output truncated")), "{texts:?}");
    assert!(texts.iter().map(|t| t.len()).sum::<usize>() < 5000);
    assert_eq!(mcp.request("ping", json!({})).status, 200);
    assert_eq!(mcp.call_tool("word_count", json!({"text": "still here"}))["structuredContent"]["words"], 2);
}

#[test]
fn access_and_invocation_logs_carry_the_fields() {
    let host = app().var("log_level", "debug").start();
    let (mut mcp, _) = Mcp::connect(&host);
    let reply = mcp.post_raw(
        &json!({"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"word_count","arguments":{"text":"a b"}}}).to_string(),
        &[("x-request-id", "req-abc.123"), ("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")],
    );
    assert_eq!(reply.header("x-request-id"), Some("req-abc.123"));
    let failed = mcp.call_tool("failing", json!({}));
    assert_eq!(failed["isError"], json!(true));
    let unsafe_id =
        mcp.post_raw(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#, &[("x-request-id", "bad id with spaces")]);
    let new_id = unsafe_id.header("x-request-id").unwrap().to_string();
    assert!(new_id != "bad id with spaces" && spinscope::log::is_safe_request_id(&new_id));

    // Access lines are written after each response: wait for the last ones.
    let msg_is = |f: &HashMap<String, String>, msg: &str| f.get("msg").map(String::as_str) == Some(msg);
    let lines = host.wait_for_logs(|lines| {
        let parsed: Vec<_> = lines.iter().map(|l| fields(l)).collect();
        let access_ids: Vec<&str> = parsed
            .iter()
            .filter(|f| f.contains_key("dur_ms"))
            .filter_map(|f| f.get("id").map(String::as_str))
            .collect();
        access_ids.len() >= 5
            && access_ids.contains(&"req-abc.123")
            && access_ids.contains(&new_id.as_str())
            && parsed.iter().any(|f| msg_is(f, "Tool invocation failed"))
            && parsed.iter().any(|f| msg_is(f, "Tool invocation completed successfully"))
    });
    let completed = lines
        .iter()
        .map(|l| fields(l))
        .find(|f| {
            f.get("msg").map(String::as_str) == Some("Tool invocation completed successfully")
                && f.get("request_id").map(String::as_str) == Some("req-abc.123")
        })
        .expect("completion line");
    assert_eq!(completed["tool_name"], "word_count");
    assert_eq!(completed["component_id"], "text-tools");
    assert_eq!(completed["trace_id"], "0af7651916cd43dd8448eb211c80319c");
    assert_eq!(completed["outcome"], "success");
    assert_eq!(completed["session_id"], mcp.session.clone().unwrap());
    assert!(completed["duration_ms"].parse::<u64>().is_ok());
    assert!(completed["execution_ms"].parse::<f64>().is_ok() && completed["total_duration_ms"].parse::<u64>().is_ok());
    assert!(completed["arguments"].contains("\"text\""));
    assert_eq!(completed["level"], "debug");
    assert!(lines.iter().any(|l| fields(l).get("msg").map(String::as_str) == Some("Tool invocation started")));
    let failure = lines
        .iter()
        .map(|l| fields(l))
        .find(|f| f.get("msg").map(String::as_str) == Some("Tool invocation failed"))
        .expect("failure line");
    assert_eq!(failure["level"], "error");
    assert_eq!(failure["outcome"], "error");
    assert!(failure["error"].contains("500"), "{failure:?}");

    // One access line per request, with the id the response carried.
    let access: Vec<HashMap<String, String>> =
        lines.iter().map(|l| fields(l)).filter(|f| f.contains_key("dur_ms")).collect();
    let ours = access.iter().find(|f| f["id"] == "req-abc.123").expect("access line");
    assert_eq!(ours["method"], "POST");
    assert_eq!(ours["path"], "/mcp");
    assert_eq!(ours["status"], "200");
    assert_eq!(ours["tenant"], "-");
    // Like every other line, the access line carries the trace context.
    assert_eq!(ours["trace_id"], "0af7651916cd43dd8448eb211c80319c", "{ours:?}");
    assert_eq!(ours["span_id"].len(), 16, "{ours:?}");
    assert!(access.iter().any(|f| f["id"] == new_id));
    assert!(access.len() >= 5, "{access:?}");
}

#[test]
fn info_level_logs_failures_but_not_successes_and_json_format_parses() {
    let host = app().var("log_format", "json").start();
    let (mut mcp, _) = Mcp::connect(&host);
    mcp.call_tool("word_count", json!({"text": "a"}));
    mcp.call_tool("broken", json!({}));
    // Failures of other kinds, each with its own line: a refused origin, a
    // GET, an unknown session.
    let json = ("content-type", "application/json");
    host.post("/mcp", &[json, ("origin", "https://evil.example")], "{}");
    host.get("/mcp");
    host.post("/mcp", &[json, ("mcp-session-id", "nope")], r#"{"jsonrpc":"2.0","id":9,"method":"ping"}"#);
    let json_line = |l: &str| serde_json::from_str::<serde_json::Value>(l).ok();
    host.wait_for_logs(|lines| {
        lines.iter().filter_map(|l| json_line(l)).filter(|j| j.get("dur_ms").is_some()).count() >= 6
            && lines.iter().any(|l| {
                json_line(l).is_some_and(|j| j["msg"] == "Tool invocation failed" && j["tool_name"] == "broken")
            })
    });
    let json_lines: Vec<serde_json::Value> = host.logs().iter().filter_map(|l| json_line(l)).collect();
    assert!(json_lines
        .iter()
        .any(|l| l["msg"] == "Tool invocation failed" && l["tool_name"] == "broken" && l["level"] == "error"));
    assert!(!json_lines.iter().any(|l| l["msg"] == "Tool invocation completed successfully"));
    assert!(!json_lines.iter().any(|l| l["msg"] == "Tool invocation started"));

    // Every line every component wrote is JSON, the access lines included,
    // so the operations doc's jq recipe reads the whole file.
    let logs = host.state_dir.join("logs");
    for entry in std::fs::read_dir(&logs).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            assert!(json_line(line).is_some(), "{}: not JSON: {line}", path.display());
        }
    }
    let access: Vec<&serde_json::Value> = json_lines.iter().filter(|j| j.get("dur_ms").is_some()).collect();
    assert!(access.iter().any(|j| j["method"] == "GET" && j["status"] == 405), "{access:?}");
    // docs/operations.md, "Find failed invocations", as written there.
    let recipe = r#"select(.msg == "Tool invocation failed") | {ts, tool_name, outcome, error, request_id}"#;
    let out = std::process::Command::new("jq").arg("-c").arg(recipe).arg(logs.join("gateway_stdout.txt")).output();
    let out = out.expect("jq (installed by make deps)");
    assert!(out.status.success(), "jq failed: {}", String::from_utf8_lossy(&out.stderr));
    let found: Vec<serde_json::Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0]["tool_name"].as_str(), found[0]["outcome"].as_str()), (Some("broken"), Some("error")));
}

#[test]
fn secrets_never_reach_the_logs() {
    let host = app().var("log_level", "trace").var("redact_keys", "ssn").start();
    let (mut mcp, _) = Mcp::connect(&host);
    let args = json!({
        "api_key": "SECRET-ONE",
        "query": "visible",
        "nested": {"Password": "SECRET-TWO", "list": [{"refresh_token": "SECRET-THREE"}, [{"clientSecret": "SECRET-FOUR"}]]},
        "ssn": "SECRET-FIVE",
    });
    let echoed = mcp.call_tool("echo", args);
    assert!(result_text(&echoed).contains("SECRET-ONE"), "the tool itself sees the arguments");
    // The invocation line and the access line (written after the response).
    host.wait_for_logs(|lines| {
        lines.iter().any(|l| l.contains("<redacted>") && l.contains("visible"))
            && lines.iter().filter(|l| fields(l).contains_key("dur_ms")).count() >= 3
    });
    let everything = format!("{}\n{}", host.stdout.text(), host.stderr.text());
    for secret in ["SECRET-ONE", "SECRET-TWO", "SECRET-THREE", "SECRET-FOUR", "SECRET-FIVE"] {
        assert!(!everything.contains(secret), "{secret} leaked");
    }
    assert!(everything.contains("<redacted>"));
    assert!(everything.contains("visible"));
}

#[test]
fn the_tool_sees_the_callers_trace() {
    let host = app().start();
    let (mut mcp, _) = Mcp::connect(&host);
    let caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let reply = mcp.post_raw(
        &json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo_headers","arguments":{}}})
            .to_string(),
        &[("traceparent", caller), ("tracestate", "vendor=abc")],
    );
    let seen = &reply.json()["result"]["structuredContent"];
    let forwarded = seen["traceparent"].as_str().expect("traceparent forwarded");
    assert!(forwarded.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"), "{forwarded}");
    assert!(!forwarded.contains("00f067aa0ba902b7"), "a child span, not the caller's");
    assert_eq!(seen["tracestate"], "vendor=abc");

    // From params._meta when no header carries it.
    let meta = json!({"traceparent": "00-11111111111111111111111111111111-2222222222222222-01"});
    let r = mcp.request("tools/call", json!({"name": "echo_headers", "arguments": {}, "_meta": meta}));
    let forwarded = r.json()["result"]["structuredContent"]["traceparent"].as_str().unwrap().to_string();
    assert!(forwarded.starts_with("00-11111111111111111111111111111111-"), "{forwarded}");
}

#[test]
fn an_oversized_body_gets_413() {
    let host = app().var("max_request_bytes", "1024").start();
    let (mcp, _) = Mcp::connect(&host);
    let pad = "x".repeat(2000);
    let big = json!({"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad": pad}}).to_string();
    let r = mcp.post_raw(&big, &[]);
    assert_eq!(r.status, 413);
    assert_eq!(mcp.post_raw(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#, &[]).status, 200);
}

#[test]
fn a_component_that_fails_to_list_is_logged_counted_and_the_rest_still_listed() {
    let host = HostBuilder::app(Some(&["gateway", "metrics", "text-tools", "calc"]))
        .var("tool_components", "text-tools,ghost,calc")
        .start();
    let (mut mcp, _) = Mcp::connect(&host);
    let list = mcp.request("tools/list", json!({})).json();
    let names: Vec<&str> =
        list["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"word_count") && names.contains(&"calculate"), "{names:?}");
    let warn =
        fields(&host.wait_for_log(|l| {
            fields(l).get("msg").map(String::as_str) == Some("Tool component did not list its tools")
        }));
    assert_eq!(warn["component_id"], "ghost");
    assert_eq!(warn["level"], "warn");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let e = spinscope_testkit::exposition::parse(&host.get("/metrics").body).unwrap();
        if e.value("spinscope_tool_discovery_failures_total", &[("component", "ghost")]) == Some(1.0) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "discovery failure not counted");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn duplicate_tool_names_are_an_error_and_the_first_component_keeps_them() {
    let host = app().var("tool_components", "text-tools,calc,text-tools").start();
    let (mut mcp, _) = Mcp::connect(&host);
    let list = mcp.request("tools/list", json!({})).json();
    let names: Vec<&str> =
        list["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names.iter().filter(|n| **n == "word_count").count(), 1, "{names:?}");
    let dup = fields(&host.wait_for_log(|l| {
        fields(l).get("msg").map(String::as_str) == Some("Duplicate tool name: the first component keeps it")
    }));
    assert_eq!(dup["level"], "error");
    assert_eq!(dup["kept_by"], "text-tools");
}

/// Client-supplied strings that are stored or logged are cut at 256 bytes
/// with a marker: a 10 KB client name reaches neither the session record
/// nor the log whole.
#[test]
fn a_huge_client_name_is_cut_before_it_is_stored_or_logged() {
    let host = HostBuilder::app(Some(&["gateway", "metrics", "text-tools", "calc"])).start();
    let name = "n".repeat(10_000);
    let mut mcp = Mcp::new(&host);
    let r = mcp.request(
        "initialize",
        json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": name, "version": "v".repeat(10_000)}}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let line = host.wait_for_log(|l| l.contains("Session created"));
    assert!(line.contains("…[cut]"), "{line}");
    assert!(!line.contains(&"n".repeat(300)), "the whole name was logged");
    let sessions = host.get("/metrics?format=json").json()["sessions"].clone();
    let client = sessions[0]["client"].as_str().unwrap_or_default().to_string();
    assert!(client.len() <= 256 + "…[cut]".len() && client.ends_with("…[cut]"), "{sessions}");
}

/// A whole answer carries its length (no chunked encoding, whose trailer
/// would go out as a write of its own): with the head and the body handed
/// over together, a client that sends one request at a time does not wait
/// for its own delayed ACK (docs/benchmark.md, "One segment per answer").
#[test]
fn whole_answers_carry_their_length() {
    let host = app().start();
    for reply in [host.get("/mcp"), request("POST", &host.url("/mcp"), &[("content-type", "text/plain")], Some(b"x"))] {
        assert_eq!(reply.header("content-length"), Some(reply.body.len().to_string().as_str()), "{:?}", reply.headers);
        assert_eq!(reply.header("transfer-encoding"), None, "{:?}", reply.headers);
    }
    let _ = std::fs::remove_dir_all(host.stop());
}
