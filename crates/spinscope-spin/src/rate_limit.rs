//! A tenant's rate limit in the store: one counter per window
//! ([`spinscope::auth::RateWindow`] decides; this module only counts).

use crate::kv::{KvError, Store};
use spinscope::auth::{RateDecision, RateWindow};
use spinscope::keys;

/// Counts this request in `tenant`'s window and decides: one `increment`,
/// plus a `get` of the previous window when the count alone does not
/// refuse. The first request of a window deletes the window before the
/// previous one, which nothing reads again.
pub fn check(store: &Store, window: &RateWindow, tenant: &str, now_ms: u64) -> Result<RateDecision, KvError> {
    let index = window.index(now_ms);
    let current = store.increment(&keys::rate_limit(tenant, index), 1)?.max(0) as u64;
    if current == 1 && index >= 2 {
        let _ = store.delete(&keys::rate_limit(tenant, index - 2));
    }
    if current > window.limit {
        return Ok(window.admit(now_ms, 0, current));
    }
    let previous = match index.checked_sub(1) {
        Some(prev) => {
            store.get(&keys::rate_limit(tenant, prev))?.as_deref().and_then(spinscope::metrics::decode_counter)
        }
        None => None,
    };
    Ok(window.admit(now_ms, previous.unwrap_or(0).max(0) as u64, current))
}
