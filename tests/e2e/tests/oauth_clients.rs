//! An official MCP SDK's OAuth client against the gateway as a resource
//! server (docs/auth.md, docs/testing-clients.md): the Python `mcp` SDK's
//! `ClientCredentialsOAuthProvider` starts without a token, follows the
//! 401 to the Protected Resource Metadata and from it to the suite's own
//! authorization server (`AuthServer`), gets a token there with the
//! `client_credentials` grant and calls `word_count` with it. The
//! authorization server's records show the SDK did the discovery and got
//! the token itself; `/metrics` shows the 401 and the calls; no token
//! reaches a log.
//!
//! Python runs as a subprocess from what `make deps` installs under
//! `target/mcp-clients`; when that is missing the test fails and says so,
//! it never skips (as tests/clients.rs).

use serde_json::{json, Value};
use spinscope_e2e::*;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::Command;
use std::sync::{Arc, Mutex};

/// A loopback TCP forwarder in front of the host: the address clients use,
/// as a load balancer's would be. The host picks its own port as it starts,
/// but `oauth_resource` (which the SDK checks against the URL it was given)
/// must name the client's URL before that: the forwarder's port is known
/// first. It keeps what each connection sent, to read the requests back.
struct Front {
    port: u16,
    listener: Option<TcpListener>,
    /// What each connection sent, in the order they came.
    sent: Arc<Mutex<Vec<Buffer>>>,
}

/// The bytes a client sent on one connection.
type Buffer = Arc<Mutex<Vec<u8>>>;

impl Front {
    fn bind() -> Front {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        Front { port, listener: Some(listener), sent: Arc::default() }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Forwards every connection to `host` from now on.
    fn forward_to(&mut self, host: &Host) {
        let listener = self.listener.take().unwrap();
        let upstream = host.url.trim_start_matches("http://").trim_end_matches('/').to_string();
        let sent = self.sent.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(mut client) = client else { continue };
                let Ok(mut server) = TcpStream::connect(&upstream) else { continue };
                let buffer = Buffer::default();
                sent.lock().unwrap().push(buffer.clone());
                let (mut client_w, mut server_r) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut server_r, &mut client_w);
                    let _ = client_w.shutdown(Shutdown::Write);
                });
                std::thread::spawn(move || {
                    let mut chunk = [0; 16 * 1024];
                    while let Ok(n @ 1..) = client.read(&mut chunk) {
                        buffer.lock().unwrap().extend_from_slice(&chunk[..n]);
                        if server.write_all(&chunk[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = server.shutdown(Shutdown::Write);
                });
            }
        });
    }

    /// The requests clients sent so far: each one's request line and
    /// whether it carried `Authorization`.
    fn requests(&self) -> Vec<(String, bool)> {
        let mut requests = Vec::new();
        for buffer in self.sent.lock().unwrap().iter() {
            let bytes = buffer.lock().unwrap().clone();
            let mut rest = &bytes[..];
            while let Some(end) = rest.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&rest[..end]).into_owned();
                let mut lines = head.lines();
                let line = lines.next().unwrap_or_default().to_string();
                let (mut length, mut authorization) = (0, false);
                for header in lines {
                    let (name, value) = header.split_once(':').unwrap_or((header, ""));
                    match name.trim().to_ascii_lowercase().as_str() {
                        "content-length" => length = value.trim().parse().unwrap_or(0),
                        "authorization" => authorization = true,
                        _ => {}
                    }
                }
                requests.push((line, authorization));
                rest = &rest[(end + 4 + length).min(rest.len())..];
            }
        }
        requests
    }
}

/// Runs tests/e2e/clients/python_oauth.py against `url` as `client_id`.
fn python_oauth(url: &str, server: &AuthServer, client_id: &str, secret: &str, auth_method: &str) -> Value {
    let python = installed("venv/bin/python");
    let mut cmd = Command::new(python);
    cmd.arg(client_script("python_oauth.py"))
        .args([url, &server.issuer(), client_id, auth_method])
        .env("OAUTH_CLIENT_SECRET", secret);
    run_client(cmd)
}

