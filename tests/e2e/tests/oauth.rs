//! OAuth 2.1 end to end (docs/auth.md): the gateway as a resource server
//! with a test issuer whose keys are made per run (inline JWKS). The
//! metadata is discoverable from a 401; a valid token calls a tool; every
//! kind of bad token is refused and recorded only as a rejection; a missing
//! scope asks for step-up; the tool policy hides and refuses tools by
//! tenant and scope; the token never reaches a tool component or a log.

use serde_json::{json, Value};
use spinscope_e2e::*;
use spinscope_testkit::issuer::Issuer;

const ISSUER: &str = "https://auth.test";
const RESOURCE: &str = "https://mcp.test/mcp";
const METADATA: &str = "https://mcp.test/.well-known/oauth-protected-resource/mcp";

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

fn claims(sub: &str, scope: &str) -> Value {
    json!({"iss": ISSUER, "aud": RESOURCE, "sub": sub, "exp": now() + 300, "iat": now(), "scope": scope})
}

fn app(issuer: &Issuer) -> HostBuilder {
    HostBuilder::app(Some(&["gateway", "metrics", "audit", "text-tools"]))
        .var("tool_components", "text-tools,faults")
        .var("oauth_issuer", ISSUER)
        .var("oauth_resource", RESOURCE)
        .var("oauth_jwks", &issuer.jwks().to_string())
        .var("oauth_scopes", "tools.call hash")
}

/// A 2026-07-28 request (no session) with `token`.
fn call(host: &Host, token: &str, tool: &str, arguments: Value) -> Reply {
    let auth = format!("Bearer {token}");
    ModernRequest::call(tool, arguments).send(host, &[("authorization", &auth)])
}

fn list(host: &Host, token: &str) -> Vec<String> {
    let auth = format!("Bearer {token}");
    let r = ModernRequest::new("tools/list", json!({})).send(host, &[("authorization", &auth)]);
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_string()).collect()
}

#[test]
fn a_token_for_this_resource_calls_a_tool_and_every_bad_one_is_refused() {
    let issuer = Issuer::new();
    let host = app(&issuer).start();

    // Discovery: the 401 points to the metadata, which names the issuer.
    let r = ModernRequest::call("word_count", json!({"text": "a"})).send(&host, &[]);
    assert_eq!(r.status, 401, "{}", r.body);
    let challenge = r.header("www-authenticate").unwrap();
    assert_eq!(challenge, format!("Bearer resource_metadata=\"{METADATA}\""));
    let prm = host.get("/.well-known/oauth-protected-resource/mcp");
    assert_eq!(prm.status, 200);
    let prm = prm.json();
    assert_eq!((prm["resource"].as_str(), prm["authorization_servers"].clone()), (Some(RESOURCE), json!([ISSUER])));
    assert_eq!(prm["scopes_supported"], json!(["tools.call", "hash"]));

    // A valid token of each algorithm.
    for (alg, kid) in [("RS256", "r1"), ("ES256", "e1"), ("EdDSA", "d1")] {
        let token = issuer.sign(alg, Some(kid), &claims("acme", "tools.call"));
        let r = call(&host, &token, "word_count", json!({"text": "one two"}));
        assert_eq!(r.status, 200, "{alg}: {}", r.body);
        assert_eq!(r.json()["result"]["structuredContent"]["words"], 2, "{alg}");
    }

    // Every bad token: 401, `invalid_token`, and no tool call.
    let other = Issuer::new();
    let mut expired = claims("acme", "");
    expired["exp"] = json!(now() - 3600);
    let mut wrong_aud = claims("acme", "");
    wrong_aud["aud"] = json!("https://elsewhere.test/mcp");
    let mut wrong_iss = claims("acme", "");
    wrong_iss["iss"] = json!("https://evil.test");
    let mut no_tenant = claims("acme", "");
    no_tenant.as_object_mut().unwrap().remove("sub");
    let bad = [
        ("no tenant claim", issuer.sign("RS256", Some("r1"), &no_tenant)),
        ("expired", issuer.sign("RS256", Some("r1"), &expired)),
        ("wrong audience", issuer.sign("RS256", Some("r1"), &wrong_aud)),
        ("wrong issuer", issuer.sign("ES256", Some("e1"), &wrong_iss)),
        ("bad signature", other.sign("RS256", Some("r1"), &claims("acme", ""))),
        ("unknown kid", issuer.sign("RS256", Some("r9"), &claims("acme", ""))),
        ("alg none", Issuer::unsigned(&claims("acme", ""))),
        ("HS256 with the public key", issuer.sign("HS256", Some("r1"), &claims("acme", ""))),
    ];
    for (what, token) in &bad {
        let r = call(&host, token, "word_count", json!({"text": "x"}));
        assert_eq!(r.status, 401, "{what}: {}", r.body);
        let challenge = r.header("www-authenticate").unwrap();
        assert!(challenge.contains("error=\"invalid_token\"") && challenge.contains(METADATA), "{what}: {challenge}");
    }
    let reader = format!("Bearer {}", issuer.sign("RS256", Some("r1"), &claims("ops", "")));
    let with = [("authorization", reader.as_str())];
    let e = scrape_until_with(&host, &with, |e| {
        value(e, "spinscope_rejected_total", &[("reason", "invalid_token")]) >= 8.0
    });
    assert_eq!(value(&e, "spinscope_rejected_total", &[("reason", "invalid_token")]), 8.0);
    assert_eq!(value(&e, "spinscope_tool_calls_total", &[]), 3.0, "only the valid tokens' calls");

    // The token's tenant (`sub`) is the caller's, in the audit trail too,
    // which the same token reads (its own tenant's events only).
    let token = issuer.sign("RS256", Some("r1"), &claims("acme", "tools.call"));
    let audit = request(
        "GET",
        &host.url("/audit?kind=tool_call&limit=1000"),
        &[("authorization", &format!("Bearer {token}"))],
        None,
    );
    assert_eq!(audit.status, 200, "{}", audit.body);
    let tenants: Vec<Value> =
        audit.body.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["tenant"].clone()).collect();
    assert_eq!(tenants, vec![json!("acme"); 3], "{}", audit.body);

    // No token passthrough: the tool component never sees it, no log has it.
    let token = issuer.sign("EdDSA", Some("d1"), &claims("acme", "tools.call"));
    let r = call(&host, &token, "echo_headers", json!({}));
    let echoed = &r.json()["result"]["structuredContent"];
    assert_eq!((echoed["authorization"].clone(), echoed["x-api-key"].clone()), (Value::Null, Value::Null), "{echoed}");
    let logs = host.logs().join("\n");
    let signatures = bad.iter().map(|(_, t)| t.as_str()).chain([token.as_str()]).filter_map(|t| t.rsplit('.').next());
    for signature in signatures.filter(|s| s.len() > 16) {
        assert!(!logs.contains(signature), "a token reached a log");
    }
}

