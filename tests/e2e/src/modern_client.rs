//! A minimal MCP 2026-07-28 client: each request stands alone, with its
//! `_meta` envelope and the headers that mirror it, as the spec's
//! Streamable HTTP transport asks. Tests break one rule at a time with
//! [`ModernRequest`]'s knobs.

use crate::{Host, Reply};
use serde_json::{json, Value};

/// The revision this client speaks.
pub const MODERN: &str = "2026-07-28";

/// One modern request, built valid; each knob breaks or changes one thing.
pub struct ModernRequest {
    pub method: String,
    pub params: Value,
    /// `_meta`'s revision (`None`: no `_meta` at all).
    pub meta_version: Option<String>,
    /// The headers sent, (name, value); valid ones to start with.
    pub headers: Vec<(String, String)>,
}

impl ModernRequest {
    /// A valid request for `method` with `params` (`_meta` is added).
    pub fn new(method: &str, params: Value) -> Self {
        let mut headers = vec![
            ("content-type".to_string(), "application/json".to_string()),
            ("accept".to_string(), "application/json, text/event-stream".to_string()),
            ("mcp-protocol-version".to_string(), MODERN.to_string()),
            ("mcp-method".to_string(), method.to_string()),
        ];
        if let Some(name) = params.get("name").and_then(Value::as_str) {
            headers.push(("mcp-name".to_string(), name.to_string()));
        }
        ModernRequest { method: method.into(), params, meta_version: Some(MODERN.into()), headers }
    }

    /// `tools/call` of `tool` with `arguments`.
    pub fn call(tool: &str, arguments: Value) -> Self {
        Self::new("tools/call", json!({"name": tool, "arguments": arguments}))
    }

    /// Sets (or, with `None`, removes) a header.
    pub fn header(mut self, name: &str, value: Option<&str>) -> Self {
        self.headers.retain(|(k, _)| k != name);
        if let Some(v) = value {
            self.headers.push((name.to_string(), v.to_string()));
        }
        self
    }

    /// Sets `_meta`'s revision (`None`: sends no `_meta`).
    pub fn meta_version(mut self, version: Option<&str>) -> Self {
        self.meta_version = version.map(str::to_string);
        self
    }

    /// The JSON-RPC body.
    pub fn body(&self) -> Value {
        let mut params = self.params.clone();
        if let Some(v) = &self.meta_version {
            // Added to any `_meta` the test gave (a traceparent, say).
            let meta = params.as_object_mut().expect("params object").entry("_meta").or_insert_with(|| json!({}));
            meta["io.modelcontextprotocol/protocolVersion"] = json!(v);
            meta["io.modelcontextprotocol/clientInfo"] = json!({"name": "e2e-modern", "version": "2.0"});
            meta["io.modelcontextprotocol/clientCapabilities"] = json!({});
        }
        json!({"jsonrpc": "2.0", "id": 1, "method": self.method, "params": params})
    }

    /// Sends it to `host`'s `/mcp`, with `extra` headers.
    pub fn send(&self, host: &Host, extra: &[(&str, &str)]) -> Reply {
        let mut headers: Vec<(&str, &str)> = self.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        headers.extend_from_slice(extra);
        host.post("/mcp", &headers, &self.body().to_string())
    }
}
