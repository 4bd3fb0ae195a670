//! One audit event, as the gateway writes it (before it is sealed into
//! the chain, see [`super::chain`]).
//!
//! Its canonical bytes are its JSON with the fields in declaration order
//! and absent ones left out: serde_json writes a struct's fields in that
//! order, escapes strings one way, and the event holds no float and no
//! map, so the same event always has the same bytes.

use crate::hmac::hmac_sha256;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What happened. Extensible: a new kind is a new variant. A sealer that
/// does not know a pending event's kind leaves its record pending (it
/// could not reproduce its bytes), so an older version never loses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord, Default)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A `tools/call`, in either MCP era, whatever its outcome.
    #[default]
    ToolCall,
    /// A request of an authenticated caller refused before doing work
    /// (payload, concurrency, rate, sessions); `outcome` is the reason.
    Refusal,
    /// Refusals of unauthenticated requests in one time window, summed
    /// (`count`), so that a flood costs no write per request.
    Refusals,
    /// A session created (`initialize`).
    SessionCreated,
    /// A session ended (`DELETE`, or expired and swept).
    SessionEnded,
    /// A tool component's circuit breaker opened or closed (`outcome`: the
    /// state entered).
    Breaker,
    /// The oldest events were dropped by retention; `checkpoint` is where
    /// the chain now starts (written by the sealer).
    Retention,
    /// The tool policy refused a `tools/call` (`outcome` `denied`, `detail`
    /// none: no rule grants the tool to the caller).
    Authorization,
}

impl Kind {
    /// The label value (`audit_events_total{kind}`) and the `kind` filter.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ToolCall => "tool_call",
            Kind::Refusal => "refusal",
            Kind::Refusals => "refusals",
            Kind::SessionCreated => "session_created",
            Kind::SessionEnded => "session_ended",
            Kind::Breaker => "breaker",
            Kind::Retention => "retention",
            Kind::Authorization => "authorization",
        }
    }

    /// Every kind, in the order the metrics list them.
    pub const ALL: [Kind; 8] = [
        Kind::ToolCall,
        Kind::Refusal,
        Kind::Refusals,
        Kind::SessionCreated,
        Kind::SessionEnded,
        Kind::Breaker,
        Kind::Retention,
        Kind::Authorization,
    ];

    /// The kind named `s`.
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Where the chain starts after a retention drop: the last dropped event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Its sequence number.
    pub seq: u64,
    /// Its chain hash (hex).
    pub hash: String,
}

/// One event. Every field but `kind` and `time_ms` may be absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Event {
    /// What happened.
    pub kind: Kind,
    /// When, unix ms (the gateway's clock when it answered).
    pub time_ms: u64,
    /// The request's id (`X-Request-Id`, or the one the gateway made).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The W3C trace id (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// The tenant of the caller's key (absent in open mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The session (handshake era).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// The client's name and version (`clientInfo`, either era).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// The MCP method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The tool called.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// The tool component.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    /// How it ended: a tool call's outcome (`success`, `error`, `timeout`,
    /// `circuit_open`), a refusal's reason, a breaker's new state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// How long it took, in microseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_us: Option<u64>,
    /// SHA-256 (hex) of the redacted arguments, canonical JSON (never the
    /// arguments themselves).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments_sha256: Option<String>,
    /// The error class (`error.type`), when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    /// How many (a [`Kind::Refusals`] summary; dropped events for
    /// [`Kind::Retention`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// A few sampled examples (a refusal summary's origins and request ids).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exemplars: Vec<String>,
    /// Where the chain starts after a retention drop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<Checkpoint>,
    /// HMAC-SHA-256 (hex) of the event's other fields under `audit_key`,
    /// made when it was written: the event is tamper-evident before it is
    /// sealed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
}

/// Domain separation of the event MAC from the chain's keyed hash.
const EVENT_MAC_CONTEXT: &[u8] = b"spinscope-audit-event-v1\0";

impl Event {
    /// An event of `kind` at `time_ms`.
    pub fn new(kind: Kind, time_ms: u64) -> Event {
        Event { kind, time_ms, ..Event::default() }
    }

    /// The canonical bytes (see the module documentation), `mac` included.
    pub fn canonical(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an event serializes: no map, no float")
    }

    /// The MAC of this event's fields but `mac`.
    pub fn compute_mac(&self, key: &[u8]) -> String {
        let unsigned = Event { mac: None, ..self.clone() };
        hex::encode(hmac_sha256(key, &[EVENT_MAC_CONTEXT, &unsigned.canonical()]))
    }

    /// Signs the event with `key` (sets `mac`).
    pub fn sign(mut self, key: Option<&[u8]>) -> Event {
        self.mac = key.map(|k| self.compute_mac(k));
        self
    }

    /// Whether `mac` is present and right under `key`.
    pub fn mac_is_valid(&self, key: &[u8]) -> bool {
        let Some(mac) = &self.mac else { return false };
        let expected = self.compute_mac(key);
        // Both are hex of 32 bytes; compare in constant time all the same.
        use subtle::ConstantTimeEq;
        mac.len() == expected.len() && bool::from(mac.as_bytes().ct_eq(expected.as_bytes()))
    }
}

/// SHA-256 (hex) of the redacted arguments as canonical JSON: object keys
/// sorted (serde_json's default map), no whitespace. What an auditor
/// recomputes from arguments they hold, to tell whether a call had them.
pub fn arguments_digest(redacted_arguments: &serde_json::Value) -> String {
    let canonical = serde_json::to_vec(redacted_arguments).expect("a JSON value serializes");
    hex::encode(Sha256::digest(canonical))
}
