//! The tool components behind the gateway: `tools/list` asks them all for
//! their tools (the map is cached in the store for `tool_map_ttl_ms`, so a
//! `tools/call` need not ask every component); `tools/call` checks the
//! arguments and calls the owner over service chaining with a deadline.
//! What the answers mean is decided in `spinscope::gateway` (`tool_map`,
//! `tool_result`); this module does the I/O and the log lines, and
//! returns its facts for the record.

use crate::context::{Context, MAX_ERROR_CHARS};
use crate::relay::ToolStream;
use serde_json::{json, Value};
use spinscope::gateway::breaker::{Policy, State, Transition};
use spinscope::gateway::catalog;
use spinscope::gateway::identity;
use spinscope::gateway::logger::{TARGET_GATEWAY, TARGET_INVOCATION};
use spinscope::gateway::record::{Invocation, ToolCallRecord};
use spinscope::gateway::timing;
use spinscope::gateway::tool_map::{self, ToolEntry, ToolMap, DISCOVERY_TIMEOUT};
use spinscope::gateway::tool_result::{self, Bounds, Ending, Failure, ToolAnswer};
use spinscope::gateway::{session_id, Answer, GatewayError};
use spinscope::keys;
use spinscope::log::Level;
use spinscope::mcp::modern::Era;
use spinscope::mcp::{self, Tool};
use spinscope::metrics::series::ToolOutcome;
use spinscope::metrics::tool_metrics::{self, declare};
use spinscope::redact::{redact_arguments, redact_message, redact_value, RedactionPolicy};
use spinscope_spin::outbound::{self, Outgoing};
use spinscope_spin::{breaker, random_bytes, time, tool_components};
use std::cell::OnceCell;

/// Longest `detail` (a trap's backtrace) logged, in characters.
const MAX_DETAIL_CHARS: usize = 4000;

/// What a tools step found, for the record.
#[derive(Default)]
pub struct CallFacts {
    /// The tool a `tools/call` named (`_other` when no component lists it).
    pub tool: Option<String>,
    /// Components that did not list their tools.
    pub discovery_failures: Vec<String>,
    /// The call made, and the outputs it had cut.
    pub called: Option<(ToolCallRecord, u64)>,
    /// A tool-level error answered as a result (`isError: true`).
    pub tool_error: Option<GatewayError>,
    /// A circuit breaker this call moved.
    pub transition: Option<(String, Transition)>,
    /// The digest of the call's redacted arguments, for its audit event.
    pub arguments_sha256: Option<String>,
    /// The tool policy's decision (allowed, rule), when there is a policy.
    pub authorization: Option<(bool, Option<usize>)>,
    /// The prompt or resource a `prompts/get` or `resources/read` was
    /// relayed for (`true`: a prompt's name; `false`: a resource's URI).
    pub relayed_for: Option<(bool, String)>,
}

/// `tools/list`: always discovers afresh (a client listing tools wants the
/// current set), one page at a time.
pub fn list(cx: &Context, params: Option<&Value>, facts: &mut CallFacts) -> Result<Value, GatewayError> {
    let cursor = mcp::list_cursor(params)?.map(str::to_string);
    let cached = cached_map(cx);
    let map = discover(cx, cached.as_ref(), facts);
    // A caller sees only the tools the policy lets it call.
    let policy = &cx.config.tool_policy;
    let all: Vec<Tool> = map
        .tools
        .into_iter()
        .filter(|e| policy.decide(&cx.caller.caller, &e.tool.name).allowed)
        .map(|e| e.tool)
        .collect();
    let (page, next) = mcp::paginate(&all, cursor.as_deref(), cx.config.tools_page_size)?;
    Ok(mcp::tools_list_result(&page, next.as_deref()))
}

