//! Well-known token formats, recognised by their prefix and the length of
//! what follows, at the start of a word (the byte before is not a letter,
//! digit, `_` or `-`). Each check reads the candidate once.

/// Which bytes a token may continue with.
#[derive(Clone, Copy)]
enum Chars {
    /// `[A-Za-z0-9]`
    Alnum,
    /// `[A-Za-z0-9_]`
    AlnumUnderscore,
    /// `[A-Za-z0-9_-]` (base64url)
    Base64Url,
    /// `[A-Z0-9]`
    UpperDigit,
}

impl Chars {
    fn allows(self, c: u8) -> bool {
        match self {
            Chars::Alnum => c.is_ascii_alphanumeric(),
            Chars::AlnumUnderscore => c.is_ascii_alphanumeric() || c == b'_',
            Chars::Base64Url => c.is_ascii_alphanumeric() || c == b'_' || c == b'-',
            Chars::UpperDigit => c.is_ascii_uppercase() || c.is_ascii_digit(),
        }
    }
}

/// A token format: its prefix, the bytes that follow, and how many at least.
struct Shape {
    prefix: &'static str,
    chars: Chars,
    min: usize,
}

const fn shape(prefix: &'static str, chars: Chars, min: usize) -> Shape {
    Shape { prefix, chars, min }
}

/// The formats recognised besides JWTs (three or more base64url segments,
/// the first starting `eyJ`, i.e. `{"`).
const SHAPES: [Shape; 24] = [
    // OpenAI, Anthropic and others: sk-…, sk-proj-…, sk-ant-api03-…
    shape("sk-", Chars::Base64Url, 20),
    // Stripe secret and restricted keys, webhook secrets.
    shape("sk_live_", Chars::Alnum, 16),
    shape("sk_test_", Chars::Alnum, 16),
    shape("rk_live_", Chars::Alnum, 16),
    shape("rk_test_", Chars::Alnum, 16),
    shape("whsec_", Chars::Alnum, 16),
    // GitHub tokens: personal, OAuth, user-to-server, server-to-server, refresh, fine-grained.
    shape("ghp_", Chars::Alnum, 30),
    shape("gho_", Chars::Alnum, 30),
    shape("ghu_", Chars::Alnum, 30),
    shape("ghs_", Chars::Alnum, 30),
    shape("ghr_", Chars::Alnum, 30),
    shape("github_pat_", Chars::AlnumUnderscore, 22),
    // GitLab personal access tokens.
    shape("glpat-", Chars::Base64Url, 20),
    // AWS access key ids (long-term and temporary).
    shape("AKIA", Chars::UpperDigit, 16),
    shape("ASIA", Chars::UpperDigit, 16),
    // Slack tokens.
    shape("xoxb-", Chars::Base64Url, 10),
    shape("xoxp-", Chars::Base64Url, 10),
    shape("xoxa-", Chars::Base64Url, 10),
    shape("xoxr-", Chars::Base64Url, 10),
    shape("xoxs-", Chars::Base64Url, 10),
    // Google API keys, npm, Hugging Face, PyPI.
    shape("AIza", Chars::Base64Url, 30),
    shape("npm_", Chars::Alnum, 30),
    shape("hf_", Chars::Alnum, 30),
    shape("pypi-", Chars::Base64Url, 32),
];

/// The prefixes of the recognised token formats (JWTs are `eyJ…`), for
/// documentation and tests.
pub const TOKEN_PREFIXES: [&str; 24] = {
    let mut out = [""; 24];
    let mut i = 0;
    while i < SHAPES.len() {
        out[i] = SHAPES[i].prefix;
        i += 1;
    }
    out
};

/// Whether `c` continues a word (so a token cannot start right after it).
pub(super) fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// How many bytes of `b` from `from` on are in `chars`.
fn run(b: &[u8], from: usize, chars: Chars) -> usize {
    b[from.min(b.len())..].iter().take_while(|&&c| chars.allows(c)).count()
}

/// The end of a token starting at `i` (a word start), if one does.
pub(super) fn token_end(b: &[u8], i: usize) -> Option<usize> {
    let rest = &b[i..];
    if rest.starts_with(b"eyJ") {
        return jwt_end(b, i);
    }
    SHAPES.iter().find_map(|s| {
        if !rest.starts_with(s.prefix.as_bytes()) {
            return None;
        }
        let start = i + s.prefix.len();
        let n = run(b, start, s.chars);
        (n >= s.min).then_some(start + n)
    })
}

/// A JWT (JWS: three segments, the last may be empty; JWE: five): base64url
/// segments joined by dots, the first at least 10 bytes long.
fn jwt_end(b: &[u8], i: usize) -> Option<usize> {
    let first = run(b, i, Chars::Base64Url);
    if first < 10 {
        return None;
    }
    let mut end = i + first;
    let mut segments = 1;
    while end < b.len() && b[end] == b'.' {
        let n = run(b, end + 1, Chars::Base64Url);
        if n == 0 {
            // Only the signature of an unsigned JWS may be empty.
            if segments == 2 {
                end += 1;
                segments += 1;
            }
            break;
        }
        end += 1 + n;
        segments += 1;
    }
    (segments >= 3).then_some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end(s: &str) -> Option<usize> {
        token_end(s.as_bytes(), 0)
    }

    #[test]
    fn each_prefix_matches_a_long_enough_token_and_no_shorter() {
        for s in &SHAPES {
            let filler: String = match s.chars {
                Chars::UpperDigit => "A7".repeat(s.min),
                _ => "a7".repeat(s.min),
            };
            let long = format!("{}{} tail", s.prefix, &filler[..s.min]);
            assert_eq!(end(&long), Some(s.prefix.len() + s.min), "{long}");
            let short = format!("{}{} tail", s.prefix, &filler[..s.min - 1]);
            assert_eq!(end(&short), None, "{short}");
        }
        assert_eq!(TOKEN_PREFIXES.len(), SHAPES.len());
        assert!(TOKEN_PREFIXES.contains(&"ghp_"));
    }

    #[test]
    fn tokens_end_at_the_first_byte_outside_their_alphabet() {
        let t = "ghp_0123456789abcdefghijABCDEFGHIJ0123456789";
        assert_eq!(end(&format!("{t}\" more")), Some(t.len()));
        assert_eq!(end("AKIAIOSFODNN7EXAMPLE,"), Some(20));
        // Lowercase is not part of an AWS key id.
        assert_eq!(end("AKIAiosfodnn7example"), None);
    }

    #[test]
    fn jwts_need_three_segments() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(end(jwt), Some(jwt.len()));
        assert_eq!(end(&format!("{jwt}. Next")), Some(jwt.len()), "a full stop is not a segment");
        // alg "none": an empty signature.
        let unsigned = "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.";
        assert_eq!(end(unsigned), Some(unsigned.len()));
        // JWE: five segments.
        let jwe = "eyJhbGciOiJSU0EifQ.a.b.c.d";
        assert_eq!(end(jwe), Some(jwe.len()));
        assert_eq!(end("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0"), None);
        assert_eq!(end("eyJhbGciOiJIUzI1NiJ9..x"), None);
        assert_eq!(end("eyJhb.x.y"), None, "too short a header");
    }
}
