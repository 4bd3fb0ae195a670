//! Prompts, resources, resource templates and completions served by
//! components (spinscope's extension of the tool contract, docs/tools.md):
//! which component answers a request, the capabilities they add, the URL
//! of a request, and what a component's answer means. They live in the
//! tool map (`tool_map`), discovered and cached with the tools.

use super::error::GatewayError;
use super::tool_map::{component_url, Offered, ToolMap};
use super::tool_result::ToolAnswer;
use crate::mcp::{self, RpcError};
use serde_json::{json, Value};

/// The path prefix of these requests on a component.
pub const MCP_PATH: &str = "/_mcp/";

/// The URL that asks `component` for `method` (e.g. `prompts/get`).
pub fn method_url(component: &str, method: &str) -> String {
    component_url(component, &format!("{MCP_PATH}{method}"))
}

/// The capabilities of `initialize` and `server/discover`: tools always;
/// prompts, resources and completions only when some component offers them.
pub fn capabilities(map: Option<&ToolMap>) -> Value {
    let mut caps = json!({ "tools": { "listChanged": false } });
    let Some(map) = map else { return caps };
    if !map.prompts.is_empty() {
        caps["prompts"] = json!({ "listChanged": false });
    }
    if !map.resources.is_empty() || !map.resource_templates.is_empty() {
        caps["resources"] = json!({ "listChanged": false, "subscribe": false });
    }
    if !map.completions.is_empty() {
        caps["completions"] = json!({});
    }
    caps
}

/// The capabilities of a handshake-era `initialize`: [`capabilities`], and
/// `logging`, since a session may set its log level (`logging/setLevel`)
/// for the log messages tools send during its calls.
pub fn session_capabilities(map: Option<&ToolMap>) -> Value {
    let mut caps = capabilities(map);
    caps["logging"] = json!({});
    caps
}

/// Whether some component serves `method` (a prompts, resources or
/// completion method): the capability `initialize` and `server/discover`
/// declare. A method no component serves is -32601, as if the gateway did
/// not know it, so that what is declared and what is answered agree.
pub fn offers(map: &ToolMap, method: &str) -> Result<(), GatewayError> {
    let offered = match method {
        "prompts/list" | "prompts/get" => !map.prompts.is_empty(),
        "completion/complete" => !map.completions.is_empty(),
        _ => !map.resources.is_empty() || !map.resource_templates.is_empty(),
    };
    match offered {
        true => Ok(()),
        false => Err(GatewayError::MethodNotFound(format!("Method not found: {method} (no tool component serves it)"))),
    }
}

/// The items of one list method, in `tool_components` order.
pub fn items<'a>(map: &'a ToolMap, method: &str) -> Vec<&'a Value> {
    let offered: &[Offered] = match method {
        "prompts/list" => &map.prompts,
        "resources/list" => &map.resources,
        _ => &map.resource_templates,
    };
    offered.iter().map(|o| &o.item).collect()
}

/// The list result's key for `method`.
pub fn list_key(method: &str) -> &'static str {
    match method {
        "prompts/list" => "prompts",
        "resources/list" => "resources",
        _ => "resourceTemplates",
    }
}

/// One page of a list method's result.
pub fn list_result(method: &str, page: &[&Value], next_cursor: Option<&str>) -> Value {
    let mut result = json!({ list_key(method): page });
    if let Some(next) = next_cursor {
        result["nextCursor"] = Value::String(next.to_owned());
    }
    result
}

/// A string parameter of a request, or -32602.
fn param<'a>(params: Option<&'a Value>, key: &str, method: &str) -> Result<&'a str, GatewayError> {
    params
        .and_then(|p| p.get(key))
        .and_then(Value::as_str)
        .ok_or_else(|| GatewayError::InvalidParams(format!("{method} needs params.{key} (a string)")))
}

