//! The one record of a request. The steps of a request return what they
//! found (facts); the gateway's request flow writes each into the record
//! through the methods here, and nothing else sets its fields. After the
//! response, everything that reports on the request reads it
//! ([`super::report`], [`super::spans`]).

use super::error::{GatewayError, Mapping};
use crate::bounded::client_string;
use crate::mcp::modern::Era;
use crate::mcp::RequestId;
use crate::metrics::series::{ErrorType, RejectReason, ToolOutcome};
use crate::metrics::tool_metrics::report::Reports;
use crate::trace::TraceContext;

/// The gateway's route.
pub const ROUTE: &str = "/mcp";

/// The method recorded for a body that is not a JSON-RPC message.
pub const INVALID_MESSAGE: &str = "_invalid";

/// What one request did.
#[derive(Debug, Clone)]
pub struct RequestRecord {
    /// `X-Request-Id`, kept from the client when safe, else new.
    pub request_id: String,
    /// Monotonic clock at the first byte, for durations.
    pub began_ns: u64,
    /// Wall clock at the first byte, in ms.
    pub began_unix_ms: u64,
    /// The same in ns, for span timestamps: `began_unix_ms`'s unless the
    /// adapter knows it finer (a span nested in the host's must not seem
    /// to start before its parent).
    pub began_unix_ns: u64,
    /// The request's trace context (from `traceparent` or `params._meta`).
    pub trace: TraceContext,
    /// The request's era (the handshake era's until the message says).
    pub era: Era,
    /// HTTP method, upper case.
    pub http_method: String,
    /// Request body size.
    pub request_bytes: usize,
    /// The authenticated tenant (`None` in open mode).
    pub tenant: Option<String>,
    /// Why the request was refused before doing work, if it was.
    pub rejected: Option<RejectReason>,
    /// The MCP session the request belongs to.
    pub session_id: Option<String>,
    /// The request's protocol revision: its session's, or its own `_meta`'s.
    pub protocol_version: Option<String>,
    /// The client's name (`clientInfo`: the session's, or the request's own).
    pub client_name: Option<String>,
    /// The client's version, when known.
    pub client_version: Option<String>,
    /// The JSON-RPC method ([`INVALID_MESSAGE`] for a body that did not
    /// parse), bounded; every rendering folds it to the known methods
    /// (`crate::metrics::series::mcp_method`).
    pub mcp_method: Option<String>,
    /// The JSON-RPC id, as text, bounded but not redacted: the spans
    /// redact it ([`super::spans::client_attribute`]), as every value the
    /// client wrote.
    pub rpc_id: Option<String>,
    /// The tool named by a `tools/call` (`_other` when unknown).
    pub tool_name: Option<String>,
    /// The prompt a `prompts/get` asked a component for, bounded (the
    /// client wrote it: the spans redact it like every such value).
    pub prompt_name: Option<String>,
    /// The resource a `resources/read` asked a component for, bounded.
    pub resource_uri: Option<String>,
    /// What went wrong, as `error.type`.
    pub error: Option<ErrorType>,
    /// Whether the request counts as an error for its tenant (the one
    /// definition: [`Mapping::is_error`]).
    pub failed: bool,
    /// The tool call, when one was made or refused.
    pub tool_call: Option<ToolCallRecord>,
    /// Sessions this request created (0 or 1).
    pub sessions_created: u64,
    /// How this request moved the live sessions.
    pub sessions_active_delta: i64,
    /// Tool outputs cut or discarded.
    pub output_truncated: u64,
    /// Tool components that did not list their tools.
    pub discovery_failures: Vec<String>,
    /// Failed span exports.
    pub trace_export_failures: u64,
    /// The gateway instance's own memory at the end of the request.
    pub memory_bytes: Option<u64>,
    /// Circuit breakers this request moved: (component, transition).
    pub breaker_transitions: Vec<(String, super::breaker::Transition)>,
    /// SHA-256 of the redacted arguments of a `tools/call`, for its audit
    /// event (computed only when the audit trail is on).
    pub arguments_sha256: Option<String>,
    /// The tool policy's decision on a `tools/call`: allowed, and by which
    /// rule (none while there is no policy).
    pub authorization: Option<(bool, Option<usize>)>,
}

/// One tool call: invoked, or refused before the tool ran.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCallRecord {
    /// The component that owns the tool.
    pub component: String,
    /// How it ended.
    pub outcome: ToolOutcome,
    /// The invocation, `None` when the tool was not called.
    pub invocation: Option<Invocation>,
    /// Why the call failed, redacted: the client span's status message.
    /// `None` when it succeeded, or when failures are neither logged nor
    /// exported.
    pub error: Option<String>,
}

