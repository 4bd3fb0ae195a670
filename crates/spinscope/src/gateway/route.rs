//! Where a request goes: by HTTP method, then by JSON-RPC method in its era.

use super::error::GatewayError;
use crate::mcp::modern::{self, Era};
use crate::mcp::{RpcError, PROTOCOL_VERSION_HEADER};

/// What an HTTP method asks of `/mcp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpAction {
    /// `POST`: one JSON-RPC message.
    Message,
    /// `DELETE` in the handshake era: end the session.
    EndSession,
    /// Anything else, and `DELETE` in the modern era (no session to end): 405.
    NotAllowed,
}

/// The action of `method` (upper case), given the request's
/// `MCP-Protocol-Version` header.
pub fn http_action(method: &str, header_version: Option<&str>) -> HttpAction {
    match method {
        "POST" => HttpAction::Message,
        "DELETE" if modern::era(None, None, header_version) == Era::Handshake => HttpAction::EndSession,
        _ => HttpAction::NotAllowed,
    }
}

/// The header [`http_action`] reads.
pub const ERA_HEADER: &str = PROTOCOL_VERSION_HEADER;

/// A JSON-RPC request the gateway serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `server/discover` (modern era).
    Discover,
    /// `ping` (handshake era).
    Ping,
    /// `tools/list`.
    ToolsList,
    /// `tools/call`.
    ToolsCall,
    /// `logging/setLevel` (handshake era: the session's log level).
    SetLogLevel,
    /// `prompts/list`, `resources/list` or `resources/templates/list`,
    /// served from the components' catalog (`gateway::catalog`).
    CatalogList,
    /// `prompts/get`, `resources/read` or `completion/complete`, relayed
    /// to the component that serves it.
    CatalogRequest,
}

/// The operation `method` names in `era` (after `initialize`, which the
/// handshake era answers before a session exists), or -32601, with the
/// modern era's hint where the revision removed the method.
pub fn operation(method: &str, era: Era) -> Result<Operation, GatewayError> {
    match (method, era) {
        ("tools/list", _) => Ok(Operation::ToolsList),
        ("tools/call", _) => Ok(Operation::ToolsCall),
        ("prompts/list" | "resources/list" | "resources/templates/list", _) => Ok(Operation::CatalogList),
        ("prompts/get" | "resources/read" | "completion/complete", _) => Ok(Operation::CatalogRequest),
        (modern::DISCOVER, Era::Modern) => Ok(Operation::Discover),
        ("ping", Era::Handshake) => Ok(Operation::Ping),
        ("logging/setLevel", Era::Handshake) => Ok(Operation::SetLogLevel),
        (other, Era::Modern) => Err(modern::method_not_found(other).into()),
        (other, Era::Handshake) => Err(RpcError::method_not_found(&crate::bounded::client_string(other)).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_methods() {
        assert_eq!(http_action("POST", None), HttpAction::Message);
        assert_eq!(http_action("DELETE", None), HttpAction::EndSession);
        assert_eq!(http_action("DELETE", Some("2025-06-18")), HttpAction::EndSession);
        assert_eq!(http_action("DELETE", Some("2026-07-28")), HttpAction::NotAllowed, "no session to end");
        for other in ["GET", "PUT", "HEAD", "BREW"] {
            assert_eq!(http_action(other, None), HttpAction::NotAllowed, "{other}");
        }
    }

    #[test]
    fn operations_by_era() {
        assert_eq!(operation("tools/call", Era::Modern), Ok(Operation::ToolsCall));
        assert_eq!(operation("tools/list", Era::Handshake), Ok(Operation::ToolsList));
        assert_eq!(operation("server/discover", Era::Modern), Ok(Operation::Discover));
        assert_eq!(operation("ping", Era::Handshake), Ok(Operation::Ping));
        let Err(GatewayError::MethodNotFound(m)) = operation("ping", Era::Modern) else { panic!() };
        assert!(m.contains("removed ping"), "{m}");
        let Err(GatewayError::MethodNotFound(m)) = operation("initialize", Era::Modern) else { panic!() };
        assert!(m.contains("no handshake"), "{m}");
        assert!(matches!(operation("nope/x", Era::Handshake), Err(GatewayError::MethodNotFound(_))));
        assert_eq!(operation("prompts/list", Era::Modern), Ok(Operation::CatalogList));
        assert_eq!(operation("resources/templates/list", Era::Handshake), Ok(Operation::CatalogList));
        assert_eq!(operation("resources/read", Era::Modern), Ok(Operation::CatalogRequest));
        assert_eq!(operation("completion/complete", Era::Handshake), Ok(Operation::CatalogRequest));
        assert_eq!(operation("logging/setLevel", Era::Handshake), Ok(Operation::SetLogLevel));
        // Per-session state: none on 2026-07-28 (the level rides in each request's _meta).
        for method in ["resources/subscribe", "logging/setLevel"] {
            assert!(matches!(operation(method, Era::Modern), Err(GatewayError::MethodNotFound(_))), "{method}");
        }
    }
}
