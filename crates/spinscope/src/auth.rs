//! API keys, tenants and the per-tenant rate limit (the wasmrun agent
//! server's rules).
//!
//! Keys are configured as `tenant:sha256-of-key` entries in the secret
//! variable `api_keys`, so no plain key sits in a manifest or environment.
//! With no entries the app runs in open mode.

use sha2::{Digest, Sha256};

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    tenant: String,
    hash: [u8; 32],
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
    Tenant(String),
    /// Auth mode, and no key was presented.
    Missing,
    /// Auth mode, and the key matches no entry.
    Invalid,
}

impl Caller {
    pub fn tenant(&self) -> Option<&str> {
        match self {
            Caller::Tenant(t) => Some(t),
            _ => None,
        }
    }

    pub fn allowed(&self) -> bool {
        matches!(self, Caller::Open | Caller::Tenant(_))
    }
}

fn is_tenant(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

fn unhex(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// The SHA-256 of a key, lowercase hex: what goes into `api_keys`.
pub fn hash_key(key: &str) -> String {
    crate::trace::hex(&Sha256::digest(key.as_bytes()))
}

/// Equal in time independent of where the first difference is.
fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl ApiKeys {
    /// Parses `tenant:sha256hex,tenant2:sha256hex`. The error never quotes
    /// the hash.
    pub fn parse(spec: &str) -> Result<ApiKeys, String> {
        let mut entries = Vec::new();
        for (n, item) in spec.split(',').map(str::trim).filter(|s| !s.is_empty()).enumerate() {
            let (tenant, hash) = item.split_once(':').ok_or(format!("entry {} is not tenant:sha256-hex", n + 1))?;
            if !is_tenant(tenant) {
                return Err(format!("entry {}: tenant must be 1-64 characters of [A-Za-z0-9._-]", n + 1));
            }
            let hash = unhex(&hash.to_ascii_lowercase())
                .ok_or(format!("entry {} (tenant {tenant}): the key hash must be 64 hex characters (sha256)", n + 1))?;
            entries.push(Entry { tenant: tenant.to_string(), hash });
        }
        Ok(ApiKeys { entries })
    }

    pub fn is_open(&self) -> bool {
        self.entries.is_empty()
    }

    /// Identifies the caller from `Authorization: Bearer <key>` or `X-API-Key`.
    pub fn authenticate(&self, authorization: Option<&str>, x_api_key: Option<&str>) -> Caller {
        if self.is_open() {
            return Caller::Open;
        }
        let bearer = authorization.and_then(|h| {
            let (scheme, rest) = h.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        });
        let Some(key) = bearer.or(x_api_key.map(str::trim)).filter(|k| !k.is_empty()) else {
            return Caller::Missing;
        };
        let presented: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        // Every entry is compared, so timing does not tell which one matched.
        let mut found = None;
        for entry in &self.entries {
            if constant_time_eq(&entry.hash, &presented) && found.is_none() {
                found = Some(entry.tenant.clone());
            }
        }
        found.map(Caller::Tenant).unwrap_or(Caller::Invalid)
    }
}

/// A token bucket kept in the store per tenant: `capacity` tokens, refilled
/// at `per_minute / 60` tokens a second.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TokenBucket {
    pub tokens: f64,
    pub updated_ms: u64,
}

impl TokenBucket {
    /// Takes one token at `now_ms`; on refusal, the seconds until one is due.
    pub fn take(current: Option<TokenBucket>, now_ms: u64, per_minute: u32, capacity: u32) -> Result<TokenBucket, u64> {
        let capacity = capacity.max(1) as f64;
        let rate_per_ms = per_minute as f64 / 60_000.0;
        let bucket = current.unwrap_or(TokenBucket { tokens: capacity, updated_ms: now_ms });
        let elapsed = now_ms.saturating_sub(bucket.updated_ms) as f64;
        let tokens = (bucket.tokens + elapsed * rate_per_ms).min(capacity);
        if tokens >= 1.0 {
            Ok(TokenBucket { tokens: tokens - 1.0, updated_ms: now_ms })
        } else {
            let wait_ms = if rate_per_ms > 0.0 { (1.0 - tokens) / rate_per_ms } else { 60_000.0 };
            Err(((wait_ms / 1000.0).ceil() as u64).max(1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn token_bucket_refuses_then_refills() {
        let mut b = None;
        for _ in 0..3 {
            b = Some(TokenBucket::take(b, 1000, 600, 3).unwrap());
        }
        assert_eq!(TokenBucket::take(b, 1000, 600, 3), Err(1));
        // 600/min = 10/s: 100 ms later one token is back.
        assert!(TokenBucket::take(b, 1100, 600, 3).is_ok());
    }
}
