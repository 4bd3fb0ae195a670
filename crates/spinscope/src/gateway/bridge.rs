//! Tools that ask for input, called by a client of a handshake-era session.
//!
//! A tool asks for the client's input (elicitation, sampling, roots) the
//! 2026-07-28 way: it answers an InputRequiredResult (SEP-2322), stateless,
//! and is called again with `inputResponses` and the `requestState` it
//! gave. A 2026-07-28 client makes those rounds itself. A handshake-era
//! client expects server-to-client requests on the call's SSE answer
//! instead, so the gateway bridges: it sends each input request to the
//! client as a JSON-RPC request with an id of its own ([`Ask`]); the client
//! POSTs each response to `/mcp` in its session, to whichever instance, and
//! that instance keeps it in the store under the session and the id
//! ([`crate::keys::client_reply`], only where the waiting call left its
//! mark); the waiting instance reads the responses and calls the tool again
//! ([`next_params`]), for at most [`MAX_ROUNDS`] rounds. One tool, two eras.

use crate::mcp::RequestId;
use crate::mcp::INPUT_REQUIRED;
use serde_json::{json, Map, Value};

/// The most rounds of input one call may ask for.
pub const MAX_ROUNDS: usize = 4;
/// The most input requests in one round.
pub const MAX_ASKS: usize = 8;
/// Every id the gateway gives a request it sends a client starts so.
pub const ID_PREFIX: &str = "spinscope-input-";
/// Longest id the gateway gives: a client's response with a longer one is
/// not the answer to a bridged request.
const MAX_ID_LEN: usize = 64;
/// What the waiting call leaves under each request's key: a response may
/// be kept only where this is.
pub const PENDING: &[u8] = b"pending";
/// How often the waiting call reads the responses, in milliseconds.
pub const POLL_MS: u64 = 25;

/// One input request, as the client gets it.
#[derive(Debug, Clone, PartialEq)]
pub struct Ask {
    /// The tool's name for it, the key of its answer in `inputResponses`.
    pub key: String,
    /// The JSON-RPC id the gateway gave it.
    pub id: String,
    /// `elicitation/create`, `sampling/createMessage` or `roots/list`.
    pub method: String,
    /// Its params, as the tool gave them.
    pub params: Value,
}

impl Ask {
    /// The server-to-client JSON-RPC request.
    pub fn request(&self) -> Value {
        json!({"jsonrpc": "2.0", "id": self.id, "method": self.method, "params": self.params})
    }
}

/// Whether a tool's result is an InputRequiredResult.
pub fn is_input_required(result: &Value) -> bool {
    result.get("resultType").and_then(Value::as_str) == Some(INPUT_REQUIRED)
}

/// The client capability an input request needs; `None`: not a request a
/// client can be asked.
pub fn capability(method: &str) -> Option<&'static str> {
    match method {
        "elicitation/create" => Some("elicitation"),
        "sampling/createMessage" => Some("sampling"),
        "roots/list" => Some("roots"),
        _ => None,
    }
}

/// The capabilities a client declared in `initialize` that a tool may
/// need, by name (the rest are not kept).
pub fn declared_capabilities(initialize_params: Option<&Value>) -> Vec<String> {
    let declared = initialize_params.and_then(|p| p.get("capabilities")).and_then(Value::as_object);
    ["elicitation", "roots", "sampling"]
        .into_iter()
        .filter(|c| declared.is_some_and(|d| d.get(*c).is_some_and(Value::is_object)))
        .map(str::to_string)
        .collect()
}

/// `_meta`'s key of a 2026-07-28 request's client capabilities.
pub const CAPABILITIES_META: &str = "io.modelcontextprotocol/clientCapabilities";

/// A handshake-era call's params as a tool that speaks spinscope's
/// extension gets them: with the session's `capabilities` in `_meta`, as a
/// 2026-07-28 request carries its own (each an empty object).
pub fn with_capabilities(params: &Value, capabilities: &[String]) -> Value {
    let mut params = params.clone();
    if let Some(object) = params.as_object_mut() {
        let meta = object.entry("_meta").or_insert_with(|| json!({}));
        if let Some(meta) = meta.as_object_mut() {
            let declared: Map<String, Value> = capabilities.iter().map(|c| (c.clone(), json!({}))).collect();
            meta.insert(CAPABILITIES_META.into(), Value::Object(declared));
        }
    }
    params
}

