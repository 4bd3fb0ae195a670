//! The always-on access log line.

use super::calendar::rfc3339_ms;
use super::escape::push_logfmt_value;
use std::fmt::Write as _;

/// The access log line, one per HTTP request, always on (wasmrun format):
/// `ts=… id=… method=POST path=/mcp status=200 dur_ms=1 tenant=-`.
/// Values are bare unless they need quoting (spaces, `=`, quotes, backslashes,
/// control characters, empty), so the line stays one parseable logfmt line.
/// A missing tenant is `-`.
pub fn access_line(
    ts_unix_ms: u64,
    request_id: &str,
    method: &str,
    path: &str,
    status: u16,
    dur_ms: u64,
    tenant: Option<&str>,
) -> String {
    let mut out = String::with_capacity(96);
    write!(out, "ts={} id=", rfc3339_ms(ts_unix_ms)).unwrap();
    push_logfmt_value(&mut out, request_id);
    out.push_str(" method=");
    push_logfmt_value(&mut out, method);
    out.push_str(" path=");
    push_logfmt_value(&mut out, path);
    write!(out, " status={status} dur_ms={dur_ms} tenant=").unwrap();
    push_logfmt_value(&mut out, tenant.unwrap_or("-"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use spinscope_testkit::logfmt::{logfmt_field, parse_logfmt};

    #[test]
    fn access_line_format() {
        let line = access_line(
            1_781_349_535_354,
            "d5aafbe6c56c32ec",
            "POST",
            "/mcp",
            200,
            1,
            None,
        );
        assert_eq!(
            line,
            "ts=2026-06-13T11:18:55.354Z id=d5aafbe6c56c32ec method=POST path=/mcp status=200 dur_ms=1 tenant=-"
        );
        let line = access_line(0, "r1", "GET", "/a b\"c\n?x=1", 404, 7, Some("acme"));
        assert_eq!(
            line,
            "ts=1970-01-01T00:00:00.000Z id=r1 method=GET path=\"/a b\\\"c\\n?x=1\" status=404 dur_ms=7 tenant=acme"
        );
        let fields = parse_logfmt(&line);
        assert_eq!(fields.len(), 7);
        assert_eq!(fields[3], ("path".into(), "/a b\"c\n?x=1".into()));
        assert_eq!(fields[6], ("tenant".into(), "acme".into()));
        assert_eq!(
            logfmt_field(&access_line(0, "", "GET", "/", 200, 0, Some("")), "id").as_deref(),
            Some("")
        );
    }
}
