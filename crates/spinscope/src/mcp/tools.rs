//! Tool metadata, `tools/list` pagination, `tools/call` params and results.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::{json_type, RpcError};

/// A tool as advertised in `tools/list`.
///
/// Fields this code does not know (e.g. `_meta`, `icons`, or whatever a newer
/// revision adds) are kept in `extra` and serialized back unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tool {
    /// The name clients call it by (unique across the components).
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// A human-readable name.
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// What the tool does, for the model.
    pub description: Option<String>,
    /// Required by MCP; a component that omits it gets the accept-any-object
    /// schema rather than making the whole tool list unreadable.
    #[serde(default = "any_object_schema")]
    pub input_schema: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// JSON schema of `structuredContent`, if the tool declares one.
    pub output_schema: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Hints about the tool (read-only, destructive…), passed through.
    pub annotations: Option<Value>,
    #[serde(flatten)]
    /// Every other field, kept as received.
    pub extra: Map<String, Value>,
}

fn any_object_schema() -> Value {
    json!({ "type": "object" })
}

impl Tool {
    /// A tool with only a name and an input schema.
    pub fn new(name: impl Into<String>, input_schema: Value) -> Self {
        Self {
            name: name.into(),
            title: None,
            description: None,
            input_schema,
            output_schema: None,
            annotations: None,
            extra: Map::new(),
        }
    }
}

/// Prefix of the opaque `tools/list` cursor, followed by a decimal offset.
const CURSOR_PREFIX: &str = "o:";

/// One `tools/list` page starting at `cursor`, and the cursor of the next
/// page if there is one. `page_size` 0 means no pagination. A cursor this
/// server did not issue (malformed, non-canonical, or past the end) is
/// `-32602`, as the spec asks.
pub fn paginate<'a, T>(
    tools: &'a [T],
    cursor: Option<&str>,
    page_size: usize,
) -> Result<(Vec<&'a T>, Option<String>), RpcError> {
    let start = match cursor {
        None => 0,
        Some(c) => decode_cursor(c)
            .filter(|&n| n <= tools.len())
            .ok_or_else(|| RpcError::invalid_params(format!("Invalid cursor: {c:?}")))?,
    };
    let end = if page_size == 0 { tools.len() } else { start.saturating_add(page_size).min(tools.len()) };
    let next = (end < tools.len()).then(|| format!("{CURSOR_PREFIX}{end}"));
    Ok((tools[start..end].iter().collect(), next))
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    let digits = cursor.strip_prefix(CURSOR_PREFIX)?;
    let n: usize = digits.parse().ok()?;
    // Only the canonical spelling we issue (no `+`, no leading zeros).
    (n.to_string() == digits).then_some(n)
}

/// The `tools/list` result for one page.
pub fn tools_list_result(page: &[&Tool], next_cursor: Option<&str>) -> Value {
    let mut result = json!({ "tools": page });
    if let Some(next) = next_cursor {
        result["nextCursor"] = Value::String(next.to_owned());
    }
    result
}

/// `params.cursor` of `tools/list` (absent or null: first page).
pub fn list_cursor(params: Option<&Value>) -> Result<Option<&str>, RpcError> {
    let params = match params {
        None => return Ok(None),
        Some(Value::Object(p)) => p,
        Some(other) => {
            return Err(RpcError::invalid_params(format!(
                "tools/list params must be an object, got {}",
                json_type(other)
            )))
        }
    };
    match params.get("cursor") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(c)) => Ok(Some(c)),
        Some(other) => {
            Err(RpcError::invalid_params(format!("params.cursor must be a string, got {}", json_type(other))))
        }
    }
}

/// The parts of `tools/call` params the gateway uses.
#[derive(Debug, Clone, PartialEq)]
pub struct CallToolParams {
    /// The tool to call.
    pub name: String,
    /// Always an object (`{}` when absent or null).
    pub arguments: Value,
    /// `params._meta` when it is an object (progress token, trace context…).
    pub meta: Option<Value>,
}

/// Reads `tools/call` params: `name` a non-empty string, `arguments` an
/// object if present; anything else is `-32602` with a message saying what
/// is wrong.
pub fn parse_call_tool_params(params: Option<&Value>) -> Result<CallToolParams, RpcError> {
    let params = match params {
        Some(Value::Object(p)) => p,
        None => return Err(RpcError::invalid_params("tools/call requires params with a tool \"name\"")),
        Some(other) => {
            return Err(RpcError::invalid_params(format!(
                "tools/call params must be an object, got {}",
                json_type(other)
            )))
        }
    };
    let name = match params.get("name") {
        Some(Value::String(n)) if n.is_empty() => {
            return Err(RpcError::invalid_params("params.name must not be empty"))
        }
        Some(Value::String(n)) => n.clone(),
        None => return Err(RpcError::invalid_params("missing tool name: params.name is required")),
        Some(other) => {
            return Err(RpcError::invalid_params(format!("params.name must be a string, got {}", json_type(other))))
        }
    };
    let arguments = match params.get("arguments") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(a @ Value::Object(_)) => a.clone(),
        Some(other) => {
            return Err(RpcError::invalid_params(format!(
                "params.arguments must be an object, got {}",
                json_type(other)
            )))
        }
    };
    let meta = params.get("_meta").filter(|m| m.is_object()).cloned();
    Ok(CallToolParams { name, arguments, meta })
}

