//! The suite's own OAuth authorization server, on loopback: keys made per
//! run (`spinscope_testkit::issuer::Issuer`), its JWKS served over HTTP
//! (and counted, and rotated on demand), a `client_credentials` token
//! endpoint, and RFC 8414 metadata. Enough for the gateway to fetch keys
//! from a URL and for an MCP SDK's OAuth client to get a token; what it
//! was asked and which tokens it issued are kept, so a test can tell that
//! a client really discovered it and obtained its token from it.

use serde_json::{json, Value};
use spinscope_testkit::issuer::Issuer;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The keys in use: an issuer and its generation (kids `r<n>`, `e<n>`, `d<n>`).
struct Keys {
    issuer: Issuer,
    generation: u32,
}

impl Keys {
    fn jwks(&self) -> Value {
        let mut doc = self.issuer.jwks();
        for key in doc["keys"].as_array_mut().unwrap() {
            if let Some(kid) = key["kid"].as_str().filter(|k| k.ends_with('1')) {
                key["kid"] = json!(format!("{}{}", &kid[..kid.len() - 1], self.generation));
            }
        }
        doc
    }
}

/// A registered client: its secret and the scopes it may ask for.
#[derive(Clone)]
pub struct Client {
    /// `client_secret`.
    pub secret: String,
    /// Scopes granted when it asks for none, and the most it may get.
    pub scopes: Vec<String>,
}

/// A token `POST /token` issued.
#[derive(Clone, Debug)]
pub struct Issued {
    pub client_id: String,
    /// How the client authenticated: `client_secret_basic` or `client_secret_post`.
    pub auth_method: &'static str,
    /// The `resource` parameter: the token's `aud`.
    pub resource: String,
    /// The `scope` parameter as sent, if any.
    pub requested_scope: Option<String>,
    /// The scopes granted (the token's `scope` claim).
    pub scope: String,
    pub access_token: String,
}

/// What the server's threads share.
struct Shared {
    keys: Mutex<Keys>,
    fetches: AtomicUsize,
    clients: Mutex<Vec<(String, Client)>>,
    jwks_delay: Mutex<Duration>,
    /// Every request, in order: `(method, path)`.
    requests: Mutex<Vec<(String, String)>>,
    issued: Mutex<Vec<Issued>>,
}

/// A running authorization server.
pub struct AuthServer {
    /// Its port on 127.0.0.1.
    pub port: u16,
    shared: Arc<Shared>,
}

fn now_s() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

impl AuthServer {
    /// Listens on a free loopback port.
    pub fn start() -> AuthServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = AuthServer {
            port,
            shared: Arc::new(Shared {
                keys: Mutex::new(Keys { issuer: Issuer::new(), generation: 1 }),
                fetches: AtomicUsize::new(0),
                clients: Mutex::new(Vec::new()),
                jwks_delay: Mutex::new(Duration::ZERO),
                requests: Mutex::new(Vec::new()),
                issued: Mutex::new(Vec::new()),
            }),
        };
        let shared = server.shared.clone();
        let issuer = server.issuer();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (shared, issuer) = (shared.clone(), issuer.clone());
                std::thread::spawn(move || {
                    let _ = serve(stream, &issuer, &shared);
                });
            }
        });
        server
    }

    /// The issuer identifier (`oauth_issuer`).
    pub fn issuer(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The JWKS URL (`oauth_jwks_url`).
    pub fn jwks_url(&self) -> String {
        format!("{}/jwks", self.issuer())
    }

    /// How many times the JWKS was fetched.
    pub fn jwks_fetches(&self) -> usize {
        self.shared.fetches.load(Ordering::SeqCst)
    }

    /// Makes each JWKS answer take `delay` (a refresh others must wait on).
    pub fn slow_jwks(&self, delay: Duration) {
        *self.shared.jwks_delay.lock().unwrap() = delay;
    }

    /// Replaces every key: the JWKS lists only the new ones from now on.
    pub fn rotate(&self) {
        let mut keys = self.shared.keys.lock().unwrap();
        let generation = keys.generation + 1;
        *keys = Keys { issuer: Issuer::new(), generation };
    }

    /// The current RSA key's `kid`.
    pub fn kid(&self) -> String {
        format!("r{}", self.shared.keys.lock().unwrap().generation)
    }

    /// Registers a `client_credentials` client.
    pub fn register(&self, id: &str, client: Client) {
        self.shared.clients.lock().unwrap().push((id.to_string(), client));
    }

    /// Every request so far, in order: `(method, path)` (without the query).
    pub fn requests(&self) -> Vec<(String, String)> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// The tokens `POST /token` issued, in order.
    pub fn issued(&self) -> Vec<Issued> {
        self.shared.issued.lock().unwrap().clone()
    }

    /// A token for `claims` signed RS256 with the current key (iss, iat
    /// and exp filled in when absent).
    pub fn token(&self, claims: Value) -> String {
        let mut claims = claims;
        complete(&mut claims, &self.issuer());
        let keys = self.shared.keys.lock().unwrap();
        keys.issuer.sign("RS256", Some(&format!("r{}", keys.generation)), &claims)
    }
}