/// The request to the tool component.
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation {
    /// The client span's context: the `traceparent` the tool saw.
    pub span: TraceContext,
    /// Start, in ns after the request's first byte.
    pub start_offset_ns: u64,
    /// End, likewise.
    pub end_offset_ns: u64,
    /// The tool's own execution time, when its answer said
    /// ([`super::timing`]).
    pub execution_ms: Option<f64>,
    /// The tool instance's memory at the end of the call, when it said.
    pub memory_bytes: Option<u64>,
    /// What the tool reported of its own metrics ([`crate::metrics::tool_metrics`]).
    pub reports: Reports,
}

impl Invocation {
    /// The call's duration in seconds.
    pub fn duration_s(&self) -> f64 {
        self.end_offset_ns.saturating_sub(self.start_offset_ns) as f64 / 1e9
    }
}

/// Who is calling, in which revision: a session's, or a modern request's own.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientFacts {
    /// The revision.
    pub protocol_version: String,
    /// `clientInfo.name`, bounded.
    pub name: Option<String>,
    /// `clientInfo.version`, bounded.
    pub version: Option<String>,
}

impl From<crate::mcp::modern::Envelope> for ClientFacts {
    fn from(e: crate::mcp::modern::Envelope) -> Self {
        ClientFacts { protocol_version: e.protocol_version.to_string(), name: e.client_name, version: e.client_version }
    }
}

/// How a request moved the sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SessionsMoved {
    /// Sessions created.
    pub created: u64,
    /// Live sessions ended (by `DELETE`, or expired ones ended on the way).
    pub ended: u64,
}

impl RequestRecord {
    /// A record for a request that has just arrived.
    pub fn new(request_id: String, began_ns: u64, began_unix_ms: u64, trace: TraceContext) -> Self {
        RequestRecord {
            request_id,
            began_ns,
            began_unix_ms,
            began_unix_ns: began_unix_ms * 1_000_000,
            trace,
            era: Era::Handshake,
            http_method: String::new(),
            request_bytes: 0,
            tenant: None,
            rejected: None,
            session_id: None,
            protocol_version: None,
            client_name: None,
            client_version: None,
            mcp_method: None,
            rpc_id: None,
            tool_name: None,
            prompt_name: None,
            resource_uri: None,
            error: None,
            failed: false,
            tool_call: None,
            sessions_created: 0,
            sessions_active_delta: 0,
            output_truncated: 0,
            discovery_failures: Vec::new(),
            trace_export_failures: 0,
            memory_bytes: None,
            breaker_transitions: Vec::new(),
            arguments_sha256: None,
            authorization: None,
        }
    }

    /// The caller passed admission, as `tenant` (`None` in open mode).
    pub fn admitted(&mut self, tenant: Option<String>) {
        self.tenant = tenant;
    }

    /// The JSON-RPC message: its method and, for a request, its id; both
    /// bounded, as everything a client sends.
    pub fn message(&mut self, method: &str, id: Option<&RequestId>) {
        self.mcp_method = Some(client_string(method));
        self.rpc_id = id.map(|id| client_string(&id.to_string()));
    }

    /// The message's era, once known.
    pub fn in_era(&mut self, era: Era) {
        self.era = era;
    }

    /// The revision asked for, before it is known to be served (an
    /// unsupported one is counted as `_other`).
    pub fn revision_asked(&mut self, version: &str) {
        self.protocol_version = Some(client_string(version));
    }

    /// Who is calling, in which revision.
    pub fn client(&mut self, client: ClientFacts) {
        self.protocol_version = Some(client.protocol_version);
        self.client_name = client.name;
        self.client_version = client.version;
    }

    /// The request belongs to (or created) `session_id`.
    pub fn session(&mut self, session_id: String, client: ClientFacts) {
        self.session_id = Some(session_id);
        self.client(client);
    }

    /// `DELETE /mcp` ended `session_id`.
    pub fn session_ended(&mut self, session_id: String) {
        self.session_id = Some(session_id);
        self.sessions_moved(SessionsMoved { created: 0, ended: 1 });
    }

    /// Sessions created and ended by this request.
    pub fn sessions_moved(&mut self, moved: SessionsMoved) {
        self.sessions_created += moved.created;
        self.sessions_active_delta += moved.created as i64 - moved.ended as i64;
    }

    /// The digest of a `tools/call`'s redacted arguments
    /// ([`crate::audit::arguments_digest`]).
    pub fn arguments_digested(&mut self, digest: String) {
        self.arguments_sha256 = Some(digest);
    }

