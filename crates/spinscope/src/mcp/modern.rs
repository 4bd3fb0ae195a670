//! The modern revision (2026-07-28): stateless requests that carry their
//! revision, client info and capabilities in `params._meta`, with the
//! `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name` headers mirroring the
//! body for intermediaries. Here: which era a message belongs to, the
//! server's validation ladder, `server/discover`, and the envelope every
//! modern result carries (`resultType`, `serverInfo`, cache hints).

use super::jsonrpc::{json_type, RpcError, INVALID_PARAMS, METHOD_NOT_FOUND};
use super::lifecycle::{ALL_VERSIONS, HANDSHAKE_ERA_VERSIONS, MODERN_VERSIONS, PROTOCOL_VERSION_HEADER};
use base64::Engine;
use serde_json::{json, Value};

/// `params._meta` key of the request's revision.
pub const PROTOCOL_VERSION_META: &str = "io.modelcontextprotocol/protocolVersion";
/// `params._meta` key of the client's name and version.
pub const CLIENT_INFO_META: &str = "io.modelcontextprotocol/clientInfo";
/// `params._meta` key of the client's capabilities.
pub const CLIENT_CAPABILITIES_META: &str = "io.modelcontextprotocol/clientCapabilities";
/// Result `_meta` key of the server's name and version.
pub const SERVER_INFO_META: &str = "io.modelcontextprotocol/serverInfo";
/// HTTP header mirroring the JSON-RPC `method` (lowercase).
pub const METHOD_HEADER: &str = "mcp-method";
/// HTTP header mirroring `params.name` of `tools/call` (lowercase).
pub const NAME_HEADER: &str = "mcp-name";
/// The headers must match the body, and be there once each (-32020).
pub const HEADER_MISMATCH: i64 = -32020;
/// The client did not declare a capability the request needs (-32021,
/// with `data.requiredCapabilities`).
pub const MISSING_REQUIRED_CAPABILITY: i64 = -32021;
/// The request's revision is not served (-32022, with `data.supported`).
pub const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;
/// The modern era's discovery method.
pub const DISCOVER: &str = "server/discover";

/// The two eras a message can belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    /// `initialize`, then a session (2025-11-25 and earlier).
    Handshake,
    /// Every request stands alone (2026-07-28).
    Modern,
}

/// The era of a message: modern when its `_meta` names a revision, when it
/// is `server/discover`, or when its `MCP-Protocol-Version` header names a
/// revision that is not of the handshake era (an unknown one included, so
/// that it gets the modern error naming the supported revisions). Anything
/// else is served as the handshake era always was.
pub fn era(method: Option<&str>, params: Option<&Value>, header_version: Option<&str>) -> Era {
    let meta_names_version = params.and_then(|p| p.get("_meta")).and_then(|m| m.get(PROTOCOL_VERSION_META)).is_some();
    let header_is_modern = header_version.is_some_and(|v| !HANDSHAKE_ERA_VERSIONS.contains(&v));
    if meta_names_version || method == Some(DISCOVER) || header_is_modern {
        Era::Modern
    } else {
        Era::Handshake
    }
}

/// What a valid modern request says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The revision, one of [`MODERN_VERSIONS`].
    pub protocol_version: &'static str,
    /// `clientInfo.name`, redacted as free text and bounded
    /// ([`crate::redact::client_string`]).
    pub client_name: Option<String>,
    /// `clientInfo.version`, redacted and bounded likewise.
    pub client_version: Option<String>,
}

/// Methods whose `params` member is mirrored in `Mcp-Name`, and which member.
const NAME_BEARING: [(&str, &str); 3] = [("tools/call", "name"), ("prompts/get", "name"), ("resources/read", "uri")];
/// Headers that must not be sent twice: two readers could each take a different copy.
const ROUTING_HEADERS: [&str; 3] = [PROTOCOL_VERSION_HEADER, METHOD_HEADER, NAME_HEADER];

