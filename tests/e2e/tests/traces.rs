//! Trace export end to end: a small OTLP/HTTP receiver on loopback gets the
//! gateway's spans; ids, parents, links, `traceState`, names and attributes
//! are checked, the attributes against the one list
//! (`spinscope::gateway::spans::semconv`).

use serde_json::{json, Value};
use spinscope::gateway::spans::semconv::On;
use spinscope_e2e::*;
use std::process::Command;
use std::time::{Duration, Instant};

type Receiver = OtlpReceiver;

fn app(endpoint_port: u16) -> HostBuilder {
    HostBuilder::app(Some(&["gateway", "metrics", "text-tools", "calc"]))
        .var("tool_components", "text-tools,calc,faults")
        .var("otlp_collector_host", &format!("http://127.0.0.1:{endpoint_port}"))
        .var("otlp_traces_endpoint", &format!("http://127.0.0.1:{endpoint_port}/v1/traces"))
        .var("service_name", "spinscope-test")
}

fn call_with_trace(mcp: &Mcp, traceparent: &str, name: &str, args: Value) -> Reply {
    let body = json!({"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name": name,"arguments": args}});
    mcp.post_raw(&body.to_string(), &[("traceparent", traceparent)])
}

#[test]
fn spans_reach_the_collector_with_mcp_names_parents_and_attributes() {
    let receiver = Receiver::start();
    let host = app(receiver.port).start();
    let (mcp, _) = Mcp::connect(&host);
    let trace = "5bd66ef5095369c7b0d1f8f4bd33716a";
    let caller_span = "c532cb4098ac3dd2";
    let reply = call_with_trace(&mcp, &format!("00-{trace}-{caller_span}-01"), "echo_headers", json!({}));
    let seen_by_tool = reply.json()["result"]["structuredContent"]["traceparent"].as_str().unwrap().to_string();

    let server = receiver.wait_for("tools/call echo_headers", trace);
    assert_eq!(server["parentSpanId"], caller_span);
    assert_eq!(server["kind"], 2);
    assert_eq!(span_attr(&server, "mcp.method.name"), "tools/call");
    assert_eq!(span_attr(&server, "gen_ai.tool.name"), "echo_headers");
    assert_eq!(span_attr(&server, "gen_ai.operation.name"), "execute_tool");
    assert_eq!(span_attr(&server, "mcp.session.id"), json!(mcp.session.clone().unwrap()));
    assert_eq!(span_attr(&server, "mcp.protocol.version"), "2025-06-18");
    assert_eq!(span_attr(&server, "jsonrpc.request.id"), "42");
    assert_eq!(span_attr(&server, "network.transport"), "tcp");
    assert_eq!(span_attr(&server, "network.protocol.name"), "http");
    assert_eq!(server["status"]["code"], 0);
    assert!(server.get("links").is_none(), "one context, nothing to link: {server}");
    assert_listed(&server, On::Server);

    let tool = receiver.wait_for("execute_tool echo_headers", trace);
    assert_eq!(tool["parentSpanId"], server["spanId"]);
    assert_eq!(tool["kind"], 3);
    assert_eq!(
        seen_by_tool,
        format!("00-{trace}-{}-01", tool["spanId"].as_str().unwrap()),
        "the tool saw the tool span"
    );
    let start: u64 = tool["startTimeUnixNano"].as_str().unwrap().parse().unwrap();
    let end: u64 = tool["endTimeUnixNano"].as_str().unwrap().parse().unwrap();
    let server_start: u64 = server["startTimeUnixNano"].as_str().unwrap().parse().unwrap();
    assert!(server_start <= start && start <= end);
    assert_listed(&tool, On::ToolCall);

    let resource = &receiver.bodies.lock().unwrap()[0]["resourceSpans"][0]["resource"];
    assert_eq!(resource["attributes"][0]["value"]["stringValue"], "spinscope-test");
}

#[test]
fn errors_are_marked_and_unsampled_parents_are_honoured() {
    let receiver = Receiver::start();
    let host = app(receiver.port).start();
    let (mcp, _) = Mcp::connect(&host);

    let failing_trace = "11111111111111111111111111111111";
    call_with_trace(&mcp, &format!("00-{failing_trace}-2222222222222222-01"), "failing", json!({}));
    let server = receiver.wait_for("tools/call failing", failing_trace);
    assert_eq!(span_attr(&server, "error.type"), "tool_error");
    assert_eq!(server["status"]["code"], 2);
    let tool = receiver.wait_for("execute_tool failing", failing_trace);
    assert_eq!(span_attr(&tool, "error.type"), "tool_error");

    let unknown_trace = "33333333333333333333333333333333";
    call_with_trace(&mcp, &format!("00-{unknown_trace}-4444444444444444-01"), "no_such_tool", json!({}));
    let server = receiver.wait_for("tools/call _other", unknown_trace);
    assert_eq!(span_attr(&server, "error.type"), "-32602");
    assert_eq!(span_attr(&server, "rpc.response.status_code"), "-32602");
    let code = server["attributes"].as_array().unwrap().iter().find(|a| a["key"] == "rpc.response.status_code");
    assert_eq!(code.unwrap()["value"]["stringValue"], "-32602", "a string, as the conventions say");
    assert_listed(&server, On::Server);

    // A parent that did not sample: nothing exported for its trace.
    let quiet_trace = "55555555555555555555555555555555";
    call_with_trace(&mcp, &format!("00-{quiet_trace}-6666666666666666-00"), "word_count", json!({"text": "x"}));
    // A later sampled request proves the exporter ran after the quiet one.
    let marker = "77777777777777777777777777777777";
    call_with_trace(&mcp, &format!("00-{marker}-8888888888888888-01"), "word_count", json!({"text": "x"}));
    receiver.wait_for("tools/call word_count", marker);
    assert!(receiver.spans().iter().all(|s| s["traceId"] != quiet_trace));
}