#[test]
fn a_required_scope_is_asked_for_with_403() {
    let issuer = Issuer::new();
    let host = app(&issuer).var("oauth_required_scopes", "tools.call").start();
    let without = issuer.sign("ES256", Some("e1"), &claims("acme", "other"));
    let r = call(&host, &without, "word_count", json!({"text": "x"}));
    assert_eq!(r.status, 403, "{}", r.body);
    let challenge = r.header("www-authenticate").unwrap();
    assert!(
        challenge.contains("error=\"insufficient_scope\"") && challenge.contains("scope=\"tools.call\""),
        "{challenge}"
    );
    let with = issuer.sign("ES256", Some("e1"), &claims("acme", "tools.call other"));
    assert_eq!(call(&host, &with, "word_count", json!({"text": "x"})).status, 200);
}

#[test]
fn the_tool_policy_shows_and_lets_each_caller_call_only_its_tools() {
    let issuer = Issuer::new();
    let host = app(&issuer).var("tool_policy", "word_count = tenant:acme; sha256 = scope:hash; echo* = *").start();
    let acme = issuer.sign("RS256", Some("r1"), &claims("acme", ""));
    let beta = issuer.sign("RS256", Some("r1"), &claims("beta", ""));
    let hasher = issuer.sign("RS256", Some("r1"), &claims("beta", "hash"));

    let seen = list(&host, &acme);
    assert!(seen.contains(&"word_count".to_string()) && !seen.contains(&"sha256".to_string()), "{seen:?}");
    assert!(seen.iter().all(|t| t == "word_count" || t.starts_with("echo")), "nothing no rule grants: {seen:?}");
    assert_eq!(call(&host, &acme, "word_count", json!({"text": "x"})).status, 200);

    // Beta may not call word_count: answered as if it did not exist.
    assert!(!list(&host, &beta).contains(&"word_count".to_string()));
    let r = call(&host, &beta, "word_count", json!({"text": "x"}));
    assert_eq!(r.json()["error"]["code"], -32602, "{}", r.body);
    assert!(r.json()["error"]["message"].as_str().unwrap().contains("Unknown tool"), "{}", r.body);
    // sha256 would be granted by a scope: 403 asks for it (step-up).
    let r = call(&host, &beta, "sha256", json!({"text": "x"}));
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.header("www-authenticate").unwrap().contains("scope=\"hash\""));
    assert_eq!(call(&host, &hasher, "sha256", json!({"text": "x"})).status, 200);

    let reader = format!("Bearer {acme}");
    let e = scrape_until_with(&host, &[("authorization", reader.as_str())], |e| {
        value(e, "spinscope_authorization_decisions_total", &[("decision", "denied")]) >= 2.0
    });
    let decided = |decision, tool| {
        value(&e, "spinscope_authorization_decisions_total", &[("decision", decision), ("tool", tool)])
    };
    assert_eq!((decided("allowed", "word_count"), decided("denied", "word_count")), (1.0, 1.0));
    assert_eq!((decided("denied", "sha256"), decided("allowed", "sha256")), (1.0, 1.0));
    let line = host.wait_for_log(|l| l.contains("Tool call denied by the tool policy"));
    assert!(line.contains("tenant=\"beta\"") && line.contains("tool_name=\"word_count\""), "{line}");
}

