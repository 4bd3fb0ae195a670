use super::*;
use crate::gateway::error::{Answering, GatewayError, ToolFailure};
use crate::gateway::record::{ClientFacts, Invocation, ToolCallRecord};
use crate::mcp::modern::Era;
use crate::otlp::AttributeValue;
use crate::redact::REDACTED;
use crate::trace::{TraceContext, TraceSource};
use serde_json::json;

fn record() -> RequestRecord {
    let trace = TraceContext::from_incoming(
        Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
        None,
        None,
        &[5; 24],
    );
    RequestRecord::new("req-1".into(), 0, 1_000, trace)
}

fn attr<'a>(span: &'a Span, key: &str) -> Option<&'a AttributeValue> {
    span.attributes.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

fn text(span: &Span, key: &str) -> Option<String> {
    match attr(span, key) {
        Some(AttributeValue::Str(s)) => Some(s.clone()),
        _ => None,
    }
}

#[test]
fn a_tool_call_has_a_server_span_and_a_client_span_under_it() {
    let mut r = record();
    r.message("tools/call", Some(&crate::mcp::RequestId::Number(3.into())));
    r.session(
        "s-1".into(),
        ClientFacts { protocol_version: "2025-06-18".into(), name: Some("py".into()), version: None },
    );
    r.tool("word_count");
    let span = r.trace.child(&[2; 8]);
    let invocation = Invocation {
        span: span.clone(),
        start_offset_ns: 10,
        end_offset_ns: 20,
        execution_ms: None,
        memory_bytes: None,
        reports: Default::default(),
    };
    r.tool_called(
        ToolCallRecord {
            component: "text-tools".into(),
            outcome: ToolOutcome::Timeout,
            invocation: Some(invocation),
            error: Some("tool 'word_count' timed out after 5 ms".into()),
        },
        0,
    );
    let error = GatewayError::ToolFailed { tool: "word_count".into(), failure: ToolFailure::Timeout { after_ms: 5 } };
    r.failed_with(&error, &error.map(Answering { era: Era::Handshake, protocol_version: Some("2025-06-18") }));
    let spans = build(&r, 1_000_000, 200);
    assert_eq!(spans.len(), 2);
    let (server, client) = (&spans[0], &spans[1]);
    assert_eq!(server.name, "tools/call word_count");
    assert_eq!(server.parent_span_id, r.trace.parent_span_id);
    assert_eq!((server.start_unix_nanos, server.end_unix_nanos), (1_000_000_000, 1_001_000_000));
    assert_eq!(text(server, "mcp.method.name").as_deref(), Some("tools/call"));
    assert_eq!(text(server, "mcp.session.id").as_deref(), Some("s-1"));
    assert_eq!(text(server, "spinscope.client.name").as_deref(), Some("py"));
    assert_eq!(text(server, "jsonrpc.request.id").as_deref(), Some("3"));
    assert_eq!(text(server, "error.type").as_deref(), Some("tool_error"));
    assert_eq!(server.error.as_deref(), Some("tool_error"));
    assert!(text(server, "spinscope.client.version").is_none());
    assert_eq!(client.parent_span_id, Some(r.trace.span_id));
    assert_eq!(client.span_id, span.span_id, "the id the tool saw in traceparent");
    assert_eq!(client.name, "execute_tool word_count");
    assert_eq!(text(client, "error.type").as_deref(), Some("timeout"));
    assert_eq!(client.error.as_deref(), Some("tool 'word_count' timed out after 5 ms"));
    assert_eq!(text(client, "spinscope.component.id").as_deref(), Some("text-tools"));
}

#[test]
fn a_request_without_a_message_is_named_by_http() {
    let mut r = record();
    r.http_method = "GET".into();
    let error = GatewayError::MethodNotAllowed;
    r.failed_with(&error, &error.map(Answering { era: Era::Handshake, protocol_version: None }));
    let spans = build(&r, 5, 405);
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].name, "GET /mcp");
    assert!(attr(&spans[0], "mcp.method.name").is_none(), "no JSON-RPC method to name");
    assert!(spans[0].error.is_none(), "405 to the stream probe is no error");
    assert!(matches!(attr(&spans[0], "http.response.status_code"), Some(AttributeValue::Int(405))));
}