fn complete(claims: &mut Value, issuer: &str) {
    let now = now_s();
    for (name, value) in [("iss", json!(issuer)), ("iat", json!(now)), ("exp", json!(now + 300))] {
        if claims.get(name).is_none() {
            claims[name] = value;
        }
    }
}

/// One request: the metadata, the JWKS, the token endpoint, or the
/// authorization endpoint (which refuses every request).
fn serve(mut stream: std::net::TcpStream, issuer: &str, shared: &Shared) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut parts = request_line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or("").to_string(), parts.next().unwrap_or("").to_string());
    let (mut length, mut authorization) = (0, None);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        let (name, value) = line.split_once(':').unwrap_or((&line, ""));
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().unwrap_or(0),
            "authorization" => authorization = Some(value.trim().to_string()),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let path = path.split('?').next().unwrap_or("").to_string();
    shared.requests.lock().unwrap().push((method.clone(), path.clone()));
    let (status, answer) = match (method.as_str(), path.as_str()) {
        ("GET", "/.well-known/oauth-authorization-server") | ("GET", "/.well-known/openid-configuration") => (
            200,
            json!({
                "issuer": issuer,
                // RFC 8414 lets a server without a grant that uses it leave
                // this out; the Python MCP SDK's metadata model requires it.
                "authorization_endpoint": format!("{issuer}/authorize"),
                "token_endpoint": format!("{issuer}/token"),
                "jwks_uri": format!("{issuer}/jwks"),
                "grant_types_supported": ["client_credentials"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "response_types_supported": ["token"],
                "scopes_supported": ["tools.call", "hash"],
            }),
        ),
        ("GET", "/jwks") => {
            shared.fetches.fetch_add(1, Ordering::SeqCst);
            let wait = *shared.jwks_delay.lock().unwrap();
            std::thread::sleep(wait);
            (200, shared.keys.lock().unwrap().jwks())
        }
        ("POST", "/token") => token(issuer, shared, &String::from_utf8_lossy(&body), authorization.as_deref()),
        // No grant here uses it (RFC 6749 4.1.2.1's error, not redirected).
        (_, "/authorize") => (400, json!({"error": "unsupported_response_type"})),
        _ => (404, json!({"error": "not_found"})),
    };
    let body = answer.to_string();
    write!(
        stream,
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncache-control: no-store\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

fn form(body: &str) -> Vec<(String, String)> {
    body.split('&').filter_map(|pair| pair.split_once('=')).map(|(k, v)| (decode(k), decode(v))).collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap_or(b'?'));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `POST /token`, `grant_type=client_credentials` (RFC 6749 4.4), the
/// client by HTTP Basic or in the form, the audience from `resource`
/// (RFC 8707).
fn token(issuer: &str, shared: &Shared, body: &str, authorization: Option<&str>) -> (u16, Value) {
    use base64::Engine;
    let fields = form(body);
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    if field("grant_type").as_deref() != Some("client_credentials") {
        return (400, json!({"error": "unsupported_grant_type"}));
    }
    let basic = authorization.and_then(|a| a.strip_prefix("Basic ")).and_then(|b| {
        let text = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b.trim()).ok()?).ok()?;
        let (id, secret) = text.split_once(':')?;
        Some((decode(id), decode(secret)))
    });
    let auth_method = if basic.is_some() { "client_secret_basic" } else { "client_secret_post" };
    let (id, secret) = match basic.or_else(|| Some((field("client_id")?, field("client_secret")?))) {
        Some(pair) => pair,
        None => return (401, json!({"error": "invalid_client"})),
    };
    let client = shared.clients.lock().unwrap().iter().find(|(i, _)| *i == id).map(|(_, c)| c.clone());
    let Some(client) = client.filter(|c| c.secret == secret) else {
        return (401, json!({"error": "invalid_client"}));
    };
    let scopes: Vec<String> = match field("scope") {
        Some(asked) => {
            asked.split_whitespace().filter(|s| client.scopes.iter().any(|c| c == s)).map(String::from).collect()
        }
        None => client.scopes.clone(),
    };
    let Some(resource) = field("resource") else {
        return (400, json!({"error": "invalid_target", "error_description": "resource (RFC 8707) is required"}));
    };
    let scope = scopes.join(" ");
    let mut claims = json!({"sub": id, "aud": resource, "scope": scope, "client_id": id});
    complete(&mut claims, issuer);
    let access_token = {
        let keys = shared.keys.lock().unwrap();
        keys.issuer.sign("RS256", Some(&format!("r{}", keys.generation)), &claims)
    };
    shared.issued.lock().unwrap().push(Issued {
        client_id: id,
        auth_method,
        resource,
        requested_scope: field("scope"),
        scope: scope.clone(),
        access_token: access_token.clone(),
    });
    (200, json!({"access_token": access_token, "token_type": "Bearer", "expires_in": 300, "scope": scope}))
}
