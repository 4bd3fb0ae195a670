//! Access tokens as JWTs (RFC 9068 profile): the signature by one of the
//! issuer's keys (RS256, ES256 or EdDSA only: never `none`, never an HMAC
//! whose secret could be the public key), then the claims: `iss`, `aud`
//! (this resource, RFC 8707), `exp` and `nbf` with a small leeway, and the
//! scopes (`scope` string or `scp` array).

use super::jwk::{Jwks, PublicKey};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};

/// How far `exp` and `nbf` may be off (clocks differ), in seconds.
pub const LEEWAY_SECS: u64 = 60;

/// The longest token read, in bytes (a bound on work before any check).
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// What a token must say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected<'a> {
    /// `iss`.
    pub issuer: &'a str,
    /// One of `aud`: this resource's canonical URI.
    pub audience: &'a str,
}

/// A token that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// Its claims.
    pub claims: Map<String, Value>,
    /// Its scopes.
    pub scopes: Vec<String>,
}

impl Token {
    /// A string claim (`sub`, `azp`, an organisation claim).
    pub fn claim(&self, name: &str) -> Option<&str> {
        self.claims.get(name)?.as_str()
    }
}

/// Why a token was refused; each is a 401 (the `Display` is for the log,
/// never quoting the token).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not three base64url parts with JSON header and claims, or too long.
    #[error("the token is not a JWT")]
    Malformed,
    /// `none`, an HMAC, or any algorithm but RS256, ES256 and EdDSA.
    #[error("the token's algorithm {0:?} is not accepted")]
    Algorithm(String),
    /// No key of the issuer for its `kid` and algorithm.
    #[error("no key of the issuer matches the token (kid {0:?})")]
    UnknownKey(Option<String>),
    /// The signature does not verify.
    #[error("the token's signature does not verify")]
    Signature,
    /// `iss` is not the issuer.
    #[error("the token was issued by another issuer")]
    Issuer,
    /// `aud` does not name this resource.
    #[error("the token is not for this resource (audience)")]
    Audience,
    /// `exp` is past (or missing).
    #[error("the token has expired")]
    Expired,
    /// `nbf` is ahead.
    #[error("the token is not valid yet")]
    NotYetValid,
}

fn part(text: &str) -> Result<Vec<u8>, TokenError> {
    URL_SAFE_NO_PAD.decode(text).map_err(|_| TokenError::Malformed)
}

fn object(bytes: &[u8]) -> Result<Map<String, Value>, TokenError> {
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(TokenError::Malformed),
    }
}

/// The header's `kid`, if the token is a JWT at all (to tell an unknown
/// key, which may call for a JWKS refresh, from a malformed token).
pub fn kid_of(token: &str) -> Option<String> {
    let header = object(&part(token.split('.').next()?).ok()?).ok()?;
    header.get("kid")?.as_str().map(str::to_string)
}

/// Checks `token` against `keys` and `expected` at `now_s` (unix seconds).
pub fn validate(token: &str, keys: &Jwks, expected: &Expected, now_s: u64) -> Result<Token, TokenError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(TokenError::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(TokenError::Malformed);
    };
    let header = object(&part(h)?)?;
    let signature = part(s)?;
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
    if !matches!(alg, "RS256" | "ES256" | "EdDSA") {
        return Err(TokenError::Algorithm(alg.chars().take(16).collect()));
    }
    let kid = header.get("kid").and_then(Value::as_str);
    let key = keys.find(kid, alg).ok_or_else(|| TokenError::UnknownKey(kid.map(|k| k.chars().take(64).collect())))?;
    let signed = &token[..h.len() + 1 + c.len()];
    if !verifies(key, signed.as_bytes(), &signature) {
        return Err(TokenError::Signature);
    }
    let claims = object(&part(c)?)?;
    check_claims(&claims, expected, now_s)?;
    let scopes = scopes(&claims);
    Ok(Token { claims, scopes })
}

/// Whether `signature` is `key`'s over `signed` (the key fixes the algorithm).
fn verifies(key: &PublicKey, signed: &[u8], signature: &[u8]) -> bool {
    use rsa::signature::Verifier;
    match key {
        PublicKey::Rsa(key) => super::rs256::verify(key, signed, signature),
        PublicKey::P256(key) => {
            // JWS carries ES256 as the raw 64 bytes r ‖ s.
            p256::ecdsa::Signature::from_slice(signature).is_ok_and(|s| key.verify(signed, &s).is_ok())
        }
        PublicKey::Ed25519(key) => {
            ed25519_dalek::Signature::from_slice(signature).is_ok_and(|s| key.verify_strict(signed, &s).is_ok())
        }
    }
}

fn check_claims(claims: &Map<String, Value>, expected: &Expected, now_s: u64) -> Result<(), TokenError> {
    if claims.get("iss").and_then(Value::as_str) != Some(expected.issuer) {
        return Err(TokenError::Issuer);
    }
    let for_us = match claims.get("aud") {
        Some(Value::String(aud)) => aud == expected.audience,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(expected.audience)),
        _ => false,
    };
    if !for_us {
        return Err(TokenError::Audience);
    }
    let time = |name: &str| claims.get(name).and_then(Value::as_u64);
    match time("exp") {
        Some(exp) if exp + LEEWAY_SECS > now_s => {}
        _ => return Err(TokenError::Expired),
    }
    if time("nbf").is_some_and(|nbf| nbf > now_s + LEEWAY_SECS) {
        return Err(TokenError::NotYetValid);
    }
    Ok(())
}

/// The scopes: `scope` (space-separated, RFC 8693/9068) or `scp` (an
/// array, or a string, as some servers write it).
fn scopes(claims: &Map<String, Value>) -> Vec<String> {
    let words = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    match (claims.get("scope"), claims.get("scp")) {
        (Some(Value::String(s)), _) => words(s),
        (_, Some(Value::Array(a))) => a.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        (_, Some(Value::String(s))) => words(s),
        _ => Vec::new(),
    }
}
