//! The one error type of the request path: a JSON-RPC error that knows its
//! HTTP status, the rejection it counts as, and the headers it adds.

use crate::reply::Reply;
use spinscope::mcp::{self, RequestId, RpcError};
use spinscope::metrics::series::RejectReason;

/// JSON-RPC code for an unknown or expired session (as the MCP SDKs use).
pub const SESSION_NOT_FOUND: i64 = -32001;

/// A request that ends in a JSON-RPC error.
#[derive(Debug)]
pub struct GatewayError {
    /// The HTTP status of the answer.
    pub status: u16,
    /// The JSON-RPC error, with the request's id when it is known.
    pub error: RpcError,
    /// Set when the request was refused before doing work.
    pub rejected: Option<RejectReason>,
    headers: Vec<(&'static str, String)>,
}

impl GatewayError {
    /// `error` answered with HTTP `status`.
    pub fn new(status: u16, error: RpcError) -> Self {
        GatewayError { status, error, rejected: None, headers: Vec::new() }
    }

    /// An error with `code` and `message`, for the request `id` if known.
    pub fn rpc(status: u16, id: Option<&RequestId>, code: i64, message: impl Into<String>) -> Self {
        GatewayError::new(status, RpcError::new(code, message).with_id(id.cloned()))
    }

    /// A refusal before any work, counted in `rejected_total{reason}`.
    pub fn rejected(reason: RejectReason, status: u16, code: i64, message: impl Into<String>) -> Self {
        GatewayError { rejected: Some(reason), ..GatewayError::rpc(status, None, code, message) }
    }

    /// 404 for a session that does not exist for this caller.
    pub fn session_not_found(id: Option<&RequestId>, message: &str) -> Self {
        GatewayError::rpc(404, id, SESSION_NOT_FOUND, message)
    }

    /// 503 when the session store cannot be used.
    pub fn store_unavailable(id: Option<&RequestId>) -> Self {
        GatewayError::rpc(503, id, mcp::INTERNAL_ERROR, "session store unavailable; try again later")
    }

    /// The same error, answering the request `id`.
    pub fn with_id(mut self, id: &RequestId) -> Self {
        self.error = self.error.with_id(Some(id.clone()));
        self
    }

    /// The same error with one more response header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The HTTP answer.
    pub fn into_reply(self) -> Reply {
        self.headers.into_iter().fold(Reply::json(self.status, &self.error.to_response()), |reply, (name, value)| {
            reply.with_header(name, value)
        })
    }
}
