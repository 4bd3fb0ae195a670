//! W3C Trace Context (<https://www.w3.org/TR/trace-context/>): parsing and
//! forwarding of `traceparent` / `tracestate`.
//!
//! This module has no randomness of its own: callers pass random bytes for new
//! trace and span ids.

use std::fmt;

use serde_json::Value;

/// The `sampled` bit of `trace-flags`.
pub const FLAG_SAMPLED: u8 = 0x01;
/// Longest `tracestate` kept, in characters (the spec's propagation minimum).
pub const MAX_TRACESTATE_CHARS: usize = 512;
/// Most list members a `tracestate` may carry.
pub const MAX_TRACESTATE_MEMBERS: usize = 32;

/// A parsed `traceparent` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceParent {
    /// Version as received (`0x00`, or a future version we parsed leniently).
    pub version: u8,
    /// The trace id.
    pub trace_id: [u8; 16],
    /// The caller's span id (`parent-id` in the spec).
    pub parent_id: [u8; 8],
    /// `trace-flags` (see [`FLAG_SAMPLED`]).
    pub flags: u8,
}

/// Length of a version-00 header: `vv-` + 32 + `-` + 16 + `-` + 2.
const TRACEPARENT_LEN: usize = 55;

impl TraceParent {
    /// Parses a `traceparent` value per the spec; `None` when invalid.
    ///
    /// Version `00` must be exactly 55 chars of lowercase hex and dashes.
    /// Higher versions (not `ff`) may be longer, provided the 55-char prefix
    /// parses and is followed by `-`; only the sampled flag is kept from
    /// them, since the meaning of their other flags is unknown.
    /// All-zero trace or span ids are invalid.
    pub fn parse(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        if b.len() < TRACEPARENT_LEN {
            return None;
        }
        let [version] = lower_hex(&b[0..2])?;
        if version == 0xff {
            return None;
        }
        let rest_ok = if version == 0 {
            b.len() == TRACEPARENT_LEN
        } else {
            b.len() == TRACEPARENT_LEN || b[TRACEPARENT_LEN] == b'-'
        };
        if !rest_ok || b[2] != b'-' || b[35] != b'-' || b[52] != b'-' {
            return None;
        }
        let trace_id: [u8; 16] = lower_hex(&b[3..35])?;
        let parent_id: [u8; 8] = lower_hex(&b[36..52])?;
        let [mut flags] = lower_hex(&b[53..55])?;
        if is_zero(&trace_id) || is_zero(&parent_id) {
            return None;
        }
        if version != 0 {
            flags &= FLAG_SAMPLED;
        }
        Some(Self { version, trace_id, parent_id, flags })
    }

    /// Whether the caller sampled the trace.
    pub fn sampled(&self) -> bool {
        self.flags & FLAG_SAMPLED != 0
    }

    /// The trace id as 32 lowercase hex chars.
    pub fn trace_id_hex(&self) -> String {
        hex(&self.trace_id)
    }

    /// The caller's span id (`parent-id`) as 16 lowercase hex chars.
    pub fn span_id_hex(&self) -> String {
        hex(&self.parent_id)
    }
}

/// Always renders version `00`: the only version this code speaks, and the
/// one the spec says to use when re-emitting a header of a higher version.
impl fmt::Display for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "00-{}-{}-{:02x}", hex(&self.trace_id), hex(&self.parent_id), self.flags)
    }
}

/// A validated `tracestate` value, kept opaque: spinscope adds no entry of its
/// own and forwards it as received (outer whitespace trimmed).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TraceState(String);

impl TraceState {
    /// `None` if the value is not a valid `tracestate`: over
    /// [`MAX_TRACESTATE_CHARS`], over [`MAX_TRACESTATE_MEMBERS`] members, a
    /// malformed `key=value` member, or a duplicate key. Empty members
    /// (`a=1,,b=2`) are allowed by the spec; an all-empty value is dropped
    /// since there is nothing to forward.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim_matches(is_ows);
        if s.is_empty() || s.chars().count() > MAX_TRACESTATE_CHARS {
            return None;
        }
        let mut keys: Vec<&str> = Vec::new();
        for member in s.split(',') {
            let member = member.trim_matches(is_ows);
            if member.is_empty() {
                continue;
            }
            let (key, value) = member.split_once('=')?;
            if !valid_tracestate_key(key) || !valid_tracestate_value(value) || keys.contains(&key) {
                return None;
            }
            keys.push(key);
        }
        if keys.is_empty() || keys.len() > MAX_TRACESTATE_MEMBERS {
            return None;
        }
        Some(Self(s.to_owned()))
    }

    /// The header value.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The header value, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for TraceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Optional whitespace around list members (spaces and tabs).
