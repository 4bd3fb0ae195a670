use super::*;
use crate::gateway::error::{Answering, GatewayError, ToolFailure};
use crate::gateway::record::{ClientFacts, Invocation, ToolCallRecord};
use crate::mcp::modern::Era;
use crate::otlp::AttributeValue;
use crate::redact::REDACTED;
use crate::trace::TraceContext;

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
    assert!(matches!(attr(&spans[0], "rpc.response.status_code"), Some(AttributeValue::Int(-32601))));
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
