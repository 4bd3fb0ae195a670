//! MCP over JSON-RPC 2.0, as spoken by a Streamable HTTP server: protocol
//! revisions, message parsing, response builders, and (in submodules) tool
//! metadata, `tools/list` pagination, `tools/call` handling and a minimal
//! JSON-Schema check of tool arguments. Everything is re-exported here.

mod schema;
mod tools;

pub use schema::validate_arguments;
pub use tools::{
    call_tool_result_is_error, list_cursor, paginate, parse_call_tool_params,
    parse_call_tool_result, parse_tool_arguments, structured_result, text_result,
    tool_error_result, tools_list_result, unknown_tool,
    validate_call_tool_result, CallToolParams, Tool,
};

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{json, Map, Value};

/// Protocol revisions this server speaks, oldest first.
pub const SUPPORTED_VERSIONS: [&str; 3] = ["2025-03-26", "2025-06-18", "2025-11-25"];
/// The newest supported revision, offered when the client's is unknown.
pub const LATEST: &str = "2025-11-25";
/// HTTP header carrying the negotiated revision (lowercase, as HTTP/2 sends it).
pub const PROTOCOL_VERSION_HEADER: &str = "mcp-protocol-version";
/// HTTP header carrying the session id.
pub const SESSION_ID_HEADER: &str = "mcp-session-id";

/// The revision to answer `initialize` with: the client's own when we
/// support it, else [`LATEST`] (the client then decides whether to go on).
pub fn negotiate(client: &str) -> &'static str {
    supported_version(client).unwrap_or(LATEST)
}

/// The static spelling of `version` if it is supported, e.g. to validate the
/// `MCP-Protocol-Version` header (unsupported → HTTP 400).
pub fn supported_version(version: &str) -> Option<&'static str> {
    SUPPORTED_VERSIONS.into_iter().find(|v| *v == version)
}

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
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    /// The id of the request answered; `None` renders as `"id": null`.
    pub id: Option<RequestId>,
    /// The JSON-RPC error code (e.g. [`INVALID_PARAMS`]).
    pub code: i64,
    /// A short description for the client.
    pub message: String,
}

impl RpcError {
    /// An error with `code` and `message`, not yet tied to a request id.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            id: None,
            code,
            message: message.into(),
        }
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

    /// The JSON-RPC error response object.
    pub fn to_response(&self) -> Value {
        error(self.id.as_ref(), self.code, &self.message, None)
    }
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JSON-RPC error {}: {}", self.code, self.message)
    }
}

impl std::error::Error for RpcError {}

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
            Incoming::Request { method, .. } | Incoming::Notification { method, .. } => {
                Some(method)
            }
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
            Incoming::Request { params, .. } | Incoming::Notification { params, .. } => {
                params.as_ref()
            }
            Incoming::Response(_) => None,
        }
    }
}

/// Parses an HTTP POST body into one JSON-RPC message.
///
/// * not JSON → `-32700` (id null);
/// * a JSON array → `-32600`: batches were removed from MCP in 2025-06-18,
///   and this server does not accept them for older revisions either;
/// * not a valid request, notification or response → `-32600`, carrying the
///   request's id when one could be read: `jsonrpc` must be `"2.0"`, `method`
///   a string, `id` a string or integer (null is invalid in MCP), `params` an
///   object or array;
/// * an object with `result` or `error` and no `method` → [`Incoming::Response`].
pub fn parse_message(body: &[u8]) -> Result<Incoming, RpcError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| RpcError::parse_error(format!("Parse error: body is not valid JSON ({e})")))?;
    let obj = match value {
        Value::Object(obj) => obj,
        Value::Array(_) => return Err(RpcError::invalid_request(
            "Invalid request: JSON-RPC batches are not supported (batching was removed from MCP \
                 in revision 2025-06-18); send one message per HTTP request",
        )),
        other => {
            return Err(RpcError::invalid_request(format!(
                "Invalid request: a JSON-RPC message must be a JSON object, got {}",
                json_type(&other)
            )))
        }
    };

    let raw_id = obj.get("id");
    let id = raw_id.and_then(RequestId::from_value);
    let invalid = |why: String| {
        RpcError::invalid_request(format!("Invalid request: {why}")).with_id(id.clone())
    };

    match obj.get("jsonrpc") {
        Some(Value::String(v)) if v == "2.0" => {}
        None => return Err(invalid("missing \"jsonrpc\": \"2.0\"".into())),
        Some(other) => return Err(invalid(format!("\"jsonrpc\" must be \"2.0\", got {other}"))),
    }

    let method = match obj.get("method") {
        Some(Value::String(m)) => m.clone(),
        Some(other) => {
            return Err(invalid(format!(
                "\"method\" must be a string, got {}",
                json_type(other)
            )))
        }
        None => return parse_response(&obj, raw_id, id),
    };

    if let (Some(raw), None) = (raw_id, &id) {
        return Err(invalid(format!(
            "\"id\" must be a string or an integer, got {} (MCP does not allow null ids)",
            id_type(raw)
        )));
    }
    let params = match obj.get("params") {
        None => None,
        Some(p @ (Value::Object(_) | Value::Array(_))) => Some(p.clone()),
        Some(other) => {
            return Err(invalid(format!(
                "\"params\" must be an object or an array, got {}",
                json_type(other)
            )))
        }
    };
    Ok(match id {
        Some(id) => Incoming::Request { id, method, params },
        None => Incoming::Notification { method, params },
    })
}

