use super::*;
use crate::mcp::modern;
use crate::mcp::modern::Era;
use crate::mcp::{self, RequestId, RpcError};

const HANDSHAKE: Answering<'static> = Answering { era: Era::Handshake, protocol_version: Some("2025-06-18") };
const LATE_HANDSHAKE: Answering<'static> = Answering { era: Era::Handshake, protocol_version: Some("2025-11-25") };
const MODERN: Answering<'static> = Answering { era: Era::Modern, protocol_version: Some("2026-07-28") };

fn rpc(code: i64) -> Option<ErrorType> {
    Some(ErrorType::Rpc(code))
}

/// Every variant: (error, where answered, status, answer, rejected, error.type, is_error, level).
#[allow(clippy::type_complexity)]
fn table() -> Vec<(GatewayError, Answering<'static>, u16, Answer, Option<RejectReason>, Option<ErrorType>, bool, Level)>
{
    use GatewayError::*;
    let tool_failed = |failure| ToolFailed { tool: "t".into(), failure };
    let args = || InvalidToolArguments { tool: "t".into(), component: "c".into(), problem: "p".into() };
    let internal = mcp::INTERNAL_ERROR;
    vec![
        (
            Misconfigured { public: "p".into(), detail: "d".into() },
            HANDSHAKE,
            503,
            Answer::Rpc(internal),
            None,
            rpc(internal),
            true,
            Level::Error,
        ),
        (
            Unauthorized { missing: true },
            HANDSHAKE,
            401,
            Answer::Rpc(-32600),
            Some(RejectReason::MissingKey),
            rpc(-32600),
            true,
            Level::Warn,
        ),
        (
            TokenRefused { reason: "expired".into(), challenge: "Bearer x".into(), presented: true },
            MODERN,
            401,
            Answer::Rpc(-32600),
            Some(RejectReason::InvalidToken),
            rpc(-32600),
            true,
            Level::Warn,
        ),
        (
            TokenRefused { reason: "none".into(), challenge: "Bearer x".into(), presented: false },
            HANDSHAKE,
            401,
            Answer::Rpc(-32600),
            Some(RejectReason::MissingKey),
            rpc(-32600),
            true,
            Level::Warn,
        ),
        (
            InsufficientScope { scope: "tools.write".into(), challenge: "Bearer x".into() },
            HANDSHAKE,
            403,
            Answer::Rpc(-32600),
            Some(RejectReason::InsufficientScope),
            rpc(-32600),
            true,
            Level::Warn,
        ),
        (
            OriginRefused { origin: "o".into() },
            MODERN,
            403,
            Answer::Rpc(-32600),
            Some(RejectReason::Origin),
            rpc(-32600),
            true,
            Level::Warn,
        ),
        (
            OverConcurrency { max: 3 },
            HANDSHAKE,
            429,
            Answer::Rpc(internal),
            Some(RejectReason::Concurrency),
            rpc(internal),
            true,
            Level::Debug,
        ),
        (
            RateLimited { per_minute: 60, retry_after_secs: 2 },
            HANDSHAKE,
            429,
            Answer::Rpc(internal),
            Some(RejectReason::RateLimit),
            rpc(internal),
            true,
            Level::Debug,
        ),
        (
            LimitUnchecked { limit: "Rate", cause: "c".into() },
            HANDSHAKE,
            503,
            Answer::Rpc(internal),
            None,
            rpc(internal),
            true,
            Level::Error,
        ),
        (
            KeysUnavailable { cause: "c".into() },
            HANDSHAKE,
            503,
            Answer::Rpc(internal),
            None,
            rpc(internal),
            true,
            Level::Error,
        ),
        (
            PayloadTooLarge { max: 10 },
            HANDSHAKE,
            413,
            Answer::Rpc(-32600),
            Some(RejectReason::Payload),
            rpc(-32600),
            true,
            Level::Debug,
        ),
        // A body not declared JSON: refused unread, a client error but no limit.
        (
            UnsupportedMediaType { content_type: "text/plain".into() },
            HANDSHAKE,
            415,
            Answer::Rpc(-32600),
            None,
            rpc(-32600),
            true,
            Level::Debug,
        ),
        (
            UnsupportedMediaType { content_type: String::new() },
            MODERN,
            415,
            Answer::Rpc(-32600),
            None,
            rpc(-32600),
            true,
            Level::Debug,
        ),
        (BodyUnreadable("x".into()), HANDSHAKE, 400, Answer::Rpc(-32700), None, rpc(-32700), true, Level::Debug),
        (ParseError("x".into()), MODERN, 400, Answer::Rpc(-32700), None, rpc(-32700), true, Level::Debug),
        (InvalidRequest("x".into()), HANDSHAKE, 400, Answer::Rpc(-32600), None, rpc(-32600), true, Level::Debug),
        (UnexpectedResponse, MODERN, 400, Answer::Rpc(-32600), None, rpc(-32600), true, Level::Debug),
        (
            UnsupportedRevision { requested: "2099-01-01".into() },
            MODERN,
            400,
            Answer::Rpc(-32022),
            None,
            rpc(-32022),
            true,
            Level::Debug,
        ),
        (HeaderMismatch("x".into()), MODERN, 400, Answer::Rpc(-32020), None, rpc(-32020), true, Level::Debug),
        (MethodNotFound("x".into()), HANDSHAKE, 200, Answer::Rpc(-32601), None, rpc(-32601), true, Level::Debug),
        (MethodNotFound("x".into()), MODERN, 404, Answer::Rpc(-32601), None, rpc(-32601), true, Level::Debug),
        (InvalidParams("x".into()), HANDSHAKE, 200, Answer::Rpc(-32602), None, rpc(-32602), true, Level::Debug),
        (InvalidParams("x".into()), MODERN, 400, Answer::Rpc(-32602), None, rpc(-32602), true, Level::Debug),
        (MissingSession, HANDSHAKE, 400, Answer::Rpc(-32600), None, rpc(-32600), true, Level::Debug),
        (
            UnknownSession,
            HANDSHAKE,
            404,
            Answer::Rpc(SESSION_NOT_FOUND),
            None,
            rpc(SESSION_NOT_FOUND),
            true,
            Level::Debug,
        ),
        (
            SessionExpired { ended_here: true },
            HANDSHAKE,
            404,
            Answer::Rpc(SESSION_NOT_FOUND),
            None,
            rpc(SESSION_NOT_FOUND),
            true,
            Level::Debug,
        ),
        (
            TooManySessions { max: 2, swept: 0 },
            HANDSHAKE,
            429,
            Answer::Rpc(internal),
            Some(RejectReason::Sessions),
            rpc(internal),
            true,
            Level::Debug,
        ),
        (
            TooManyClientSessions { max: 2, swept: 1 },
            HANDSHAKE,
            429,
            Answer::Rpc(internal),
            Some(RejectReason::Sessions),
            rpc(internal),
            true,
            Level::Debug,
        ),
        (BodyTooSlow { after_ms: 10_000 }, HANDSHAKE, 408, Answer::Rpc(-32600), None, rpc(-32600), true, Level::Debug),
        (
            StoreUnavailable { cause: "c".into() },
            HANDSHAKE,
            503,
            Answer::Rpc(internal),
            None,
            rpc(internal),
            true,
            Level::Error,
        ),
        (
            AuditUnavailable { cause: "c".into() },
            HANDSHAKE,
            503,
            Answer::Rpc(internal),
            None,
            rpc(internal),
            true,
            Level::Error,
        ),
        (UnknownTool { name: "x".into() }, HANDSHAKE, 200, Answer::Rpc(-32602), None, rpc(-32602), true, Level::Debug),
        (UnknownTool { name: "x".into() }, MODERN, 400, Answer::Rpc(-32602), None, rpc(-32602), true, Level::Debug),
        // SEP-1303: a tool error from 2025-11-25 on, a JSON-RPC error before.
        (args(), HANDSHAKE, 200, Answer::Rpc(-32602), None, rpc(-32602), true, Level::Warn),
        (args(), LATE_HANDSHAKE, 200, Answer::ToolError, None, Some(ErrorType::ToolError), true, Level::Warn),
        (args(), MODERN, 200, Answer::ToolError, None, Some(ErrorType::ToolError), true, Level::Warn),
        (
            tool_failed(ToolFailure::Timeout { after_ms: 5 }),
            MODERN,
            200,
            Answer::ToolError,
            None,
            Some(ErrorType::ToolError),
            true,
            Level::Error,
        ),
        (
            tool_failed(ToolFailure::Reported),
            HANDSHAKE,
            200,
            Answer::ToolError,
            None,
            Some(ErrorType::ToolError),
            true,
            Level::Error,
        ),
        (
            tool_failed(ToolFailure::CircuitOpen { retry_after_s: 30 }),
            MODERN,
            200,
            Answer::ToolError,
            None,
            Some(ErrorType::CircuitOpen),
            true,
            Level::Warn,
        ),
        (
            tool_failed(ToolFailure::Status { status: 500 }),
            HANDSHAKE,
            200,
            Answer::ToolError,
            None,
            Some(ErrorType::ToolError),
            true,
            Level::Error,
        ),
        // Prompts, resources and completions served by components.
        (
            UnknownResource { uri: "test://x".into() },
            MODERN,
            400,
            Answer::Rpc(-32602),
            None,
            rpc(-32602),
            true,
            Level::Debug,
        ),
        (
            ComponentRpcError { component: "c".into(), code: -32021, message: "m".into(), data: None },
            MODERN,
            400,
            Answer::Rpc(-32021),
            None,
            rpc(-32021),
            true,
            Level::Debug,
        ),
        (
            ComponentFailed { component: "c".into(), reason: "r".into() },
            HANDSHAKE,
            200,
            Answer::Rpc(-32603),
            None,
            rpc(-32603),
            true,
            Level::Error,
        ),
        (
            ClientLacksCapability { required: vec!["sampling".into()] },
            HANDSHAKE,
            200,
            Answer::Rpc(-32021),
            None,
            rpc(-32021),
            true,
            Level::Debug,
        ),
        (
            ClientInputFailed { reason: "r".into() },
            HANDSHAKE,
            200,
            Answer::Rpc(-32603),
            None,
            rpc(-32603),
            true,
            Level::Warn,
        ),
        // The event stream this server does not offer: no error anywhere.
        (MethodNotAllowed, HANDSHAKE, 405, Answer::Rpc(-32600), None, None, false, Level::Debug),
    ]
}

#[test]
fn every_variant_maps_to_one_status_code_count_and_level() {
    for (error, at, status, answer, rejected, error_type, is_error, level) in table() {
        let m = error.map(at);
        let expected = Mapping { status, answer, rejected, error_type, is_error, level };
        assert_eq!(m, expected, "{error:?} answered in {at:?}");
    }
}

/// The variant's name; a new variant breaks this match until it is named
/// here, and then the test below until it is in the table.
fn variant(e: &GatewayError) -> &'static str {
    use GatewayError::*;
    match e {
        Misconfigured { .. } => "Misconfigured",
        Unauthorized { .. } => "Unauthorized",
        OriginRefused { .. } => "OriginRefused",
        TokenRefused { .. } => "TokenRefused",
        InsufficientScope { .. } => "InsufficientScope",
        OverConcurrency { .. } => "OverConcurrency",
        RateLimited { .. } => "RateLimited",
        LimitUnchecked { .. } => "LimitUnchecked",
        KeysUnavailable { .. } => "KeysUnavailable",
        PayloadTooLarge { .. } => "PayloadTooLarge",
        UnsupportedMediaType { .. } => "UnsupportedMediaType",
        BodyUnreadable(_) => "BodyUnreadable",
        ParseError(_) => "ParseError",
        InvalidRequest(_) => "InvalidRequest",
        UnexpectedResponse => "UnexpectedResponse",
        UnsupportedRevision { .. } => "UnsupportedRevision",
        HeaderMismatch(_) => "HeaderMismatch",
        MethodNotFound(_) => "MethodNotFound",
        InvalidParams(_) => "InvalidParams",
        MissingSession => "MissingSession",
        UnknownSession => "UnknownSession",
        SessionExpired { .. } => "SessionExpired",
        TooManySessions { .. } => "TooManySessions",
        TooManyClientSessions { .. } => "TooManyClientSessions",
        BodyTooSlow { .. } => "BodyTooSlow",
        StoreUnavailable { .. } => "StoreUnavailable",
        AuditUnavailable { .. } => "AuditUnavailable",
        UnknownTool { .. } => "UnknownTool",
        InvalidToolArguments { .. } => "InvalidToolArguments",
        ToolFailed { .. } => "ToolFailed",
        UnknownResource { .. } => "UnknownResource",
        ComponentRpcError { .. } => "ComponentRpcError",
        ComponentFailed { .. } => "ComponentFailed",
        ClientLacksCapability { .. } => "ClientLacksCapability",
        ClientInputFailed { .. } => "ClientInputFailed",
        MethodNotAllowed => "MethodNotAllowed",
    }
}