/// The server's validation ladder for a modern request; the first failure
/// wins. `headers` are (lowercase name, value), duplicates kept.
/// 1. the revision: one named by `params._meta` must be served in this
///    era, one named by `MCP-Protocol-Version` must be served at all,
///    else -32022 with `data.supported`: checked before anything that
///    depends on the revision, so a client always learns what to fall
///    back to, whatever else its request lacks;
/// 2. `params._meta` is an object naming the revision (a string) and the
///    client's capabilities, else -32602;
/// 3. each routing header is sent at most once, `MCP-Protocol-Version`
///    equals the `_meta` revision, `Mcp-Method` the method and, for
///    `tools/call`, `Mcp-Name` (decoded) `params.name`, else -32020.
pub fn check_request(method: &str, params: Option<&Value>, headers: &[(String, String)]) -> Result<Envelope, RpcError> {
    let meta = params.and_then(|p| p.get("_meta")).and_then(Value::as_object);
    let meta_version = meta.and_then(|m| m.get(PROTOCOL_VERSION_META));
    let header_version = headers.iter().find(|(k, _)| k == PROTOCOL_VERSION_HEADER).map(|(_, v)| v.as_str());
    if let Some(requested) = meta_version.and_then(Value::as_str) {
        if !MODERN_VERSIONS.contains(&requested) {
            // A served revision in the header that the body contradicts is
            // the transport's HeaderMismatch (as the conformance suite's
            // server-stateless checks); otherwise the revision is not served.
            return Err(match header_version {
                Some(h) if h != requested && ALL_VERSIONS.contains(&h) => mismatch(format!(
                    "the MCP-Protocol-Version header ({h:?}) differs from params._meta's {PROTOCOL_VERSION_META} ({requested:?})"
                )),
                _ => unsupported_version(requested),
            });
        }
    }
    if let Some(requested) = header_version.filter(|v| !ALL_VERSIONS.contains(v)) {
        return Err(unsupported_version(requested));
    }

    let meta = meta.ok_or_else(|| {
        RpcError::invalid_params(format!(
            "a {} request carries params._meta with \"{PROTOCOL_VERSION_META}\" and \"{CLIENT_CAPABILITIES_META}\"",
            MODERN_VERSIONS[0]
        ))
    })?;
    let missing: Vec<&str> =
        [PROTOCOL_VERSION_META, CLIENT_CAPABILITIES_META].into_iter().filter(|k| !meta.contains_key(*k)).collect();
    if !missing.is_empty() {
        return Err(RpcError::invalid_params(format!("params._meta lacks {}", missing.join(" and "))));
    }
    let version = &meta[PROTOCOL_VERSION_META];
    let Some(protocol_version) = version.as_str().and_then(|v| MODERN_VERSIONS.into_iter().find(|m| *m == v)) else {
        return Err(RpcError::invalid_params(format!(
            "params._meta's {PROTOCOL_VERSION_META} must be a string, got {}",
            json_type(version)
        )));
    };

    let header = |name: &str| -> Result<Option<&str>, RpcError> {
        let mut values = headers.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(mismatch(format!("the {name} header is sent more than once")));
        }
        match first {
            Some(v) if !v.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b)) => {
                Err(mismatch(format!("the {name} header holds characters a header value cannot")))
            }
            other => Ok(other),
        }
    };
    for name in ROUTING_HEADERS {
        header(name)?;
    }
    match header(PROTOCOL_VERSION_HEADER)? {
        None => return Err(mismatch("the MCP-Protocol-Version header is missing".into())),
        Some(h) if version.as_str() != Some(h) => {
            return Err(mismatch(format!(
            "the MCP-Protocol-Version header ({h:?}) differs from params._meta's {PROTOCOL_VERSION_META} ({version})"
        )))
        }
        Some(_) => {}
    }
    match header(METHOD_HEADER)? {
        None => return Err(mismatch("the Mcp-Method header is missing".into())),
        Some(h) if h != method => {
            return Err(mismatch(format!("the Mcp-Method header ({h:?}) differs from the method ({method:?})")))
        }
        Some(_) => {}
    }
    if let Some((_, member)) = NAME_BEARING.iter().find(|(m, _)| *m == method) {
        if let Some(body) = params.and_then(|p| p.get(*member)).and_then(Value::as_str) {
            let sent = header(NAME_HEADER)?.ok_or_else(|| mismatch("the Mcp-Name header is missing".into()))?;
            let decoded = decode_header_value(sent)
                .ok_or_else(|| mismatch("the Mcp-Name header holds a malformed =?base64?…?= value".into()))?;
            if decoded != body {
                return Err(mismatch(format!("the Mcp-Name header differs from params.{member}")));
            }
        }
    }

    // Redacted (default policy) and bounded here, for every user downstream.
    let info = meta.get(CLIENT_INFO_META);
    let info_str = |k: &str| info.and_then(|i| i.get(k)).and_then(Value::as_str).map(crate::redact::client_string);
    Ok(Envelope { protocol_version, client_name: info_str("name"), client_version: info_str("version") })
}

