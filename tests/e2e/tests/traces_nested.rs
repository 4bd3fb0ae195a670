//! The nested-trace mode (docs/traces.md): the gateway built with
//! `wasi:otel/tracing` (`gateway-otel`, gateway_otel.wasm, spin-otel.toml)
//! under Spin's `--experimental-wasi-otel`. Its spans are started in
//! Spin's span context and go out through Spin's exporter (OTLP/HTTP
//! protobuf, to the receiver here), so that one `tools/call` is one trace:
//! Spin's request, the gateway's server span under it, the tool-call span,
//! and Spin's outbound call to the tool component under that.
//!
//! Only real Spin offers the interface: on the local host the Spin test is
//! skipped (it says so); the manifest and import checks run on both.

use serde_json::{json, Value};
use spinscope::gateway::spans::semconv::On;
use spinscope_e2e::*;
use std::time::{Duration, Instant};

/// What `make spin-otel.toml` writes: spin.toml with the gateway's source
/// and build command swapped for the nested-trace build's.
fn expected_otel_manifest(spin_toml: &str) -> String {
    let header = "# GENERATED from spin.toml by `make spin-otel.toml`: do not edit. The nested-trace\n\
                  # mode (docs/traces.md): the gateway built with wasi:otel (gateway_otel.wasm), run\n\
                  # by `make up-otel` (spin up -f spin-otel.toml --experimental-wasi-otel).\n";
    let body = spin_toml
        .replace("component/gateway.wasm\"", "component/gateway_otel.wasm\"")
        .replace("--profile component -p gateway\"", "--profile component -p gateway-otel\"");
    format!("{header}{body}")
}

#[test]
fn spin_otel_toml_is_spin_toml_but_for_the_gateway_build() {
    let root = workspace_root();
    let spin = std::fs::read_to_string(root.join("spin.toml")).unwrap();
    let otel = std::fs::read_to_string(root.join("spin-otel.toml")).unwrap();
    assert!(otel == expected_otel_manifest(&spin), "spin-otel.toml is stale: run `make spin-otel.toml`");
    // The swap happened: exactly the gateway's two lines differ.
    let differing = spin.lines().zip(otel.lines().skip(3)).filter(|(a, b)| a != b).count();
    assert_eq!(differing, 2);
}

/// The default gateway.wasm must not import wasi:otel (a Spin without the
/// flag, or Spin 3.x, could not instantiate it); the nested build must.
#[test]
fn only_the_nested_build_imports_wasi_otel() {
    let dir = target_dir().join("wasm32-wasip2/component");
    let imports = |file: &str| {
        let bytes = std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e} (run `make build`)"));
        bytes.windows(18).any(|w| w == b"wasi:otel/tracing@")
    };
    assert!(!imports("gateway.wasm"), "gateway.wasm imports wasi:otel");
    assert!(imports("gateway_otel.wasm"), "gateway_otel.wasm does not import wasi:otel/tracing");
    for other in ["metrics.wasm", "audit.wasm", "health.wasm", "ready.wasm", "text_tools.wasm", "calc.wasm"] {
        assert!(!imports(other), "{other} imports wasi:otel");
    }
}

fn skip_unless_spin(test: &str) -> bool {
    if host_kind() == HostKind::Spin {
        return false;
    }
    eprintln!(
        "{test}: skipped on the local host, which does not offer wasi:otel \
         (run with SPINSCOPE_E2E_HOST=spin and a Spin 4 binary)"
    );
    true
}

/// spin-otel.toml on Spin with `--experimental-wasi-otel` and Spin's
/// exporter pointed at `receiver` (OTLP/HTTP protobuf, short batches).
fn nested_app(receiver: &OtlpReceiver) -> HostBuilder {
    HostBuilder::app_from("spin-otel.toml", Some(&["gateway", "metrics", "text-tools", "calc"]))
        .var("tool_components", "text-tools,calc,faults")
        .var("service_name", "spinscope-test")
        .args(&["--experimental-wasi-otel"])
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &format!("http://127.0.0.1:{}", receiver.port))
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
        .env("OTEL_SERVICE_NAME", "spinscope-nested-test")
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
}

