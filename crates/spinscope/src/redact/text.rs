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
//! | `Bearer` and the token after it (case-insensitive) | `Bearer eyJ…` | `Bearer <redacted>` |
//! | a pair whose key is sensitive: `key=value`, `key: value`, quoted keys and values, `\"`-escaped JSON in text | `access_token=abc&x=1`, `"password": "a b"` | `access_token=<redacted>&x=1`, `"password": "<redacted>"` |
//! | the value after a pair that names a secret (`name=API_TOKEN value=…`, `"key":"DB_PASSWORD","value":"…"`) | | `"value":"<redacted>"` |
//! | a well-known token format ([`super::TOKEN_PREFIXES`], JWTs) | `ghp_…`, `AKIA…`, `sk-…`, `eyJ….eyJ….sig` | `<redacted>` |
//!
//! A pair's quoted value runs to its closing quote, across lines (an
//! unclosed one to the end of the text); a bracketed one (`{…}`, `[…]`) to
//! its matching bracket; an unquoted one to the next space, `&`, `,`, `;`,
//! quote, bracket or backslash; after `Authorization:`, `Cookie:` and the
//! like (a `:` separator and a key containing `authorization` or `cookie`),
//! to the end of the line (a JSON-escaped `\n` ends it too). An auth scheme
//! word (`Basic`, `Token`, …) at the start of a value stays visible and the
//! credential after it goes. A redaction that swallows the BEGIN line of a
//! private key block takes the whole block with it.

use super::shapes::{is_word_byte, token_end};
use super::{is_name_key, is_value_key, names_secret, RedactionPolicy, MAX_NAME_LEN, REDACTED};

/// Auth scheme words that precede a credential in a header value.
const AUTH_SCHEMES: [&str; 8] =
    ["bearer", "basic", "digest", "token", "negotiate", "ntlm", "apikey", "aws4-hmac-sha256"];

/// Longest key read back from a separator.
const MAX_KEY_LEN: usize = 256;

/// How far after a pair naming a secret its value may follow.
const VALUE_WINDOW: usize = 64;

/// `text` with every secret the rules above recognise replaced by
/// [`REDACTED`]. Linear in the length of `text`.
pub fn redact_text(text: &str, policy: &RedactionPolicy) -> String {
    let mut scanner =
        Scanner { text, b: text.as_bytes(), policy, out: String::new(), copied: 0, guard: 0, named_until: 0 };
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
}