/// Whether `uri` is one that RFC 6570 level-1 `template` expands to (each
/// `{var}` one or more characters, none of them `/`).
pub fn template_matches(template: &str, uri: &str) -> bool {
    let mut rest = uri;
    let mut parts = template.split('{');
    let Some(head) = parts.next() else { return false };
    let Some(after) = rest.strip_prefix(head) else { return false };
    rest = after;
    for part in parts {
        let Some((_var, literal)) = part.split_once('}') else { return false };
        // The variable runs to the literal's first occurrence (or the end).
        let end = match literal {
            "" => rest.len(),
            _ => match rest.find(literal) {
                Some(at) => at,
                None => return false,
            },
        };
        let value = &rest[..end];
        if value.is_empty() || value.contains('/') {
            return false;
        }
        rest = &rest[end + literal.len()..];
    }
    rest.is_empty()
}

/// The component serving `prompts/get` of `params.name` (and the name, for
/// the record), or -32602.
pub fn prompt_owner<'a>(map: &'a ToolMap, params: Option<&Value>) -> Result<(&'a str, String), GatewayError> {
    let name = param(params, "name", "prompts/get")?;
    map.prompts
        .iter()
        .find(|o| o.item["name"].as_str() == Some(name))
        .map(|o| (o.component.as_str(), name.to_string()))
        .ok_or_else(|| GatewayError::InvalidParams(format!("Unknown prompt: {}", crate::bounded::client_string(name))))
}

/// The component serving `resources/read` of `params.uri`: a direct
/// resource of that URI, else the first template that matches it; none is
/// -32602 with the URI in `data` (SEP-2164).
pub fn resource_owner<'a>(map: &'a ToolMap, params: Option<&Value>) -> Result<(&'a str, String), GatewayError> {
    let uri = param(params, "uri", "resources/read")?;
    let direct = map.resources.iter().find(|o| o.item["uri"].as_str() == Some(uri));
    let templated = || {
        map.resource_templates.iter().find(|o| o.item["uriTemplate"].as_str().is_some_and(|t| template_matches(t, uri)))
    };
    direct
        .or_else(templated)
        .map(|o| (o.component.as_str(), uri.to_string()))
        .ok_or_else(|| GatewayError::UnknownResource { uri: crate::bounded::client_string(uri) })
}

/// The component serving `completion/complete` for `params.ref`: the owner
/// of the prompt (`ref/prompt`) or of the template or resource
/// (`ref/resource`), when it answers completions; else -32602.
pub fn completion_owner<'a>(map: &'a ToolMap, params: Option<&Value>) -> Result<&'a str, GatewayError> {
    let reference = params.and_then(|p| p.get("ref"));
    let kind = reference.and_then(|r| r["type"].as_str()).unwrap_or_default();
    let owner = match kind {
        "ref/prompt" => {
            let name = reference.and_then(|r| r["name"].as_str());
            map.prompts.iter().find(|o| name.is_some() && o.item["name"].as_str() == name)
        }
        "ref/resource" => {
            let uri = reference.and_then(|r| r["uri"].as_str());
            map.resource_templates
                .iter()
                .find(|o| uri.is_some() && o.item["uriTemplate"].as_str() == uri)
                .or_else(|| map.resources.iter().find(|o| uri.is_some() && o.item["uri"].as_str() == uri))
        }
        _ => {
            return Err(GatewayError::InvalidParams(
                "completion/complete needs params.ref of type ref/prompt or ref/resource".into(),
            ))
        }
    };
    match owner {
        Some(o) if map.completions.contains(&o.component) => Ok(o.component.as_str()),
        _ => Err(GatewayError::InvalidParams("no completions for this reference".into())),
    }
}

/// The codes a component's error may carry through the gateway; any other
/// is answered as -32603 (the code is a metric label: it stays bounded).
const RELAYED_CODES: [i64; 5] =
    [mcp::INVALID_PARAMS, mcp::METHOD_NOT_FOUND, mcp::INVALID_REQUEST, mcp::INTERNAL_ERROR, -32021];

