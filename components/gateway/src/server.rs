//! One HTTP exchange on `/mcp`: transport rules (methods, origin, body
//! limit, sessions, protocol version header), JSON-RPC dispatch, and the
//! instrumentation of each step.

use crate::record::{Observations, ToolOutcome};
use crate::sessions::{self, Lookup, Session};
use crate::spans::{SpanFacts, ToolCallSpan};
use crate::telemetry::{Logger, TARGET_GATEWAY, TARGET_INVOCATION};
use crate::tools::{self, ToolMap};
use crate::Reply;
use futures::StreamExt;
use serde_json::{json, Value};
use spin_sdk::http::{IncomingRequest, Method};
use spinscope::auth::{Caller, RateWindow};
use spinscope::config::{Config, ConfigError};
use spinscope::keys;
use spinscope::log::Level;
use spinscope::metrics::activity::Note;
use spinscope::mcp::{self, Incoming, RequestId, RpcError};
use spinscope::redact::{redact_arguments, RedactionPolicy};
use spinscope::trace::TraceContext;
use spinscope_spin::kv::{KvError, Store};
use spinscope_spin::outbound::{self, Outgoing, SendFailure};
use spinscope_spin::{random_bytes, time};

const SERVER_NAME: &str = "spinscope";
const VERSION: &str = env!("CARGO_PKG_VERSION");
/// JSON-RPC code for an unknown or expired session (as the MCP SDKs use).
const SESSION_NOT_FOUND: i64 = -32001;

pub struct Exchange {
    config: Config,
    config_errors: Vec<ConfigError>,
    request_id: String,
    headers: Vec<(String, String)>,
    began_ns: u64,
    http_method: String,
    trace: TraceContext,
    log: Logger,
    store: Option<Result<Store, String>>,
    session_id: Option<String>,
    session: Option<Session>,
    request_bytes: usize,
    obs: Observations,
    /// The authenticated tenant (`None` in open mode).
    tenant: Option<String>,
    /// The in-flight window this request holds a slot in, to release on exit.
    in_flight_slot: Option<u64>,
    began_unix_ms: u64,
    facts: SpanFacts,
}