/// `-32602` for a `tools/call` naming no known tool (the spec's example).
pub fn unknown_tool(name: &str) -> RpcError {
    RpcError::invalid_params(format!("Unknown tool: {name}"))
}

/// A `CallToolResult` reporting a tool-level failure to the model (as
/// opposed to a protocol error).
pub fn tool_error_result(message: &str) -> Value {
    json!({ "content": [{ "type": "text", "text": message }], "isError": true })
}

/// A successful `CallToolResult` with one text item (what tool components
/// answer; see `spinscope-tool`).
pub fn text_result(text: String) -> Value {
    json!({ "content": [{ "type": "text", "text": text }], "isError": false })
}

/// A successful `CallToolResult` whose text item is the JSON of its
/// `structuredContent`, for clients that only read `content`.
pub fn structured_result(value: Value) -> Value {
    json!({
        "content": [{ "type": "text", "text": value.to_string() }],
        "structuredContent": value,
        "isError": false,
    })
}

/// Parses a tool's arguments object as a tool component receives it (the
/// raw `POST` body); an empty body counts as `{}`.
pub fn parse_tool_arguments<T: serde::de::DeserializeOwned>(tool: &str, body: &[u8]) -> Result<T, String> {
    let body = if body.iter().all(u8::is_ascii_whitespace) { b"{}" } else { body };
    serde_json::from_slice(body).map_err(|e| format!("invalid arguments for {tool}: {e}"))
}

/// Checks that a tool component's answer is a `CallToolResult`: an object
/// with a `content` array of typed items (text items need a string `text`),
/// an optional boolean `isError` and an optional object `structuredContent`.
pub fn validate_call_tool_result(result: &Value) -> Result<(), String> {
    let obj =
        result.as_object().ok_or_else(|| format!("tool result must be a JSON object, got {}", json_type(result)))?;
    // A 2026-07-28 InputRequiredResult (SEP-2322): what the tool needs from
    // the client before it can answer; no content yet.
    if obj.get("resultType").and_then(Value::as_str) == Some(INPUT_REQUIRED) {
        return match obj.get("inputRequests") {
            Some(Value::Object(_)) | None if obj.contains_key("inputRequests") || obj.contains_key("requestState") => {
                Ok(())
            }
            _ => Err("an input_required result needs an \"inputRequests\" object".into()),
        };
    }
    let content = match obj.get("content") {
        Some(Value::Array(items)) => items,
        Some(other) => return Err(format!("tool result \"content\" must be an array, got {}", json_type(other))),
        None => return Err("tool result is missing the \"content\" array".into()),
    };
    for (i, item) in content.iter().enumerate() {
        let kind = match item.get("type") {
            Some(Value::String(t)) => t,
            _ => return Err(format!("tool result content[{i}] must be an object with a string \"type\"")),
        };
        if kind == "text" && !item.get("text").is_some_and(Value::is_string) {
            return Err(format!("tool result content[{i}] of type \"text\" needs a string \"text\""));
        }
    }
    if let Some(v) = obj.get("isError").filter(|v| !v.is_boolean()) {
        return Err(format!("tool result \"isError\" must be a boolean, got {}", json_type(v)));
    }
    if let Some(v) = obj.get("structuredContent").filter(|v| !v.is_object()) {
        return Err(format!("tool result \"structuredContent\" must be an object, got {}", json_type(v)));
    }
    Ok(())
}

/// The `resultType` of an InputRequiredResult (SEP-2322).
pub const INPUT_REQUIRED: &str = "input_required";

/// Parses and validates a tool component's response body.
pub fn parse_call_tool_result(body: &[u8]) -> Result<Value, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("tool response is not valid JSON: {e}"))?;
    validate_call_tool_result(&value)?;
    Ok(value)
}

