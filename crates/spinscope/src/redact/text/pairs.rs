//! Pairs: `key=value` and `key: value`, the key read back from the
//! separator (JSON escapes decoded) and the value read forward from it.

use super::bytes::{
    blanks_end, bracket_end, is_delimiter, is_key_byte, looks_like_key, looks_like_option, names_command, token_from,
};
use super::{Reading, Scanner, AUTH_SCHEMES, MAX_KEY_LEN, VALUE_WINDOW};
use crate::redact::{is_name_key, is_value_key, names_secret, MAX_NAME_LEN, SIGNATURE_WORD};
use std::borrow::Cow;

impl Scanner<'_> {
    /// A `key=value` or `key: value` pair at separator `sep`.
    pub(super) fn pair(&mut self, sep: usize) -> Option<usize> {
        let b = self.b;
        // `::`, `==`, `:=`, `://` separate nothing here.
        if let Some(&next) = b.get(sep + 1) {
            if next == b':' || next == b'=' || (b[sep] == b':' && next == b'/') {
                return None;
            }
        }
        let key = self.key_before(sep)?;
        let query = key.start > 0 && matches!(b[key.start - 1], b'?' | b'&');
        let sensitive = key.readings().any(|k| {
            self.policy.is_sensitive(k)
                || (query && k.eq_ignore_ascii_case(SIGNATURE_WORD))
                || (sep < self.named_until && is_value_key(k))
        });
        let is_name = key.readings().any(is_name_key);
        if !sensitive && !is_name {
            return None;
        }
        let header = b[sep] == b':'
            && ["authorization", "cookie"].iter().any(|h| crate::redact::contains_ignore_ascii_case(&key.name, h));
        let reading = match (header, sensitive) {
            (true, _) => Reading::Header,
            (false, true) => Reading::Secret,
            (false, false) => Reading::Name,
        };
        let (start, mut end, open) = self.value_after(sep, reading)?;
        if is_name {
            // A new name: it names a secret or ends the previous one's window.
            let secret = names_secret(&self.text[start..end], self.policy);
            self.named_until = if secret { end + VALUE_WINDOW } else { 0 };
        }
        if sensitive && open && !query {
            end = self.words_end(end);
        }
        (sensitive && end > start).then(|| self.redact(start, end))
    }

    /// The end of an unquoted value in free text whose first word ends at
    /// `end`: on over the words that follow, up to a delimiter (the end of
    /// the line, `,`, `;`, `&`, a quote, a bracket, see [`token_from`]), a
    /// word that looks like a key (`user=…`, `user:…`, `user = …`) or an
    /// option (`-v`, `--host`), or a word that another rule reads from its
    /// start (`Bearer` or `Basic` and a credential, a `mysql…` command),
    /// whichever comes first.
    fn words_end(&self, mut end: usize) -> usize {
        let b = self.b;
        loop {
            let j = blanks_end(b, end);
            if j == end {
                return end;
            }
            let word_end = token_from(b, j);
            let word = &b[j..word_end];
            let stop = word.is_empty()
                || looks_like_key(b, j, word_end)
                || looks_like_option(word)
                || self.key_at(word, word_end)
                // Its own rule takes it, and what follows, from its start.
                || self.bearer_credential(j).is_some()
                || self.basic_credential(j).is_some()
                || names_command(word);
            if stop {
                return end;
            }
            end = word_end;
        }
    }

    /// Whether `word` (ending at `word_end`) is the key of a pair whose
    /// separator comes after blanks (`user = bob`, `user\t: bob`), or a
    /// separator itself: a value must not swallow a pair's key.
    fn key_at(&self, word: &[u8], word_end: usize) -> bool {
        let b = self.b;
        let k = blanks_end(b, word_end);
        matches!(word[0], b'=' | b':')
            || (k > word_end && matches!(b.get(k), Some(b'=' | b':')) && word.iter().all(|&c| is_key_byte(c)))
    }

    /// The key that ends just before `sep`: spaces, a closing quote (maybe
    /// escaped, `\"`, `\\\"`), then `[A-Za-z0-9_.-]+` and JSON escapes (see
    /// [`unescape_key`]), never read back across `guard`.
    fn key_before(&self, sep: usize) -> Option<Key<'_>> {
        let b = self.b;
        let mut k = sep;
        loop {
            if k > self.guard && (b[k - 1] == b' ' || b[k - 1] == b'\t') {
                k -= 1;
            } else if k > self.guard + 1 && b[k - 1] == b't' && b[k - 2] == b'\\' {
                k -= 2; // a tab in JSON-escaped text
            } else {
                break;
            }
        }
        if k > self.guard && (b[k - 1] == b'"' || b[k - 1] == b'\'') {
            k -= 1;
            // `\"`, `\\\"`: JSON quoted once or more in text.
            while k > self.guard && b[k - 1] == b'\\' {
                k -= 1;
            }
        }
        let end = k;
        while k > self.guard && end - k < MAX_KEY_LEN && (is_key_byte(b[k - 1]) || b[k - 1] == b'\\') {
            k -= 1;
        }
        let raw = &self.text[k..end];
        if !raw.contains('\\') {
            return (k < end).then_some(Key { start: k, name: Cow::Borrowed(raw), after_escape: false });
        }
        let (offset, name, after_escape) = unescape_key(raw);
        (!name.is_empty()).then_some(Key { start: k + offset, name: Cow::Owned(name), after_escape })
    }

    /// The value after `sep`, and whether it is open (an unquoted word that
    /// free text may continue, see [`Self::words_end`]): quoted (`"…"`,
    /// `'…'`, `\"…\"`, `\\\"…\\\"`, to the closing quote), bracketed (`{…}`,
    /// `[…]`, unless a name), to the end of the line (a header), or one
    /// word (with an auth scheme word kept outside it, unless glued to an
    /// option). A name is read no further than a name's length, so that
    /// nothing is read twice at length.
    pub(super) fn value_after(&self, sep: usize, reading: Reading) -> Option<(usize, usize, bool)> {
        let limit = match reading {
            Reading::Name => (sep + 8 + MAX_NAME_LEN).min(self.b.len()),
            _ => self.b.len(),
        };
        let b = &self.b[..limit];
        let v = blanks_end(b, sep + 1);
        let rest = &b[v..];
        let slashes = rest.iter().take_while(|&&c| c == b'\\').count();
        let (quote, open) = if slashes > 0 && rest.get(slashes) == Some(&b'"') {
            (Some(b'"'), slashes + 1)
        } else {
            match rest.first() {
                Some(&q @ (b'"' | b'\'')) => (Some(q), 1),
                _ => (None, 0),
            }
        };
        if let Some(q) = quote {
            let escaped = open > 1;
            let start = v + open;
            let mut j = start;
            // To the closing quote, across lines (a multi-line value in an
            // env file); an unclosed quote runs to the end of the text.
            while j < b.len() {
                if escaped && b[j] == b'\\' {
                    // Ends at the first run of backslashes before a quote.
                    let run = b[j..].iter().take_while(|&&c| c == b'\\').count();
                    if b.get(j + run) == Some(&q) {
                        break;
                    }
                    j += run;
                    continue;
                }
                if !escaped && b[j] == b'\\' {
                    j += 2;
                    continue;
                }
                if !escaped && b[j] == q {
                    break;
                }
                j += 1;
            }
            return Some((start, j.min(b.len()), false));
        }
        if reading != Reading::Name && matches!(rest.first(), Some(b'{' | b'[')) {
            return Some((v, bracket_end(b, v), false));
        }
        let mut start = v;
        let mut end = token_from(b, start);
        let scheme = AUTH_SCHEMES.iter().any(|s| b[start..end].eq_ignore_ascii_case(s.as_bytes()));
        if scheme && reading != Reading::Glued {
            let credential = blanks_end(b, end);
            if credential > end && credential < b.len() && !is_delimiter(b[credential]) {
                start = credential;
                end = token_from(b, start);
            }
        }
        if reading == Reading::Header {
            // To the end of the line, a JSON-escaped one (`\n`) included.
            let eol = |j: usize| match b[j] {
                b'\n' | b'\r' => true,
                b'\\' => matches!(b.get(j + 1), Some(b'n' | b'r')),
                _ => false,
            };
            end = (start..b.len()).find(|&j| eol(j)).unwrap_or(b.len());
            return Some((start, end, false));
        }
        Some((start, end, true))
    }
}

