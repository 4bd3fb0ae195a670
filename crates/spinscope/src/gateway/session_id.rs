//! Session ids (`MCP-Session-Id`): 128 bits as 32 lowercase hex digits,
//! unguessable and visible ASCII as the spec asks. The low bit of the last
//! digit says whether the store the session lives in reads many keys in
//! one call (Spin's SQLite store: `get-many`; Spin's Redis store has no
//! working `get-many`). A handshake-era `tools/call` reads that bit before
//! it reads anything, and so can read its session together with the
//! tool's entry and the breakers: one store call where it made two.
//!
//! The bit is a hint, never trusted: a client may send any id. A wrong
//! hint costs one failed read (on Redis, `get-many` of two or more keys is
//! a `KEYS` with too many arguments, refused at once, no scan), after
//! which the session is read the usual way. 127 random bits remain.

/// A new session id from 16 random bytes, telling whether its store reads
/// many keys in one call ([`batch_reads`]).
pub fn new(random: [u8; 16], batch_reads: bool) -> String {
    let mut bytes = random;
    bytes[15] = (bytes[15] & !1) | u8::from(batch_reads);
    crate::trace::hex(&bytes)
}

/// Whether `id` has the shape of a session id: 32 lowercase hex digits.
/// Anything else names no session, and is never used in a store key.
pub fn well_formed(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// What `id` says of its store: true when it was created on a store that
/// reads many keys in one call. A hint only (see the module's comment);
/// false for an id of another shape.
pub fn batch_reads(id: &str) -> bool {
    well_formed(id) && id.as_bytes().last().and_then(|d| (*d as char).to_digit(16)).is_some_and(|d| d & 1 == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_tells_its_store_and_keeps_127_random_bits() {
        for random in [[0u8; 16], [0xff; 16], [0x5a; 16]] {
            for batch in [true, false] {
                let id = new(random, batch);
                assert!(well_formed(&id), "{id}");
                assert_eq!(batch_reads(&id), batch, "{id}");
                // Only the last bit is taken: the rest is the random bytes.
                assert_eq!(id[..31], crate::trace::hex(&random)[..31]);
            }
        }
    }

    #[test]
    fn anything_but_an_id_hints_nothing() {
        for id in ["", "1", "0123456789abcdef0123456789abcde", "0123456789ABCDEF0123456789ABCDEF", "../../x"] {
            assert!(!batch_reads(id), "{id}");
        }
        assert!(!well_formed("0123456789abcdef0123456789abcdeg"));
        assert!(well_formed("0123456789abcdef0123456789abcdef"));
    }
}
