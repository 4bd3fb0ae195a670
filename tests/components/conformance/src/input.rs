//! The 2026-07-28 input-required flows (SEP-2322) the suite's
//! `input-required-result-*` scenarios expect, and the tool that needs a
//! client capability (`server-stateless`'s -32021 checks). The gateway
//! sends a component that speaks spinscope's extension the whole
//! `tools/call` params (`POST /_mcp/tools/call`), so these tools see
//! `inputResponses`, `requestState` and the client's capabilities in `_meta`.

use crate::{RpcFailure, INVALID_PARAMS};
use serde_json::{json, Map, Value};

/// The client's capabilities in a 2026-07-28 request's `_meta`.
const CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
/// Not a secret: the state's integrity check only has to catch an edit.
const STATE_KEY: &str = "conformance-state-key";

/// `requestState` for `payload`: the payload and a keyed FNV-1a digest.
fn seal(payload: &str) -> String {
    format!("{payload}.{:016x}", digest(payload))
}

fn digest(payload: &str) -> u64 {
    STATE_KEY
        .bytes()
        .chain([0])
        .chain(payload.bytes())
        .fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The payload of a sealed `requestState`, or -32602 when it was altered.
fn open(state: &Value) -> Result<Option<String>, RpcFailure> {
    let Some(state) = state.as_str() else { return Ok(None) };
    let tampered = || (INVALID_PARAMS, "requestState failed its integrity check".to_string(), None);
    let (payload, mac) = state.rsplit_once('.').ok_or_else(tampered)?;
    match u64::from_str_radix(mac, 16) {
        Ok(m) if mac.len() == 16 && m == digest(payload) => Ok(Some(payload.to_string())),
        _ => Err(tampered()),
    }
}

fn elicit(message: &str, field: &str, kind: &str) -> Value {
    json!({"method": "elicitation/create", "params": {"message": message, "requestedSchema": {
        "type": "object", "properties": {field: {"type": kind}}, "required": [field]}}})
}

fn elicitation(message: &str, schema: Value) -> Value {
    json!({"method": "elicitation/create", "params": {"message": message, "requestedSchema": schema}})
}

fn sample(text: &str, max_tokens: u64) -> Value {
    json!({"method": "sampling/createMessage", "params": {
        "messages": [{"role": "user", "content": {"type": "text", "text": text}}], "maxTokens": max_tokens}})
}

fn roots() -> Value {
    json!({"method": "roots/list", "params": {}})
}

fn input_required(requests: Vec<(&str, Value)>, state: Option<String>) -> Value {
    let requests: Map<String, Value> = requests.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    let mut result = json!({"resultType": "input_required", "inputRequests": requests});
    if let Some(state) = state {
        result["requestState"] = state.into();
    }
    result
}

fn text(text: String) -> Value {
    json!({"content": [{"type": "text", "text": text}]})
}

/// The responses the client sent: none (first round), or an object whose
/// values are objects; anything else is -32602 (the suite's validate-input).
fn responses(params: &Value) -> Result<Option<&Map<String, Value>>, RpcFailure> {
    match params.get("inputResponses") {
        None => Ok(None),
        Some(Value::Object(map)) if map.values().all(Value::is_object) => Ok(Some(map)),
        Some(Value::Object(_)) => Err((INVALID_PARAMS, "each inputResponses entry must be an object".into(), None)),
        Some(_) => Err((INVALID_PARAMS, "inputResponses must be an object".into(), None)),
    }
}

/// A `tools/call` with its whole params.
pub fn call(params: &Value) -> Result<Value, RpcFailure> {
    let name = params["name"].as_str().unwrap_or_default();
    let caps = &params["_meta"][CAPABILITIES];
    let answers = responses(params)?;
    let has = |key: &str| answers.is_some_and(|a| a.contains_key(key));
    let answer = |key: &str| answers.and_then(|a| a.get(key)).cloned().unwrap_or(Value::Null);
    let state = open(params.get("requestState").unwrap_or(&Value::Null))?;
    let result = match name {
        "test_missing_capability" if caps.get("sampling").is_none() => {
            return Err((
                -32021,
                "Missing required client capability: sampling".into(),
                Some(json!({"requiredCapabilities": {"sampling": {}}})),
            ))
        }
        "test_missing_capability" => text("The client declared sampling".into()),
        // The handshake era's server-to-client requests, asked the
        // stateless way: the gateway bridges them for a session's client
        // (docs/protocol.md, "Input requests in a session").
        "test_sampling" if has("llm") => {
            let said = answer("llm")["content"]["text"].as_str().unwrap_or_default().to_string();
            text(format!("LLM response: {said}"))
        }
        "test_sampling" => {
            let prompt = params["arguments"]["prompt"].as_str().unwrap_or("Hello").to_string();
            input_required(vec![("llm", sample(&prompt, 100))], None)
        }
        "test_elicitation" if has("user") => text(format!("User response: {}", answer("user"))),
        "test_elicitation" => {
            let message = params["arguments"]["message"].as_str().unwrap_or("Please provide your information");
            let schema = json!({"type": "object", "properties": {
                "username": {"type": "string", "description": "User's response"},
                "email": {"type": "string", "description": "User's email address"}},
                "required": ["username", "email"]});
            input_required(vec![("user", elicitation(message, schema))], None)
        }
        "test_elicitation_sep1034_defaults" | "test_elicitation_sep1330_enums" if has("form") => {
            let given = answer("form");
            text(format!(
                "Elicitation completed: action={}, content={}",
                given["action"].as_str().unwrap_or("?"),
                given["content"]
            ))
        }
        "test_elicitation_sep1034_defaults" => {
            let schema = json!({"type": "object", "properties": {
                "name": {"type": "string", "default": "John Doe"},
                "age": {"type": "integer", "default": 30},
                "score": {"type": "number", "default": 95.5},
                "status": {"type": "string", "enum": ["active", "inactive", "pending"], "default": "active"},
                "verified": {"type": "boolean", "default": true}}});
            input_required(vec![("form", elicitation("Please review your information", schema))], None)
        }
        "test_elicitation_sep1330_enums" => {
            let titled = |prefix: &str, titles: [&str; 3]| -> Vec<Value> {
                titles
                    .iter()
                    .enumerate()
                    .map(|(i, t)| json!({"const": format!("{prefix}{}", i + 1), "title": t}))
                    .collect()
            };
            let schema = json!({"type": "object", "properties": {
                "untitledSingle": {"type": "string", "enum": ["option1", "option2", "option3"]},
                "titledSingle": {"type": "string", "oneOf": titled("value", ["First Option", "Second Option", "Third Option"])},
                "legacyEnum": {"type": "string", "enum": ["opt1", "opt2", "opt3"],
                    "enumNames": ["Option One", "Option Two", "Option Three"]},
                "untitledMulti": {"type": "array", "items": {"type": "string", "enum": ["option1", "option2", "option3"]}},
                "titledMulti": {"type": "array", "items": {"anyOf": titled("value", ["First Choice", "Second Choice", "Third Choice"])}}}});
            input_required(vec![("form", elicitation("Choose your options", schema))], None)
        }
        "test_input_required_result_elicitation" if has("user_name") => {
            let name = answer("user_name")["content"]["name"].as_str().unwrap_or("there").to_string();
            text(format!("Hello, {name}!"))
        }
        "test_input_required_result_elicitation" => {
            input_required(vec![("user_name", elicit("What is your name?", "name", "string"))], None)
        }
        "test_input_required_result_sampling" if has("capital_question") => {
            let said = answer("capital_question")["content"]["text"].as_str().unwrap_or_default().to_string();
            text(format!("The model said: {said}"))
        }
        "test_input_required_result_sampling" => {
            input_required(vec![("capital_question", sample("What is the capital of France?", 100))], None)
        }
        "test_input_required_result_list_roots" if has("client_roots") => {
            let roots = answer("client_roots")["roots"].clone();
            text(format!("The client's roots: {roots}"))
        }
        "test_input_required_result_list_roots" => input_required(vec![("client_roots", roots())], None),
        "test_input_required_result_request_state" | "test_input_required_result_tampered_state"
            if has("confirm") && state.as_deref() == Some("confirm") =>
        {
            text("Confirmed: state-ok".into())
        }
        "test_input_required_result_request_state" | "test_input_required_result_tampered_state" => {
            input_required(vec![("confirm", elicit("Please confirm", "ok", "boolean"))], Some(seal("confirm")))
        }
        "test_input_required_result_multiple_inputs"
            if ["user_name", "greeting", "client_roots"].iter().all(|k| has(k))
                && state.as_deref() == Some("multi") =>
        {
            text("All three inputs received".into())
        }
        "test_input_required_result_multiple_inputs" => input_required(
            vec![
                ("user_name", elicit("What is your name?", "name", "string")),
                ("greeting", sample("Generate a greeting", 50)),
                ("client_roots", roots()),
            ],
            Some(seal("multi")),
        ),
        "test_input_required_result_multi_round" if has("step2") && state.as_deref() == Some("round-2") => {
            text("Both rounds completed".into())
        }
        "test_input_required_result_multi_round" if has("step1") && state.as_deref() == Some("round-1") => {
            input_required(
                vec![("step2", elicit("Step 2: What is your favorite color?", "color", "string"))],
                Some(seal("round-2")),
            )
        }
        "test_input_required_result_multi_round" => input_required(
            vec![("step1", elicit("Step 1: What is your name?", "name", "string"))],
            Some(seal("round-1")),
        ),
        "test_input_required_result_capabilities" if answers.is_some_and(|a| !a.is_empty()) => {
            text("Inputs received".into())
        }
        "test_input_required_result_capabilities" => {
            // Only what the client declared it can give.
            let mut asked = Vec::new();
            if caps.get("sampling").is_some() {
                asked.push(("question", sample("Say hello", 20)));
            }
            if caps.get("elicitation").is_some() {
                asked.push(("user_name", elicit("What is your name?", "name", "string")));
            }
            if caps.get("roots").is_some() {
                asked.push(("client_roots", roots()));
            }
            match asked.is_empty() {
                true => text("The client can give no input".into()),
                false => input_required(asked, None),
            }
        }
        other => return crate::call(other).ok_or_else(|| (INVALID_PARAMS, format!("Unknown tool: {other}"), None)),
    };
    Ok(result)
}

/// The notifications a tool sends while it works: progress (0, 50, 100 of
/// 100) for the request's `progressToken`; three log messages at `info`
/// (the gateway decides whether the client gets them: only when it asked
/// for a log level).
pub fn notifications(method: &str, params: &Value) -> Vec<Value> {
    if method != "tools/call" {
        return Vec::new();
    }
    let note = |method: &str, params: Value| json!({"jsonrpc": "2.0", "method": method, "params": params});
    match params["name"].as_str() {
        Some("test_tool_with_progress") => match params["_meta"].get("progressToken") {
            Some(token) => [0, 50, 100]
                .into_iter()
                .map(|p| note("notifications/progress", json!({"progressToken": token, "progress": p, "total": 100})))
                .collect(),
            None => Vec::new(),
        },
        Some("spinscope_paced_progress") => match params["_meta"].get("progressToken") {
            Some(token) => {
                let steps = params["arguments"]["steps"].as_u64().unwrap_or(3).clamp(1, 10);
                (1..=steps)
                    .map(|i| {
                        note("notifications/progress", json!({"progressToken": token, "progress": i, "total": steps}))
                    })
                    .collect()
            }
            None => Vec::new(),
        },
        Some("test_tool_with_logging" | "test_logging_tool") => {
            ["Tool execution started", "Tool processing data", "Tool execution completed"]
                .into_iter()
                .map(|text| {
                    note("notifications/message", json!({"level": "info", "logger": "conformance", "data": text}))
                })
                .collect()
        }
        _ => Vec::new(),
    }
}

/// `prompts/get` of `test_input_required_result_prompt`.
pub fn prompt(params: &Value) -> Result<Value, RpcFailure> {
    match responses(params)?.and_then(|a| a.get("user_context")) {
        Some(answer) => {
            let context = answer["content"]["context"].as_str().unwrap_or("none").to_string();
            Ok(json!({"messages": [{"role": "user", "content": {"type": "text",
                "text": format!("A prompt with context: {context}")}}]}))
        }
        None => Ok(input_required(
            vec![("user_context", elicit("What context should the prompt use?", "context", "string"))],
            None,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(caps: Value) -> Value {
        json!({ CAPABILITIES: caps })
    }

    #[test]
    fn a_flow_asks_then_completes() {
        let first = call(&json!({"name": "test_input_required_result_elicitation"})).unwrap();
        assert_eq!(first["resultType"], "input_required");
        let done = call(&json!({"name": "test_input_required_result_elicitation",
            "inputResponses": {"user_name": {"action": "accept", "content": {"name": "Alice"}}}}))
        .unwrap();
        assert_eq!(done["content"][0]["text"], "Hello, Alice!");
        let wrong =
            call(&json!({"name": "test_input_required_result_elicitation", "inputResponses": {"x": {}}})).unwrap();
        assert_eq!(wrong["resultType"], "input_required", "a missing answer is asked again");
        for bad in [json!(null), json!({"user_name": 12345})] {
            let got = call(&json!({"name": "test_input_required_result_elicitation", "inputResponses": bad}));
            assert_eq!(got.unwrap_err().0, INVALID_PARAMS);
        }
    }

    #[test]
    fn state_is_sealed_and_checked() {
        let first = call(&json!({"name": "test_input_required_result_tampered_state"})).unwrap();
        let state = first["requestState"].as_str().unwrap().to_string();
        let answer = json!({"confirm": {"action": "accept", "content": {"ok": true}}});
        let ok = call(&json!({"name": "test_input_required_result_request_state", "inputResponses": answer,
            "requestState": state}))
        .unwrap();
        assert!(ok["content"][0]["text"].as_str().unwrap().contains("state-ok"));
        let tampered = call(&json!({"name": "test_input_required_result_tampered_state", "inputResponses": answer,
            "requestState": format!("{state}-TAMPERED")}));
        assert_eq!(tampered.unwrap_err().0, INVALID_PARAMS);
    }

    #[test]
    fn capabilities_decide_what_is_asked() {
        let got =
            call(&json!({"name": "test_input_required_result_capabilities", "_meta": meta(json!({"sampling": {}}))}))
                .unwrap();
        let asked: Vec<&str> =
            got["inputRequests"].as_object().unwrap().values().map(|r| r["method"].as_str().unwrap()).collect();
        assert_eq!(asked, ["sampling/createMessage"]);
        let missing = call(&json!({"name": "test_missing_capability", "_meta": meta(json!({}))})).unwrap_err();
        assert_eq!((missing.0, missing.2), (-32021, Some(json!({"requiredCapabilities": {"sampling": {}}}))));
        assert!(call(&json!({"name": "test_simple_text"})).is_ok(), "the plain tools answer here too");
    }
}
