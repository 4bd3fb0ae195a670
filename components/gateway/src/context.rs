//! What every step of a request reads: the configuration (read once), the
//! request headers, the logger, the store (opened on first use); and what
//! only the request flow writes: the record. Steps take `&Context` and
//! return facts; [`Context::note`] is how an error reaches the record.

use serde_json::Value;
use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spinscope::config::{reads, Config};
use spinscope::gateway::admission::Misconfiguration;
use spinscope::gateway::logger::{Logger, TARGET_GATEWAY};
use spinscope::gateway::notifications;
use spinscope::gateway::{Answering, GatewayError, Mapping, Reply, RequestRecord};
use spinscope::log::Level;
use spinscope::mcp::modern::Era;
use spinscope::mcp::RequestId;
use spinscope::redact::{redact_message, RedactionPolicy};
use spinscope::trace::{forwardable_baggage, incoming_baggage, TraceContext, TraceParent};
use spinscope_spin::in_flight::Slot;
use spinscope_spin::kv::{KvError, Store};
use spinscope_spin::stream_reply::EventStream;
use spinscope_spin::{random_bytes, settings, time};
use std::cell::{OnceCell, RefCell};

/// Longest `error` logged or exported, in characters (after redaction).
pub const MAX_ERROR_CHARS: usize = 500;

/// One request's state.
pub struct Context {
    /// The configuration (defaults where a variable has a problem).
    pub config: Config,
    /// What is wrong with the variables; the request is then refused (503).
    pub misconfiguration: Option<Misconfiguration>,
    /// Request headers, names in lower case.
    headers: Vec<(String, String)>,
    /// The logger, carrying the request and trace ids.
    pub log: Logger,
    /// What the request did, for the access line, spans and metrics.
    pub record: RequestRecord,
    /// W3C `baggage` to pass on to the tools (never logged).
    pub baggage: Option<String>,
    /// The in-flight slot this request holds, given back after the answer.
    pub slot: Option<Slot>,
    /// The JSON-RPC request being answered, once parsed.
    pub id: Option<RequestId>,
    /// Its era, once known (the handshake era's answers until then).
    pub era: Era,
    /// Its one metrics write is done (before the answer, for its audit events).
    pub recorded: bool,
    /// Who was let in, for the tool policy.
    pub caller: spinscope::gateway::identity::Admitted,
    /// In a handshake-era session: what the client can give a tool that
    /// asks (`gateway::bridge`).
    pub client_capabilities: Vec<String>,
    /// Where the answer goes: whole at the end, or event by event once a
    /// tool's first notification is relayed ([`Context::relay`]).
    delivery: RefCell<Delivery>,
    /// The nested mode (build `gateway-otel`, docs/traces.md): the host's
    /// span this request's server span is a child of, and its `tracestate`;
    /// `None` in the default build, or when the host traces nothing.
    pub host_parent: Option<(TraceParent, Option<String>)>,
    store: OnceCell<Result<Store, KvError>>,
}

/// The state of the client's answer.
pub enum Delivery {
    /// Nothing sent yet: the answer goes out whole.
    Waiting(ResponseOutparam),
    /// An SSE answer is open: notifications went out, the response is the last event.
    Streaming(EventStream),
    /// Sent, or lost.
    Gone,
}

impl Context {
    /// The context of a request that has just arrived at `began_ns`.
    pub fn new(request: &IncomingRequest, began_ns: u64) -> Self {
        let loaded = settings::load(reads::GATEWAY);
        let misconfiguration = (!loaded.problems.is_empty())
            .then(|| (settings::problems_message(&loaded), settings::problems_public(&loaded)));
        let headers = spinscope_spin::head::header_list(request);
        let request_id = find(&headers, "x-request-id")
            .filter(|v| spinscope::log::is_safe_request_id(v))
            .map(str::to_string)
            .unwrap_or_else(|| spinscope::log::new_request_id(&random_bytes::<8>()));
        let host_parent = host_parent();
        let trace = nest(trace_from(&headers, None), host_parent.as_ref());
        if host_parent.is_some() {
            // Before the first host call: Spin's spans from here on are its children.
            #[cfg(feature = "wasi-otel")]
            spinscope_spin::host_trace::start(&trace);
        }
        let log = Logger::new(&loaded.config, &request_id, &trace, time::now_unix_ms);
        let mut record = RequestRecord::new(request_id, began_ns, time::now_unix_ms(), trace);
        // The wall clock when the request began (`began_ns`), not now.
        record.began_unix_ns = time::now_unix_ns().saturating_sub(time::monotonic_ns().saturating_sub(began_ns));
        record.http_method = spinscope_spin::head::method_name(&request.method());
        let baggage = find(&headers, "baggage").and_then(forwardable_baggage).map(str::to_string);
        Context {
            config: loaded.config,
            misconfiguration,
            headers,
            log,
            record,
            baggage,
            slot: None,
            id: None,
            era: Era::Handshake,
            recorded: false,
            caller: Default::default(),
            client_capabilities: Vec::new(),
            delivery: RefCell::new(Delivery::Gone),
            host_parent,
            store: OnceCell::new(),
        }
    }

    /// Keeps where the answer goes, for [`Context::relay`] and the end.
    pub fn hold(&mut self, response_out: ResponseOutparam) {
        self.delivery = RefCell::new(Delivery::Waiting(response_out));
    }

