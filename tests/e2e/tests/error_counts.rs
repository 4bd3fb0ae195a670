//! One definition of an error, in every count (issue 22): the same request
//! moves `tool_calls_total`, `mcp_requests_total`, the JSON view's `tools`
//! and open-mode `tenants`, and `/health/detailed`'s figures the same way.
//!
//! | cause | what the counts do |
//! |---|---|
//! | 1. a tool call that succeeds | `tool_calls_total{outcome="success"}`, mcp `success`; tenant requests, tool calls |
//! | 2. a tool that answers `isError` | `tool_calls_total{outcome="error"}`, mcp `tool_error`; tenant errors; health `tools.<c>.errors` |
//! | 3. arguments that fail the tool's `inputSchema`, 2025-11-25 and 2026-07-28 | a result with `isError` (the tool is not run): `tool_calls_total{outcome="error"}` of that tool and component, JSON `tools.<t>.error`, health `tools.<c>.errors`, mcp `tool_error`, tenant errors; no `tool_call_duration_seconds` observation |
//! | 4. the same at 2025-06-18 and 2025-03-26 | JSON-RPC -32602: `tool_calls_total{outcome="error"}` as in 3, mcp `error`, tenant errors, and the warn line "Tool arguments rejected" |
//! | 5. an unknown tool | JSON-RPC error: no `tool_calls_total` series, mcp `error`, tenant errors |
//! | 6. `GET /mcp` (no event stream: 405) | `http_requests_total{method="GET",status="405"}` and tenant requests only: no tenant error, no health error, no mcp request |
//! | 7. an unknown method in a session | -32601: mcp `error`, tenant errors |
//!
//! Each test reports every figure that disagrees with the table at once
//! (a [`Tally`]), not only the first.
//!
//! The first test drives the mix with raw HTTP; the second through the
//! official Python SDK (`mcp` 2.x, `tests/e2e/clients/python_error_counts.py`)
//! in the handshake era, whose transport opens (and retries) the optional
//! `GET /mcp` stream by itself.

use serde_json::{json, Value};
use spinscope_e2e::*;
use spinscope_testkit::exposition::Exposition;
use spinscope_testkit::logfmt::parse_logfmt;
use std::collections::HashMap;
use std::fmt::Debug;
use std::process::Command;

/// The tool components, the test-only `faults` included (its `failing`
/// tool answers an `isError` result when asked for status 200).
const TOOL_COMPONENTS: &str = "text-tools,calc,faults";

fn app() -> HostBuilder {
    // `ready` serves /health/detailed.
    HostBuilder::app(Some(&["gateway", "metrics", "ready", "text-tools", "calc"]))
        .var("tool_components", TOOL_COMPONENTS)
}

/// Every expectation of a test, checked; the test fails at the end with
/// all those that did not hold, each with the value observed.
#[derive(Default)]
struct Tally {
    checked: usize,
    failed: Vec<String>,
}

impl Tally {
    fn eq<T: PartialEq + Debug>(&mut self, what: &str, observed: T, expected: T) {
        self.checked += 1;
        if observed != expected {
            self.failed.push(format!("{what}: expected {expected:?}, observed {observed:?}"));
        }
    }
    fn holds(&mut self, what: &str, ok: bool, observed: impl Debug) {
        self.checked += 1;
        if !ok {
            self.failed.push(format!("{what}: observed {observed:?}"));
        }
    }
    /// Panics with every failed expectation and what was read.
    fn finish(self, context: &str) {
        if !self.failed.is_empty() {
            panic!(
                "{} of {} expectations failed:\n  - {}\n\n{context}",
                self.failed.len(),
                self.checked,
                self.failed.join("\n  - ")
            );
        }
        eprintln!("all {} expectations hold", self.checked);
    }
}

/// The three views, read once every request's metrics are in.
struct Views {
    prom: Exposition,
    json: Value,
    health: Value,
    /// The series that matter, for a failure to show.
    text: String,
}