#[test]
fn a_policy_that_does_not_parse_fails_closed() {
    let issuer = Issuer::new();
    let host = app(&issuer).var("tool_policy", "word_count = friend:bob").start();
    let token = issuer.sign("RS256", Some("r1"), &claims("acme", ""));
    let r = call(&host, &token, "word_count", json!({"text": "x"}));
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(r.body.contains("tool_policy"), "{}", r.body);
}

/// The gateway with keys from `server`'s JWKS URL, cached for `ttl_ms`.
fn url_app(server: &AuthServer, ttl_ms: u64) -> HostBuilder {
    HostBuilder::app(Some(&["gateway", "text-tools"]))
        .var("tool_components", "text-tools")
        .var("oauth_issuer", &server.issuer())
        .var("oauth_resource", RESOURCE)
        .var("oauth_jwks_url", &server.jwks_url())
        .var("oauth_jwks_host", &server.issuer())
        .var("oauth_jwks_ttl_ms", &ttl_ms.to_string())
}

/// `n` calls at once with `token`; their statuses.
fn burst(host: &Host, token: &str, n: usize) -> Vec<u16> {
    std::thread::scope(|s| {
        let calls: Vec<_> =
            (0..n).map(|_| s.spawn(|| call(host, token, "word_count", json!({"text": "a b"})).status)).collect();
        calls.into_iter().map(|c| c.join().unwrap()).collect()
    })
}

/// Waits until the wall clock is early in a refresh window of `interval_ms`
/// (the gateway claims one fetch per window), so a burst stays in one.
fn early_in_window(interval_ms: u64) {
    loop {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
        if (50..400).contains(&(now % interval_ms)) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Keys from the issuer's URL: fetched once however many requests need
/// them at once, cached in the store for every instance, fetched again
/// once when a token names a new `kid`; a key that left the JWKS stops
/// working, and made-up `kid`s do not turn into fetches.
#[test]
fn keys_from_the_issuer_url_are_fetched_once_and_follow_a_rotation() {
    let server = AuthServer::start();
    // Each fetch takes a while, so the burst's requests overlap it.
    server.slow_jwks(std::time::Duration::from_millis(300));
    let interval = 2_000;
    let host = url_app(&server, interval).start();
    let claims = json!({"sub": "acme", "aud": RESOURCE, "scope": "tools.call"});
    let first = server.token(claims.clone());
    early_in_window(interval);
    assert_eq!(burst(&host, &first, 16), vec![200; 16]);
    assert_eq!(server.jwks_fetches(), 1, "16 requests at once, one fetch");
    assert_eq!(call(&host, &first, "word_count", json!({"text": "a"})).status, 200);
    assert_eq!(server.jwks_fetches(), 1, "then from the store's cache");

    // The issuer rotates: the new key's tokens work after one fetch.
    server.rotate();
    let second = server.token(claims);
    std::thread::sleep(std::time::Duration::from_millis(interval));
    early_in_window(interval);
    assert_eq!(burst(&host, &second, 16), vec![200; 16]);
    assert_eq!(server.jwks_fetches(), 2, "a new kid, 16 requests at once, one fetch");

    // The old key left the JWKS: its tokens are refused, without a fetch.
    let old = call(&host, &first, "word_count", json!({"text": "a"}));
    assert_eq!(old.status, 401, "{}", old.body);
    assert!(old.header("www-authenticate").unwrap().contains("invalid_token"));
    let forged = Issuer::new().sign(
        "RS256",
        Some("made-up"),
        &json!({"iss": server.issuer(), "aud": RESOURCE,
        "sub": "acme", "exp": now() + 300}),
    );
    assert_eq!(burst(&host, &forged, 20), vec![401; 20]);
    assert_eq!(server.jwks_fetches(), 2, "unknown kids within the interval: no fetch");
    let logs = host.logs().join("\n");
    assert!(!logs.contains(&second) && !logs.contains(&first), "no token in any log");
}

/// With keys from a URL that cannot be reached and none cached, a token
/// cannot be checked: 503 and a retry, never admitted, never a 401 that
/// would send the client back to its authorization server.
#[test]
fn without_the_issuers_keys_a_token_is_not_admitted() {
    let server = AuthServer::start();
    let unreachable = format!("http://127.0.0.1:{}", free_port());
    let host = url_app(&server, 600_000)
        .var("oauth_jwks_url", &format!("{unreachable}/jwks"))
        .var("oauth_jwks_host", &unreachable)
        .start();
    let token = server.token(json!({"sub": "acme", "aud": RESOURCE}));
    let r = call(&host, &token, "word_count", json!({"text": "a"}));
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.header("retry-after"), Some("5"));
    assert!(r.body.contains("cannot be checked"), "{}", r.body);
    host.wait_for_log(|l| l.contains("OAuth keys not refreshed"));
}
