//! `conformance`: a test-only component that serves what the official MCP
//! conformance suite (npm `@modelcontextprotocol/conformance`, pinned in
//! `tests/e2e/conformance/`) expects of its reference server, so that the
//! suite can be run through the gateway (`make conformance`,
//! `tests/e2e/tests/conformance.rs`). Names and answers are the suite's own
//! (its scenarios' descriptions in `dist/index.js`).
//!
//! It follows the tool contract (`GET /`, `POST /<tool>`) and spinscope's
//! extension of it (docs/tools.md): with the catalog header, `GET /`
//! answers an object that also lists prompts, resources, resource
//! templates and completions, served at `POST /_mcp/<method>`.

use serde_json::{json, Value};
use spin_sdk::http::conversions::TryFromIncomingRequest;
use spin_sdk::http::{IncomingRequest, Request, ResponseOutparam};
use spin_sdk::http_component;
use spinscope_tool::stream::{respond, EventSink};
use spinscope_tool::{
    error_result, json_response, mcp_method, method_not_allowed, route, rpc_error, text_result, unknown_tool,
    wants_catalog, Route,
};

/// A 1×1 red PNG.
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
/// A WAV file with no samples (16-bit mono, 44.1 kHz): a header alone.
const WAV: &str = "UklGRiQAAABXQVZFZm10IBAAAAABAAEARKwAAIhYAQACABAAZGF0YQAAAAA=";

/// JSON-RPC "invalid params".
pub(crate) const INVALID_PARAMS: i64 = -32602;

#[http_component]
async fn handle(incoming: IncomingRequest, out: ResponseOutparam) {
    let Ok(req) = Request::try_from_incoming_request(incoming).await else {
        return respond(out, json_response(400, &json!({"error": "unreadable request"}))).await;
    };
    if let Some(method) = mcp_method(&req) {
        let params: Value = serde_json::from_slice(req.body()).unwrap_or(json!({}));
        return match serve(method, &params) {
            // The notifications go out as the tool makes them, the result last.
            Ok(result) => match input::notifications(method, &params) {
                notes if notes.is_empty() => respond(out, json_response(200, &result)).await,
                notes => paced(out, notes, &params, &result),
            },
            Err((code, message, data)) => respond(out, rpc_error(400, code, &message, data)).await,
        };
    }
    let response = match route(&req) {
        Route::List if wants_catalog(&req) => json_response(200, &catalog()),
        Route::List => json_response(200, &tools()),
        // FTL's contract: the arguments alone (no input responses, no
        // client capabilities: the input-required tools ask, and
        // `test_missing_capability` refuses).
        Route::Call(tool) => {
            let arguments: Value = serde_json::from_slice(req.body()).unwrap_or(json!({}));
            match input::call(&json!({"name": tool, "arguments": arguments})) {
                Ok(result) => json_response(200, &result),
                Err((_, message, _)) if message.starts_with("Unknown tool") => unknown_tool(tool),
                Err((code, message, data)) => rpc_error(400, code, &message, data),
            }
        }
        Route::Other => method_not_allowed(),
    };
    respond(out, response).await
}

/// Sends each notification as it is made, `arguments.interval_ms` apart
/// (`spinscope_paced_progress`; none for the suite's tools), then the result.
fn paced(out: ResponseOutparam, notes: Vec<Value>, params: &Value, result: &Value) {
    let interval_ms = params["arguments"]["interval_ms"].as_u64().unwrap_or(0).min(5_000);
    let Ok(mut sink) = EventSink::open(out) else { return };
    for (i, note) in notes.iter().enumerate() {
        if i > 0 && interval_ms > 0 {
            wasi::clocks::monotonic_clock::subscribe_duration(interval_ms * 1_000_000).block();
        }
        if sink.send(note).is_err() {
            return;
        }
    }
    let _ = sink.finish(result);
}

fn no_args() -> Value {
    json!({"type": "object", "properties": {}})
}

fn tool(name: &str, description: &str) -> Value {
    json!({"name": name, "description": description, "inputSchema": no_args()})
}

/// The JSON Schema 2020-12 input schema of `json_schema_2020_12_tool`, as
/// the suite gives it (SEP-1613, SEP-2106).
fn schema_2020_12() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "$defs": {"address": {"$anchor": "addressDef", "type": "object",
            "properties": {"street": {"type": "string"}, "city": {"type": "string"}}}},
        "properties": {
            "name": {"type": "string"},
            "address": {"$ref": "#/$defs/address"},
            "contactMethod": {"type": "string", "enum": ["phone", "email"]},
            "phone": {"type": "string"},
            "email": {"type": "string"}
        },
        "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
        "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
        "then": {"required": ["phone"]},
        "else": {"required": ["email"]},
        "additionalProperties": false
    })
}