    /// Where the answer goes, taken at the end to send it.
    pub fn take_answer(&mut self) -> Delivery {
        std::mem::replace(self.delivery.get_mut(), Delivery::Gone)
    }

    /// Sends a tool's notification to the client now, as an SSE event,
    /// opening the SSE answer with the first. The client must accept
    /// `text/event-stream`; a client that has gone gets no more.
    pub fn relay(&self, notification: &Value) {
        let mut answer = self.delivery.borrow_mut();
        if let Delivery::Waiting(_) = &*answer {
            let Delivery::Waiting(out) = std::mem::replace(&mut *answer, Delivery::Gone) else { unreachable!() };
            match EventStream::open(out, &self.record.request_id) {
                Ok(stream) => *answer = Delivery::Streaming(stream),
                Err(e) => self.warn(Level::Warn, "SSE answer not opened", &e),
            }
        }
        if let Delivery::Streaming(stream) = &mut *answer {
            if let Err(e) = stream.write(&notifications::event(notification)) {
                self.warn(Level::Info, "Notification not relayed: the client has gone", &e);
                *answer = Delivery::Gone;
            }
        }
    }

    /// A request header (`name` in lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        find(&self.headers, name)
    }

    /// Request headers, names in lower case, duplicates kept.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The default store, opened on first use.
    pub fn store(&self) -> Result<&Store, KvError> {
        self.store.get_or_init(Store::open_default).as_ref().map_err(Clone::clone)
    }

    /// The store if it was opened, for the write after the response.
    pub fn take_store(&mut self) -> Option<Store> {
        self.store.take().and_then(Result::ok)
    }

    /// Takes the trace context again, now that `params._meta` is known:
    /// `_meta`'s first, in either era (the MCP conventions' rule, and
    /// 2026-07-28's), then the header's, the other linked
    /// ([`TraceContext::from_incoming`]); baggage from the same place.
    /// In the nested mode the server span stays the one started, a child
    /// of the host's; a `_meta` context of another trace is linked.
    pub fn retrace(&mut self, meta: Option<&Value>, era: Era) {
        let mut trace = trace_from(&self.headers, meta);
        if self.host_parent.is_some() {
            trace.span_id = self.record.trace.span_id;
        }
        self.record.trace = nest(trace, self.host_parent.as_ref());
        self.record.in_era(era);
        self.baggage = incoming_baggage(find(&self.headers, "baggage"), meta).map(str::to_string);
        self.era = era;
        self.log = Logger::new(&self.config, &self.record.request_id, &self.record.trace, time::now_unix_ms);
    }

    /// Whether this request's spans are exported: through the host's
    /// tracer (the nested mode), or by the gateway to `otlp_traces_endpoint`.
    pub fn traced(&self) -> bool {
        self.host_parent.is_some() || self.config.otlp_traces_endpoint.is_some()
    }

    /// Logs `message` with `error` at `level`.
    pub fn warn(&self, level: Level, message: &str, error: &str) {
        self.log.emit(self.log.line(level, TARGET_GATEWAY, message).field("error", error));
    }

    /// The one mapping of `error` for this request.
    pub fn mapping(&self, error: &GatewayError) -> Mapping {
        error.map(self.answering())
    }

    fn answering(&self) -> Answering<'_> {
        Answering { era: self.era, protocol_version: self.record.protocol_version.as_deref() }
    }

    /// An error reaches the record, and the log at its level. A tool that
    /// failed is logged by its invocation line instead (with the whole
    /// story, redacted).
    pub fn note(&mut self, error: &GatewayError) -> Mapping {
        let mapping = self.mapping(error);
        self.record.failed_with(error, &mapping);
        let (message, fields) = error.log_message();
        let line = match error {
            GatewayError::ToolFailed { .. } => return mapping,
            GatewayError::InvalidToolArguments { tool, component, .. } => {
                // The schema's complaint may quote the arguments.
                let policy = RedactionPolicy::with_extra_keys(&self.config.redact_keys);
                let error = redact_message(&error.to_string(), &policy, MAX_ERROR_CHARS);
                self.log.call_line(mapping.level, message, &self.record, tool, component).field("error", error)
            }
            _ => fields
                .into_iter()
                .fold(self.log.line(mapping.level, TARGET_GATEWAY, message), |line, (k, v)| line.field(k, v)),
        };
        self.log.emit(line);
        mapping
    }

    /// Records a failed request and answers it.
    pub fn fail(&mut self, error: GatewayError) -> Reply {
        self.note(&error);
        error.to_reply(self.id.as_ref(), self.answering())
    }
}

fn find<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// The host's current span, in the nested build when the host has one.
fn host_parent() -> Option<(TraceParent, Option<String>)> {
    #[cfg(feature = "wasi-otel")]
    return spinscope_spin::host_trace::outer();
    #[cfg(not(feature = "wasi-otel"))]
    None
}

/// `trace` as a child of the host's span, when there is one.
fn nest(trace: TraceContext, host_parent: Option<&(TraceParent, Option<String>)>) -> TraceContext {
    match host_parent {
        Some((outer, state)) => trace.nested_in(*outer, state.as_deref()),
        None => trace,
    }
}

fn trace_from(headers: &[(String, String)], meta: Option<&Value>) -> TraceContext {
    TraceContext::from_incoming(find(headers, "traceparent"), find(headers, "tracestate"), meta, &random_bytes::<24>())
}
