//! JSON Web Keys (RFC 7517): the public keys an authorization server signs
//! access tokens with, as its JWKS document lists them. Only signing keys
//! of the three supported kinds are kept: RSA (RS256), EC P-256 (ES256),
//! OKP Ed25519 (EdDSA); any other entry is skipped, never an error, so a
//! JWKS that also lists encryption keys still works.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;

/// A key's kind, which fixes the one algorithm it may verify.
#[derive(Debug, Clone)]
pub enum PublicKey {
    /// RS256.
    Rsa(rsa::RsaPublicKey),
    /// ES256.
    P256(p256::ecdsa::VerifyingKey),
    /// EdDSA (Ed25519).
    Ed25519(ed25519_dalek::VerifyingKey),
}

impl PublicKey {
    /// The JWS `alg` this key verifies.
    pub fn alg(&self) -> &'static str {
        match self {
            PublicKey::Rsa(_) => "RS256",
            PublicKey::P256(_) => "ES256",
            PublicKey::Ed25519(_) => "EdDSA",
        }
    }
}

/// One signing key.
#[derive(Debug, Clone)]
pub struct Jwk {
    /// Its `kid`, if it has one.
    pub kid: Option<String>,
    /// The key.
    pub key: PublicKey,
}

/// A JWKS document's signing keys.
#[derive(Debug, Clone, Default)]
pub struct Jwks {
    /// The keys kept, in the document's order.
    pub keys: Vec<Jwk>,
}

impl Jwks {
    /// Parses a JWKS document (`{"keys": [...]}`); an error only when it is
    /// not one at all. Entries that are not signing keys of a supported
    /// kind, or that do not parse, are skipped.
    pub fn parse(text: &str) -> Result<Jwks, String> {
        let doc: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let entries = doc.get("keys").and_then(Value::as_array).ok_or("no `keys` array")?;
        let keys = entries.iter().filter_map(parse_key).collect();
        Ok(Jwks { keys })
    }

    /// The key for a token's `kid` and `alg`: the one with that `kid`, or,
    /// for a token without `kid`, the only key of that algorithm. A key of
    /// another algorithm never matches (no key confusion).
    pub fn find(&self, kid: Option<&str>, alg: &str) -> Option<&PublicKey> {
        let of_alg = self.keys.iter().filter(|k| k.key.alg() == alg);
        match kid {
            Some(kid) => of_alg.into_iter().find(|k| k.kid.as_deref() == Some(kid)).map(|k| &k.key),
            None => {
                let mut candidates = of_alg;
                let first = candidates.next()?;
                candidates.next().is_none().then_some(&first.key)
            }
        }
    }

    /// Whether a key with this `kid` is listed (whatever its algorithm).
    pub fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }
}

fn field(entry: &Value, name: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(entry.get(name)?.as_str()?).ok()
}

fn parse_key(entry: &Value) -> Option<Jwk> {
    if entry.get("use").and_then(Value::as_str).is_some_and(|u| u != "sig") {
        return None;
    }
    let kid = entry.get("kid").and_then(Value::as_str).map(str::to_string);
    let declared_alg = entry.get("alg").and_then(Value::as_str);
    let key = match (entry.get("kty")?.as_str()?, entry.get("crv").and_then(Value::as_str)) {
        ("RSA", _) => {
            let n = rsa::BigUint::from_bytes_be(&field(entry, "n")?);
            let e = rsa::BigUint::from_bytes_be(&field(entry, "e")?);
            PublicKey::Rsa(rsa::RsaPublicKey::new(n, e).ok()?)
        }
        ("EC", Some("P-256")) => {
            let (x, y) = (field(entry, "x")?, field(entry, "y")?);
            if x.len() != 32 || y.len() != 32 {
                return None;
            }
            let point = p256::EncodedPoint::from_affine_coordinates(x.as_slice().into(), y.as_slice().into(), false);
            PublicKey::P256(p256::ecdsa::VerifyingKey::from_encoded_point(&point).ok()?)
        }
        ("OKP", Some("Ed25519")) => {
            let x: [u8; 32] = field(entry, "x")?.try_into().ok()?;
            PublicKey::Ed25519(ed25519_dalek::VerifyingKey::from_bytes(&x).ok()?)
        }
        _ => return None,
    };
    // A key that says it is for another algorithm is not used for this one.
    if declared_alg.is_some_and(|a| a != key.alg()) {
        return None;
    }
    Some(Jwk { kid, key })
}
