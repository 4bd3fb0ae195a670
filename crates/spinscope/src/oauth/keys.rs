//! Where the issuer's signing keys come from: inline (`oauth_jwks`), or
//! fetched from `oauth_jwks_url` and cached in the store, shared by every
//! instance (docs/auth.md#keys-from-a-url). What to do with a cached
//! document at a given time is decided here; the store adapter
//! (`spinscope_spin::oauth_keys`) does the reads, the claims and the fetch.
//!
//! * A cached document younger than the TTL is used as it is.
//! * Older, it is refreshed by one instance per refresh interval (a claim
//!   by `increment`); the others, and that one if the fetch fails, go on
//!   with the stale keys: an issuer that is briefly down does not lock
//!   callers out.
//! * A token whose `kid` no cached key has triggers one refresh, at most
//!   one per interval across instances, so a flood of made-up `kid`s cannot
//!   turn into a flood of fetches.
//! * With nothing cached and no fetch possible, tokens cannot be checked:
//!   503, never admitted.

use super::jwk::Jwks;
use serde::{Deserialize, Serialize};

/// The keys one request validates against, and the one refresh it may ask for.
pub trait KeySource {
    /// The keys as known now.
    fn current(&mut self) -> Result<&Jwks, String>;
    /// Keys fetched afresh because a token named a `kid` none of the
    /// current ones has; `None` when no refresh happened (too soon since
    /// the last, another instance holds the claim, or the fetch failed).
    fn refreshed(&mut self) -> Option<&Jwks>;
}

/// Keys given inline: never refreshed.
pub struct Inline<'a>(pub &'a Jwks);

impl KeySource for Inline<'_> {
    fn current(&mut self) -> Result<&Jwks, String> {
        Ok(self.0)
    }

    fn refreshed(&mut self) -> Option<&Jwks> {
        None
    }
}

/// Longest JWKS document fetched (a few dozen keys).
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024;
/// Longest refresh interval: at most one fetch per interval across
/// instances (shorter when the TTL is).
pub const MAX_REFRESH_INTERVAL_MS: u64 = 30_000;

/// The document as cached in the store (`keys::OAUTH_JWKS`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cached {
    /// Where it was fetched from (a changed `oauth_jwks_url` refetches).
    pub url: String,
    /// When (Unix ms).
    pub fetched_ms: u64,
    /// The JWKS document, as served.
    pub document: String,
}

/// What a request does with the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Use it.
    Fresh,
    /// Use it, and refresh it if this instance wins the interval's claim.
    Stale,
    /// Nothing usable: fetch (or wait for the instance that does).
    Missing,
}

/// The refresh interval for a TTL: one fetch per interval across instances.
pub fn refresh_interval_ms(ttl_ms: u64) -> u64 {
    ttl_ms.clamp(1, MAX_REFRESH_INTERVAL_MS)
}

/// How usable `cached` is for `url` at `now_ms`.
pub fn freshness(cached: Option<&Cached>, url: &str, ttl_ms: u64, now_ms: u64) -> Freshness {
    match cached {
        Some(c) if c.url != url => Freshness::Missing,
        Some(c) if now_ms.saturating_sub(c.fetched_ms) < ttl_ms => Freshness::Fresh,
        Some(_) => Freshness::Stale,
        None => Freshness::Missing,
    }
}

/// Whether a token with an unknown `kid` may refresh a document fetched
/// at `fetched_ms`: not within the interval of that fetch.
pub fn may_refresh_for_unknown_kid(fetched_ms: u64, ttl_ms: u64, now_ms: u64) -> bool {
    now_ms.saturating_sub(fetched_ms) >= refresh_interval_ms(ttl_ms)
}

/// The claim window of a refresh at `now_ms`: one claimant per window.
pub fn refresh_window(ttl_ms: u64, now_ms: u64) -> u64 {
    now_ms / refresh_interval_ms(ttl_ms)
}

/// A fetched document, accepted only if it is a JWKS with at least one
/// usable signing key (else the cached one stays).
pub fn accept(status: u16, body: &[u8], truncated: bool) -> Result<Jwks, String> {
    if status != 200 {
        return Err(format!("the JWKS URL answered {status}"));
    }
    if truncated {
        return Err(format!("the JWKS document is over {MAX_DOCUMENT_BYTES} bytes"));
    }
    let text = std::str::from_utf8(body).map_err(|_| "the JWKS document is not UTF-8".to_string())?;
    let jwks = Jwks::parse(text).map_err(|e| format!("not a JWKS document: {e}"))?;
    if jwks.keys.is_empty() {
        return Err("the JWKS document holds no RS256, ES256 or EdDSA signing key".into());
    }
    Ok(jwks)
}

/// Whether `url` may serve keys: `https`, or `http` to this machine or a
/// component of the app (`*.spin.internal`), where no network is crossed.
pub fn url_allowed(url: &str) -> bool {
    if url.starts_with("https://") {
        return url.len() > "https://".len();
    }
    let Some(rest) = url.strip_prefix("http://") else { return false };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().map(|h| format!("[{h}]")).unwrap_or_default(),
        None => authority.split(':').next().unwrap_or("").to_ascii_lowercase(),
    };
    matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]") || host.ends_with(".spin.internal")
}
