//! The OAuth variables (`oauth_*`, docs/auth.md) and `tool_policy`, parsed
//! into what the gateway checks tokens and tools against. OAuth is on when
//! `oauth_issuer` is set; then `oauth_resource` and `oauth_jwks` are
//! required, and a value that does not parse makes the app misconfigured
//! (503 everywhere, readiness failing): it never falls back to open.

use crate::oauth::jwk::Jwks;
use crate::oauth::policy::Policy;

/// A resource server's settings.
#[derive(Debug, Clone)]
pub struct OAuthConfig {
    /// `oauth_issuer`: the `iss` tokens must carry, and the authorization
    /// server the metadata names.
    pub issuer: String,
    /// `oauth_resource`: this MCP endpoint's canonical URI, the audience
    /// tokens must be issued for (RFC 8707).
    pub resource: String,
    /// `oauth_jwks`: the issuer's signing keys (an inline JWKS document).
    pub keys: Jwks,
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
    let keys = Jwks::parse(raw.jwks).map_err(|e| ("oauth_jwks", format!("not a JWKS document: {e}")))?;
    if keys.keys.is_empty() {
        return Err(("oauth_jwks", "holds no RS256, ES256 or EdDSA signing key".into()));
    }
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

/// `tool_policy` (see [`Policy::parse`]).
pub fn parse_policy(spec: &str) -> Result<Policy, String> {
    Policy::parse(spec)
}