impl Exchange {
    pub fn new(
        config: Result<Config, Vec<ConfigError>>,
        request_id: String,
        headers: Vec<(String, String)>,
        began_ns: u64,
    ) -> Self {
        let (config, config_errors) = match config {
            Ok(c) => (c, Vec::new()),
            Err(errors) => (Config::from_lookup(|_| None).expect("defaults parse"), errors),
        };
        let trace = trace_from(&headers, None);
        let log = Logger::new(&config, &request_id, &trace);
        Exchange {
            config,
            config_errors,
            request_id,
            headers,
            began_ns,
            http_method: String::new(),
            trace,
            log,
            store: None,
            session_id: None,
            session: None,
            request_bytes: 0,
            obs: Observations::default(),
            tenant: None,
            in_flight_slot: None,
            began_unix_ms: time::now_unix_ms(),
            facts: SpanFacts::default(),
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn store(&mut self) -> Result<&Store, String> {
        if self.store.is_none() {
            self.store = Some(Store::open_default().map_err(|e| e.to_string()));
        }
        self.store.as_ref().expect("just set").as_ref().map_err(Clone::clone)
    }

    pub async fn serve(&mut self, request: IncomingRequest) -> Reply {
        let method = request.method();
        self.http_method = method_name(&method);
        if !self.config_errors.is_empty() {
            let message = self.config_errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
            self.log.emit(self.log.line(Level::Error, TARGET_GATEWAY, "Server misconfigured").field("error", message.as_str()));
            return self.rpc_error(503, None, mcp::INTERNAL_ERROR, &format!("server misconfigured: {message}"));
        }
        if let Some(origin) = self.header("origin") {
            if !self.config.origin_allowed(origin) {
                let origin = origin.to_string();
                self.log.emit(self.log.line(Level::Warn, TARGET_GATEWAY, "Origin refused").field("origin", origin.as_str()));
                return self.rpc_error(403, None, mcp::INVALID_REQUEST, &format!("origin {origin} is not allowed"));
            }
        }
        let caller = self.config.api_keys.authenticate(self.header("authorization"), self.header("x-api-key"));
        if !caller.allowed() {
            self.obs.rejected = Some("unauthorized");
            let line = self
                .log
                .line(Level::Warn, TARGET_GATEWAY, "Request without a valid API key")
                .field("reason", if caller == Caller::Missing { "missing" } else { "invalid" });
            self.log.emit(line);
            return self
                .rpc_error(401, None, mcp::INVALID_REQUEST, "a valid API key is required (Authorization: Bearer <key> or X-API-Key)")
                .header("www-authenticate", "Bearer realm=\"spinscope\"");
        }
        self.tenant = caller.tenant().map(str::to_string);
        if let Err(reply) = self.admit() {
            return reply;
        }
        match method {
            Method::Post => self.post(request).await,
            Method::Delete => self.delete(),
            _ => Reply::json(405, &mcp::error(None, mcp::INVALID_REQUEST, "use POST for JSON-RPC messages or DELETE to end a session; this server offers no GET stream", None))
                .header("allow", "POST, DELETE"),
        }
    }

    /// The gateway-wide concurrency limit and the tenant's rate limit.
    fn admit(&mut self) -> Result<(), Reply> {
        let now = time::now_unix_ms();
        if self.config.max_concurrency > 0 {
            let minute = now / 60_000;
            let max = self.config.max_concurrency as i64;
            let admitted = match self.store() {
                Err(e) => Err(e),
                Ok(store) => match store.increment(&keys::in_flight(minute), 1) {
                    Err(e) => Err(e.to_string()),
                    Ok(_) => {
                        let in_flight = spinscope_spin::metrics_sink::in_flight(store, now);
                        if in_flight > max {
                            let _ = store.increment(&keys::in_flight(minute), -1);
                            Ok(false)
                        } else {
                            Ok(true)
                        }
                    }
                },
            };
            match admitted {
                Ok(true) => self.in_flight_slot = Some(minute),
                Ok(false) => {
                    self.obs.rejected = Some("concurrency");
                    return Err(self
                        .rpc_error(429, None, mcp::INTERNAL_ERROR, &format!("more than {max} requests in flight; retry shortly"))
                        .header("retry-after", "1"));
                }
                // The limit cannot be kept without the store; serve rather than refuse.
                Err(e) => {
                    let line = self.log.line(Level::Warn, TARGET_GATEWAY, "Concurrency limit not checked").field("error", e.as_str());
                    self.log.emit(line);
                }
            }
        }
        if self.config.rate_limit_per_minute > 0 {
            let window = RateWindow::new(self.config.rate_limit_per_minute, self.config.rate_limit_burst);
            let tenant = self.tenant.clone().unwrap_or_else(|| "-".to_string());
            let decision = match self.store() {
                Err(e) => Err(e),
                Ok(store) => rate_decision(store, &window, &tenant, now).map_err(|e| e.to_string()),
            };
            match decision {
                Ok(Ok(())) => {}
                Ok(Err(secs)) => {
                    self.obs.rejected = Some("rate_limit");
                    let per_minute = self.config.rate_limit_per_minute;
                    return Err(self
                        .rpc_error(429, None, mcp::INTERNAL_ERROR, &format!("rate limit of {per_minute} requests a minute reached"))
                        .header("retry-after", secs.to_string()));
                }
                Err(e) => {
                    let line = self.log.line(Level::Warn, TARGET_GATEWAY, "Rate limit not checked").field("error", e.as_str());
                    self.log.emit(line);
                }
            }
        }
        Ok(())
    }

    /// Reads the body, refusing it (413) as soon as it passes the limit.
    async fn read_body(&mut self, request: IncomingRequest) -> Result<Vec<u8>, Reply> {
        let max = self.config.max_request_bytes;
        let too_large = |this: &mut Self| {
            this.obs.rejected = Some("payload");
            this.rpc_error(413, None, mcp::INVALID_REQUEST, &format!("request body exceeds the limit of {max} bytes"))
        };
        if let Some(len) = self.header("content-length").and_then(|v| v.trim().parse::<usize>().ok()) {
            if len > max {
                return Err(too_large(self));
            }
        }
        let mut body = Vec::new();
        let mut stream = request.into_body_stream();
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(bytes) => {
                    if body.len() + bytes.len() > max {
                        return Err(too_large(self));
                    }
                    body.extend_from_slice(&bytes);
                }
                Err(e) => {
                    return Err(self.rpc_error(400, None, mcp::PARSE_ERROR, &format!("could not read the request body: {e}")))
                }
            }
        }
        self.request_bytes = body.len();
        Ok(body)
    }