/// `tools/call`: a JSON-RPC error only for a request that cannot be
/// served (unknown tool; invalid arguments before 2025-11-25); a tool that
/// fails gives a result with `isError`.
pub fn call(cx: &Context, params: Option<&Value>, facts: &mut CallFacts) -> Result<Value, GatewayError> {
    let call = mcp::parse_call_tool_params(params)?;
    if cx.config.audit_enabled {
        // The audit event's digest of the arguments, redacted first: a
        // digest of a secret would let a guess be confirmed.
        let policy = RedactionPolicy::with_extra_keys(&cx.config.redact_keys);
        facts.arguments_sha256 = Some(spinscope::audit::arguments_digest(&redact_value(&call.arguments, &policy)));
    }
    // The tool's entry of the map and the breakers, in one read where the
    // store allows (a name too long for an entry reads the whole map).
    let policy = Policy::of(&cx.config);
    let entry_key = keys::tool_entry(&call.name);
    let first = first_key(entry_key.as_deref());
    let prefetched = cx.store().ok().map(|store| breaker::prefetch(store, first, &cx.config.tool_components, policy));
    let cached = prefetched.as_ref().and_then(|p| p.map.as_deref());
    let Some((entry, extended)) = find_tool(cx, cached, entry_key.is_some(), &call.name, facts) else {
        facts.tool = Some(spinscope::metrics::OTHER.to_string());
        return Err(GatewayError::UnknownTool { name: spinscope::bounded::client_string(&call.name) });
    };
    facts.tool = Some(entry.tool.name.clone());
    authorize(cx, &entry.tool.name, facts)?;
    if cx.config.validate_tool_arguments {
        if let Err(problem) = mcp::validate_arguments(&entry.tool.input_schema, &call.arguments) {
            let error = GatewayError::InvalidToolArguments { tool: call.name, component: entry.component, problem };
            if cx.mapping(&error).answer != Answer::ToolError {
                return Err(error);
            }
            let result = mcp::tool_error_result(&error.to_string());
            facts.tool_error = Some(error);
            return Ok(result);
        }
    }
    let breaker = prefetched.and_then(|p| p.state(&entry.component));
    // A session's client capabilities go to the tool in `_meta`, where a
    // 2026-07-28 request carries its own.
    let with_capabilities = match (cx.era, params) {
        (Era::Handshake, Some(p)) if extended && !cx.client_capabilities.is_empty() => {
            Some(spinscope::gateway::bridge::with_capabilities(p, &cx.client_capabilities))
        }
        _ => None,
    };
    let params = with_capabilities.as_ref().or(params).filter(|_| extended);
    let result = invoke(cx, &entry, &call.arguments, breaker, params, facts)?;
    // A handshake-era client answers a tool's input requests on the call's
    // own stream (`gateway::bridge`); a 2026-07-28 client gets the result.
    let (Era::Handshake, Some(params)) = (cx.era, params) else { return Ok(result) };
    let again = |next: &Value| invoke(cx, &entry, &call.arguments, None, Some(next), &mut *facts);
    match crate::bridge::rounds(cx, params, result, again)? {
        Ok(result) => Ok(result),
        Err(problem) => {
            let failure = spinscope::gateway::ToolFailure::InvalidResult { problem };
            let error = GatewayError::ToolFailed { tool: entry.tool.name.clone(), failure };
            let result = mcp::tool_error_result(&error.to_string());
            facts.tool_error = Some(error);
            Ok(result)
        }
    }
}

