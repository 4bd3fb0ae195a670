use super::*;
use crate::gateway::error::{Answering, GatewayError, ToolFailure};
use crate::gateway::record::{ClientFacts, Invocation, SessionsMoved, ToolCallRecord};
use crate::log::LogFormat;
use crate::mcp::modern::Era;
use crate::metrics::catalog::*;
use crate::metrics::series::ToolOutcome;
use crate::metrics::tool_metrics::report::{Increment, Reports};
use crate::metrics::tool_metrics::DropReason;
use crate::metrics::{Limits, Snapshot};
use crate::trace::TraceContext;

const NOW: u64 = 1_700_000_000_000;

fn record() -> RequestRecord {
    let trace = TraceContext::from_incoming(
        Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
        None,
        None,
        &[9; 24],
    );
    let mut r = RequestRecord::new("req-42".into(), 0, NOW, trace);
    r.http_method = "POST".into();
    r.request_bytes = 120;
    r
}

fn snapshot(r: &RequestRecord, status: u16) -> Snapshot {
    let answered = Answered { status, duration_s: 0.012, response_bytes: 300 };
    let mut s = Snapshot::new();
    s.apply(&r.to_recorder(&["text-tools".into()], answered, NOW), &Limits::default());
    s
}

fn tool_call(r: &mut RequestRecord, outcome: ToolOutcome) {
    r.message("tools/call", None);
    r.tool("word_count");
    let span = r.trace.child(&[1; 8]);
    let invocation = Invocation {
        span,
        start_offset_ns: 1_000_000,
        end_offset_ns: 6_000_000,
        execution_ms: Some(2.0),
        memory_bytes: Some(2 << 20),
        reports: Reports {
            increments: vec![Increment { series: "words_total value".into(), delta: 7 }],
            dropped: vec![(DropReason::Undeclared, 2)],
        },
    };
    r.tool_called(
        ToolCallRecord { component: "text-tools".into(), outcome, invocation: Some(invocation), error: None },
        0,
    );
}

#[test]
fn a_successful_call_lands_in_every_family() {
    let mut r = record();
    r.admitted(Some("acme".into()));
    r.session("s1".into(), ClientFacts { protocol_version: "2025-06-18".into(), ..ClientFacts::default() });
    tool_call(&mut r, ToolOutcome::Success);
    let s = snapshot(&r, 200);
    assert_eq!(s.counter(&HTTP_REQUESTS_TOTAL, &["/mcp", "POST", "200"]), 1);
    assert_eq!(s.counter(&MCP_REQUESTS_TOTAL, &["tools/call", "2025-06-18", "success"]), 1);
    assert_eq!(s.counter(&TOOL_CALLS_TOTAL, &["word_count", "text-tools", "success"]), 1);
    let h = s.histogram(&TOOL_CALL_DURATION_SECONDS, &["word_count", "text-tools"]).unwrap();
    assert_eq!(h.count, 1);
    let exec = s.histogram(&TOOL_EXECUTION_DURATION_SECONDS, &["word_count", "text-tools"]).unwrap();
    assert_eq!(exec.count, 1, "the tool's own time, as it said");
    assert_eq!(s.histogram(&COMPONENT_MEMORY_BYTES, &["text-tools"]).unwrap().count, 1);
    assert!(s.histogram(&COMPONENT_MEMORY_BYTES, &["gateway"]).is_none(), "not measured in this record");
    let own = ["text-tools", "word_count", "words_total value"];
    assert_eq!(s.counter(&TOOL_METRICS, &own), 7, "the tool's own metric, in the same record");
    assert_eq!(s.counter(&TOOL_METRIC_REPORTS_DROPPED_TOTAL, &["text-tools", "undeclared"]), 2);
    let tenant = &s.activity.tenants["acme"];
    assert_eq!((tenant.requests, tenant.tool_calls, tenant.errors), (1, 1, 0));
}

#[test]
fn a_tool_error_counts_at_the_tool_and_for_the_tenant() {
    let mut r = record();
    tool_call(&mut r, ToolOutcome::Error);
    let error = GatewayError::ToolFailed { tool: "word_count".into(), failure: ToolFailure::Reported };
    r.failed_with(&error, &error.map(Answering { era: Era::Modern, protocol_version: Some("2026-07-28") }));
    r.client(ClientFacts { protocol_version: "2026-07-28".into(), ..ClientFacts::default() });
    let s = snapshot(&r, 200);
    assert_eq!(s.counter(&TOOL_CALLS_TOTAL, &["word_count", "text-tools", "error"]), 1);
    assert_eq!(s.counter(&MCP_REQUESTS_TOTAL, &["tools/call", "2026-07-28", "tool_error"]), 1);
    assert_eq!(s.activity.tenants["-"].errors, 1);
}

