//! The request head of the read-only components (`metrics`, `health`,
//! `ready`, `status`): they take no body, so they never read one. A `GET` or `HEAD`
//! that announces a body (`Content-Length` above 0, or `Transfer-Encoding`)
//! is answered 413 at once, any other method 405 by the component, the
//! body left unread either way: a client streaming hundreds of megabytes at
//! a probe costs neither memory nor time.

use crate::respond::json_response;
use serde_json::json;
use spin_sdk::http::{IncomingRequest, Method, Response};

/// The headers of `req`, names in lower case, values as (lossy) text.
pub fn header_list(req: &IncomingRequest) -> Vec<(String, String)> {
    req.headers()
        .entries()
        .into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), String::from_utf8_lossy(&v).into_owned()))
        .collect()
}

/// Method, path, query and headers of a request whose body is not read.
pub struct Head {
    method: Method,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
}

impl Head {
    /// The head of `req`, or the 413 answer when a `GET` or `HEAD`
    /// announces a body.
    pub fn without_body(req: &IncomingRequest) -> Result<Head, Response> {
        let headers = header_list(req);
        let path_with_query = req.path_with_query().unwrap_or_else(|| "/".into());
        let (path, query) = path_with_query.split_once('?').unwrap_or((&path_with_query, ""));
        let head = Head { method: req.method(), path: path.to_string(), query: query.to_string(), headers };
        let announced = head.header("content-length").map(|v| v.trim() != "0").unwrap_or(false)
            || head.header("transfer-encoding").is_some();
        if announced && matches!(head.method, Method::Get | Method::Head) {
            let body = json!({"status": "error", "message": "this endpoint takes no request body"});
            return Err(json_response(413, &body, false));
        }
        Ok(head)
    }

    /// The request method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path, without the query.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The query string, without `?` (empty when there is none).
    pub fn query(&self) -> &str {
        &self.query
    }

    /// A header's value (`name` in lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}
