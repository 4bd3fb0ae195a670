//! API keys, tenants and the per-tenant rate limit (the wasmrun agent
//! server's rules).
//!
//! Keys are configured as `tenant:sha256-of-key` entries in the secret
//! variable `api_keys`, so no plain key sits in a manifest or environment.
//! With no entries the app runs in open mode.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    tenant: String,
    hash: [u8; 32],
    /// `tenant:hash:admin`: the key also reads every tenant's audit events
    /// and verifies the chain (docs/audit.md).
    admin: bool,
}

/// The configured keys (empty: open mode).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiKeys {
    entries: Vec<Entry>,
}

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// No keys configured: everyone may call; no tenant.
    Open,
    /// Auth mode, and the key belongs to this tenant.
    Tenant(String),
    /// Auth mode, and no key was presented.
    Missing,
    /// Auth mode, and the key matches no entry.
    Invalid,
}

impl Caller {
    /// The tenant, when a key identified one.
    pub fn tenant(&self) -> Option<&str> {
        match self {
            Caller::Tenant(t) => Some(t),
            _ => None,
        }
    }

    /// Whether the call may go on: open mode, or a known key.
    pub fn allowed(&self) -> bool {
        matches!(self, Caller::Open | Caller::Tenant(_))
    }
}

fn is_tenant(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// The 32 bytes of 64 hex digits (either case).
fn unhex(s: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}

/// The SHA-256 of a key, lowercase hex: what goes into `api_keys`.
pub fn hash_key(key: &str) -> String {
    crate::trace::hex(&Sha256::digest(key.as_bytes()))
}

impl ApiKeys {
    /// Parses `tenant:sha256hex,tenant2:sha256hex:admin` (a role after a
    /// second `:`, `admin` the only one). The error never quotes the hash.
    pub fn parse(spec: &str) -> Result<ApiKeys, String> {
        let mut entries = Vec::new();
        for (n, item) in spec.split(',').map(str::trim).filter(|s| !s.is_empty()).enumerate() {
            let (tenant, hash) = item.split_once(':').ok_or(format!("entry {} is not tenant:sha256-hex", n + 1))?;
            let (hash, admin) = match hash.split_once(':') {
                None => (hash, false),
                Some((hash, "admin")) => (hash, true),
                Some(_) => return Err(format!("entry {} (tenant {tenant}): the only role is `admin`", n + 1)),
            };
            if !is_tenant(tenant) {
                return Err(format!("entry {}: tenant must be 1-64 characters of [A-Za-z0-9._-]", n + 1));
            }
            let hash = unhex(hash)
                .ok_or(format!("entry {} (tenant {tenant}): the key hash must be 64 hex characters (sha256)", n + 1))?;
            entries.push(Entry { tenant: tenant.to_string(), hash, admin });
        }
        Ok(ApiKeys { entries })
    }

    /// Whether no keys are configured (open mode: every caller is let in).
    pub fn is_open(&self) -> bool {
        self.entries.is_empty()
    }

    /// Identifies the caller from `Authorization: Bearer <key>` or `X-API-Key`.
    pub fn authenticate(&self, authorization: Option<&str>, x_api_key: Option<&str>) -> Caller {
        self.identify(authorization, x_api_key).0
    }

    /// Whether the caller may read every tenant's audit events: open mode,
    /// or a key with the `admin` role.
    pub fn is_admin(&self, authorization: Option<&str>, x_api_key: Option<&str>) -> bool {
        self.is_open() || self.identify(authorization, x_api_key).1
    }

    /// The caller, and whether its key has the `admin` role.
    pub fn identify(&self, authorization: Option<&str>, x_api_key: Option<&str>) -> (Caller, bool) {
        if self.is_open() {
            return (Caller::Open, false);
        }
        let bearer = authorization.and_then(|h| {
            let (scheme, rest) = h.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        });
        let Some(key) = bearer.or(x_api_key.map(str::trim)).filter(|k| !k.is_empty()) else {
            return (Caller::Missing, false);
        };
        let presented: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        // Every entry is compared, so timing does not tell which one matched.
        let mut found = None;
        for entry in &self.entries {
            // In time independent of where the first difference is.
            let matches: bool = entry.hash.ct_eq(&presented).into();
            if matches && found.is_none() {
                found = Some((entry.tenant.clone(), entry.admin));
            }
        }
        match found {
            Some((tenant, admin)) => (Caller::Tenant(tenant), admin),
            None => (Caller::Invalid, false),
        }
    }
}

/// The per-tenant rate limit as a sliding-window counter, kept with
/// `atomics.increment` alone (compare-and-swap is not to be trusted on
/// Spin's stores, docs/metrics.md).
///
/// Time is cut into windows of `length_ms`, the time the rate takes to
/// earn `limit` requests (`burst / per_minute` minutes), so the long-run
/// rate is `per_minute` and no window admits more than `limit`. Each
/// request increments its window's counter and is admitted when its own
/// count, plus the previous window's count weighted by how much of that
/// window still overlaps the last `length_ms`, stays within `limit`. The
/// counts are exact under any concurrency: of N requests at once in a
/// fresh window, exactly `limit` are admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateWindow {
    /// Length of one window, in milliseconds.
    pub length_ms: u64,
    /// Most requests a window admits (the burst).
    pub limit: u64,
}

impl RateWindow {
    /// `per_minute` requests a minute with bursts of `burst` (at least 1).
    pub fn new(per_minute: u32, burst: u32) -> RateWindow {
        let limit = u64::from(burst.max(1));
        let length_ms = (limit * 60_000 / u64::from(per_minute.max(1))).max(1);
        RateWindow { length_ms, limit }
    }