fn is_ows(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// `simple-key` or `tenant-id@system-id`.
fn valid_tracestate_key(key: &str) -> bool {
    fn rest_ok(s: &[u8]) -> bool {
        s.iter().all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'_' | b'-' | b'*' | b'/'))
    }
    match key.split_once('@') {
        None => {
            // simple-key = lcalpha 0*255( lcalpha / DIGIT / "_" / "-"/ "*" / "/" )
            let b = key.as_bytes();
            !b.is_empty() && b.len() <= 256 && b[0].is_ascii_lowercase() && rest_ok(&b[1..])
        }
        Some((tenant, system)) => {
            // tenant-id = ( lcalpha / DIGIT ) 0*240( ... ); system-id = lcalpha 0*13( ... )
            let (t, s) = (tenant.as_bytes(), system.as_bytes());
            !t.is_empty()
                && t.len() <= 241
                && (t[0].is_ascii_lowercase() || t[0].is_ascii_digit())
                && rest_ok(&t[1..])
                && !s.is_empty()
                && s.len() <= 14
                && s[0].is_ascii_lowercase()
                && rest_ok(&s[1..])
        }
    }
}

/// value = 0*255(chr) nblk-chr; chr = %x20 / nblk-chr;
/// nblk-chr = %x21-2B / %x2D-3C / %x3E-7E (printable ASCII but `,` and `=`).
fn valid_tracestate_value(value: &str) -> bool {
    let b = value.as_bytes();
    !b.is_empty()
        && b.len() <= 256
        && b[b.len() - 1] != b' '
        && b.iter().all(|&c| (0x20..=0x7e).contains(&c) && c != b',' && c != b'=')
}

/// Where an incoming trace context was carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TraceSource {
    /// `params._meta.traceparent` / `tracestate`: the MCP message's own
    /// context (SEP-414), what an MCP client's instrumentation injects.
    Meta,
    /// The HTTP `traceparent` / `tracestate` headers: the transport's
    /// context, the one Spin's own request span is parented on.
    Header,
    /// The host's current span (Spin's, through `wasi:otel/tracing`'s
    /// `outer-span-context` with `--experimental-wasi-otel`): the parent in
    /// the nested mode ([`TraceContext::nested_in`]); never a link.
    Host,
}

impl TraceSource {
    /// The value of the link attribute that says where a linked context
    /// came from (`spinscope.link.source`).
    pub fn as_str(self) -> &'static str {
        match self {
            TraceSource::Meta => "mcp_meta",
            TraceSource::Header => "http_header",
            TraceSource::Host => "host",
        }
    }
}

/// A context the request carried that did not become its parent: the
/// server span links to it (OTLP `links`), so an operator can go from the
/// gateway's trace to the one it names (Spin's, for the header).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TraceLink {
    /// Its trace id.
    pub trace_id: [u8; 16],
    /// The span it names (the caller's span in that trace).
    pub span_id: [u8; 8],
    /// Its validated `tracestate`, from the same source.
    pub tracestate: Option<String>,
    /// Where it was carried.
    pub source: TraceSource,
}

/// The trace context of one request as seen by this server.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TraceContext {
    /// The trace id, received or new.
    pub trace_id: [u8; 16],
    /// This server's span.
    pub span_id: [u8; 8],
    /// The caller's span, when the trace came from upstream.
    pub parent_span_id: Option<[u8; 8]>,
    /// `trace-flags` of this span (see [`FLAG_SAMPLED`]).
    pub flags: u8,
    /// Validated `tracestate` to forward with the trace, and to export on
    /// the span (OTLP `traceState`).
    pub tracestate: Option<String>,
    /// Where the parent came from (`None` for a trace started here).
    pub source: Option<TraceSource>,
    /// The other context the request carried, when it differs from the
    /// parent (only on the request's own span; a child has none).
    pub links: Vec<TraceLink>,
}