#[test]
fn a_json_rpc_error_sets_its_code() {
    let mut r = record();
    r.message("nope/x", Some(&crate::mcp::RequestId::Number(1.into())));
    let error = GatewayError::MethodNotFound("Method not found: nope/x".into());
    r.failed_with(&error, &error.map(Answering { era: Era::Handshake, protocol_version: None }));
    let spans = build(&r, 5, 200);
    assert_eq!(text(&spans[0], "error.type").as_deref(), Some("-32601"));
    assert_eq!(text(&spans[0], "rpc.response.status_code").as_deref(), Some("-32601"), "a string, as semconv says");
}

#[test]
fn refused_arguments_make_no_client_span() {
    let mut r = record();
    r.message("tools/call", None);
    r.tool("word_count");
    let error =
        GatewayError::InvalidToolArguments { tool: "word_count".into(), component: "c".into(), problem: "p".into() };
    r.failed_with(&error, &error.map(Answering { era: Era::Modern, protocol_version: Some("2026-07-28") }));
    assert_eq!(build(&r, 5, 200).len(), 1, "the tool was never called");
}

/// Every string a span carries: its name, attribute values, status.
fn all_text(spans: &[Span]) -> String {
    let mut text = String::new();
    for span in spans {
        text.push_str(&span.name);
        text.push('\n');
        for (key, value) in &span.attributes {
            text.push_str(&format!("{key}={value:?}\n"));
        }
        text.push_str(&format!("{:?}\n", span.error));
    }
    text
}

#[test]
fn methods_are_folded_as_the_metrics_fold_them() {
    for (method, tool, expected) in [
        ("tools/call", Some("word_count"), "tools/call word_count"),
        ("tools/call", Some("_other"), "tools/call _other"),
        ("tools/list", None, "tools/list"),
        ("evil/pw=hunter2", None, "_other"),
        ("_invalid", None, "_other"),
        ("x".repeat(5_000).as_str(), None, "_other"),
    ] {
        let mut r = record();
        r.message(method, Some(&crate::mcp::RequestId::Number(1.into())));
        if let Some(tool) = tool {
            r.tool(tool);
        }
        let spans = build(&r, 5, 200);
        assert_eq!(spans[0].name, expected, "{method}");
        let folded = expected.split(' ').next().unwrap();
        assert_eq!(text(&spans[0], "mcp.method.name").as_deref(), Some(folded), "{method}");
        assert_eq!(crate::metrics::series::mcp_method(method), folded, "the one fold: the metrics' label");
        assert!(!all_text(&spans).contains("hunter2"));
    }
}

#[test]
fn an_id_with_a_secret_never_reaches_a_span() {
    let mut r = record();
    r.message("ping", Some(&crate::mcp::RequestId::String("pw=hunter2 Bearer abc.def".into())));
    let spans = build(&r, 5, 200);
    assert_eq!(text(&spans[0], "jsonrpc.request.id").as_deref(), Some(REDACTED));
    let all = all_text(&spans);
    assert!(!all.contains("hunter2") && !all.contains("abc.def"), "{all}");
}

#[test]
fn what_the_client_wrote_is_redacted_and_capped() {
    let mut r = record();
    r.message("initialize", Some(&crate::mcp::RequestId::String("a".repeat(1_000))));
    r.session(
        "s-1".into(),
        ClientFacts {
            protocol_version: "2025-06-18".into(),
            name: Some("agent token=sk-live-abcdefghijklmnopqrstuvwxyz".into()),
            version: Some("é".repeat(300)),
        },
    );
    let spans = build(&r, 5, 200);
    let server = &spans[0];
    assert_eq!(text(server, "spinscope.client.name").as_deref(), Some(REDACTED));
    let version = text(server, "spinscope.client.version").unwrap();
    assert!(version.ends_with(crate::redact::STRING_TRUNCATION_MARK), "{version}");
    assert!(version.len() <= MAX_CLIENT_ATTRIBUTE_BYTES + crate::redact::STRING_TRUNCATION_MARK.len());
    assert!(version.trim_end_matches(crate::redact::STRING_TRUNCATION_MARK).chars().all(|c| c == 'é'));
    let id = text(server, "jsonrpc.request.id").unwrap();
    assert_eq!(id, format!("{}…", "a".repeat(MAX_CLIENT_ATTRIBUTE_BYTES)));
    // Ours and plain values stay as they are.
    assert_eq!(text(server, "mcp.session.id").as_deref(), Some("s-1"));
    assert_eq!(text(server, "mcp.protocol.version").as_deref(), Some("2025-06-18"));
    assert!(!all_text(&spans).contains("sk-live"));
}