#[test]
fn refused_arguments_are_a_tool_error_in_every_revision_without_a_duration() {
    for (version, era, outcome) in [
        ("2025-03-26", Era::Handshake, "error"),
        ("2025-11-25", Era::Handshake, "tool_error"),
        ("2026-07-28", Era::Modern, "tool_error"),
    ] {
        let mut r = record();
        r.message("tools/call", None);
        r.tool("word_count");
        r.client(ClientFacts { protocol_version: version.into(), ..ClientFacts::default() });
        let error = GatewayError::InvalidToolArguments {
            tool: "word_count".into(),
            component: "text-tools".into(),
            problem: "text: expected a string".into(),
        };
        r.failed_with(&error, &error.map(Answering { era, protocol_version: Some(version) }));
        let s = snapshot(&r, 200);
        assert_eq!(s.counter(&TOOL_CALLS_TOTAL, &["word_count", "text-tools", "error"]), 1, "{version}");
        assert!(s.histogram(&TOOL_CALL_DURATION_SECONDS, &["word_count", "text-tools"]).is_none(), "never ran");
        assert_eq!(s.counter(&MCP_REQUESTS_TOTAL, &["tools/call", version, outcome]), 1, "{version}");
        assert_eq!(s.activity.tenants["-"].errors, 1, "{version}");
        assert_eq!(s.activity.tenants["-"].tool_calls, 1, "{version}");
    }
}

#[test]
fn a_get_answered_405_is_no_error_anywhere() {
    let mut r = record();
    r.http_method = "GET".into();
    let error = GatewayError::MethodNotAllowed;
    r.failed_with(&error, &error.map(Answering { era: Era::Handshake, protocol_version: None }));
    let s = snapshot(&r, 405);
    assert_eq!(s.counter(&HTTP_REQUESTS_TOTAL, &["/mcp", "GET", "405"]), 1);
    assert_eq!(s.activity.tenants["-"].errors, 0);
    assert_eq!(s.activity.tenants["-"].requests, 1);
    assert!(s.series(&MCP_REQUESTS_TOTAL).next().is_none(), "no JSON-RPC message, no operation");
}

#[test]
fn a_keyless_refusal_is_counted_as_rejected_without_a_note() {
    let mut r = record();
    let error = GatewayError::Unauthorized { missing: true };
    r.failed_with(&error, &error.map(Answering { era: Era::Handshake, protocol_version: None }));
    let s = snapshot(&r, 401);
    assert_eq!(s.counter(&REJECTED_TOTAL, &["missing_key"]), 1);
    assert!(s.activity.tenants.is_empty(), "refusals leave no activity");
}

#[test]
fn sessions_and_discovery_failures() {
    let mut r = record();
    r.sessions_moved(SessionsMoved { created: 1, ended: 2 });
    r.discovery_failed(["text-tools".to_string(), "ghost".to_string()]);
    r.trace_export_failed();
    let s = snapshot(&r, 200);
    assert_eq!(s.counter(&SESSIONS_CREATED_TOTAL, &[]), 1);
    assert_eq!(s.gauge(&SESSIONS_ACTIVE, &[]), -1);
    assert_eq!(s.counter(&TOOL_DISCOVERY_FAILURES_TOTAL, &["text-tools"]), 1);
    assert_eq!(s.counter(&TOOL_DISCOVERY_FAILURES_TOTAL, &["_other"]), 1, "bounded to the configured components");
    assert_eq!(s.counter(&TRACE_EXPORT_FAILURES_TOTAL, &[]), 1);
}

#[test]
fn the_access_line_exactly() {
    let mut r = record();
    r.admitted(Some("acme".into()));
    let answered = Answered { status: 200, duration_s: 0.0126, response_bytes: 0 };
    let line = r.access_line(answered, NOW, LogFormat::Logfmt);
    let span = r.trace.span_id_hex();
    assert_eq!(
        line,
        format!(
            "ts=2023-11-14T22:13:20.000Z id=req-42 method=POST path=/mcp status=200 dur_ms=13 tenant=acme \
             trace_id=0af7651916cd43dd8448eb211c80319c span_id={span}"
        )
    );
}

#[test]
fn the_access_line_in_json_has_the_same_fields() {
    let r = record();
    let answered = Answered { status: 401, duration_s: 0.002, response_bytes: 0 };
    let line = r.access_line(answered, NOW, LogFormat::Json);
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["ts"], "2023-11-14T22:13:20.000Z");
    assert_eq!((v["id"].as_str(), v["status"].as_u64(), v["tenant"].as_str()), (Some("req-42"), Some(401), Some("-")));
    assert_eq!(v["trace_id"], "0af7651916cd43dd8448eb211c80319c");
    let logfmt = r.access_line(answered, NOW, LogFormat::Logfmt);
    let keys: Vec<String> = spinscope_testkit::logfmt::parse_logfmt(&logfmt).into_iter().map(|(k, _)| k).collect();
    let json_keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), json_keys.len());
    assert!(keys.iter().all(|k| v.get(k).is_some()), "{keys:?} vs {json_keys:?}");
}
