//! JSON-RPC 2.0 as MCP uses it: ids, errors, the incoming message (request,
//! notification or a client's response) and the response builders.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{json, Map, Value};
use std::fmt;
use strict::Body;

mod strict;

/// JSON-RPC: the body is not valid JSON.
pub const PARSE_ERROR: i64 = -32700;
/// JSON-RPC: the JSON is not a valid request object.
pub const INVALID_REQUEST: i64 = -32600;
/// JSON-RPC: the method does not exist here.
pub const METHOD_NOT_FOUND: i64 = -32601;
/// JSON-RPC: the method exists but its params are invalid.
pub const INVALID_PARAMS: i64 = -32602;
/// JSON-RPC: the server failed.
pub const INTERNAL_ERROR: i64 = -32603;

/// A JSON-RPC request id. MCP allows strings and integers (never null); the
/// value is echoed back exactly as received, including integers beyond
/// `i64` (up to `u64::MAX`) and any string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RequestId {
    /// A string id, any content.
    String(String),
    /// Always an integer (`is_i64() || is_u64()`).
    Number(serde_json::Number),
}

impl RequestId {
    /// The id in `value` if it is a string or an integer. Null, fractional
    /// numbers (and integers too large for `u64`, which JSON parsing turns
    /// into floats) and other types are not valid MCP ids.
    pub fn from_value(value: &Value) -> Option<RequestId> {
        match value {
            Value::String(s) => Some(RequestId::String(s.clone())),
            Value::Number(n) if n.is_i64() || n.is_u64() => Some(RequestId::Number(n.clone())),
            _ => None,
        }
    }

    /// The id as JSON, exactly as received.
    pub fn to_value(&self) -> Value {
        match self {
            RequestId::String(s) => Value::String(s.clone()),
            RequestId::Number(n) => Value::Number(n.clone()),
        }
    }
}

impl From<i64> for RequestId {
    fn from(n: i64) -> Self {
        RequestId::Number(n.into())
    }
}

impl From<u64> for RequestId {
    fn from(n: u64) -> Self {
        RequestId::Number(n.into())
    }
}

impl From<&str> for RequestId {
    fn from(s: &str) -> Self {
        RequestId::String(s.to_owned())
    }
}

impl From<String> for RequestId {
    fn from(s: String) -> Self {
        RequestId::String(s)
    }
}

/// The raw id (strings unquoted), for logs.
impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestId::String(s) => f.write_str(s),
            RequestId::Number(n) => write!(f, "{n}"),
        }
    }
}

impl Serialize for RequestId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            RequestId::String(s) => serializer.serialize_str(s),
            RequestId::Number(n) => n.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for RequestId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        RequestId::from_value(&value)
            .ok_or_else(|| serde::de::Error::custom("request id must be a string or an integer"))
    }
}

/// A JSON-RPC error to send back, with the id of the request it answers
/// when known (`None` is rendered as `"id": null`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("JSON-RPC error {code}: {message}")]
pub struct RpcError {
    /// The id of the request answered; `None` renders as `"id": null`.
    pub id: Option<RequestId>,
    /// The JSON-RPC error code (e.g. [`INVALID_PARAMS`]).
    pub code: i64,
    /// A short description for the client.
    pub message: String,
    /// The error's `data` member, when it has one.
    pub data: Option<Value>,
}

impl RpcError {
    /// An error with `code` and `message`, not yet tied to a request id.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Self { id: None, code, message: message.into(), data: None }
    }

    /// [`PARSE_ERROR`] with `message`.
    pub fn parse_error(message: impl Into<String>) -> Self {
        Self::new(PARSE_ERROR, message)
    }

    /// [`INVALID_REQUEST`] with `message`.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(INVALID_REQUEST, message)
    }

    /// [`METHOD_NOT_FOUND`], naming `method`.
    pub fn method_not_found(method: &str) -> Self {
        Self::new(METHOD_NOT_FOUND, format!("Method not found: {method}"))
    }

    /// [`INVALID_PARAMS`] with `message`.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(INVALID_PARAMS, message)
    }

    /// [`INTERNAL_ERROR`] with `message`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(INTERNAL_ERROR, message)
    }

    /// The same error, answering the request `id`.
    pub fn with_id(mut self, id: Option<RequestId>) -> Self {
        self.id = id;
        self
    }

    /// The same error with a `data` member.
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    /// The JSON-RPC error response object.
    pub fn to_response(&self) -> Value {
        error(self.id.as_ref(), self.code, &self.message, self.data.clone())
    }
}

