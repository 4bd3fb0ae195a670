//! Who is calling: an OAuth access token (when `oauth_issuer` is set) or an
//! API key, checked in [`super::admission::ORDER`]'s `Authenticated` step,
//! and what the tool policy knows of the caller (its tenant, its token's
//! scopes, its key's roles).

use super::admission::{precheck_with_role, Credentials, Misconfiguration};
use super::error::GatewayError;
use crate::config::Config;
use crate::oauth::jwt::{self, Expected, TokenError};
use crate::oauth::keys::KeySource;
use crate::oauth::metadata::challenge;
use crate::oauth::policy;

/// A caller let in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Admitted {
    /// Its tenant (`None` in open mode).
    pub tenant: Option<String>,
    /// What the tool policy decides by.
    pub caller: policy::Caller,
    /// It presented an access token (not an API key).
    pub by_token: bool,
}

/// The bearer credential of `Authorization`, if that is how it is sent.
fn bearer(authorization: Option<&str>) -> Option<&str> {
    let (scheme, rest) = authorization?.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
}

/// Whether a bearer credential is shaped like a JWT (an API key never is:
/// it has no dots).
fn is_jwt(credential: &str) -> bool {
    credential.bytes().filter(|b| *b == b'.').count() == 2
}

/// The caller of a request at `now_s`: configuration first (503), then an
/// access token when OAuth is on and the bearer credential is a JWT (401
/// when it does not validate, 403 when it lacks a required scope), else an
/// API key as [`precheck_with_role`] checks it (with OAuth on and no API keys, a
/// request without a token is refused, pointing to the metadata); the
/// `Origin` after either. A token is checked against `keys`, refreshed
/// once when it names a `kid` they do not have (503 when there are none).
pub fn identify(
    config: &Config,
    misconfiguration: Option<&Misconfiguration>,
    credentials: Credentials<'_>,
    keys: &mut dyn KeySource,
    now_s: u64,
) -> Result<Admitted, GatewayError> {
    let Some(oauth) = config.oauth.as_ref().filter(|_| misconfiguration.is_none()) else {
        return by_key(config, misconfiguration, credentials);
    };
    let refuse = |reason: String, presented: bool| {
        let scope = (!oauth.required_scopes.is_empty()).then(|| oauth.required_scopes.join(" "));
        let error = presented.then_some("invalid_token");
        GatewayError::TokenRefused { reason, challenge: challenge(&oauth.resource, error, scope.as_deref()), presented }
    };
    let Some(token) = bearer(credentials.authorization).filter(|t| is_jwt(t)) else {
        // No token: an API key may still do, when keys are configured.
        if config.api_keys.is_open() {
            let presented = credentials.authorization.is_some() || credentials.api_key.is_some();
            return Err(refuse("no access token".into(), presented));
        }
        return by_key(config, misconfiguration, credentials).map_err(|e| match e {
            GatewayError::Unauthorized { missing } => refuse("no valid access token or API key".into(), !missing),
            other => other,
        });
    };
    let expected = Expected { issuer: &oauth.issuer, audience: &oauth.resource };
    let current = keys.current().map_err(|cause| GatewayError::KeysUnavailable { cause })?;
    let checked = match jwt::validate(token, current, &expected, now_s) {
        Err(unknown @ TokenError::UnknownKey(_)) => match keys.refreshed() {
            Some(fresh) => jwt::validate(token, fresh, &expected, now_s),
            None => Err(unknown),
        },
        checked => checked,
    }
    .map_err(|e| refuse(e.to_string(), true))?;
    let missing: Vec<&str> =
        oauth.required_scopes.iter().filter(|s| !checked.scopes.contains(s)).map(String::as_str).collect();
    if !missing.is_empty() {
        let scope = oauth.required_scopes.join(" ");
        let header = challenge(&oauth.resource, Some("insufficient_scope"), Some(&scope));
        return Err(GatewayError::InsufficientScope { scope: missing.join(" "), challenge: header });
    }
    if let Some(origin) = credentials.origin.filter(|o| !config.origin_allowed(o)) {
        return Err(GatewayError::OriginRefused { origin: crate::bounded::client_string(origin) });
    }
    // A caller without a tenant would share every scope a tenant bounds
    // (rate, sessions, the audit trail it may read): refused.
    let Some(tenant) = checked.claim(&oauth.tenant_claim).filter(|t| !t.is_empty()) else {
        return Err(refuse(format!("the token has no `{}` claim", oauth.tenant_claim), true));
    };
    let tenant = Some(crate::bounded::client_string(tenant));
    let caller = policy::Caller { tenant: tenant.clone(), scopes: checked.scopes, roles: Vec::new() };
    Ok(Admitted { tenant, caller, by_token: true })
}

/// The API-key path ([`precheck_with_role`]), with the key's roles.
fn by_key(
    config: &Config,
    misconfiguration: Option<&Misconfiguration>,
    credentials: Credentials<'_>,
) -> Result<Admitted, GatewayError> {
    let (tenant, admin) = precheck_with_role(config, misconfiguration, credentials)?;
    let roles = if admin { vec!["admin".to_string()] } else { Vec::new() };
    let caller = policy::Caller { tenant: tenant.clone(), scopes: Vec::new(), roles };
    Ok(Admitted { tenant, caller, by_token: false })
}

/// The answer to a `tools/call` the tool policy refused (docs/auth.md):
/// as if the tool did not exist (-32602 `Unknown tool`, so the policy does
/// not tell which tools exist), except that a token caller whom a scope
/// would grant the tool gets 403 `insufficient_scope` with that scope, so
/// the client can step up. `resource` is `oauth_resource` when OAuth is on.
pub fn refusal(tool: &str, decision: &policy::Decision, by_token: bool, resource: Option<&str>) -> GatewayError {
    match resource.filter(|_| by_token && !decision.scopes_that_grant.is_empty()) {
        Some(resource) => {
            let scope = decision.scopes_that_grant.join(" ");
            let header = challenge(resource, Some("insufficient_scope"), Some(&scope));
            GatewayError::InsufficientScope { scope, challenge: header }
        }
        None => GatewayError::UnknownTool { name: tool.to_string() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::policy::Decision;

    #[test]
    fn a_refusal_asks_for_a_granting_scope_only_from_a_token_caller() {
        let by_scope = Decision { allowed: false, rule: None, scopes_that_grant: vec!["hash".into()] };
        let none = Decision { allowed: false, rule: None, scopes_that_grant: Vec::new() };
        let resource = Some("https://mcp.test/mcp");
        match refusal("sha256", &by_scope, true, resource) {
            GatewayError::InsufficientScope { scope, challenge } => {
                assert_eq!(scope, "hash");
                assert!(challenge.contains("error=\"insufficient_scope\", scope=\"hash\""), "{challenge}");
            }
            other => panic!("{other:?}"),
        }
        let unknown = GatewayError::UnknownTool { name: "sha256".into() };
        assert_eq!(refusal("sha256", &by_scope, false, resource), unknown, "an API key cannot step up");
        assert_eq!(refusal("sha256", &none, true, resource), unknown, "no scope would grant it");
        assert_eq!(refusal("sha256", &by_scope, true, None), unknown, "OAuth off");
    }
}
