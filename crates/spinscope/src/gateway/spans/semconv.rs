//! The one list of what the gateway's spans carry: every attribute key,
//! on which span, from which convention, and when. The span builder
//! ([`super::build`]) names keys through the constants here, and the tests
//! (unit and end to end) check every exported attribute against
//! [`ATTRIBUTES`] and `docs/traces.md` against it.
//!
//! Names follow the OpenTelemetry semantic conventions for MCP
//! (`docs/gen-ai/mcp.md` of `open-telemetry/semantic-conventions-genai`,
//! status Development): the server span "describes the processing of the
//! MCP request", named `{mcp.method.name} {target}`.

/// `mcp.method.name`: the JSON-RPC method (folded to the ones served).
pub const MCP_METHOD_NAME: &str = "mcp.method.name";
/// `mcp.protocol.version`: the MCP revision of the request.
pub const MCP_PROTOCOL_VERSION: &str = "mcp.protocol.version";
/// `mcp.session.id`: the session (handshake era only).
pub const MCP_SESSION_ID: &str = "mcp.session.id";
/// `jsonrpc.request.id`: the request's id, as text.
pub const JSONRPC_REQUEST_ID: &str = "jsonrpc.request.id";
/// `gen_ai.tool.name`: the tool a `tools/call` names.
pub const GEN_AI_TOOL_NAME: &str = "gen_ai.tool.name";
/// `gen_ai.operation.name`: [`EXECUTE_TOOL`] for a tool call, else unset.
pub const GEN_AI_OPERATION_NAME: &str = "gen_ai.operation.name";
/// `gen_ai.prompt.name`: the prompt a `prompts/get` relayed to a component.
pub const GEN_AI_PROMPT_NAME: &str = "gen_ai.prompt.name";
/// `mcp.resource.uri`: the resource a `resources/read` relayed (bounded, redacted).
pub const MCP_RESOURCE_URI: &str = "mcp.resource.uri";
/// `error.type`: the JSON-RPC code as text, or a low-cardinality name.
pub const ERROR_TYPE: &str = "error.type";
/// `rpc.response.status_code`: the JSON-RPC error code, as text.
pub const RPC_RESPONSE_STATUS_CODE: &str = "rpc.response.status_code";
/// `network.transport`: [`TCP`] for Streamable HTTP.
pub const NETWORK_TRANSPORT: &str = "network.transport";
/// `network.protocol.name`: [`HTTP`].
pub const NETWORK_PROTOCOL_NAME: &str = "network.protocol.name";
/// `http.response.status_code` (OpenTelemetry HTTP conventions).
pub const HTTP_RESPONSE_STATUS_CODE: &str = "http.response.status_code";
/// The client's `clientInfo.name` (no convention names it).
pub const CLIENT_NAME: &str = "spinscope.client.name";
/// The client's `clientInfo.version`.
pub const CLIENT_VERSION: &str = "spinscope.client.version";
/// The tool component called.
pub const COMPONENT_ID: &str = "spinscope.component.id";
/// How the tool call ended (`outcome` of `spinscope_tool_calls_total`).
pub const OUTCOME: &str = "spinscope.outcome";
/// Where a linked context was carried ([`crate::trace::TraceSource`]).
pub const LINK_SOURCE: &str = "spinscope.link.source";

/// `gen_ai.operation.name` of a tool call.
pub const EXECUTE_TOOL: &str = "execute_tool";
/// `network.transport` over HTTP (the conventions: `tcp` or `quic`).
pub const TCP: &str = "tcp";
/// `network.protocol.name` of Streamable HTTP.
pub const HTTP: &str = "http";

/// Which span (or link) carries an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum On {
    /// The MCP server span, one per request.
    Server,
    /// The client span of a tool invocation.
    ToolCall,
    /// A link of the server span.
    Link,
}

/// Where an attribute's name comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The OpenTelemetry MCP semantic conventions (spans `mcp.server`,
    /// `mcp.client`), or the GenAI `execute_tool` span for the tool call.
    Mcp,
    /// The OpenTelemetry HTTP semantic conventions.
    Http,
    /// spinscope's own (`spinscope.*`): nothing in the conventions names it.
    Spinscope,
}

/// One attribute the gateway exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attribute {
    /// The key.
    pub key: &'static str,
    /// Where it is set.
    pub on: &'static [On],
    /// Whose name it is.
    pub origin: Origin,
    /// When it is set.
    pub when: &'static str,
}

const fn a(key: &'static str, on: &'static [On], origin: Origin, when: &'static str) -> Attribute {
    Attribute { key, on, origin, when }
}

