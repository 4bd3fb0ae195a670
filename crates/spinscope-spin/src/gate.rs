//! The API-key gate of the read-only components (`metrics`, and `ready`'s
//! summaries): in auth mode a request without a valid key gets 401 and is
//! counted in `rejected_total{reason="missing_key"|"invalid_key"}` ([`crate::refusals`]:
//! at most one store write, fewer under a flood). The gateway checks keys
//! in its own admission step and counts the same way.

use crate::head::Head;
use crate::respond;
use spin_sdk::http::Response;
use spinscope::auth::Caller;
use spinscope::config::Config;
use spinscope::metrics::series::RejectReason;

/// `Ok` when `config` is in open mode or `req` carries a valid key; else
/// the 401 answer, the rejection counted.
pub fn require_key(config: &Config, req: &Head) -> Result<(), Response> {
    let header = |name: &str| req.header(name);
    let reason = match config.api_keys.authenticate(header("authorization"), header("x-api-key")) {
        caller if caller.allowed() => return Ok(()),
        Caller::Missing => RejectReason::MissingKey,
        _ => RejectReason::InvalidKey,
    };
    let exemplar = crate::audit::refusal_exemplar(req.header("origin"), "-");
    if let Err(e) = crate::audit::count_refusal(config, None, reason, &exemplar) {
        crate::diag::warn(config.log_format, "Rejected request not counted", &e);
    }
    Err(respond::unauthorized())
}
