//! The official MCP conformance suite (npm `@modelcontextprotocol/conformance`,
//! pinned in `tests/e2e/conformance/`) against the gateway on the host under
//! test, with the `conformance` test component behind it: every scenario a
//! revision requires, for `--requirements 2026-07-28` and `2025-11-25`
//! (`scripts/conformance.sh`). A scenario may fail only when
//! `tests/e2e/conformance/expected-failures.yaml` lists it, with its reason
//! (docs/protocol.md, "Conformance"); one listed that passes fails the run
//! too, so the file stays true. The suite and its Node are what
//! `make deps` (scripts/install-deps.sh) installs under `target/conformance`:
//! when they are missing the test fails and says so, it never skips.

use spinscope_e2e::*;
use std::process::Command;

#[test]
fn the_official_conformance_suite_passes_but_for_documented_exceptions() {
    let host = HostBuilder::app(Some(&["gateway", "metrics"]))
        .component("conformance", "conformance.wasm")
        .var("tool_components", "conformance")
        .start();
    let out = Command::new("bash")
        .arg(workspace_root().join("scripts/conformance.sh"))
        .arg(host.url("/mcp"))
        .output()
        .expect("run scripts/conformance.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The table, for `make conformance` (run with --nocapture) and for a failure.
    println!("{stdout}");
    assert!(out.status.success(), "the conformance suite failed on {:?}:\n{stdout}\n{stderr}", host_kind());
    for revision in ["2026-07-28", "2025-11-25"] {
        assert!(stdout.contains(&format!("--requirements {revision}: exit 0")), "{revision} did not run:\n{stdout}");
    }
}

fn app() -> Host {
    HostBuilder::app(Some(&["gateway", "metrics"]))
        .component("conformance", "conformance.wasm")
        .var("tool_components", "conformance")
        .start()
}

/// The `data:` payloads of an SSE body, as JSON.
fn events(body: &str) -> Vec<serde_json::Value> {
    body.lines().filter_map(|l| l.strip_prefix("data: ")).map(|d| serde_json::from_str(d).unwrap()).collect()
}

#[test]
fn prompts_resources_and_content_pass_through_counted_and_declared() {
    use serde_json::json;
    let host = app();
    let discover = ModernRequest::new("server/discover", json!({})).send(&host, &[]);
    let caps = &discover.json()["result"]["capabilities"];
    assert_eq!(
        (caps["prompts"]["listChanged"].as_bool(), caps["completions"].is_object()),
        (Some(false), true),
        "{caps}"
    );
    // An image comes through byte for byte, as the component sent it.
    let image = ModernRequest::call("test_image_content", json!({})).send(&host, &[]);
    let item = &image.json()["result"]["content"][0];
    assert_eq!((item["type"].as_str(), item["mimeType"].as_str()), (Some("image"), Some("image/png")));
    assert!(item["data"].as_str().unwrap().starts_with("iVBORw0KGgo"), "{item}");
    let prompt = ModernRequest::new(
        "prompts/get",
        json!({"name": "test_prompt_with_arguments",
        "arguments": {"arg1": "a", "arg2": "b"}}),
    )
    .send(&host, &[]);
    assert_eq!(prompt.json()["result"]["messages"][0]["content"]["text"], "Prompt with arguments: arg1='a', arg2='b'");
    // Mcp-Name mirrors the URI of a resources/read.
    let read = |uri: &str| ModernRequest::new("resources/read", json!({ "uri": uri })).header("mcp-name", Some(uri));
    let missing = read("test://none").send(&host, &[]);
    assert_eq!(missing.status, 400);
    assert_eq!(missing.json()["error"]["code"], -32602);
    assert_eq!(missing.json()["error"]["data"]["uri"], "test://none");
    let read = read("test://template/7/data").send(&host, &[]);
    assert!(read.json()["result"]["contents"][0]["text"].as_str().unwrap().contains("Data for ID: 7"));
    assert_eq!(read.json()["result"]["cacheScope"], "public", "resources/read carries cache hints");
    let e = scrape_until(&host, |e| value(e, "spinscope_mcp_requests_total", &[("method", "resources/read")]) >= 2.0);
    let count = |method: &str, outcome: &str| {
        value(&e, "spinscope_mcp_requests_total", &[("method", method), ("outcome", outcome)])
    };
    assert_eq!(count("prompts/get", "success"), 1.0);
    assert_eq!((count("resources/read", "success"), count("resources/read", "error")), (1.0, 1.0));
}

#[test]
fn a_tools_notifications_come_as_sse_only_when_asked_for() {
    use serde_json::json;
    let host = app();
    let progress = ModernRequest::new(
        "tools/call",
        json!({"name": "test_tool_with_progress", "arguments": {},
        "_meta": {"progressToken": "p-1"}}),
    );
    let streamed = progress.send(&host, &[]);
    assert_eq!(streamed.header("content-type"), Some("text/event-stream"), "{}", streamed.body);
    let got = events(&streamed.body);
    let tokens: Vec<_> = got.iter().filter_map(|m| m["params"]["progressToken"].as_str()).collect();
    assert_eq!(tokens, ["p-1", "p-1", "p-1"], "{}", streamed.body);
    assert_eq!(got.last().unwrap()["result"]["content"][0]["type"], "text", "the response comes last");
    // A client that takes JSON only gets the response alone.
    let plain = progress.header("accept", Some("application/json")).send(&host, &[]);
    assert_eq!(plain.json()["result"]["content"][0]["type"], "text");
    // Log messages on 2026-07-28: only with a log level in _meta.
    let quiet = ModernRequest::call("test_logging_tool", json!({})).send(&host, &[]);
    assert_eq!(quiet.header("content-type"), Some("application/json"), "no level, no messages: {}", quiet.body);
    let leveled = ModernRequest::new(
        "tools/call",
        json!({"name": "test_logging_tool", "arguments": {},
        "_meta": {"io.modelcontextprotocol/logLevel": "info"}}),
    )
    .send(&host, &[]);
    let logs = events(&leveled.body).into_iter().filter(|m| m["method"] == "notifications/message").count();
    assert_eq!(logs, 3, "{}", leveled.body);
}

/// A request sent on a raw socket, its answer read as it arrives.
struct Streamed {
    socket: std::net::TcpStream,
    read: Vec<u8>,
    sent: std::time::Instant,
}

impl Streamed {
    fn post(host: &Host, headers: &[(String, String)], body: &str) -> Streamed {
        use std::io::Write;
        let mut head =
            format!("POST /mcp HTTP/1.1\r\nhost: localhost\r\ncontent-length: {}\r\nconnection: close\r\n", body.len());
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        let url = host.url("");
        let mut socket = std::net::TcpStream::connect(url.trim_start_matches("http://").trim_end_matches('/')).unwrap();
        socket.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
        socket.write_all(format!("{head}\r\n{body}").as_bytes()).unwrap();
        Streamed { socket, read: Vec::new(), sent: std::time::Instant::now() }
    }

    /// Reads until `seen` holds of what has arrived (`false`: the answer ended first).
    fn until(&mut self, seen: impl Fn(&str) -> bool) -> bool {
        use std::io::Read;
        let mut buf = [0u8; 4096];
        while !seen(&String::from_utf8_lossy(&self.read)) {
            match self.socket.read(&mut buf).expect("read the answer") {
                0 => return false,
                n => self.read.extend_from_slice(&buf[..n]),
            }
        }
        true
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.read).into_owned()
    }
}

