//! Byte-level shapes the rules of [`super`] read: words, blanks, brackets,
//! delimiters, credentials.

use super::PASSWORD_FLAG_COMMANDS;
use crate::redact::shapes::is_word_byte;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;

/// Base64 as HTTP Basic credentials are written, padded or not.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Whether `token` is HTTP Basic credentials: base64 of printable text
/// holding a `:` (`user:password`).
pub(super) fn is_basic_credentials(token: &[u8]) -> bool {
    token.len() >= 4
        && BASE64.decode(token).is_ok_and(|decoded| {
            decoded.contains(&b':') && std::str::from_utf8(&decoded).is_ok_and(|s| !s.chars().any(char::is_control))
        })
}

/// Whether the word `b[start..end]` looks like a `key=value` or
/// `key:value` pair: key bytes, then `:`, or `=` followed by something
/// other than `=` or a blank (`abc=` and `abc==` end base64 text).
pub(super) fn looks_like_key(b: &[u8], start: usize, end: usize) -> bool {
    let sep = start + b[start..end].iter().take_while(|&&c| is_key_byte(c)).count();
    sep > start
        && sep < end
        && match b[sep] {
            b':' => true,
            b'=' => b.get(sep + 1).is_some_and(|&c| c != b'=' && !c.is_ascii_whitespace()),
            _ => false,
        }
}

/// Whether a word inside `word` starts with a [`PASSWORD_FLAG_COMMANDS`]
/// command (`/usr/bin/mysql`).
pub(super) fn names_command(word: &[u8]) -> bool {
    (0..word.len()).any(|p| {
        (p == 0 || !is_word_byte(word[p - 1]))
            && PASSWORD_FLAG_COMMANDS.iter().any(|c| starts_with_ignore_case(&word[p..], c))
    })
}

/// Whether `word` looks like a command-line option: `-x…`, `--x…`.
pub(super) fn looks_like_option(word: &[u8]) -> bool {
    word.len() >= 2 && word[0] == b'-' && (word[1].is_ascii_alphabetic() || word[1] == b'-')
}

/// Where the blanks from `j` on end: spaces, tabs and JSON-escaped tabs (`\t`).
pub(super) fn blanks_end(b: &[u8], mut j: usize) -> usize {
    loop {
        if j < b.len() && (b[j] == b' ' || b[j] == b'\t') {
            j += 1;
        } else if b.get(j..).is_some_and(|rest| rest.starts_with(b"\\t")) {
            j += 2;
        } else {
            return j;
        }
    }
}

/// Whether `hay` starts with the lowercase ASCII `prefix`, ignoring case.
pub(super) fn starts_with_ignore_case(hay: &[u8], prefix: &str) -> bool {
    hay.get(..prefix.len()).is_some_and(|h| h.eq_ignore_ascii_case(prefix.as_bytes()))
}

/// The end of the bracketed value opening at `open` (`{` or `[`): after
/// its matching bracket (brackets in double-quoted strings do not count),
/// else the end of the text.
pub(super) fn bracket_end(b: &[u8], open: usize) -> usize {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut j = open;
    while j < b.len() {
        match b[j] {
            b'\\' if in_string => j += 1,
            b'"' => in_string = !in_string,
            b'{' | b'[' if !in_string => depth += 1,
            b'}' | b']' if !in_string => {
                depth -= 1;
                if depth == 0 {
                    return j + 1;
                }
            }
            _ => {}
        }
        j += 1;
    }
    b.len()
}

/// The end of the unquoted word starting at `start`: the first delimiter
/// ([`is_delimiter`]), where a backslash is one only before a quote or a
/// JSON escape's `n`, `r`, `t` (or at the end of the text), else part of
/// the word (`C:\dir`, `\/`).
pub(super) fn token_from(b: &[u8], start: usize) -> usize {
    let mut j = start;
    while j < b.len() {
        match b[j] {
            b'\\' => {
                let after = j + b[j..].iter().take_while(|&&c| c == b'\\').count();
                if matches!(b.get(after), None | Some(b'"' | b'\'' | b'n' | b'r' | b't')) {
                    return j;
                }
                j = after;
            }
            c if is_delimiter(c) => return j,
            _ => j += 1,
        }
    }
    j
}

/// What ends an unquoted value.
pub(super) fn is_delimiter(c: u8) -> bool {
    c.is_ascii_whitespace()
        || matches!(
            c,
            b'&' | b',' | b';' | b'"' | b'\'' | b'`' | b'(' | b')' | b'[' | b']' | b'{' | b'}' | b'<' | b'>' | b'\\'
        )
}

/// What ends a URL in text.
pub(super) fn is_url_end(c: u8) -> bool {
    c.is_ascii_whitespace()
        || matches!(c, b'"' | b'\'' | b'`' | b'<' | b'>' | b'\\' | b'?' | b'#' | b')' | b']' | b'}' | b',' | b';')
}

/// A byte of a key in a `key=value` pair.
pub(super) fn is_key_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.')
}

/// A byte of an HTTP `token68` credential (RFC 9110).
pub(super) fn is_token68(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=')
}
