//! `wasi:http` error codes, told as their WIT names.

use wasi::http::types::{self, ErrorCode};
use wasi::io::streams::StreamError;

pub(super) fn is_timeout(code: &ErrorCode) -> bool {
    matches!(code, ErrorCode::ConnectionTimeout | ErrorCode::ConnectionReadTimeout | ErrorCode::HttpResponseTimeout)
}

/// A stream error, with the `wasi:http` error code behind it when there is one.
pub(super) fn stream_error(e: StreamError) -> String {
    match e {
        StreamError::Closed => "stream closed".into(),
        StreamError::LastOperationFailed(err) => match types::http_error_code(&err) {
            Some(code) => describe(&code),
            None => err.to_debug_string(),
        },
    }
}

/// A `wasi:http` error code as its WIT name, plus its payload when it says something.
pub(super) fn describe(code: &ErrorCode) -> String {
    use ErrorCode as E;
    let size = |n: Option<u64>| n.map(|n| n.to_string());
    let field = |p: &types::FieldSizePayload| match (&p.field_name, p.field_size) {
        (Some(name), Some(n)) => Some(format!("{name}: {n}")),
        (Some(name), None) => Some(name.clone()),
        (None, n) => size(n.map(u64::from)),
    };
    let (name, detail) = match code {
        E::DnsTimeout => ("dns-timeout", None),
        E::DnsError(p) => ("dns-error", p.rcode.clone()),
        E::DestinationNotFound => ("destination-not-found", None),
        E::DestinationUnavailable => ("destination-unavailable", None),
        E::DestinationIpProhibited => ("destination-ip-prohibited", None),
        E::DestinationIpUnroutable => ("destination-ip-unroutable", None),
        E::ConnectionRefused => ("connection-refused", None),
        E::ConnectionTerminated => ("connection-terminated", None),
        E::ConnectionTimeout => ("connection-timeout", None),
        E::ConnectionReadTimeout => ("connection-read-timeout", None),
        E::ConnectionWriteTimeout => ("connection-write-timeout", None),
        E::ConnectionLimitReached => ("connection-limit-reached", None),
        E::TlsProtocolError => ("tls-protocol-error", None),
        E::TlsCertificateError => ("tls-certificate-error", None),
        E::TlsAlertReceived(p) => ("tls-alert-received", p.alert_message.clone()),
        E::HttpRequestDenied => ("http-request-denied", None),
        E::HttpRequestLengthRequired => ("http-request-length-required", None),
        E::HttpRequestBodySize(n) => ("http-request-body-size", size(*n)),
        E::HttpRequestMethodInvalid => ("http-request-method-invalid", None),
        E::HttpRequestUriInvalid => ("http-request-uri-invalid", None),
        E::HttpRequestUriTooLong => ("http-request-uri-too-long", None),
        E::HttpRequestHeaderSectionSize(n) => ("http-request-header-section-size", size(n.map(u64::from))),
        E::HttpRequestHeaderSize(p) => ("http-request-header-size", p.as_ref().and_then(field)),
        E::HttpRequestTrailerSectionSize(n) => ("http-request-trailer-section-size", size(n.map(u64::from))),
        E::HttpRequestTrailerSize(p) => ("http-request-trailer-size", field(p)),
        E::HttpResponseIncomplete => ("http-response-incomplete", None),
        E::HttpResponseHeaderSectionSize(n) => ("http-response-header-section-size", size(n.map(u64::from))),
        E::HttpResponseHeaderSize(p) => ("http-response-header-size", field(p)),
        E::HttpResponseBodySize(n) => ("http-response-body-size", size(*n)),
        E::HttpResponseTrailerSectionSize(n) => ("http-response-trailer-section-size", size(n.map(u64::from))),
        E::HttpResponseTrailerSize(p) => ("http-response-trailer-size", field(p)),
        E::HttpResponseTransferCoding(c) => ("http-response-transfer-coding", c.clone()),
        E::HttpResponseContentCoding(c) => ("http-response-content-coding", c.clone()),
        E::HttpResponseTimeout => ("http-response-timeout", None),
        E::HttpUpgradeFailed => ("http-upgrade-failed", None),
        E::HttpProtocolError => ("http-protocol-error", None),
        E::LoopDetected => ("loop-detected", None),
        E::ConfigurationError => ("configuration-error", None),
        E::InternalError(msg) => ("internal-error", msg.clone()),
    };
    match detail {
        Some(detail) => format!("{name} ({detail})"),
        None => name.to_owned(),
    }
}
