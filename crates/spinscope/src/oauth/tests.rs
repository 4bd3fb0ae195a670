//! Tokens signed here with keys made per run, checked by the code the
//! gateway runs.

use super::jwk::Jwks;
use super::jwt::{kid_of, validate, Expected, TokenError};
use super::metadata::{challenge, document, metadata_url};
use super::policy::{matches, Caller, Policy};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

const ISS: &str = "https://auth.example.com";
const AUD: &str = "https://mcp.example.com/mcp";
const NOW: u64 = 1_800_000_000;

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

type Keys = spinscope_testkit::issuer::Issuer;

fn claims() -> Value {
    json!({"iss": ISS, "aud": AUD, "sub": "user-1", "exp": NOW + 300, "nbf": NOW - 10, "scope": "tools.read tools.write"})
}

fn expected() -> Expected<'static> {
    Expected { issuer: ISS, audience: AUD }
}

#[test]
fn tokens_of_each_algorithm_validate_with_their_scopes() {
    let keys = Keys::new();
    let jwks = Jwks::parse(&keys.jwks().to_string()).unwrap();
    assert_eq!(jwks.keys.len(), 3, "the encryption and HMAC entries are skipped");
    for (alg, kid) in [("RS256", "r1"), ("ES256", "e1"), ("EdDSA", "d1")] {
        let token = keys.sign(alg, Some(kid), &claims());
        let checked = validate(&token, &jwks, &expected(), NOW).unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(checked.scopes, ["tools.read", "tools.write"]);
        assert_eq!(checked.claim("sub"), Some("user-1"));
        assert_eq!(kid_of(&token).as_deref(), Some(kid));
    }
    // Without a kid, the one key of its algorithm; `scp` as an array; `aud` as an array.
    let mut c = claims();
    c["aud"] = json!(["other", AUD]);
    c.as_object_mut().unwrap().remove("scope");
    c["scp"] = json!(["a", "b"]);
    let token = keys.sign("ES256", None, &c);
    assert_eq!(validate(&token, &jwks, &expected(), NOW).unwrap().scopes, ["a", "b"]);
}

#[test]
fn every_bad_token_is_refused_for_its_reason() {
    let keys = Keys::new();
    let other = Keys::new();
    let jwks = Jwks::parse(&keys.jwks().to_string()).unwrap();
    let check = |token: &str| validate(token, &jwks, &expected(), NOW).unwrap_err();
    let with = |k: &str, v: Value| {
        let mut c = claims();
        c[k] = v;
        c
    };
    assert_eq!(check(&keys.sign("RS256", Some("r1"), &with("exp", json!(NOW - 61)))), TokenError::Expired);
    assert!(
        validate(&keys.sign("RS256", Some("r1"), &with("exp", json!(NOW - 59))), &jwks, &expected(), NOW).is_ok(),
        "leeway"
    );
    assert_eq!(check(&keys.sign("RS256", Some("r1"), &with("nbf", json!(NOW + 120)))), TokenError::NotYetValid);
    assert_eq!(
        check(&keys.sign("RS256", Some("r1"), &with("aud", json!("https://elsewhere/mcp")))),
        TokenError::Audience
    );
    assert_eq!(check(&keys.sign("RS256", Some("r1"), &with("iss", json!("https://evil")))), TokenError::Issuer);
    let mut no_exp = claims();
    no_exp.as_object_mut().unwrap().remove("exp");
    assert_eq!(check(&keys.sign("RS256", Some("r1"), &no_exp)), TokenError::Expired);
    // Signed by another key with a known kid: the signature fails.
    assert_eq!(check(&other.sign("RS256", Some("r1"), &claims())), TokenError::Signature);
    assert_eq!(check(&other.sign("EdDSA", Some("d1"), &claims())), TokenError::Signature);
    // An unknown kid; a kid of another algorithm's key (no key confusion).
    assert_eq!(check(&keys.sign("RS256", Some("r9"), &claims())), TokenError::UnknownKey(Some("r9".into())));
    assert_eq!(check(&keys.sign("ES256", Some("r1"), &claims())), TokenError::UnknownKey(Some("r1".into())));
    // `none`, and HS256 "signed" with the public key as the secret.
    let none = Keys::unsigned(&claims());
    assert_eq!(check(&none), TokenError::Algorithm("none".into()));
    assert_eq!(check(&keys.sign("HS256", Some("r1"), &claims())), TokenError::Algorithm("HS256".into()));
    // A tampered payload.
    let token = keys.sign("ES256", Some("e1"), &claims());
    let mut parts: Vec<&str> = token.split('.').collect();
    let forged = b64(with("sub", json!("admin")).to_string().as_bytes());
    parts[1] = &forged;
    assert_eq!(check(&parts.join(".")), TokenError::Signature);
    for junk in ["", "a.b", "a.b.c.d", "!!.!!.!!", &"x".repeat(20_000)] {
        assert_eq!(check(junk), TokenError::Malformed, "{junk:.20}");
    }
}

