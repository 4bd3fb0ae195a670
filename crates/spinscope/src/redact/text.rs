//! Secrets in free text: string values, error messages, trap details.
//!
//! One left-to-right pass over the bytes. At each position the first rule
//! that applies replaces the secret (never its surroundings) with
//! [`REDACTED`] and the scan goes on after it:
//!
//! | rule | example | becomes |
//! |---|---|---|
//! | PEM private key block (a `-----BEGIN …PRIVATE KEY…-----` line through its `-----END …-----`, or to the end of the text) | `-----BEGIN RSA PRIVATE KEY-----…` | `<redacted>` |
//! | URL userinfo (between `scheme://` and the last `@` of the authority) | `postgres://app:pw@db:5432/x` | `postgres://<redacted>@db:5432/x` |
//! | `Bearer` and the token after it (case-insensitive; after blanks, `:`, `%20` or `+`) | `Bearer eyJ…`, `bearer:t`, `Bearer%20t` | `Bearer <redacted>` |
//! | `Basic` and a credential after it that decodes (base64) to printable `user:password` | `Basic dXNlcjpwYXNz` | `Basic <redacted>` |
//! | a webhook URL's secret path ([`WEBHOOKS`]) | `https://hooks.slack.com/services/T0/B0/x` | `https://hooks.slack.com/services/<redacted>` |
//! | a password glued to `-p` on a `mysql…`/`mariadb…` command line | `mysql -uroot -ps3cr3t db` | `mysql -uroot -p<redacted> db` |
//! | a pair whose key is sensitive: `key=value`, `key: value`, quoted keys and values, `\"`-escaped JSON in text, keys written with `\uXXXX` escapes | `access_token=abc&x=1`, `"password": "a b"`, `"p\u0061ss": "x"` | `access_token=<redacted>&x=1`, `"password": "<redacted>"` |
//! | the value after a pair that names a secret (`name=API_TOKEN value=…`, `"key":"DB_PASSWORD","value":"…"`) | | `"value":"<redacted>"` |
//! | a well-known token format ([`super::TOKEN_PREFIXES`], JWTs) | `ghp_…`, `AKIA…`, `sk-…`, `eyJ….eyJ….sig` | `<redacted>` |
//!
//! A key is sensitive as [`RedactionPolicy::is_sensitive`] says; in a query
//! string (a key right after `?` or `&`) a key that is just `Signature` is
//! too (CloudFront's signed URLs). Words start after any byte that is not a
//! letter, digit, `_` or `-`, and after a percent-escape (`%20Bearer%20…`).
//!
//! Where a pair's value ends (everything up to there is redacted):
//!
//! * quoted (`"…"`, `'…'`, `\"…\"`): at its closing quote, across lines (an
//!   unclosed one at the end of the text);
//! * bracketed (`{…}`, `[…]`): after its matching bracket;
//! * after `Authorization:`, `Cookie:` and the like (a `:` separator and a
//!   key containing `authorization` or `cookie`): at the end of the line
//!   (a JSON-escaped `\n` ends it too);
//! * in a query string (the key right after `?` or `&`): at the next `&`
//!   or the end of the URL (a blank, a quote, a bracket, `,`, `;`);
//! * anywhere else (`key=value`, `key: value` in free text): it may run over
//!   several words (`password=correct horse battery`), and ends at the
//!   first of: the end of the line (a raw or JSON-escaped line break), `,`,
//!   `;`, `&`, a quote, a bracket, or before the next word that looks like
//!   a key (`user=…`, `user:…`, `user = …`, `12:30`, `https://…`), a
//!   command-line option (`-v`, `--host`), or that another rule reads from
//!   its start (`Bearer` or `Basic` and a credential, a `mysql…` command:
//!   that rule then redacts what it knows). Blanks at its end stay visible.
//!   A word made only of a key and `=` padding (`abc=`, `abc==`, base64's
//!   end) is part of the value, not a key.
//!
//! So a secret word after a `,` or `;`, or one that itself looks like
//! `key=value`, is not recognised as part of the value (quote such values).
//! An auth scheme word (`Basic`, `Token`, …) at the start of a value stays
//! visible and the credential after it goes. Inside an unquoted value a
//! backslash is part of it, except one (or a run) before a quote or before
//! `n`, `r`, `t` (a JSON escape: the value ends there). A redaction that
//! swallows the BEGIN line of a private key block takes the whole block
//! with it.

use super::shapes::{is_word_byte, token_end};
use super::{is_name_key, is_value_key, names_secret, RedactionPolicy, MAX_NAME_LEN, REDACTED, SIGNATURE_WORD};
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use std::borrow::Cow;

/// Auth scheme words that precede a credential in a header value.
const AUTH_SCHEMES: [&str; 8] =
    ["bearer", "basic", "digest", "token", "negotiate", "ntlm", "apikey", "aws4-hmac-sha256"];

/// Longest key read back from a separator.
const MAX_KEY_LEN: usize = 256;

/// How far after a pair naming a secret its value may follow.
const VALUE_WINDOW: usize = 64;