impl Views {
    /// Waits until `/mcp` requests are all recorded (each request writes its
    /// metrics after its answer), then reads `/metrics`, the JSON view and
    /// `/health/detailed`.
    fn read(host: &Host, mcp_http_requests: impl Fn(&Exposition) -> bool) -> Views {
        let prom = scrape_until(host, &mcp_http_requests);
        assert!(mcp_http_requests(&prom), "the requests were never all recorded:\n{}", host.get("/metrics").body);
        let json = host.get("/metrics?format=json").json();
        let detailed = host.get("/health/detailed");
        let health = detailed.json();
        let body = host.get("/metrics").body;
        let wanted = ["spinscope_tool_calls_total", "spinscope_mcp_requests_total", "spinscope_http_requests_total{"];
        let series: Vec<&str> =
            body.lines().filter(|l| !l.starts_with('#') && wanted.iter().any(|w| l.starts_with(w))).collect();
        let text = format!(
            "series:\n{}\nJSON tools: {}\nJSON tenants: {}\nJSON mcp_requests_total: {}\nhealth parts: {}",
            series.join("\n"),
            json["tools"],
            json["tenants"],
            json["mcp_requests_total"],
            health["parts"]
        );
        Views { prom, json, health, text }
    }

    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        value(&self.prom, name, labels)
    }
    fn tool_calls(&self, tool: &str, component: &str, outcome: &str) -> f64 {
        self.value("spinscope_tool_calls_total", &[("tool", tool), ("component", component), ("outcome", outcome)])
    }
    fn mcp(&self, method: &str, version: &str, outcome: &str) -> f64 {
        self.value(
            "spinscope_mcp_requests_total",
            &[("method", method), ("mcp_protocol_version", version), ("outcome", outcome)],
        )
    }
    fn mcp_outcome(&self, outcome: &str) -> f64 {
        self.value("spinscope_mcp_requests_total", &[("outcome", outcome)])
    }
    /// The tools named in `tool_calls_total`, sorted.
    fn tools_counted(&self) -> Vec<String> {
        let mut tools: Vec<String> = self
            .prom
            .family("spinscope_tool_calls_total")
            .map(|f| f.samples.iter().filter_map(|s| label(&s.labels, "tool")).collect())
            .unwrap_or_default();
        tools.sort();
        tools.dedup();
        tools
    }
    fn tenant(&self, figure: &str) -> Value {
        self.json["tenants"]["-"][figure].clone()
    }
    fn health_tool(&self, component: &str, figure: &str) -> Value {
        self.health["parts"]["tools"][component][figure].clone()
    }
    fn health_gateway(&self, figure: &str) -> Value {
        self.health["parts"]["gateway"][figure].clone()
    }

    /// What must agree whatever the mix: each view tells the same story.
    fn check_agreement(&self, t: &mut Tally) {
        let total = self.value("spinscope_tool_calls_total", &[]);
        for outcome in ["success", "error", "timeout"] {
            let prom = self.value("spinscope_tool_calls_total", &[("outcome", outcome)]);
            t.eq(
                &format!("agreement: JSON tool_calls_total.{outcome} = Prometheus"),
                self.json["tool_calls_total"][outcome].as_f64(),
                Some(prom),
            );
        }
        for component in TOOL_COMPONENTS.split(',') {
            let calls = self.value("spinscope_tool_calls_total", &[("component", component)]);
            let errors = self.value("spinscope_tool_calls_total", &[("component", component), ("outcome", "error")]);
            t.eq(
                &format!("agreement: health tools.{component}.calls = Prometheus"),
                self.health_tool(component, "calls").as_f64(),
                Some(calls),
            );
            t.eq(
                &format!("agreement: health tools.{component}.errors = Prometheus"),
                self.health_tool(component, "errors").as_f64(),
                Some(errors),
            );
        }
        let mcp_failed = self.mcp_outcome("error") + self.mcp_outcome("tool_error");
        t.eq(
            "agreement: health gateway.mcp_errors = mcp_requests_total{outcome!=success}",
            self.health_gateway("mcp_errors").as_f64(),
            Some(mcp_failed),
        );
        for outcome in ["success", "error", "tool_error"] {
            t.eq(
                &format!("agreement: JSON mcp_requests_total.{outcome} = Prometheus"),
                self.json["mcp_requests_total"][outcome].as_f64(),
                Some(self.mcp_outcome(outcome)),
            );
        }
        t.eq("agreement: tenant errors = failed MCP operations", self.tenant("errors").as_f64(), Some(mcp_failed));
        t.eq("agreement: tenant tool_calls = tool_calls_total", self.tenant("tool_calls").as_f64(), Some(total));
        t.eq(
            "agreement: tenant requests = http_requests_total{route=/mcp}",
            self.tenant("requests").as_f64(),
            Some(self.value("spinscope_http_requests_total", &[("route", "/mcp")])),
        );
        t.eq(
            "agreement: health gateway.http_requests = http_requests_total",
            self.health_gateway("http_requests").as_f64(),
            Some(self.value("spinscope_http_requests_total", &[])),
        );
    }
}