    /// The window `now_ms` falls in.
    pub fn index(&self, now_ms: u64) -> u64 {
        now_ms / self.length_ms
    }

    /// Whether the request that brought its window's counter to `current`
    /// is admitted, given the previous window's final count; on refusal,
    /// the whole seconds after which a retry can succeed (at least 1).
    /// Refused requests stay counted, so the previous window weighs at
    /// most `limit`.
    pub fn admit(&self, now_ms: u64, previous: u64, current: u64) -> RateDecision {
        let elapsed = now_ms % self.length_ms;
        let remaining = self.length_ms - elapsed;
        // previous × remaining / length, rounded up: never admits early.
        let carried = (previous.min(self.limit) * remaining).div_ceil(self.length_ms);
        if current.saturating_add(carried) <= self.limit {
            return RateDecision::Admit;
        }
        // By the end of this window the previous one no longer counts;
        // if this one is full too, a retry must wait for the next.
        let wait_ms =
            if current <= self.limit { remaining.min(self.length_ms / self.limit.max(1)).max(1) } else { remaining };
        RateDecision::Refuse { retry_after_secs: wait_ms.div_ceil(1000).max(1) }
    }
}

/// What a tenant's rate window says of one more request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    /// Within the limit.
    Admit,
    /// Over it: a retry can succeed after this many whole seconds (at least 1).
    Refuse {
        /// The `Retry-After` value.
        retry_after_secs: u64,
    },
}

impl RateDecision {
    /// Whether the request is admitted.
    pub fn is_admitted(self) -> bool {
        self == RateDecision::Admit
    }
}

/// The label under which open mode's JSON shows a session: the first 8 hex
/// characters of HMAC-SHA-256(`key`, `id`), with `key` a secret of the app
/// kept in the store. Short, stable for a session, and not reversible: the
/// id itself (a bearer credential for the session) is never published.
pub fn session_label(key: &[u8], id: &str) -> String {
    hex::encode(&crate::hmac::hmac_sha256(key, &[id.as_bytes()])[..4])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_labels_are_keyed_hmacs() {
        // RFC 4231, test case 2 (key "Jefe"): the MAC starts 5bdcc146.
        assert_eq!(session_label(b"Jefe", "what do ya want for nothing?"), "5bdcc146");
        let id = "0123456789abcdef0123456789abcdef";
        assert_ne!(session_label(b"k1", id), session_label(b"k2", id), "another app, another label");
        assert_eq!(session_label(b"k1", id).len(), 8);
    }

    #[test]
    fn parse_and_authenticate() {
        let keys = ApiKeys::parse(&format!("acme:{},globex:{}", hash_key("k-acme"), hash_key("k-globex"))).unwrap();
        assert_eq!(keys.authenticate(Some("Bearer k-acme"), None), Caller::Tenant("acme".into()));
        assert_eq!(keys.authenticate(Some("bearer  k-globex "), None), Caller::Tenant("globex".into()));
        assert_eq!(keys.authenticate(None, Some("k-globex")), Caller::Tenant("globex".into()));
        assert_eq!(keys.authenticate(Some("Bearer wrong"), None), Caller::Invalid);
        assert_eq!(keys.authenticate(Some("Basic abc"), None), Caller::Missing);
        assert_eq!(keys.authenticate(None, None), Caller::Missing);
        assert_eq!(ApiKeys::parse("").unwrap().authenticate(None, None), Caller::Open);
    }

    #[test]
    fn bad_entries_are_named_without_the_hash() {
        let e = ApiKeys::parse("acme:abc").unwrap_err();
        assert!(e.contains("acme") && !e.contains("abc"), "{e}");
        assert!(ApiKeys::parse("no-colon").is_err());
        assert!(ApiKeys::parse(&format!("bad tenant:{}", hash_key("x"))).is_err());
    }

    #[test]
    fn key_hashes_are_64_hex_digits_in_either_case() {
        let h = hash_key("k");
        let upper = ApiKeys::parse(&format!("acme:{}", h.to_uppercase())).unwrap();
        assert_eq!(upper.authenticate(None, Some("k")), Caller::Tenant("acme".into()));
        for bad in [h[..62].to_string(), format!("{h}00"), format!("+{}", &h[1..]), format!("g{}", &h[1..])] {
            assert!(ApiKeys::parse(&format!("acme:{bad}")).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_window_admits_exactly_its_limit_then_slides() {
        // 600/min in bursts of 3: windows of 300 ms.
        let w = RateWindow::new(600, 3);
        assert_eq!(w, RateWindow { length_ms: 300, limit: 3 });
        let now = 3_000; // the start of window 10
        assert_eq!(w.index(now), 10);
        let admitted = (1..=50).filter(|n| w.admit(now, 0, *n).is_admitted()).count();
        assert_eq!(admitted, 3, "of 50 requests at once, exactly the limit");
        assert_eq!(w.admit(now, 0, 4), RateDecision::Refuse { retry_after_secs: 1 });
        // Early in the next window the full previous one still weighs...
        assert!(!w.admit(3_310, 3, 1).is_admitted());
        // ...and less as the window slides on.
        assert!(w.admit(3_500, 3, 1).is_admitted());
        assert!(w.admit(3_500, 50, 2).is_admitted(), "refused requests weigh no more than the limit");
        assert!(!w.admit(3_500, 3, 3).is_admitted());
    }

    #[test]
    fn windows_follow_rate_and_burst() {
        assert_eq!(RateWindow::new(60, 60).length_ms, 60_000);
        assert_eq!(RateWindow::new(10_000_000, 1).length_ms, 1);
        assert_eq!(RateWindow::new(1, 0), RateWindow { length_ms: 60_000, limit: 1 });
    }
}