/// The spans of `trace` once `done` holds of them, waiting up to 30 s.
fn trace_spans(receiver: &OtlpReceiver, trace: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let spans: Vec<Value> = receiver.spans().into_iter().filter(|s| s["traceId"] == trace).collect();
        if done(&spans) {
            return spans;
        }
        assert!(Instant::now() < deadline, "trace {trace} incomplete: {}", tree(&spans));
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The spans as an indented tree by parent, each with its start (from the
/// first span's) and its duration, in ms: what docs/traces.md shows.
fn tree(spans: &[Value]) -> String {
    fn nanos(s: &Value, key: &str) -> u64 {
        s[key].as_str().unwrap_or("0").parse().unwrap_or(0)
    }
    fn walk(spans: &[Value], parent: &Value, depth: usize, first: u64, out: &mut String) {
        let mut children: Vec<&Value> = spans.iter().filter(|s| &s["parentSpanId"] == parent).collect();
        children.sort_by_key(|s| nanos(s, "startTimeUnixNano"));
        for s in children {
            let (start, end) = (nanos(s, "startTimeUnixNano"), nanos(s, "endTimeUnixNano"));
            let name = format!("{}{}", "  ".repeat(depth), s["name"].as_str().unwrap_or("?"));
            let at = start.saturating_sub(first) as f64 / 1e6;
            let took = end.saturating_sub(start) as f64 / 1e6;
            out.push_str(&format!(
                "{name:<48} {:<18} +{at:>7.3} ms {took:>7.3} ms\n",
                s["spanId"].as_str().unwrap_or("?")
            ));
            walk(spans, &s["spanId"], depth + 1, first, out);
        }
    }
    let ids: Vec<&Value> = spans.iter().map(|s| &s["spanId"]).collect();
    let first = spans.iter().map(|s| nanos(s, "startTimeUnixNano")).min().unwrap_or(0);
    let mut out = String::new();
    let mut roots: Vec<&Value> = Vec::new();
    for parent in spans.iter().map(|s| &s["parentSpanId"]).filter(|p| !ids.contains(p)) {
        if !roots.contains(&parent) {
            roots.push(parent);
        }
    }
    for root in roots {
        out.push_str(&format!("(parent {root})\n"));
        walk(spans, root, 1, first, &mut out);
    }
    out
}

fn named<'a>(spans: &'a [Value], name: &str) -> Option<&'a Value> {
    spans.iter().find(|s| s["name"] == name)
}

fn by_id<'a>(spans: &'a [Value], id: &Value) -> &'a Value {
    spans.iter().find(|s| &s["spanId"] == id).unwrap_or_else(|| panic!("no span {id}: {}", tree(spans)))
}

/// The instrumentation scope of the span `span_id`, as exported.
fn scope_of(receiver: &OtlpReceiver, span_id: &Value) -> Value {
    let bodies = receiver.bodies.lock().unwrap();
    let array = |v: &Value| v.as_array().cloned().unwrap_or_default();
    bodies
        .iter()
        .flat_map(|b| array(&b["resourceSpans"]))
        .flat_map(|r| array(&r["scopeSpans"]))
        .find(|s| array(&s["spans"]).iter().any(|x| &x["spanId"] == span_id))
        .map(|s| s["scope"].clone())
        .unwrap_or(Value::Null)
}