/// A message without `method`: valid only as a response.
fn parse_response(
    obj: &Map<String, Value>,
    raw_id: Option<&Value>,
    id: Option<RequestId>,
) -> Result<Incoming, RpcError> {
    let invalid = |why: &str| {
        RpcError::invalid_request(format!("Invalid request: {why}")).with_id(id.clone())
    };
    let result = obj.get("result").cloned();
    let error = obj.get("error").cloned();
    match (&result, &error) {
        (None, None) => return Err(invalid("missing \"method\"")),
        (Some(_), Some(_)) => {
            return Err(invalid(
                "a response must not carry both \"result\" and \"error\"",
            ))
        }
        _ => {}
    }
    // JSON-RPC allows a null id only on error responses (unknown request).
    let id_ok = match raw_id {
        Some(Value::Null) => error.is_some(),
        Some(_) => id.is_some(),
        None => false,
    };
    if !id_ok {
        return Err(invalid("a response needs a string or integer \"id\""));
    }
    Ok(Incoming::Response(ClientResponse { id, result, error }))
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

/// The `initialize` result: tools only, with a static tool list.
pub fn initialize_result(
    negotiated_version: &str,
    server_name: &str,
    server_version: &str,
    instructions: Option<&str>,
) -> Value {
    let mut result = json!({
        "protocolVersion": negotiated_version,
        "capabilities": { "tools": { "listChanged": false } },
        "serverInfo": { "name": server_name, "version": server_version },
    });
    if let Some(instructions) = instructions {
        result["instructions"] = Value::String(instructions.to_owned());
    }
    result
}

/// What spinscope reads from `initialize` params.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitializeParams {
    /// The revision the client asked for (negotiate with [`negotiate`]).
    pub protocol_version: String,
    /// `clientInfo.name`, when it is a string.
    pub client_name: Option<String>,
    /// `clientInfo.version`, when it is a string.
    pub client_version: Option<String>,
}

