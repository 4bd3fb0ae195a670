//! Sends an answer built whole first (`spinscope::gateway::Reply`) on a
//! `ResponseOutparam`, so a component can do its bookkeeping after the
//! client has the whole answer.

use futures::SinkExt;
use spin_sdk::http::{Fields, OutgoingResponse, ResponseOutparam};
use spinscope::gateway::Reply;
use spinscope::log::LogFormat;

/// Writes `reply` with the request id; the body is finished when this
/// returns, so the client has its whole answer before any bookkeeping.
pub async fn send(response_out: ResponseOutparam, reply: Reply, request_id: &str, format: LogFormat) {
    let mut fields: Vec<(String, Vec<u8>)> = reply.headers.into_iter().map(|(k, v)| (k, v.into_bytes())).collect();
    fields.push(("x-request-id".into(), request_id.as_bytes().to_vec()));
    let headers = Fields::from_list(&fields).unwrap_or_else(|_| Fields::new());
    let response = OutgoingResponse::new(headers);
    let _ = response.set_status_code(reply.status);
    let mut body = response.take_body();
    response_out.set(response);
    if !reply.body.is_empty() {
        if let Err(e) = body.send(reply.body).await {
            crate::diag::warn(format, "Response body not written", &e.to_string());
        }
    }
    drop(body);
}