/// A `tools/call`'s first reads (the tool's entry of the map, the
/// breakers: `breaker::prefetch`) in one store call where the store can
/// (`kv::Store::read_ahead`), with the key that tells which store it is:
/// in the handshake era the session, when its id says its store reads
/// many keys in one call (`gateway::session_id`); in 2026-07-28 the
/// store's encoding marker, with breakers on (off, the call reads one key
/// and needs no encoding). On Redis that read is refused, and the refusal
/// tells the encoding instead of the marker's `get`.
pub fn read_ahead(cx: &Context, params: Option<&Value>, era: Era) {
    let name = params.and_then(|p| p.get("name")).and_then(Value::as_str).unwrap_or_default();
    let entry_key = keys::tool_entry(name);
    let first = first_key(entry_key.as_deref());
    let mut wanted =
        spinscope::gateway::breaker::prefetch_keys(first, &cx.config.tool_components, Policy::of(&cx.config));
    let teller = match era {
        Era::Handshake => cx.header(mcp::SESSION_ID_HEADER).filter(|id| session_id::batch_reads(id)).map(keys::session),
        Era::Modern => (wanted.len() > 1).then(|| keys::STORE_ENCODING.to_string()),
    };
    let (Some(teller), Ok(store)) = (teller, cx.store()) else { return };
    wanted.push(teller);
    store.read_ahead(&wanted);
}

/// The tool's entry of the map, or (a name too long for an entry) the map.
fn first_key(entry_key: Option<&str>) -> &str {
    entry_key.unwrap_or(keys::TOOL_MAP)
}

/// The tool policy on a `tools/call` (docs/auth.md): the decision is
/// recorded, a denial logged, and answered as `identity::refusal` says.
fn authorize(cx: &Context, tool: &str, facts: &mut CallFacts) -> Result<(), GatewayError> {
    let policy = &cx.config.tool_policy;
    if policy.is_empty() {
        return Ok(());
    }
    let decision = policy.decide(&cx.caller.caller, tool);
    facts.authorization = Some((decision.allowed, decision.rule));
    if decision.allowed {
        return Ok(());
    }
    if cx.log.enabled(TARGET_GATEWAY, Level::Info) {
        let line = cx
            .log
            .line(Level::Info, TARGET_GATEWAY, "Tool call denied by the tool policy")
            .field("tenant", cx.caller.tenant.as_deref().unwrap_or("-"))
            .field("tool_name", tool)
            .field("rule", "none grants it");
        cx.log.emit(line);
    }
    let resource = cx.config.oauth.as_ref().map(|o| o.resource.as_str());
    Err(identity::refusal(tool, &decision, cx.caller.by_token, resource))
}

pub(crate) fn cached_map(cx: &Context) -> Option<ToolMap> {
    let bytes = cx.store().ok()?.get(keys::TOOL_MAP).ok()??;
    serde_json::from_slice(&bytes).ok()
}

/// The owner of `tool`: from the `cached` map when fresh and it knows the
/// tool, else from a new discovery.
/// Also says whether its component speaks spinscope's extension.
///
/// `cached` is the tool's own entry of the map when `is_entry` (the hot
/// path: its size does not grow with the tools), else the whole map.
fn find_tool(
    cx: &Context,
    cached: Option<&[u8]>,
    is_entry: bool,
    tool: &str,
    facts: &mut CallFacts,
) -> Option<(ToolEntry, bool)> {
    let (now, ttl) = (time::now_unix_ms(), cx.config.tool_map_ttl);
    let found = match is_entry {
        true => cached.and_then(|bytes| tool_map::find_entry(bytes, tool, now, ttl)),
        false => cached.and_then(|bytes| tool_map::find_cached(bytes, tool, now, ttl)),
    };
    if found.is_some() {
        return found;
    }
    // No fresh entry: the whole map, then a discovery.
    let map_bytes = match is_entry {
        true => cx.store().ok().and_then(|store| store.get(keys::TOOL_MAP).ok().flatten()),
        false => cached.map(<[u8]>::to_vec),
    };
    if let Some(found) = map_bytes.as_deref().and_then(|bytes| tool_map::find_cached(bytes, tool, now, ttl)) {
        return Some(found);
    }
    let cached: Option<ToolMap> = map_bytes.as_deref().and_then(|bytes| serde_json::from_slice(bytes).ok());
    let map = discover(cx, cached.as_ref(), facts);
    map.find(tool).map(|e| (e.clone(), map.is_extended(&e.component)))
}