/// A response object a client sent to us (answering a server request).
#[derive(Debug, Clone, PartialEq)]
pub struct ClientResponse {
    /// `None` for an error response with `"id": null`.
    pub id: Option<RequestId>,
    /// The `result` member of a success response.
    pub result: Option<Value>,
    /// The `error` member of an error response.
    pub error: Option<Value>,
}

/// One JSON-RPC message received over HTTP POST.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// Expects a response.
    Request {
        /// Echoed back in the response.
        id: RequestId,
        /// The JSON-RPC method, e.g. `tools/call`.
        method: String,
        /// The `params` member, if any.
        params: Option<Value>,
    },
    /// No `id`: no response is sent (HTTP 202, no body).
    Notification {
        /// The JSON-RPC method, e.g. `notifications/initialized`.
        method: String,
        /// The `params` member, if any.
        params: Option<Value>,
    },
    /// A client's response to a server request: also HTTP 202, no body.
    Response(ClientResponse),
}

impl Incoming {
    /// The method of a request or notification (`None` for a response).
    pub fn method(&self) -> Option<&str> {
        match self {
            Incoming::Request { method, .. } | Incoming::Notification { method, .. } => Some(method),
            Incoming::Response(_) => None,
        }
    }

    /// The id of a request or response (`None` for a notification).
    pub fn id(&self) -> Option<&RequestId> {
        match self {
            Incoming::Request { id, .. } => Some(id),
            Incoming::Notification { .. } => None,
            Incoming::Response(r) => r.id.as_ref(),
        }
    }

    /// The params of a request or notification, if any.
    pub fn params(&self) -> Option<&Value> {
        match self {
            Incoming::Request { params, .. } | Incoming::Notification { params, .. } => params.as_ref(),
            Incoming::Response(_) => None,
        }
    }
}

/// Parses an HTTP POST body into one JSON-RPC message, in one pass over
/// the bytes (see [`Body`]).
///
/// * not JSON → `-32700` (id null);
/// * a JSON array → `-32600`: batches were removed from MCP in 2025-06-18,
///   and this server does not accept them for older revisions either;
/// * a key twice at the top level of the message or of its `params`
///   object → `-32600` naming the key: parsers disagree on which value
///   wins (serde_json keeps the last, others the first), so such a message
///   means different things to different readers and is refused (deeper
///   objects, tool arguments included, keep serde_json's last value: the
///   gateway forwards them re-serialized, so every reader downstream sees
///   that one value);
/// * not a valid request, notification or response → `-32600`, carrying the
///   request's id when one could be read (never a duplicated one): `jsonrpc`
///   must be `"2.0"`, `method` a string, `id` a string or an integer that
///   fits in 64 bits (null is invalid in MCP), `params` an object or array;
/// * an object with `result` or `error` and no `method` → [`Incoming::Response`].
pub fn parse_message(body: &[u8]) -> Result<Incoming, RpcError> {
    let body: Body = serde_json::from_slice(body)
        .map_err(|e| RpcError::parse_error(format!("Parse error: body is not valid JSON ({e})")))?;
    let (mut obj, duplicate) = match body {
        Body::Object { members, duplicate } => (members, duplicate),
        Body::Array => {
            return Err(RpcError::invalid_request(
                "Invalid request: JSON-RPC batches are not supported (batching was removed from MCP \
                 in revision 2025-06-18); send one message per HTTP request",
            ))
        }
        Body::Other(kind) => {
            return Err(RpcError::invalid_request(format!(
                "Invalid request: a JSON-RPC message must be a JSON object, got {kind}"
            )))
        }
    };

    // An id given twice is no id at all: which one would be answered?
    let id_duplicated = duplicate.as_ref().is_some_and(|d| !d.in_params && d.key == "id");
    let id = obj.get("id").filter(|_| !id_duplicated).and_then(RequestId::from_value);
    let invalid = |why: String| RpcError::invalid_request(format!("Invalid request: {why}")).with_id(id.clone());

    if let Some(duplicate) = &duplicate {
        return Err(invalid(duplicate.to_string()));
    }

    match obj.get("jsonrpc") {
        Some(Value::String(v)) if v == "2.0" => {}
        None => return Err(invalid("missing \"jsonrpc\": \"2.0\"".into())),
        Some(other) => return Err(invalid(format!("\"jsonrpc\" must be \"2.0\", got {other}"))),
    }

    let method = match obj.get("method") {
        Some(Value::String(m)) => m.clone(),
        Some(other) => return Err(invalid(format!("\"method\" must be a string, got {}", json_type(other)))),
        None => return parse_response(obj, id),
    };

    if let (Some(raw), None) = (obj.get("id"), &id) {
        return Err(invalid(id_problem(raw)));
    }
    let params = match obj.remove("params") {
        None => None,
        Some(p @ (Value::Object(_) | Value::Array(_))) => Some(p),
        Some(other) => {
            return Err(invalid(format!("\"params\" must be an object or an array, got {}", json_type(&other))))
        }
    };
    Ok(match id {
        Some(id) => Incoming::Request { id, method, params },
        None => Incoming::Notification { method, params },
    })
}