#[test]
fn a_revision_asked_for_is_redacted_too() {
    let mut r = record();
    r.message("tools/list", Some(&crate::mcp::RequestId::Number(1.into())));
    r.revision_asked("Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl");
    let spans = build(&r, 5, 400);
    assert_eq!(text(&spans[0], "mcp.protocol.version").as_deref(), Some(REDACTED));
    r.revision_asked("2099-01-01");
    assert_eq!(text(&build(&r, 5, 400)[0], "mcp.protocol.version").as_deref(), Some("2099-01-01"));
}

#[test]
fn client_attributes_keep_plain_values_whole() {
    for plain in ["42", "claude-code", "1.2.3", "", "req-7f3a"] {
        assert_eq!(client_attribute(plain), plain);
    }
    assert_eq!(client_attribute("postgres://app:pw@db/x"), REDACTED);
}

/// A tool call that timed out, in `era`, its trace from `trace`.
fn a_call(trace: TraceContext, era: Era) -> RequestRecord {
    let mut r = RequestRecord::new("req-1".into(), 0, 1_000, trace);
    r.in_era(era);
    r.message("tools/call", Some(&crate::mcp::RequestId::Number(3.into())));
    r.session(
        "s-1".into(),
        ClientFacts { protocol_version: "2025-11-25".into(), name: Some("py".into()), version: None },
    );
    r.tool("word_count");
    let invocation = Invocation {
        span: r.trace.child(&[2; 8]),
        start_offset_ns: 10,
        end_offset_ns: 20,
        execution_ms: None,
        memory_bytes: None,
        reports: Default::default(),
    };
    let call = ToolCallRecord {
        component: "text-tools".into(),
        outcome: ToolOutcome::Timeout,
        invocation: Some(invocation),
        error: None,
    };
    r.tool_called(call, 0);
    let error = GatewayError::ToolFailed { tool: "word_count".into(), failure: ToolFailure::Timeout { after_ms: 5 } };
    r.failed_with(&error, &error.map(Answering { era, protocol_version: Some("2025-11-25") }));
    r
}

const HEADER: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

