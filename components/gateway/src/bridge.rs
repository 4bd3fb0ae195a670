//! The handshake-era side of a tool that asks for input
//! (`spinscope::gateway::bridge` decides): the call's instance sends the
//! tool's input requests to the client on the SSE answer and waits for the
//! responses in the store; the instance a response is POSTed to keeps it
//! there ([`keep_response`]).

use crate::context::Context;
use serde_json::Value;
use spinscope::gateway::bridge::{self, Ask, PENDING, POLL_MS};
use spinscope::gateway::notifications;
use spinscope::gateway::GatewayError;
use spinscope::keys;
use spinscope::mcp::ClientResponse;
use spinscope_spin::kv::{KvError, Store};
use spinscope_spin::{random_bytes, time};
use std::time::Duration;

fn unavailable(e: KvError) -> GatewayError {
    GatewayError::StoreUnavailable { cause: e.to_string() }
}

/// A client's response to a request the gateway sent it in its session:
/// kept for the waiting call when that call still waits for it (its mark
/// is there); anything else is acknowledged and dropped, as before.
pub fn keep_response(cx: &Context, response: &ClientResponse) -> Result<(), GatewayError> {
    let (Some(session), true) = (cx.record.session_id.as_deref(), bridge::is_bridged(response.id.as_ref())) else {
        return Ok(());
    };
    let id = response.id.as_ref().map(ToString::to_string).unwrap_or_default();
    let key = keys::client_reply(session, &id);
    let store = cx.store().map_err(unavailable)?;
    if store.get(&key).map_err(unavailable)?.as_deref() == Some(PENDING) {
        let kept = bridge::kept_response(response.result.as_ref(), response.error.as_ref());
        store.set(&key, &kept).map_err(unavailable)?;
    }
    Ok(())
}

/// Rounds of input for a handshake-era call whose tool answered `result`,
/// an InputRequiredResult: the client is asked, and the tool called again
/// with its answers (`call`, given the next round's params), until the
/// tool answers a result or [`bridge::MAX_ROUNDS`] have passed. `Ok(Err)`:
/// the tool's result asked for something no client can be asked: the
/// problem, for the caller to answer as the tool's invalid result.
pub fn rounds(
    cx: &Context,
    params: &Value,
    mut result: Value,
    mut call: impl FnMut(&Value) -> Result<Value, GatewayError>,
) -> Result<Result<Value, String>, GatewayError> {
    for _ in 0..bridge::MAX_ROUNDS {
        if !bridge::is_input_required(&result) {
            return Ok(Ok(result));
        }
        let nonce: String = random_bytes::<6>().iter().map(|b| format!("{b:02x}")).collect();
        let asks = match bridge::asks(&result, &nonce) {
            Ok(asks) => asks,
            Err(problem) => return Ok(Err(problem)),
        };
        // Requests reach a client only on an SSE answer.
        let needed = match notifications::accepts_event_stream(cx.header("accept")) {
            true => bridge::missing(&asks, &cx.client_capabilities),
            false => bridge::missing(&asks, &[]),
        };
        if !needed.is_empty() {
            return Err(GatewayError::ClientLacksCapability { required: needed });
        }
        let answers = ask(cx, &asks)?;
        result = call(&bridge::next_params(params, &asks, answers, &result))?;
    }
    match bridge::is_input_required(&result) {
        true => Ok(Err(format!("asked for input more than {} times", bridge::MAX_ROUNDS))),
        false => Ok(Ok(result)),
    }
}

/// Sends `asks` to the client and waits, within `tool_timeout_ms`, for
/// every answer; the marks and answers are deleted after.
fn ask(cx: &Context, asks: &[Ask]) -> Result<Vec<Value>, GatewayError> {
    let session = cx.record.session_id.as_deref().ok_or(GatewayError::MissingSession)?;
    let store = cx.store().map_err(unavailable)?;
    let keys: Vec<String> = asks.iter().map(|a| keys::client_reply(session, &a.id)).collect();
    for key in &keys {
        store.set(key, PENDING).map_err(unavailable)?;
    }
    for ask in asks {
        cx.relay(&ask.request());
    }
    let answers = wait(cx, store, &keys);
    for key in &keys {
        let _ = store.delete(key);
    }
    answers
}

fn wait(cx: &Context, store: &Store, keys: &[String]) -> Result<Vec<Value>, GatewayError> {
    let timeout = cx.config.tool_timeout;
    let deadline = time::monotonic_ns().saturating_add(timeout.as_nanos() as u64);
    let mut answers: Vec<Option<Value>> = vec![None; keys.len()];
    loop {
        for (key, answer) in keys.iter().zip(answers.iter_mut()).filter(|(_, a)| a.is_none()) {
            match store.get(key).map_err(unavailable)? {
                Some(kept) if kept != PENDING => {
                    let given = bridge::answer(&kept).map_err(|reason| GatewayError::ClientInputFailed { reason })?;
                    *answer = Some(given);
                }
                Some(_) => {}
                None => return Err(GatewayError::ClientInputFailed { reason: "its request was lost".into() }),
            }
        }
        if answers.iter().all(Option::is_some) {
            return Ok(answers.into_iter().flatten().collect());
        }
        if time::monotonic_ns() >= deadline {
            let reason = format!("no answer within {} ms", timeout.as_millis());
            return Err(GatewayError::ClientInputFailed { reason });
        }
        time::sleep(Duration::from_millis(POLL_MS));
    }
}