/// A component's answer to a `POST /_mcp/<method>`: 200 and a JSON object
/// is the result; another status with `{"error": {...}}` is its JSON-RPC
/// error, relayed; anything else is the component failing.
pub fn interpret(component: &str, answer: ToolAnswer) -> Result<Value, GatewayError> {
    let failed = |reason: String| GatewayError::ComponentFailed { component: component.to_string(), reason };
    match answer {
        ToolAnswer::Timeout => Err(failed("did not answer in time".into())),
        ToolAnswer::HttpError(e) => Err(failed(format!("HTTP error: {e}"))),
        ToolAnswer::Unreachable(e) => Err(failed(e)),
        ToolAnswer::Answered { truncated: true, .. } => Err(failed("answered more than the output cap".into())),
        ToolAnswer::Answered { status, body, .. } => {
            if let Some(error) = rpc_error(component, status, &body) {
                return Err(error);
            }
            let json: Option<Value> = serde_json::from_slice(&body).ok();
            match (status, json) {
                (200, Some(result @ Value::Object(_))) => Ok(result),
                (200, _) => Err(failed("answered something that is not a JSON object".into())),
                (status, _) => Err(failed(format!("answered HTTP {status}"))),
            }
        }
    }
}

/// A component's answer that is a JSON-RPC error to relay: a status other
/// than 200 with `{"error": {"code", "message", "data"}}` (a `tools/call`
/// of an extended component, e.g. -32021 for a capability the client did
/// not declare, and every request of this module).
pub fn rpc_error(component: &str, status: u16, body: &[u8]) -> Option<GatewayError> {
    if status == 200 {
        return None;
    }
    let json: Value = serde_json::from_slice(body).ok()?;
    let e = json.get("error").filter(|e| e["code"].is_i64())?;
    let code = e["code"].as_i64().filter(|c| RELAYED_CODES.contains(c)).unwrap_or(mcp::INTERNAL_ERROR);
    let message = e["message"].as_str().unwrap_or("error").chars().take(1000).collect();
    let data = e.get("data").cloned();
    Some(GatewayError::ComponentRpcError { component: component.to_string(), code, message, data })
}

