//! The protocol revisions of both eras, and the handshake era's `initialize`.

use super::jsonrpc::{json_type, RpcError};
use serde_json::{json, Value};

/// Handshake-era revisions this server speaks (`initialize`, then a
/// session), oldest first.
pub const SUPPORTED_VERSIONS: [&str; 3] = ["2025-03-26", "2025-06-18", "2025-11-25"];
/// The newest handshake-era revision, offered when the client's is unknown.
pub const LATEST: &str = "2025-11-25";
/// Modern (stateless) revisions this server speaks: each request carries
/// its revision in `params._meta`, no session.
pub const MODERN_VERSIONS: [&str; 1] = ["2026-07-28"];
/// Every revision this server speaks, newest first, as `server/discover`
/// and `UnsupportedProtocolVersion` list them.
pub const ALL_VERSIONS: [&str; 4] = ["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"];
/// Handshake-era revisions that exist, whether or not served: a request
/// whose `MCP-Protocol-Version` names one of these belongs to that era.
pub const HANDSHAKE_ERA_VERSIONS: [&str; 4] = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];
/// HTTP header carrying the negotiated revision (lowercase, as HTTP/2 sends it).
pub const PROTOCOL_VERSION_HEADER: &str = "mcp-protocol-version";
/// HTTP header carrying the session id.
pub const SESSION_ID_HEADER: &str = "mcp-session-id";

/// The revision to answer `initialize` with: the client's own when we
/// support it, else [`LATEST`] (the client then decides whether to go on).
pub fn negotiate(client: &str) -> &'static str {
    supported_version(client).unwrap_or(LATEST)
}

/// The static spelling of `version` if it is supported, e.g. to validate the
/// `MCP-Protocol-Version` header (unsupported → HTTP 400).
pub fn supported_version(version: &str) -> Option<&'static str> {
    SUPPORTED_VERSIONS.into_iter().find(|v| *v == version)
}

/// The static spelling of `version` if it is any revision served, of either
/// era (for the `mcp_protocol_version` label).
pub fn served_version(version: &str) -> Option<&'static str> {
    ALL_VERSIONS.into_iter().find(|v| *v == version)
}

/// Whether invalid tool arguments are a tool execution error (a result with
/// `isError`, which the model can act on) rather than JSON-RPC -32602: so
/// from 2025-11-25 on (SEP-1303).
pub fn invalid_arguments_are_tool_errors(version: &str) -> bool {
    matches!(version, "2025-11-25" | "2026-07-28")
}

/// The `initialize` result: tools only, with a static tool list.
pub fn initialize_result(
    negotiated_version: &str,
    server_name: &str,
    server_version: &str,
    instructions: Option<&str>,
) -> Value {
    let mut result = json!({
        "protocolVersion": negotiated_version,
        "capabilities": { "tools": { "listChanged": false } },
        "serverInfo": { "name": server_name, "version": server_version },
    });
    if let Some(instructions) = instructions {
        result["instructions"] = Value::String(instructions.to_owned());
    }
    result
}

/// What spinscope reads from `initialize` params.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitializeParams {
    /// The revision the client asked for (negotiate with [`negotiate`]).
    pub protocol_version: String,
    /// `clientInfo.name`, when it is a string, redacted as free text and
    /// bounded ([`crate::redact::client_string`]): it is stored, logged,
    /// exported in spans and shown by the metrics' JSON.
    pub client_name: Option<String>,
    /// `clientInfo.version`, when it is a string, redacted and bounded likewise.
    pub client_version: Option<String>,
}

/// Reads `initialize` params: `protocolVersion` must be a string (else
/// `-32602`); `clientInfo` is read when well-formed and otherwise ignored,
/// its name and version redacted with the default policy and bounded here,
/// so that no user of them downstream sees a secret a client put there.
pub fn parse_initialize_params(params: Option<&Value>) -> Result<InitializeParams, RpcError> {
    let version = params.and_then(|p| p.get("protocolVersion"));
    let protocol_version = match version {
        Some(Value::String(v)) => v.clone(),
        Some(other) => {
            return Err(RpcError::invalid_params(format!(
                "params.protocolVersion must be a string, got {}",
                json_type(other)
            )))
        }
        None => return Err(RpcError::invalid_params("initialize requires params.protocolVersion")),
    };
    let info = params.and_then(|p| p.get("clientInfo"));
    let info_str = |k: &str| info.and_then(|i| i.get(k)).and_then(Value::as_str).map(crate::redact::client_string);
    Ok(InitializeParams { protocol_version, client_name: info_str("name"), client_version: info_str("version") })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounded::{CUT_MARKER, MAX_CLIENT_STRING_BYTES};
    use crate::redact::REDACTED;

    fn client(name: &str, version: &str) -> InitializeParams {
        let params = json!({
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": name, "version": version}
        });
        parse_initialize_params(Some(&params)).unwrap()
    }

    #[test]
    fn client_names_are_redacted_as_free_text() {
        let p = client("claude-code", "1.2.3");
        assert_eq!((p.client_name.as_deref(), p.client_version.as_deref()), (Some("claude-code"), Some("1.2.3")));
        let token = format!("ghp_{}", "Zq7".repeat(12));
        let shapes = [
            format!("cli {token}"),
            "cli password=correct horse battery".to_string(),
            "Bearer Zq7abc.def".to_string(),
            "https://u:Zq7pw@example.com".to_string(),
            "Basic dXNlcjpacTdwdw==".to_string(),
            "db_pass: Zq7pw".to_string(),
            "https://hooks.slack.com/services/T0/B0/Zq7hook".to_string(),
            r#"{"p\u0061ssword": "Zq7pw"}"#.to_string(),
        ];
        for shape in &shapes {
            let p = client(shape, shape);
            for got in [p.client_name.unwrap(), p.client_version.unwrap()] {
                assert!(got.contains(REDACTED), "{shape} → {got}");
                assert!(!got.contains("Zq7") && !got.contains("horse"), "{shape} → {got}");
            }
        }
        // Ordinary names stay as sent.
        for name in ["Visual Studio Code", "mcp-inspector", "author's passage tool", "OAuth client 2.0"] {
            assert_eq!(client(name, "1").client_name.as_deref(), Some(name));
        }
    }

    #[test]
    fn client_names_are_redacted_then_cut() {
        // The secret straddles the cut: redacted first, it leaks not even in part.
        let name = format!("{} token=Zq7{}", "n".repeat(250), "x".repeat(30));
        let got = client(&name, "v").client_name.unwrap();
        assert!(!got.contains("Zq7") && got.ends_with(CUT_MARKER), "{got}");
        assert!(got.len() <= MAX_CLIENT_STRING_BYTES + CUT_MARKER.len());
        let huge = client(&"v".repeat(10_000), &"v".repeat(10_000));
        assert!(huge.client_version.unwrap().ends_with(CUT_MARKER));
    }
}