/// Webhook URLs whose path is their secret: what comes before the secret
/// part (case-insensitive, at a word start, so after `https://` too). All
/// of the path after it goes, to the end of the URL.
const WEBHOOKS: [&str; 5] = [
    "hooks.slack.com/services/",
    "hooks.slack.com/workflows/",
    "hooks.slack.com/triggers/",
    "discord.com/api/webhooks/",
    "discordapp.com/api/webhooks/",
];

/// Commands (prefixes of a word, case-insensitive: `mysql`, `mysqldump`,
/// `mysqladmin`, `mariadb`, `mariadb-dump`, …) whose `-p` option takes the
/// password glued to it (`-ps3cr3t`; `-p s3cr3t` would name a database). It
/// applies from the command word to the end of its command line: a line
/// break (raw or JSON-escaped), `;`, `|` or `&`.
const PASSWORD_FLAG_COMMANDS: [&str; 2] = ["mysql", "mariadb"];

/// Base64 as HTTP Basic credentials are written, padded or not.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// `text` with every secret the rules above recognise replaced by
/// [`REDACTED`]. Linear in the length of `text`.
pub fn redact_text(text: &str, policy: &RedactionPolicy) -> String {
    let mut scanner = Scanner {
        text,
        b: text.as_bytes(),
        policy,
        out: String::new(),
        copied: 0,
        guard: 0,
        named_until: 0,
        command: false,
    };
    scanner.run();
    if scanner.copied == 0 {
        return text.to_owned();
    }
    scanner.out.push_str(&text[scanner.copied..]);
    scanner.out
}

struct Scanner<'a> {
    text: &'a str,
    b: &'a [u8],
    policy: &'a RedactionPolicy,
    /// The redacted text up to `copied`.
    out: String,
    /// Input before this is in `out`.
    copied: usize,
    /// End of the last redaction: a key is never read back across it.
    guard: usize,
    /// A pair named a secret: a value-like key before this position is sensitive.
    named_until: usize,
    /// On the command line of a [`PASSWORD_FLAG_COMMANDS`] command.
    command: bool,
}

/// How a pair's value is read (see [`Scanner::value_after`]).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// A name, read no further than a name's length.
    Name,
    /// A sensitive value.
    Secret,
    /// A header's value: to the end of the line.
    Header,
    /// A password glued to a command-line option: no auth scheme word.
    Glued,
}