/// The revision of a modern notification (the revision defines none a
/// client sends over HTTP; one is acknowledged unless it names a revision
/// not served): the header's, else `_meta`'s.
pub fn notification_version(params: Option<&Value>, header_version: Option<&str>) -> Result<&'static str, RpcError> {
    let meta_version =
        params.and_then(|p| p.get("_meta")).and_then(|m| m.get(PROTOCOL_VERSION_META)).and_then(Value::as_str);
    let version = header_version.or(meta_version).unwrap_or("");
    MODERN_VERSIONS.into_iter().find(|v| *v == version).ok_or_else(|| unsupported_version(version))
}

fn mismatch(message: String) -> RpcError {
    RpcError::new(HEADER_MISMATCH, format!("Header mismatch: {message}"))
}

/// -32022 for a revision not served, naming those that are.
pub fn unsupported_version(requested: &str) -> RpcError {
    RpcError::new(UNSUPPORTED_PROTOCOL_VERSION, "Unsupported protocol version")
        .with_data(json!({ "supported": ALL_VERSIONS, "requested": crate::bounded::client_string(requested) }))
}

/// A header value as sent, or decoded from the `=?base64?…?=` form that
/// carries values a header cannot; `None` when that form is malformed.
pub fn decode_header_value(value: &str) -> Option<String> {
    match value.strip_prefix("=?base64?").and_then(|v| v.strip_suffix("?=")) {
        None => Some(value.to_string()),
        Some(encoded) => {
            let bytes = base64::engine::general_purpose::STANDARD.decode(encoded).ok()?;
            String::from_utf8(bytes).ok()
        }
    }
}

/// -32601 for a method the modern era does not have, saying what to do
/// instead where the revision removed it.
pub fn method_not_found(method: &str) -> RpcError {
    let versions = super::lifecycle::SUPPORTED_VERSIONS.join(", ");
    let hint = match method {
        "initialize" => format!(
            ": {} has no handshake; send each request with params._meta, or send initialize without \
             {PROTOCOL_VERSION_META} to start a session in a handshake-era revision ({versions})",
            MODERN_VERSIONS[0]
        ),
        "ping" => format!(": {} removed ping", MODERN_VERSIONS[0]),
        _ => String::new(),
    };
    RpcError::new(METHOD_NOT_FOUND, format!("Method not found: {}{hint}", crate::bounded::client_string(method)))
}

/// The HTTP status of a modern request's JSON-RPC error (the transport's
/// table): 400 for what the client must correct, 404 for an unknown
/// method, 200 for anything else (the server's own failures, which are not
/// the transport's to describe).
pub fn http_status(code: i64) -> u16 {
    match code {
        METHOD_NOT_FOUND => 404,
        -32700 | -32600 | INVALID_PARAMS | HEADER_MISMATCH | -32021 | UNSUPPORTED_PROTOCOL_VERSION => 400,
        _ => 200,
    }
}

/// Who may keep a cacheable result: shared caches (`Public`), or only the
/// client that asked (`Private`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheScope {
    /// Any cache, for any caller.
    Public,
    /// The requesting client only.
    Private,
}

/// Sets a result's cache hints (`ttlMs`, `cacheScope`).
pub fn set_cache_hints(result: &mut Value, ttl_ms: u64, scope: CacheScope) {
    if let Some(obj) = result.as_object_mut() {
        obj.insert("ttlMs".into(), ttl_ms.into());
        obj.insert("cacheScope".into(), (if scope == CacheScope::Public { "public" } else { "private" }).into());
    }
}

/// Completes a modern result: `resultType` (required from 2026-07-28 on)
/// and the server's identity in `_meta`.
pub fn complete(mut result: Value, server_name: &str, server_version: &str) -> Value {
    if let Some(obj) = result.as_object_mut() {
        obj.entry("resultType").or_insert_with(|| "complete".into());
        let meta = obj.entry("_meta").or_insert_with(|| json!({}));
        if let Some(meta) = meta.as_object_mut() {
            meta.insert(SERVER_INFO_META.into(), json!({ "name": server_name, "version": server_version }));
        }
    }
    result
}