fn label(labels: &[(String, String)], name: &str) -> Option<String> {
    labels.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

fn fields(line: &str) -> HashMap<String, String> {
    parse_logfmt(line).into_iter().collect()
}

/// A handshake-era session at `version`: `initialize` (the revision it
/// negotiated must be `version`) and `notifications/initialized`.
fn session<'a>(host: &'a Host, version: &str) -> Mcp<'a> {
    let mut mcp = Mcp::new(host);
    let init = mcp.request(
        "initialize",
        json!({"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "e2e-errors", "version": "1"}}),
    );
    assert_eq!(init.status, 200, "{}", init.body);
    assert_eq!(init.json()["result"]["protocolVersion"], version, "{}", init.body);
    mcp.session = Some(init.header("mcp-session-id").expect("a session id").to_string());
    mcp.protocol_version = Some(version.to_string());
    assert_eq!(mcp.notify("notifications/initialized").status, 202);
    mcp
}

/// `tools/call` in a session; the HTTP status must be 200 (JSON-RPC errors
/// travel in a 200 in the handshake era). Returns the JSON-RPC response.
fn call(mcp: &mut Mcp, tool: &str, arguments: Value) -> Value {
    let reply = mcp.request("tools/call", json!({"name": tool, "arguments": arguments}));
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()
}

/// `word_count`'s `text` must be a string: a number fails its inputSchema.
fn invalid() -> Value {
    json!({"text": 5})
}

/// The raw-HTTP mix, from a fresh host:
///
/// - three sessions: S1 at 2025-06-18, S2 at 2025-03-26, S3 at 2025-11-25
///   (2 requests each: 6);
/// - row 1: `word_count` twice in S1, once at 2026-07-28 (3);
/// - row 2: `failing` answering `isError`, twice in S1 (2);
/// - row 3: invalid `word_count` arguments in S3 and at 2026-07-28 (2);
/// - row 4: the same in S1 and S2 (2);
/// - row 5: an unknown tool in S1 (1);
/// - row 6: `GET /mcp`, once bare and once as an SDK sends it (2);
/// - row 7: `nope/x` in S1 (1).
#[test]
fn every_count_agrees_on_what_an_error_is() {
    let host = app().start();
    let mut t = Tally::default();
    let mut s1 = session(&host, "2025-06-18");
    let mut s2 = session(&host, "2025-03-26");
    let mut s3 = session(&host, "2025-11-25");

    // 1. Success.
    for text in ["one two", "three four five"] {
        let ok = call(&mut s1, "word_count", json!({"text": text}));
        assert_eq!(ok["result"]["isError"], json!(false), "{ok}");
    }
    let modern_ok = ModernRequest::call("word_count", json!({"text": "a b"})).send(&host, &[]);
    assert_eq!(modern_ok.status, 200, "{}", modern_ok.body);
    assert_eq!(modern_ok.json()["result"]["structuredContent"]["words"], 2, "{}", modern_ok.body);

    // 2. The tool answers isError.
    for _ in 0..2 {
        let failed = call(&mut s1, "failing", json!({"status": 200, "text": "deliberate isError"}));
        assert_eq!(failed["result"]["isError"], true, "{failed}");
    }

    // 3. Invalid arguments from 2025-11-25 on: a result with isError.
    let late = call(&mut s3, "word_count", invalid());
    let modern = ModernRequest::call("word_count", invalid()).send(&host, &[]);
    t.eq("row 3: 2026-07-28 invalid arguments, HTTP status", modern.status, 200);
    for (what, answer) in [("2025-11-25", late), ("2026-07-28", modern.json())] {
        t.eq(
            &format!("row 3: {what} invalid arguments answer result.isError"),
            answer["result"]["isError"].clone(),
            json!(true),
        );
        t.holds(
            &format!("row 3: {what} invalid arguments answer no JSON-RPC error"),
            answer.get("error").is_none(),
            &answer,
        );
    }

    // 4. Invalid arguments before 2025-11-25: JSON-RPC -32602.
    for (what, mcp) in [("2025-06-18", &mut s1), ("2025-03-26", &mut s2)] {
        let answer = call(mcp, "word_count", invalid());
        t.eq(
            &format!("row 4: {what} invalid arguments answer error.code"),
            answer["error"]["code"].as_i64(),
            Some(-32602),
        );
    }

    // 5. An unknown tool.
    let unknown = call(&mut s1, "no_such_tool", json!({}));
    t.eq("row 5: unknown tool answer error.code", unknown["error"]["code"].as_i64(), Some(-32602));

    // 6. GET /mcp: no event stream here.
    let bare = request("GET", &host.url("/mcp"), &[("accept", "text/event-stream")], None);
    // As an SDK probes it: the session's id and revision, no body.
    let session_headers = s1.headers();
    let mut probe: Vec<(&str, &str)> =
        session_headers.iter().filter(|(k, _)| k.starts_with("mcp-")).map(|(k, v)| (k.as_str(), v.as_str())).collect();
    probe.push(("accept", "text/event-stream"));
    let sdk_probe = request("GET", &host.url("/mcp"), &probe, None);
    assert_eq!((bare.status, sdk_probe.status), (405, 405), "{} / {}", bare.body, sdk_probe.body);

    // 7. An unknown method in a session.
    let nope = s1.request("nope/x", json!({}));
    assert_eq!(nope.status, 200, "{}", nope.body);
    t.eq("row 7: unknown method answer error.code", nope.json()["error"]["code"].as_i64(), Some(-32601));

    let sent = 6.0 + 3.0 + 2.0 + 2.0 + 2.0 + 1.0 + 2.0 + 1.0;
    let v = Views::read(&host, |e| value(e, "spinscope_http_requests_total", &[("route", "/mcp")]) >= sent);

    t.eq("HTTP requests to /mcp", v.value("spinscope_http_requests_total", &[("route", "/mcp")]), sent);
    t.eq("sessions created", v.value("spinscope_sessions_created_total", &[]), 3.0);

    // tool_calls_total.
    t.eq(
        "row 1: tool_calls_total{word_count,text-tools,success}",
        v.tool_calls("word_count", "text-tools", "success"),
        3.0,
    );
    t.eq("row 2: tool_calls_total{failing,faults,error}", v.tool_calls("failing", "faults", "error"), 2.0);
    t.eq(
        "rows 3+4 (NEW): tool_calls_total{word_count,text-tools,error}",
        v.tool_calls("word_count", "text-tools", "error"),
        4.0,
    );
    t.eq("tool_calls_total, all series", v.value("spinscope_tool_calls_total", &[]), 9.0);
    t.eq("row 5: tools in tool_calls_total", v.tools_counted(), vec!["failing".to_string(), "word_count".to_string()]);
    // Only the calls that ran are timed.
    t.eq(
        "row 3+4: tool_call_duration_seconds_count{word_count} (only the 3 that ran)",
        v.value("spinscope_tool_call_duration_seconds_count", &[("tool", "word_count")]),
        3.0,
    );
    t.eq("tool_call_duration_seconds_count, all", v.value("spinscope_tool_call_duration_seconds_count", &[]), 5.0);

    // mcp_requests_total.
    for version in ["2025-06-18", "2025-03-26", "2025-11-25"] {
        t.eq(&format!("initialize {version} success"), v.mcp("initialize", version, "success"), 1.0);
        t.eq(
            &format!("notifications/initialized {version} success"),
            v.mcp("notifications/initialized", version, "success"),
            1.0,
        );
    }
    t.eq("row 1: mcp tools/call 2025-06-18 success", v.mcp("tools/call", "2025-06-18", "success"), 2.0);
    t.eq("row 1: mcp tools/call 2026-07-28 success", v.mcp("tools/call", MODERN, "success"), 1.0);
    t.eq("row 2: mcp tools/call 2025-06-18 tool_error", v.mcp("tools/call", "2025-06-18", "tool_error"), 2.0);
    t.eq("row 3: mcp tools/call 2025-11-25 tool_error", v.mcp("tools/call", "2025-11-25", "tool_error"), 1.0);
    t.eq("row 3: mcp tools/call 2026-07-28 tool_error", v.mcp("tools/call", MODERN, "tool_error"), 1.0);
    t.eq("rows 4+5: mcp tools/call 2025-06-18 error", v.mcp("tools/call", "2025-06-18", "error"), 2.0);
    t.eq("row 4: mcp tools/call 2025-03-26 error", v.mcp("tools/call", "2025-03-26", "error"), 1.0);
    t.eq("row 7: mcp _other 2025-06-18 error", v.mcp("_other", "2025-06-18", "error"), 1.0);
    t.eq(
        "row 6: no mcp request for GET (mcp_requests_total, all)",
        v.value("spinscope_mcp_requests_total", &[]),
        sent - 2.0,
    );
    t.eq("mcp outcome=success", v.mcp_outcome("success"), 9.0);
    t.eq("mcp outcome=tool_error", v.mcp_outcome("tool_error"), 4.0);
    t.eq("mcp outcome=error", v.mcp_outcome("error"), 4.0);

    // http_requests_total.
    t.eq(
        "row 6: http_requests_total{/mcp,GET,405}",
        v.value("spinscope_http_requests_total", &[("route", "/mcp"), ("method", "GET"), ("status", "405")]),
        2.0,
    );
    t.eq(
        "row 6: http_requests_total{GET}, any status",
        v.value("spinscope_http_requests_total", &[("method", "GET")]),
        2.0,
    );

    // The JSON view.
    t.eq(
        "JSON tool_calls_total",
        v.json["tool_calls_total"].clone(),
        json!({"success": 3, "error": 6, "timeout": 0, "circuit_open": 0}),
    );
    let wc = &v.json["tools"]["word_count"];
    t.eq("row 1: JSON tools.word_count.success", wc["success"].clone(), json!(3));
    t.eq("rows 3+4 (NEW): JSON tools.word_count.error", wc["error"].clone(), json!(4));
    t.eq("JSON tools.word_count.component", wc["component"].clone(), json!("text-tools"));
    t.eq("rows 3+4: JSON tools.word_count.count (timed calls)", wc["count"].clone(), json!(3));
    t.eq("row 2: JSON tools.failing.error", v.json["tools"]["failing"]["error"].clone(), json!(2));
    t.eq(
        "row 5: JSON tools",
        v.json["tools"].as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["failing".to_string(), "word_count".to_string()]),
    );
    t.eq("JSON tool_call_duration_seconds_count", v.json["tool_call_duration_seconds_count"].clone(), json!(5));
    t.eq(
        "JSON mcp_requests_total",
        v.json["mcp_requests_total"].clone(),
        json!({"success": 9, "error": 4, "tool_error": 4}),
    );
    t.eq("JSON tenant requests (every request, GETs included)", v.tenant("requests").as_f64(), Some(sent));
    t.eq("JSON tenant tool_calls (rows 1-4)", v.tenant("tool_calls"), json!(9));
    t.eq("JSON tenant errors (rows 2,3,4,5,7; never 6)", v.tenant("errors"), json!(8));

    // /health/detailed.
    t.eq("health tools.text-tools.calls", v.health_tool("text-tools", "calls"), json!(7));
    t.eq("rows 3+4 (NEW): health tools.text-tools.errors", v.health_tool("text-tools", "errors"), json!(4));
    t.eq("health tools.text-tools.timeouts", v.health_tool("text-tools", "timeouts"), json!(0));
    t.eq("row 2: health tools.faults.calls", v.health_tool("faults", "calls"), json!(2));
    t.eq("row 2: health tools.faults.errors", v.health_tool("faults", "errors"), json!(2));
    t.eq("health tools.calc.calls", v.health_tool("calc", "calls"), json!(0));
    t.eq("health gateway.http_requests", v.health_gateway("http_requests").as_f64(), Some(sent));
    t.eq("row 6: health gateway.http_errors", v.health_gateway("http_errors"), json!(0));
    t.eq("health gateway.mcp_requests", v.health_gateway("mcp_requests").as_f64(), Some(sent - 2.0));
    t.eq("row 6: health gateway.mcp_errors (rows 2,3,4,5,7)", v.health_gateway("mcp_errors"), json!(8));

    v.check_agreement(&mut t);

    // The warn line of invalid arguments, in every revision (row 4 is NEW
    // before 2025-11-25), with the session it came from.
    let rejected = |lines: &[String]| -> Vec<HashMap<String, String>> {
        lines.iter().filter(|l| l.contains("Tool arguments rejected")).map(|l| fields(l)).collect()
    };
    let lines = host.wait_for_logs(|lines| rejected(lines).len() >= 4);
    let found = rejected(&lines);
    let sessions: Vec<(&str, Option<String>)> = vec![
        ("row 3: 2025-11-25", s3.session.clone()),
        ("row 3: 2026-07-28", Some("-".to_string())),
        ("row 4 (NEW): 2025-06-18", s1.session.clone()),
        ("row 4 (NEW): 2025-03-26", s2.session.clone()),
    ];
    for (what, session) in &sessions {
        let line = found.iter().find(|f| f.get("session_id") == session.as_ref());
        t.holds(&format!("{what}: a \"Tool arguments rejected\" line"), line.is_some(), found.len());
        if let Some(f) = line {
            t.eq(
                &format!("{what}: its level, tool, component"),
                (f["level"].as_str(), f["tool_name"].as_str(), f["component_id"].as_str()),
                ("warn", "word_count", "text-tools"),
            );
        }
    }
    t.eq("\"Tool arguments rejected\" lines", found.len(), 4);

    t.finish(&v.text);
}