#[test]
fn a_collector_that_is_down_never_fails_the_call() {
    let closed_port = free_port();
    let host = app(closed_port).start();
    let (mut mcp, _) = Mcp::connect(&host);
    let result = mcp.call_tool("word_count", json!({"text": "still works"}));
    assert_eq!(result["structuredContent"]["words"], 2);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = host.get("/metrics").body;
        let e = spinscope_testkit::exposition::parse(&text).unwrap();
        if e.value("spinscope_trace_export_failures_total", &[]).unwrap_or(0.0) >= 3.0 {
            break;
        }
        assert!(Instant::now() < deadline, "export failures not counted: {}", host.logs().join("\n"));
        std::thread::sleep(Duration::from_millis(100));
    }
    host.wait_for_log(|l| l.contains("level=warn") && l.contains("Trace export failed"));
}

/// A handshake-era `tools/call` whose `params._meta` and HTTP headers carry
/// different contexts: `_meta`'s is the parent, the header's is linked,
/// and each `tracestate` goes where its context does.
#[test]
fn meta_wins_and_the_header_is_linked_with_its_tracestate() {
    let receiver = Receiver::start();
    let host = app(receiver.port).start();
    let (mcp, _) = Mcp::connect(&host);
    let (meta_trace, meta_span) = ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb");
    let (header_trace, header_span) = ("cccccccccccccccccccccccccccccccc", "dddddddddddddddd");
    let meta = json!({"traceparent": format!("00-{meta_trace}-{meta_span}-01"), "tracestate": "rojo=00f067aa0ba902b7"});
    let body = json!({"jsonrpc":"2.0","id":7,"method":"tools/call",
                      "params":{"name":"echo_headers","arguments":{},"_meta": meta}});
    let header = format!("00-{header_trace}-{header_span}-01");
    let reply = mcp.post_raw(&body.to_string(), &[("traceparent", &header), ("tracestate", "congo=t61rcWkgMzE")]);
    let seen = &reply.json()["result"]["structuredContent"];
    assert!(seen["traceparent"].as_str().unwrap().starts_with(&format!("00-{meta_trace}-")), "{seen}");
    assert_eq!(seen["tracestate"], "rojo=00f067aa0ba902b7", "the tool gets _meta's state");

    let server = receiver.wait_for("tools/call echo_headers", meta_trace);
    assert_eq!(server["parentSpanId"], meta_span);
    assert_eq!(server["traceState"], "rojo=00f067aa0ba902b7");
    let links = server["links"].as_array().expect("links");
    assert_eq!(links.len(), 1, "{server}");
    assert_eq!(links[0]["traceId"], header_trace);
    assert_eq!(links[0]["spanId"], header_span);
    assert_eq!(links[0]["traceState"], "congo=t61rcWkgMzE");
    assert_eq!(span_attr(&links[0], "spinscope.link.source"), "http_header");
    assert_listed(&server, On::Server);
    let tool = receiver.wait_for("execute_tool echo_headers", meta_trace);
    assert_eq!(tool["traceState"], "rojo=00f067aa0ba902b7");
    assert!(tool.get("links").is_none());
    assert!(receiver.spans().iter().all(|s| s["traceId"] != header_trace), "no span of ours in the header's trace");

    // The same context in both places: one parent, no link.
    let both = format!("00-{meta_trace}-{meta_span}-01");
    let meta = json!({"traceparent": both});
    let body = json!({"jsonrpc":"2.0","id":8,"method":"tools/list","params":{"_meta": meta}});
    mcp.post_raw(&body.to_string(), &[("traceparent", &both)]);
    let list = receiver.wait_for("tools/list", meta_trace);
    assert!(list.get("links").is_none() && list.get("traceState").is_none(), "{list}");
    assert!(span_attr(&list, "gen_ai.operation.name").is_null(), "not a tool call");
}

/// The official Python SDK, inside a trace, puts the context only in
/// `params._meta`: the gateway's spans land in the caller's trace, in
/// both eras, with its `tracestate`; `mcp.session.id` only in a session.
#[test]
fn the_python_sdk_context_in_meta_is_the_parent() {
    let python = installed("venv/bin/python");
    let receiver = Receiver::start();
    let host = app(receiver.port).start();
    for (mode, trace, era_has_session) in
        [("legacy", "0af7651916cd43dd8448eb211c80319c", true), ("auto", "1bf7651916cd43dd8448eb211c80319d", false)]
    {
        let caller = format!("00-{trace}-b7ad6b7169203331-01");
        let mut cmd = Command::new(&python);
        cmd.arg(client_script("python_traced.py")).arg(host.url("/mcp")).arg(mode).arg(&caller).arg("vendor=v1");
        let out = run_client(cmd);
        let seen = &out["seen"];
        assert!(seen["traceparent"].as_str().unwrap().starts_with(&format!("00-{trace}-")), "{mode}: {out}");

        let server = receiver.wait_for("tools/call echo_headers", trace);
        assert_eq!(server["parentSpanId"], "b7ad6b7169203331", "{mode}: the SDK's span");
        assert_eq!(server["traceState"], "vendor=v1", "{mode}");
        assert!(server.get("links").is_none(), "{mode}: no header, nothing to link");
        assert_eq!(span_attr(&server, "mcp.session.id").is_string(), era_has_session, "{mode}: {server}");
        assert_eq!(span_attr(&server, "gen_ai.operation.name"), "execute_tool");
        assert_listed(&server, On::Server);
        for span in receiver.spans().iter().filter(|s| s["traceId"] == trace) {
            assert_eq!(span["traceState"], "vendor=v1", "{mode}: every span of the call: {span}");
        }
    }
}
