//! The always-on access log line.

use super::calendar::rfc3339_ms;
use super::escape::push_logfmt_value;
use super::level::LogFormat;
use std::fmt::Write as _;

/// One HTTP request, as the access line tells it.
#[derive(Debug, Clone, Copy)]
pub struct Access<'a> {
    /// When the response was sent, unix ms.
    pub ts_unix_ms: u64,
    /// The request id (`X-Request-Id`).
    pub request_id: &'a str,
    /// HTTP method.
    pub method: &'a str,
    /// The route.
    pub path: &'a str,
    /// Response status.
    pub status: u16,
    /// From the first byte to the response, in ms.
    pub dur_ms: u64,
    /// The tenant, `None` in open mode or when refused.
    pub tenant: Option<&'a str>,
    /// The trace and span ids of the request's server span, hex.
    pub trace_id: &'a str,
    /// See `trace_id`.
    pub span_id: &'a str,
}

/// The access log line, one per HTTP request, always on (wasmrun's format
/// plus the trace context, like every other line):
/// `ts=… id=… method=POST path=/mcp status=200 dur_ms=1 tenant=- trace_id=… span_id=…`.
/// Values are bare unless they need quoting (spaces, `=`, quotes, backslashes,
/// control characters, empty), so the line stays one parseable logfmt line.
/// A missing tenant is `-`.
pub fn access_line(a: &Access<'_>) -> String {
    let mut out = String::with_capacity(160);
    write!(out, "ts={} id=", rfc3339_ms(a.ts_unix_ms)).unwrap();
    push_logfmt_value(&mut out, a.request_id);
    out.push_str(" method=");
    push_logfmt_value(&mut out, a.method);
    out.push_str(" path=");
    push_logfmt_value(&mut out, a.path);
    write!(out, " status={} dur_ms={} tenant=", a.status, a.dur_ms).unwrap();
    push_logfmt_value(&mut out, a.tenant.unwrap_or("-"));
    out.push_str(" trace_id=");
    push_logfmt_value(&mut out, a.trace_id);
    out.push_str(" span_id=");
    push_logfmt_value(&mut out, a.span_id);
    out
}

/// The access line in the app's `log_format`: under `json` it is one JSON
/// object with the same keys, so a log read with `jq` parses line by line.
pub fn access_line_as(a: &Access<'_>, format: LogFormat) -> String {
    match format {
        LogFormat::Logfmt => access_line(a),
        LogFormat::Json => serde_json::json!({
            "ts": rfc3339_ms(a.ts_unix_ms),
            "id": a.request_id,
            "method": a.method,
            "path": a.path,
            "status": a.status,
            "dur_ms": a.dur_ms,
            "tenant": a.tenant.unwrap_or("-"),
            "trace_id": a.trace_id,
            "span_id": a.span_id,
        })
        .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spinscope_testkit::logfmt::{logfmt_field, parse_logfmt};

    #[test]
    fn access_line_format() {
        let access = Access {
            ts_unix_ms: 1_781_349_535_354,
            request_id: "d5aafbe6c56c32ec",
            method: "POST",
            path: "/mcp",
            status: 200,
            dur_ms: 1,
            tenant: None,
            trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
            span_id: "00f067aa0ba902b7",
        };
        assert_eq!(
            access_line(&access),
            "ts=2026-06-13T11:18:55.354Z id=d5aafbe6c56c32ec method=POST path=/mcp status=200 dur_ms=1 tenant=- \
             trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7"
        );
        let odd = Access {
            ts_unix_ms: 0,
            request_id: "r1",
            method: "GET",
            path: "/a b\"c\n?x=1",
            status: 404,
            dur_ms: 7,
            tenant: Some("acme"),
            ..access
        };
        let line = access_line(&odd);
        assert!(line.starts_with(
            "ts=1970-01-01T00:00:00.000Z id=r1 method=GET path=\"/a b\\\"c\\n?x=1\" status=404 dur_ms=7 tenant=acme trace_id="
        ));
        let fields = parse_logfmt(&line);
        assert_eq!(fields.len(), 9);
        assert_eq!(fields[3], ("path".into(), "/a b\"c\n?x=1".into()));
        assert_eq!(fields[6], ("tenant".into(), "acme".into()));
        assert_eq!(
            logfmt_field(&access_line(&Access { request_id: "", tenant: Some(""), ..odd }), "id").as_deref(),
            Some("")
        );
    }
}
