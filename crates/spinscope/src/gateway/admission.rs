//! Admission's decisions that need no store: the checks run in this
//! order, and the first that fails answers. The key is checked before the
//! `Origin`, so a caller without a key is refused as such (401, counted by
//! sampling) and cannot make the gateway write anything for it; the
//! store-backed limits (concurrency, then the tenant's rate) come last,
//! since they cost a write each and need the tenant.

use super::error::GatewayError;
use crate::auth::Caller;
use crate::config::Config;

/// One admission check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// The variables parse (503 until fixed).
    Configured,
    /// An API key of a tenant, unless open mode (401).
    Authenticated,
    /// The `Origin`, when sent, is allowed (403).
    OriginAllowed,
    /// At most `max_concurrency` requests in flight (429; store).
    Concurrency,
    /// The tenant's rate window (429; store).
    RateLimit,
}

/// The checks, in the order they run.
pub const ORDER: [Check; 5] =
    [Check::Configured, Check::Authenticated, Check::OriginAllowed, Check::Concurrency, Check::RateLimit];

/// What the request brings to the checks that need no store.
#[derive(Debug, Clone, Copy)]
pub struct Credentials<'a> {
    /// `Authorization`.
    pub authorization: Option<&'a str>,
    /// `X-API-Key`.
    pub api_key: Option<&'a str>,
    /// `Origin`.
    pub origin: Option<&'a str>,
}

/// The configuration's problems: (full account for the log, names only for the answer).
pub type Misconfiguration = (String, String);

/// The checks before the store ([`Check::Configured`],
/// [`Check::Authenticated`], [`Check::OriginAllowed`]): the caller's
/// tenant (`None` in open mode), or the first refusal.
pub fn precheck(
    config: &Config,
    misconfiguration: Option<&Misconfiguration>,
    credentials: Credentials<'_>,
) -> Result<Option<String>, GatewayError> {
    if let Some((detail, public)) = misconfiguration {
        return Err(GatewayError::Misconfigured { public: public.clone(), detail: detail.clone() });
    }
    let caller = config.api_keys.authenticate(credentials.authorization, credentials.api_key);
    if !caller.allowed() {
        return Err(GatewayError::Unauthorized { missing: caller == Caller::Missing });
    }
    if let Some(origin) = credentials.origin.filter(|o| !config.origin_allowed(o)) {
        return Err(GatewayError::OriginRefused { origin: crate::bounded::client_string(origin) });
    }
    Ok(caller.tenant().map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::hash_key;

    fn config(keys: bool) -> Config {
        let hashed = format!("acme:{}", hash_key("sekrit"));
        Config::from_lookup(|k| match k {
            "api_keys" if keys => Some(hashed.clone()),
            "allowed_origins" => Some("https://ok.example".into()),
            _ => None,
        })
        .unwrap()
    }

    const NONE: Credentials<'static> = Credentials { authorization: None, api_key: None, origin: None };

    #[test]
    fn the_order_is_configuration_key_origin_then_the_store_limits() {
        assert_eq!(ORDER.first(), Some(&Check::Configured));
        let key = ORDER.iter().position(|c| *c == Check::Authenticated).unwrap();
        let origin = ORDER.iter().position(|c| *c == Check::OriginAllowed).unwrap();
        assert!(key < origin, "a keyless caller is refused as such, whatever its Origin");
        assert_eq!(&ORDER[3..], [Check::Concurrency, Check::RateLimit]);
    }

    #[test]
    fn misconfiguration_comes_first() {
        let bad = ("api_keys: bad entry 'x'".to_string(), "api_keys".to_string());
        let refused = precheck(&config(true), Some(&bad), Credentials { origin: Some("https://evil"), ..NONE });
        assert!(matches!(refused, Err(GatewayError::Misconfigured { ref public, .. }) if public == "api_keys"));
    }

    #[test]
    fn a_keyless_caller_with_a_bad_origin_is_unauthorized() {
        let refused = precheck(&config(true), None, Credentials { origin: Some("https://evil"), ..NONE });
        assert_eq!(refused, Err(GatewayError::Unauthorized { missing: true }));
        let wrong = Credentials { api_key: Some("nope"), origin: Some("https://evil"), ..NONE };
        assert_eq!(precheck(&config(true), None, wrong), Err(GatewayError::Unauthorized { missing: false }));
    }

    #[test]
    fn an_authenticated_caller_with_a_bad_origin_is_refused_by_origin() {
        let creds = Credentials { api_key: Some("sekrit"), origin: Some("https://evil"), ..NONE };
        let refused = precheck(&config(true), None, creds);
        assert_eq!(refused, Err(GatewayError::OriginRefused { origin: "https://evil".into() }));
        let ok = Credentials { api_key: Some("sekrit"), origin: Some("https://ok.example"), ..NONE };
        assert_eq!(precheck(&config(true), None, ok), Ok(Some("acme".into())));
    }

    #[test]
    fn open_mode_admits_without_a_tenant() {
        assert_eq!(precheck(&config(false), None, NONE), Ok(None));
    }
}
