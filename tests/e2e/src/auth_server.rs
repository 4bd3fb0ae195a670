//! The suite's own OAuth authorization server, on loopback: keys made per
//! run (`spinscope_testkit::issuer::Issuer`), its JWKS served over HTTP
//! (and counted, and rotated on demand), a `client_credentials` token
//! endpoint, and RFC 8414 metadata. Enough for the gateway to fetch keys
//! from a URL and for an MCP SDK's OAuth client to get a token.

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

/// A running authorization server.
pub struct AuthServer {
    /// Its port on 127.0.0.1.
    pub port: u16,
    keys: Arc<Mutex<Keys>>,
    fetches: Arc<AtomicUsize>,
    clients: Arc<Mutex<Vec<(String, Client)>>>,
    jwks_delay: Arc<Mutex<Duration>>,
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
            keys: Arc::new(Mutex::new(Keys { issuer: Issuer::new(), generation: 1 })),
            fetches: Arc::new(AtomicUsize::new(0)),
            clients: Arc::new(Mutex::new(Vec::new())),
            jwks_delay: Arc::new(Mutex::new(Duration::ZERO)),
        };
        let (keys, fetches, clients, delay) =
            (server.keys.clone(), server.fetches.clone(), server.clients.clone(), server.jwks_delay.clone());
        let issuer = server.issuer();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (keys, fetches, clients, delay, issuer) =
                    (keys.clone(), fetches.clone(), clients.clone(), delay.clone(), issuer.clone());
                std::thread::spawn(move || {
                    let _ = serve(stream, &issuer, &keys, &fetches, &clients, &delay);
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
        self.fetches.load(Ordering::SeqCst)
    }

    /// Makes each JWKS answer take `delay` (a refresh others must wait on).
    pub fn slow_jwks(&self, delay: Duration) {
        *self.jwks_delay.lock().unwrap() = delay;
    }

    /// Replaces every key: the JWKS lists only the new ones from now on.
    pub fn rotate(&self) {
        let mut keys = self.keys.lock().unwrap();
        let generation = keys.generation + 1;
        *keys = Keys { issuer: Issuer::new(), generation };
    }

    /// The current RSA key's `kid`.
    pub fn kid(&self) -> String {
        format!("r{}", self.keys.lock().unwrap().generation)
    }

    /// Registers a `client_credentials` client.
    pub fn register(&self, id: &str, client: Client) {
        self.clients.lock().unwrap().push((id.to_string(), client));
    }

    /// A token for `claims` signed RS256 with the current key (iss, iat
    /// and exp filled in when absent).
    pub fn token(&self, claims: Value) -> String {
        let mut claims = claims;
        complete(&mut claims, &self.issuer());
        let keys = self.keys.lock().unwrap();
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

/// One request: the metadata, the JWKS, or the token endpoint.
fn serve(
    mut stream: std::net::TcpStream,
    issuer: &str,
    keys: &Mutex<Keys>,
    fetches: &AtomicUsize,
    clients: &Mutex<Vec<(String, Client)>>,
    delay: &Mutex<Duration>,
) -> std::io::Result<()> {
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
    let (status, answer) = match (method.as_str(), path.as_str()) {
        ("GET", "/.well-known/oauth-authorization-server") | ("GET", "/.well-known/openid-configuration") => (
            200,
            json!({
                "issuer": issuer,
                "token_endpoint": format!("{issuer}/token"),
                "jwks_uri": format!("{issuer}/jwks"),
                "grant_types_supported": ["client_credentials"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "response_types_supported": ["token"],
                "scopes_supported": ["tools.call", "hash"],
            }),
        ),
        ("GET", "/jwks") => {
            fetches.fetch_add(1, Ordering::SeqCst);
            let wait = *delay.lock().unwrap();
            std::thread::sleep(wait);
            (200, keys.lock().unwrap().jwks())
        }
        ("POST", "/token") => token(issuer, keys, clients, &String::from_utf8_lossy(&body), authorization.as_deref()),
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
fn token(
    issuer: &str,
    keys: &Mutex<Keys>,
    clients: &Mutex<Vec<(String, Client)>>,
    body: &str,
    authorization: Option<&str>,
) -> (u16, Value) {
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
    let (id, secret) = match basic.or_else(|| Some((field("client_id")?, field("client_secret")?))) {
        Some(pair) => pair,
        None => return (401, json!({"error": "invalid_client"})),
    };
    let client = clients.lock().unwrap().iter().find(|(i, _)| *i == id).map(|(_, c)| c.clone());
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
    let mut claims = json!({"sub": id, "aud": resource, "scope": scopes.join(" "), "client_id": id});
    complete(&mut claims, issuer);
    let keys = keys.lock().unwrap();
    let access_token = keys.issuer.sign("RS256", Some(&format!("r{}", keys.generation)), &claims);
    (200, json!({"access_token": access_token, "token_type": "Bearer", "expires_in": 300, "scope": scopes.join(" ")}))
}