    async fn post(&mut self, request: IncomingRequest) -> Reply {
        let body = match self.read_body(request).await {
            Ok(b) => b,
            Err(reply) => return reply,
        };
        let message = match mcp::parse_message(&body) {
            Ok(m) => m,
            Err(e) => {
                self.obs.mcp_method = Some("_invalid".into());
                return self.rpc_error_from(400, e);
            }
        };
        // Clients put trace context in `params._meta` when headers can't carry it.
        let meta = message.params().and_then(|p| p.get("_meta")).cloned();
        self.trace = trace_from(&self.headers, meta.as_ref());
        self.log = Logger::new(&self.config, &self.request_id, &self.trace);

        match message {
            Incoming::Request { id, method, params } => {
                self.obs.mcp_method = Some(method.clone());
                self.facts.rpc_id = Some(id.to_string());
                if method == "initialize" {
                    return self.initialize(&id, params.as_ref());
                }
                if let Err(reply) = self.require_session(Some(&id)) {
                    return reply;
                }
                self.dispatch(&id, &method, params.as_ref())
            }
            Incoming::Notification { method, .. } => {
                self.obs.mcp_method = Some(method.clone());
                if let Err(reply) = self.require_session(None) {
                    return reply;
                }
                self.obs.mcp_outcome_success = true;
                Reply::new(202)
            }
            Incoming::Response(_) => {
                if let Err(reply) = self.require_session(None) {
                    return reply;
                }
                Reply::new(202)
            }
        }
    }

    fn require_session(&mut self, id: Option<&RequestId>) -> Result<(), Reply> {
        let Some(session_id) = self.header(mcp::SESSION_ID_HEADER).map(str::to_string) else {
            return Err(self.rpc_error(400, id, mcp::INVALID_REQUEST, "missing MCP-Session-Id header: send initialize first"));
        };
        if let Some(version) = self.header(mcp::PROTOCOL_VERSION_HEADER) {
            if mcp::supported_version(version).is_none() {
                let message = format!(
                    "unsupported MCP-Protocol-Version {version:?}; supported: {}",
                    mcp::SUPPORTED_VERSIONS.join(", ")
                );
                return Err(self.rpc_error(400, id, mcp::INVALID_REQUEST, &message));
            }
        }
        let now = time::now_unix_ms();
        let idle = self.config.session_idle_timeout;
        let lookup = match self.store() {
            Ok(store) => sessions::lookup(store, &session_id, now, idle).map_err(|e| e.to_string()),
            Err(e) => Err(e),
        };
        match lookup {
            Err(e) => Err(self.store_unavailable(id, &e)),
            Ok(Lookup::Missing) => Err(self.rpc_error(404, id, SESSION_NOT_FOUND, "session not found: send initialize to start a new one")),
            Ok(Lookup::Expired) => {
                self.obs.sessions_active_delta -= 1;
                Err(self.rpc_error(404, id, SESSION_NOT_FOUND, "session expired: send initialize to start a new one"))
            }
            // Another tenant's session does not exist for this caller.
            Ok(Lookup::Active(session)) if session.tenant != self.tenant => {
                Err(self.rpc_error(404, id, SESSION_NOT_FOUND, "session not found: send initialize to start a new one"))
            }
            Ok(Lookup::Active(mut session)) => {
                if let Ok(store) = self.store() {
                    if let Err(e) = sessions::touch(store, &session_id, &mut session, now, idle) {
                        let line = self.log.line(Level::Warn, TARGET_GATEWAY, "Could not refresh session").field("error", e.to_string());
                        self.log.emit(line);
                    }
                }
                self.session_id = Some(session_id);
                self.facts.protocol_version = Some(session.protocol_version.clone());
                self.session = Some(session);
                Ok(())
            }
        }
    }

