//! Redaction of what reaches a log line or a span: tool-call arguments,
//! tool error texts and host failure details (trap messages).
//!
//! Two kinds of rule, both applied at any depth:
//!
//! * **by key name** (the value tree): the value of any object key whose
//!   name contains one of [`SENSITIVE_KEY_FRAGMENTS`] (case-insensitive
//!   substring, plus the configured extra fragments), or whose last word is
//!   one of [`SENSITIVE_KEY_WORDS`] (`db_pass`, `x-auth`, `sig`; or
//!   [`SIGNATURE_WORD`] after another word, `X-Amz-Signature`), is replaced,
//!   whole subtree included, by [`REDACTED`]; so is every value-like field
//!   (`value`, `val`, `data`, `default`, any key containing `value`) of an
//!   object whose name-like field (`name`, `key`, `id`, `header`, `variable`,
//!   `var`, `env`, `field`, `param`, `parameter`, `label`) holds a sensitive
//!   name, as in `{"name": "API_TOKEN", "value": "…"}`;
//! * **by shape** (every string, object keys included, and free text such as
//!   error messages, see [`redact_text`]): URL userinfo, `Bearer` tokens,
//!   `Basic` credentials, webhook URLs, `mysql -p<password>`, `key=value` /
//!   `key: value` pairs whose key is sensitive (a multi-word value to its
//!   end, as the text module defines it), PEM private key blocks and
//!   well-known token formats (JWTs, `sk-…`, `ghp_…`, `AKIA…`, …).
//!
//! Client-supplied names (the MCP `clientInfo` name and version) go through
//! [`client_string`]: the same free-text redaction, then the client-string cap.
//!
//! Then the lengths: string values longer than [`MAX_STRING_CHARS`]
//! characters keep their first [`MAX_STRING_CHARS`] characters followed by
//! [`STRING_TRUNCATION_MARK`]; the serialized JSON text is capped at
//! [`MAX_ARGUMENTS_CHARS`] characters, marker included: longer text keeps
//! its head and ends with [`ARGUMENTS_TRUNCATION_MARK`] (the result is then
//! no longer valid JSON, which is fine for a log field).
//!
//! Lengths are counted in Unicode scalar values (`char`s), never bytes, so a
//! cut never splits a UTF-8 sequence. Redaction happens on the whole value
//! *before* any cut, so a secret can never leak even partially through a
//! truncated string. Every scanner makes one pass over its text (linear
//! time); the gateway runs them only when the invocation log or span export
//! is on.

use serde_json::{Map, Value};

mod shapes;
mod text;

pub use shapes::TOKEN_PREFIXES;
pub use text::redact_text;

#[cfg(test)]
mod proptests;

/// Longest string value kept whole, in characters.
pub const MAX_STRING_CHARS: usize = 200;
/// Cap on the whole serialized argument text, in characters (marker included).
pub const MAX_ARGUMENTS_CHARS: usize = 1000;
/// Replacement for a sensitive value.
pub const REDACTED: &str = "<redacted>";
/// Appended to a string value cut at [`MAX_STRING_CHARS`].
pub const STRING_TRUNCATION_MARK: &str = "…";
/// Appended to the serialized text when it is cut to [`MAX_ARGUMENTS_CHARS`].
pub const ARGUMENTS_TRUNCATION_MARK: &str = "…(truncated)";

/// Key-name fragments that are always sensitive (lowercase; matched as
/// case-insensitive substrings). `key` also covers `api_key`, `apiKey`,
/// `private_key`, `x-api-key`; `token` covers `access_token`, `id_token`,
/// `csrf_token`; `credential` covers `credentials`; `cookie` covers
/// `set-cookie`. Substring matching errs on the safe side: `monkey` and
/// `keyboard` are redacted too.
pub const SENSITIVE_KEY_FRAGMENTS: [&str; 10] =
    ["password", "passwd", "pwd", "passphrase", "secret", "token", "key", "credential", "authorization", "cookie"];

