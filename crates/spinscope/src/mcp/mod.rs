//! MCP over JSON-RPC 2.0, as spoken by a Streamable HTTP server: protocol
//! revisions, message parsing, response builders, and (in submodules) tool
//! metadata, `tools/list` pagination, `tools/call` handling and a minimal
//! JSON-Schema check of tool arguments. Everything is re-exported here.
//!
//! Hand-written rather than an SDK's types: the gateway needs only these few
//! messages, must keep unknown fields and odd ids exactly as sent, and an
//! SDK (rmcp and its async runtime) would multiply each component's size.

mod jsonrpc;
mod lifecycle;
pub mod modern;
mod schema;
mod tools;

pub use jsonrpc::*;
pub use lifecycle::*;

pub use schema::validate_arguments;
pub use tools::{
    call_tool_result_is_error, list_cursor, paginate, parse_call_tool_params, parse_call_tool_result,
    parse_tool_arguments, structured_result, text_result, tool_error_result, tools_list_result, unknown_tool,
    validate_call_tool_result, CallToolParams, Tool, INPUT_REQUIRED,
};

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

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
        assert_eq!((PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND), (-32700, -32600, -32601));
        assert_eq!((INVALID_PARAMS, INTERNAL_ERROR), (-32602, -32603));
    }

    #[test]
    fn request_with_params() {
        let m = parse(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}}"#).unwrap();
        assert_eq!(
            m,
            Incoming::Request { id: 1i64.into(), method: "tools/call".into(), params: Some(json!({"name":"x"})) }
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
        for raw in ["18446744073709551615", "-9223372036854775808", "9007199254740993", "\"a\\\"b\"", "\"é🦀\""] {
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
            ("123456789012345678901234567890", "an integer out of range"),
        ] {
            let e = err(&format!(r#"{{"jsonrpc":"2.0","id":{raw},"method":"ping"}}"#));
            assert_eq!(e.code, INVALID_REQUEST, "{raw}");
            assert_eq!(e.id, None);
            assert!(e.message.contains(why), "{raw}: {}", e.message);
        }
    }

    #[test]
    fn notification_has_no_id() {
        let m = parse(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).unwrap();
        assert_eq!(m, Incoming::Notification { method: "notifications/initialized".into(), params: None });
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
            assert!(e.message.contains("batch") && e.message.contains("2025-06-18"), "{}", e.message);
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
            (r#"{"jsonrpc":"1.0","id":7,"method":"ping"}"#, "\"jsonrpc\" must be \"2.0\""),
            (r#"{"jsonrpc":2.0,"id":7,"method":"ping"}"#, "\"jsonrpc\" must be \"2.0\""),
            (r#"{"jsonrpc":"2.0","id":7}"#, "missing \"method\""),
            (r#"{"jsonrpc":"2.0","id":7,"method":5}"#, "\"method\" must be a string"),
            (r#"{"jsonrpc":"2.0","id":7,"method":null}"#, "\"method\" must be a string"),
            (r#"{"jsonrpc":"2.0","id":7,"method":"x","params":"s"}"#, "\"params\" must be an object or an array"),
            (r#"{"jsonrpc":"2.0","id":7,"method":"x","params":null}"#, "got null"),
            (r#"{"jsonrpc":"2.0","id":7,"method":"x","params":3}"#, "got number"),
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
            Incoming::Response(ClientResponse { id: Some(3i64.into()), result: Some(json!({})), error: None })
        );
        assert_eq!(m.method(), None);
        let m = parse(r#"{"jsonrpc":"2.0","id":null,"error":{"code":-1,"message":"x"}}"#).unwrap();
        assert!(matches!(m, Incoming::Response(ClientResponse { id: None, error: Some(_), .. })));
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
        assert_eq!(success(&"r".into(), json!({"a":1})), json!({"jsonrpc":"2.0","id":"r","result":{"a":1}}));
        assert_eq!(
            error(Some(&5i64.into()), METHOD_NOT_FOUND, "nope", None),
            json!({"jsonrpc":"2.0","id":5,"error":{"code":-32601,"message":"nope"}})
        );
        assert_eq!(
            error(None, INTERNAL_ERROR, "boom", Some(json!({"x":1}))),
            json!({"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"boom","data":{"x":1}}})
        );
        let e = RpcError::method_not_found("foo/bar").with_id(Some(1i64.into()));
        assert_eq!(e.to_response()["error"]["message"], "Method not found: foo/bar");
        assert_eq!(e.to_string(), "JSON-RPC error -32601: Method not found: foo/bar");
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
        assert_eq!(parse_initialize_params(None).unwrap_err().code, INVALID_PARAMS);
        let e = parse_initialize_params(Some(&json!({"protocolVersion": 1}))).unwrap_err();
        assert_eq!(e.code, INVALID_PARAMS);
        assert!(e.message.contains("protocolVersion"));
    }
}