#[test]
fn python_sdk_discovers_the_authorization_server_gets_a_token_and_calls_a_tool() {
    let server = AuthServer::start();
    let mut front = Front::bind();
    let resource = front.url("/mcp");
    let host = HostBuilder::app(Some(&["gateway", "metrics", "text-tools"]))
        .var("tool_components", "text-tools")
        .var("oauth_issuer", &server.issuer())
        .var("oauth_resource", &resource)
        .var("oauth_jwks_url", &server.jwks_url())
        .var("oauth_jwks_host", &server.issuer())
        .var("oauth_scopes", "tools.call hash")
        .var("oauth_required_scopes", "tools.call")
        .start();
    front.forward_to(&host);

    // Two pre-registered clients, one for each way of presenting the secret.
    let clients = [
        ("sdk-basic", "basic-secret-7f3a9c", "client_secret_basic"),
        ("sdk-post", "post-secret-2b81de", "client_secret_post"),
    ];
    for (id, secret, _) in clients {
        server.register(id, Client { secret: secret.into(), scopes: vec!["tools.call".into(), "hash".into()] });
    }
    let issuer = server.issuer();
    for (id, secret, method) in clients {
        let out = python_oauth(&resource, &server, id, secret, method);
        // The tool answered, over 2026-07-28.
        assert_eq!(out["protocol_version"], MODERN, "{id}: {out}");
        let call = &out["call"];
        assert_eq!(call["is_error"], false, "{id}: {out}");
        assert_eq!(
            (call["structured"]["words"].clone(), call["structured"]["characters"].clone()),
            (json!(4), json!(19)),
            "{id}: {out}"
        );
        // What the SDK discovered: the gateway's metadata, then the issuer's.
        let prm = &out["protected_resource_metadata"];
        assert_eq!(prm["resource"], resource.as_str(), "{id}: {out}");
        let servers: Vec<&str> = prm["authorization_servers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().trim_end_matches('/'))
            .collect();
        assert_eq!(servers, [issuer.as_str()], "{id}: {out}");
        assert_eq!(prm["scopes_supported"], json!(["tools.call", "hash"]), "{id}: {out}");
        let asm = &out["authorization_server_metadata"];
        assert_eq!(asm["issuer"].as_str().unwrap().trim_end_matches('/'), issuer, "{id}: {out}");
        assert_eq!(asm["token_endpoint"], format!("{issuer}/token"), "{id}: {out}");
        // One token, with the scope the 401 asked for (`oauth_required_scopes`).
        assert_eq!(out["tokens_stored"], 1, "{id}: {out}");
        assert_eq!(
            out["token"]["token_type"].as_str().map(str::to_ascii_lowercase).as_deref(),
            Some("bearer"),
            "{out}"
        );
        assert_eq!(out["token"]["scope"], "tools.call", "{id}: {out}");
    }

    // The authorization server saw each run discover it (RFC 8414
    // metadata), then ask for a token; the gateway's key fetches aside.
    let asked: Vec<(String, String)> = server.requests().into_iter().filter(|(_, path)| path != "/jwks").collect();
    let metadata = ("GET".to_string(), "/.well-known/oauth-authorization-server".to_string());
    let token = ("POST".to_string(), "/token".to_string());
    assert_eq!(asked, [metadata.clone(), token.clone(), metadata, token], "{asked:?}");
    assert!(server.jwks_fetches() >= 1, "the gateway checked the tokens with the issuer's keys");
    // Each token went to its client, for this resource, with the scope the
    // 401 challenge named, the secret presented the way it asked.
    let issued = server.issued();
    let summary: Vec<(&str, &str, &str, Option<&str>, &str)> = issued
        .iter()
        .map(|t| {
            (t.client_id.as_str(), t.auth_method, t.resource.as_str(), t.requested_scope.as_deref(), t.scope.as_str())
        })
        .collect();
    assert_eq!(
        summary,
        clients.map(|(id, _, method)| (id, method, resource.as_str(), Some("tools.call"), "tools.call")),
        "{issued:?}"
    );

    // What went through the front: each run's first request without a
    // token, the metadata at the URL of the challenge, then only requests
    // with the token.
    let requests = front.requests();
    let lines = |want: &str, authorization: bool| {
        requests.iter().filter(|(line, auth)| line.starts_with(want) && *auth == authorization).count()
    };
    assert_eq!(lines("POST /mcp ", false), 2, "one unauthenticated request per run: {requests:?}");
    assert!(lines("POST /mcp ", true) >= 4, "the retried request and the call, each run: {requests:?}");
    assert_eq!(lines("GET /.well-known/oauth-protected-resource/mcp ", false), 2, "{requests:?}");
    assert_eq!(requests.len(), lines("POST /mcp ", true) + 4, "nothing else: {requests:?}");

    // The gateway counted the 401s and the two calls.
    // (A token for `/metrics` needs `oauth_required_scopes` too.)
    let reader = format!("Bearer {}", server.token(json!({"sub": "ops", "aud": resource, "scope": "tools.call"})));
    let with = [("authorization", reader.as_str())];
    let e = scrape_until_with(&host, &with, |e| {
        value(e, "spinscope_tool_calls_total", &[]) >= 2.0
            && value(e, "spinscope_rejected_total", &[("reason", "missing_key")]) >= 2.0
    });
    assert_eq!(value(&e, "spinscope_rejected_total", &[("reason", "missing_key")]), 2.0, "one 401 per run");
    assert_eq!(value(&e, "spinscope_rejected_total", &[("reason", "invalid_token")]), 0.0, "every token passed");
    assert_eq!(value(&e, "spinscope_tool_calls_total", &[]), 2.0);

    // No token or secret in any log.
    let logs = host.logs().join("\n");
    for t in &issued {
        let signature = t.access_token.rsplit('.').next().unwrap();
        assert!(signature.len() > 16 && !logs.contains(signature), "{}'s token reached a log", t.client_id);
    }
    for (id, secret, _) in clients {
        assert!(!logs.contains(secret), "{id}'s secret reached a log");
    }
}
