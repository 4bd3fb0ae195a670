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

/// Progress goes on to the client while the tool works, not with its
/// result: a tool that reports three steps 400 ms apart is heard at its
/// first step long before its last (measured on the socket, as a client
/// reads it), and the call is recorded once, as a success.
#[test]
fn a_tools_progress_reaches_the_client_while_it_works() {
    use serde_json::json;
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};
    let host = app();
    let request = ModernRequest::new(
        "tools/call",
        json!({"name": "spinscope_paced_progress", "arguments": {"steps": 3, "interval_ms": 400},
            "_meta": {"progressToken": "live"}}),
    );
    let body = request.body().to_string();
    let mut head =
        format!("POST /mcp HTTP/1.1\r\nhost: localhost\r\ncontent-length: {}\r\nconnection: close\r\n", body.len());
    for (name, value) in &request.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    let url = host.url("");
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    let mut socket = std::net::TcpStream::connect(addr).expect("connect");
    socket.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    socket.write_all(format!("{head}\r\n{body}").as_bytes()).unwrap();
    let sent = Instant::now();
    // When each thing was first seen on the socket.
    let (mut first_step, mut result, mut read) = (None, None, Vec::new());
    let mut buf = [0u8; 4096];
    loop {
        let n = socket.read(&mut buf).expect("read the answer");
        if n == 0 {
            break;
        }
        read.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&read);
        if first_step.is_none() && text.contains(r#""progress":1"#) {
            first_step = Some(sent.elapsed());
        }
        if result.is_none() && text.contains(r#""result""#) {
            result = Some(sent.elapsed());
        }
    }
    let text = String::from_utf8_lossy(&read);
    assert!(text.to_ascii_lowercase().contains("content-type: text/event-stream"), "{text}");
    let (first_step, result) = (first_step.expect(&text), result.expect(&text));
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
    assert!(first_step < result);
}
