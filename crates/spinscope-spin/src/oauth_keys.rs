//! The issuer's keys for one request (`spinscope::oauth::keys` decides):
//! inline, or fetched from `oauth_jwks_url` and cached in the default
//! store (`keys::OAUTH_JWKS`) for every instance. A refresh is claimed per
//! interval with `increment` (`keys::oauth_jwks_refresh`), so however many
//! instances see a stale document or an unknown `kid` at once, one fetches.
//! A healthy app's requests only read the cache.

use crate::kv::Store;
use crate::outbound::{self, Outgoing};
use spinscope::config::oauth::KeysFrom;
use spinscope::config::Config;
use spinscope::keys;
use spinscope::log::LogFormat;
use spinscope::oauth::jwk::Jwks;
use spinscope::oauth::keys::{self as decide, Cached, Freshness, Inline, KeySource};
use std::time::Duration;

/// How long a fetch may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(3);
/// How long an instance without keys waits for another's fetch.
const WAIT_FOR_FETCH: Duration = Duration::from_secs(3);

/// The key source `config` names (inline keys when OAuth is off: never asked).
pub fn source(config: &Config) -> Box<dyn KeySource + '_> {
    static NONE: std::sync::OnceLock<Jwks> = std::sync::OnceLock::new();
    match config.oauth.as_ref().map(|o| &o.keys) {
        Some(KeysFrom::Inline(jwks)) => Box::new(Inline(jwks)),
        Some(KeysFrom::Url { url, ttl_ms }) => {
            Box::new(Fetched { url, ttl_ms: *ttl_ms, log_format: config.log_format, cached: None, jwks: None })
        }
        None => Box::new(Inline(NONE.get_or_init(Jwks::default))),
    }
}

/// Keys from a URL, through the store's cache.
struct Fetched<'a> {
    url: &'a str,
    ttl_ms: u64,
    log_format: LogFormat,
    /// The cache entry this request uses, once read.
    cached: Option<Cached>,
    jwks: Option<Jwks>,
}

impl KeySource for Fetched<'_> {
    fn current(&mut self) -> Result<&Jwks, String> {
        if self.jwks.is_none() {
            let store = Store::open_default().map_err(|e| format!("store: {e}"))?;
            self.load(&store)?;
        }
        Ok(self.jwks.as_ref().expect("loaded"))
    }

    fn refreshed(&mut self) -> Option<&Jwks> {
        let now = crate::time::now_unix_ms();
        let fetched_ms = self.cached.as_ref().map_or(0, |c| c.fetched_ms);
        if !decide::may_refresh_for_unknown_kid(fetched_ms, self.ttl_ms, now) {
            return None;
        }
        let store = Store::open_default().ok()?;
        // Another instance holding this interval's claim is fetching: its
        // keys are what this token needs too.
        match self.refresh(&store, now) || self.wait_for_another(&store, now, fetched_ms) {
            true => self.jwks.as_ref(),
            false => None,
        }
    }
}

impl Fetched<'_> {
    /// The cache, refreshed if stale (by this instance if it wins the
    /// claim), fetched or waited for if missing.
    fn load(&mut self, store: &Store) -> Result<(), String> {
        let now = crate::time::now_unix_ms();
        self.use_cached(store);
        match decide::freshness(self.cached.as_ref(), self.url, self.ttl_ms, now) {
            Freshness::Fresh => {}
            // Stale keys still serve if the refresh fails or is another's.
            Freshness::Stale => {
                self.refresh(store, now);
            }
            Freshness::Missing => {
                if !self.refresh(store, now) {
                    self.wait_for_another(store, now, 0);
                }
            }
        }
        match (&self.jwks, decide::freshness(self.cached.as_ref(), self.url, self.ttl_ms, now)) {
            (Some(_), Freshness::Fresh | Freshness::Stale) => Ok(()),
            _ => Err(format!("no keys from {} yet (fetch failed or in progress elsewhere)", self.url)),
        }
    }

    /// Reads the cache entry and parses its keys.
    fn use_cached(&mut self, store: &Store) {
        let entry = store.get(keys::OAUTH_JWKS).ok().flatten().and_then(|b| serde_json::from_slice::<Cached>(&b).ok());
        if let Some(entry) = entry.filter(|c| c.url == self.url) {
            if let Ok(jwks) = decide::accept(200, entry.document.as_bytes(), false) {
                self.jwks = Some(jwks);
                self.cached = Some(entry);
            }
        }
    }

    /// Fetches and caches the document if this instance wins this
    /// interval's claim; `true` when it now holds freshly fetched keys.
    fn refresh(&mut self, store: &Store, now: u64) -> bool {
        let window = decide::refresh_window(self.ttl_ms, now);
        match store.claim(&keys::oauth_jwks_refresh(window)) {
            Ok(true) => {}
            Ok(false) => return false,
            Err(e) => {
                crate::diag::warn(self.log_format, "OAuth keys not refreshed", &format!("claim: {e}"));
                return false;
            }
        }
        // The claim of the window before is no longer needed: one key stays.
        let _ = store.delete(&keys::oauth_jwks_refresh(window.wrapping_sub(1)));
        let fetched = outbound::send(Outgoing::get(self.url), FETCH_TIMEOUT, decide::MAX_DOCUMENT_BYTES)
            .map_err(|e| format!("GET {}: {e}", self.url))
            .and_then(|r| decide::accept(r.status, &r.body, r.truncated).map(|jwks| (jwks, r.body)));
        let (jwks, body) = match fetched {
            Ok(fetched) => fetched,
            Err(e) => {
                crate::diag::warn(self.log_format, "OAuth keys not refreshed", &e);
                return false;
            }
        };
        let entry = Cached {
            url: self.url.to_string(),
            fetched_ms: now,
            document: String::from_utf8_lossy(&body).into_owned(),
        };
        if let Err(e) = store.set(keys::OAUTH_JWKS, &serde_json::to_vec(&entry).expect("an entry serializes")) {
            crate::diag::warn(self.log_format, "OAuth keys fetched but not cached", &e.to_string());
        }
        self.jwks = Some(jwks);
        self.cached = Some(entry);
        true
    }

    /// Waits (a few seconds at most) for the instance that holds the claim
    /// to cache keys fetched after `after_ms`; `true` when it did.
    fn wait_for_another(&mut self, store: &Store, since: u64, after_ms: u64) -> bool {
        while crate::time::now_unix_ms() < since + WAIT_FOR_FETCH.as_millis() as u64 {
            crate::time::sleep(Duration::from_millis(100));
            self.use_cached(store);
            if self.cached.as_ref().is_some_and(|c| c.fetched_ms > after_ms) {
                return true;
            }
        }
        false
    }
}