/// The same kind of mix through the official Python SDK in the handshake
/// era (see the script): client A at the SDK's own revision, 2025-11-25;
/// client B at 2025-06-18. Each opens a session, whose transport probes
/// `GET /mcp` by itself (and retries once after a second), and ends it
/// with `DELETE`. How many GETs it made is read from `http_requests_total`:
/// whatever that number, none of them is an error.
#[test]
fn the_python_sdk_sees_the_same_error_counts() {
    let python = installed("venv/bin/python");
    let host = app().start();
    let mut cmd = Command::new(python);
    cmd.arg(client_script("python_error_counts.py")).arg(host.url("/mcp"));
    let out = run_client(cmd);
    let mut t = Tally::default();

    // What the SDK got back.
    let a = &out["a"];
    let b = &out["b"];
    t.eq("client A negotiated", a["protocol_version"].as_str(), Some("2025-11-25"));
    t.eq("client B negotiated", b["protocol_version"].as_str(), Some("2025-06-18"));
    for (what, call) in
        [("A word_count 1", &a["ok"][0]), ("A word_count 2", &a["ok"][1]), ("B word_count", &b["ok"][0])]
    {
        t.eq(&format!("row 1: {what} isError"), call["is_error"].as_bool(), Some(false));
    }
    t.eq("row 2: A failing isError", a["failing"]["is_error"].as_bool(), Some(true));
    t.eq("row 3: A (2025-11-25) invalid arguments isError", a["invalid"]["is_error"].as_bool(), Some(true));
    t.holds(
        "row 3: the gateway's message (not a client-side check)",
        a["invalid"]["text"].as_str().is_some_and(|s| s.contains("invalid arguments for tool 'word_count'")),
        &a["invalid"],
    );
    t.eq("row 4: B (2025-06-18) invalid arguments error code", b["invalid"]["code"].as_i64(), Some(-32602));
    t.holds(
        "row 4: the gateway's message (not a client-side check)",
        b["invalid"]["message"].as_str().is_some_and(|s| s.contains("invalid arguments for tool 'word_count'")),
        &b["invalid"],
    );
    t.eq("row 5: A unknown tool error code", a["unknown_tool"]["code"].as_i64(), Some(-32602));
    t.eq("row 7: A unknown method error code", a["unknown_method"]["code"].as_i64(), Some(-32601));

    // Client A: initialize, initialized, tools/list, 2 × word_count,
    // failing, invalid, unknown tool, nope/x (9 POSTs); client B:
    // initialize, initialized, tools/list, invalid, word_count (5 POSTs);
    // a DELETE each; and the GETs the transport made.
    let (posts, deletes) = (14.0, 2.0);
    let v = Views::read(&host, |e| {
        value(e, "spinscope_http_requests_total", &[("route", "/mcp"), ("method", "POST")]) >= posts
            && value(e, "spinscope_http_requests_total", &[("route", "/mcp"), ("method", "DELETE")]) >= deletes
    });
    let gets = v.value("spinscope_http_requests_total", &[("route", "/mcp"), ("method", "GET")]);
    eprintln!("the Python SDK made {gets} GET /mcp request(s)");
    t.holds("row 6: the SDK probed GET /mcp (at least once)", gets >= 1.0, gets);
    t.eq(
        "row 6: every GET answered 405",
        v.value("spinscope_http_requests_total", &[("route", "/mcp"), ("method", "GET"), ("status", "405")]),
        gets,
    );
    t.eq("POSTs", v.value("spinscope_http_requests_total", &[("route", "/mcp"), ("method", "POST")]), posts);
    t.eq(
        "DELETEs (204)",
        v.value("spinscope_http_requests_total", &[("route", "/mcp"), ("method", "DELETE"), ("status", "204")]),
        deletes,
    );
    t.eq("sessions created", v.value("spinscope_sessions_created_total", &[]), 2.0);
    t.eq("sessions active", v.value("spinscope_sessions_active", &[]), 0.0);

    t.eq(
        "row 1: tool_calls_total{word_count,text-tools,success}",
        v.tool_calls("word_count", "text-tools", "success"),
        3.0,
    );
    t.eq("row 2: tool_calls_total{failing,faults,error}", v.tool_calls("failing", "faults", "error"), 1.0);
    t.eq(
        "rows 3+4 (NEW): tool_calls_total{word_count,text-tools,error}",
        v.tool_calls("word_count", "text-tools", "error"),
        2.0,
    );
    t.eq("row 5: tools in tool_calls_total", v.tools_counted(), vec!["failing".to_string(), "word_count".to_string()]);
    t.eq(
        "rows 3+4: tool_call_duration_seconds_count{word_count} (only the 3 that ran)",
        v.value("spinscope_tool_call_duration_seconds_count", &[("tool", "word_count")]),
        3.0,
    );

    t.eq(
        "row 2: mcp tools/call 2025-11-25 tool_error (failing, invalid)",
        v.mcp("tools/call", "2025-11-25", "tool_error"),
        2.0,
    );
    t.eq("rows 5: mcp tools/call 2025-11-25 error", v.mcp("tools/call", "2025-11-25", "error"), 1.0);
    t.eq("row 4: mcp tools/call 2025-06-18 error", v.mcp("tools/call", "2025-06-18", "error"), 1.0);
    t.eq("row 7: mcp _other 2025-11-25 error", v.mcp("_other", "2025-11-25", "error"), 1.0);
    t.eq("row 6: no mcp request for a GET or DELETE", v.value("spinscope_mcp_requests_total", &[]), posts);
    t.eq("mcp outcome=success", v.mcp_outcome("success"), 9.0);

    t.eq(
        "JSON tools.word_count",
        (
            v.json["tools"]["word_count"]["success"].clone(),
            v.json["tools"]["word_count"]["error"].clone(),
            v.json["tools"]["word_count"]["count"].clone(),
        ),
        (json!(3), json!(2), json!(3)),
    );
    t.eq("JSON tools.failing.error", v.json["tools"]["failing"]["error"].clone(), json!(1));
    t.eq(
        "JSON tenant requests (every request, GETs included)",
        v.tenant("requests").as_f64(),
        Some(posts + deletes + gets),
    );
    t.eq("JSON tenant tool_calls", v.tenant("tool_calls"), json!(6));
    t.eq(
        "JSON tenant errors: exactly failing, 2 invalid, unknown tool, nope/x (not the GETs)",
        v.tenant("errors"),
        json!(5),
    );

    t.eq(
        "rows 3+4 (NEW): health tools.text-tools",
        (v.health_tool("text-tools", "calls"), v.health_tool("text-tools", "errors")),
        (json!(5), json!(2)),
    );
    t.eq(
        "row 2: health tools.faults",
        (v.health_tool("faults", "calls"), v.health_tool("faults", "errors")),
        (json!(1), json!(1)),
    );
    t.eq("row 6: health gateway.http_errors", v.health_gateway("http_errors"), json!(0));
    t.eq("health gateway.mcp_errors", v.health_gateway("mcp_errors"), json!(5));

    v.check_agreement(&mut t);

    // Row 4's warn line, for client B's session (NEW before 2025-11-25).
    let lines = host.wait_for_logs(|lines| lines.iter().filter(|l| l.contains("Tool arguments rejected")).count() >= 2);
    let rejected: Vec<HashMap<String, String>> =
        lines.iter().filter(|l| l.contains("Tool arguments rejected")).map(|l| fields(l)).collect();
    for (what, client) in [("row 3: client A", "py-errors-a"), ("row 4 (NEW): client B", "py-errors-b")] {
        let found = rejected.iter().any(|f| f.get("client").map(String::as_str) == Some(client));
        t.holds(&format!("{what}: a \"Tool arguments rejected\" line naming {client}"), found, rejected.len());
    }

    t.finish(&format!("client output: {out}\n{}", v.text));
}