#[test]
fn a_tools_call_nests_in_spins_trace() {
    if skip_unless_spin("a_tools_call_nests_in_spins_trace") {
        return;
    }
    let receiver = OtlpReceiver::start();
    let host = nested_app(&receiver).start();
    let (mcp, _) = Mcp::connect(&host);
    let trace = "5bd66ef5095369c7b0d1f8f4bd33716a";
    let caller_span = "c532cb4098ac3dd2";
    let body = json!({"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"echo_headers","arguments":{}}});
    let reply = mcp.post_raw(&body.to_string(), &[("traceparent", &format!("00-{trace}-{caller_span}-01"))]);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let seen_by_tool = reply.json()["result"]["structuredContent"]["traceparent"].as_str().unwrap().to_string();

    // Spin's batches may bring the spans in any order: wait for them all.
    let names = [
        "POST /mcp",
        "execute_wasm_component gateway",
        "tools/call echo_headers",
        "execute_tool echo_headers",
        "POST",
        "execute_wasm_component faults",
    ];
    let spans = trace_spans(&receiver, trace, |spans| names.iter().all(|n| named(spans, n).is_some()));
    eprintln!("{}", tree(&spans));

    // Spin's request span (a child of the caller's), Spin's execution of
    // the gateway, and the gateway's server span in it.
    let server = named(&spans, "tools/call echo_headers").unwrap();
    let execution = by_id(&spans, &server["parentSpanId"]);
    assert_eq!(execution["name"], "execute_wasm_component gateway");
    let request = by_id(&spans, &execution["parentSpanId"]);
    assert_eq!(request["name"], "POST /mcp");
    assert_eq!(request["parentSpanId"], caller_span);
    assert_eq!(server["kind"], 2);
    assert!(server.get("links").is_none(), "one context, nothing to link: {server}");

    // The tool-call span under it, and Spin's outbound call to the tool
    // component under that: the chained component's execution is in it.
    let tool = named(&spans, "execute_tool echo_headers").unwrap();
    assert_eq!(tool["parentSpanId"], server["spanId"]);
    assert_eq!(tool["kind"], 3);
    let outbound: Vec<&Value> = spans.iter().filter(|s| s["parentSpanId"] == tool["spanId"]).collect();
    assert_eq!(outbound.len(), 1, "{}", tree(&spans));
    let outbound = outbound[0];
    assert_eq!(span_attr(outbound, "url.full"), "http://faults.spin.internal/echo_headers");
    assert_eq!(outbound["kind"], 3);
    let chained = named(&spans, "execute_wasm_component faults").unwrap();
    assert_eq!(chained["parentSpanId"], outbound["spanId"]);
    // Spin forwards its outbound span's context, over the gateway's header.
    assert_eq!(seen_by_tool, format!("00-{trace}-{}-01", outbound["spanId"].as_str().unwrap()));

    // The same names and attributes as the gateway's own export.
    assert_eq!(span_attr(server, "mcp.method.name"), "tools/call");
    assert_eq!(span_attr(server, "gen_ai.tool.name"), "echo_headers");
    assert_eq!(span_attr(server, "gen_ai.operation.name"), "execute_tool");
    assert_eq!(span_attr(server, "mcp.session.id"), json!(mcp.session.clone().unwrap()));
    assert_eq!(span_attr(server, "jsonrpc.request.id"), "42");
    assert_eq!(span_attr(server, "http.response.status_code"), "200");
    assert_eq!(span_attr(tool, "spinscope.component.id"), "faults");
    assert_eq!(span_attr(tool, "spinscope.outcome"), "success");
    assert_listed(server, On::Server);
    assert_listed(tool, On::ToolCall);
    assert_eq!(scope_of(&receiver, &server["spanId"])["name"], "spinscope");

    // Everything came through Spin's exporter, as protobuf: the gateway
    // needs no collector variable in this mode.
    let bodies = receiver.bodies.lock().unwrap().len();
    assert_eq!(*receiver.protobuf_bodies.lock().unwrap(), bodies);
}

/// A failed call: the error on the gateway's spans, as in the JSON mode;
/// and a `params._meta` context of another trace than the header's is
/// linked (`spinscope.link.source=mcp_meta`) while Spin's span stays the
/// parent.
#[test]
fn errors_and_another_trace_in_meta_in_the_nested_mode() {
    if skip_unless_spin("errors_and_another_trace_in_meta_in_the_nested_mode") {
        return;
    }
    let receiver = OtlpReceiver::start();
    let host = nested_app(&receiver).start();
    let (mcp, _) = Mcp::connect(&host);
    let trace = "11111111111111111111111111111111";
    let meta_trace = "0af7651916cd43dd8448eb211c80319c";
    let body = json!({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"failing","arguments":{},
        "_meta": {"traceparent": format!("00-{meta_trace}-b7ad6b7169203331-01"), "tracestate": "m=2"}}});
    let reply = mcp.post_raw(&body.to_string(), &[("traceparent", &format!("00-{trace}-2222222222222222-01"))]);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let names = ["execute_wasm_component gateway", "tools/call failing", "execute_tool failing"];
    let spans = trace_spans(&receiver, trace, |spans| names.iter().all(|n| named(spans, n).is_some()));
    let server = named(&spans, "tools/call failing").unwrap();
    assert_eq!(by_id(&spans, &server["parentSpanId"])["name"], "execute_wasm_component gateway");
    assert_eq!(span_attr(server, "error.type"), "tool_error");
    assert_eq!(server["status"]["code"], 2);
    let tool = named(&spans, "execute_tool failing").unwrap();
    assert_eq!(span_attr(tool, "error.type"), "tool_error");
    assert_eq!(tool["status"]["code"], 2);
    let links = server["links"].as_array().unwrap_or_else(|| panic!("no link: {server}"));
    assert_eq!(links.len(), 1);
    assert_eq!(links[0]["traceId"], meta_trace);
    assert_eq!(links[0]["spanId"], "b7ad6b7169203331");
    assert_eq!(links[0]["traceState"], "m=2");
    assert_eq!(span_attr(&links[0], "spinscope.link.source"), "mcp_meta");
    assert_listed(server, On::Server);
    assert!(receiver.spans().iter().all(|s| s["traceId"] != meta_trace), "nothing in _meta's trace");
}

/// Why the nested mode is a build of its own: a Spin without the flag
/// cannot instantiate a component that imports wasi:otel; nor can the
/// local host, which does not offer it.
#[test]
fn the_nested_build_needs_the_flag() {
    let refused = HostBuilder::app_from("spin-otel.toml", Some(&["gateway"])).try_start();
    match refused {
        Ok(host) => {
            // A host may instantiate on the first request instead of at start.
            let reply = host.post("/mcp", &[("content-type", "application/json")], "{}");
            assert_eq!(reply.status, 500, "{}", reply.body);
            host.wait_for_log(|l| l.contains("wasi:otel/tracing"));
        }
        Err(output) => assert!(output.contains("wasi:otel/tracing"), "{output}"),
    }
}

/// With the flag but no exporter for Spin (no `OTEL_EXPORTER_OTLP_*`),
/// Spin has no span to give: the nested build exports as the default one
/// does, OTLP/HTTP JSON to `otlp_traces_endpoint`, parented on the header.
#[test]
fn without_spins_exporter_the_nested_build_exports_json_itself() {
    if skip_unless_spin("without_spins_exporter_the_nested_build_exports_json_itself") {
        return;
    }
    let receiver = OtlpReceiver::start();
    let host = HostBuilder::app_from("spin-otel.toml", Some(&["gateway", "metrics", "text-tools", "calc"]))
        .var("otlp_collector_host", &format!("http://127.0.0.1:{}", receiver.port))
        .var("otlp_traces_endpoint", &format!("http://127.0.0.1:{}/v1/traces", receiver.port))
        .args(&["--experimental-wasi-otel"])
        .start();
    let (mcp, _) = Mcp::connect(&host);
    let trace = "6bd66ef5095369c7b0d1f8f4bd33716b";
    let body =
        json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"word_count","arguments":{"text":"a b"}}});
    let reply = mcp.post_raw(&body.to_string(), &[("traceparent", &format!("00-{trace}-c532cb4098ac3dd2-01"))]);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let server = receiver.wait_for("tools/call word_count", trace);
    assert_eq!(server["parentSpanId"], "c532cb4098ac3dd2");
    receiver.wait_for("execute_tool word_count", trace);
    assert_eq!(*receiver.protobuf_bodies.lock().unwrap(), 0, "nothing from Spin's exporter");
}