/// The `server/discover` result (before [`complete`]): every revision
/// served, the tools capability, and cache hints.
pub fn discover_result(ttl_ms: u64, scope: CacheScope) -> Value {
    let mut result = json!({
        "supportedVersions": ALL_VERSIONS,
        "capabilities": { "tools": { "listChanged": false } },
    });
    set_cache_hints(&mut result, ttl_ms, scope);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn call_params(name: &str) -> Value {
        json!({"name": name, "arguments": {}, "_meta": {
            PROTOCOL_VERSION_META: "2026-07-28",
            CLIENT_INFO_META: {"name": "t", "version": "1.0"},
            CLIENT_CAPABILITIES_META: {}
        }})
    }

    const GOOD: [(&str, &str); 3] =
        [("mcp-protocol-version", "2026-07-28"), ("mcp-method", "tools/call"), ("mcp-name", "word_count")];

    #[test]
    fn eras() {
        let meta = json!({"_meta": {PROTOCOL_VERSION_META: "2026-07-28"}});
        assert_eq!(era(Some("tools/list"), Some(&meta), None), Era::Modern);
        assert_eq!(era(Some(DISCOVER), None, None), Era::Modern);
        assert_eq!(era(Some("tools/list"), None, Some("2026-07-28")), Era::Modern);
        assert_eq!(era(Some("tools/list"), None, Some("1900-01-01")), Era::Modern);
        assert_eq!(era(Some("tools/list"), None, Some("2025-06-18")), Era::Handshake);
        assert_eq!(era(Some("tools/list"), None, Some("2024-11-05")), Era::Handshake);
        assert_eq!(era(Some("initialize"), Some(&json!({"protocolVersion": "2025-11-25"})), None), Era::Handshake);
        assert_eq!(era(None, None, None), Era::Handshake);
    }

    #[test]
    fn a_valid_request() {
        let env = check_request("tools/call", Some(&call_params("word_count")), &headers(&GOOD)).unwrap();
        assert_eq!(env.protocol_version, "2026-07-28");
        assert_eq!((env.client_name.as_deref(), env.client_version.as_deref()), (Some("t"), Some("1.0")));
    }

    #[test]
    fn the_client_info_is_redacted_and_bounded() {
        let with_client = |name: &str, version: &str| {
            let mut p = call_params("word_count");
            p["_meta"][CLIENT_INFO_META] = json!({"name": name, "version": version});
            check_request("tools/call", Some(&p), &headers(&GOOD)).unwrap()
        };
        let env = with_client("my-agent auth: Zq7tok", "1.0 sk-proj-Zq7abcdefghijklmnopqrstu");
        assert_eq!(env.client_name.as_deref(), Some("my-agent auth: <redacted>"));
        assert_eq!(env.client_version.as_deref(), Some("1.0 <redacted>"));
        let env = with_client(r#"{"p\u0061ss": "Zq7"}"#, "mysql -uroot -pZq7pw");
        assert!(!env.client_name.unwrap().contains("Zq7"));
        assert_eq!(env.client_version.as_deref(), Some("mysql -uroot -p<redacted>"));
        let env = with_client(&format!("{} password=Zq7{}", "n".repeat(250), "x".repeat(30)), "v");
        let name = env.client_name.unwrap();
        assert!(!name.contains("Zq7") && name.ends_with(crate::bounded::CUT_MARKER), "{name}");
        assert_eq!(with_client("e2e-modern", "2.0").client_name.as_deref(), Some("e2e-modern"));
    }

    #[test]
    fn the_ladder() {
        let p = call_params("word_count");
        let code = |method: &str, params: &Value, h: &[(&str, &str)]| {
            check_request(method, Some(params), &headers(h)).unwrap_err().code
        };
        assert_eq!(code("tools/call", &json!({"name": "word_count"}), &GOOD), INVALID_PARAMS);
        let no_caps = json!({"name": "x", "_meta": {PROTOCOL_VERSION_META: "2026-07-28"}});
        assert_eq!(code("tools/call", &no_caps, &GOOD), INVALID_PARAMS);
        assert_eq!(code("tools/call", &p, &GOOD[1..]), HEADER_MISMATCH, "no version header");
        assert_eq!(code("tools/call", &p, &[GOOD[0], GOOD[2]]), HEADER_MISMATCH, "no method header");
        assert_eq!(code("tools/call", &p, &GOOD[..2]), HEADER_MISMATCH, "no name header");
        let wrong = [("mcp-protocol-version", "2025-11-25"), GOOD[1], GOOD[2]];
        assert_eq!(code("tools/call", &p, &wrong), HEADER_MISMATCH);
        assert_eq!(code("tools/call", &p, &[GOOD[0], ("mcp-method", "tools/list"), GOOD[2]]), HEADER_MISMATCH);
        assert_eq!(code("tools/call", &p, &[GOOD[0], GOOD[1], ("mcp-name", "other")]), HEADER_MISMATCH);
        assert_eq!(code("tools/call", &p, &[GOOD[0], GOOD[1], GOOD[2], GOOD[2]]), HEADER_MISMATCH, "twice");
        assert_eq!(code("tools/call", &p, &[GOOD[0], GOOD[1], ("mcp-name", "=?base64?%%?=")]), HEADER_MISMATCH);
        let mut old = p.clone();
        old["_meta"][PROTOCOL_VERSION_META] = "1900-01-01".into();
        let e = check_request(
            "tools/call",
            Some(&old),
            &headers(&[("mcp-protocol-version", "1900-01-01"), GOOD[1], GOOD[2]]),
        )
        .unwrap_err();
        assert_eq!(e.code, UNSUPPORTED_PROTOCOL_VERSION);
        assert_eq!(e.to_response()["error"]["data"]["supported"][0], "2026-07-28");
        assert_eq!(e.to_response()["error"]["data"]["requested"], "1900-01-01");
        // A tools/list names nothing, so no Mcp-Name is needed.
        let list = json!({"_meta": p["_meta"].clone()});
        check_request("tools/list", Some(&list), &headers(&[GOOD[0], ("mcp-method", "tools/list")])).unwrap();
    }

    #[test]
    fn the_revision_is_checked_before_anything_that_depends_on_it() {
        let code =
            |params: Value, h: &[(&str, &str)]| check_request("tools/list", Some(&params), &headers(h)).unwrap_err();
        let method = ("mcp-method", "tools/list");
        // No clientCapabilities, and headers that disagree: still -32022.
        let future = json!({"_meta": {PROTOCOL_VERSION_META: "2099-01-01"}});
        let e = code(future.clone(), &[("mcp-protocol-version", "2099-01-01"), method]);
        assert_eq!(
            (e.code, e.data.clone().unwrap()["requested"].clone()),
            (UNSUPPORTED_PROTOCOL_VERSION, json!("2099-01-01"))
        );
        assert_eq!(code(future, &[]).code, UNSUPPORTED_PROTOCOL_VERSION, "whatever else the request lacks");
        // Only the header is unsupported.
        let current = json!({"_meta": {PROTOCOL_VERSION_META: "2026-07-28"}});
        assert_eq!(code(current, &[("mcp-protocol-version", "2099-01-01"), method]).code, UNSUPPORTED_PROTOCOL_VERSION);
        assert_eq!(code(json!({}), &[("mcp-protocol-version", "2099-01-01")]).code, UNSUPPORTED_PROTOCOL_VERSION);
        // A served revision in the header that differs from _meta's is a mismatch, not unsupported.
        let caps = json!({"_meta": {PROTOCOL_VERSION_META: "2026-07-28", CLIENT_CAPABILITIES_META: {}}});
        assert_eq!(code(caps, &[("mcp-protocol-version", "2025-06-18"), method]).code, HEADER_MISMATCH);
        // A revision that is no string is a malformed _meta.
        let number = json!({"_meta": {PROTOCOL_VERSION_META: 2026, CLIENT_CAPABILITIES_META: {}}});
        assert_eq!(code(number, &[method]).code, INVALID_PARAMS);
    }

    #[test]
    fn notifications_name_a_served_revision() {
        let meta = json!({"_meta": {PROTOCOL_VERSION_META: "2026-07-28"}});
        assert_eq!(notification_version(Some(&meta), None), Ok("2026-07-28"));
        assert_eq!(notification_version(None, Some("2026-07-28")), Ok("2026-07-28"));
        let e = notification_version(Some(&meta), Some("2099-01-01")).unwrap_err();
        assert_eq!(e.code, UNSUPPORTED_PROTOCOL_VERSION, "the header first");
        assert_eq!(notification_version(None, None).unwrap_err().code, UNSUPPORTED_PROTOCOL_VERSION);
    }

    #[test]
    fn base64_names() {
        let p = call_params("héllo wörld");
        let h = [GOOD[0], GOOD[1], ("mcp-name", "=?base64?aMOpbGxvIHfDtnJsZA==?=")];
        check_request("tools/call", Some(&p), &headers(&h)).unwrap();
        assert_eq!(decode_header_value("plain").as_deref(), Some("plain"));
        assert_eq!(decode_header_value("=?base64?!!?="), None);
    }

    #[test]
    fn statuses_and_results() {
        assert_eq!(http_status(METHOD_NOT_FOUND), 404);
        assert_eq!(http_status(HEADER_MISMATCH), 400);
        assert_eq!(http_status(UNSUPPORTED_PROTOCOL_VERSION), 400);
        assert_eq!(http_status(-32603), 200);
        let r = complete(discover_result(60_000, CacheScope::Private), "spinscope", "1.2.3");
        assert_eq!(r["supportedVersions"][0], "2026-07-28");
        assert_eq!((r["ttlMs"].as_u64(), r["cacheScope"].as_str()), (Some(60_000), Some("private")));
        assert_eq!(r["resultType"], "complete");
        assert_eq!(r["_meta"][SERVER_INFO_META]["name"], "spinscope");
        assert!(method_not_found("initialize").message.contains("2025-11-25"));
    }
}