    fn initialize(&mut self, id: &RequestId, params: Option<&Value>) -> Reply {
        let params = match mcp::parse_initialize_params(params) {
            Ok(p) => p,
            Err(e) => return self.rpc_error_from(200, e.with_id(Some(id.clone()))),
        };
        let version = mcp::negotiate(&params.protocol_version);
        let session_id = sessions::new_id(random_bytes::<16>());
        let now = time::now_unix_ms();
        let session = Session {
            created_ms: now,
            last_seen_ms: now,
            protocol_version: version.to_string(),
            client: params.client_name.clone(),
            tenant: self.tenant.clone(),
        };
        let created = match self.store() {
            Ok(store) => sessions::create(store, &session_id, &session).map_err(|e| e.to_string()),
            Err(e) => Err(e),
        };
        if let Err(e) = created {
            return self.store_unavailable(Some(id), &e);
        }
        self.obs.sessions_created += 1;
        self.obs.sessions_active_delta += 1;
        self.session_id = Some(session_id.clone());
        self.facts.protocol_version = Some(version.to_string());
        let line = self
            .log
            .line(Level::Info, TARGET_GATEWAY, "Session created")
            .field("session_id", session_id.as_str())
            .field("protocol_version", version)
            .field_opt("client", params.client_name.as_deref());
        self.log.emit(line);
        self.obs.mcp_outcome_success = true;
        let result = mcp::initialize_result(version, SERVER_NAME, VERSION, None);
        Reply::json(200, &mcp::success(id, result)).header("mcp-session-id", session_id)
    }

    fn delete(&mut self) -> Reply {
        let Some(session_id) = self.header(mcp::SESSION_ID_HEADER).map(str::to_string) else {
            return self.rpc_error(400, None, mcp::INVALID_REQUEST, "missing MCP-Session-Id header");
        };
        let now = time::now_unix_ms();
        let idle = self.config.session_idle_timeout;
        let tenant = self.tenant.clone();
        let deleted = match self.store() {
            Ok(store) => match sessions::lookup(store, &session_id, now, idle) {
                Ok(Lookup::Active(s)) if s.tenant == tenant => sessions::delete(store, &session_id).map_err(|e| e.to_string()),
                Ok(_) => Ok(false),
                Err(e) => Err(e.to_string()),
            },
            Err(e) => Err(e),
        };
        match deleted {
            Err(e) => self.store_unavailable(None, &e),
            Ok(false) => self.rpc_error(404, None, SESSION_NOT_FOUND, "session not found"),
            Ok(true) => {
                self.obs.sessions_active_delta -= 1;
                let line = self.log.line(Level::Info, TARGET_GATEWAY, "Session ended").field("session_id", session_id.as_str());
                self.log.emit(line);
                self.session_id = Some(session_id);
                Reply::new(204)
            }
        }
    }

    fn dispatch(&mut self, id: &RequestId, method: &str, params: Option<&Value>) -> Reply {
        let result = match method {
            "ping" => Ok(json!({})),
            "tools/list" => self.tools_list(params),
            "tools/call" => self.tools_call(params),
            other => Err(RpcError::method_not_found(other)),
        };
        match result {
            Ok(result) => {
                self.obs.mcp_outcome_success = true;
                Reply::json(200, &mcp::success(id, result))
            }
            Err(e) => self.rpc_error_from(200, e.with_id(Some(id.clone()))),
        }
    }

