//! Pure logic of spinscope, free of Spin and WASI so it tests natively:
//! MCP/JSON-RPC types, the metric catalog and its encoders, argument
//! redaction, W3C trace context and the log line formats. The components in
//! `components/` are thin adapters around this crate.

#![warn(missing_docs)]

pub mod audit;
pub mod auth;
pub mod bounded;
pub mod config;
pub mod gateway;
pub mod health;
pub mod hmac;
pub mod keys;
pub mod log;
pub mod mcp;
pub mod metrics;
pub mod oauth;
pub mod otlp;
pub mod read_ahead;
pub mod redact;
pub mod sampling;
pub mod status_page;
pub mod trace;
