//! The HTTP answer, built whole before anything is written, and its sending.

use futures::SinkExt;
use spin_sdk::http::{Fields, OutgoingResponse, ResponseOutparam};

/// An HTTP answer: status, headers, body.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    /// An answer without body.
    pub fn new(status: u16) -> Self {
        Reply { status, headers: Vec::new(), body: Vec::new() }
    }

    /// A JSON answer.
    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Reply::new(status).with_header("content-type", "application/json").with_body(value.to_string().into_bytes())
    }

    /// The same answer with one more header.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    fn with_body(mut self, body: Vec<u8>) -> Self {
        self.body = body;
        self
    }
}

/// Writes `reply` with the request id; the body is finished when this
/// returns, so the client has its whole answer before any bookkeeping.
pub async fn send(response_out: ResponseOutparam, reply: Reply, request_id: &str) {
    let mut fields: Vec<(String, Vec<u8>)> = reply.headers.into_iter().map(|(k, v)| (k, v.into_bytes())).collect();
    fields.push(("x-request-id".into(), request_id.as_bytes().to_vec()));
    let headers = Fields::from_list(&fields).unwrap_or_else(|_| Fields::new());
    let response = OutgoingResponse::new(headers);
    let _ = response.set_status_code(reply.status);
    let mut body = response.take_body();
    response_out.set(response);
    if !reply.body.is_empty() {
        if let Err(e) = body.send(reply.body).await {
            eprintln!("could not write the response body: {e}");
        }
    }
    drop(body);
}