#[test]
fn the_metadata_and_its_challenge() {
    assert_eq!(metadata_url(AUD), "https://mcp.example.com/.well-known/oauth-protected-resource/mcp");
    assert_eq!(metadata_url("https://mcp.example.com"), "https://mcp.example.com/.well-known/oauth-protected-resource");
    let doc = document(AUD, &[ISS.to_string()], &["tools.read".to_string()]);
    assert_eq!(doc["resource"], AUD);
    assert_eq!(doc["authorization_servers"], json!([ISS]));
    assert_eq!(doc["scopes_supported"], json!(["tools.read"]));
    assert_eq!(
        challenge(AUD, Some("insufficient_scope"), Some("tools.write \"x\"")),
        "Bearer resource_metadata=\"https://mcp.example.com/.well-known/oauth-protected-resource/mcp\", \
         error=\"insufficient_scope\", scope=\"tools.write x\""
    );
}

#[test]
fn the_policy_grants_by_scope_tenant_role_and_fails_closed() {
    let policy =
        Policy::parse("word_count, sha256 = scope:tools.read, tenant:acme; delete_* = role:admin; ping* = *").unwrap();
    let reader = Caller { scopes: vec!["tools.read".into()], ..Caller::default() };
    let acme = Caller { tenant: Some("acme".into()), ..Caller::default() };
    let admin = Caller { roles: vec!["admin".into()], ..Caller::default() };
    let nobody = Caller::default();
    assert!(policy.decide(&reader, "word_count").allowed);
    assert_eq!(policy.decide(&acme, "sha256").rule, Some(1));
    assert!(!policy.decide(&reader, "delete_records").allowed);
    assert!(policy.decide(&admin, "delete_records").allowed);
    assert!(policy.decide(&nobody, "ping_tool").allowed);
    let denied = policy.decide(&nobody, "word_count");
    assert_eq!((denied.allowed, denied.scopes_that_grant.as_slice()), (false, &["tools.read".to_string()][..]));
    assert!(!policy.decide(&admin, "calculate").allowed, "a tool no rule names is nobody's");
    assert!(Policy::default().decide(&nobody, "anything").allowed, "no policy, no restriction");
    for bad in ["word_count", "= scope:x", "a = ", "a = friend:bob", "a = scope:"] {
        assert!(Policy::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn globs() {
    for (glob, name, ok) in [
        ("*", "x", true),
        ("delete_*", "delete_records", true),
        ("delete_*", "undelete_x", false),
        ("*_records", "delete_records", true),
        ("a*b*c", "aXXbYYc", true),
        ("a*b*c", "aXXcYYb", false),
        ("exact", "exact", true),
        ("exact", "exactly", false),
    ] {
        assert_eq!(matches(glob, name), ok, "{glob} {name}");
    }
}

mod keys_from_a_url {
    use crate::oauth::keys::*;

    fn cached(url: &str, fetched_ms: u64) -> Cached {
        Cached { url: url.into(), fetched_ms, document: "{}".into() }
    }

    #[test]
    fn a_cached_document_is_fresh_for_its_ttl_then_stale_and_another_url_is_missing() {
        let url = "https://auth.test/jwks";
        let c = cached(url, 1_000);
        assert_eq!(freshness(None, url, 600_000, 5_000), Freshness::Missing);
        assert_eq!(freshness(Some(&c), url, 600_000, 600_999), Freshness::Fresh);
        assert_eq!(freshness(Some(&c), url, 600_000, 601_000), Freshness::Stale);
        assert_eq!(freshness(Some(&c), "https://other.test/jwks", 600_000, 2_000), Freshness::Missing);
        // A clock that went back is not an age.
        assert_eq!(freshness(Some(&c), url, 600_000, 0), Freshness::Fresh);
    }

    #[test]
    fn an_unknown_kid_refreshes_at_most_once_per_interval() {
        assert_eq!(refresh_interval_ms(600_000), 30_000);
        assert_eq!(refresh_interval_ms(2_000), 2_000, "a short TTL shortens the interval");
        assert_eq!(refresh_interval_ms(0), 1);
        assert!(!may_refresh_for_unknown_kid(100_000, 600_000, 129_999));
        assert!(may_refresh_for_unknown_kid(100_000, 600_000, 130_000));
        // One claim window per interval: every instance computes the same.
        assert_eq!(refresh_window(600_000, 59_999), 1);
        assert_eq!(refresh_window(600_000, 60_000), 2);
    }

    #[test]
    fn a_fetched_document_is_accepted_only_with_a_usable_key() {
        let issuer = spinscope_testkit::issuer::Issuer::new();
        let doc = issuer.jwks().to_string();
        assert_eq!(accept(200, doc.as_bytes(), false).unwrap().keys.len(), 3);
        assert!(accept(500, doc.as_bytes(), false).unwrap_err().contains("500"));
        assert!(accept(200, doc.as_bytes(), true).unwrap_err().contains("over"));
        assert!(accept(200, b"<html>", false).unwrap_err().contains("not a JWKS"));
        assert!(accept(200, br#"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#, false).unwrap_err().contains("no RS256"));
    }

    #[test]
    fn keys_come_over_https_or_from_this_machine() {
        for ok in [
            "https://auth.example.com/.well-known/jwks.json",
            "http://127.0.0.1:8080/jwks",
            "http://localhost/jwks",
            "http://[::1]:9000/jwks",
            "http://issuer.spin.internal/jwks",
        ] {
            assert!(url_allowed(ok), "{ok}");
        }
        for refused in [
            "http://auth.example.com/jwks",
            "http://127.0.0.1.evil.test/jwks",
            "http://localhost.evil.test/jwks",
            "ftp://127.0.0.1/jwks",
            "https://",
            "",
        ] {
            assert!(!url_allowed(refused), "{refused}");
        }
    }
}