    /// Lists every component's tools (asked concurrently), caching who owns what.
    fn discover(&mut self, cached: Option<&ToolMap>) -> ToolMap {
        let now = time::now_unix_ms();
        let discovery = tools::discover(&self.config, now);
        for failure in &discovery.failures {
            self.obs.discovery_failures.push(failure.component.clone());
            let line = self
                .log
                .line(Level::Warn, TARGET_GATEWAY, "Tool component did not list its tools")
                .field("component_id", failure.component.as_str())
                .field("error", failure.reason.as_str());
            self.log.emit(line);
        }
        for dup in &discovery.duplicates {
            let line = self
                .log
                .line(Level::Error, TARGET_GATEWAY, "Duplicate tool name: the first component keeps it")
                .field("tool_name", dup.tool.as_str())
                .field("component_id", dup.ignored.as_str())
                .field("kept_by", dup.kept.as_str());
            self.log.emit(line);
        }
        let ttl = self.config.tool_map_ttl;
        if let Ok(store) = self.store() {
            tools::save_map(store, &discovery.map, cached, ttl);
        }
        discovery.map
    }

    fn tools_list(&mut self, params: Option<&Value>) -> Result<Value, RpcError> {
        let cursor = mcp::list_cursor(params)?.map(str::to_string);
        let cached = self.store().ok().and_then(tools::load_map);
        let map = self.discover(cached.as_ref());
        let all: Vec<mcp::Tool> = map.tools.into_iter().map(|e| e.tool).collect();
        let (page, next) = mcp::paginate(&all, cursor.as_deref(), self.config.tools_page_size)?;
        Ok(mcp::tools_list_result(&page, next.as_deref()))
    }

    fn tools_call(&mut self, params: Option<&Value>) -> Result<Value, RpcError> {
        let call = mcp::parse_call_tool_params(params)?;
        let now = time::now_unix_ms();
        let cached = self.store().ok().and_then(tools::load_map);
        let usable = cached
            .as_ref()
            .filter(|m| tools::is_fresh(m, now, self.config.tool_map_ttl) && m.find(&call.name).is_some());
        let map = match usable {
            Some(m) => m.clone(),
            None => self.discover(cached.as_ref()),
        };
        let Some(entry) = map.find(&call.name).cloned() else {
            self.obs.gen_ai_tool_name = Some(spinscope::metrics::OTHER.to_string());
            return Err(mcp::unknown_tool(&call.name));
        };
        self.obs.gen_ai_tool_name = Some(entry.tool.name.clone());
        if self.config.validate_tool_arguments {
            if let Err(message) = mcp::validate_arguments(&entry.tool.input_schema, &call.arguments) {
                return Err(RpcError::invalid_params(format!("invalid arguments for tool '{}': {message}", call.name)));
            }
        }
        Ok(self.invoke(&entry.component, &entry.tool.name, &call.arguments))
    }