    /// The tool policy decided this `tools/call`.
    pub fn authorized(&mut self, allowed: bool, rule: Option<usize>) {
        self.authorization = Some((allowed, rule));
    }

    /// The tool a `tools/call` names (`_other` when no component lists it).
    pub fn tool(&mut self, name: &str) {
        self.tool_name = Some(name.to_string());
    }

    /// The prompt a `prompts/get` was relayed for.
    pub fn prompt(&mut self, name: &str) {
        self.prompt_name = Some(crate::bounded::client_string(name));
    }

    /// The resource a `resources/read` was relayed for.
    pub fn resource(&mut self, uri: &str) {
        self.resource_uri = Some(crate::bounded::client_string(uri));
    }

    /// Components that did not list their tools.
    pub fn discovery_failed(&mut self, components: impl IntoIterator<Item = String>) {
        self.discovery_failures.extend(components);
    }

    /// A tool call that was made, and how many outputs it had cut.
    pub fn tool_called(&mut self, call: ToolCallRecord, outputs_truncated: u64) {
        self.tool_call = Some(call);
        self.output_truncated += outputs_truncated;
    }

    /// What went wrong, as [`GatewayError::map`] says: the one place an
    /// error reaches the record, whether it is answered as a JSON-RPC
    /// error or as a tool error.
    pub fn failed_with(&mut self, error: &GatewayError, mapping: &Mapping) {
        self.error = mapping.error_type;
        self.failed |= mapping.is_error;
        self.rejected = self.rejected.or(mapping.rejected);
        self.sessions_active_delta -= error.sessions_ended() as i64;
        if let GatewayError::InvalidToolArguments { component, .. } = error {
            // A tool-level error like any other, though the tool never ran.
            self.tool_call = Some(ToolCallRecord {
                component: component.clone(),
                outcome: ToolOutcome::Error,
                invocation: None,
                error: None,
            });
        }
    }

    /// This request moved `component`'s circuit breaker.
    pub fn breaker_moved(&mut self, component: String, transition: super::breaker::Transition) {
        self.breaker_transitions.push((component, transition));
    }

    /// The gateway instance's memory, measured after the answer.
    pub fn memory_measured(&mut self, bytes: u64) {
        self.memory_bytes = Some(bytes);
    }

    /// A span export that failed.
    pub fn trace_export_failed(&mut self) {
        self.trace_export_failures += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::error::Answering;
    use crate::mcp::modern::Era;

    fn record() -> RequestRecord {
        let trace = TraceContext::from_incoming(None, None, None, &[7; 24]);
        RequestRecord::new("req-1".into(), 0, 1_700_000_000_000, trace)
    }

    #[test]
    fn a_refused_tool_call_is_a_tool_error_without_an_invocation() {
        let mut r = record();
        let error = GatewayError::InvalidToolArguments {
            tool: "word_count".into(),
            component: "text-tools".into(),
            problem: "text: expected string".into(),
        };
        for version in ["2025-06-18", "2026-07-28"] {
            let era = if version == "2026-07-28" { Era::Modern } else { Era::Handshake };
            r.failed_with(&error, &error.map(Answering { era, protocol_version: Some(version) }));
            let call = r.tool_call.clone().unwrap();
            assert_eq!(
                (call.component.as_str(), call.outcome, call.invocation),
                ("text-tools", ToolOutcome::Error, None)
            );
            assert!(r.failed, "{version}");
        }
    }

    #[test]
    fn expired_sessions_ended_on_the_way_leave_the_live_count() {
        let mut r = record();
        r.sessions_moved(SessionsMoved { created: 1, ended: 0 });
        let error = GatewayError::TooManySessions { max: 2, swept: 3 };
        r.failed_with(&error, &error.map(Answering { era: Era::Handshake, protocol_version: None }));
        assert_eq!((r.sessions_created, r.sessions_active_delta), (1, -2));
        assert_eq!(r.rejected, Some(RejectReason::Sessions));
    }

    #[test]
    fn a_method_not_allowed_is_no_error() {
        let mut r = record();
        let error = GatewayError::MethodNotAllowed;
        r.failed_with(&error, &error.map(Answering { era: Era::Handshake, protocol_version: None }));
        assert!(!r.failed);
        assert_eq!(r.error, None);
    }

    #[test]
    fn messages_and_ids_are_bounded() {
        let mut r = record();
        let long = "m".repeat(10_000);
        r.message(&long, Some(&RequestId::String(long.clone())));
        assert!(r.mcp_method.as_ref().unwrap().len() < 1_000);
        assert!(r.rpc_id.as_ref().unwrap().len() < 1_000);
    }
}
