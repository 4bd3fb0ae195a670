//! RS256 signatures checked the way RFC 8017 (8.2.2) says: the signature
//! raised to the public exponent, then compared byte for byte with the
//! EMSA-PKCS1-v1_5 encoding of the message's SHA-256 digest (no parsing
//! of the decrypted block, so no room for a lenient parser's forgeries).
//!
//! Why not the `rsa` crate's verifier (whose key type, checked when the
//! JWKS is read, this still uses): it raises to the exponent with a
//! windowed ladder made for private exponents, whose fixed cost dominates
//! for e = 65537, on a big-integer crate whose products are slow; plain
//! square-and-multiply on `num-bigint` is about 5 times faster (natively,
//! 40 µs against 200 µs), and the signature check was most of what a
//! token costs the gateway (docs/benchmark.md).

use num_bigint::BigUint;
use rsa::traits::PublicKeyParts;
use rsa::RsaPublicKey;
use sha2::{Digest, Sha256};

/// The DER prefix of a SHA-256 `DigestInfo` (RFC 8017 9.2, note 1).
const SHA256_DIGEST_INFO: [u8; 19] =
    [0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20];

/// Whether `signature` is `key`'s RS256 signature of `message`.
pub fn verify(key: &RsaPublicKey, message: &[u8], signature: &[u8]) -> bool {
    let k = key.size();
    // At least 8 bytes of padding (RFC 8017 9.2, step 5).
    if signature.len() != k || k < SHA256_DIGEST_INFO.len() + 32 + 11 {
        return false;
    }
    let n = BigUint::from_bytes_be(&key.n().to_bytes_be());
    let s = BigUint::from_bytes_be(signature);
    if s >= n {
        return false;
    }
    let m = pow(&s, &BigUint::from_bytes_be(&key.e().to_bytes_be()), &n).to_bytes_be();
    if m.len() > k - 1 {
        return false;
    }
    // EM = 0x00 0x01 FF…FF 0x00 DigestInfo H; `m` is EM without its
    // leading zero byte.
    let digest = Sha256::digest(message);
    let padding = k - 3 - SHA256_DIGEST_INFO.len() - digest.len();
    let mut expected = Vec::with_capacity(k - 1);
    expected.push(0x01);
    expected.extend(std::iter::repeat_n(0xff, padding));
    expected.push(0x00);
    expected.extend_from_slice(&SHA256_DIGEST_INFO);
    expected.extend_from_slice(&digest);
    m == expected
}

/// `base` to the power `exponent` mod `modulus`, left to right, one bit at
/// a time (a public exponent is short: 17 bits for 65537).
fn pow(base: &BigUint, exponent: &BigUint, modulus: &BigUint) -> BigUint {
    let bytes = exponent.to_bytes_be();
    let mut acc: Option<BigUint> = None;
    for byte in bytes {
        for bit in (0..8).rev() {
            if let Some(a) = acc.as_mut() {
                *a = (&*a * &*a) % modulus;
            }
            if byte >> bit & 1 == 1 {
                acc = Some(match acc {
                    Some(a) => (a * base) % modulus,
                    None => base % modulus,
                });
            }
        }
    }
    acc.unwrap_or_else(|| BigUint::from(1u32) % modulus)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs1v15::SigningKey;
    use rsa::signature::{SignatureEncoding, Signer};

    fn key() -> rsa::RsaPrivateKey {
        rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap()
    }

    #[test]
    fn it_agrees_with_the_rsa_crate_on_signatures_good_and_bad() {
        let private = key();
        let public = private.to_public_key();
        let signer = SigningKey::<Sha256>::new(private.clone());
        let theirs = rsa::pkcs1v15::VerifyingKey::<Sha256>::new(public.clone());
        for message in [&b""[..], b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0", &[7u8; 1000]] {
            let signature = signer.sign(message).to_vec();
            assert!(verify(&public, message, &signature));
            use rsa::signature::Verifier;
            let sig = rsa::pkcs1v15::Signature::try_from(&signature[..]).unwrap();
            assert!(theirs.verify(message, &sig).is_ok());
            // Another message, a flipped bit anywhere, a short or long signature.
            assert!(!verify(&public, b"another message", &signature));
            for i in [0, 1, 100, signature.len() - 1] {
                let mut bad = signature.clone();
                bad[i] ^= 1;
                assert!(!verify(&public, message, &bad), "bit flipped at {i}");
            }
            assert!(!verify(&public, message, &signature[1..]));
            let mut long = vec![0];
            long.extend(&signature);
            assert!(!verify(&public, message, &long));
        }
        // Another key's signature.
        let other = SigningKey::<Sha256>::new(key()).sign(b"m").to_vec();
        assert!(!verify(&public, b"m", &other));
    }

    #[test]
    fn a_signature_not_below_the_modulus_or_of_another_encoding_is_refused() {
        let private = key();
        let public = private.to_public_key();
        let n = public.n().to_bytes_be();
        assert_eq!(n.len(), public.size());
        assert!(!verify(&public, b"m", &n), "s = n");
        assert!(!verify(&public, b"m", &vec![0xff; n.len()]), "s > n");
        // A PKCS#1 signature of the same message with SHA-512 is not an RS256 one.
        let sha1ish = SigningKey::<sha2::Sha512>::new(private).sign(b"m").to_vec();
        assert!(!verify(&public, b"m", &sha1ish));
    }

    #[test]
    fn the_power_is_right_for_small_numbers() {
        let b = |n: u32| BigUint::from(n);
        assert_eq!(pow(&b(4), &b(13), &b(497)), b(445));
        assert_eq!(pow(&b(5), &b(1), &b(7)), b(5));
        assert_eq!(pow(&b(5), &b(0), &b(7)), b(1));
        assert_eq!(pow(&b(10), &b(65537), &b(1_000_003)), pow_slow(10, 65537, 1_000_003));
    }

    fn pow_slow(base: u64, mut e: u64, m: u64) -> BigUint {
        let (mut acc, mut b) = (1u64, base % m);
        while e > 0 {
            if e & 1 == 1 {
                acc = acc * b % m;
            }
            b = b * b % m;
            e >>= 1;
        }
        BigUint::from(acc)
    }
}