#[test]
fn the_table_covers_every_variant() {
    let names: std::collections::BTreeSet<&str> = table().iter().map(|(e, ..)| variant(e)).collect();
    assert_eq!(names.len(), 36, "{names:?}");
}

#[test]
fn an_unsupported_revision_names_the_supported_ones() {
    let error = GatewayError::UnsupportedRevision { requested: "2099-01-01".into() };
    let reply = error.to_reply(Some(&RequestId::Number(7.into())), MODERN);
    assert_eq!(reply.status, 400);
    let body: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(body["id"], 7);
    assert_eq!(body["error"]["code"], -32022);
    let supported = body["error"]["data"]["supported"].as_array().unwrap();
    assert!(supported.iter().any(|v| v == "2026-07-28") && supported.iter().any(|v| v == "2025-03-26"));
    assert_eq!(body["error"]["data"]["requested"], "2099-01-01");
}

#[test]
fn an_unsupported_media_type_says_what_is_required() {
    let error = GatewayError::UnsupportedMediaType { content_type: "text/plain".into() };
    let reply = error.to_reply(None, HANDSHAKE);
    assert_eq!(reply.status, 415);
    let body: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!((body["id"].clone(), body["error"]["code"].clone()), (serde_json::Value::Null, (-32600).into()));
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("application/json") && message.contains("text/plain"), "{message}");
    let none = GatewayError::UnsupportedMediaType { content_type: String::new() }.to_string();
    assert!(none.contains("none was sent"), "{none}");
}

