//! The gateway's decisions, native and wasm-free, so each has a unit test:
//! the request's one record and its renderings (metrics, access line,
//! spans), the one error type and its one mapping, the order of the
//! checks, tool-result shaping, the tool map and component URLs. The
//! gateway component (`components/gateway`) is the Spin adapter around
//! them: request I/O, the store, outbound calls, and the order of steps.
//!
//! - [`error`]: [`GatewayError`] and [`GatewayError::map`], what each
//!   failure means for every status, code, count, log line and span;
//! - [`breaker`]: the tool components' circuit breakers;
//! - [`admission`]: the admission checks' order and those that need no store;
//! - [`route`]: HTTP method → action, JSON-RPC method → operation;
//! - [`record`]: [`RequestRecord`], written only through its fact methods;
//! - [`report`], [`spans`]: the record rendered as metrics, access line, spans;
//! - [`tool_result`]: a tool component's answer as a `CallToolResult`;
//! - [`tool_map`]: which component owns which tool, and their URLs;
//! - [`catalog`]: prompts, resources and completions served by components;
//! - [`notifications`]: a tool's progress and log notifications, relayed as SSE;
//! - [`peer`]: the client's address, for open mode's per-client cap;
//! - [`session_id`]: session ids, and what they say of their store;
//! - [`timing`]: a tool call's time split and memory, from its answer's headers;
//! - [`logger`]: the request's log lines and their correlation fields;
//! - [`reply`]: the HTTP answer as data.

pub mod admission;
pub mod audit;
pub mod breaker;
pub mod bridge;
pub mod catalog;
pub mod error;
pub mod identity;
pub mod logger;
pub mod notifications;
pub mod peer;
pub mod record;
pub mod reply;
pub mod report;
pub mod route;
pub mod session_id;
pub mod spans;
pub mod timing;
pub mod tool_map;
pub mod tool_result;

pub use error::{Answer, Answering, GatewayError, Mapping, ToolFailure};
pub use record::RequestRecord;
pub use reply::Reply;
