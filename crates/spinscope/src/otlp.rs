//! OpenTelemetry spans for the MCP view of a request, encoded as OTLP/HTTP
//! JSON (`POST /v1/traces`, `application/json`).
//!
//! JSON rather than protobuf: every collector's OTLP/HTTP receiver takes
//! both, JSON needs no protobuf code in a small Wasm component, and a test
//! (or an operator with `tcpdump`) can read it. IDs are hex strings, as the
//! OTLP JSON mapping requires.
//!
//! Spin already exports its own spans (HTTP, component execution, outbound
//! requests) when `OTEL_EXPORTER_OTLP_ENDPOINT` is set; these add only what
//! Spin cannot know, named and attributed after the OpenTelemetry MCP
//! semantic conventions.

use crate::trace::hex;
use serde_json::{json, Value};

/// Span kinds of the OTLP data model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanKind {
    /// Work inside the gateway.
    Internal = 1,
    /// The handling of an incoming request.
    Server = 2,
    /// An outgoing call (to a tool component).
    Client = 3,
}

#[derive(Debug, Clone, PartialEq)]
/// The value of a span attribute.
pub enum AttributeValue {
    /// `stringValue`.
    Str(String),
    /// `intValue`.
    Int(i64),
}

/// A link from a span to a span of another context (OTLP `links`).
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// The linked span's trace.
    pub trace_id: [u8; 16],
    /// The linked span.
    pub span_id: [u8; 8],
    /// The `tracestate` that came with it (OTLP `traceState`).
    pub trace_state: Option<String>,
    /// What the link is, e.g. where its context was carried.
    pub attributes: Vec<(String, AttributeValue)>,
}

#[derive(Debug, Clone)]
/// One finished span, to be exported.
pub struct Span {
    /// The trace it belongs to.
    pub trace_id: [u8; 16],
    /// Its own id.
    pub span_id: [u8; 8],
    /// The span it is a child of; `None` for a root span.
    pub parent_span_id: Option<[u8; 8]>,
    /// The span name, e.g. `tools/call word_count`.
    pub name: String,
    /// Server, client or internal.
    pub kind: SpanKind,
    /// Start, in unix nanoseconds.
    pub start_unix_nanos: u64,
    /// End, in unix nanoseconds.
    pub end_unix_nanos: u64,
    /// Attributes, in the order added.
    pub attributes: Vec<(String, AttributeValue)>,
    /// `Some(message)` marks the span as an error.
    pub error: Option<String>,
    /// The W3C `tracestate` of its context (OTLP `traceState`).
    pub trace_state: Option<String>,
    /// Spans of other contexts this one is tied to.
    pub links: Vec<Link>,
}

fn attributes_json(attributes: &[(String, AttributeValue)]) -> Vec<Value> {
    attributes
        .iter()
        .map(|(k, v)| match v {
            AttributeValue::Str(s) => json!({"key": k, "value": {"stringValue": s}}),
            // OTLP JSON carries 64-bit integers as strings.
            AttributeValue::Int(i) => json!({"key": k, "value": {"intValue": i.to_string()}}),
        })
        .collect()
}

impl Span {
    /// Adds a string attribute (builder style).
    pub fn attr(mut self, key: &str, value: impl Into<String>) -> Self {
        self.attributes.push((key.to_string(), AttributeValue::Str(value.into())));
        self
    }

    /// Adds an integer attribute (builder style).
    pub fn attr_int(mut self, key: &str, value: i64) -> Self {
        self.attributes.push((key.to_string(), AttributeValue::Int(value)));
        self
    }

    fn to_json(&self) -> Value {
        let attributes = attributes_json(&self.attributes);
        let mut span = json!({
            "traceId": hex(&self.trace_id),
            "spanId": hex(&self.span_id),
            "name": self.name,
            "kind": self.kind as i32,
            "startTimeUnixNano": self.start_unix_nanos.to_string(),
            "endTimeUnixNano": self.end_unix_nanos.to_string(),
            "attributes": attributes,
            "status": match &self.error {
                Some(message) => json!({"code": 2, "message": message}),
                None => json!({"code": 0}),
            },
        });
        if let Some(parent) = self.parent_span_id {
            span["parentSpanId"] = json!(hex(&parent));
        }
        if let Some(state) = &self.trace_state {
            span["traceState"] = json!(state);
        }
        if !self.links.is_empty() {
            let links: Vec<Value> = self
                .links
                .iter()
                .map(|l| {
                    let mut link = json!({
                        "traceId": hex(&l.trace_id),
                        "spanId": hex(&l.span_id),
                        "attributes": attributes_json(&l.attributes),
                    });
                    if let Some(state) = &l.trace_state {
                        link["traceState"] = json!(state);
                    }
                    link
                })
                .collect();
            span["links"] = json!(links);
        }
        span
    }
}

