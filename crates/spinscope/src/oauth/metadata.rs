//! What a client learns before it has a token: the Protected Resource
//! Metadata (RFC 9728) and the `WWW-Authenticate` challenge of every 401
//! and of a 403 for want of scope (RFC 6750), which points to it.

use serde_json::{json, Value};

/// The path of the metadata of the resource at the root.
pub const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// The metadata URL of `resource` (RFC 9728 §3.1: the well-known path goes
/// between the host and the resource's path): for
/// `https://mcp.example.com/mcp`, `https://mcp.example.com/.well-known/oauth-protected-resource/mcp`.
pub fn metadata_url(resource: &str) -> String {
    let (scheme, rest) = resource.split_once("://").unwrap_or(("https", resource));
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let path = path.trim_end_matches('/');
    format!("{scheme}://{host}{WELL_KNOWN}{path}")
}

/// The metadata document.
pub fn document(resource: &str, authorization_servers: &[String], scopes: &[String]) -> Value {
    let mut doc = json!({
        "resource": resource,
        "authorization_servers": authorization_servers,
        "bearer_methods_supported": ["header"],
        "resource_name": "spinscope MCP gateway",
    });
    if !scopes.is_empty() {
        doc["scopes_supported"] = json!(scopes);
    }
    doc
}

/// `Bearer resource_metadata="…"`, with `error` and `scope` when a token
/// lacked scope (`insufficient_scope`) or was refused (`invalid_token`).
pub fn challenge(resource: &str, error: Option<&str>, scope: Option<&str>) -> String {
    let mut header = format!("Bearer resource_metadata=\"{}\"", metadata_url(resource));
    if let Some(error) = error {
        header.push_str(&format!(", error=\"{error}\""));
    }
    if let Some(scope) = scope.filter(|s| !s.is_empty()) {
        // Scope tokens are %x21 / %x23-5B / %x5D-7E (RFC 6749): no quote
        // or backslash can end the parameter early.
        let safe: String =
            scope.chars().filter(|c| *c == ' ' || (c.is_ascii_graphic() && !matches!(c, '"' | '\\'))).collect();
        header.push_str(&format!(", scope=\"{safe}\""));
    }
    header
}