/// Reads `initialize` params: `protocolVersion` must be a string (else
/// `-32602`); `clientInfo` is read when well-formed and otherwise ignored.
pub fn parse_initialize_params(params: Option<&Value>) -> Result<InitializeParams, RpcError> {
    let version = params.and_then(|p| p.get("protocolVersion"));
    let protocol_version = match version {
        Some(Value::String(v)) => v.clone(),
        Some(other) => {
            return Err(RpcError::invalid_params(format!(
                "params.protocolVersion must be a string, got {}",
                json_type(other)
            )))
        }
        None => {
            return Err(RpcError::invalid_params(
                "initialize requires params.protocolVersion",
            ))
        }
    };
    let info = params.and_then(|p| p.get("clientInfo"));
    let info_str = |k: &str| {
        info.and_then(|i| i.get(k))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    Ok(InitializeParams {
        protocol_version,
        client_name: info_str("name"),
        client_version: info_str("version"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Incoming, RpcError> {
        parse_message(s.as_bytes())
    }

    fn err(s: &str) -> RpcError {
        parse(s).expect_err(s)
    }

    #[test]
    fn version_negotiation() {
        assert_eq!(negotiate("2025-06-18"), "2025-06-18");
        assert_eq!(negotiate("2025-03-26"), "2025-03-26");
        assert_eq!(negotiate("2025-11-25"), "2025-11-25");
        assert_eq!(negotiate("2024-11-05"), LATEST);
        assert_eq!(negotiate(""), LATEST);
        assert_eq!(LATEST, *SUPPORTED_VERSIONS.last().unwrap());
        assert_eq!(supported_version("2099-01-01"), None);
    }

    #[test]
    fn error_codes() {
        assert_eq!(
            (PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND),
            (-32700, -32600, -32601)
        );
        assert_eq!((INVALID_PARAMS, INTERNAL_ERROR), (-32602, -32603));
    }

    #[test]
    fn request_with_params() {
        let m = parse(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}}"#)
            .unwrap();
        assert_eq!(
            m,
            Incoming::Request {
                id: 1i64.into(),
                method: "tools/call".into(),
                params: Some(json!({"name":"x"}))
            }
        );
        assert_eq!(m.method(), Some("tools/call"));
        assert_eq!(m.params(), Some(&json!({"name":"x"})));
    }

    #[test]
    fn id_zero_and_empty_string_are_valid() {
        let m = parse(r#"{"jsonrpc":"2.0","id":0,"method":"ping"}"#).unwrap();
        assert_eq!(m.id(), Some(&RequestId::from(0i64)));
        let m = parse(r#"{"jsonrpc":"2.0","id":"","method":"ping"}"#).unwrap();
        assert_eq!(m.id(), Some(&RequestId::from("")));
        assert!(matches!(m, Incoming::Request { params: None, .. }));
    }

    #[test]
    fn ids_round_trip_exactly() {
        for raw in [
            "18446744073709551615",
            "-9223372036854775808",
            "9007199254740993",
            "\"a\\\"b\"",
            "\"é🦀\"",
        ] {
            let body = format!(r#"{{"jsonrpc":"2.0","id":{raw},"method":"ping"}}"#);
            let id = parse(&body).unwrap().id().cloned().unwrap();
            let resp = serde_json::to_string(&success(&id, json!({}))).unwrap();
            assert!(resp.contains(&format!("\"id\":{raw}")), "{resp}");
        }
        let id: RequestId = serde_json::from_str("42").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "42");
        assert_eq!(RequestId::from("abc").to_string(), "abc");
        assert!(serde_json::from_str::<RequestId>("null").is_err());
    }

    #[test]
    fn invalid_ids() {
        for (raw, why) in [
            ("null", "null ids"),
            ("1.5", "non-integer"),
            ("true", "boolean"),
            ("{}", "object"),
            ("123456789012345678901234567890", "non-integer"),
        ] {
            let e = err(&format!(
                r#"{{"jsonrpc":"2.0","id":{raw},"method":"ping"}}"#
            ));
            assert_eq!(e.code, INVALID_REQUEST, "{raw}");
            assert_eq!(e.id, None);
            assert!(e.message.contains(why), "{raw}: {}", e.message);
        }
    }

    #[test]
    fn notification_has_no_id() {
        let m = parse(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).unwrap();
        assert_eq!(
            m,
            Incoming::Notification {
                method: "notifications/initialized".into(),
                params: None
            }
        );
        assert_eq!(m.id(), None);
    }

    #[test]
    fn parse_error_has_null_id() {
        for body in ["", "{", "not json", "{\"jsonrpc\":\"2.0\",}"] {
            let e = err(body);
            assert_eq!(e.code, PARSE_ERROR, "{body}");
            assert_eq!(e.to_response()["id"], Value::Null);
        }
        assert_eq!(parse_message(&[0xff, 0xfe]).unwrap_err().code, PARSE_ERROR);
    }

    #[test]
    fn batches_are_rejected() {
        for body in [r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#, "[]"] {
            let e = err(body);
            assert_eq!(e.code, INVALID_REQUEST);
            assert!(
                e.message.contains("batch") && e.message.contains("2025-06-18"),
                "{}",
                e.message
            );
        }
    }

    #[test]
    fn non_object_messages() {
        for body in ["1", "\"x\"", "null", "true"] {
            assert_eq!(err(body).code, INVALID_REQUEST, "{body}");
        }
    }

    #[test]
    fn invalid_requests_keep_the_id() {
        let cases = [
            (r#"{"id":7,"method":"ping"}"#, "missing \"jsonrpc\""),
            (
                r#"{"jsonrpc":"1.0","id":7,"method":"ping"}"#,
                "\"jsonrpc\" must be \"2.0\"",
            ),
            (
                r#"{"jsonrpc":2.0,"id":7,"method":"ping"}"#,
                "\"jsonrpc\" must be \"2.0\"",
            ),
            (r#"{"jsonrpc":"2.0","id":7}"#, "missing \"method\""),
            (
                r#"{"jsonrpc":"2.0","id":7,"method":5}"#,
                "\"method\" must be a string",
            ),
            (
                r#"{"jsonrpc":"2.0","id":7,"method":null}"#,
                "\"method\" must be a string",
            ),
            (
                r#"{"jsonrpc":"2.0","id":7,"method":"x","params":"s"}"#,
                "\"params\" must be an object or an array",
            ),
            (
                r#"{"jsonrpc":"2.0","id":7,"method":"x","params":null}"#,
                "got null",
            ),
            (
                r#"{"jsonrpc":"2.0","id":7,"method":"x","params":3}"#,
                "got number",
            ),
        ];
        for (body, why) in cases {
            let e = err(body);
            assert_eq!(e.code, INVALID_REQUEST, "{body}");
            assert_eq!(e.id, Some(RequestId::from(7i64)), "{body}");
            assert!(e.message.contains(why), "{body}: {}", e.message);
            assert_eq!(e.to_response()["id"], 7);
        }
    }

    #[test]
    fn params_may_be_an_array() {
        let m = parse(r#"{"jsonrpc":"2.0","id":"a","method":"x","params":[1]}"#).unwrap();
        assert_eq!(m.params(), Some(&json!([1])));
    }

    #[test]
    fn client_responses() {
        let m = parse(r#"{"jsonrpc":"2.0","id":3,"result":{}}"#).unwrap();
        assert_eq!(
            m,
            Incoming::Response(ClientResponse {
                id: Some(3i64.into()),
                result: Some(json!({})),
                error: None
            })
        );
        assert_eq!(m.method(), None);
        let m = parse(r#"{"jsonrpc":"2.0","id":null,"error":{"code":-1,"message":"x"}}"#).unwrap();
        assert!(matches!(
            m,
            Incoming::Response(ClientResponse {
                id: None,
                error: Some(_),
                ..
            })
        ));
        for body in [
            r#"{"jsonrpc":"2.0","result":{}}"#,
            r#"{"jsonrpc":"2.0","id":null,"result":{}}"#,
            r#"{"jsonrpc":"2.0","id":1,"result":{},"error":{}}"#,
            r#"{"jsonrpc":"2.0","id":true,"error":{}}"#,
        ] {
            assert_eq!(err(body).code, INVALID_REQUEST, "{body}");
        }
    }

    #[test]
    fn response_builders() {
        assert_eq!(
            success(&"r".into(), json!({"a":1})),
            json!({"jsonrpc":"2.0","id":"r","result":{"a":1}})
        );
        assert_eq!(
            error(Some(&5i64.into()), METHOD_NOT_FOUND, "nope", None),
            json!({"jsonrpc":"2.0","id":5,"error":{"code":-32601,"message":"nope"}})
        );
        assert_eq!(
            error(None, INTERNAL_ERROR, "boom", Some(json!({"x":1}))),
            json!({"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"boom","data":{"x":1}}})
        );
        let e = RpcError::method_not_found("foo/bar").with_id(Some(1i64.into()));
        assert_eq!(
            e.to_response()["error"]["message"],
            "Method not found: foo/bar"
        );
        assert_eq!(
            e.to_string(),
            "JSON-RPC error -32601: Method not found: foo/bar"
        );
    }

    #[test]
    fn initialize() {
        assert_eq!(
            initialize_result("2025-06-18", "spinscope", "0.1.0", None),
            json!({
                "protocolVersion": "2025-06-18",
                "capabilities": {"tools": {"listChanged": false}},
                "serverInfo": {"name": "spinscope", "version": "0.1.0"}
            })
        );
        let r = initialize_result(LATEST, "s", "1", Some("Use the tools."));
        assert_eq!(r["instructions"], "Use the tools.");

        let p = parse_initialize_params(Some(&json!({
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "inspector", "version": "1.2"}
        })))
        .unwrap();
        assert_eq!(p.protocol_version, "2025-06-18");
        assert_eq!(p.client_name.as_deref(), Some("inspector"));
        assert_eq!(p.client_version.as_deref(), Some("1.2"));
        assert_eq!(
            parse_initialize_params(None).unwrap_err().code,
            INVALID_PARAMS
        );
        let e = parse_initialize_params(Some(&json!({"protocolVersion": 1}))).unwrap_err();
        assert_eq!(e.code, INVALID_PARAMS);
        assert!(e.message.contains("protocolVersion"));
    }
}
