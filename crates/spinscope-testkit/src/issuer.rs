//! A test OAuth issuer: one key of each kind the gateway accepts (RSA for
//! RS256, P-256 for ES256, Ed25519 for EdDSA), made per run, its JWKS, and
//! tokens signed with them, well formed or not.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The issuer's keys (`kid`s `r1`, `e1`, `d1`).
pub struct Issuer {
    rsa: rsa::RsaPrivateKey,
    ec: p256::ecdsa::SigningKey,
    ed: ed25519_dalek::SigningKey,
}

impl Default for Issuer {
    fn default() -> Self {
        Self::new()
    }
}

impl Issuer {
    /// New keys.
    pub fn new() -> Issuer {
        let mut rng = rand::thread_rng();
        Issuer {
            rsa: rsa::RsaPrivateKey::new(&mut rng, 2048).expect("an RSA key"),
            ec: p256::ecdsa::SigningKey::random(&mut rng),
            ed: ed25519_dalek::SigningKey::generate(&mut rng),
        }
    }

    /// The JWKS of the public keys, plus an encryption key and an HMAC
    /// secret that a verifier must not use.
    pub fn jwks(&self) -> Value {
        use rsa::traits::PublicKeyParts;
        let public = self.rsa.to_public_key();
        let point = self.ec.verifying_key().to_encoded_point(false);
        json!({"keys": [
            {"kty": "RSA", "kid": "r1", "use": "sig", "alg": "RS256",
             "n": b64(&public.n().to_bytes_be()), "e": b64(&public.e().to_bytes_be())},
            {"kty": "EC", "crv": "P-256", "kid": "e1", "x": b64(point.x().expect("x")), "y": b64(point.y().expect("y"))},
            {"kty": "OKP", "crv": "Ed25519", "kid": "d1", "x": b64(self.ed.verifying_key().as_bytes())},
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"},
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"}
        ]})
    }

    /// A token of `claims` signed with `alg` (`RS256`, `ES256`, `EdDSA`;
    /// any other gets a junk signature) and `kid`.
    pub fn sign(&self, alg: &str, kid: Option<&str>, claims: &Value) -> String {
        let mut header = json!({"alg": alg, "typ": "at+jwt"});
        if let Some(kid) = kid {
            header["kid"] = json!(kid);
        }
        let signed = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
        let signature = match alg {
            "RS256" => {
                use rsa::signature::{SignatureEncoding, Signer};
                rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(self.rsa.clone()).sign(signed.as_bytes()).to_vec()
            }
            "ES256" => {
                use p256::ecdsa::signature::Signer;
                let s: p256::ecdsa::Signature = self.ec.sign(signed.as_bytes());
                s.to_bytes().to_vec()
            }
            "EdDSA" => {
                use ed25519_dalek::Signer;
                self.ed.sign(signed.as_bytes()).to_bytes().to_vec()
            }
            _ => b"not a signature".to_vec(),
        };
        format!("{signed}.{}", b64(&signature))
    }

    /// An unsigned token (`alg: none`).
    pub fn unsigned(claims: &Value) -> String {
        format!("{}.{}.", b64(br#"{"alg":"none"}"#), b64(claims.to_string().as_bytes()))
    }
}