/// One `ExportTraceServiceRequest` with all `spans` of `service_name`.
pub fn export_request(service_name: &str, service_version: &str, spans: &[Span]) -> Value {
    json!({
        "resourceSpans": [{
            "resource": {"attributes": [
                {"key": "service.name", "value": {"stringValue": service_name}},
                {"key": "service.version", "value": {"stringValue": service_version}},
            ]},
            "scopeSpans": [{
                "scope": {"name": "spinscope", "version": service_version},
                "spans": spans.iter().map(Span::to_json).collect::<Vec<_>>(),
            }],
        }],
    })
}

/// Whether to record a trace: a parent's decision is honoured; a new trace
/// is kept with probability `ratio`, decided from its (random) trace id so
/// every service deciding the same way agrees.
pub fn sampled(parent_sampled: Option<bool>, trace_id: &[u8; 16], ratio: f64) -> bool {
    if let Some(decision) = parent_sampled {
        return decision;
    }
    if ratio >= 1.0 {
        return true;
    }
    if ratio <= 0.0 {
        return false;
    }
    let low = u64::from_be_bytes(trace_id[8..].try_into().expect("8 bytes"));
    (low as f64) < ratio * (u64::MAX as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_otlp_json() {
        let span = Span {
            trace_id: [0xab; 16],
            span_id: [1; 8],
            parent_span_id: Some([2; 8]),
            name: "tools/call word_count".into(),
            kind: SpanKind::Server,
            start_unix_nanos: 10,
            end_unix_nanos: 20,
            attributes: vec![],
            error: Some("boom".into()),
            trace_state: Some("rojo=00f067aa0ba902b7".into()),
            links: vec![Link {
                trace_id: [0xcd; 16],
                span_id: [3; 8],
                trace_state: None,
                attributes: vec![("spinscope.link.source".into(), AttributeValue::Str("http_header".into()))],
            }],
        }
        .attr("mcp.method.name", "tools/call")
        .attr_int("rpc.response.status_code", -32602);
        let req = export_request("spinscope", "1", &[span]);
        let s = &req["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
        assert_eq!(s["traceId"], "abababababababababababababababab");
        assert_eq!(s["parentSpanId"], "0202020202020202");
        assert_eq!(s["kind"], 2);
        assert_eq!(s["startTimeUnixNano"], "10");
        assert_eq!(s["status"]["code"], 2);
        assert_eq!(s["attributes"][1]["value"]["intValue"], "-32602");
        assert_eq!(req["resourceSpans"][0]["resource"]["attributes"][0]["value"]["stringValue"], "spinscope");
        assert_eq!(s["traceState"], "rojo=00f067aa0ba902b7");
        assert_eq!(s["links"][0]["traceId"], "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd");
        assert_eq!(s["links"][0]["spanId"], "0303030303030303");
        assert!(s["links"][0].get("traceState").is_none());
        assert_eq!(s["links"][0]["attributes"][0]["value"]["stringValue"], "http_header");
    }

    #[test]
    fn a_span_without_state_or_links_has_neither_field() {
        let span = Span {
            trace_id: [1; 16],
            span_id: [1; 8],
            parent_span_id: None,
            name: "ping".into(),
            kind: SpanKind::Server,
            start_unix_nanos: 1,
            end_unix_nanos: 2,
            attributes: vec![],
            error: None,
            trace_state: None,
            links: vec![],
        };
        let req = export_request("spinscope", "1", &[span]);
        let s = &req["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
        assert!(s.get("traceState").is_none() && s.get("links").is_none() && s.get("parentSpanId").is_none());
    }

    #[test]
    fn sampling_honours_the_parent_and_the_ratio() {
        assert!(sampled(Some(true), &[0; 16], 0.0));
        assert!(!sampled(Some(false), &[0; 16], 1.0));
        assert!(sampled(None, &[0xff; 16], 1.0));
        assert!(!sampled(None, &[0; 16], 0.0));
        assert!(sampled(None, &[0; 16], 0.5));
        assert!(!sampled(None, &[0xff; 16], 0.5));
    }
}
