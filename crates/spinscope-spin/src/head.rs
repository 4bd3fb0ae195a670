//! The request head of the read-only components (`metrics`, `health`,
//! `ready`, `status`): they take no body, so they never read one. A `GET` or `HEAD`
//! that announces a body (`Content-Length` above 0, or `Transfer-Encoding`)
//! is refused at once ([`BodyAnnounced`], which `respond` answers with
//! 413), any other method with 405 by the component, the body left unread
//! either way: a client streaming hundreds of megabytes at a probe costs
//! neither memory nor time.

use spin_sdk::http::{IncomingRequest, Method};

/// The headers of `req`, names in lower case, values as (lossy) text.
pub fn header_list(req: &IncomingRequest) -> Vec<(String, String)> {
    req.headers()
        .entries()
        .into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), String::from_utf8_lossy(&v).into_owned()))
        .collect()
}

/// The request's method, upper case, as logs and metrics name it.
pub fn method_name(method: &Method) -> String {
    match method {
        Method::Get => "GET".into(),
        Method::Head => "HEAD".into(),
        Method::Post => "POST".into(),
        Method::Put => "PUT".into(),
        Method::Delete => "DELETE".into(),
        Method::Patch => "PATCH".into(),
        Method::Options => "OPTIONS".into(),
        Method::Connect => "CONNECT".into(),
        Method::Trace => "TRACE".into(),
        Method::Other(m) => m.to_ascii_uppercase(),
    }
}

/// A `GET` or `HEAD` request that announces a body: refused unread (413,
/// the answer `respond` builds from it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyAnnounced;

/// Method, path, query and headers of a request whose body is not read.
pub struct Head {
    method: Method,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
}

impl Head {
    /// The head of `req`, or [`BodyAnnounced`] when a `GET` or `HEAD`
    /// announces a body.
    pub fn without_body(req: &IncomingRequest) -> Result<Head, BodyAnnounced> {
        let headers = header_list(req);
        let path_with_query = req.path_with_query().unwrap_or_else(|| "/".into());
        let (path, query) = path_with_query.split_once('?').unwrap_or((&path_with_query, ""));
        let head = Head { method: req.method(), path: path.to_string(), query: query.to_string(), headers };
        let announced = head.header("content-length").map(|v| v.trim() != "0").unwrap_or(false)
            || head.header("transfer-encoding").is_some();
        if announced && matches!(head.method, Method::Get | Method::Head) {
            return Err(BodyAnnounced);
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