/// Whole words that make a key sensitive when they are its *last* word
/// (case-insensitive; words are split at anything that is not an ASCII
/// letter or digit, and before an uppercase letter that follows a lowercase
/// one or a digit): `pass`, `db_pass`, `smtpPass`, `auth`, `x-auth`,
/// `basicAuth`, `sig`, `url_sig`. Whole words, so that `passage`, `bypass`,
/// `compass`, `author`, `authority`, `oauth` and `auth_method` are not.
pub const SENSITIVE_KEY_WORDS: [&str; 3] = ["pass", "auth", "sig"];

/// A last word that is sensitive only after another word (`X-Amz-Signature`,
/// `X-Goog-Signature`, `requestSignature`): a key that is `signature` alone
/// is prose (`invalid signature: …`) unless it is a query parameter
/// (CloudFront's `&Signature=…`, see the text scanner).
pub const SIGNATURE_WORD: &str = "signature";

/// Object keys (case-insensitive, whole name) whose string value *names* a
/// setting, as in `{"name": "API_TOKEN", "value": "…"}`.
const NAME_KEYS: [&str; 11] =
    ["name", "key", "id", "header", "variable", "var", "env", "field", "param", "parameter", "label"];

/// Longest text taken as the *name* of a setting (a longer one is prose).
const MAX_NAME_LEN: usize = 128;

/// Which object keys are sensitive: the built-in fragments plus extras.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedactionPolicy {
    /// Extra lowercase fragments, matched like the built-in ones.
    extra_keys: Vec<String>,
}

impl RedactionPolicy {
    /// The default fragments plus `extra` (trimmed, lowercased, empty ones
    /// skipped — an empty fragment would match, and so redact, every key).
    pub fn with_extra_keys<I, S>(extra: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let extra_keys =
            extra.into_iter().map(|k| k.as_ref().trim().to_lowercase()).filter(|k| !k.is_empty()).collect();
        Self { extra_keys }
    }

    /// Extra fragments configured on top of the defaults.
    pub fn extra_keys(&self) -> &[String] {
        &self.extra_keys
    }

    /// Whether a value named `key` (an object key, the key of a `key=value`
    /// pair, or the name in a name/value pair) must be redacted: it contains
    /// a fragment, or its last word is one of [`SENSITIVE_KEY_WORDS`] (or
    /// [`SIGNATURE_WORD`], after another word).
    pub fn is_sensitive(&self, key: &str) -> bool {
        let fragments = || SENSITIVE_KEY_FRAGMENTS.iter().copied().chain(self.extra_keys.iter().map(String::as_str));
        let by_fragment = if key.is_ascii() {
            fragments().any(|frag| contains_ignore_ascii_case(key, frag))
        } else {
            let key = key.to_lowercase();
            fragments().any(|frag| key.contains(frag))
        };
        by_fragment || {
            let (word, alone) = last_word(key);
            SENSITIVE_KEY_WORDS.iter().any(|w| word.eq_ignore_ascii_case(w))
                || (!alone && word.eq_ignore_ascii_case(SIGNATURE_WORD))
        }
    }
}

/// The last word of `key` (see [`SENSITIVE_KEY_WORDS`]), and whether it is
/// the only one.
fn last_word(key: &str) -> (&str, bool) {
    let b = key.as_bytes();
    let end = b.len() - b.iter().rev().take_while(|c| !c.is_ascii_alphanumeric()).count();
    let mut start = end;
    while start > 0 && b[start - 1].is_ascii_alphanumeric() {
        start -= 1;
        let camel_hump = start > 0
            && b[start].is_ascii_uppercase()
            && (b[start - 1].is_ascii_lowercase() || b[start - 1].is_ascii_digit());
        if camel_hump {
            break;
        }
    }
    let alone = b[..start].iter().all(|c| !c.is_ascii_alphanumeric());
    (&key[start..end], alone)
}

/// A client-supplied name (the MCP `clientInfo` name and version) as it may
/// be stored, logged, exported and counted: redacted as free text with the
/// default policy ([`redact_text`]), then bounded
/// ([`crate::bounded::client_string`]; redaction first, so that no secret
/// leaks in part through the cut).
pub fn client_string(s: &str) -> String {
    crate::bounded::client_string(&redact_text(s, &RedactionPolicy::default()))
}

