//! The one error type of the gateway, and the one place that says what
//! each error means for every part that reports on it: the HTTP status,
//! the JSON-RPC code (or a tool result with `isError`), the rejection it
//! counts as, the semconv `error.type` (and so the outcome of every metric
//! that has one), the log level, the span status, and whether the caller's
//! tenant counts an error.

use crate::log::Level;
use crate::mcp::modern::Era;
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
    /// OAuth is on and the request has no valid access token (nor a valid
    /// API key): 401 with the challenge that points to the metadata.
    #[error("a valid access token is required: {reason}")]
    TokenRefused {
        /// Why (for the client and the log; never the token).
        reason: String,
        /// The `WWW-Authenticate` value.
        challenge: String,
        /// Whether a token (or key) was presented at all.
        presented: bool,
    },
    /// A valid token without a scope it needs (a required scope, or one
    /// that grants the tool): 403, step-up.
    #[error("the access token lacks the scope {scope:?}")]
    InsufficientScope {
        /// The scopes to ask for.
        scope: String,
        /// The `WWW-Authenticate` value.
        challenge: String,
    },
    /// OAuth keys come from `oauth_jwks_url`, none is cached, and none
    /// could be fetched: a token cannot be checked, so it is not admitted
    /// (503, retry: it is not the token's fault).
    #[error("access tokens cannot be checked right now (the issuer's keys are unavailable); try again later")]
    KeysUnavailable {
        /// Why, for the log.
        cause: String,
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
    /// The request's audit events could not be written before its answer
    /// (docs/audit.md): the answer is withheld, so that no client holds
    /// one whose event is lost.
    #[error("the audit trail cannot record this request right now; its answer is withheld: try again later")]
    AuditUnavailable {
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
    /// No component serves the resource `resources/read` asks for: -32602
    /// with the URI in `data` (SEP-2164).
    #[error("Resource not found")]
    UnknownResource {
        /// The URI asked for, bounded.
        uri: String,
    },
    /// A component's own JSON-RPC error for a prompts, resources or
    /// completion request, relayed (its code one of a bounded set).
    #[error("{message}")]
    ComponentRpcError {
        /// The component.
        component: String,
        /// The code.
        code: i64,
        /// Its message.
        message: String,
        /// Its data, passed on.
        data: Option<serde_json::Value>,
    },
    /// A component did not answer a prompts, resources or completion
    /// request usably (timeout, unreachable, not JSON): -32603.
    #[error("component '{component}' {reason}")]
    ComponentFailed {
        /// The component.
        component: String,
        /// What happened.
        reason: String,
    },
    /// A handshake-era call's tool asks for input the client did not
    /// declare it can give (`gateway::bridge`): -32021 with
    /// `data.requiredCapabilities`, or a client that takes no SSE answer.
    #[error("the tool needs input the client cannot give: {}", required.join(", "))]
    ClientLacksCapability {
        /// The capabilities needed, sorted.
        required: Vec<String>,
    },
    /// A handshake-era call's tool asked the client for input, and the
    /// client did not answer in time or answered an error: -32603.
    #[error("the client gave no input to the tool: {reason}")]
    ClientInputFailed {
        /// Why.
        reason: String,
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

mod mapping;

#[cfg(test)]
mod tests;
