//! The one error type of the gateway, and the one place that says what
//! each error means for every part that reports on it: the HTTP status,
//! the JSON-RPC code (or a tool result with `isError`), the rejection it
//! counts as, the semconv `error.type` (and so the outcome of every metric
//! that has one), the log level, the span status, and whether the caller's
//! tenant counts an error.

use super::reply::Reply;
use crate::log::Level;
use crate::mcp::modern::{self, Era};
use crate::mcp::{self, RequestId, RpcError};
use crate::metrics::series::{ErrorType, RejectReason};

/// JSON-RPC code for an unknown or expired session (as the MCP SDKs use).
pub const SESSION_NOT_FOUND: i64 = -32001;

/// Everything that can end a request early, or end a tool call in a tool
/// error. Messages are what the client reads; causes that only the
/// operator may see (`cause`, `detail`) are logged, never answered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GatewayError {
    /// The variables have problems: every request is refused until fixed.
    #[error("server misconfigured: {public}")]
    Misconfigured {
        /// The variables' names and what is wrong, without their values.
        public: String,
        /// The full account, for the log.
        detail: String,
    },
    /// No API key, or one that matches no tenant.
    #[error("a valid API key is required (Authorization: Bearer <key> or X-API-Key)")]
    Unauthorized {
        /// Whether no key was sent at all (else it was wrong).
        missing: bool,
    },
    /// An authenticated caller's `Origin` is not allowed (DNS rebinding).
    #[error("origin {origin} is not allowed")]
    OriginRefused {
        /// The `Origin` header as sent.
        origin: String,
    },
    /// More than `max_concurrency` requests in flight.
    #[error("more than {max} requests in flight; retry shortly")]
    OverConcurrency {
        /// The limit.
        max: u64,
    },
    /// The tenant's rate window is full.
    #[error("rate limit of {per_minute} requests a minute reached")]
    RateLimited {
        /// The limit.
        per_minute: u32,
        /// When a retry can succeed.
        retry_after_secs: u64,
    },
    /// A limit could not be checked (the store failed): refused, never let through.
    #[error("a request limit cannot be checked right now; try again later")]
    LimitUnchecked {
        /// Which limit (`Concurrency` or `Rate`), for the log.
        limit: &'static str,
        /// The store's error, for the log.
        cause: String,
    },
    /// The body is over `max_request_bytes`.
    #[error("request body exceeds the limit of {max} bytes")]
    PayloadTooLarge {
        /// The limit.
        max: usize,
    },
    /// A `POST /mcp` whose `Content-Type` is not `application/json`
    /// (refused before its body is read).
    #[error("{}", unsupported_media_type_message(.content_type))]
    UnsupportedMediaType {
        /// The `Content-Type` as sent, bounded (empty when none was sent).
        content_type: String,
    },
    /// The body did not all arrive within `body_timeout_ms`.
    #[error("the request body did not arrive within {after_ms} ms")]
    BodyTooSlow {
        /// The deadline.
        after_ms: u64,
    },
    /// The body could not be read.
    #[error("could not read the request body: {0}")]
    BodyUnreadable(String),
    /// Not JSON (-32700).
    #[error("{0}")]
    ParseError(String),
    /// JSON, but not a request the server can take (-32600).
    #[error("{0}")]
    InvalidRequest(String),
    /// A 2026-07-28 client sent a JSON-RPC response, which it never does.
    #[error("a 2026-07-28 client sends requests and notifications only, never a JSON-RPC response")]
    UnexpectedResponse,
    /// The revision asked for (in `_meta` or `MCP-Protocol-Version`) is not served.
    #[error("Unsupported protocol version")]
    UnsupportedRevision {
        /// The revision asked for, bounded.
        requested: String,
    },
    /// The routing headers disagree with the body (-32020).
    #[error("Header mismatch: {0}")]
    HeaderMismatch(String),
    /// No such method (-32601).
    #[error("{0}")]
    MethodNotFound(String),
    /// The method's params are wrong (-32602).
    #[error("{0}")]
    InvalidParams(String),
    /// A handshake-era message without `MCP-Session-Id`.
    #[error("missing MCP-Session-Id header: send initialize first")]
    MissingSession,
    /// The session does not exist for this caller (or is another tenant's).
    #[error("session not found: send initialize to start a new one")]
    UnknownSession,
    /// The session was idle too long.
    #[error("session expired: send initialize to start a new one")]
    SessionExpired {
        /// Whether this request ended it (it then leaves the live count).
        ended_here: bool,
    },
    /// The tenant holds `max_sessions_per_tenant` live sessions.
    #[error("this tenant already holds {max} live sessions; end one (DELETE /mcp) or let one expire")]
    TooManySessions {
        /// The limit.
        max: u64,
        /// Expired sessions ended on the way (they leave the live count).
        swept: u64,
    },
    /// In open mode, the client address holds `max_sessions_per_client`
    /// live sessions (all open-mode clients share one tenant).
    #[error("this client already holds {max} live sessions; end one (DELETE /mcp) or let one expire")]
    TooManyClientSessions {
        /// The limit.
        max: u64,
        /// Expired sessions ended on the way.
        swept: u64,
    },
    /// The store that keeps sessions cannot be used.
    #[error("session store unavailable; try again later")]
    StoreUnavailable {
        /// The store's error, for the log.
        cause: String,
    },
    /// `tools/call` names no tool any component lists.
    #[error("Unknown tool: {name}")]
    UnknownTool {
        /// The name asked for.
        name: String,
    },
    /// The arguments fail the tool's `inputSchema`; the tool is not called.
    #[error("invalid arguments for tool '{tool}': {problem}")]
    InvalidToolArguments {
        /// The tool.
        tool: String,
        /// The component that owns it.
        component: String,
        /// What the schema check found.
        problem: String,
    },
    /// The tool was called and failed: always a result with `isError`.
    #[error("tool '{tool}' {failure}")]
    ToolFailed {
        /// The tool.
        tool: String,
        /// How it failed.
        failure: ToolFailure,
    },
    /// `GET /mcp` (the optional event stream, which this server does not
    /// offer) or another method than POST and DELETE: 405, as the
    /// transport allows. Clients probe for it: not an error anywhere.
    #[error(
        "use POST for JSON-RPC messages, or DELETE to end a handshake-era session; this server offers no GET stream"
    )]
    MethodNotAllowed,
}