/// Whether `hay` contains the lowercase `needle`, ASCII letters compared
/// case-insensitively (no allocation).
fn contains_ignore_ascii_case(hay: &str, needle: &str) -> bool {
    let needle = needle.as_bytes();
    !needle.is_empty() && hay.as_bytes().windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
}

/// Whether object key `key` names a setting (see [`NAME_KEYS`]).
fn is_name_key(key: &str) -> bool {
    NAME_KEYS.iter().any(|n| key.eq_ignore_ascii_case(n))
}

/// Whether object key `key` holds the value of a named setting.
fn is_value_key(key: &str) -> bool {
    ["val", "data", "default"].iter().any(|n| key.eq_ignore_ascii_case(n)) || contains_ignore_ascii_case(key, "value")
}

/// Whether `name` (the value of a name-like key) names a secret.
fn names_secret(name: &str, policy: &RedactionPolicy) -> bool {
    name.len() <= MAX_NAME_LEN && policy.is_sensitive(name)
}

/// Redacts and truncates `value` (the `arguments` of a tool call) into the
/// text stored in the invocation log. See the module docs for the rules.
pub fn redact_arguments(value: &Value, policy: &RedactionPolicy) -> String {
    let cleaned = redact_value(value, policy);
    // Serializing a `Value` cannot fail (all map keys are strings).
    let text = serde_json::to_string(&cleaned).unwrap_or_default();
    truncate_chars(&text, MAX_ARGUMENTS_CHARS, ARGUMENTS_TRUNCATION_MARK)
}

/// Free text (a tool's error text, a trap message) as a log field or span
/// attribute: [`redact_text`], then cut to `max_chars` characters (plus
/// [`STRING_TRUNCATION_MARK`]).
pub fn redact_message(text: &str, policy: &RedactionPolicy, max_chars: usize) -> String {
    let redacted = redact_text(text, policy);
    match redacted.char_indices().nth(max_chars) {
        Some((byte_idx, _)) => format!("{}{STRING_TRUNCATION_MARK}", &redacted[..byte_idx]),
        None => redacted,
    }
}

/// The value tree with sensitive values replaced and long strings cut.
pub fn redact_value(value: &Value, policy: &RedactionPolicy) -> Value {
    match value {
        Value::Object(map) => {
            let named_secret =
                map.iter().any(|(k, v)| is_name_key(k) && v.as_str().is_some_and(|name| names_secret(name, policy)));
            let mut out = Map::with_capacity(map.len());
            for (k, v) in map {
                let sensitive = policy.is_sensitive(k) || (named_secret && is_value_key(k));
                let v = if sensitive { Value::String(REDACTED.to_owned()) } else { redact_value(v, policy) };
                out.insert(redact_text(k, policy), v);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| redact_value(v, policy)).collect()),
        Value::String(s) => Value::String(cut_string(&redact_text(s, policy))),
        other => other.clone(),
    }
}

/// A string value cut to [`MAX_STRING_CHARS`] characters plus the marker.
fn cut_string(s: &str) -> String {
    match s.char_indices().nth(MAX_STRING_CHARS) {
        Some((byte_idx, _)) => format!("{}{STRING_TRUNCATION_MARK}", &s[..byte_idx]),
        None => s.to_owned(),
    }
}