/// Progress goes on to the client while the tool works, not with its
/// result: a tool that reports three steps 400 ms apart is heard at its
/// first step long before its last (measured on the socket, as a client
/// reads it), and the call is recorded once, as a success.
#[test]
fn a_tools_progress_reaches_the_client_while_it_works() {
    use serde_json::json;
    use std::time::Duration;
    let host = app();
    let request = ModernRequest::new(
        "tools/call",
        json!({"name": "spinscope_paced_progress", "arguments": {"steps": 3, "interval_ms": 400},
            "_meta": {"progressToken": "live"}}),
    );
    let mut call = Streamed::post(&host, &request.headers, &request.body().to_string());
    assert!(call.until(|t| t.contains(r#""progress":1"#)), "{}", call.text());
    let first_step = call.sent.elapsed();
    assert!(call.until(|t| t.contains(r#""result""#)), "{}", call.text());
    let result = call.sent.elapsed();
    call.until(|_| false);
    let text = call.text();
    assert!(text.to_ascii_lowercase().contains("content-type: text/event-stream"), "{text}");
    // 800 ms of the tool's own pauses lie between them; buffering would leave none.
    assert!(result.saturating_sub(first_step) >= Duration::from_millis(500), "{first_step:?} then {result:?}: {text}");
    for step in 1..=3 {
        assert!(text.contains(&format!(r#""progress":{step}"#)), "step {step} relayed: {text}");
    }
    let e =
        scrape_until(&host, |e| value(e, "spinscope_tool_calls_total", &[("tool", "spinscope_paced_progress")]) >= 1.0);
    let calls =
        value(&e, "spinscope_tool_calls_total", &[("tool", "spinscope_paced_progress"), ("outcome", "success")]);
    assert_eq!(calls, 1.0, "one call, recorded once as a success");
}

/// A handshake-era session's tool asks for input the 2026-07-28 way; the
/// gateway asks the client on the call's own stream, the client's answer
/// (POSTed on another connection, as SDKs do) reaches the tool, and the
/// call ends with the tool's result: one tool call per request. A client that did not
/// declare the capability is refused with -32021 naming it; one that never
/// answers gets -32603 when `tool_timeout_ms` has passed.
#[test]
fn a_sessions_client_answers_a_tools_input_requests_on_the_calls_stream() {
    use serde_json::json;
    let host = HostBuilder::app(Some(&["gateway", "metrics"]))
        .component("conformance", "conformance.wasm")
        .var("tool_components", "conformance")
        .var("tool_timeout_ms", "2000")
        .start();
    let session = |capabilities: serde_json::Value| {
        let mut mcp = Mcp::new(&host);
        let reply = mcp.request(
            "initialize",
            json!({"protocolVersion": "2025-11-25", "capabilities": capabilities,
                "clientInfo": {"name": "e2e", "version": "1"}}),
        );
        mcp.session = Some(reply.header("mcp-session-id").expect("a session").to_string());
        mcp.protocol_version = Some("2025-11-25".into());
        mcp
    };
    let call = |mcp: &Mcp, id: i64| {
        let body = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": "test_sampling", "arguments": {"prompt": "Capital of France?"}}});
        Streamed::post(&host, &mcp.headers(), &body.to_string())
    };
    let sampler = session(json!({"sampling": {}}));
    let mut asked = call(&sampler, 1);
    assert!(asked.until(|t| t.contains("sampling/createMessage")), "{}", asked.text());
    let text = asked.text();
    let at = text.find(r#""id":"spinscope-input-"#).expect("the request's id") + 6;
    let id = &text[at..at + text[at..].find('"').unwrap()];
    assert!(text.contains("Capital of France?"), "the tool's request, as it asked: {text}");
    let answer = json!({"jsonrpc": "2.0", "id": id, "result": {"role": "assistant",
        "content": {"type": "text", "text": "Paris"}, "model": "m", "stopReason": "endTurn"}});
    assert_eq!(sampler.post_raw(&answer.to_string(), &[]).status, 202);
    asked.until(|_| false);
    let text = asked.text();
    assert!(text.contains(r#""text":"LLM response: Paris""#), "{text}");
    assert!(text.contains(r#""id":1"#), "the call's response ends the stream: {text}");

    // No sampling declared: refused before anything is asked.
    let plain = session(json!({}));
    let mut refused = call(&plain, 2);
    refused.until(|_| false);
    let text = refused.text();
    assert!(text.contains("-32021") && text.contains(r#""requiredCapabilities":["sampling"]"#), "{text}");
    assert!(!text.contains("sampling/createMessage"), "{text}");

    // Declared but never answered: -32603 after tool_timeout_ms, and an
    // answer that comes too late is dropped (202, nothing kept).
    let silent = session(json!({"sampling": {}}));
    let mut unanswered = call(&silent, 3);
    unanswered.until(|_| false);
    let text = unanswered.text();
    assert!(text.contains("-32603") && text.contains("no answer within 2000 ms"), "{text}");
    let late = json!({"jsonrpc": "2.0", "id": "spinscope-input-00-0", "result": {}});
    assert_eq!(silent.post_raw(&late.to_string(), &[]).status, 202);

    // Each request is one tool call, however many rounds it took; the
    // tool answered each, and the two the client could not serve are
    // errors of the request.
    let e = scrape_until(&host, |e| value(e, "spinscope_tool_calls_total", &[("tool", "test_sampling")]) >= 3.0);
    let calls = value(&e, "spinscope_tool_calls_total", &[("tool", "test_sampling"), ("outcome", "success")]);
    assert_eq!(calls, 3.0, "one tool call per request");
    let requests =
        |outcome: &str| value(&e, "spinscope_mcp_requests_total", &[("method", "tools/call"), ("outcome", outcome)]);
    assert_eq!((requests("success"), requests("error")), (1.0, 2.0));
}
