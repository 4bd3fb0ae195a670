//! Who did what: requests and tool calls per MCP session and per tenant.
//!
//! Kept in the metrics records next to the series, so it costs no store write
//! of its own, but never rendered in the Prometheus formats: session ids
//! and tenants are not labels (unbounded, and private to their tenant). The
//! exporter's JSON shows them in open mode only.
//!
//! Encoded inside the record as
//! `"activity":{"s":{"<session>":[requests,tool_calls,last_ms]},"t":{"<tenant>":[requests,tool_calls,errors]}}`;
//! a decoder that does not know the field ignores it.

use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// One session's figures.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SessionActivity {
    /// Requests made in the session.
    pub requests: u64,
    /// Tool calls among them.
    pub tool_calls: u64,
    /// Unix ms of the latest request recorded for the session.
    pub last_ms: u64,
}

/// One tenant's figures (`-` in open mode).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TenantActivity {
    /// Requests the tenant made.
    pub requests: u64,
    /// Tool calls among them.
    pub tool_calls: u64,
    /// Requests answered with a JSON-RPC error or a failed tool call.
    pub errors: u64,
}

/// What one request did, as [`Activity::note`] records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The tenant (`-` in open mode).
    pub tenant: String,
    /// The session the request belonged to, if any.
    pub session: Option<String>,
    /// Whether it was a tool call.
    pub tool_call: bool,
    /// Whether it ended in a JSON-RPC error or a failed tool call.
    pub error: bool,
    /// When, in unix milliseconds.
    pub at_ms: u64,
}

/// Bounds on the activity one record keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActivityLimits {
    /// Sessions kept per record; beyond it the least recently seen go.
    pub max_sessions: usize,
    /// Sessions not seen for this long are dropped (the session idle timeout).
    pub session_ttl_ms: u64,
    /// Tenants kept per record (tenants come from `api_keys`, so few).
    pub max_tenants: usize,
}

impl Default for ActivityLimits {
    fn default() -> Self {
        ActivityLimits { max_sessions: 256, session_ttl_ms: 30 * 60 * 1000, max_tenants: 64 }
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
/// Per-session and per-tenant figures of one record, or of the merged view.
pub struct Activity {
    /// By session id.
    pub sessions: BTreeMap<String, SessionActivity>,
    /// By tenant.
    pub tenants: BTreeMap<String, TenantActivity>,
}

impl Activity {
    /// Whether no session and no tenant is known.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty() && self.tenants.is_empty()
    }

    /// Adds one request, then drops what the limits no longer allow.
    pub fn note(&mut self, note: &Note, limits: &ActivityLimits) {
        if self.tenants.contains_key(&note.tenant) || self.tenants.len() < limits.max_tenants {
            let t = self.tenants.entry(note.tenant.clone()).or_default();
            t.requests += 1;
            t.tool_calls += u64::from(note.tool_call);
            t.errors += u64::from(note.error);
        }
        if let Some(id) = &note.session {
            let s = self.sessions.entry(id.clone()).or_default();
            s.requests += 1;
            s.tool_calls += u64::from(note.tool_call);
            s.last_ms = s.last_ms.max(note.at_ms);
        }
        self.prune(note.at_ms, limits);
    }

    pub(crate) fn prune(&mut self, now_ms: u64, limits: &ActivityLimits) {
        self.sessions.retain(|_, s| now_ms.saturating_sub(s.last_ms) <= limits.session_ttl_ms);
        let excess = self.sessions.len().saturating_sub(limits.max_sessions);
        if excess > 0 {
            // The least recently seen go; of equal ones, the first by id.
            let mut by_age: Vec<(u64, String)> = self.sessions.iter().map(|(id, s)| (s.last_ms, id.clone())).collect();
            by_age.sort_unstable();
            for (_, id) in by_age.into_iter().take(excess) {
                self.sessions.remove(&id);
            }
        }
    }

    /// Adds another record's activity (no cap: each record is capped).
    pub fn merge(&mut self, other: &Activity) {
        for (id, o) in &other.sessions {
            let s = self.sessions.entry(id.clone()).or_default();
            s.requests = s.requests.saturating_add(o.requests);
            s.tool_calls = s.tool_calls.saturating_add(o.tool_calls);
            s.last_ms = s.last_ms.max(o.last_ms);
        }
        for (tenant, o) in &other.tenants {
            let t = self.tenants.entry(tenant.clone()).or_default();
            t.requests = t.requests.saturating_add(o.requests);
            t.tool_calls = t.tool_calls.saturating_add(o.tool_calls);
            t.errors = t.errors.saturating_add(o.errors);
        }
    }

    /// The open-mode JSON `sessions` array: each live session record
    /// (`(id, record)` as the gateway stores it) with its figures, sorted by
    /// creation time. Sessions without recorded activity count 0. A session
    /// is shown under `label(id)`, never its id: anyone who can read the
    /// open-mode JSON could otherwise use or end another client's session.
    pub fn sessions_json(&self, records: &[(String, Value)], label: impl Fn(&str) -> String) -> Value {
        let mut list: Vec<Value> = records
            .iter()
            .map(|(id, record)| {
                let figures = self.sessions.get(id).copied().unwrap_or_default();
                json!({
                    "label": label(id),
                    "created_ms": record["created_ms"],
                    "last_seen_ms": record["last_seen_ms"].as_u64().unwrap_or(0).max(figures.last_ms),
                    "protocol_version": record["protocol_version"],
                    "client": record["client"],
                    "requests": figures.requests,
                    "calls": figures.tool_calls,
                })
            })
            .collect();
        list.sort_by_key(|s| (s["created_ms"].as_u64(), s["label"].as_str().map(str::to_owned)));
        Value::Array(list)
    }

    /// The open-mode JSON `tenants` object: tenant → requests, tool calls, errors.
    pub fn tenants_json(&self) -> Value {
        let map: Map<String, Value> = self
            .tenants
            .iter()
            .map(|(t, f)| (t.clone(), json!({"requests": f.requests, "tool_calls": f.tool_calls, "errors": f.errors})))
            .collect();
        Value::Object(map)
    }

    /// Appends `,"activity":{…}` to a record being written (nothing when empty).
    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) {
        if self.is_empty() {
            return;
        }
        let triple = |out: &mut Vec<u8>, key: &str, v: [u64; 3]| {
            let _ = serde_json::to_writer(&mut *out, key);
            out.extend_from_slice(format!(":[{},{},{}]", v[0], v[1], v[2]).as_bytes());
        };
        out.extend_from_slice(b",\"activity\":{\"s\":{");
        for (i, (id, s)) in self.sessions.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            triple(out, id, [s.requests, s.tool_calls, s.last_ms]);
        }
        out.extend_from_slice(b"},\"t\":{");
        for (i, (tenant, t)) in self.tenants.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            triple(out, tenant, [t.requests, t.tool_calls, t.errors]);
        }
        out.extend_from_slice(b"}}");
    }
}