/// The answer to a body that is not declared JSON.
fn unsupported_media_type_message(content_type: &str) -> String {
    match content_type {
        "" => "Content-Type: application/json is required (none was sent)".to_string(),
        sent => format!("Content-Type: application/json is required, got {sent:?}"),
    }
}

/// How a called tool failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolFailure {
    /// No answer within `tool_timeout_ms`.
    #[error("timed out after {after_ms} ms")]
    Timeout {
        /// The timeout.
        after_ms: u64,
    },
    /// The call could not be made or the component trapped.
    #[error("could not be reached: {reason}")]
    Unreachable {
        /// The host's error, without a trap's backtrace.
        reason: String,
    },
    /// The component answered another status than 200.
    #[error("failed: its component answered HTTP {status}")]
    Status {
        /// The status.
        status: u16,
    },
    /// The answer was over the hard cap and was discarded.
    #[error("returned more than {max} bytes; its output was discarded")]
    OutputTooLarge {
        /// The cap.
        max: usize,
    },
    /// The answer is not a `CallToolResult`.
    #[error("returned an invalid result: {problem}")]
    InvalidResult {
        /// What is wrong with it.
        problem: String,
    },
    /// The tool's own result says `isError: true`: the tool answered, the
    /// component did not fail.
    #[error("reported an error")]
    Reported,
    /// Not called: its component's circuit breaker is open.
    #[error("is temporarily unavailable (its component keeps failing); retry after {retry_after_s} s")]
    CircuitOpen {
        /// When a call may go through again, whole seconds (at least 1).
        retry_after_s: u64,
    },
}

impl ToolFailure {
    /// Whether the component failed, as opposed to the tool answering
    /// with an error of its own (what a circuit breaker counts).
    pub fn is_component_failure(&self) -> bool {
        !matches!(self, ToolFailure::Reported | ToolFailure::CircuitOpen { .. })
    }