fn tools() -> Value {
    json!([
        tool("test_simple_text", "Returns simple text content"),
        tool("test_image_content", "Returns image content (a 1x1 PNG)"),
        tool("test_audio_content", "Returns audio content (a WAV file)"),
        tool("test_embedded_resource", "Returns an embedded resource"),
        tool("test_multiple_content_types", "Returns text, image and an embedded resource"),
        tool("test_error_handling", "Always fails with a tool error"),
        tool("test_tool_with_progress", "Reports progress while it works (when the request carries a progress token)"),
        tool("test_tool_with_logging", "Sends log messages while it works"),
        tool("test_logging_tool", "Logs only when the request asks for a log level"),
        tool("test_streaming_elicitation", "Answers on the request's own stream"),
        tool("test_missing_capability", "Needs the client's sampling capability"),
        {"name": "test_sampling", "description": "Asks the client's model (sampling)",
         "inputSchema": {"type": "object", "properties": {"prompt": {"type": "string"}}, "required": ["prompt"]}},
        {"name": "test_elicitation", "description": "Asks the user for information (elicitation)",
         "inputSchema": {"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]}},
        tool("test_elicitation_sep1034_defaults", "Asks with defaults for every primitive type (SEP-1034)"),
        tool("test_elicitation_sep1330_enums", "Asks with every enum form (SEP-1330)"),
        tool("test_input_required_result_elicitation", "Asks the client's name (elicitation) first"),
        tool("test_input_required_result_sampling", "Asks the client's model a question first"),
        tool("test_input_required_result_list_roots", "Asks for the client's roots first"),
        tool("test_input_required_result_request_state", "Asks for a confirmation, with request state"),
        tool("test_input_required_result_multiple_inputs", "Asks for three inputs at once"),
        tool("test_input_required_result_multi_round", "Asks in two rounds, with evolving state"),
        tool("test_input_required_result_tampered_state", "Rejects request state that was altered"),
        tool("test_input_required_result_capabilities", "Asks only for what the client can give"),
        {"name": "spinscope_paced_progress", "description": "Reports progress `steps` times, `interval_ms` apart (spinscope's own test of live relaying)",
         "inputSchema": {"type": "object", "properties": {"steps": {"type": "integer", "minimum": 1, "maximum": 10},
             "interval_ms": {"type": "integer", "minimum": 0, "maximum": 5000}}}},
        {"name": "json_schema_2020_12_tool", "description": "Tool with JSON Schema 2020-12 features",
         "inputSchema": schema_2020_12()},
    ])
}

pub(crate) fn call(tool: &str) -> Option<Value> {
    let result = match tool {
        "test_simple_text" => text_result("This is a simple text response for testing.".into()),
        "test_image_content" => json!({"content": [{"type": "image", "data": PNG, "mimeType": "image/png"}]}),
        "test_audio_content" => json!({"content": [{"type": "audio", "data": WAV, "mimeType": "audio/wav"}]}),
        "test_embedded_resource" => json!({"content": [{"type": "resource", "resource": {
            "uri": "test://embedded-resource", "mimeType": "text/plain",
            "text": "This is an embedded resource content."}}]}),
        "test_multiple_content_types" => json!({"content": [
            {"type": "text", "text": "Multiple content types test:"},
            {"type": "image", "data": PNG, "mimeType": "image/png"},
            {"type": "resource", "resource": {"uri": "test://mixed-content-resource",
                "mimeType": "application/json", "text": "{\"test\":\"data\",\"value\":123}"}}
        ]}),
        "test_error_handling" => error_result("This tool intentionally returns an error for testing".into()),
        "test_tool_with_progress" | "spinscope_paced_progress" => text_result("Progress tool completed".into()),
        "test_tool_with_logging" | "test_logging_tool" => text_result("Logging tool completed".into()),
        "test_streaming_elicitation" => text_result("Streaming tool completed".into()),
        "json_schema_2020_12_tool" => text_result("JSON Schema 2020-12 tool called".into()),
        _ => return None,
    };
    Some(result)
}

/// Everything the component serves, for the gateway's catalog request.
fn catalog() -> Value {
    json!({
        "tools": tools(),
        "prompts": [
            {"name": "test_simple_prompt", "description": "A simple prompt without arguments"},
            {"name": "test_prompt_with_arguments", "description": "A prompt with two required arguments",
             "arguments": [
                {"name": "arg1", "description": "First test argument", "required": true},
                {"name": "arg2", "description": "Second test argument", "required": true}]},
            {"name": "test_prompt_with_embedded_resource", "description": "A prompt that embeds a resource",
             "arguments": [{"name": "resourceUri", "description": "URI of the resource to embed", "required": true}]},
            {"name": "test_prompt_with_image", "description": "A prompt with image content"},
            {"name": "test_input_required_result_prompt", "description": "A prompt that asks for context first"}
        ],
        "resources": [
            {"uri": "test://static-text", "name": "static-text", "description": "A static text resource",
             "mimeType": "text/plain"},
            {"uri": "test://static-binary", "name": "static-binary", "description": "A static binary resource (PNG)",
             "mimeType": "image/png"},
            {"uri": "test://watched-resource", "name": "watched-resource", "description": "A resource to subscribe to",
             "mimeType": "text/plain"}
        ],
        "resourceTemplates": [
            {"uriTemplate": "test://template/{id}/data", "name": "template-data",
             "description": "Data for an id", "mimeType": "application/json"}
        ],
        "completions": true
    })
}

pub(crate) type RpcFailure = (i64, String, Option<Value>);

fn invalid(message: String, data: Option<Value>) -> RpcFailure {
    (INVALID_PARAMS, message, data)
}

/// One request of `POST /_mcp/<method>`.
fn serve(method: &str, params: &Value) -> Result<Value, RpcFailure> {
    match method {
        "tools/call" => input::call(params),
        "prompts/get" if params["name"] == "test_input_required_result_prompt" => input::prompt(params),
        "prompts/get" => prompt(params["name"].as_str().unwrap_or_default(), &params["arguments"]),
        "resources/read" => read(params["uri"].as_str().unwrap_or_default()),
        "completion/complete" => Ok(complete(&params["argument"])),
        other => Err((-32601, format!("Method not found: {other}"), None)),
    }
}

fn user(content: Value) -> Value {
    json!({"role": "user", "content": content})
}

fn prompt(name: &str, arguments: &Value) -> Result<Value, RpcFailure> {
    let arg = |key: &str| arguments[key].as_str().map(str::to_string);
    let messages = match name {
        "test_simple_prompt" => vec![user(json!({"type": "text", "text": "This is a simple prompt for testing."}))],
        "test_prompt_with_arguments" => {
            let (Some(arg1), Some(arg2)) = (arg("arg1"), arg("arg2")) else {
                return Err(invalid("arguments arg1 and arg2 are required".into(), None));
            };
            vec![user(json!({"type": "text", "text": format!("Prompt with arguments: arg1='{arg1}', arg2='{arg2}'")}))]
        }
        "test_prompt_with_embedded_resource" => {
            let Some(uri) = arg("resourceUri") else {
                return Err(invalid("argument resourceUri is required".into(), None));
            };
            vec![
                user(json!({"type": "resource", "resource": {"uri": uri, "mimeType": "text/plain",
                    "text": "Embedded resource content for testing."}})),
                user(json!({"type": "text", "text": "Please process the embedded resource above."})),
            ]
        }
        "test_prompt_with_image" => vec![
            user(json!({"type": "image", "data": PNG, "mimeType": "image/png"})),
            user(json!({"type": "text", "text": "Please analyze the image above."})),
        ],
        other => return Err(invalid(format!("Unknown prompt: {other}"), None)),
    };
    Ok(json!({ "messages": messages }))
}

fn read(uri: &str) -> Result<Value, RpcFailure> {
    let content = match uri {
        "test://static-text" => json!({"uri": uri, "mimeType": "text/plain",
            "text": "This is the content of the static text resource."}),
        "test://static-binary" => json!({"uri": uri, "mimeType": "image/png", "blob": PNG}),
        "test://watched-resource" => json!({"uri": uri, "mimeType": "text/plain", "text": "Watched resource content."}),
        _ => match uri.strip_prefix("test://template/").and_then(|rest| rest.strip_suffix("/data")) {
            Some(id) if !id.is_empty() && !id.contains('/') => {
                let text = json!({"id": id, "templateTest": true, "data": format!("Data for ID: {id}")});
                json!({"uri": uri, "mimeType": "application/json", "text": text.to_string()})
            }
            _ => return Err(invalid("Resource not found".into(), Some(json!({ "uri": uri })))),
        },
    };
    Ok(json!({ "contents": [content] }))
}

/// Completions of a prompt's or a template's argument: the few values that
/// start with what was typed.
fn complete(argument: &Value) -> Value {
    let typed = argument["value"].as_str().unwrap_or_default();
    let values: Vec<&str> =
        ["paris", "park", "party", "test", "testValue1"].into_iter().filter(|v| v.starts_with(typed)).collect();
    json!({"completion": {"values": values, "total": values.len(), "hasMore": false}})
}

mod input;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_tool_answers() {
        for t in tools().as_array().unwrap() {
            let name = t["name"].as_str().unwrap();
            let params =
                json!({"name": name, "_meta": {"io.modelcontextprotocol/clientCapabilities": {"sampling": {}}}});
            assert!(input::call(&params).is_ok(), "{name}");
        }
        assert!(call("nope").is_none());
    }

    #[test]
    fn templates_substitute_and_unknown_resources_are_invalid_params() {
        let read_ok = read("test://template/123/data").unwrap();
        assert!(read_ok["contents"][0]["text"].as_str().unwrap().contains("123"));
        let (code, _, data) = read("test://nonexistent").unwrap_err();
        assert_eq!((code, data), (INVALID_PARAMS, Some(json!({"uri": "test://nonexistent"}))));
    }

    #[test]
    fn prompts_substitute_their_arguments() {
        let got = prompt("test_prompt_with_arguments", &json!({"arg1": "a1", "arg2": "b2"})).unwrap();
        assert_eq!(got["messages"][0]["content"]["text"], "Prompt with arguments: arg1='a1', arg2='b2'");
        assert!(prompt("test_prompt_with_arguments", &json!({})).is_err());
    }
}