#[test]
fn refusals_carry_their_headers() {
    let reply = GatewayError::Unauthorized { missing: false }.to_reply(None, HANDSHAKE);
    assert_eq!(reply.header("www-authenticate"), Some("Bearer realm=\"spinscope\""));
    let limited = GatewayError::RateLimited { per_minute: 60, retry_after_secs: 7 }.to_reply(None, HANDSHAKE);
    assert_eq!(limited.header("retry-after"), Some("7"));
    let not_allowed = GatewayError::MethodNotAllowed.to_reply(None, HANDSHAKE);
    assert_eq!((not_allowed.status, not_allowed.header("allow")), (405, Some("POST, DELETE")));
    assert_eq!(GatewayError::TooManySessions { max: 1, swept: 0 }.headers(), [("retry-after", "60".to_string())]);
}

#[test]
fn protocol_errors_keep_their_meaning() {
    let cases = [
        (RpcError::parse_error("p"), GatewayError::ParseError("p".into())),
        (RpcError::invalid_request("r"), GatewayError::InvalidRequest("r".into())),
        (RpcError::method_not_found("m"), GatewayError::MethodNotFound("Method not found: m".into())),
        (RpcError::invalid_params("x"), GatewayError::InvalidParams("x".into())),
        (modern::unsupported_version("1999"), GatewayError::UnsupportedRevision { requested: "1999".into() }),
        (RpcError::new(modern::HEADER_MISMATCH, "Header mismatch: h"), GatewayError::HeaderMismatch("h".into())),
    ];
    for (rpc, expected) in cases {
        let code = rpc.code;
        let error = GatewayError::from(rpc.clone());
        assert_eq!(error, expected);
        let back = error.to_rpc_error(None);
        assert_eq!((back.code, back.message), (code, rpc.message), "the client reads the same error");
    }
}

