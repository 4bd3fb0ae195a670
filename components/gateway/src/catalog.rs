//! Prompts, resources and completions served by components (spinscope's
//! extension of the tool contract, docs/tools.md): the lists come from the
//! tool map (discovered and cached with the tools, one map, one TTL); a
//! `prompts/get`, `resources/read` or `completion/complete` is relayed to
//! the component that serves it, with the request's params, under the tool
//! timeout. Which component, and what its answer means, is decided in
//! `spinscope::gateway::catalog`; this module does the I/O and the log line.

use crate::context::{Context, MAX_ERROR_CHARS};
use crate::tools::{self, CallFacts};
use serde_json::Value;
use spinscope::gateway::catalog;
use spinscope::gateway::logger::TARGET_INVOCATION;
use spinscope::gateway::tool_map::ToolMap;
use spinscope::gateway::GatewayError;
use spinscope::log::Level;
use spinscope::mcp;
use spinscope::redact::{redact_arguments, redact_message, RedactionPolicy};
use spinscope_spin::outbound::{self, Outgoing};
use spinscope_spin::{random_bytes, time, tool_components};

/// The map while fresh, else a new discovery (as `tools/call` finds a tool).
fn fresh_map(cx: &Context, facts: &mut CallFacts) -> ToolMap {
    let cached = tools::cached_map(cx);
    match cached.as_ref().filter(|m| m.is_fresh(time::now_unix_ms(), cx.config.tool_map_ttl)) {
        Some(map) => map.clone(),
        None => tools::discover(cx, cached.as_ref(), facts),
    }
}

/// The capabilities `initialize` and `server/discover` declare: from the
/// cached map, whatever its age (a declaration, not a listing), or from a
/// discovery when there is none yet.
/// `session`: a handshake-era `initialize`, which also declares `logging`.
pub fn capabilities(cx: &Context, facts: &mut CallFacts, session: bool) -> Value {
    let map = tools::cached_map(cx).unwrap_or_else(|| tools::discover(cx, None, facts));
    match session {
        true => catalog::session_capabilities(Some(&map)),
        false => catalog::capabilities(Some(&map)),
    }
}

/// `prompts/list`, `resources/list`, `resources/templates/list`: one page.
pub fn list(cx: &Context, method: &str, params: Option<&Value>, facts: &mut CallFacts) -> Result<Value, GatewayError> {
    let cursor = mcp::list_cursor(params)?.map(str::to_string);
    let map = fresh_map(cx, facts);
    catalog::offers(&map, method)?;
    let all = catalog::items(&map, method);
    let (page, next) = mcp::paginate(&all, cursor.as_deref(), cx.config.tools_page_size)?;
    let page: Vec<&Value> = page.into_iter().copied().collect();
    Ok(catalog::list_result(method, &page, next.as_deref()))
}

/// `prompts/get`, `resources/read`, `completion/complete`: relayed to the
/// component that serves it.
pub fn request(
    cx: &Context,
    method: &str,
    params: Option<&Value>,
    facts: &mut CallFacts,
) -> Result<Value, GatewayError> {
    let map = fresh_map(cx, facts);
    catalog::offers(&map, method)?;
    let (component, name) = match method {
        "prompts/get" => catalog::prompt_owner(&map, params)?,
        "resources/read" => catalog::resource_owner(&map, params)?,
        _ => (catalog::completion_owner(&map, params)?, String::new()),
    };
    if !name.is_empty() {
        facts.relayed_for = Some((method == "prompts/get", name.clone()));
    }
    // The component gets the params as the client sent them, `_meta` aside
    // (the envelope is the gateway's business).
    let mut body = params.cloned().unwrap_or_else(|| serde_json::json!({}));
    if let Some(obj) = body.as_object_mut() {
        obj.remove("_meta");
    }
    let span = cx.record.trace.child(&random_bytes::<8>());
    let mut outgoing = Outgoing::post(catalog::method_url(component, method), body.to_string())
        .header("content-type", "application/json")
        .header("traceparent", span.traceparent())
        .header("x-request-id", cx.record.request_id.as_str());
    if let Some(baggage) = &cx.baggage {
        outgoing = outgoing.header("baggage", baggage.as_str());
    }
    let started_ns = time::monotonic_ns();
    let reply = outbound::send(outgoing, cx.config.tool_timeout, cx.config.max_output_bytes.saturating_mul(8));
    let answer = catalog::interpret(component, tool_components::answer(reply));
    let duration_ms = ((time::monotonic_ns() - started_ns) as f64 / 1e6).round() as u64;
    let policy = RedactionPolicy::with_extra_keys(&cx.config.redact_keys);
    let (level, message) = match &answer {
        Ok(_) => (Level::Debug, "Component request completed"),
        Err(GatewayError::ComponentFailed { .. }) => (Level::Error, "Component request failed"),
        Err(_) => (Level::Debug, "Component request answered with an error"),
    };
    if cx.log.enabled(TARGET_INVOCATION, level) {
        // The name or URI is the client's: bounded; the arguments redacted.
        let arguments = params.and_then(|p| p.get("arguments").or_else(|| p.get("argument")));
        let line = cx
            .log
            .line(level, TARGET_INVOCATION, message)
            .field("method", method)
            .field("component_id", component)
            .field("name", spinscope::bounded::client_string(&name))
            .field("session_id", cx.record.session_id.as_deref().unwrap_or("-"))
            .field("tenant", cx.record.tenant.as_deref().unwrap_or("-"))
            .field("tool_span_id", span.span_id_hex())
            .field_opt("arguments", arguments.map(|a| redact_arguments(a, &policy)))
            .field_u64("duration_ms", duration_ms)
            .field_opt(
                "error",
                answer.as_ref().err().map(|e| redact_message(&e.to_string(), &policy, MAX_ERROR_CHARS)),
            );
        cx.log.emit(line);
    }
    answer
}