impl Scanner<'_> {
    fn run(&mut self) {
        let len = self.b.len();
        let mut i = 0;
        while i < len {
            let c = self.b[i];
            let next = match c {
                b'-' => self.pem(i).or_else(|| self.glued_password(i)),
                b':' => self.userinfo(i).or_else(|| self.pair(i)),
                b'=' => self.pair(i),
                b'\n' | b'\r' | b';' | b'|' | b'&' => {
                    self.command = false;
                    None
                }
                b'\\' if matches!(self.b.get(i + 1), Some(b'n' | b'r')) => {
                    self.command = false;
                    None
                }
                _ if c.is_ascii_alphanumeric() && self.word_starts(i) => self.word(i),
                _ => None,
            };
            i = next.unwrap_or(i + 1);
        }
    }

    /// Whether a word starts at `i`: after a byte that cannot continue one,
    /// or after a percent-escape (`%20Bearer%20…`).
    fn word_starts(&self, i: usize) -> bool {
        let b = self.b;
        i == 0
            || !is_word_byte(b[i - 1])
            || (i >= 3 && b[i - 3] == b'%' && b[i - 2].is_ascii_hexdigit() && b[i - 1].is_ascii_hexdigit())
    }

    /// The rules that apply at a word start.
    fn word(&mut self, i: usize) -> Option<usize> {
        if PASSWORD_FLAG_COMMANDS.iter().any(|c| starts_with_ignore_case(&self.b[i..], c)) {
            self.command = true;
        }
        self.bearer(i)
            .or_else(|| self.basic(i))
            .or_else(|| self.webhook(i))
            .or_else(|| token_end(self.b, i).map(|end| self.redact(i, end)))
    }

    /// Replaces input `start..end` (at or after `copied`) and returns where
    /// the scan goes on: `end`, or the end of a private key block that
    /// begins inside it (its body must not outlive its BEGIN line).
    fn redact(&mut self, start: usize, mut end: usize) -> usize {
        const BEGIN: &str = "-----BEGIN ";
        let mut from = start;
        // A BEGIN that starts inside, even if the region ends in it.
        let window = (end + BEGIN.len() - 1).min(self.b.len());
        while let Some(at) = self.b[from..window].windows(BEGIN.len()).position(|w| w == BEGIN.as_bytes()) {
            match self.pem_end(from + at) {
                Some(pem_end) => {
                    end = end.max(pem_end);
                    break;
                }
                None => from += at + 1,
            }
        }
        if self.copied == 0 {
            self.out.reserve(self.text.len());
        }
        self.out.push_str(&self.text[self.copied..start]);
        self.out.push_str(REDACTED);
        self.copied = end;
        self.guard = end;
        end
    }

    /// A PEM block whose label says `PRIVATE KEY`, through its END line.
    fn pem(&mut self, i: usize) -> Option<usize> {
        let end = self.pem_end(i)?;
        Some(self.redact(i, end))
    }

    /// The end of the private key block that begins at `i`, if one does:
    /// after its END line, or the end of the text.
    fn pem_end(&self, i: usize) -> Option<usize> {
        const BEGIN: &str = "-----BEGIN ";
        const DASHES: &str = "-----";
        if !self.text[i..].starts_with(BEGIN) {
            return None;
        }
        let label_start = i + BEGIN.len();
        let window = &self.b[label_start..(label_start + 80).min(self.b.len())];
        let label_len = window.windows(DASHES.len()).position(|w| w == DASHES.as_bytes())?;
        let label = &self.b[label_start..label_start + label_len];
        if !label.windows(11).any(|w| w == b"PRIVATE KEY") {
            return None;
        }
        let after = label_start + label_len + DASHES.len();
        let end = match self.text[after..].find("-----END ") {
            Some(at) => {
                let tail = after + at + "-----END ".len();
                match self.text[tail..].find(DASHES) {
                    Some(close) => tail + close + DASHES.len(),
                    None => self.b.len(),
                }
            }
            None => self.b.len(),
        };
        Some(end)
    }

    /// `scheme://userinfo@host`: the userinfo goes.
    fn userinfo(&mut self, i: usize) -> Option<usize> {
        let b = self.b;
        if i == 0 || !b[i - 1].is_ascii_alphanumeric() || !b[i + 1..].starts_with(b"//") {
            return None;
        }
        let start = i + 3;
        let mut at = None;
        for (j, &c) in b.iter().enumerate().skip(start) {
            match c {
                b'@' => at = Some(j),
                b'/' | b'?' | b'#' | b'\\' | b'"' | b'\'' | b'<' | b'>' | b'`' => break,
                c if c.is_ascii_whitespace() => break,
                _ => {}
            }
        }
        match at {
            Some(at) if at > start => Some(self.redact(start, at)),
            _ => None,
        }
    }

    /// Where the credential after auth scheme word `scheme` (at word start
    /// `i`) begins: after blanks, after `:` and any blanks, after `%20` or
    /// `+` (a URL-encoded space).
    fn credential_after(&self, i: usize, scheme: &str) -> Option<usize> {
        let b = self.b;
        if !b[i..].get(..scheme.len())?.eq_ignore_ascii_case(scheme.as_bytes()) {
            return None;
        }
        let after = i + scheme.len();
        let rest = &b[after..];
        if rest.starts_with(b"%20") {
            return Some(after + 3);
        }
        if rest.first() == Some(&b'+') {
            return Some(after + 1);
        }
        let colon = rest.first() == Some(&b':');
        let from = after + usize::from(colon);
        let start = from + b[from..].iter().take_while(|&&c| c == b' ' || c == b'\t').count();
        (colon || start > from).then_some(start)
    }

    /// `Bearer <token>` (`bearer:<token>`, `Bearer%20<token>`) at a word start.
    fn bearer(&mut self, i: usize) -> Option<usize> {
        let (start, end) = self.bearer_credential(i)?;
        Some(self.redact(start, end))
    }

    /// Where the token of a `Bearer` at word start `i` is, if one is.
    fn bearer_credential(&self, i: usize) -> Option<(usize, usize)> {
        let start = self.credential_after(i, "bearer")?;
        let end = start + self.b[start..].iter().take_while(|&&c| is_token68(c) || c == b'%').count();
        (end > start).then_some((start, end))
    }

    /// `Basic <credentials>` at a word start, when what follows is base64
    /// of printable `user:password` (so `Basic idea` and `Basic HTTP` stay).
    fn basic(&mut self, i: usize) -> Option<usize> {
        let (start, end) = self.basic_credential(i)?;
        Some(self.redact(start, end))
    }

    /// Where the credentials of a `Basic` at word start `i` are, if they are.
    fn basic_credential(&self, i: usize) -> Option<(usize, usize)> {
        let start = self.credential_after(i, "basic")?;
        let base64 = |c: &u8| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=');
        let end = start + self.b[start..].iter().take_while(|c| base64(c)).count();
        is_basic_credentials(&self.b[start..end]).then_some((start, end))
    }

    /// A webhook URL ([`WEBHOOKS`]) at a word start: its secret path goes.
    fn webhook(&mut self, i: usize) -> Option<usize> {
        let b = self.b;
        let prefix = WEBHOOKS.iter().find(|w| starts_with_ignore_case(&b[i..], w))?;
        let start = i + prefix.len();
        let end = start + b[start..].iter().take_while(|&&c| !is_url_end(c)).count();
        (end > start).then(|| self.redact(start, end))
    }

    /// `-p<password>` on a [`PASSWORD_FLAG_COMMANDS`] command line, at `i`
    /// (the `-`, after a blank): the password goes, to the end of its word
    /// (or its closing quote).
    fn glued_password(&mut self, i: usize) -> Option<usize> {
        let b = self.b;
        let option = self.command && b.get(i + 1) == Some(&b'p') && (i == 0 || matches!(b[i - 1], b' ' | b'\t'));
        if !option || b.get(i + 2).is_none_or(|c| c.is_ascii_whitespace()) {
            return None;
        }
        let (start, end, _) = self.value_after(i + 1, Reading::Glued)?;
        (end > start).then(|| self.redact(start, end))
    }

    /// A `key=value` or `key: value` pair at separator `sep`.
    fn pair(&mut self, sep: usize) -> Option<usize> {
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
            && ["authorization", "cookie"].iter().any(|h| super::contains_ignore_ascii_case(&key.name, h));
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
    fn value_after(&self, sep: usize, reading: Reading) -> Option<(usize, usize, bool)> {
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
fn unescape_key(raw: &str) -> (usize, String, bool) {
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

/// Whether `token` is HTTP Basic credentials: base64 of printable text
/// holding a `:` (`user:password`).
fn is_basic_credentials(token: &[u8]) -> bool {
    token.len() >= 4
        && BASE64.decode(token).is_ok_and(|decoded| {
            decoded.contains(&b':') && std::str::from_utf8(&decoded).is_ok_and(|s| !s.chars().any(char::is_control))
        })
}

/// Whether the word `b[start..end]` looks like a `key=value` or
/// `key:value` pair: key bytes, then `:`, or `=` followed by something
/// other than `=` or a blank (`abc=` and `abc==` end base64 text).
fn looks_like_key(b: &[u8], start: usize, end: usize) -> bool {
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
fn names_command(word: &[u8]) -> bool {
    (0..word.len()).any(|p| {
        (p == 0 || !is_word_byte(word[p - 1]))
            && PASSWORD_FLAG_COMMANDS.iter().any(|c| starts_with_ignore_case(&word[p..], c))
    })
}

/// Whether `word` looks like a command-line option: `-x…`, `--x…`.
fn looks_like_option(word: &[u8]) -> bool {
    word.len() >= 2 && word[0] == b'-' && (word[1].is_ascii_alphabetic() || word[1] == b'-')
}

/// Where the blanks from `j` on end: spaces, tabs and JSON-escaped tabs (`\t`).
fn blanks_end(b: &[u8], mut j: usize) -> usize {
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
fn starts_with_ignore_case(hay: &[u8], prefix: &str) -> bool {
    hay.get(..prefix.len()).is_some_and(|h| h.eq_ignore_ascii_case(prefix.as_bytes()))
}

/// The end of the bracketed value opening at `open` (`{` or `[`): after
/// its matching bracket (brackets in double-quoted strings do not count),
/// else the end of the text.
fn bracket_end(b: &[u8], open: usize) -> usize {
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
fn token_from(b: &[u8], start: usize) -> usize {
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
fn is_delimiter(c: u8) -> bool {
    c.is_ascii_whitespace()
        || matches!(
            c,
            b'&' | b',' | b';' | b'"' | b'\'' | b'`' | b'(' | b')' | b'[' | b']' | b'{' | b'}' | b'<' | b'>' | b'\\'
        )
}

/// What ends a URL in text.
fn is_url_end(c: u8) -> bool {
    c.is_ascii_whitespace()
        || matches!(c, b'"' | b'\'' | b'`' | b'<' | b'>' | b'\\' | b'?' | b'#' | b')' | b']' | b'}' | b',' | b';')
}

/// A byte of a key in a `key=value` pair.
fn is_key_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.')
}

/// A byte of an HTTP `token68` credential (RFC 9110).
fn is_token68(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> String {
        redact_text(s, &RedactionPolicy::default())
    }

    #[test]
    fn text_without_secrets_is_unchanged() {
        for s in [
            "",
            "hello world",
            "ratio 3:4, a=b, x == y, std::mem::take, https://example.com/a?b=c#d",
            "my password is long",
            "monkey business: fine",
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
            "bob@example.com wrote at 12:30",
            "ünïcødé ✓ 🦀 sk-short ghp_short AKIA",
        ] {
            assert_eq!(r(s), s);
        }
    }

    #[test]
    fn url_userinfo() {
        assert_eq!(r("postgres://app:s3cret@db:5432/app"), "postgres://<redacted>@db:5432/app");
        assert_eq!(
            r("git clone https://x-access-token:abc@github.com/o/r"),
            "git clone https://<redacted>@github.com/o/r"
        );
        assert_eq!(r("redis://:pw@cache"), "redis://<redacted>@cache");
        // A password with an unencoded '@': up to the last one.
        assert_eq!(r("amqp://u:p@ss@mq/vhost"), "amqp://<redacted>@mq/vhost");
        // No userinfo: an '@' after the path is not one.
        assert_eq!(r("https://h/p?mail=a@b"), "https://h/p?mail=a@b");
        assert_eq!(r("\"dsn\":\"mysql://root:toor@localhost\""), "\"dsn\":\"mysql://<redacted>@localhost\"");
    }

    #[test]
    fn bearer_tokens() {
        assert_eq!(r("Authorization: Bearer abc.def"), "Authorization: Bearer <redacted>");
        assert_eq!(r("sent bearer   xyz== then"), "sent bearer   <redacted> then");
        assert_eq!(r("BEARER t0k3n"), "BEARER <redacted>");
        assert_eq!(r("the bearer"), "the bearer");
        assert_eq!(r("bearers t"), "bearers t");
    }

    #[test]
    fn pairs_with_sensitive_keys() {
        assert_eq!(r("GET /cb?code=1&access_token=abc123&state=x"), "GET /cb?code=1&access_token=<redacted>&state=x");
        assert_eq!(r("password=hunter2"), "password=<redacted>");
        assert_eq!(r("API_KEY = 'a b c' next"), "API_KEY = '<redacted>' next");
        assert_eq!(r("token=\"a\nb\" c"), "token=\"<redacted>\" c");
        assert_eq!(r("token='unclosed\nrest"), "token='<redacted>");
        assert_eq!(r(r#"{"client_secret": "x\"y", "id": 1}"#), r#"{"client_secret": "<redacted>", "id": 1}"#);
        assert_eq!(r(r#"body {\"password\":\"p w\"}"#), r#"body {\"password\":\"<redacted>\"}"#);
        assert_eq!(r(r#"{\\\"token\\\": \\\"a\\b\\\"}"#), r#"{\\\"token\\\": \\\"<redacted>\\\"}"#);
        assert_eq!(r("db_pwd: pw1, user: bob"), "db_pwd: <redacted>, user: bob");
        assert_eq!(r("export GITHUB_TOKEN=ghx\n"), "export GITHUB_TOKEN=<redacted>\n");
        assert_eq!(r("token=abc=="), "token=<redacted>");
        assert_eq!(r(r"secret\t=\tabc def"), r"secret\t=\t<redacted>");
        assert_eq!(r(r"secret\t=\tabc def\tuser=x"), r"secret\t=\t<redacted>\tuser=x");
        assert_eq!(r("token="), "token=");
        assert_eq!(r("user=bob"), "user=bob");
        assert_eq!(
            r(r#"{"credentials": {"user": "a", "pass": ["b}"]}, "n": 1}"#),
            r#"{"credentials": <redacted>, "n": 1}"#
        );
        assert_eq!(r("secret=[1, [2, 3]] x"), "secret=<redacted> x");
        assert_eq!(r("token: {unclosed"), "token: <redacted>");
    }

    #[test]
    fn header_values_run_to_the_end_of_the_line_with_the_scheme_kept() {
        assert_eq!(r("Cookie: sid=1; theme=dark\nHost: h"), "Cookie: <redacted>\nHost: h");
        assert_eq!(r("Authorization: Basic dXNlcjpwYXNz"), "Authorization: Basic <redacted>");
        assert_eq!(r("Proxy-Authorization: Digest a=1, b=2\r\n"), "Proxy-Authorization: Digest <redacted>\r\n");
        assert_eq!(r("x-api-key: Token abc rest"), "x-api-key: Token <redacted>");
        assert_eq!(r("x-api-key: Token abc, rest"), "x-api-key: Token <redacted>, rest");
        assert_eq!(r(r#""Cookie: a=1; b=2\nHost: h""#), r#""Cookie: <redacted>\nHost: h""#);
    }

    #[test]
    fn short_key_words_count_as_the_last_word_of_a_key() {
        assert_eq!(r("pass=hunter2"), "pass=<redacted>");
        assert_eq!(r("db_pass: hunter2, user: bob"), "db_pass: <redacted>, user: bob");
        assert_eq!(r("--pass=x1 --verbose"), "--pass=<redacted> --verbose");
        assert_eq!(r("auth=abc123&next=1"), "auth=<redacted>&next=1");
        assert_eq!(r("X-Auth: abc123\nHost: h"), "X-Auth: <redacted>\nHost: h");
        assert_eq!(
            r(r#"{"smtpPass": "a b", "basicAuth": "u:p"}"#),
            r#"{"smtpPass": "<redacted>", "basicAuth": "<redacted>"}"#
        );
        assert_eq!(r(r#"{\"auth\":\"x\"}"#), r#"{\"auth\":\"<redacted>\"}"#);
        assert_eq!(r("url_sig=abc"), "url_sig=<redacted>");
        // Whole words only, and `signature` alone is prose.
        for s in [
            "passage: the door",
            "bypass=true",
            "compass: north",
            "author: Ann Lee",
            "authority: ca.example",
            "oauth: enabled",
            "auth_method: basic",
            "pass_through=yes",
            "invalid signature: expected abc",
            "Signature: valid",
            "the passage, the author and the signature, on authority",
            "tests pass, auth works",
        ] {
            assert_eq!(r(s), s);
        }
    }

    #[test]
    fn presigned_url_signatures() {
        let s3 = "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20240101%2Fs3%2Faws4_request&X-Amz-Date=20240101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=fe5f80f77d5fa3be";
        assert_eq!(
            r(s3),
            "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=<redacted>&X-Amz-Date=20240101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=<redacted>"
        );
        let sas = "https://a.blob.core.windows.net/c/b?sv=2022-11-02&sr=b&sp=r&sig=abc%2Bdef%3D&se=2024";
        assert_eq!(r(sas), "https://a.blob.core.windows.net/c/b?sv=2022-11-02&sr=b&sp=r&sig=<redacted>&se=2024");
        assert_eq!(
            r("https://s.googleapis.com/b/o?X-Goog-Signature=0a1b2c"),
            "https://s.googleapis.com/b/o?X-Goog-Signature=<redacted>"
        );
        // CloudFront: `Signature` alone, as a query parameter.
        assert_eq!(
            r("https://d.cloudfront.net/i.jpg?Expires=1&Signature=ab~c-d_"),
            "https://d.cloudfront.net/i.jpg?Expires=1&Signature=<redacted>"
        );
        // In a query string the value ends at `&` or the end of the URL.
        assert_eq!(r("see https://h/x?sig=abc then more"), "see https://h/x?sig=<redacted> then more");
    }

    #[test]
    fn webhook_urls_lose_their_path() {
        assert_eq!(
            r("post to https://hooks.slack.com/services/T0000/B0000/XXXXXXXX now"),
            "post to https://hooks.slack.com/services/<redacted> now"
        );
        assert_eq!(
            r(r#"{"url":"https://Hooks.Slack.com/workflows/T1/A2/3/abc"}"#),
            r#"{"url":"https://Hooks.Slack.com/workflows/<redacted>"}"#
        );
        assert_eq!(
            r("https://discord.com/api/webhooks/1/tok?wait=1"),
            "https://discord.com/api/webhooks/<redacted>?wait=1"
        );
        for s in ["https://hooks.slack.com/", "https://api.slack.com/services/x", "xhooks.slack.com/services/T0/B0/x"] {
            assert_eq!(r(s), s);
        }
    }

    #[test]
    fn bare_basic_credentials_are_recognised_by_what_they_decode_to() {
        assert_eq!(r("sent Basic dXNlcjpwYXNz to it"), "sent Basic <redacted> to it");
        assert_eq!(r(r#"{"h":"basic YWxhZGRpbjpvcGVuIHNlc2FtZQ=="}"#), r#"{"h":"basic <redacted>"}"#);
        assert_eq!(r("Basic dTpw"), "Basic <redacted>", "u:p");
        assert_eq!(r("Basic%20dXNlcjpwYXNz"), "Basic%20<redacted>");
        // Prose, or base64 that is no `user:password`.
        for s in ["Basic usage: run it", "Basic HTTP auth", "Basic idea", "basic dXNlcnBhc3M=", "Basic AAECAwQ6"] {
            assert_eq!(r(s), s);
        }
    }

    #[test]
    fn bearer_after_a_colon_or_an_encoded_space() {
        assert_eq!(r("bearer:abc.def rest"), "bearer:<redacted> rest");
        assert_eq!(r("Bearer: abc"), "Bearer: <redacted>");
        assert_eq!(r("h=Bearer%20abc%2Bdef&x=1"), "h=Bearer%20<redacted>&x=1");
        assert_eq!(r("Authorization%3A%20Bearer%20abc"), "Authorization%3A%20Bearer%20<redacted>");
        assert_eq!(r("bearer+abc"), "bearer+<redacted>");
        assert_eq!(r("%2Fghp_0123456789abcdefghijABCDEFGHIJ0123456789"), "%2F<redacted>");
        for s in ["Bearer::new(t)", "the bearer:", "bearer%2", "bearerx:abc"] {
            assert_eq!(r(s), s);
        }
    }

    #[test]
    fn a_password_glued_to_a_mysql_p_option() {
        assert_eq!(r("mysql -uroot -ps3cr3t appdb"), "mysql -uroot -p<redacted> appdb");
        assert_eq!(r("/usr/bin/mysqldump -h db -p'a b' x"), "/usr/bin/mysqldump -h db -p'<redacted>' x");
        assert_eq!(r(r#"{"cmd":"mariadb -u r -p\"a b\" x"}"#), r#"{"cmd":"mariadb -u r -p\"<redacted>\" x"}"#);
        // A value stops before a command word, which starts its command line.
        assert_eq!(r("MYSQL_PWD=x mysql -pY"), "MYSQL_PWD=<redacted> mysql -p<redacted>");
        assert_eq!(r("pass=x y /usr/bin/mysql -pY"), "pass=<redacted> /usr/bin/mysql -p<redacted>");
        for s in [
            "mkdir -p /tmp/x",
            "mysql -p appdb",
            "mysql -P3306 db",
            "ssh -p22 host",
            "mysql -u root; cp -pR a b",
            "mysql -u root && cp -pR a b",
            "mysql -u root\ncp -pR a b",
            r"mysql -u root\ncp -pR a b",
            "mysql -u root-pX",
        ] {
            assert_eq!(r(s), s);
        }
    }

    #[test]
    fn keys_written_with_json_escapes() {
        assert_eq!(r(r#"{"p\u0061ssword": "x y"}"#), r#"{"p\u0061ssword": "<redacted>"}"#);
        assert_eq!(r(r#"{"\u0074oken":"x"}"#), r#"{"\u0074oken":"<redacted>"}"#);
        assert_eq!(r(r#"{\"p\\u0061ss\":\"x\"}"#), r#"{\"p\\u0061ss\":\"<redacted>\"}"#);
        assert_eq!(r(r#"{"\u0050\u0041\u0053\u0053": 1}"#), r#"{"\u0050\u0041\u0053\u0053": <redacted>}"#);
        // A JSON escape before a key is not part of it.
        assert_eq!(r(r"line\npass=x"), r"line\npass=<redacted>");
        assert_eq!(r(r"C:\\pass=x"), r"C:\\pass=<redacted>");
        assert_eq!(r(r#"{"a\u0020pass": "x"}"#), r#"{"a\u0020pass": "<redacted>"}"#, "as `a pass: x`");
        for s in [r#"{"\u0070assage": "x"}"#, r#"{"pass\u00e9": "x"}"#] {
            assert_eq!(r(s), s);
        }
        assert_eq!(unescape_key(r"x\u0020pass"), (7, "pass".to_string(), false));
        assert_eq!(unescape_key(r"ab\\u00"), (4, "u00".to_string(), false));
        assert_eq!(unescape_key(r"a\npass"), (2, "npass".to_string(), true));
        assert_eq!(unescape_key(r"a\n"), (2, "n".to_string(), true));
        assert_eq!(unescape_key(r"a\"), (2, String::new(), false));
        // After a backslash, a key is read with and without its first letter.
        assert_eq!(r(r"C:\Users\token=abc"), r"C:\Users\token=<redacted>");
        assert_eq!(r(r"a\tauth=x"), r"a\tauth=<redacted>");
        assert_eq!(r(r"line\rname=DB_PASSWORD value=x"), r"line\rname=DB_PASSWORD value=<redacted>");
    }

    #[test]
    fn an_unquoted_value_runs_over_its_words() {
        assert_eq!(r("password=correct horse battery staple"), "password=<redacted>");
        assert_eq!(r("password=correct horse battery\nnext line"), "password=<redacted>\nnext line");
        assert_eq!(r(r"password=correct horse\nnext"), r"password=<redacted>\nnext");
        assert_eq!(r("password: correct horse, user: bob"), "password: <redacted>, user: bob");
        assert_eq!(r("password=correct horse; x"), "password=<redacted>; x");
        assert_eq!(r("password=correct horse user=bob"), "password=<redacted> user=bob");
        assert_eq!(r("level=error password: a b msg:x"), "level=error password: <redacted> msg:x");
        assert_eq!(r("mysql --password=correct horse --host db"), "mysql --password=<redacted> --host db");
        assert_eq!(r("token=abc at 12:30"), "token=<redacted> 12:30");
        assert_eq!(r("token=abc see https://example.com"), "token=<redacted> https://example.com");
        assert_eq!(
            r(r#"msg="login failed password=correct horse" user=bob"#),
            r#"msg="login failed password=<redacted>" user=bob"#
        );
        assert_eq!(r("(password=a b) c"), "(password=<redacted>) c");
        assert_eq!(r("password=a b   "), "password=<redacted>   ");
        assert_eq!(r(r"password=C:\dir\x y"), "password=<redacted>");
        assert_eq!(r(r#"{\"note\":\"password=a b\"}"#), r#"{\"note\":\"password=<redacted>\"}"#);
        // It stops before a pair's key whatever the blanks, and runs over
        // what ends base64 (a bare `Basic` credential's padding).
        assert_eq!(r("password=a b user = c"), "password=<redacted> user = c");
        assert_eq!(r(r#"password=a b password = "c d""#), r#"password=<redacted> password = "<redacted>""#);
        assert_eq!(r(r"password=a b user\t:\tc"), r"password=<redacted> user\t:\tc");
        assert_eq!(r(r#"password=a b   password="c d""#), r#"password=<redacted>   password="<redacted>""#);
        assert_eq!(r("password=a b c== d"), "password=<redacted>");
        assert_eq!(r("password=a user= b"), "password=<redacted>");
        assert_eq!(r("password=a Basic dXNlcjpaZ3E= b"), "password=<redacted> Basic <redacted> b");
        assert_eq!(r(r#""password=a Basic dXNlcjpaZ3E=""#), r#""password=<redacted> Basic <redacted>""#);
        assert_eq!(r("password=a bearer b c"), "password=<redacted> bearer <redacted> c");
        // A name is one word; so is a query string's value.
        assert_eq!(r("name=DB PASSWORD value=v"), "name=DB PASSWORD value=v");
        assert_eq!(r("https://h/cb?token=abc def"), "https://h/cb?token=<redacted> def");
        // The named value runs over its words too.
        assert_eq!(r("name=API_TOKEN value=a b c"), "name=API_TOKEN value=<redacted>");
    }

    #[test]
    fn a_pair_naming_a_secret_redacts_the_value_that_follows() {
        assert_eq!(
            r(r#"[{"name":"API_TOKEN","value":"v1"},{"name":"HOME","value":"/root"}]"#),
            r#"[{"name":"API_TOKEN","value":"<redacted>"},{"name":"HOME","value":"/root"}]"#
        );
        assert_eq!(r("name=DB_PASSWORD value=v2"), "name=DB_PASSWORD value=<redacted>");
        // Too far after the name: another object.
        let far = format!("name=API_TOKEN {} value=v3", "x".repeat(100));
        assert_eq!(r(&far), far);
    }

    #[test]
    fn token_shapes() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(r(&format!("jwt {jwt}.")), "jwt <redacted>.");
        assert_eq!(r("key AKIAIOSFODNN7EXAMPLE used"), "key <redacted> used");
        assert_eq!(r("(ghp_0123456789abcdefghijABCDEFGHIJ0123456789)"), "(<redacted>)");
        assert_eq!(r("sk-proj-abcdefghij0123456789XYZ"), "<redacted>");
        // Not at a word start: part of another word.
        assert_eq!(r("task-abcdefghij0123456789XYZ"), "task-abcdefghij0123456789XYZ");
    }

    #[test]
    fn pem_private_key_blocks() {
        let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAK\n-----END RSA PRIVATE KEY-----";
        assert_eq!(r(&format!("key:\n{pem}\nbye")), "key:\n<redacted>\nbye");
        let openssh = "-----BEGIN OPENSSH PRIVATE KEY-----\\nb3Blbn\\n-----END OPENSSH PRIVATE KEY-----";
        assert_eq!(r(&format!("\"{openssh}\"")), "\"<redacted>\"");
        // Cut before its END line: everything after BEGIN goes.
        assert_eq!(r("x -----BEGIN PRIVATE KEY-----\nMIIEv"), "x <redacted>");
        // A redaction that swallows a BEGIN line takes its block with it.
        assert_eq!(r(&format!("Authorization: Bearer x {pem}\nbye")), "Authorization: Bearer <redacted>\nbye");
        assert_eq!(r(&format!("PRIVATE_KEY=\"{pem}\"\nnext=1")), "PRIVATE_KEY=\"<redacted>\"\nnext=1");
        assert_eq!(r(&format!("private_key={pem}\nbye")), "private_key=<redacted>\nbye");
        // A region that ends just before multi-byte text is no BEGIN.
        assert_eq!(r("token=x; ééééééé"), "token=<redacted>; ééééééé");
        assert_eq!(r("token=x ééééééé"), "token=<redacted>");
        assert_eq!(r("-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQ\n-----END PGP PRIVATE KEY BLOCK-----"), "<redacted>");
    }

    #[test]
    fn trap_messages_keep_their_backtrace_and_lose_their_secrets() {
        let trap = "component 'faults' failed: error while executing at wasm backtrace:\n    0:  0x33bae - faults.wasm!abort\n    1:  0x2699c - faults.wasm!std::panicking::panic_with_hook\nCaused by:\n    wasm trap: wasm `unreachable` instruction executed (connecting to postgres://svc:pw9@db with Authorization: Bearer tkn)";
        let out = r(trap);
        assert!(out.contains("0:  0x33bae - faults.wasm!abort"), "{out}");
        assert!(out.contains("std::panicking::panic_with_hook"), "{out}");
        assert!(!out.contains("pw9") && !out.contains("tkn"), "{out}");
    }

    #[test]
    fn extra_fragments_apply_to_pairs() {
        let p = RedactionPolicy::with_extra_keys(["ssn"]);
        assert_eq!(redact_text("patient_ssn=123-45-6789, ok", &p), "patient_ssn=<redacted>, ok");
    }

    #[test]
    fn pathological_inputs_stay_linear() {
        // Each would be quadratic with a naive rescan; 1 MB must take well
        // under a second even in a debug build.
        let inputs = [
            "name=".repeat(200_000),
            "a=".repeat(500_000),
            format!("token={}", "x".repeat(1_000_000)),
            "http://".repeat(150_000),
            "-----BEGIN ".repeat(100_000),
            "eyJaaaaaaaaaa.".repeat(70_000),
            " :".repeat(500_000),
            "secret={".repeat(100_000),
            "id=".repeat(300_000),
            format!("{}=", " ".repeat(1_000_000)),
            "bearer ".repeat(150_000),
            "password=a ".repeat(100_000),
            "mysql -p".repeat(100_000),
            "mysql -p{".repeat(100_000),
            "Basic dXNlcjpwYXNz".repeat(60_000),
            "basic ".repeat(150_000),
            format!("Basic {}", "A".repeat(1_000_000)),
            "hooks.slack.com/services/".repeat(40_000),
            r"p\u0061ssword=".repeat(60_000),
            format!("{}=x", r"\u0061".repeat(200_000)),
            "x y z ".repeat(150_000) + "secret=a",
            format!("secret=a {}", "b ".repeat(500_000)),
        ];
        for input in inputs {
            let started = std::time::Instant::now();
            let _ = r(&input);
            assert!(started.elapsed() < std::time::Duration::from_secs(2), "{}…", &input[..20]);
        }
    }
}