/// `s` unchanged if it has at most `max` chars, else its head followed by
/// `marker`, `max` chars in total.
fn truncate_chars(s: &str, max: usize, marker: &str) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let keep = max.saturating_sub(marker.chars().count());
    let byte_idx = s.char_indices().nth(keep).map_or(s.len(), |(i, _)| i);
    format!("{}{marker}", &s[..byte_idx])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn redact(v: Value) -> String {
        redact_arguments(&v, &RedactionPolicy::default())
    }

    #[test]
    fn top_level_secret_is_redacted() {
        let out = redact(json!({"url": "https://x", "password": "hunter2"}));
        assert_eq!(out, r#"{"password":"<redacted>","url":"https://x"}"#);
    }

    #[test]
    fn nested_object_secret_is_redacted() {
        let out = redact(json!({"login": {"user": "bob", "secret": "s3cr3t"}}));
        assert!(!out.contains("s3cr3t"), "{out}");
        assert!(out.contains(r#""user":"bob""#));
        assert!(out.contains(r#""secret":"<redacted>""#));
    }

    #[test]
    fn object_in_array_and_array_of_arrays() {
        let out = redact(json!({
            "items": [{"token": "t1"}, {"name": "ok"}],
            "grid": [[{"apiKey": "k1"}], [[{"deep": {"PASSWORD": "p1"}}]]],
        }));
        for secret in ["t1", "k1", "p1"] {
            assert!(!out.contains(&format!("\"{secret}\"")), "{secret} leaked: {out}");
        }
        assert_eq!(out.matches(REDACTED).count(), 3, "{out}");
        assert!(out.contains(r#""name":"ok""#));
    }

    #[test]
    fn whole_subtree_under_sensitive_key_is_redacted() {
        let out = redact(json!({"credentials_token": {"a": "b", "n": [1, 2]}, "x": 1}));
        assert_eq!(out, r#"{"credentials_token":"<redacted>","x":1}"#);
    }

    #[test]
    fn key_names_match_case_insensitively_as_substrings() {
        let p = RedactionPolicy::default();
        for k in [
            "apiKey",
            "X-Token",
            "PASSWORD",
            "client_secret",
            "Keyring",
            "monkey",
            "Authorization",
            "proxy-authorization",
            "Cookie",
            "Set-Cookie",
            "aws_credentials",
            "Credential",
            "passphrase",
            "SSH_PASSPHRASE",
            "db_pwd",
            "PWD",
            "passwd",
            "private_key",
            "privateKey",
            // Whole last words.
            "pass",
            "PASS",
            "db_pass",
            "DB_PASS",
            "smtpPass",
            "dbPASS",
            "--pass",
            "auth",
            "x-auth",
            "X-Auth",
            "basicAuth",
            "proxy.auth",
            "v2Auth",
            "sig",
            "url_sig",
            "X-Amz-Signature",
            "X-Goog-Signature",
            "requestSignature",
            "auth:",
        ] {
            assert!(p.is_sensitive(k), "{k}");
        }
        for k in [
            "url",
            "text",
            "name",
            "tok",
            "author",
            "authority",
            "authors",
            "oauth",
            "OAuth",
            "auth_method",
            "authMode",
            "passage",
            "bypass",
            "compass",
            "passenger",
            "pass_through",
            "passes",
            "signature",
            "Signature",
            "signatures",
            "sig_version",
            "signal",
            "session",
            "value",
            "",
            "_",
        ] {
            assert!(!p.is_sensitive(k), "{k}");
        }
        // Non-ASCII keys are lowercased the Unicode way.
        assert!(p.is_sensitive("ÜBER_PASSWORD"));
        assert!(!p.is_sensitive("überschrift"));
    }

    #[test]
    fn the_new_default_fragments_redact_at_any_depth() {
        let out = redact(json!({
            "headers": [{"Authorization": "Basic dXNlcjpwYXNz"}, {"Cookie": "sid=abc123"}],
            "db": {"conn": {"PWD": "pw-one", "sslPassphrase": "pp-two"}},
            "aws": {"Credentials": {"AccessKeyId": "id", "x": "y"}},
        }));
        for secret in ["dXNlcjpwYXNz", "abc123", "pw-one", "pp-two", "\"y\""] {
            assert!(!out.contains(secret), "{secret} leaked: {out}");
        }
    }

    #[test]
    fn values_are_matched_by_shape_not_by_mere_words() {
        // Plain words that merely mention a secret stay; shapes go.
        let out = redact(json!({"note": "my password is x", "list": ["token"]}));
        assert_eq!(out, r#"{"list":["token"],"note":"my password is x"}"#);
        let out = redact(json!({"query": "password=hunter2", "dsn": "postgres://u:p4ss@db/x"}));
        assert_eq!(out, r#"{"dsn":"postgres://<redacted>@db/x","query":"password=<redacted>"}"#);
    }

    #[test]
    fn name_value_pairs_redact_the_value() {
        let out = redact(json!({
            "env": [
                {"name": "API_TOKEN", "value": "tok-1"},
                {"name": "LOG_LEVEL", "value": "debug"},
                {"Name": "DB_PASSWORD", "Value": {"nested": "tok-2"}, "valueFrom": "tok-3"},
                {"key": "Authorization", "value": "tok-4", "type": "text"},
                {"header": "X-Api-Key", "val": "tok-5"},
                {"label": "Passphrase", "data": "tok-6", "default": "tok-7"},
            ]
        }));
        for secret in ["tok-1", "tok-2", "tok-3", "tok-4", "tok-5", "tok-6", "tok-7"] {
            assert!(!out.contains(secret), "{secret} leaked: {out}");
        }
        assert!(out.contains(r#""name":"API_TOKEN""#), "the name stays: {out}");
        assert!(out.contains(r#""value":"debug""#), "{out}");
        assert!(out.contains(r#""type":"text""#), "{out}");
    }

    #[test]
    fn a_long_name_is_prose_not_a_setting() {
        let name = format!("{} token", "word ".repeat(40));
        let out = redact(json!({"name": name, "value": "kept"}));
        assert!(out.contains("kept"), "{out}");
    }

    #[test]
    fn object_keys_are_scanned_for_shapes_too() {
        let key = format!("ghp_{}", "A1b2C3d4".repeat(5));
        let out = redact(json!({ key.clone(): 1 }));
        assert!(!out.contains(&key[4..]), "{out}");
    }

    #[test]
    fn extra_keys_extend_the_defaults() {
        let p = RedactionPolicy::with_extra_keys(" SSN, iban ,,".split(','));
        assert_eq!(p.extra_keys(), ["ssn", "iban"]);
        let out =
            redact_arguments(&json!({"patient_ssn": "c", "IBAN": "x", "token": "t", "q": "ok", "s": "ssn=123-45"}), &p);
        assert_eq!(
            out,
            r#"{"IBAN":"<redacted>","patient_ssn":"<redacted>","q":"ok","s":"ssn=<redacted>","token":"<redacted>"}"#
        );
        // An empty list is just the defaults; it must not redact everything.
        assert_eq!(RedactionPolicy::with_extra_keys("".split(',')), RedactionPolicy::default());
    }

    #[test]
    fn long_strings_are_cut_at_200_chars() {
        let exact = "a".repeat(MAX_STRING_CHARS);
        assert_eq!(redact(json!(exact.clone())), format!("\"{exact}\""));
        let long = "b".repeat(MAX_STRING_CHARS + 1);
        let expected = format!("\"{}{STRING_TRUNCATION_MARK}\"", "b".repeat(MAX_STRING_CHARS));
        assert_eq!(redact(json!(long)), expected);
    }

    #[test]
    fn a_secret_across_the_cut_is_redacted_before_the_cut() {
        // The token starts at char 190: cut first, its head would leak.
        let token = format!("ghp_{}", "Zx9".repeat(12));
        let s = format!("{} {token}", "a".repeat(189));
        let out = redact(json!(s));
        assert!(!out.contains("Zx9"), "{out}");
        assert!(out.contains(REDACTED), "{out}");
    }

    #[test]
    fn string_cut_counts_chars_not_bytes() {
        // 199 ASCII then multi-byte chars: the cut lands right after the
        // first 'é' (char 200), never inside it.
        let s = format!("{}{}", "x".repeat(199), "é🦀é🦀");
        let Value::String(out) = redact_value(&json!(s), &RedactionPolicy::default()) else { panic!() };
        assert_eq!(out, format!("{}é{STRING_TRUNCATION_MARK}", "x".repeat(199)));
        // 200 four-byte chars are kept whole.
        let crabs = "🦀".repeat(MAX_STRING_CHARS);
        assert_eq!(redact(json!(crabs.clone())), format!("\"{crabs}\""));
    }

    #[test]
    fn total_text_is_capped_at_1000_chars_with_marker() {
        let args: Map<String, Value> = (0..20).map(|i| (format!("k{i:02}"), json!("v".repeat(150)))).collect();
        let out = redact(Value::Object(args));
        assert_eq!(out.chars().count(), MAX_ARGUMENTS_CHARS);
        assert!(out.ends_with(ARGUMENTS_TRUNCATION_MARK));
        assert!(out.starts_with(r#"{"k00":"vvv"#));
    }

    #[test]
    fn total_cap_respects_char_boundaries() {
        let args = json!([
            "🦀".repeat(150),
            "日本".repeat(90),
            "é".repeat(199),
            "ü".repeat(200),
            "ß".repeat(300),
            "😀".repeat(300)
        ]);
        let out = redact(args);
        assert_eq!(out.chars().count(), MAX_ARGUMENTS_CHARS);
        assert!(out.ends_with(ARGUMENTS_TRUNCATION_MARK));
    }

    #[test]
    fn short_text_is_untouched_and_scalars_pass_through() {
        assert_eq!(redact(json!({})), "{}");
        assert_eq!(redact(json!({"n": 1.5, "b": true, "z": null})), r#"{"b":true,"n":1.5,"z":null}"#);
    }

    #[test]
    fn truncation_never_exposes_a_redacted_value() {
        // The secret sits right where the cap falls; it must not appear at all.
        let filler = "f".repeat(190);
        let mut map = Map::new();
        for i in 0..5 {
            map.insert(format!("a{i}"), json!(filler));
        }
        map.insert("z_secret".into(), json!("TOPSECRETVALUE"));
        let out = redact(Value::Object(map));
        assert!(!out.contains("TOPSECRET"));
        assert!(!out.contains("TOP"));
    }

    #[test]
    fn short_key_words_redact_whole_subtrees() {
        let out = redact(json!({
            "auth": {"user": "bob", "password": "p1"},
            "db": {"db_pass": "p2", "X-Auth": ["p3"], "pass": "p4"},
            "author": "Ann", "passage": "kept", "signature": "kept too",
        }));
        for secret in ["bob", "p1", "p2", "p3", "p4"] {
            assert!(!out.contains(secret), "{secret} leaked: {out}");
        }
        for kept in ["Ann", "\"kept\"", "kept too"] {
            assert!(out.contains(kept), "{kept} missing: {out}");
        }
        let out = redact(json!({"env": [{"name": "SMTP_PASS", "value": "p5"}]}));
        assert!(!out.contains("p5"), "{out}");
    }

    #[test]
    fn client_strings_are_redacted_then_bounded() {
        assert_eq!(client_string("claude-code"), "claude-code");
        assert_eq!(client_string("my client token=abc def"), "my client token=<redacted>");
        let ghp = format!("ghp_{}", "Zq9".repeat(12));
        assert_eq!(client_string(&format!("cli {ghp}")), "cli <redacted>");
        // Redacted before the cut: a secret across it leaks not even in part.
        let long = format!("{} password=Zq{}", "n".repeat(250), "x".repeat(40));
        let out = client_string(&long);
        assert!(!out.contains("Zq"), "{out}");
        assert_eq!(out, format!("{} passw{}", "n".repeat(250), crate::bounded::CUT_MARKER));
        let huge = "n".repeat(10_000);
        assert!(client_string(&huge).ends_with(crate::bounded::CUT_MARKER));
    }

    #[test]
    fn messages_are_redacted_then_cut() {
        let p = RedactionPolicy::default();
        let text = format!("{} Authorization: Bearer abc.def-ghi", "x".repeat(10));
        assert_eq!(redact_message(&text, &p, 100), "xxxxxxxxxx Authorization: Bearer <redacted>");
        let cut = redact_message(&"é".repeat(50), &p, 10);
        assert_eq!(cut, format!("{}{STRING_TRUNCATION_MARK}", "é".repeat(10)));
    }
}
