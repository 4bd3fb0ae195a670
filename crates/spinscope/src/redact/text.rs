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
use super::{RedactionPolicy, REDACTED};
use bytes::{is_basic_credentials, is_token68, is_url_end, starts_with_ignore_case};

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
}

mod bytes;
mod pairs;
#[cfg(test)]
mod tests;