impl Scanner<'_> {
    fn run(&mut self) {
        let len = self.b.len();
        let mut i = 0;
        while i < len {
            let c = self.b[i];
            let next = match c {
                b'-' => self.pem(i),
                b':' => self.userinfo(i).or_else(|| self.pair(i)),
                b'=' => self.pair(i),
                _ if c.is_ascii_alphanumeric() && (i == 0 || !is_word_byte(self.b[i - 1])) => {
                    self.bearer(i).or_else(|| token_end(self.b, i).map(|end| self.redact(i, end)))
                }
                _ => None,
            };
            i = next.unwrap_or(i + 1);
        }
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

    /// `Bearer <token>` at a word start.
    fn bearer(&mut self, i: usize) -> Option<usize> {
        let b = self.b;
        if !b[i..].get(..6)?.eq_ignore_ascii_case(b"bearer") {
            return None;
        }
        let mut start = i + 6;
        while start < b.len() && (b[start] == b' ' || b[start] == b'\t') {
            start += 1;
        }
        if start == i + 6 {
            return None;
        }
        let end = start + b[start..].iter().take_while(|&&c| is_token68(c)).count();
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
        let (key_start, key_end) = self.key_before(sep)?;
        let key = &self.text[key_start..key_end];
        let sensitive = self.policy.is_sensitive(key) || (sep < self.named_until && is_value_key(key));
        let is_name = is_name_key(key);
        if !sensitive && !is_name {
            return None;
        }
        let header =
            b[sep] == b':' && ["authorization", "cookie"].iter().any(|h| super::contains_ignore_ascii_case(key, h));
        let (start, end) = self.value_after(sep, header, sensitive)?;
        if is_name {
            // A new name: it names a secret or ends the previous one's window.
            let secret = names_secret(&self.text[start..end], self.policy);
            self.named_until = if secret { end + VALUE_WINDOW } else { 0 };
        }
        (sensitive && end > start).then(|| self.redact(start, end))
    }

    /// The key that ends just before `sep`: spaces, a closing quote (maybe
    /// escaped, `\"`, `\\\"`), then `[A-Za-z0-9_.-]+`, never read back across `guard`.
    fn key_before(&self, sep: usize) -> Option<(usize, usize)> {
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
        while k > self.guard && end - k < MAX_KEY_LEN && is_key_byte(b[k - 1]) {
            k -= 1;
        }
        (k < end).then_some((k, end))
    }

    /// The value after `sep`: quoted (`"…"`, `'…'`, `\"…\"`, `\\\"…\\\"`, to
    /// the closing quote), bracketed
    /// (`{…}`, `[…]`, when `sensitive`), to the end of the line (`header`),
    /// or one token (with an auth scheme word kept outside it). When the
    /// value is not `sensitive` it can only be a name: it is read no further
    /// than a name's length, so that nothing is read twice at length.
    fn value_after(&self, sep: usize, header: bool, sensitive: bool) -> Option<(usize, usize)> {
        let limit = if sensitive { self.b.len() } else { (sep + 8 + MAX_NAME_LEN).min(self.b.len()) };
        let b = &self.b[..limit];
        let skip_blanks = |mut j: usize| {
            loop {
                if j < b.len() && (b[j] == b' ' || b[j] == b'\t') {
                    j += 1;
                } else if b[j.min(b.len())..].starts_with(b"\\t") {
                    j += 2; // a tab in JSON-escaped text
                } else {
                    return j;
                }
            }
        };
        let v = skip_blanks(sep + 1);
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
            return Some((start, j.min(b.len())));
        }
        if sensitive && matches!(rest.first(), Some(b'{' | b'[')) {
            return Some((v, bracket_end(b, v)));
        }
        let mut start = v;
        let mut end = token_from(b, start);
        if AUTH_SCHEMES.iter().any(|s| b[start..end].eq_ignore_ascii_case(s.as_bytes())) {
            let credential = skip_blanks(end);
            if credential > end && credential < b.len() && !is_delimiter(b[credential]) {
                start = credential;
                end = token_from(b, start);
            }
        }
        if header {
            // To the end of the line, a JSON-escaped one (`\n`) included.
            let eol = |j: usize| match b[j] {
                b'\n' | b'\r' => true,
                b'\\' => matches!(b.get(j + 1), Some(b'n' | b'r')),
                _ => false,
            };
            end = (start..b.len()).find(|&j| eol(j)).unwrap_or(b.len());
        }
        Some((start, end))
    }
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

/// The end of the unquoted token starting at `start`.
fn token_from(b: &[u8], start: usize) -> usize {
    start + b[start..].iter().take_while(|&&c| !is_delimiter(c)).count()
}

/// What ends an unquoted value.
fn is_delimiter(c: u8) -> bool {
    c.is_ascii_whitespace()
        || matches!(
            c,
            b'&' | b',' | b';' | b'"' | b'\'' | b'`' | b'(' | b')' | b'[' | b']' | b'{' | b'}' | b'<' | b'>' | b'\\'
        )
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
        assert_eq!(r(r"secret\t=\tabc def"), r"secret\t=\t<redacted> def");
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
        assert_eq!(r("x-api-key: Token abc rest"), "x-api-key: Token <redacted> rest");
        assert_eq!(r(r#""Cookie: a=1; b=2\nHost: h""#), r#""Cookie: <redacted>\nHost: h""#);
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
        assert_eq!(r("token=x ééééééé"), "token=<redacted> ééééééé");
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
        assert_eq!(redact_text("patient_ssn=123-45-6789 ok", &p), "patient_ssn=<redacted> ok");
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
        ];
        for input in inputs {
            let started = std::time::Instant::now();
            let _ = r(&input);
            assert!(started.elapsed() < std::time::Duration::from_secs(2), "{}…", &input[..20]);
        }
    }
}
