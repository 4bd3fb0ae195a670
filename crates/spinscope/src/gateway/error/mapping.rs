//! The one mapping: what each [`GatewayError`] means for every part that
//! reports on it, and its JSON-RPC answer.

use super::{Answer, Answering, GatewayError, Mapping, ToolFailure, SESSION_NOT_FOUND};
use crate::gateway::reply::Reply;
use crate::log::Level;
use crate::mcp::modern::{self, Era};
use crate::mcp::{self, RequestId, RpcError};
use crate::metrics::series::{ErrorType, RejectReason};

impl GatewayError {
    /// The JSON-RPC code, before the era is known.
    fn code(&self) -> i64 {
        use GatewayError::*;
        match self {
            Misconfigured { .. } | OverConcurrency { .. } | RateLimited { .. } | LimitUnchecked { .. } => {
                mcp::INTERNAL_ERROR
            }
            KeysUnavailable { .. } => mcp::INTERNAL_ERROR,
            TooManySessions { .. }
            | TooManyClientSessions { .. }
            | StoreUnavailable { .. }
            | AuditUnavailable { .. } => mcp::INTERNAL_ERROR,
            Unauthorized { .. } | OriginRefused { .. } | PayloadTooLarge { .. } | UnsupportedMediaType { .. } => {
                mcp::INVALID_REQUEST
            }
            TokenRefused { .. } | InsufficientScope { .. } => mcp::INVALID_REQUEST,
            InvalidRequest(_) | UnexpectedResponse | MissingSession | MethodNotAllowed | BodyTooSlow { .. } => {
                mcp::INVALID_REQUEST
            }
            BodyUnreadable(_) | ParseError(_) => mcp::PARSE_ERROR,
            UnsupportedRevision { .. } => modern::UNSUPPORTED_PROTOCOL_VERSION,
            HeaderMismatch(_) => modern::HEADER_MISMATCH,
            MethodNotFound(_) => mcp::METHOD_NOT_FOUND,
            InvalidParams(_) | UnknownTool { .. } | InvalidToolArguments { .. } => mcp::INVALID_PARAMS,
            UnknownResource { .. } => mcp::INVALID_PARAMS,
            ComponentRpcError { code, .. } => *code,
            ComponentFailed { .. } => mcp::INTERNAL_ERROR,
            ClientLacksCapability { .. } => modern::MISSING_REQUIRED_CAPABILITY,
            ClientInputFailed { .. } => mcp::INTERNAL_ERROR,
            UnknownSession | SessionExpired { .. } => SESSION_NOT_FOUND,
            ToolFailed { .. } => mcp::INTERNAL_ERROR,
        }
    }