/// Asks every tool component for its tools (and the prompts, resources
/// and completions it serves), all at once; logs what failed
/// and caches the map unless `cached` says the same.
pub(crate) fn discover(cx: &Context, cached: Option<&ToolMap>, facts: &mut CallFacts) -> ToolMap {
    let components = &cx.config.tool_components;
    let timeout = DISCOVERY_TIMEOUT.min(cx.config.tool_timeout);
    // A component whose breaker is open is not asked (docs/breakers.md).
    let open = breaker::open_now(cx.store().ok(), components, Policy::of(&cx.config), time::now_unix_ms());
    let asked: Vec<String> = components.iter().zip(&open).filter(|(_, o)| !**o).map(|(c, _)| c.clone()).collect();
    let mut answers = tool_components::list_catalog(&asked, timeout).into_iter();
    let listings = components
        .iter()
        .zip(&open)
        .map(|(component, open)| match open {
            true => tool_map::while_open(cached, component),
            false => {
                let reply = answers.next().expect("one answer per component asked");
                tool_map::read_listing(tool_components::answer(reply), timeout)
            }
        })
        .collect();
    let discovery = tool_map::assemble(components, listings, time::now_unix_ms());
    let policy = RedactionPolicy::with_extra_keys(&cx.config.redact_keys);
    for failure in discovery.failures.iter().filter(|f| f.reason.is_failure()) {
        facts.discovery_failures.push(failure.component.clone());
        // A component's answer may quote anything, secrets included.
        let error = redact_message(&failure.reason.to_string(), &policy, MAX_ERROR_CHARS);
        let line = cx
            .log
            .line(Level::Warn, TARGET_GATEWAY, "Tool component did not list its tools")
            .field("component_id", failure.component.as_str())
            .field("error", error.as_str());
        cx.log.emit(line);
    }
    for dup in &discovery.duplicates {
        let line = cx
            .log
            .line(Level::Error, TARGET_GATEWAY, "Duplicate tool name: the first component keeps it")
            .field("tool_name", dup.tool.as_str())
            .field("component_id", dup.ignored.as_str())
            .field("kept_by", dup.kept.as_str());
        cx.log.emit(line);
    }
    if let Ok(store) = cx.store() {
        if discovery.map.worth_saving(cached, cx.config.tool_map_ttl) {
            // Said once per saved map, not on every listing.
            for entry in &discovery.map.tools {
                for problem in declare::declarations(&entry.tool).1 {
                    let line = cx
                        .log
                        .line(Level::Warn, TARGET_GATEWAY, "Tool metric declaration ignored")
                        .field("component_id", entry.component.as_str())
                        .field("tool_name", entry.tool.name.as_str())
                        .field("error", problem.as_str());
                    cx.log.emit(line);
                }
            }
            // The map and each tool's entry of it, in one write.
            let mut records = tool_map::entry_records(&discovery.map);
            records
                .push((keys::TOOL_MAP.to_string(), serde_json::to_vec(&discovery.map).expect("tool map serializes")));
            let _ = store.set_many(records);
        }
    }
    discovery.map
}