/// The input requests of an InputRequiredResult, each with an id made of
/// `nonce` (random, per round) and its place. `Err`: a result the client
/// cannot be asked (the tool's fault, answered as an invalid result).
pub fn asks(result: &Value, nonce: &str) -> Result<Vec<Ask>, String> {
    let requests = match result.get("inputRequests") {
        Some(Value::Object(requests)) if !requests.is_empty() => requests,
        _ => return Err("an input_required result asks a handshake-era client for nothing".into()),
    };
    if requests.len() > MAX_ASKS {
        return Err(format!("an input_required result asks for {} inputs (at most {MAX_ASKS})", requests.len()));
    }
    requests
        .iter()
        .enumerate()
        .map(|(i, (key, request))| {
            let method = request.get("method").and_then(Value::as_str).unwrap_or_default();
            if capability(method).is_none() {
                return Err(format!("input request {key:?} has method {method:?}, which no client answers"));
            }
            Ok(Ask {
                key: key.clone(),
                id: format!("{ID_PREFIX}{nonce}-{i}"),
                method: method.to_string(),
                params: request.get("params").cloned().unwrap_or_else(|| json!({})),
            })
        })
        .collect()
}

/// The capabilities the asks need that the client did not declare, sorted.
pub fn missing(asks: &[Ask], declared: &[String]) -> Vec<String> {
    let mut missing: Vec<String> = asks
        .iter()
        .filter_map(|a| capability(&a.method))
        .filter(|c| !declared.iter().any(|d| d == c))
        .map(str::to_string)
        .collect();
    missing.sort();
    missing.dedup();
    missing
}

/// Whether a client's response answers a request the gateway sent (its id
/// is one [`asks`] makes), and so is kept for the waiting call.
pub fn is_bridged(id: Option<&RequestId>) -> bool {
    match id {
        Some(RequestId::String(id)) => {
            id.len() <= MAX_ID_LEN
                && id.strip_prefix(ID_PREFIX).is_some_and(|rest| {
                    !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                })
        }
        _ => false,
    }
}

/// A client's response as kept in the store: its `result`, or its `error`.
pub fn kept_response(result: Option<&Value>, error: Option<&Value>) -> Vec<u8> {
    match (result, error) {
        (Some(result), _) => json!({ "result": result }),
        (None, error) => json!({ "error": error.cloned().unwrap_or(Value::Null) }),
    }
    .to_string()
    .into_bytes()
}

/// What a kept response says: the result the tool gets, or why the client
/// gave none (its error's message).
pub fn answer(kept: &[u8]) -> Result<Value, String> {
    let kept: Value = serde_json::from_slice(kept).map_err(|e| format!("unreadable response: {e}"))?;
    match kept.get("result") {
        Some(result) => Ok(result.clone()),
        None => Err(kept["error"]["message"].as_str().unwrap_or("the client answered an error").to_string()),
    }
}