impl TraceContext {
    /// Context for an incoming request. Sources, first valid wins:
    /// 1. `params._meta.traceparent` / `tracestate` (`meta` is the `_meta`
    ///    object): the MCP message's own context. The OpenTelemetry MCP
    ///    conventions parent the server span on it and link the transport's
    ///    ("MCP and underlying transport contexts are independent"), and the
    ///    2026-07-28 revision makes it the request's own (SEP-414);
    /// 2. the HTTP `traceparent` header (with the HTTP `tracestate`), the
    ///    transport's;
    /// 3. a new, sampled trace with its id from `random[0..16]`.
    ///
    /// When both carry a valid context and they differ (trace id or span
    /// id), the header's becomes a [`TraceLink`]: Spin's spans, parented on
    /// the header, sit in the trace it names. `tracestate` is only taken
    /// from the same source as the `traceparent` it belongs to, and dropped
    /// if invalid. The server's own span id is always new, from
    /// `random[16..24]`.
    pub fn from_incoming(
        header_traceparent: Option<&str>,
        header_tracestate: Option<&str>,
        meta: Option<&Value>,
        random: &[u8; 24],
    ) -> Self {
        let span_id = nonzero(random[16..24].try_into().expect("8 bytes"));
        let meta_str = |key: &str| meta.and_then(|m| m.get(key)).and_then(Value::as_str);
        let parse = |tp: Option<&str>, state: Option<&str>, source| {
            let tp = TraceParent::parse(tp?.trim_matches(is_ows))?;
            Some((tp, state.and_then(TraceState::parse).map(TraceState::into_string), source))
        };
        let from_meta = parse(meta_str("traceparent"), meta_str("tracestate"), TraceSource::Meta);
        let from_header = parse(header_traceparent, header_tracestate, TraceSource::Header);

        let (parent, other) = match (from_meta, from_header) {
            (Some(meta), header) => (Some(meta), header),
            (None, header) => (header, None),
        };
        let Some((parent, tracestate, source)) = parent else {
            return Self {
                trace_id: nonzero(random[0..16].try_into().expect("16 bytes")),
                span_id,
                parent_span_id: None,
                flags: FLAG_SAMPLED,
                tracestate: None,
                source: None,
                links: Vec::new(),
            };
        };
        let links = other
            .filter(|(tp, _, _)| (tp.trace_id, tp.parent_id) != (parent.trace_id, parent.parent_id))
            .map(|(tp, tracestate, source)| TraceLink {
                trace_id: tp.trace_id,
                span_id: tp.parent_id,
                tracestate,
                source,
            })
            .into_iter()
            .collect();
        Self {
            trace_id: parent.trace_id,
            span_id,
            parent_span_id: Some(parent.parent_id),
            flags: parent.flags,
            tracestate,
            source: Some(source),
            links,
        }
    }

    /// This context nested in the host's current span `outer` (Spin's
    /// span, whose `parent_id` is its span id), in the nested mode: the
    /// server span becomes a child of `outer`, so that it sits under Spin's
    /// request, and Spin's own spans made during it (store, outbound, the
    /// chained tool component) under it. Spin parents its request span on
    /// the HTTP `traceparent`, so a context the request carried in the
    /// same trace is an ancestor already; one of another trace (a
    /// `params._meta` context that differs from the header's, or a link of
    /// one) is linked instead, so that an operator still gets from one to
    /// the other. The span id stays. `tracestate` is the host's when it has
    /// one, else the request's own when it is of the same trace.
    pub fn nested_in(self, outer: TraceParent, outer_tracestate: Option<&str>) -> Self {
        let mut links: Vec<TraceLink> = Vec::new();
        let own = self.parent_span_id.zip(self.source).map(|(span_id, source)| TraceLink {
            trace_id: self.trace_id,
            span_id,
            tracestate: self.tracestate.clone(),
            source,
        });
        for link in own.into_iter().chain(self.links) {
            let known = links.iter().any(|l| (l.trace_id, l.span_id) == (link.trace_id, link.span_id));
            if link.trace_id != outer.trace_id && !known {
                links.push(link);
            }
        }
        let tracestate = outer_tracestate
            .and_then(TraceState::parse)
            .map(TraceState::into_string)
            .or(self.tracestate.filter(|_| self.trace_id == outer.trace_id));
        Self {
            trace_id: outer.trace_id,
            span_id: self.span_id,
            parent_span_id: Some(outer.parent_id),
            flags: outer.flags,
            tracestate,
            source: Some(TraceSource::Host),
            links,
        }
    }