/// The JSON-RPC error of a relayed component error (its data kept).
pub fn relayed(code: i64, message: &str, data: Option<&Value>) -> RpcError {
    let error = RpcError::new(code, message);
    match data {
        Some(data) => error.with_data(data.clone()),
        None => error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::tool_map::{assemble, Listing};

    fn map() -> ToolMap {
        let a = Listing {
            prompts: vec![json!({"name": "p"})],
            resources: vec![json!({"uri": "test://a"})],
            resource_templates: vec![json!({"uriTemplate": "test://t/{id}/data"})],
            completions: true,
            ..Listing::default()
        };
        let b = Listing { prompts: vec![json!({"name": "q"})], ..Listing::default() };
        assemble(&["a".to_string(), "b".to_string()], vec![Ok(a), Ok(b)], 1).map
    }

    #[test]
    fn templates_match_level_one_expansions() {
        assert!(template_matches("test://t/{id}/data", "test://t/123/data"));
        assert!(!template_matches("test://t/{id}/data", "test://t//data"));
        assert!(!template_matches("test://t/{id}/data", "test://t/1/2/data"));
        assert!(!template_matches("test://t/{id}/data", "test://t/1/datax"));
        assert!(template_matches("file:///{path}", "file:///x.txt"));
        assert!(template_matches("a://{x}-{y}", "a://1-2"));
        assert!(!template_matches("a://x", "a://y"));
    }

    #[test]
    fn requests_go_to_the_owner_or_are_invalid_params() {
        let m = map();
        assert_eq!(prompt_owner(&m, Some(&json!({"name": "q"}))).unwrap().0, "b");
        assert!(matches!(prompt_owner(&m, Some(&json!({"name": "z"}))), Err(GatewayError::InvalidParams(_))));
        assert!(matches!(prompt_owner(&m, None), Err(GatewayError::InvalidParams(_))));
        assert_eq!(resource_owner(&m, Some(&json!({"uri": "test://a"}))).unwrap().0, "a");
        assert_eq!(resource_owner(&m, Some(&json!({"uri": "test://t/9/data"}))).unwrap().0, "a");
        let missing = resource_owner(&m, Some(&json!({"uri": "test://none"}))).unwrap_err();
        assert_eq!(missing, GatewayError::UnknownResource { uri: "test://none".into() });
        let rpc = missing.to_rpc_error(None);
        assert_eq!((rpc.code, rpc.data), (mcp::INVALID_PARAMS, Some(json!({"uri": "test://none"}))));
        let prompt_ref = json!({"ref": {"type": "ref/prompt", "name": "p"}, "argument": {"name": "x", "value": ""}});
        assert_eq!(completion_owner(&m, Some(&prompt_ref)).unwrap(), "a");
        let template_ref = json!({"ref": {"type": "ref/resource", "uri": "test://t/{id}/data"}});
        assert_eq!(completion_owner(&m, Some(&template_ref)).unwrap(), "a");
        let no_completions = json!({"ref": {"type": "ref/prompt", "name": "q"}});
        assert!(completion_owner(&m, Some(&no_completions)).is_err(), "b answers no completions");
    }

    #[test]
    fn a_method_no_component_serves_is_not_found() {
        let none = ToolMap::default();
        for method in [
            "prompts/list",
            "prompts/get",
            "resources/list",
            "resources/read",
            "resources/templates/list",
            "completion/complete",
        ] {
            assert!(matches!(offers(&none, method), Err(GatewayError::MethodNotFound(_))), "{method}");
            assert_eq!(offers(&map(), method), Ok(()), "{method}");
        }
    }

    #[test]
    fn capabilities_only_for_what_is_offered() {
        assert_eq!(capabilities(None), json!({"tools": {"listChanged": false}}));
        assert_eq!(session_capabilities(None)["logging"], json!({}), "a session may set its log level");
        assert_eq!(capabilities(Some(&ToolMap::default())), json!({"tools": {"listChanged": false}}));
        let caps = capabilities(Some(&map()));
        assert_eq!(caps["prompts"], json!({"listChanged": false}));
        assert_eq!(caps["resources"]["listChanged"], false);
        assert_eq!(caps["completions"], json!({}));
    }

    #[test]
    fn lists_are_paged_with_their_key() {
        let m = map();
        let all = items(&m, "prompts/list");
        let result = list_result("prompts/list", &all, Some("c"));
        assert_eq!(result, json!({"prompts": [{"name": "p"}, {"name": "q"}], "nextCursor": "c"}));
        assert_eq!(items(&m, "resources/templates/list").len(), 1);
        assert_eq!(list_key("resources/templates/list"), "resourceTemplates");
        assert_eq!(method_url("a", "prompts/get"), "http://a.spin.internal/_mcp/prompts/get");
    }

    #[test]
    fn answers_are_results_relayed_errors_or_failures() {
        let answered = |status: u16, body: Value| ToolAnswer::Answered {
            status,
            body: serde_json::to_vec(&body).unwrap(),
            truncated: false,
        };
        assert_eq!(interpret("a", answered(200, json!({"messages": []}))).unwrap(), json!({"messages": []}));
        let relayed =
            interpret("a", answered(400, json!({"error": {"code": -32602, "message": "nope", "data": {"uri": "x"}}})));
        let Err(GatewayError::ComponentRpcError { code, data, .. }) = relayed else { panic!("{relayed:?}") };
        assert_eq!((code, data), (-32602, Some(json!({"uri": "x"}))));
        // A code outside the relayed set becomes -32603: metric labels stay bounded.
        let odd = interpret("a", answered(400, json!({"error": {"code": 12345, "message": "odd"}})));
        assert!(matches!(odd, Err(GatewayError::ComponentRpcError { code: -32603, .. })));
        assert!(matches!(interpret("a", ToolAnswer::Timeout), Err(GatewayError::ComponentFailed { .. })));
        assert_eq!(rpc_error("a", 200, br#"{"error": {"code": -32602}}"#), None, "a 200 is never an error to relay");
        let missing =
            br#"{"error": {"code": -32021, "message": "m", "data": {"requiredCapabilities": {"sampling": {}}}}}"#;
        let Some(GatewayError::ComponentRpcError { code: -32021, data: Some(data), .. }) = rpc_error("a", 400, missing)
        else {
            panic!()
        };
        assert_eq!(data["requiredCapabilities"]["sampling"], json!({}));
        assert!(matches!(interpret("a", answered(500, json!("x"))), Err(GatewayError::ComponentFailed { .. })));
        assert!(matches!(interpret("a", answered(200, json!([1]))), Err(GatewayError::ComponentFailed { .. })));
    }
}
