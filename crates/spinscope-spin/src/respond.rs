//! The HTTP answers the read-only components (`metrics`, `health`, `ready`,
//! `status`) share: JSON bodies that are never cached, `GET` and `HEAD`
//! only, no request body, and one shape for "key required" and
//! "misconfigured".

use crate::head::{BodyAnnounced, Head};
use serde_json::{json, Value};
use spin_sdk::http::{IncomingRequest, Method, Response};

/// A JSON probe answer; with `head`, the same status and headers, no body.
pub fn json_response(status: u16, body: &Value, head: bool) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("cache-control", "no-store")
        .body(if head { String::new() } else { body.to_string() })
        .build()
}

/// 413 for a `GET` or `HEAD` that announces a body ([`Head::without_body`]).
impl From<BodyAnnounced> for Response {
    fn from(_: BodyAnnounced) -> Response {
        let body = json!({"status": "error", "message": "this endpoint takes no request body"});
        json_response(413, &body, false)
    }
}

/// `Ok(head)` for `GET` (false) and `HEAD` (true); otherwise the 405 answer
/// with `Allow`.
pub fn get_or_head(req: &Head) -> Result<bool, Response> {
    match req.method() {
        Method::Get => Ok(false),
        Method::Head => Ok(true),
        other => {
            let body = json!({"status": "error", "message": format!("method {other} not allowed; use GET or HEAD")});
            let mut response = json_response(405, &body, false);
            response.set_header("allow", "GET, HEAD");
            Err(response)
        }
    }
}

/// The head of a request to a read-only JSON endpoint and whether it is a
/// `HEAD`; otherwise the answer that refuses it (413 for a body, 405 for
/// another method), as [`Head::without_body`] and [`get_or_head`] give.
pub fn read_only(req: &IncomingRequest) -> Result<(Head, bool), Response> {
    let head = Head::without_body(req)?;
    let is_head = get_or_head(&head)?;
    Ok((head, is_head))
}

/// 401 with `WWW-Authenticate: Bearer` (see [`crate::gate`]).
pub fn unauthorized() -> Response {
    let body =
        json!({"status": "error", "message": "a valid API key is required (Authorization: Bearer <key> or X-API-Key)"});
    let mut response = json_response(401, &body, false);
    response.set_header("www-authenticate", "Bearer realm=\"spinscope\"");
    response
}

/// 503 for variables that are unreadable or invalid: the same status from
/// every component.
pub fn misconfigured(message: &str) -> Response {
    json_response(503, &json!({"status": "error", "message": format!("server misconfigured: {message}")}), false)
}
