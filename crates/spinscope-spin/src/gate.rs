//! The API-key gate of the read-only components (`metrics`, and `ready`'s
//! summaries): in auth mode a request without a valid key gets 401 and is
//! counted once in `rejected_total{reason="unauthorized"}`. The gateway
//! has its own, inside its request record.

use crate::{metrics_sink, respond};
use spin_sdk::http::{Request, Response};
use spinscope::config::Config;
use spinscope::metrics::series::RejectReason;

/// `Ok` when `config` is in open mode or `req` carries a valid key; else
/// the 401 answer, the rejection counted.
pub fn require_key(config: &Config, req: &Request) -> Result<(), Response> {
    let header = |name: &str| req.header(name).and_then(|h| h.as_str());
    if config.api_keys.authenticate(header("authorization"), header("x-api-key")).allowed() {
        return Ok(());
    }
    if let Err(e) = metrics_sink::record_rejection(config, RejectReason::Unauthorized) {
        eprintln!("could not count the rejected request: {e}");
    }
    Err(respond::unauthorized())
}