    /// Calls one tool and always returns a `CallToolResult`: failures become
    /// `isError: true` with a message the model can read.
    fn invoke(&mut self, component: &str, tool: &str, arguments: &Value) -> Value {
        let started_ns = time::monotonic_ns();
        let span = self.trace.child(&random_bytes::<8>());
        let policy = RedactionPolicy::with_extra_keys(&self.config.redact_keys);
        let logged_arguments = if self.log.enabled(TARGET_INVOCATION, Level::Error) {
            redact_arguments(arguments, &policy)
        } else {
            String::new()
        };
        let base = |this: &Self, level: Level, message: &str| {
            this.log
                .line(level, TARGET_INVOCATION, message)
                .field("tool_name", tool)
                .field("component_id", component)
                .field("tool_span_id", span.span_id_hex())
                .field("session_id", this.session_id.as_deref().unwrap_or("-"))
                .field("tenant", this.tenant.as_deref().unwrap_or("-"))
        };
        self.log.emit(base(self, Level::Debug, "Tool invocation started").field("arguments", logged_arguments.as_str()));

        let mut request = Outgoing::post(tools::tool_url(component, tool), arguments.to_string())
            .header("content-type", "application/json")
            .header("traceparent", span.traceparent())
            .header("x-request-id", self.request_id.as_str());
        if let Some(state) = &span.tracestate {
            request = request.header("tracestate", state.as_str());
        }
        let max_output = self.config.max_output_bytes;
        let hard_cap = max_output.saturating_mul(8).max(8 << 20);
        let reply = outbound::send(request, self.config.tool_timeout, hard_cap);
        let execution_ms = match &reply {
            Ok(r) => r.elapsed.as_secs_f64() * 1e3,
            Err(_) => (time::monotonic_ns() - started_ns) as f64 / 1e6,
        };

        let (outcome, mut result, error) = match reply {
            Err(SendFailure::Timeout) => {
                let msg = format!("tool '{tool}' timed out after {} ms", self.config.tool_timeout.as_millis());
                (ToolOutcome::Timeout, mcp::tool_error_result(&msg), Some(msg))
            }
            Err(e) => {
                let msg = format!("tool '{tool}' could not be reached: {e}");
                (ToolOutcome::Error, mcp::tool_error_result(&msg), Some(msg))
            }
            Ok(r) if r.status != 200 => {
                let text = String::from_utf8_lossy(&r.body[..r.body.len().min(200)]).into_owned();
                let msg = format!("tool '{tool}' failed: its component answered HTTP {}: {}", r.status, text.trim());
                (ToolOutcome::Error, mcp::tool_error_result(&msg), Some(msg))
            }
            Ok(r) if r.truncated => {
                self.obs.output_truncated += 1;
                let msg = format!("tool '{tool}' returned more than {hard_cap} bytes; its output was discarded");
                (ToolOutcome::Error, mcp::tool_error_result(&msg), Some(msg))
            }
            Ok(r) => match mcp::parse_call_tool_result(&r.body) {
                Err(problem) => {
                    let msg = format!("tool '{tool}' returned an invalid result: {problem}");
                    (ToolOutcome::Error, mcp::tool_error_result(&msg), Some(msg))
                }
                Ok(result) if mcp::call_tool_result_is_error(&result) => {
                    let text = first_text(&result).unwrap_or_else(|| "the tool reported an error".into());
                    (ToolOutcome::Error, result, Some(text))
                }
                Ok(result) => (ToolOutcome::Success, result, None),
            },
        };
        if let Some(original) = limit_output(&mut result, max_output) {
            self.obs.output_truncated += 1;
            let line = base(self, Level::Warn, "Tool output truncated")
                .field_u64("output_bytes", original as u64)
                .field_u64("max_output_bytes", max_output as u64);
            self.log.emit(line);
        }

        let ended_ns = time::monotonic_ns();
        let duration_ms = (ended_ns - started_ns) as f64 / 1e6;
        self.obs.tool = Some((tool.to_string(), component.to_string(), outcome, duration_ms / 1e3));
        self.facts.tool_call = Some(ToolCallSpan {
            context: span.clone(),
            component: component.to_string(),
            start_offset_ns: started_ns.saturating_sub(self.began_ns),
            end_offset_ns: ended_ns.saturating_sub(self.began_ns),
            outcome: outcome.as_str(),
            error: error.clone(),
        });
        if outcome == ToolOutcome::Error || outcome == ToolOutcome::Timeout {
            self.obs.error_type = Some("tool_error".into());
        }
        let (level, message) = match outcome {
            ToolOutcome::Success => (Level::Debug, "Tool invocation completed successfully"),
            _ => (Level::Error, "Tool invocation failed"),
        };
        let line = base(self, level, message)
            .field("arguments", logged_arguments.as_str())
            .field_u64("duration_ms", duration_ms.round() as u64)
            .field_u64("execution_ms", execution_ms.round() as u64)
            .field("outcome", outcome.as_str())
            .field_opt("error", error.as_deref());
        self.log.emit(line);
        result
    }