fn from_meta_and_header(meta_state: &str, header_state: &str) -> TraceContext {
    let meta =
        json!({"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "tracestate": meta_state});
    TraceContext::from_incoming(Some(HEADER), Some(header_state), Some(&meta), &[5; 24])
}

#[test]
fn every_attribute_is_one_the_list_names_for_its_span() {
    let mut records = vec![a_call(from_meta_and_header("m=1", "h=1"), Era::Handshake), record()];
    let mut refused = record();
    refused.message("nope/x", Some(&crate::mcp::RequestId::Number(1.into())));
    let error = GatewayError::MethodNotFound("x".into());
    refused.failed_with(&error, &error.map(Answering { era: Era::Handshake, protocol_version: None }));
    records.push(refused);
    let mut seen = std::collections::BTreeSet::new();
    for r in &records {
        let spans = build(r, 5, 200);
        for (span, on) in spans.iter().zip([semconv::On::Server, semconv::On::ToolCall]) {
            let keys = span.attributes.iter().map(|(k, _)| (k, on));
            let link_keys = span.links.iter().flat_map(|l| l.attributes.iter().map(|(k, _)| (k, semconv::On::Link)));
            for (key, on) in keys.chain(link_keys) {
                let listed = semconv::attribute(key).unwrap_or_else(|| panic!("{key} is not in semconv::ATTRIBUTES"));
                assert!(listed.on.contains(&on), "{key} on {on:?}");
                seen.insert(key.clone());
            }
        }
        let server = &spans[0];
        assert_eq!(text(server, semconv::NETWORK_TRANSPORT).as_deref(), Some("tcp"), "Streamable HTTP is TCP");
        assert_eq!(text(server, semconv::NETWORK_PROTOCOL_NAME).as_deref(), Some("http"));
    }
    // Every listed attribute is exercised here but the client's version.
    let unseen: Vec<_> = semconv::ATTRIBUTES.iter().map(|a| a.key).filter(|k| !seen.contains(*k)).collect();
    // (prompts and resources: a_relayed_prompt_or_resource_… below).
    assert_eq!(unseen, ["gen_ai.prompt.name", "mcp.resource.uri", "spinscope.client.version"]);
}

#[test]
fn a_tool_call_is_named_and_attributed_as_the_conventions_say() {
    let spans = build(&a_call(from_meta_and_header("m=1", "h=1"), Era::Handshake), 5, 200);
    let server = &spans[0];
    assert_eq!(server.name, "tools/call word_count");
    for (key, value) in [
        ("mcp.method.name", "tools/call"),
        ("mcp.protocol.version", "2025-11-25"),
        ("mcp.session.id", "s-1"),
        ("gen_ai.tool.name", "word_count"),
        ("gen_ai.operation.name", "execute_tool"),
        ("error.type", "tool_error"),
        ("jsonrpc.request.id", "3"),
        ("network.transport", "tcp"),
    ] {
        assert_eq!(text(server, key).as_deref(), Some(value), "{key}");
    }
    assert_eq!(spans[1].name, "execute_tool word_count");
}

#[test]
fn a_stateless_request_never_names_a_session() {
    let spans = build(&a_call(from_meta_and_header("m=1", "h=1"), Era::Modern), 5, 200);
    assert!(attr(&spans[0], semconv::MCP_SESSION_ID).is_none(), "2026-07-28 has no session");
    let spans = build(&a_call(from_meta_and_header("m=1", "h=1"), Era::Handshake), 5, 200);
    assert_eq!(text(&spans[0], semconv::MCP_SESSION_ID).as_deref(), Some("s-1"));
}

#[test]
fn the_parent_is_metas_the_header_is_linked_and_tracestate_exported() {
    let r = a_call(from_meta_and_header("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", "hdr=1"), Era::Handshake);
    assert_eq!(r.trace.source, Some(TraceSource::Meta));
    let spans = build(&r, 5, 200);
    let (server, client) = (&spans[0], &spans[1]);
    assert_eq!(crate::trace::hex(&server.trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(server.parent_span_id, Some([0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]));
    assert_eq!(server.trace_state.as_deref(), Some("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"));
    assert_eq!(client.trace_state, server.trace_state, "the tool span is in the same context");
    assert_eq!(server.links.len(), 1);
    let link = &server.links[0];
    assert_eq!(crate::trace::hex(&link.trace_id), "0af7651916cd43dd8448eb211c80319c");
    assert_eq!(crate::trace::hex(&link.span_id), "b7ad6b7169203331");
    assert_eq!(link.trace_state.as_deref(), Some("hdr=1"));
    assert_eq!(link.attributes, vec![("spinscope.link.source".to_string(), AttributeValue::Str("http_header".into()))]);
    assert!(client.links.is_empty());

    // One context only: nothing to link.
    let spans = build(&record(), 5, 200);
    assert!(spans[0].links.is_empty() && spans[0].trace_state.is_none());
}

#[test]
fn a_tracestate_with_a_secret_is_not_exported() {
    let secret = "vendor=Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl";
    assert!(crate::trace::TraceState::parse(secret).is_some(), "a valid tracestate");
    let r = a_call(from_meta_and_header(secret, secret), Era::Handshake);
    let spans = build(&r, 5, 200);
    assert!(spans.iter().all(|s| s.trace_state.is_none()));
    assert!(spans[0].links[0].trace_state.is_none());
    let json = crate::otlp::export_request("s", "1", &spans).to_string();
    assert!(!json.contains("eyJhbGci"), "{json}");
    for plain in ["rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", "dd=s:1;o:rum;t.dm:-0", "ot=th:8;rv:9b8f1a2c3d4e5f"] {
        assert_eq!(exported_tracestate(Some(plain)).as_deref(), Some(plain), "{plain}");
    }
}

#[test]
fn a_relayed_prompt_or_resource_is_on_the_server_span_redacted_and_capped() {
    let mut r = record();
    r.message("prompts/get", Some(&crate::mcp::RequestId::Number(1.into())));
    r.prompt("greet");
    assert_eq!(text(&build(&r, 5, 200)[0], "gen_ai.prompt.name").as_deref(), Some("greet"));
    let mut r = record();
    r.message("resources/read", Some(&crate::mcp::RequestId::Number(2.into())));
    r.resource(&format!("test://x/{}", "y".repeat(1_000)));
    let uri = text(&build(&r, 5, 200)[0], "mcp.resource.uri").unwrap();
    assert!(uri.starts_with("test://x/") && uri.len() < 600, "bounded: {uri}");
    let mut r = record();
    r.resource("https://example.com/?token=hunter2");
    assert!(!all_text(&build(&r, 5, 200)).contains("hunter2"), "redacted like every value the client wrote");
}