/// Calls one tool and returns a `CallToolResult` (or an
/// InputRequiredResult), or the JSON-RPC error an extended component
/// answered (relayed: the request, not the tool, is wrong). A failure is
/// told twice: the client gets a short message; the log line and the span
/// get the whole story, redacted. `params` is the request's whole params
/// for a component that speaks spinscope's extension, else `None`;
/// `breaker_state` its breaker, when it was read with the tool map.
fn invoke(
    cx: &Context,
    entry: &ToolEntry,
    arguments: &Value,
    breaker_state: Option<Option<State>>,
    params: Option<&Value>,
    facts: &mut CallFacts,
) -> Result<Value, GatewayError> {
    let (tool, component) = (entry.tool.name.as_str(), entry.component.as_str());
    // The component's breaker: read with the map (or once here); writes
    // only on failures.
    let policy = Policy::of(&cx.config);
    let guard = breaker::check(cx.store().ok(), component, breaker_state, policy, time::now_unix_ms());
    if let Some(retry_after_ms) = guard.refused() {
        return Ok(refuse_open(cx, tool, component, retry_after_ms, facts));
    }
    let started_ns = time::monotonic_ns();
    let span = cx.record.trace.child(&random_bytes::<8>());
    if cx.host_parent.is_some() {
        // Spin's outbound span to the tool component becomes its child.
        #[cfg(feature = "wasi-otel")]
        spinscope_spin::host_trace::start(&span);
    }
    let policy = RedactionPolicy::with_extra_keys(&cx.config.redact_keys);
    let logging = cx.log.enabled(TARGET_INVOCATION, Level::Error);
    // Redacted only for a line that is written: at the default level, a
    // call that succeeds writes none.
    let redacted = OnceCell::new();
    let arguments_for = |level: Level| match cx.log.enabled(TARGET_INVOCATION, level) {
        true => redacted.get_or_init(|| redact_arguments(arguments, &policy)).as_str(),
        false => "",
    };
    let line = |level: Level, message: &str| {
        cx.log.call_line(level, message, &cx.record, tool, component).field("tool_span_id", span.span_id_hex())
    };
    if cx.log.enabled(TARGET_INVOCATION, Level::Debug) {
        cx.log.emit(line(Level::Debug, "Tool invocation started").field("arguments", arguments_for(Level::Debug)));
    }

    let (url, body) = tool_map::call_request(component, tool, arguments, params, params.is_some());
    let mut request = Outgoing::post(url, body)
        .header("content-type", "application/json")
        .header("traceparent", span.traceparent())
        .header("x-request-id", cx.record.request_id.as_str());
    if let Some(state) = &span.tracestate {
        request = request.header("tracestate", state.as_str());
    }
    if let Some(baggage) = &cx.baggage {
        request = request.header("baggage", baggage.as_str());
    }
    let max_output = cx.config.max_output_bytes;
    let hard_cap = max_output.saturating_mul(8).max(8 << 20);
    // A tool that sends notifications while it works answers an SSE
    // stream of them and its result (docs/tools.md): they go on to the
    // client as they come, and the result is read as ever.
    let reply = match params {
        Some(params) => {
            let mut stream = ToolStream::new(cx, params);
            let mut reply = outbound::send_observed(request, cx.config.tool_timeout, hard_cap, &mut |head, chunk| {
                stream.observe(head, chunk)
            });
            if let Ok(reply) = reply.as_mut() {
                stream.finish(reply);
            }
            reply
        }
        None => outbound::send(request, cx.config.tool_timeout, hard_cap),
    };
    let total_ms = match &reply {
        Ok(r) => r.elapsed.as_secs_f64() * 1e3,
        Err(_) => (time::monotonic_ns() - started_ns) as f64 / 1e6,
    };
    // What the tool said of itself: its own time and its memory.
    let header = |name: &str| reply.as_ref().ok()?.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let split = timing::split(total_ms, header(timing::SERVER_TIMING).as_deref());
    let memory_bytes = timing::memory_bytes(header(timing::MEMORY_HEADER).as_deref());
    // Redaction runs only for who reads it: the failure line, the exported span.
    let reported = logging || cx.traced();
    let bounds = Bounds { timeout_ms: cx.config.tool_timeout.as_millis() as u64, hard_cap, reported };
    let answer = tool_components::answer(reply);
    let relayed = match &answer {
        ToolAnswer::Answered { status, body, .. } if params.is_some() => catalog::rpc_error(component, *status, body),
        _ => None,
    };
    let mut ending = match &relayed {
        // The component refused the request (e.g. -32021): answered as that
        // JSON-RPC error, the call counted as an error of the tool.
        Some(error) => Ending {
            result: json!({ "content": [] }),
            failure: Some(Failure { error: error.clone(), text: error.to_string(), detail: None }),
            output_truncated: 0,
        },
        None => tool_result::interpret(tool, answer, bounds),
    };
    // The tool's own metrics leave the result here, whatever becomes of them.
    let reports = tool_metrics::report::take(&mut ending.result, &entry.tool, cx.config.max_tool_metric_reports);
    if let Some(original) = tool_result::limit_output(&mut ending.result, max_output) {
        ending.output_truncated += 1;
        let truncated = line(Level::Warn, "Tool output truncated")
            .field_u64("output_bytes", original as u64)
            .field_u64("max_output_bytes", max_output as u64);
        cx.log.emit(truncated);
    }

    let ended_ns = time::monotonic_ns();
    let outcome = ending.outcome();
    let failure = ending.failure.as_ref();
    let (level, message) = match failure {
        None => (Level::Debug, "Tool invocation completed successfully"),
        Some(f) => (cx.mapping(&f.error).level, "Tool invocation failed"),
    };
    let error = failure.filter(|_| reported).map(|f| redact_message(&f.text, &policy, MAX_ERROR_CHARS));
    let detail = failure
        .and_then(|f| f.detail.as_deref())
        .filter(|_| logging)
        .map(|d| redact_message(d, &policy, MAX_DETAIL_CHARS));
    if cx.log.enabled(TARGET_INVOCATION, level) {
        let done = line(level, message)
            .field("arguments", arguments_for(level))
            .field_u64("duration_ms", ((ended_ns - started_ns) as f64 / 1e6).round() as u64)
            .field_u64("total_duration_ms", split.total_ms.round() as u64)
            .field_opt("execution_ms", split.execution_ms.map(|ms| format!("{ms:.3}")))
            .field_opt("overhead_ms", split.overhead_ms.map(|ms| format!("{ms:.3}")))
            .field("outcome", outcome.as_str())
            .field_opt("error", error.as_deref())
            .field_opt("detail", detail);
        cx.log.emit(done);
    }
    let invocation = Invocation {
        span,
        start_offset_ns: started_ns.saturating_sub(cx.record.began_ns),
        end_offset_ns: ended_ns.saturating_sub(cx.record.began_ns),
        execution_ms: split.execution_ms,
        memory_bytes,
        reports,
    };
    let call = ToolCallRecord { component: component.to_string(), outcome, invocation: Some(invocation), error };
    let failed = matches!(ending.failure.as_ref().map(|f| &f.error),
        Some(GatewayError::ToolFailed { failure, .. }) if failure.is_component_failure());
    facts.transition = guard.finish(failed, time::now_unix_ms()).map(|t| (component.to_string(), t));
    facts.called = Some((call, ending.output_truncated));
    if let Some(error) = relayed {
        return Err(error);
    }
    facts.tool_error = ending.failure.map(|f| f.error);
    Ok(ending.result)
}

/// A call its component's open breaker refuses: answered at once, outcome
/// `circuit_open`; the component is not called.
fn refuse_open(cx: &Context, tool: &str, component: &str, retry_after_ms: u64, facts: &mut CallFacts) -> Value {
    let ending = tool_result::circuit_open(tool, retry_after_ms);
    let failure = ending.failure.expect("a refusal is a failure");
    let level = cx.mapping(&failure.error).level;
    if cx.log.enabled(TARGET_INVOCATION, level) {
        let line = cx.log.call_line(level, "Tool call refused: circuit open", &cx.record, tool, component);
        cx.log.emit(line.field("outcome", "circuit_open").field("error", failure.text.as_str()));
    }
    let (outcome, error) = (ToolOutcome::CircuitOpen, Some(failure.text));
    facts.called = Some((ToolCallRecord { component: component.to_string(), outcome, invocation: None, error }, 0));
    facts.tool_error = Some(failure.error);
    ending.result
}