    fn store_unavailable(&mut self, id: Option<&RequestId>, error: &str) -> Reply {
        let line = self.log.line(Level::Error, TARGET_GATEWAY, "Key-value store unavailable").field("error", error);
        self.log.emit(line);
        self.rpc_error(503, id, mcp::INTERNAL_ERROR, "session store unavailable; try again later")
    }

    fn rpc_error(&mut self, http_status: u16, id: Option<&RequestId>, code: i64, message: &str) -> Reply {
        self.obs.error_type = Some(code.to_string());
        self.facts.rpc_error_code = Some(code);
        Reply::json(http_status, &mcp::error(id, code, message, None))
    }

    fn rpc_error_from(&mut self, http_status: u16, e: RpcError) -> Reply {
        self.obs.error_type = Some(e.code.to_string());
        self.facts.rpc_error_code = Some(e.code);
        Reply::json(http_status, &e.to_response())
    }

    /// After the response: the access log line, then the one metrics write.
    pub fn finish(&mut self, status: u16, response_bytes: usize) {
        let duration_s = (time::monotonic_ns() - self.began_ns) as f64 / 1e9;
        let line = spinscope::log::access_line(
            time::now_unix_ms(),
            &self.request_id,
            &self.http_method,
            "/mcp",
            status,
            (duration_s * 1e3).round() as u64,
            self.tenant.as_deref(),
        );
        println!("{line}");
        if let Some(minute) = self.in_flight_slot.take() {
            if let Ok(store) = self.store() {
                let _ = store.increment(&keys::in_flight(minute), -1);
            }
        }
        self.export_spans(status, duration_s);
        if !self.config.metrics_enabled {
            return;
        }
        self.obs.http = Some((self.http_method.clone(), status, duration_s, self.request_bytes, response_bytes));
        if self.obs.rejected.is_none() {
            let tool_failed = matches!(&self.obs.tool, Some((_, _, outcome, _)) if *outcome != ToolOutcome::Success);
            self.obs.activity = Some(Note {
                tenant: self.tenant.clone().unwrap_or_else(|| "-".into()),
                session: self.session_id.clone(),
                tool_call: self.obs.tool.is_some(),
                error: status >= 400 || self.obs.error_type.is_some() || tool_failed,
                at_ms: time::now_unix_ms(),
            });
        }
        let store = match self.store() {
            Ok(_) => self.store.take().and_then(Result::ok),
            Err(_) => None,
        };
        if let Err(e) = crate::record::flush(&self.obs, &self.config, store.as_ref()) {
            let line = self.log.line(Level::Warn, TARGET_GATEWAY, "Metrics not recorded").field("error", e.as_str());
            self.log.emit(line);
        }
    }
}

impl Exchange {
    /// Sends this request's spans to the collector, if export is on and the
    /// trace is sampled. A collector that is down costs this one request,
    /// is logged at `warn` and counted; the client has its answer already.
    fn export_spans(&mut self, status: u16, duration_s: f64) {
        let Some(endpoint) = self.config.otlp_traces_endpoint.clone() else { return };
        let parent_sampled = self.trace.parent_span_id.map(|_| self.trace.sampled());
        if !spinscope::otlp::sampled(parent_sampled, &self.trace.trace_id, self.config.otlp_sampling_ratio) {
            return;
        }
        self.facts.mcp_method = self.obs.mcp_method.clone();
        self.facts.session_id = self.session_id.clone();
        self.facts.tool = self.obs.gen_ai_tool_name.clone();
        self.facts.error_type = self.obs.error_type.clone();
        let spans = crate::spans::build(
            &self.trace,
            &self.facts,
            self.began_unix_ms * 1_000_000,
            (duration_s * 1e9) as u64,
            status,
        );
        let body = spinscope::otlp::export_request(&self.config.service_name, VERSION, &spans).to_string();
        let request = Outgoing::post(endpoint.as_str(), body).header("content-type", "application/json");
        let failure = match outbound::send(request, std::time::Duration::from_secs(2), 64 * 1024) {
            Ok(r) if (200..300).contains(&r.status) => None,
            Ok(r) => Some(format!("collector answered HTTP {}", r.status)),
            Err(e) => Some(e.to_string()),
        };
        if let Some(error) = failure {
            self.obs.trace_export_failures += 1;
            let line = self
                .log
                .line(Level::Warn, TARGET_GATEWAY, "Trace export failed")
                .field("endpoint", endpoint.as_str())
                .field("error", error.as_str());
            self.log.emit(line);
        }
    }
}