/// The params of the next round: the call's own, with `inputResponses`
/// (each ask's answer under its key) and the `requestState` the tool gave.
pub fn next_params(params: &Value, asks: &[Ask], answers: Vec<Value>, result: &Value) -> Value {
    let mut next = params.clone();
    let responses: Map<String, Value> = asks.iter().map(|a| a.key.clone()).zip(answers).collect();
    if let Some(object) = next.as_object_mut() {
        object.insert("inputResponses".into(), Value::Object(responses));
        match result.get("requestState") {
            Some(state) => object.insert("requestState".into(), state.clone()),
            None => object.remove("requestState"),
        };
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input_required() -> Value {
        json!({"resultType": "input_required", "requestState": "s1", "inputRequests": {
            "name": {"method": "elicitation/create", "params": {"message": "Who?"}},
            "llm": {"method": "sampling/createMessage", "params": {"maxTokens": 5}}}})
    }

    #[test]
    fn each_input_request_becomes_a_request_with_an_id_of_the_gateways() {
        let asks = asks(&input_required(), "ab12").unwrap();
        assert_eq!(asks.len(), 2);
        assert!(asks.iter().all(|a| is_bridged(Some(&RequestId::from(a.id.as_str())))), "{asks:?}");
        assert_ne!(asks[0].id, asks[1].id);
        let request = asks.iter().find(|a| a.key == "name").unwrap().request();
        assert_eq!(
            (request["method"].as_str(), request["params"]["message"].as_str()),
            (Some("elicitation/create"), Some("Who?"))
        );
        assert!(is_input_required(&input_required()) && !is_input_required(&json!({"content": []})));
    }

    #[test]
    fn a_result_the_client_cannot_be_asked_is_refused() {
        assert!(asks(&json!({"resultType": "input_required", "requestState": "s"}), "n").is_err(), "nothing asked");
        let odd = json!({"resultType": "input_required", "inputRequests": {"x": {"method": "tools/call"}}});
        assert!(asks(&odd, "n").unwrap_err().contains("tools/call"));
        let many: Map<String, Value> =
            (0..=MAX_ASKS).map(|i| (i.to_string(), json!({"method": "roots/list"}))).collect();
        let many = json!({"resultType": "input_required", "inputRequests": many});
        assert!(asks(&many, "n").is_err(), "bounded");
    }

    #[test]
    fn the_capabilities_needed_are_those_declared_in_initialize() {
        let declared = declared_capabilities(Some(&json!({"capabilities": {"sampling": {}, "roots": true, "x": {}}})));
        assert_eq!(declared, ["sampling"], "only known capabilities, declared as objects");
        let asks = asks(&input_required(), "n").unwrap();
        assert_eq!(missing(&asks, &declared), ["elicitation"]);
        assert!(missing(&asks, &["elicitation".into(), "sampling".into()]).is_empty());
        assert!(declared_capabilities(None).is_empty());
    }

    #[test]
    fn a_sessions_capabilities_reach_the_tool_in_meta() {
        let params = json!({"name": "t", "_meta": {"progressToken": 1}});
        let given = with_capabilities(&params, &["sampling".into()]);
        assert_eq!(given["_meta"][CAPABILITIES_META], json!({"sampling": {}}));
        assert_eq!(given["_meta"]["progressToken"], 1, "the rest of _meta kept");
        assert_eq!(with_capabilities(&json!({}), &[])["_meta"][CAPABILITIES_META], json!({}));
    }

    #[test]
    fn only_responses_to_bridged_requests_are_kept() {
        assert!(is_bridged(Some(&RequestId::from("spinscope-input-0a1b-0"))));
        for id in ["spinscope-input-", "spinscope-input-a:b", "other-1", &format!("{ID_PREFIX}{}", "a".repeat(60))] {
            assert!(!is_bridged(Some(&RequestId::from(id))), "{id}");
        }
        assert!(!is_bridged(Some(&RequestId::from(7i64))) && !is_bridged(None));
    }

    #[test]
    fn the_next_round_carries_the_answers_and_the_tools_state() {
        let asks = asks(&input_required(), "n").unwrap();
        let kept = kept_response(Some(&json!({"action": "accept"})), None);
        let refused = kept_response(None, Some(&json!({"code": -1, "message": "no"})));
        assert_eq!(answer(&kept).unwrap(), json!({"action": "accept"}));
        assert_eq!(answer(&refused).unwrap_err(), "no");
        let params = json!({"name": "t", "arguments": {}, "requestState": "old"});
        let answers = vec![json!({"a": 1}), json!({"b": 2})];
        let next = next_params(&params, &asks, answers, &input_required());
        assert_eq!(next["requestState"], "s1");
        assert_eq!(next["inputResponses"][&asks[0].key], json!({"a": 1}));
        assert_eq!(next["name"], "t");
        let stateless = next_params(&params, &asks, vec![json!({}), json!({})], &json!({}));
        assert!(stateless.get("requestState").is_none(), "no state given, none sent");
    }
}