    /// Whether the call ran out of time (`outcome="timeout"`).
    pub fn is_timeout(&self) -> bool {
        matches!(self, ToolFailure::Timeout { .. })
    }
}

/// How an error is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// A JSON-RPC error with this code.
    Rpc(i64),
    /// A `CallToolResult` with `isError: true` (a successful JSON-RPC exchange).
    ToolError,
}

/// What one error means everywhere it is reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// The HTTP status of the answer.
    pub status: u16,
    /// A JSON-RPC error, or a tool error result.
    pub answer: Answer,
    /// The `reason` of `rejected_total`: refused before any work.
    pub rejected: Option<RejectReason>,
    /// The semconv `error.type` (and the `outcome` of `mcp_requests_total`);
    /// `None` when it is no error at all.
    pub error_type: Option<ErrorType>,
    /// Whether the tenant's error count moves (and the span's status is an error).
    pub is_error: bool,
    /// The level of its log line.
    pub level: Level,
}

/// What the mapping needs of the request it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answering<'a> {
    /// The request's era: the modern transport gives JSON-RPC errors an
    /// HTTP status of their own; the handshake era answers them with 200.
    pub era: Era,
    /// The revision, which decides how invalid tool arguments are told.
    pub protocol_version: Option<&'a str>,
}

impl GatewayError {
    /// The JSON-RPC code, before the era is known.
    fn code(&self) -> i64 {
        use GatewayError::*;
        match self {
            Misconfigured { .. } | OverConcurrency { .. } | RateLimited { .. } | LimitUnchecked { .. } => {
                mcp::INTERNAL_ERROR
            }
            TooManySessions { .. } | TooManyClientSessions { .. } | StoreUnavailable { .. } => mcp::INTERNAL_ERROR,
            Unauthorized { .. } | OriginRefused { .. } | PayloadTooLarge { .. } | UnsupportedMediaType { .. } => {
                mcp::INVALID_REQUEST
            }
            InvalidRequest(_) | UnexpectedResponse | MissingSession | MethodNotAllowed | BodyTooSlow { .. } => {
                mcp::INVALID_REQUEST
            }
            BodyUnreadable(_) | ParseError(_) => mcp::PARSE_ERROR,
            UnsupportedRevision { .. } => modern::UNSUPPORTED_PROTOCOL_VERSION,
            HeaderMismatch(_) => modern::HEADER_MISMATCH,
            MethodNotFound(_) => mcp::METHOD_NOT_FOUND,
            InvalidParams(_) | UnknownTool { .. } | InvalidToolArguments { .. } => mcp::INVALID_PARAMS,
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
            Misconfigured { .. } | LimitUnchecked { .. } | StoreUnavailable { .. } => (503, None),
            Unauthorized { .. } => (401, Some(RejectReason::Unauthorized)),
            OriginRefused { .. } => (403, None),
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
            | ToolFailed { .. } => match at.era {
                Era::Handshake => (200, None),
                Era::Modern => (modern::http_status(code), None),
            },
        };
        let level = match self {
            Misconfigured { .. } | LimitUnchecked { .. } | StoreUnavailable { .. } => Level::Error,
            Unauthorized { .. } | OriginRefused { .. } | InvalidToolArguments { .. } => Level::Warn,
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
            other => RpcError::new(other.code(), other.to_string()),
        };
        error.with_id(id.cloned())
    }

    /// Headers the answer carries.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        match self {
            GatewayError::Unauthorized { .. } => vec![("www-authenticate", "Bearer realm=\"spinscope\"".into())],
            GatewayError::OverConcurrency { .. } | GatewayError::LimitUnchecked { .. } => {
                vec![("retry-after", "1".into())]
            }
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
            LimitUnchecked { limit, cause } => match *limit {
                "Rate" => ("Rate limit not checked", vec![("error", cause.clone())]),
                _ => ("Concurrency limit not checked", vec![("error", cause.clone())]),
            },
            StoreUnavailable { cause } => ("Key-value store unavailable", vec![("error", cause.clone())]),
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

#[cfg(test)]
mod tests;