fn method_name(method: &Method) -> String {
    match method {
        Method::Get => "GET".into(),
        Method::Head => "HEAD".into(),
        Method::Post => "POST".into(),
        Method::Put => "PUT".into(),
        Method::Delete => "DELETE".into(),
        Method::Patch => "PATCH".into(),
        Method::Options => "OPTIONS".into(),
        Method::Connect => "CONNECT".into(),
        Method::Trace => "TRACE".into(),
        Method::Other(m) => m.to_ascii_uppercase(),
    }
}

fn trace_from(headers: &[(String, String)], meta: Option<&Value>) -> TraceContext {
    let get = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    TraceContext::from_incoming(get("traceparent"), get("tracestate"), meta, &random_bytes::<24>())
}

fn first_text(result: &Value) -> Option<String> {
    result["content"].as_array()?.iter().find_map(|c| c["text"].as_str()).map(|t| t.chars().take(200).collect())
}

/// Cuts a result's text content to `max` bytes in all, with a visible note;
/// returns the original size when it did.
fn limit_output(result: &mut Value, max: usize) -> Option<usize> {
    let size: usize = result["content"]
        .as_array()
        .map(|items| items.iter().map(|i| i.to_string().len()).sum())
        .unwrap_or(0)
        + result.get("structuredContent").map(|s| s.to_string().len()).unwrap_or(0);
    if size <= max {
        return None;
    }
    let mut budget = max;
    let mut kept = Vec::new();
    for item in result["content"].as_array().cloned().unwrap_or_default() {
        if budget == 0 {
            break;
        }
        match item["text"].as_str() {
            Some(text) => {
                let mut cut = text.len().min(budget);
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                budget -= cut;
                let mut item = item.clone();
                item["text"] = Value::String(text[..cut].to_string());
                kept.push(item);
            }
            None => {
                let len = item.to_string().len();
                if len <= budget {
                    budget -= len;
                    kept.push(item);
                }
            }
        }
    }
    kept.push(json!({
        "type": "text",
        "text": format!("[spinscope: output truncated: the tool returned {size} bytes, the limit is {max} bytes]"),
    }));
    result["content"] = Value::Array(kept);
    if let Some(obj) = result.as_object_mut() {
        obj.remove("structuredContent");
    }
    Some(size)
}

/// Counts this request in its tenant's rate window and decides (see
/// [`RateWindow`]): one `increment`, plus a `get` of the previous window
/// when the count alone does not refuse. The first request of a window
/// deletes the window before the previous one, which nothing reads again.
fn rate_decision(store: &Store, window: &RateWindow, tenant: &str, now: u64) -> Result<Result<(), u64>, KvError> {
    let index = window.index(now);
    let current = store.increment(&keys::rate_limit(tenant, index), 1)?.max(0) as u64;
    if current == 1 && index >= 2 {
        let _ = store.delete(&keys::rate_limit(tenant, index - 2));
    }
    if current > window.limit {
        return Ok(window.admit(now, 0, current));
    }
    let previous = match index.checked_sub(1) {
        Some(prev) => store.get(&keys::rate_limit(tenant, prev))?.as_deref().and_then(spinscope::metrics::decode_counter),
        None => None,
    };
    Ok(window.admit(now, previous.unwrap_or(0).max(0) as u64, current))
}