/// A message without `method`: valid only as a response.
fn parse_response(mut obj: Map<String, Value>, id: Option<RequestId>) -> Result<Incoming, RpcError> {
    let invalid = |why: &str| RpcError::invalid_request(format!("Invalid request: {why}")).with_id(id.clone());
    let result = obj.remove("result");
    let error = obj.remove("error");
    match (&result, &error) {
        (None, None) => return Err(invalid("missing \"method\"")),
        (Some(_), Some(_)) => return Err(invalid("a response must not carry both \"result\" and \"error\"")),
        _ => {}
    }
    // JSON-RPC allows a null id only on error responses (unknown request).
    let id_ok = match obj.get("id") {
        Some(Value::Null) => error.is_some(),
        Some(raw) if id.is_none() && is_out_of_range_integer(raw) => return Err(invalid(&id_problem(raw))),
        Some(_) => id.is_some(),
        None => false,
    };
    if !id_ok {
        return Err(invalid("a response needs a string or integer \"id\""));
    }
    Ok(Incoming::Response(ClientResponse { id, result, error }))
}

/// Why `raw` is not a valid request id.
fn id_problem(raw: &Value) -> String {
    if is_out_of_range_integer(raw) {
        return format!(
            "\"id\" is an integer out of range: an integer id must lie between {} and {}",
            i64::MIN,
            u64::MAX
        );
    }
    format!("\"id\" must be a string or an integer, got {} (MCP does not allow null ids)", id_type(raw))
}

/// Whether `raw` is an integer beyond `u64::MAX` or below `i64::MIN`:
/// JSON parsing turns those into floats, which have no fraction that
/// large, and rounds the nearest ones to 2^64 and -2^63 (a float that is
/// neither an `i64` nor a `u64` and equals -2^63 was written below it, or
/// with a fraction: out of range is the likelier reading).
fn is_out_of_range_integer(raw: &Value) -> bool {
    const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;
    const MINUS_TWO_POW_63: f64 = -9_223_372_036_854_775_808.0;
    match raw {
        Value::Number(n) if !(n.is_i64() || n.is_u64()) => {
            n.as_f64().is_some_and(|f| f.fract() == 0.0 && (f >= TWO_POW_64 || f <= MINUS_TWO_POW_63))
        }
        _ => false,
    }
}

/// JSON type name for messages.
pub(crate) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn id_type(v: &Value) -> &'static str {
    match v {
        Value::Number(_) => "a non-integer number",
        other => json_type(other),
    }
}

/// A success response.
pub fn success(id: &RequestId, result: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "result": result })
}