/// A key read back from a separator.
struct Key<'a> {
    /// Where it starts in the text.
    start: usize,
    /// The key, JSON escapes decoded.
    name: Cow<'a, str>,
    /// It follows a backslash, so its first letter may be a JSON escape's
    /// (`\npass`: a line break, then `pass`; or `\token` in a path).
    after_escape: bool,
}

impl Key<'_> {
    /// What the key may be: its name, and without its first letter when
    /// that may belong to an escape (both are checked: the safe side).
    fn readings(&self) -> impl Iterator<Item = &str> {
        let name = self.name.as_ref();
        std::iter::once(name).chain(self.after_escape.then(|| &name[1..]))
    }
}

/// A key read back over JSON escapes (`raw` is key bytes and backslashes):
/// `\uXXXX` (or `\\uXXXX`, escaped again) of a key character is decoded, so
/// `p\u0061ssword` is `password`; any other escape (`\n`, `\t`, `\\`, …),
/// or an escaped character that cannot be in a key, comes before the key.
/// Returns where in `raw` the key starts, the key, and whether its first
/// letter may be a control escape's (`n`, `r`, `t`, `b`, `f`).
pub(super) fn unescape_key(raw: &str) -> (usize, String, bool) {
    let b = raw.as_bytes();
    let mut key = String::with_capacity(raw.len());
    let mut start = 0;
    let mut after_escape = false;
    let mut j = 0;
    while j < b.len() {
        if b[j] != b'\\' {
            key.push(char::from(b[j]));
            j += 1;
            continue;
        }
        let after = j + b[j..].iter().take_while(|&&c| c == b'\\').count();
        j = after;
        after_escape = false;
        match unicode_escape(b, after) {
            Some(c) => {
                j = after + 5;
                if c.is_ascii() && is_key_byte(c as u8) {
                    key.push(c);
                    continue;
                }
            }
            None => after_escape = matches!(b.get(after), Some(b'n' | b'r' | b't' | b'b' | b'f')),
        }
        key.clear();
        start = j;
    }
    let after_escape = after_escape && !key.is_empty();
    (start, key, after_escape)
}

/// The character of the `uXXXX` escape at `at`, if there is one.
fn unicode_escape(b: &[u8], at: usize) -> Option<char> {
    let hex = b.get(at + 1..at + 5).filter(|h| b[at] == b'u' && h.iter().all(u8::is_ascii_hexdigit))?;
    char::from_u32(u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?)
}
