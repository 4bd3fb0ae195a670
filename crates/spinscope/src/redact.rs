//! Redaction of tool-call arguments before they reach the invocation log.
//!
//! The rules follow Wassette's invocation log:
//!
//! * the value of any object key whose *name* contains `password`, `secret`,
//!   `token` or `key` (case-insensitive substring, plus any configured extra
//!   keys) is replaced by [`REDACTED`], at any depth, including objects
//!   nested in arrays;
//! * string values longer than [`MAX_STRING_CHARS`] characters keep their
//!   first [`MAX_STRING_CHARS`] characters followed by [`STRING_TRUNCATION_MARK`];
//! * the serialized JSON text is capped at [`MAX_ARGUMENTS_CHARS`] characters,
//!   marker included: longer text keeps its head and ends with
//!   [`ARGUMENTS_TRUNCATION_MARK`] (the result is then no longer valid JSON,
//!   which is fine for a log field).
//!
//! Lengths are counted in Unicode scalar values (`char`s), never bytes, so a
//! cut never splits a UTF-8 sequence. Redaction happens on the value tree
//! *before* serialization and truncation, so a secret can never leak even
//! partially through a truncated string.

use serde_json::{Map, Value};

/// Longest string value kept whole, in characters.
pub const MAX_STRING_CHARS: usize = 200;
/// Cap on the whole serialized argument text, in characters (marker included).
pub const MAX_ARGUMENTS_CHARS: usize = 1000;
/// Replacement for the value of a sensitive key.
pub const REDACTED: &str = "<redacted>";
/// Appended to a string value cut at [`MAX_STRING_CHARS`].
pub const STRING_TRUNCATION_MARK: &str = "…";
/// Appended to the serialized text when it is cut to [`MAX_ARGUMENTS_CHARS`].
pub const ARGUMENTS_TRUNCATION_MARK: &str = "…(truncated)";

/// Key-name fragments that are always sensitive.
const DEFAULT_SENSITIVE: [&str; 4] = ["password", "secret", "token", "key"];

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
        let extra_keys = extra
            .into_iter()
            .map(|k| k.as_ref().trim().to_lowercase())
            .filter(|k| !k.is_empty())
            .collect();
        Self { extra_keys }
    }

    /// Extra fragments configured on top of the defaults.
    pub fn extra_keys(&self) -> &[String] {
        &self.extra_keys
    }

    /// Whether the value under object key `key` must be redacted.
    pub fn is_sensitive(&self, key: &str) -> bool {
        let key = key.to_lowercase();
        DEFAULT_SENSITIVE.iter().any(|frag| key.contains(frag))
            || self
                .extra_keys
                .iter()
                .any(|frag| key.contains(frag.as_str()))
    }
}

/// Redacts and truncates `value` (the `arguments` of a tool call) into the
/// text stored in the invocation log. See the module docs for the rules.
pub fn redact_arguments(value: &Value, policy: &RedactionPolicy) -> String {
    let cleaned = redact_value(value, policy);
    // Serializing a `Value` cannot fail (all map keys are strings).
    let text = serde_json::to_string(&cleaned).unwrap_or_default();
    truncate_chars(&text, MAX_ARGUMENTS_CHARS, ARGUMENTS_TRUNCATION_MARK)
}

/// The value tree with sensitive values replaced and long strings cut.
pub fn redact_value(value: &Value, policy: &RedactionPolicy) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (k, v) in map {
                let v = if policy.is_sensitive(k) {
                    Value::String(REDACTED.to_owned())
                } else {
                    redact_value(v, policy)
                };
                out.insert(k.clone(), v);
            }
            Value::Object(out)
        }
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| redact_value(v, policy)).collect())
        }
        Value::String(s) => Value::String(cut_string(s)),
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
        let out = redact(json!({"auth": {"user": "bob", "secret": "s3cr3t"}}));
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
            assert!(
                !out.contains(&format!("\"{secret}\"")),
                "{secret} leaked: {out}"
            );
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
        ] {
            assert!(p.is_sensitive(k), "{k}");
        }
        for k in ["url", "text", "name", "pass", "tok"] {
            assert!(!p.is_sensitive(k), "{k}");
        }
    }

    #[test]
    fn values_are_not_matched_only_keys() {
        let out = redact(json!({"note": "my password is x", "list": ["token"]}));
        assert_eq!(out, r#"{"list":["token"],"note":"my password is x"}"#);
    }

    #[test]
    fn extra_keys_extend_the_defaults() {
        let p = RedactionPolicy::with_extra_keys(" Cookie, authorization ,,".split(','));
        assert_eq!(p.extra_keys(), ["cookie", "authorization"]);
        let out = redact_arguments(
            &json!({"Set-Cookie": "c", "Authorization": "Bearer x", "token": "t", "q": "ok"}),
            &p,
        );
        assert_eq!(
            out,
            r#"{"Authorization":"<redacted>","Set-Cookie":"<redacted>","q":"ok","token":"<redacted>"}"#
        );
        // An empty list is just the defaults; it must not redact everything.
        assert_eq!(
            RedactionPolicy::with_extra_keys("".split(',')),
            RedactionPolicy::default()
        );
    }

    #[test]
    fn long_strings_are_cut_at_200_chars() {
        let exact = "a".repeat(MAX_STRING_CHARS);
        assert_eq!(redact(json!(exact.clone())), format!("\"{exact}\""));
        let long = "b".repeat(MAX_STRING_CHARS + 1);
        let expected = format!(
            "\"{}{STRING_TRUNCATION_MARK}\"",
            "b".repeat(MAX_STRING_CHARS)
        );
        assert_eq!(redact(json!(long)), expected);
    }

    #[test]
    fn string_cut_counts_chars_not_bytes() {
        // 199 ASCII then multi-byte chars: the cut lands right after the
        // first 'é' (char 200), never inside it.
        let s = format!("{}{}", "x".repeat(199), "é🦀é🦀");
        let Value::String(out) = redact_value(&json!(s), &RedactionPolicy::default()) else {
            panic!()
        };
        assert_eq!(out, format!("{}é{STRING_TRUNCATION_MARK}", "x".repeat(199)));
        // 200 four-byte chars are kept whole.
        let crabs = "🦀".repeat(MAX_STRING_CHARS);
        assert_eq!(redact(json!(crabs.clone())), format!("\"{crabs}\""));
    }

    #[test]
    fn total_text_is_capped_at_1000_chars_with_marker() {
        let args: Map<String, Value> = (0..20)
            .map(|i| (format!("k{i:02}"), json!("v".repeat(150))))
            .collect();
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
        assert_eq!(
            redact(json!({"n": 1.5, "b": true, "z": null})),
            r#"{"b":true,"n":1.5,"z":null}"#
        );
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
}