/// Every attribute the gateway's spans and links carry.
pub const ATTRIBUTES: &[Attribute] = &[
    a(MCP_METHOD_NAME, &[On::Server, On::ToolCall], Origin::Mcp, "a JSON-RPC message (tool call: `tools/call`)"),
    a(MCP_PROTOCOL_VERSION, &[On::Server], Origin::Mcp, "the revision is known (session's, or the request's `_meta`)"),
    a(MCP_SESSION_ID, &[On::Server], Origin::Mcp, "handshake era (2025-03-26, 2025-06-18, 2025-11-25), in a session"),
    a(JSONRPC_REQUEST_ID, &[On::Server], Origin::Mcp, "a request (not a notification)"),
    a(GEN_AI_TOOL_NAME, &[On::Server, On::ToolCall], Origin::Mcp, "`tools/call` (a tool no component lists: `_other`)"),
    a(GEN_AI_OPERATION_NAME, &[On::Server, On::ToolCall], Origin::Mcp, "`tools/call`: `execute_tool`"),
    a(GEN_AI_PROMPT_NAME, &[On::Server], Origin::Mcp, "`prompts/get` relayed to a component"),
    a(MCP_RESOURCE_URI, &[On::Server], Origin::Mcp, "`resources/read` relayed to a component (bounded, redacted)"),
    a(ERROR_TYPE, &[On::Server, On::ToolCall], Origin::Mcp, "failed: JSON-RPC code, `tool_error`, `timeout`"),
    a(RPC_RESPONSE_STATUS_CODE, &[On::Server], Origin::Mcp, "answered with a JSON-RPC error: its code"),
    a(NETWORK_TRANSPORT, &[On::Server], Origin::Mcp, "always: `tcp`"),
    a(NETWORK_PROTOCOL_NAME, &[On::Server], Origin::Mcp, "always: `http`"),
    a(HTTP_RESPONSE_STATUS_CODE, &[On::Server], Origin::Http, "always"),
    a(CLIENT_NAME, &[On::Server], Origin::Spinscope, "the client named itself (`clientInfo`)"),
    a(CLIENT_VERSION, &[On::Server], Origin::Spinscope, "likewise"),
    a(COMPONENT_ID, &[On::ToolCall], Origin::Spinscope, "always: the tool's component"),
    a(OUTCOME, &[On::ToolCall], Origin::Spinscope, "always: `success`, `error`, `timeout`, `circuit_open`"),
    a(LINK_SOURCE, &[On::Link], Origin::Spinscope, "always: `http_header`; in the nested mode `mcp_meta`"),
];

/// The entry of `key`, if the gateway exports it.
pub fn attribute(key: &str) -> Option<&'static Attribute> {
    ATTRIBUTES.iter().find(|a| a.key == key)
}

/// A span's name: `{mcp.method.name} {target}`, where the target is the
/// tool of a `tools/call`; the method alone when there is none. The gateway
/// serves no prompts or resources (those methods are answered -32601 and
/// folded to `_other`), so it never has a `gen_ai.prompt.name` target, and
/// a resource URI would not be one by default anyway (the conventions keep
/// it out of span names, for cardinality).
pub fn span_name(method: &str, target: Option<&str>) -> String {
    match target {
        Some(target) => format!("{method} {target}"),
        None => method.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_listed_once_and_named_by_its_origin() {
        for (i, attr) in ATTRIBUTES.iter().enumerate() {
            assert!(ATTRIBUTES[..i].iter().all(|b| b.key != attr.key), "{} twice", attr.key);
            assert!(!attr.on.is_empty(), "{}", attr.key);
            let ours = attr.key.starts_with("spinscope.");
            assert_eq!(ours, attr.origin == Origin::Spinscope, "{}: only ours are spinscope.*", attr.key);
        }
        assert_eq!(attribute(HTTP_RESPONSE_STATUS_CODE).map(|a| a.origin), Some(Origin::Http));
        assert!(attribute("mcp.request.id").is_none());
    }

    #[test]
    fn names_are_method_and_target() {
        assert_eq!(span_name("tools/call", Some("word_count")), "tools/call word_count");
        assert_eq!(span_name("tools/list", None), "tools/list");
    }

    /// docs/traces.md lists every attribute.
    #[test]
    fn the_docs_list_every_attribute() {
        let doc = include_str!("../../../../../docs/traces.md");
        for attr in ATTRIBUTES {
            assert!(doc.contains(&format!("`{}`", attr.key)), "docs/traces.md lacks `{}`", attr.key);
        }
    }
}
