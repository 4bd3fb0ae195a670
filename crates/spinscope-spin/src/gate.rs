//! The API-key gate of the read-only components (`metrics`, and `ready`'s
//! summaries): in auth mode a request without a valid key gets 401 and is
//! counted in `rejected_total{reason="unauthorized"}` ([`crate::refusals`]:
//! at most one store write, fewer under a flood). The gateway checks keys
//! in its own admission step and counts the same way.

use crate::head::Head;
use crate::respond;
use spin_sdk::http::Response;
use spinscope::config::Config;

/// `Ok` when `config` is in open mode or `req` carries a valid key; else
/// the 401 answer, the rejection counted.
pub fn require_key(config: &Config, req: &Head) -> Result<(), Response> {
    let header = |name: &str| req.header(name);
    if config.api_keys.authenticate(header("authorization"), header("x-api-key")).allowed() {
        return Ok(());
    }
    let exemplar = crate::audit::refusal_exemplar(req.header("origin"), "-");
    if let Err(e) = crate::audit::count_refusal(config, None, &exemplar) {
        crate::diag::warn(config.log_format, "Rejected request not counted", &e);
    }
    Err(respond::unauthorized())
}
