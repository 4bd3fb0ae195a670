//! The API-key gate of the read-only components (`metrics`, and `ready`'s
//! summaries): in auth mode a request without a valid key gets 401 and is
//! counted in `rejected_total{reason="missing_key"|"invalid_key"}` ([`crate::refusals`]:
//! at most one store write, fewer under a flood). The gateway checks keys
//! in its own admission step and counts the same way.

use crate::head::Head;
use crate::respond;
use spin_sdk::http::Response;
use spinscope::config::Config;
use spinscope::gateway::admission::Credentials;
use spinscope::gateway::identity::{identify, Admitted};
use spinscope::gateway::GatewayError;

/// `Ok` with the caller when `config` is in open mode or `req` carries a
/// valid key or access token (docs/auth.md); else the 401 answer (with the
/// OAuth challenge when OAuth is on), the rejection counted.
pub fn require_key(config: &Config, req: &Head) -> Result<Admitted, Response> {
    let credentials =
        Credentials { authorization: req.header("authorization"), api_key: req.header("x-api-key"), origin: None };
    let mut keys = crate::oauth_keys::source(config);
    let refused = match identify(config, None, credentials, keys.as_mut(), crate::time::now_unix_ms() / 1000) {
        Ok(admitted) => return Ok(admitted),
        Err(refused) => refused,
    };
    let reason = refused
        .map(spinscope::gateway::error::Answering {
            era: spinscope::mcp::modern::Era::Handshake,
            protocol_version: None,
        })
        .rejected
        // Answered 401 here whatever the reason (a token short of a
        // required scope included): counted with the refusals by sampling.
        .filter(|r| r.is_unauthenticated())
        .unwrap_or(spinscope::metrics::series::RejectReason::InvalidToken);
    let exemplar = crate::audit::refusal_exemplar(req.header("origin"), "-");
    if let Err(e) = crate::audit::count_refusal(config, None, reason, &exemplar) {
        crate::diag::warn(config.log_format, "Rejected request not counted", &e);
    }
    let mut response = respond::unauthorized();
    if let GatewayError::TokenRefused { challenge, .. } | GatewayError::InsufficientScope { challenge, .. } = &refused {
        response.set_header("www-authenticate", challenge);
    }
    Err(response)
}
