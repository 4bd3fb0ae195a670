//! Client-supplied strings that are stored or logged are bounded: a client
//! must not be able to grow a session record, a log line or a span
//! attribute without limit.

/// The most bytes of a client-supplied string that are kept.
pub const MAX_CLIENT_STRING_BYTES: usize = 256;

/// Appended to a string cut at [`MAX_CLIENT_STRING_BYTES`].
pub const CUT_MARKER: &str = "…[cut]";

/// `s` whole when it fits in [`MAX_CLIENT_STRING_BYTES`] bytes, else its
/// longest prefix that fits (never splitting a character) followed by
/// [`CUT_MARKER`].
pub fn client_string(s: &str) -> String {
    if s.len() <= MAX_CLIENT_STRING_BYTES {
        return s.to_string();
    }
    let mut cut = MAX_CLIENT_STRING_BYTES;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{CUT_MARKER}", &s[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_strings_stay_long_ones_are_cut_on_a_char_boundary() {
        assert_eq!(client_string("claude-code"), "claude-code");
        let exact = "a".repeat(MAX_CLIENT_STRING_BYTES);
        assert_eq!(client_string(&exact), exact);
        let long = "é".repeat(MAX_CLIENT_STRING_BYTES);
        let cut = client_string(&long);
        assert!(cut.ends_with(CUT_MARKER));
        assert_eq!(cut.len(), MAX_CLIENT_STRING_BYTES + CUT_MARKER.len());
        assert!(cut.trim_end_matches(CUT_MARKER).chars().all(|c| c == 'é'));
    }
}