/// The `activity` field as read.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawActivity {
    #[serde(default)]
    s: BTreeMap<String, [u64; 3]>,
    #[serde(default)]
    t: BTreeMap<String, [u64; 3]>,
}

impl From<RawActivity> for Activity {
    fn from(raw: RawActivity) -> Self {
        Activity {
            sessions: raw
                .s
                .into_iter()
                .map(|(id, [requests, tool_calls, last_ms])| (id, SessionActivity { requests, tool_calls, last_ms }))
                .collect(),
            tenants: raw
                .t
                .into_iter()
                .map(|(t, [requests, tool_calls, errors])| (t, TenantActivity { requests, tool_calls, errors }))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(tenant: &str, session: Option<&str>, tool_call: bool, error: bool, at_ms: u64) -> Note {
        Note { tenant: tenant.into(), session: session.map(Into::into), tool_call, error, at_ms }
    }

    #[test]
    fn counts_per_session_and_tenant_and_merges() {
        let limits = ActivityLimits::default();
        let mut a = Activity::default();
        a.note(&note("acme", Some("s1"), true, false, 1_000), &limits);
        a.note(&note("acme", Some("s1"), true, true, 2_000), &limits);
        a.note(&note("acme", None, false, false, 2_500), &limits);
        let mut b = Activity::default();
        b.note(&note("globex", Some("s2"), false, false, 3_000), &limits);
        b.note(&note("acme", Some("s1"), true, false, 1_500), &limits);
        a.merge(&b);
        assert_eq!(a.sessions["s1"], SessionActivity { requests: 3, tool_calls: 3, last_ms: 2_000 });
        assert_eq!(a.sessions["s2"], SessionActivity { requests: 1, tool_calls: 0, last_ms: 3_000 });
        assert_eq!(a.tenants["acme"], TenantActivity { requests: 4, tool_calls: 3, errors: 1 });
        assert_eq!(a.tenants["globex"].requests, 1);
    }

    #[test]
    fn idle_and_excess_sessions_are_dropped_and_tenants_capped() {
        let limits = ActivityLimits { max_sessions: 2, session_ttl_ms: 10_000, max_tenants: 1 };
        let mut a = Activity::default();
        a.note(&note("-", Some("old"), false, false, 0), &limits);
        a.note(&note("-", Some("s1"), false, false, 20_000), &limits);
        assert!(!a.sessions.contains_key("old"), "idle past the TTL");
        a.note(&note("-", Some("s2"), false, false, 21_000), &limits);
        a.note(&note("-", Some("s3"), false, false, 22_000), &limits);
        assert_eq!(a.sessions.keys().collect::<Vec<_>>(), ["s2", "s3"], "least recently seen evicted");
        a.note(&note("other", None, false, false, 22_000), &limits);
        assert_eq!(a.tenants.keys().collect::<Vec<_>>(), ["-"]);
    }

    #[test]
    fn the_open_mode_json_joins_records_and_figures() {
        let mut a = Activity::default();
        a.note(&note("-", Some("s1"), true, false, 9_000), &ActivityLimits::default());
        let records = vec![
            (
                "s2".to_string(),
                json!({"created_ms": 2, "last_seen_ms": 2, "protocol_version": "2025-06-18", "client": "b"}),
            ),
            (
                "s1".to_string(),
                json!({"created_ms": 1, "last_seen_ms": 1, "protocol_version": "2025-03-26", "client": null}),
            ),
        ];
        let list = a.sessions_json(&records, |id| format!("L{id}"));
        assert_eq!(list[0]["label"], "Ls1");
        assert_eq!(list[0]["calls"], 1);
        assert_eq!(list[0]["requests"], 1);
        assert_eq!(list[0]["last_seen_ms"], 9_000, "the metrics know a later request than the session record");
        assert_eq!(list[1]["calls"], 0);
        assert_eq!(a.tenants_json(), json!({"-": {"requests": 1, "tool_calls": 1, "errors": 0}}));
    }
}