#[test]
fn secrets_in_causes_stay_out_of_the_answer() {
    let error = GatewayError::StoreUnavailable { cause: "redis://:hunter2@db".into() };
    let body = String::from_utf8(error.to_reply(None, HANDSHAKE).body).unwrap();
    assert!(!body.contains("hunter2"), "{body}");
    let (message, fields) = error.log_message();
    assert_eq!(message, "Key-value store unavailable");
    assert_eq!(
        fields,
        [("error", "redis://:hunter2@db".to_string())],
        "the log has the cause (redacted by the adapter)"
    );
    let misconfigured = GatewayError::Misconfigured { public: "api_keys".into(), detail: "api_keys: 'k'".into() };
    assert_eq!(misconfigured.to_string(), "server misconfigured: api_keys");
}

#[test]
fn component_failures_are_told_apart_from_the_tools_own_errors() {
    assert!(!ToolFailure::Reported.is_component_failure());
    assert!(!ToolFailure::CircuitOpen { retry_after_s: 1 }.is_component_failure(), "not called at all");
    let open = GatewayError::ToolFailed { tool: "wc".into(), failure: ToolFailure::CircuitOpen { retry_after_s: 12 } };
    assert_eq!(
        open.to_string(),
        "tool 'wc' is temporarily unavailable (its component keeps failing); retry after 12 s"
    );
    for failure in [
        ToolFailure::Timeout { after_ms: 1 },
        ToolFailure::Unreachable { reason: "r".into() },
        ToolFailure::Status { status: 502 },
        ToolFailure::OutputTooLarge { max: 1 },
        ToolFailure::InvalidResult { problem: "p".into() },
    ] {
        assert!(failure.is_component_failure(), "{failure:?}");
    }
}

#[test]
fn sessions_ended_on_the_way_are_reported() {
    assert_eq!(GatewayError::SessionExpired { ended_here: true }.sessions_ended(), 1);
    assert_eq!(GatewayError::SessionExpired { ended_here: false }.sessions_ended(), 0);
    assert_eq!(GatewayError::TooManySessions { max: 1, swept: 4 }.sessions_ended(), 4);
    assert_eq!(GatewayError::UnknownSession.sessions_ended(), 0);
}