    /// A child span (e.g. the call to a tool component) in the same trace.
    pub fn child(&self, random8: &[u8; 8]) -> TraceContext {
        TraceContext {
            trace_id: self.trace_id,
            span_id: nonzero(*random8),
            parent_span_id: Some(self.span_id),
            flags: self.flags,
            tracestate: self.tracestate.clone(),
            source: None,
            links: Vec::new(),
        }
    }

    /// The `traceparent` value to forward downstream (this span as parent).
    pub fn traceparent(&self) -> String {
        self.to_traceparent().to_string()
    }

    /// This span as a [`TraceParent`].
    pub fn to_traceparent(&self) -> TraceParent {
        TraceParent { version: 0, trace_id: self.trace_id, parent_id: self.span_id, flags: self.flags }
    }

    /// Whether this span is sampled (recorded and exported).
    pub fn sampled(&self) -> bool {
        self.flags & FLAG_SAMPLED != 0
    }

    /// The trace id as 32 lowercase hex chars.
    pub fn trace_id_hex(&self) -> String {
        hex(&self.trace_id)
    }

    /// This span's id as 16 lowercase hex chars.
    pub fn span_id_hex(&self) -> String {
        hex(&self.span_id)
    }
}

/// Lowercase hex of `bytes` (trace, span, session and request ids).
pub fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// `N` bytes from exactly `2N` lowercase hex digits (uppercase is invalid
/// in traceparent).
fn lower_hex<const N: usize>(s: &[u8]) -> Option<[u8; N]> {
    if s.iter().any(u8::is_ascii_uppercase) {
        return None;
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}

fn is_zero(b: &[u8]) -> bool {
    b.iter().all(|&x| x == 0)
}

/// All-zero ids are invalid; should the random source ever return zeros,
/// flip the last bit rather than emit an id every receiver would reject.
fn nonzero<const N: usize>(mut id: [u8; N]) -> [u8; N] {
    if is_zero(&id) {
        id[N - 1] = 1;
    }
    id
}

/// Longest W3C `baggage` forwarded, in bytes (the W3C Baggage limit).
pub const MAX_BAGGAGE_BYTES: usize = 8192;

/// `value` if it can be forwarded as a W3C `baggage` header: at most
/// [`MAX_BAGGAGE_BYTES`], visible ASCII and spaces only. Baggage is passed
/// on to the tools as it came, never logged or put on a span: it is the
/// caller's and may name users.
pub fn forwardable_baggage(value: &str) -> Option<&str> {
    let value = value.trim_matches(is_ows);
    let ok = !value.is_empty()
        && value.len() <= MAX_BAGGAGE_BYTES
        && value.bytes().all(|b| b == b' ' || b == b'\t' || (0x21..0x7f).contains(&b));
    ok.then_some(value)
}

/// The W3C `baggage` of a request, from the same place as its trace
/// context: `params._meta.baggage` first, then the HTTP header; each only
/// when [`forwardable_baggage`].
pub fn incoming_baggage<'a>(header: Option<&'a str>, meta: Option<&'a Value>) -> Option<&'a str> {
    let from_meta = meta.and_then(|m| m.get("baggage")).and_then(Value::as_str).and_then(forwardable_baggage);
    from_meta.or_else(|| header.and_then(forwardable_baggage))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn baggage_is_forwarded_only_when_a_header_can_carry_it() {
        assert_eq!(forwardable_baggage(" userId=alice,isProduction=false "), Some("userId=alice,isProduction=false"));
        assert_eq!(forwardable_baggage(""), None);
        assert_eq!(forwardable_baggage("a=\u{e9}"), None);
        assert_eq!(forwardable_baggage("a=b\r\nx-evil: 1"), None);
        assert_eq!(forwardable_baggage(&"k=v,".repeat(3000)), None);
    }

    const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn random() -> [u8; 24] {
        let mut r = [0u8; 24];
        for (i, b) in r.iter_mut().enumerate() {
            *b = i as u8 + 1;
        }
        r
    }

    #[test]
    fn nested_in_the_host_span_the_host_is_the_parent_and_another_trace_a_link() {
        let spin = TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-1111111111111111-01").unwrap();
        // The header's trace: Spin's span descends from it, nothing to link.
        let header = TraceContext::from_incoming(Some(TP), Some("a=1"), None, &random());
        let nested = header.clone().nested_in(spin, None);
        assert_eq!(nested.trace_id, spin.trace_id);
        assert_eq!(nested.parent_span_id, Some(spin.parent_id));
        assert_eq!(nested.span_id, header.span_id, "the span id stays");
        assert_eq!(nested.source, Some(TraceSource::Host));
        assert_eq!(nested.tracestate.as_deref(), Some("a=1"), "the request's, same trace");
        assert!(nested.links.is_empty());
        // The host's tracestate wins; an invalid one is none.
        assert_eq!(header.clone().nested_in(spin, Some("spin=x")).tracestate.as_deref(), Some("spin=x"));
        // `_meta` of another trace than the header's: linked, with its
        // tracestate; the header's link (Spin's ancestor) is dropped.
        let meta =
            json!({"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "tracestate": "m=2"});
        let both = TraceContext::from_incoming(Some(TP), None, Some(&meta), &random());
        let nested = both.nested_in(spin, None);
        assert_eq!(nested.links.len(), 1);
        let link = &nested.links[0];
        assert_eq!(hex(&link.trace_id), "0af7651916cd43dd8448eb211c80319c");
        assert_eq!(hex(&link.span_id), "b7ad6b7169203331");
        assert_eq!((link.source, link.tracestate.as_deref()), (TraceSource::Meta, Some("m=2")));
        assert_eq!(nested.tracestate, None, "another trace's tracestate is not Spin's");
        // No incoming context: a child of the host's span, nothing linked;
        // the host's sampling flag decides.
        let unsampled = TraceParent { flags: 0, ..spin };
        let fresh = TraceContext::from_incoming(None, None, None, &random()).nested_in(unsampled, None);
        assert_eq!((fresh.parent_span_id, fresh.links.len(), fresh.sampled()), (Some(spin.parent_id), 0, false));
    }

    #[test]
    fn parses_and_round_trips_version_00() {
        let tp = TraceParent::parse(TP).unwrap();
        assert_eq!(tp.version, 0);
        assert_eq!(tp.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(tp.span_id_hex(), "00f067aa0ba902b7");
        assert!(tp.sampled());
        assert_eq!(tp.to_string(), TP);
        let unsampled = TraceParent::parse(&TP.replace("-01", "-00")).unwrap();
        assert!(!unsampled.sampled());
        // Unknown flags of version 00 are kept as received.
        assert_eq!(TraceParent::parse(&TP.replace("-01", "-03")).unwrap().flags, 3);
    }

    #[test]
    fn rejects_malformed_version_00() {
        let bad = [
            "",
            "00",
            &TP.to_uppercase(),                                        // uppercase hex
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", // uppercase trace id
            &format!("{TP}-extra"),                                    // v00 must be exactly 55
            &format!("{TP} "),                                         // trailing garbage
            &TP[..54],                                                 // too short
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01", // zero trace id
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", // zero span id
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // version ff
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // wrong separator
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01", // non-hex
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x", // non-hex flags
            "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // non-hex version
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",  // short flags
            "00-4bf92f3577b34da6a3ce929d0e0e47361-0f067aa0ba902b7-01", // shifted dash
        ];
        for s in bad {
            assert_eq!(TraceParent::parse(s), None, "{s:?}");
        }
    }

    #[test]
    fn future_versions_are_parsed_leniently() {
        let v = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff";
        let tp = TraceParent::parse(v).unwrap();
        assert_eq!(tp.version, 0xcc);
        assert_eq!(tp.flags, FLAG_SAMPLED, "only the sampled bit is known");
        assert_eq!(tp.to_string(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        assert!(TraceParent::parse(&format!("{v}-what-the-future-will-be")).is_some());
        // Extra data must be a new `-` field.
        assert!(TraceParent::parse(&format!("{v}x")).is_none());
        assert!(TraceParent::parse(&v[..54]).is_none());
    }

    #[test]
    fn tracestate_validation() {
        let ok = [
            "rojo=00f067aa0ba902b7",
            "congo=t61rcWkgMzE, rojo=00f067aa0ba902b7",
            "a=1,,b=2",
            "tenant1@vendor=x",
            "t@vendor12345678=x",
            "foo=bar ",
            "a*b/c_d-e=v v",
            " \tfoo=bar\t ",
        ];
        for s in ok {
            assert!(TraceState::parse(s).is_some(), "{s:?}");
        }
        assert_eq!(TraceState::parse(" foo=bar ").unwrap().as_str(), "foo=bar");
        let bad = [
            "",
            " , ",
            "foo",
            "Foo=bar",
            "1abc=x",
            "foo=",
            "foo=b\u{7f}",
            "foo=b,ar=",
            "foo=a=b",
            "a=1,a=2",
            "foo=bär",
            "t@=x",
            "@v=x",
            "t@Vendor=x",
            "t@vendor123456789=x",
        ];
        for s in bad {
            assert!(TraceState::parse(s).is_none(), "{s:?}");
        }
    }

    #[test]
    fn tracestate_limits() {
        let members: Vec<String> = (0..32).map(|i| format!("k{i}=v")).collect();
        assert!(TraceState::parse(&members.join(",")).is_some());
        let members: Vec<String> = (0..33).map(|i| format!("k{i}=v")).collect();
        assert!(TraceState::parse(&members.join(",")).is_none());
        let long = format!("a={}", "x".repeat(MAX_TRACESTATE_CHARS - 2));
        assert!(TraceState::parse(&long).is_none(), "value over 256");
        let near: Vec<String> = (0..3).map(|i| format!("k{i}={}", "x".repeat(200))).collect();
        assert!(TraceState::parse(&near.join(",")).is_none(), "over 512 chars");
        let fits: Vec<String> = (0..2).map(|i| format!("k{i}={}", "x".repeat(250))).collect();
        assert!(TraceState::parse(&fits.join(",")).is_some());
    }

    #[test]
    fn meta_wins_over_header_and_the_header_is_linked() {
        let meta = json!({"traceparent": "00-11111111111111111111111111111111-2222222222222222-00",
                          "tracestate": "meta=1"});
        let ctx = TraceContext::from_incoming(Some(TP), Some("hdr=1"), Some(&meta), &random());
        assert_eq!(ctx.trace_id_hex(), "11111111111111111111111111111111");
        assert_eq!(ctx.parent_span_id, Some([0x22; 8]));
        assert_eq!(ctx.span_id_hex(), "1112131415161718");
        assert_eq!(ctx.tracestate.as_deref(), Some("meta=1"));
        assert!(!ctx.sampled(), "flags come from the parent, _meta's");
        assert_eq!(ctx.source, Some(TraceSource::Meta));
        assert_eq!(
            ctx.links,
            vec![TraceLink {
                trace_id: TraceParent::parse(TP).unwrap().trace_id,
                span_id: TraceParent::parse(TP).unwrap().parent_id,
                tracestate: Some("hdr=1".into()),
                source: TraceSource::Header,
            }],
            "the header's context, with its own tracestate"
        );
        assert!(ctx.child(&[9; 8]).links.is_empty(), "only the request's own span links");
    }

    #[test]
    fn the_same_context_in_both_places_is_not_linked() {
        let meta = json!({"traceparent": TP, "tracestate": "meta=1"});
        let ctx = TraceContext::from_incoming(Some(TP), Some("hdr=1"), Some(&meta), &random());
        assert_eq!((ctx.source, ctx.links.len()), (Some(TraceSource::Meta), 0));
        assert_eq!(ctx.tracestate.as_deref(), Some("meta=1"));
        // Same trace, another span (an HTTP client span under the MCP one): linked.
        let other_span = TP.replace("00f067aa0ba902b7", "00f067aa0ba902b8");
        let ctx = TraceContext::from_incoming(Some(&other_span), None, Some(&meta), &random());
        assert_eq!(ctx.links.len(), 1);
        assert_eq!(ctx.links[0].trace_id, ctx.trace_id);
        assert_eq!(hex(&ctx.links[0].span_id), "00f067aa0ba902b8");
        assert_eq!(ctx.links[0].tracestate, None);
    }

    #[test]
    fn the_header_is_the_parent_when_meta_has_none() {
        for meta in [None, Some(json!({})), Some(json!({"traceparent": "garbage", "tracestate": "meta=1"}))] {
            let ctx = TraceContext::from_incoming(Some(TP), Some("hdr=1"), meta.as_ref(), &random());
            assert_eq!(ctx.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736", "{meta:?}");
            assert_eq!(ctx.source, Some(TraceSource::Header));
            assert_eq!(ctx.tracestate.as_deref(), Some("hdr=1"), "state from the same source");
            assert!(ctx.links.is_empty(), "nothing else to link");
        }
    }

    #[test]
    fn baggage_comes_from_where_the_context_does() {
        let meta = json!({"baggage": "tier=gold"});
        assert_eq!(incoming_baggage(Some("h=1"), Some(&meta)), Some("tier=gold"));
        assert_eq!(incoming_baggage(Some("h=1"), Some(&json!({"baggage": "a=\u{e9}"}))), Some("h=1"));
        assert_eq!(incoming_baggage(Some("h=1"), None), Some("h=1"));
        assert_eq!(incoming_baggage(None, None), None);
    }

    #[test]
    fn meta_used_when_header_missing_or_invalid() {
        let meta = json!({"traceparent": "00-11111111111111111111111111111111-2222222222222222-00",
                          "tracestate": "meta=1"});
        for header in [None, Some("garbage")] {
            let ctx = TraceContext::from_incoming(header, Some("hdr=1"), Some(&meta), &random());
            assert_eq!(ctx.trace_id_hex(), "11111111111111111111111111111111");
            assert_eq!(ctx.parent_span_id, Some([0x22; 8]));
            assert!(!ctx.sampled(), "flags come from the parent");
            assert_eq!(ctx.tracestate.as_deref(), Some("meta=1"), "state from the same source");
            assert_eq!(ctx.source, Some(TraceSource::Meta));
            assert!(ctx.links.is_empty(), "no valid header to link");
        }
    }

    #[test]
    fn new_trace_when_nothing_valid() {
        let meta = json!({"traceparent": 42, "tracestate": "meta=1"});
        let ctx = TraceContext::from_incoming(Some("00-bad"), Some("hdr=1"), Some(&meta), &random());
        assert_eq!(ctx.trace_id_hex(), "0102030405060708090a0b0c0d0e0f10");
        assert_eq!(ctx.span_id_hex(), "1112131415161718");
        assert_eq!(ctx.parent_span_id, None);
        assert_eq!(ctx.flags, FLAG_SAMPLED);
        assert_eq!(ctx.tracestate, None, "tracestate without a valid traceparent is ignored");
        let none = TraceContext::from_incoming(None, None, None, &random());
        assert_eq!(none, ctx);
    }

    #[test]
    fn invalid_tracestate_dropped_but_trace_kept() {
        let ctx = TraceContext::from_incoming(Some(TP), Some("Invalid Key=1"), None, &random());
        assert_eq!(ctx.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(ctx.tracestate, None);
    }

    #[test]
    fn header_whitespace_is_tolerated() {
        let ctx = TraceContext::from_incoming(Some(&format!(" {TP}\t")), None, None, &random());
        assert_eq!(ctx.parent_span_id.map(|p| hex(&p)).as_deref(), Some("00f067aa0ba902b7"));
    }

    #[test]
    fn zero_random_bytes_still_give_valid_ids() {
        let ctx = TraceContext::from_incoming(None, None, None, &[0; 24]);
        assert!(TraceParent::parse(&ctx.traceparent()).is_some(), "{}", ctx.traceparent());
        let child = ctx.child(&[0; 8]);
        assert!(TraceParent::parse(&child.traceparent()).is_some());
    }

    #[test]
    fn child_and_forwarding() {
        let ctx = TraceContext::from_incoming(Some(TP), Some("a=b"), None, &random());
        assert_eq!(ctx.traceparent(), "00-4bf92f3577b34da6a3ce929d0e0e4736-1112131415161718-01");
        let child = ctx.child(&[0xab; 8]);
        assert_eq!(child.trace_id, ctx.trace_id);
        assert_eq!(child.parent_span_id, Some(ctx.span_id));
        assert_eq!(child.span_id, [0xab; 8]);
        assert_eq!(child.tracestate.as_deref(), Some("a=b"));
        assert_eq!(child.traceparent(), "00-4bf92f3577b34da6a3ce929d0e0e4736-abababababababab-01");
    }
}