    /// The one mapping: what this error means for the request it answers.
    pub fn map(&self, at: Answering<'_>) -> Mapping {
        use GatewayError::*;
        let tool_error = match self {
            ToolFailed { .. } => true,
            // SEP-1303 (2025-11-25 on): a result the model can read and correct.
            InvalidToolArguments { .. } => at.protocol_version.is_some_and(mcp::invalid_arguments_are_tool_errors),
            _ => false,
        };
        if tool_error {
            return Mapping {
                status: 200,
                answer: Answer::ToolError,
                rejected: None,
                error_type: Some(match self {
                    ToolFailed { failure: ToolFailure::CircuitOpen { .. }, .. } => ErrorType::CircuitOpen,
                    _ => ErrorType::ToolError,
                }),
                is_error: true,
                level: match self {
                    // Refused at once, once per call while the breaker is
                    // open: the opening itself is the news.
                    ToolFailed { failure: ToolFailure::CircuitOpen { .. }, .. } => Level::Warn,
                    ToolFailed { .. } => Level::Error,
                    _ => Level::Warn,
                },
            };
        }
        let code = self.code();
        let (status, rejected) = match self {
            Misconfigured { .. } | LimitUnchecked { .. } | StoreUnavailable { .. } | AuditUnavailable { .. } => {
                (503, None)
            }
            KeysUnavailable { .. } => (503, None),
            Unauthorized { missing: true, .. } => (401, Some(RejectReason::MissingKey)),
            Unauthorized { missing: false, .. } => (401, Some(RejectReason::InvalidKey)),
            OriginRefused { .. } => (403, Some(RejectReason::Origin)),
            TokenRefused { presented: false, .. } => (401, Some(RejectReason::MissingKey)),
            TokenRefused { presented: true, .. } => (401, Some(RejectReason::InvalidToken)),
            InsufficientScope { .. } => (403, Some(RejectReason::InsufficientScope)),
            OverConcurrency { .. } => (429, Some(RejectReason::Concurrency)),
            RateLimited { .. } => (429, Some(RejectReason::RateLimit)),
            TooManySessions { .. } | TooManyClientSessions { .. } => (429, Some(RejectReason::Sessions)),
            PayloadTooLarge { .. } => (413, Some(RejectReason::Payload)),
            // A client bug, not a limit: counted by its status, no rejection reason.
            UnsupportedMediaType { .. } => (415, None),
            BodyUnreadable(_) | ParseError(_) | InvalidRequest(_) | UnexpectedResponse | MissingSession => (400, None),
            UnsupportedRevision { .. } | HeaderMismatch(_) => (400, None),
            UnknownSession | SessionExpired { .. } => (404, None),
            MethodNotAllowed => (405, None),
            // Like 415: a client's problem, told by its status.
            BodyTooSlow { .. } => (408, None),
            // Errors inside a message: the handshake era answers them as
            // JSON-RPC errors with 200; the modern transport by its table.
            MethodNotFound(_)
            | InvalidParams(_)
            | UnknownTool { .. }
            | InvalidToolArguments { .. }
            | UnknownResource { .. }
            | ComponentRpcError { .. }
            | ComponentFailed { .. }
            | ClientLacksCapability { .. }
            | ClientInputFailed { .. }
            | ToolFailed { .. } => match at.era {
                Era::Handshake => (200, None),
                Era::Modern => (modern::http_status(code), None),
            },
        };
        let level = match self {
            Misconfigured { .. } | LimitUnchecked { .. } | StoreUnavailable { .. } | AuditUnavailable { .. } => {
                Level::Error
            }
            KeysUnavailable { .. } => Level::Error,
            Unauthorized { .. } | OriginRefused { .. } | InvalidToolArguments { .. } => Level::Warn,
            ComponentFailed { .. } => Level::Error,
            ClientInputFailed { .. } => Level::Warn,
            TokenRefused { .. } | InsufficientScope { .. } => Level::Warn,
            _ => Level::Debug,
        };
        let is_error = !matches!(self, MethodNotAllowed);
        Mapping {
            status,
            answer: Answer::Rpc(code),
            rejected,
            error_type: is_error.then_some(ErrorType::Rpc(code)),
            is_error,
            level,
        }
    }

    /// The JSON-RPC error object, answering request `id` when known.
    pub fn to_rpc_error(&self, id: Option<&RequestId>) -> RpcError {
        let error = match self {
            GatewayError::UnsupportedRevision { requested } => modern::unsupported_version(requested),
            GatewayError::UnknownResource { uri } => {
                RpcError::new(mcp::INVALID_PARAMS, self.to_string()).with_data(serde_json::json!({ "uri": uri }))
            }
            GatewayError::ComponentRpcError { code, message, data, .. } => {
                crate::gateway::catalog::relayed(*code, message, data.as_ref())
            }
            GatewayError::ClientLacksCapability { required } => RpcError::new(self.code(), self.to_string())
                .with_data(serde_json::json!({ "requiredCapabilities": required })),
            other => RpcError::new(other.code(), other.to_string()),
        };
        error.with_id(id.cloned())
    }

