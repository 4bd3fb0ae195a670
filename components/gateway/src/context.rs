//! What every step of a request reads and writes: the configuration (read
//! once), the request headers, the logger, the store (opened on first use)
//! and the request's record.

use crate::error::GatewayError;
use crate::logger::{Logger, TARGET_GATEWAY};
use crate::record::RequestRecord;
use crate::reply::Reply;
use serde_json::Value;
use spin_sdk::http::IncomingRequest;
use spinscope::config::{reads, Config};
use spinscope::log::Level;
use spinscope::mcp::modern::Era;
use spinscope::metrics::series::ErrorType;
use spinscope::trace::{forwardable_baggage, TraceContext};
use spinscope_spin::kv::Store;
use spinscope_spin::{random_bytes, settings, time};
use std::cell::OnceCell;

/// One request's state, passed to each step.
pub struct Context {
    /// The configuration (defaults where a variable has a problem).
    pub config: Config,
    /// What is wrong with the variables: the full message for the log and
    /// the public one (names only) for the answer; the request is then
    /// refused (503).
    pub misconfiguration: Option<(String, String)>,
    /// Request headers, names in lower case.
    headers: Vec<(String, String)>,
    /// The logger, carrying the request and trace ids.
    pub log: Logger,
    /// What the request did, for the access line, spans and metrics.
    pub record: RequestRecord,
    /// W3C `baggage` to pass on to the tools, from the same source as the
    /// trace context (never logged).
    pub baggage: Option<String>,
    store: OnceCell<Result<Store, String>>,
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
        let trace = trace_from(&headers, None);
        let log = Logger::new(&loaded.config, &request_id, &trace);
        let record = RequestRecord::new(request_id, began_ns, time::now_unix_ms(), trace);
        let baggage = find(&headers, "baggage").and_then(forwardable_baggage).map(str::to_string);
        Context { config: loaded.config, misconfiguration, headers, log, record, baggage, store: OnceCell::new() }
    }

    /// A request header (`name` in lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        find(&self.headers, name)
    }

    /// The default store, opened on first use.
    pub fn store(&self) -> Result<&Store, String> {
        self.store.get_or_init(|| Store::open_default().map_err(|e| e.to_string())).as_ref().map_err(Clone::clone)
    }

    /// The store if it was opened, for the write after the response.
    pub fn take_store(&mut self) -> Option<Store> {
        self.store.take().and_then(Result::ok)
    }

    /// Request headers, names in lower case, duplicates kept.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// Takes the trace context again, now that `params._meta` is known.
    /// A modern request's `_meta` comes first: 2026-07-28 makes it the
    /// request's own trace context (SEP-414), while the HTTP header is the
    /// transport's; a handshake-era request keeps the header first, as
    /// before, with `_meta` for clients whose headers cannot carry it.
    pub fn retrace(&mut self, meta: Option<&Value>, era: Era) {
        let from_meta = || trace_from(&[], meta);
        self.record.trace = match era {
            Era::Modern => Some(from_meta()).filter(|t| t.parent_span_id.is_some()),
            Era::Handshake => None,
        }
        .unwrap_or_else(|| trace_from(&self.headers, meta));
        let from_meta = meta.and_then(|m| m.get("baggage")).and_then(Value::as_str).and_then(forwardable_baggage);
        let from_header = find(&self.headers, "baggage").and_then(forwardable_baggage);
        let baggage = match era {
            Era::Modern => from_meta.or(from_header),
            Era::Handshake => from_header.or(from_meta),
        };
        self.baggage = baggage.map(str::to_string);
        self.log = Logger::new(&self.config, &self.record.request_id, &self.record.trace);
    }

    /// Logs `message` with `error` at `level`.
    pub fn warn(&self, level: Level, message: &str, error: &str) {
        self.log.emit(self.log.line(level, TARGET_GATEWAY, message).field("error", error));
    }

    /// 503 for a store that cannot be used, logged with its cause.
    pub fn store_unavailable(&self, id: Option<&spinscope::mcp::RequestId>, error: &str) -> GatewayError {
        self.warn(Level::Error, "Key-value store unavailable", error);
        GatewayError::store_unavailable(id)
    }

    /// Records a failed request and answers it.
    pub fn fail(&mut self, error: GatewayError) -> Reply {
        self.record.error = Some(ErrorType::Rpc(error.error.code));
        self.record.rejected = self.record.rejected.or(error.rejected);
        error.into_reply()
    }
}

fn find<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn trace_from(headers: &[(String, String)], meta: Option<&Value>) -> TraceContext {
    TraceContext::from_incoming(find(headers, "traceparent"), find(headers, "tracestate"), meta, &random_bytes::<24>())
}
