//! Request ids: which incoming ones are kept, and new ones.

/// Whether an incoming request id (e.g. `X-Request-Id`) is safe to echo and
/// log as is: 1–64 chars of `[A-Za-z0-9._-]`.
pub fn is_safe_request_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// A new request id: 16 lowercase hex chars from 8 random bytes.
pub fn new_request_id(random: &[u8; 8]) -> String {
    crate::trace::hex(random)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids() {
        assert_eq!(new_request_id(&[0xd5, 0xaa, 0xfb, 0xe6, 0xc5, 0x6c, 0x32, 0xec]), "d5aafbe6c56c32ec");
        assert!(is_safe_request_id(&new_request_id(&[0; 8])));
        for ok in ["a", "A-b_c.9", &"x".repeat(64)] {
            assert!(is_safe_request_id(ok), "{ok}");
        }
        for bad in ["", &"x".repeat(65), "a b", "a\"b", "a\nb", "é", "a/b", "a=b"] {
            assert!(!is_safe_request_id(bad), "{bad:?}");
        }
    }
}