    /// Headers the answer carries.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        match self {
            GatewayError::Unauthorized { .. } => vec![("www-authenticate", "Bearer realm=\"spinscope\"".into())],
            GatewayError::TokenRefused { challenge, .. } | GatewayError::InsufficientScope { challenge, .. } => {
                vec![("www-authenticate", challenge.clone())]
            }
            GatewayError::OverConcurrency { .. } | GatewayError::LimitUnchecked { .. } => {
                vec![("retry-after", "1".into())]
            }
            GatewayError::KeysUnavailable { .. } => vec![("retry-after", "5".into())],
            GatewayError::RateLimited { retry_after_secs, .. } => vec![("retry-after", retry_after_secs.to_string())],
            GatewayError::TooManySessions { .. } | GatewayError::TooManyClientSessions { .. } => {
                vec![("retry-after", "60".into())]
            }
            GatewayError::MethodNotAllowed => vec![("allow", "POST, DELETE".into())],
            _ => Vec::new(),
        }
    }

    /// The HTTP answer of an error answered as a JSON-RPC error (a tool
    /// error is a result: see [`super::tool_result`]).
    pub fn to_reply(&self, id: Option<&RequestId>, at: Answering<'_>) -> Reply {
        let mapping = self.map(at);
        let body = self.to_rpc_error(id).to_response();
        self.headers().into_iter().fold(Reply::json(mapping.status, &body), |reply, (k, v)| reply.with_header(k, v))
    }

    /// Live sessions this request ended on its way to the error.
    pub fn sessions_ended(&self) -> u64 {
        match self {
            GatewayError::SessionExpired { ended_here } => u64::from(*ended_here),
            GatewayError::TooManySessions { swept, .. } | GatewayError::TooManyClientSessions { swept, .. } => *swept,
            _ => 0,
        }
    }

    /// The log line's message, and what only the operator may read.
    pub fn log_message(&self) -> (&'static str, Vec<(&'static str, String)>) {
        use GatewayError::*;
        match self {
            Misconfigured { detail, .. } => ("Server misconfigured", vec![("error", detail.clone())]),
            Unauthorized { missing } => (
                "Request without a valid API key",
                vec![("reason", (if *missing { "missing" } else { "invalid" }).into())],
            ),
            OriginRefused { origin } => ("Origin refused", vec![("origin", origin.clone())]),
            TokenRefused { reason, .. } => ("Request without a valid access token", vec![("reason", reason.clone())]),
            InsufficientScope { scope, .. } => ("Access token lacks scope", vec![("scope", scope.clone())]),
            LimitUnchecked { limit, cause } => match *limit {
                "Rate" => ("Rate limit not checked", vec![("error", cause.clone())]),
                _ => ("Concurrency limit not checked", vec![("error", cause.clone())]),
            },
            StoreUnavailable { cause } => ("Key-value store unavailable", vec![("error", cause.clone())]),
            KeysUnavailable { cause } => ("OAuth keys unavailable: token not checked", vec![("error", cause.clone())]),
            AuditUnavailable { cause } => ("Audit events not written: answer withheld", vec![("error", cause.clone())]),
            InvalidToolArguments { tool, component, .. } => (
                "Tool arguments rejected",
                vec![("tool_name", tool.clone()), ("component_id", component.clone()), ("error", self.to_string())],
            ),
            _ => ("Request refused", vec![("error", self.to_string())]),
        }
    }
}

/// A JSON-RPC error from the protocol checks (`crate::mcp`), by its code.
impl From<RpcError> for GatewayError {
    fn from(e: RpcError) -> Self {
        let requested = || e.data.as_ref().and_then(|d| d["requested"].as_str()).unwrap_or("").to_string();
        match e.code {
            mcp::PARSE_ERROR => GatewayError::ParseError(e.message),
            mcp::METHOD_NOT_FOUND => GatewayError::MethodNotFound(e.message),
            mcp::INVALID_PARAMS => GatewayError::InvalidParams(e.message),
            modern::UNSUPPORTED_PROTOCOL_VERSION => GatewayError::UnsupportedRevision { requested: requested() },
            modern::HEADER_MISMATCH => GatewayError::HeaderMismatch(
                e.message.strip_prefix("Header mismatch: ").map(str::to_string).unwrap_or(e.message),
            ),
            _ => GatewayError::InvalidRequest(e.message),
        }
    }
}
