//! A request's audit events, read off its record (docs/audit.md): the one
//! record per request feeds the audit trail as it feeds the logs, spans
//! and metrics.

use super::record::RequestRecord;
use super::report::Answered;
use crate::audit::{Event, Kind};
use sha2::{Digest, Sha256};

/// The events of a request answered as `answered` at `now_ms`, signed with
/// `key` when there is one: a `tools/call` (whatever became of it, unless
/// it was refused before doing work), a refusal of a caller who passed
/// authentication, a session created or deleted, a breaker moved.
/// Refusals for want of a key are counted elsewhere, never a write each.
pub fn events(r: &RequestRecord, answered: Answered, now_ms: u64, key: Option<&[u8]>) -> Vec<Event> {
    let base = |kind: Kind| Event {
        kind,
        time_ms: now_ms,
        request_id: Some(r.request_id.clone()),
        trace_id: Some(r.trace.trace_id_hex()),
        tenant: r.tenant.clone(),
        session: r.session_id.as_deref().map(session_digest),
        client: client(r),
        method: r.mcp_method.clone(),
        ..Event::default()
    };
    let mut events = Vec::new();
    match r.rejected {
        Some(reason) if reason.is_unauthenticated() => return events,
        Some(reason) => events.push(Event { outcome: Some(reason.as_str().to_string()), ..base(Kind::Refusal) }),
        None if r.mcp_method.as_deref() == Some("tools/call") && matches!(r.authorization, Some((false, _))) => {
            let denied =
                Event { tool: r.tool_name.clone(), outcome: Some("denied".into()), ..base(Kind::Authorization) };
            events.push(denied);
        }
        None if r.mcp_method.as_deref() == Some("tools/call") => {
            let call = r.tool_call.as_ref();
            let outcome = match (call, r.failed) {
                (Some(call), _) => call.outcome.as_str(),
                (None, true) => "error",
                (None, false) => "success",
            };
            events.push(Event {
                tool: r.tool_name.clone(),
                component: call.map(|c| c.component.clone()),
                outcome: Some(outcome.to_string()),
                duration_us: Some((answered.duration_s * 1e6).round() as u64),
                arguments_sha256: r.arguments_sha256.clone(),
                error_type: r.error.map(|e| e.label()),
                ..base(Kind::ToolCall)
            });
        }
        None => {}
    }
    if r.sessions_created > 0 {
        events.push(base(Kind::SessionCreated));
    }
    if r.http_method == "DELETE" && r.sessions_active_delta < 0 {
        events.push(Event { outcome: Some("deleted".into()), ..base(Kind::SessionEnded) });
    }
    for (component, transition) in &r.breaker_transitions {
        let moved = Event {
            component: Some(component.clone()),
            outcome: Some(transition.label().into()),
            ..base(Kind::Breaker)
        };
        events.push(moved);
    }
    events.into_iter().map(|e| e.sign(key)).collect()
}

/// The session as the audit trail names it: the first 16 hex digits of the
/// SHA-256 of its id (the id itself lets anyone who holds it use the
/// session, so it is never written).
pub fn session_digest(id: &str) -> String {
    hex::encode(&Sha256::digest(id.as_bytes())[..8])
}

/// `name/version` of the client, either part when known.
fn client(r: &RequestRecord) -> Option<String> {
    match (&r.client_name, &r.client_version) {
        (Some(n), Some(v)) => Some(format!("{n}/{v}")),
        (Some(n), None) => Some(n.clone()),
        (None, Some(v)) => Some(format!("/{v}")),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::breaker::Transition;
    use crate::gateway::record::{ClientFacts, ToolCallRecord};
    use crate::metrics::series::{ErrorType, RejectReason, ToolOutcome};
    use crate::trace::TraceContext;

    fn record() -> RequestRecord {
        let trace = TraceContext::from_incoming(None, None, None, &[7; 24]);
        let mut r = RequestRecord::new("req-1".into(), 0, 1_700_000_000_000, trace);
        r.http_method = "POST".into();
        r.admitted(Some("acme".into()));
        r
    }

    const ANSWERED: Answered = Answered { status: 200, duration_s: 0.0125, response_bytes: 10 };

    #[test]
    fn a_tool_call_is_one_event_with_its_facts_and_no_secret() {
        let mut r = record();
        r.message("tools/call", None);
        r.session(
            "0123456789abcdef0123456789abcdef".into(),
            ClientFacts { protocol_version: "2025-06-18".into(), name: Some("py".into()), version: Some("2.3".into()) },
        );
        r.tool("delete_records");
        r.arguments_digested("ab".repeat(32));
        r.tool_called(
            ToolCallRecord { component: "db".into(), outcome: ToolOutcome::Error, invocation: None, error: None },
            0,
        );
        r.error = Some(ErrorType::ToolError);
        let events = events(&r, ANSWERED, 42, None);
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!(
            (e.kind, e.tool.as_deref(), e.component.as_deref()),
            (Kind::ToolCall, Some("delete_records"), Some("db"))
        );
        assert_eq!((e.outcome.as_deref(), e.error_type.as_deref()), (Some("error"), Some("tool_error")));
        assert_eq!(
            (e.duration_us, e.tenant.as_deref(), e.client.as_deref()),
            (Some(12_500), Some("acme"), Some("py/2.3"))
        );
        assert_eq!(e.session.as_deref().map(str::len), Some(16));
        let text = String::from_utf8(e.canonical()).unwrap();
        assert!(!text.contains("0123456789abcdef0123"), "the session id is a credential: {text}");
        assert!(e.mac.is_none());
        let signed = super::events(&r, ANSWERED, 42, Some(b"0123456789abcdef"));
        assert!(signed[0].mac_is_valid(b"0123456789abcdef"));
    }

    #[test]
    fn refusals_sessions_and_breakers() {
        let mut r = record();
        r.message("tools/call", None);
        r.rejected = Some(RejectReason::RateLimit);
        let e = events(&r, ANSWERED, 1, None);
        assert_eq!((e.len(), e[0].kind, e[0].outcome.as_deref()), (1, Kind::Refusal, Some("rate_limit")));
        r.rejected = Some(RejectReason::InvalidKey);
        assert!(events(&r, ANSWERED, 1, None).is_empty(), "counted by window, never an event each");
        let mut r = record();
        r.message("initialize", None);
        r.sessions_moved(crate::gateway::record::SessionsMoved { created: 1, ended: 0 });
        assert_eq!(events(&r, ANSWERED, 1, None)[0].kind, Kind::SessionCreated);
        let mut r = record();
        r.http_method = "DELETE".into();
        r.session_ended("s".into());
        assert_eq!(events(&r, ANSWERED, 1, None)[0].kind, Kind::SessionEnded);
        let mut r = record();
        r.message("ping", None);
        assert!(events(&r, ANSWERED, 1, None).is_empty(), "nothing to audit");
        r.breaker_moved("faults".into(), Transition::Open);
        let e = events(&r, ANSWERED, 1, None);
        assert_eq!((e[0].kind, e[0].outcome.as_deref()), (Kind::Breaker, Some("open")));
    }
}
