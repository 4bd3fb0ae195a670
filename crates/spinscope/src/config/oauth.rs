//! The OAuth variables (`oauth_*`, docs/auth.md) and `tool_policy`, parsed
//! into what the gateway checks tokens and tools against. OAuth is on when
//! `oauth_issuer` is set; then `oauth_resource` and one of `oauth_jwks` and
//! `oauth_jwks_url` are required, and a value that does not parse makes the
//! app misconfigured (503 everywhere, readiness failing): it never falls
//! back to open.

use crate::oauth::jwk::Jwks;
use crate::oauth::keys::url_allowed;
use crate::oauth::policy::Policy;

/// Where the issuer's keys come from.
#[derive(Debug, Clone)]
pub enum KeysFrom {
    /// `oauth_jwks`: an inline JWKS document.
    Inline(Jwks),
    /// `oauth_jwks_url`: fetched, and cached in the store for `ttl_ms`
    /// (`oauth_jwks_ttl_ms`; `crate::oauth::keys`).
    Url {
        /// The JWKS URL.
        url: String,
        /// How long a fetched document is used before it is refreshed.
        ttl_ms: u64,
    },
}

/// Bounds of `oauth_jwks_ttl_ms`: a second to a day.
pub const JWKS_TTL_MS: std::ops::RangeInclusive<u64> = 1_000..=86_400_000;

/// A resource server's settings.
#[derive(Debug, Clone)]
pub struct OAuthConfig {
    /// `oauth_issuer`: the `iss` tokens must carry, and the authorization
    /// server the metadata names.
    pub issuer: String,
    /// `oauth_resource`: this MCP endpoint's canonical URI, the audience
    /// tokens must be issued for (RFC 8707).
    pub resource: String,
    /// The issuer's signing keys, inline or from a URL.
    pub keys: KeysFrom,
    /// `oauth_scopes`: the scopes the metadata lists.
    pub scopes_supported: Vec<String>,
    /// `oauth_required_scopes`: scopes every token must carry (403
    /// `insufficient_scope` otherwise).
    pub required_scopes: Vec<String>,
    /// `oauth_tenant_claim`: the claim that names the caller's tenant.
    pub tenant_claim: String,
}

/// The raw values, as the variables give them (see [`OAuthConfig`]).
pub struct Raw<'a> {
    /// `oauth_issuer`.
    pub issuer: &'a str,
    /// `oauth_resource`.
    pub resource: &'a str,
    /// `oauth_jwks`.
    pub jwks: &'a str,
    /// `oauth_jwks_url`.
    pub jwks_url: &'a str,
    /// `oauth_jwks_ttl_ms`.
    pub jwks_ttl_ms: &'a str,
    /// `oauth_scopes`.
    pub scopes: Vec<String>,
    /// `oauth_required_scopes`.
    pub required_scopes: Vec<String>,
    /// `oauth_tenant_claim`.
    pub tenant_claim: &'a str,
}

/// The settings, `None` when OAuth is off; an error names the variable.
pub fn parse(raw: Raw<'_>) -> Result<Option<OAuthConfig>, (&'static str, String)> {
    if raw.issuer.is_empty() {
        return Ok(None);
    }
    let url = |s: &str| s.starts_with("https://") || s.starts_with("http://");
    if !url(raw.issuer) {
        return Err(("oauth_issuer", "must be an http(s) URL".into()));
    }
    if !url(raw.resource) || raw.resource.contains('#') {
        return Err((
            "oauth_resource",
            "must be this MCP endpoint's http(s) URL (no fragment) when oauth_issuer is set".into(),
        ));
    }
    let keys = keys_from(&raw)?;
    if raw.tenant_claim.is_empty() {
        return Err(("oauth_tenant_claim", "must name a claim".into()));
    }
    Ok(Some(OAuthConfig {
        issuer: raw.issuer.to_string(),
        resource: raw.resource.to_string(),
        keys,
        scopes_supported: raw.scopes,
        required_scopes: raw.required_scopes,
        tenant_claim: raw.tenant_claim.to_string(),
    }))
}

/// `oauth_jwks` or `oauth_jwks_url` (exactly one), and the TTL of the latter.
fn keys_from(raw: &Raw<'_>) -> Result<KeysFrom, (&'static str, String)> {
    match (raw.jwks.is_empty(), raw.jwks_url.is_empty()) {
        (false, false) => Err(("oauth_jwks_url", "set oauth_jwks or oauth_jwks_url, not both".into())),
        (true, true) => Err(("oauth_jwks", "oauth_jwks or oauth_jwks_url is required when oauth_issuer is set".into())),
        (false, true) => {
            let keys = Jwks::parse(raw.jwks).map_err(|e| ("oauth_jwks", format!("not a JWKS document: {e}")))?;
            if keys.keys.is_empty() {
                return Err(("oauth_jwks", "holds no RS256, ES256 or EdDSA signing key".into()));
            }
            Ok(KeysFrom::Inline(keys))
        }
        (true, false) => {
            if !url_allowed(raw.jwks_url) {
                let why = "must be an https URL (http only to 127.0.0.1, localhost, [::1] or *.spin.internal)";
                return Err(("oauth_jwks_url", why.into()));
            }
            let ttl_ms = raw.jwks_ttl_ms.trim().parse::<u64>().ok().filter(|t| JWKS_TTL_MS.contains(t));
            let Some(ttl_ms) = ttl_ms else {
                let (lo, hi) = (JWKS_TTL_MS.start(), JWKS_TTL_MS.end());
                return Err(("oauth_jwks_ttl_ms", format!("must be a whole number of ms from {lo} to {hi}")));
            };
            Ok(KeysFrom::Url { url: raw.jwks_url.to_string(), ttl_ms })
        }
    }
}

/// `tool_policy` (see [`Policy::parse`]).
pub fn parse_policy(spec: &str) -> Result<Policy, String> {
    Policy::parse(spec)
}