/// Whether a (validated) `CallToolResult` reports a tool error.
pub fn call_tool_result_is_error(result: &Value) -> bool {
    result.get("isError").and_then(Value::as_bool).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::super::INVALID_PARAMS;
    use super::*;

    fn tools(n: usize) -> Vec<Tool> {
        (0..n).map(|i| Tool::new(format!("t{i}"), json!({"type": "object"}))).collect()
    }

    fn names(page: &[&Tool]) -> Vec<String> {
        page.iter().map(|t| t.name.clone()).collect()
    }

    #[test]
    fn an_input_required_result_is_a_result() {
        let ok =
            json!({"resultType": "input_required", "inputRequests": {"k": {"method": "roots/list", "params": {}}}});
        assert_eq!(validate_call_tool_result(&ok), Ok(()));
        let state_only = json!({"resultType": "input_required", "requestState": "s"});
        assert_eq!(validate_call_tool_result(&state_only), Ok(()));
        assert!(validate_call_tool_result(&json!({"resultType": "input_required"})).is_err());
        assert!(validate_call_tool_result(&json!({"resultType": "input_required", "inputRequests": 3})).is_err());
        assert!(validate_call_tool_result(&json!({"resultType": "complete"})).is_err(), "content still required");
    }

    #[test]
    fn tool_serde_camel_case_and_extra_fields() {
        let raw = json!({
            "name": "fetch", "title": "Fetch", "description": "Fetches a URL",
            "inputSchema": {"type": "object", "properties": {"url": {"type": "string"}}},
            "outputSchema": {"type": "object"},
            "annotations": {"readOnlyHint": true},
            "_meta": {"x": 1}, "icons": []
        });
        let tool: Tool = serde_json::from_value(raw.clone()).unwrap();
        assert_eq!(tool.name, "fetch");
        assert_eq!(tool.input_schema["properties"]["url"]["type"], "string");
        assert_eq!(tool.extra.get("_meta"), Some(&json!({"x": 1})));
        assert_eq!(serde_json::to_value(&tool).unwrap(), raw);
    }

    #[test]
    fn tool_minimal_and_missing_schema() {
        let tool: Tool = serde_json::from_value(json!({"name": "x"})).unwrap();
        assert_eq!(tool.input_schema, json!({"type": "object"}));
        assert_eq!(
            serde_json::to_value(Tool::new("y", json!({"type":"object"}))).unwrap(),
            json!({"name": "y", "inputSchema": {"type": "object"}})
        );
        assert!(serde_json::from_value::<Tool>(json!({"inputSchema": {}})).is_err());
    }

    #[test]
    fn pagination_walks_all_pages() {
        let all = tools(5);
        let (p1, c1) = paginate(&all, None, 2).unwrap();
        assert_eq!(names(&p1), ["t0", "t1"]);
        let (p2, c2) = paginate(&all, c1.as_deref(), 2).unwrap();
        assert_eq!(names(&p2), ["t2", "t3"]);
        let (p3, c3) = paginate(&all, c2.as_deref(), 2).unwrap();
        assert_eq!(names(&p3), ["t4"]);
        assert_eq!(c3, None);
    }

    #[test]
    fn pagination_exact_fit_and_unpaginated() {
        let all = tools(4);
        let (p, c) = paginate(&all, None, 4).unwrap();
        assert_eq!((p.len(), c), (4, None));
        let (p, c) = paginate(&all, None, 0).unwrap();
        assert_eq!((p.len(), c), (4, None));
        let (p, c) = paginate::<Tool>(&[], None, 10).unwrap();
        assert_eq!((p.len(), c), (0, None));
    }

    #[test]
    fn invalid_cursors() {
        let all = tools(3);
        for cursor in ["", "garbage", "o:", "o:x", "o:-1", "o:+1", "o:01", "o:4", "O:1", "o:99999999999999999999999"] {
            let e = paginate(&all, Some(cursor), 2).unwrap_err();
            assert_eq!(e.code, INVALID_PARAMS, "{cursor}");
            assert!(e.message.contains("Invalid cursor"));
        }
        assert!(paginate(&all, Some("o:3"), 2).unwrap().0.is_empty());
    }

    #[test]
    fn list_result_and_cursor_param() {
        let all = tools(1);
        let page: Vec<&Tool> = all.iter().collect();
        assert_eq!(
            tools_list_result(&page, Some("o:1")),
            json!({"tools": [{"name": "t0", "inputSchema": {"type": "object"}}], "nextCursor": "o:1"})
        );
        assert_eq!(tools_list_result(&[], None), json!({"tools": []}));
        assert_eq!(list_cursor(None).unwrap(), None);
        assert_eq!(list_cursor(Some(&json!({}))).unwrap(), None);
        assert_eq!(list_cursor(Some(&json!({"cursor": null}))).unwrap(), None);
        assert_eq!(list_cursor(Some(&json!({"cursor": "o:2"}))).unwrap(), Some("o:2"));
        assert_eq!(list_cursor(Some(&json!({"cursor": 2}))).unwrap_err().code, INVALID_PARAMS);
        assert_eq!(list_cursor(Some(&json!([]))).unwrap_err().code, INVALID_PARAMS);
    }

    #[test]
    fn call_params_ok() {
        let p = parse_call_tool_params(Some(&json!({
            "name": "fetch", "arguments": {"url": "u"}, "_meta": {"traceparent": "tp", "progressToken": 1}
        })))
        .unwrap();
        assert_eq!(p.name, "fetch");
        assert_eq!(p.arguments, json!({"url": "u"}));
        assert_eq!(p.meta.unwrap()["traceparent"], "tp");
        for args in [json!({"name": "x"}), json!({"name": "x", "arguments": null})] {
            let p = parse_call_tool_params(Some(&args)).unwrap();
            assert_eq!(p.arguments, json!({}));
            assert_eq!(p.meta, None);
        }
        let p = parse_call_tool_params(Some(&json!({"name": "x", "_meta": "junk"}))).unwrap();
        assert_eq!(p.meta, None);
    }

    #[test]
    fn call_params_errors() {
        let cases = [
            (None, "requires params"),
            (Some(json!([])), "must be an object, got array"),
            (Some(json!({})), "missing tool name"),
            (Some(json!({"name": 3})), "params.name must be a string, got number"),
            (Some(json!({"name": ""})), "must not be empty"),
            (Some(json!({"name": "x", "arguments": "a=1"})), "params.arguments must be an object, got string"),
            (Some(json!({"name": "x", "arguments": [1]})), "got array"),
        ];
        for (params, why) in cases {
            let e = parse_call_tool_params(params.as_ref()).unwrap_err();
            assert_eq!(e.code, INVALID_PARAMS);
            assert!(e.message.contains(why), "{params:?}: {}", e.message);
        }
        assert_eq!(unknown_tool("nope").message, "Unknown tool: nope");
    }

    #[test]
    fn tool_error_result_shape() {
        let r = tool_error_result("boom");
        assert_eq!(r, json!({"content": [{"type": "text", "text": "boom"}], "isError": true}));
        assert!(validate_call_tool_result(&r).is_ok());
        assert!(call_tool_result_is_error(&r));
    }

    #[test]
    fn call_tool_result_validation() {
        let ok = [
            json!({"content": []}),
            json!({"content": [{"type": "text", "text": "hi"}], "isError": false}),
            json!({"content": [{"type": "image", "data": "AA==", "mimeType": "image/png"}]}),
            json!({"content": [], "structuredContent": {"n": 1}, "_meta": {}}),
        ];
        for r in ok {
            assert!(validate_call_tool_result(&r).is_ok(), "{r}");
            assert!(!call_tool_result_is_error(&r));
        }
        let bad = [
            (json!([]), "must be a JSON object, got array"),
            (json!({}), "missing the \"content\" array"),
            (json!({"content": "hi"}), "\"content\" must be an array, got string"),
            (json!({"content": [1]}), "content[0] must be an object"),
            (json!({"content": [{"text": "x"}]}), "content[0] must be an object with a string \"type\""),
            (json!({"content": [{"type": "text"}]}), "needs a string \"text\""),
            (json!({"content": [], "isError": "yes"}), "\"isError\" must be a boolean, got string"),
            (json!({"content": [], "structuredContent": [1]}), "\"structuredContent\" must be an object"),
        ];
        for (r, why) in bad {
            let e = validate_call_tool_result(&r).unwrap_err();
            assert!(e.contains(why), "{r}: {e}");
        }
    }

    #[test]
    fn parse_tool_body() {
        assert!(parse_call_tool_result(br#"{"content":[]}"#).is_ok());
        assert!(parse_call_tool_result(b"oops").unwrap_err().starts_with("tool response is not valid JSON"));
        assert!(parse_call_tool_result(b"{}").unwrap_err().contains("content"));
    }

    #[derive(Deserialize)]
    struct TextArgs {
        text: String,
    }

    #[test]
    fn tool_side_arguments_and_results() {
        let empty: Value = parse_tool_arguments("t", b"  ").unwrap();
        assert_eq!(empty, json!({}));
        let err = parse_tool_arguments::<TextArgs>("word_count", b"{\"text\": 3}").err().unwrap();
        assert!(err.starts_with("invalid arguments for word_count:"), "{err}");
        assert_eq!(parse_tool_arguments::<TextArgs>("t", b"{\"text\":\"a\"}").unwrap().text, "a");
        let s = structured_result(json!({"n": 1}));
        assert_eq!(validate_call_tool_result(&s), Ok(()));
        assert_eq!(s["content"][0]["text"], "{\"n\":1}");
        assert_eq!(validate_call_tool_result(&text_result("x".into())), Ok(()));
        assert_eq!(tool_error_result("no")["isError"], true);
    }
}