/// An error response; `id` `None` renders as `"id": null` (request unknown).
pub fn error(id: Option<&RequestId>, code: i64, message: &str, data: Option<Value>) -> Value {
    let mut err = json!({ "code": code, "message": message });
    if let Some(data) = data {
        err["data"] = data;
    }
    json!({ "jsonrpc": "2.0", "id": id, "error": err })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(body: &str) -> RpcError {
        parse_message(body.as_bytes()).expect_err(body)
    }

    #[test]
    fn a_key_twice_at_the_top_level_is_refused_by_name() {
        let cases = [
            (r#"{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/list"}"#, "\"method\"", Some(1i64)),
            (r#"{"jsonrpc":"2.0","jsonrpc":"2.0","id":1,"method":"ping"}"#, "\"jsonrpc\"", Some(1)),
            (r#"{"jsonrpc":"2.0","id":1,"method":"x","params":{},"params":{}}"#, "\"params\"", Some(1)),
            (r#"{"jsonrpc":"2.0","id":2,"result":{},"result":{}}"#, "\"result\"", Some(2)),
            // Unknown members count too: the message means two things either way.
            (r#"{"jsonrpc":"2.0","id":1,"method":"ping","x":1,"x":2}"#, "\"x\"", Some(1)),
            // An id given twice is no id: the error answers null.
            (r#"{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}"#, "\"id\"", None),
            // A notification's duplicate too.
            (r#"{"jsonrpc":"2.0","method":"a","method":"b"}"#, "\"method\"", None),
        ];
        for (body, key, id) in cases {
            let e = err(body);
            assert_eq!(e.code, INVALID_REQUEST, "{body}");
            assert!(e.message.contains(&format!("duplicate key {key} in the message")), "{body}: {}", e.message);
            assert_eq!(e.id, id.map(RequestId::from), "{body}");
        }
    }

    #[test]
    fn a_key_twice_at_the_top_level_of_params_is_refused_by_name() {
        let body =
            r#"{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"x","arguments":{},"name":"y"}}"#;
        let e = err(body);
        assert_eq!((e.code, e.id.clone()), (INVALID_REQUEST, Some(RequestId::from("a"))));
        assert!(e.message.contains(r#"duplicate key "name" in "params""#), "{}", e.message);
        // Whichever comes first is named, wherever it is.
        let e = err(r#"{"jsonrpc":"2.0","id":1,"params":{"a":1,"a":2},"method":"x","method":"y"}"#);
        assert!(e.message.contains(r#"duplicate key "a" in "params""#), "{}", e.message);
        // Deeper objects keep serde_json's last value (the gateway forwards them re-serialized).
        let m = parse_message(br#"{"jsonrpc":"2.0","id":1,"method":"x","params":{"arguments":{"k":1,"k":2}}}"#);
        assert_eq!(m.unwrap().params(), Some(&json!({"arguments": {"k": 2}})));
        // Arrays and duplicates inside their objects are fine.
        let m = parse_message(br#"{"jsonrpc":"2.0","id":1,"method":"x","params":[{"k":1,"k":2}]}"#).unwrap();
        assert_eq!(m.params(), Some(&json!([{"k": 2}])));
    }

    #[test]
    fn a_duplicated_key_is_quoted_and_bounded() {
        let long = "k".repeat(10_000);
        let e = err(&format!(r#"{{"jsonrpc":"2.0","id":1,"method":"x","{long}":1,"{long}":2}}"#));
        assert!(e.message.len() < 1_000, "{}", e.message.len());
        let e = err(r#"{"jsonrpc":"2.0","id":1,"method":"x","a\"b":1,"a\"b":2}"#);
        assert!(e.message.contains(r#"duplicate key "a\"b""#), "{}", e.message);
    }

    #[test]
    fn invalid_json_after_a_duplicate_is_a_parse_error() {
        let e = err(r#"{"jsonrpc":"2.0","id":1,"id":1,"method":"x""#);
        assert_eq!(e.code, PARSE_ERROR, "{}", e.message);
    }

    #[test]
    fn integer_ids_beyond_64_bits_are_told_as_such() {
        for raw in ["18446744073709551616", "-9223372036854775809", "123456789012345678901234567890", "1e30"] {
            let e = err(&format!(r#"{{"jsonrpc":"2.0","id":{raw},"method":"ping"}}"#));
            assert_eq!((e.code, e.id.clone()), (INVALID_REQUEST, None), "{raw}");
            assert!(e.message.contains("\"id\" is an integer out of range"), "{raw}: {}", e.message);
            assert!(!e.message.contains("non-integer"), "{raw}: {}", e.message);
            let response = err(&format!(r#"{{"jsonrpc":"2.0","id":{raw},"result":{{}}}}"#));
            assert!(response.message.contains("out of range"), "{raw}: {}", response.message);
        }
        // The edges still fit; a fraction is no integer.
        for raw in ["18446744073709551615", "-9223372036854775808"] {
            assert!(parse_message(format!(r#"{{"jsonrpc":"2.0","id":{raw},"method":"ping"}}"#).as_bytes()).is_ok());
        }
        for raw in ["1.5", "1.0", "18446744073709551615.5"] {
            let e = err(&format!(r#"{{"jsonrpc":"2.0","id":{raw},"method":"ping"}}"#));
            let told = e.message.contains("non-integer") || e.message.contains("out of range");
            assert!(told, "{raw}: {}", e.message);
        }
        let e = err(r#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#);
        assert!(e.message.contains("non-integer"), "{}", e.message);
    }

    #[test]
    fn unknown_members_are_allowed_and_dropped() {
        let m = parse_message(br#"{"jsonrpc":"2.0","id":1,"method":"ping","extra":{"deep":[1,2,3]}}"#).unwrap();
        assert_eq!(m, Incoming::Request { id: 1i64.into(), method: "ping".into(), params: None });
    }
}
