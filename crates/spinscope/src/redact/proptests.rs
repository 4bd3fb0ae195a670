//! Property tests: secrets planted at random depths and in random shapes in
//! generated arguments and error texts never reach what is logged or
//! exported, once rendered as the gateway renders them (log lines in both
//! formats, OTLP spans).
//!
//! Every planted secret starts with `Zq` (`ZQ` for AWS key ids), which no
//! filler, key or fixed text here contains, and the check looks for its
//! first 8 characters: a secret that leaked in part fails too.

use super::*;
use crate::log::{Level, LogFormat, LogLine};
use crate::otlp::{export_request, Span, SpanKind};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Value};

/// A secret: a password, the random part of a token.
fn secret() -> impl Strategy<Value = String> {
    "Zq[A-Za-z0-9]{14,34}"
}

/// A secret long enough for any token format's minimum.
fn long_secret() -> impl Strategy<Value = String> {
    "Zq[A-Za-z0-9]{34,40}"
}

/// Text around a planted shape: lowercase words, never a secret's marker.
fn filler() -> impl Strategy<Value = String> {
    "[a-z]{0,8}( [a-z]{1,8}){0,3}"
}

fn case_of(s: &str, case: usize) -> String {
    match case {
        0 => s.to_string(),
        1 => s.to_uppercase(),
        _ => {
            let mut c = s.chars();
            c.next().map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
        }
    }
}

/// A key that contains a default fragment, decorated: `x_API_KEY`,
/// `dbPasswordId`, …, or ends in a sensitive word: `db_pass`, `X-Auth`,
/// `smtpPass`, `X-Amz-Signature`, …
fn sensitive_key() -> impl Strategy<Value = String> {
    let by_fragment = (
        select(SENSITIVE_KEY_FRAGMENTS.to_vec()),
        select(vec!["", "x_", "my", "Api", "db-", "client_", "proxy-"]),
        select(vec!["", "_v2", "s", "Id", "-header", ".value"]),
        0..3usize,
    )
        .prop_map(|(frag, pre, suf, case)| format!("{pre}{}{suf}", case_of(frag, case)));
    let by_word = (
        select(SENSITIVE_KEY_WORDS.to_vec()),
        select(vec!["", "db_", "x-", "X-", "my.", "proxy-", "--", "smtp", "basic"]),
        0..3usize,
    )
        .prop_map(|(word, pre, case)| {
            // After a lowercase prefix, a word starts with an uppercase letter.
            let case = if pre.ends_with(|c: char| c.is_ascii_lowercase()) { 1 + case % 2 } else { case };
            format!("{pre}{}", case_of(word, case))
        });
    let signature = select(vec!["X-Amz-Signature", "X-Goog-Signature", "url_signature", "requestSignature"])
        .prop_map(str::to_string);
    prop_oneof![3 => by_fragment, 2 => by_word, 1 => signature]
}

/// `key` with one of its characters written as a JSON `\uXXXX` escape
/// (`\\uXXXX` when `double`, as in JSON quoted in JSON).
fn escaped_key() -> impl Strategy<Value = (String, bool)> {
    (sensitive_key(), any::<prop::sample::Index>(), any::<bool>(), any::<bool>()).prop_map(|(k, at, upper, double)| {
        let at = at.index(k.len());
        let c = k.as_bytes()[at];
        let slash = if double { "\\\\" } else { "\\" };
        let escape = if upper { format!("{slash}u{c:04X}") } else { format!("{slash}u{c:04x}") };
        (format!("{}{escape}{}", &k[..at], &k[at + 1..]), double)
    })
}

/// The name of a secret setting, as found in name/value pairs.
fn secret_name() -> impl Strategy<Value = &'static str> {
    select(vec![
        "API_TOKEN",
        "DB_PASSWORD",
        "Authorization",
        "X-Api-Key",
        "session_cookie",
        "AWS_SECRET_ACCESS_KEY",
        "SSH_PASSPHRASE",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "mysql_pwd",
    ])
}

/// A secret in free text, in one of the shapes [`redact_text`] knows:
/// `(text, secret)`.
fn text_shape() -> impl Strategy<Value = (String, String)> {
    let userinfo = (
        select(vec!["postgres", "mysql", "redis", "https", "amqp", "mongodb+srv"]),
        "[a-z]{1,8}",
        secret(),
        "[a-z]{1,8}",
    )
        .prop_map(|(scheme, user, s, host)| {
            (format!("{scheme}://{user}:{s}@{host}.internal:5432/db?sslmode=require"), s)
        });
    let token_userinfo = secret().prop_map(|s| (format!("https://{s}@github.com/o/r.git"), s));
    let bearer = (
        select(vec![
            "Bearer ",
            "bearer ",
            "BEARER ",
            "Authorization: Bearer ",
            "authorization:bearer ",
            "bearer:",
            "Bearer: ",
            "bearer%20",
            "Bearer+",
            "Authorization%3A%20Bearer%20",
            "?h=Bearer%20",
        ]),
        secret(),
    )
        .prop_map(|(b, s)| (format!("{b}{s}"), s));
    let basic = (select(vec!["Basic ", "basic ", "BASIC ", "Basic%20"]), "[a-z]{0,8}", secret(), any::<bool>())
        .prop_map(|(b, user, s, pad)| {
            let engine = if pad {
                &base64::engine::general_purpose::STANDARD
            } else {
                &base64::engine::general_purpose::STANDARD_NO_PAD
            };
            let encoded = base64::Engine::encode(engine, format!("{user}:{s}"));
            (format!("{b}{encoded}"), encoded)
        });
    let webhook = ("[A-Z0-9]{9}", "[A-Z0-9]{9}", secret(), select(vec!["https://", "http://", ""]))
        .prop_map(|(t, b, s, scheme)| (format!("{scheme}hooks.slack.com/services/T{t}/B{b}/{s}"), s));
    let presigned = (
        select(vec![
            "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20240101T000000Z&X-Amz-Signature={}",
            "https://b.s3.amazonaws.com/k?X-Amz-Signature={}&X-Amz-Expires=900",
            "https://a.blob.core.windows.net/c/b?sv=2022-11-02&sr=b&sig={}&se=2024-01-01",
            "https://s.googleapis.com/b/o?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Signature={}",
            "https://d.cloudfront.net/i.jpg?Expires=1700000000&Signature={}&Key-Pair-Id=K2",
        ]),
        secret(),
    )
        .prop_map(|(url, s)| (url.replace("{}", &s), s));
    let glued = (
        select(vec!["mysql", "mysqldump", "/usr/bin/mysql", "mariadb", "MYSQL"]),
        select(vec!["", "-uroot ", "-h db -u app ", "--host=db -u app "]),
        select(vec!["", "'", "\""]),
        secret(),
    )
        .prop_map(|(cmd, flags, q, s)| (format!("{cmd} {flags}-p{q}{s}{q} appdb"), s));
    let words = || "[a-z]{1,8}( [a-z]{1,8}){0,2}";
    let multi_word = (sensitive_key(), select(vec!["=", ": ", " = ", ":", "\t=\t"]), words(), secret(), words())
        .prop_map(|(k, sep, before, s, after)| (format!("{k}{sep}{before} {s} {after}"), s));
    let escaped = (escaped_key(), secret(), any::<bool>()).prop_map(|((k, double), s, spaced)| {
        let sp = if spaced { " " } else { "" };
        let text =
            if double { format!(r#"{{\"{k}\":{sp}\"{s}\"}}"#) } else { format!(r#"{{"{k}":{sp}"{s}", "other": 1}}"#) };
        (text, s)
    });
    let pair = (sensitive_key(), select(vec!["=", ": ", " = ", ":", "\t=\t"]), select(vec!["", "\"", "'"]), secret())
        .prop_map(|(k, sep, q, s)| (format!("{k}{sep}{q}{s}{q}"), s));
    let escaped_json_pair = (sensitive_key(), secret()).prop_map(|(k, s)| (format!(r#"{{\"{k}\":\"{s}\"}}"#), s));
    let json_pair = (sensitive_key(), secret(), 0..3usize).prop_map(|(k, s, nest)| {
        let text = match nest {
            0 => format!(r#"{{"{k}": "{s}", "other": 1}}"#),
            1 => format!(r#"{{"{k}": {{"inner": ["x", "{s}"]}}, "other": 1}}"#),
            _ => format!(r#"{{"{k}":["{s}"]}}"#),
        };
        (text, s)
    });
    let query = (sensitive_key(), secret())
        .prop_map(|(k, s)| (format!("https://api.example.com/cb?code=1&{k}={s}&state=ok"), s));
    let header = (
        select(vec![
            "Cookie: session=",
            "Set-Cookie: id=",
            "Authorization: Basic ",
            "Proxy-Authorization: Digest nonce=",
            "cookie: a=b; c=",
        ]),
        secret(),
    )
        .prop_map(|(h, s)| (format!("{h}{s}; Path=/"), s));
    let name_value = (
        secret_name(),
        select(vec!["name", "Name", "key", "header", "env", "label", "variable", "id"]),
        select(vec!["value", "Value", "val"]),
        secret(),
    )
        .prop_map(|(name, nk, vk, s)| (format!(r#"{{"{nk}":"{name}","{vk}":"{s}"}}"#), s));
    let token = (
        select(vec![
            "ghp_",
            "gho_",
            "ghs_",
            "github_pat_",
            "sk-",
            "sk-proj-",
            "sk-ant-api03-",
            "sk_live_",
            "xoxb-",
            "glpat-",
            "AIza",
            "npm_",
            "hf_",
            "pypi-",
        ]),
        long_secret(),
    )
        .prop_map(|(p, s)| (format!("{p}{s}"), s));
    let aws = ("ZQ[A-Z0-9]{14}", select(vec!["AKIA", "ASIA"])).prop_map(|(s, p)| (format!("{p}{s}"), s));
    let jwt = ("[A-Za-z0-9_-]{10,40}", secret())
        .prop_map(|(payload, s)| (format!("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ{payload}.{s}"), s));
    let pem = (
        select(vec!["RSA ", "EC ", "OPENSSH ", "ENCRYPTED ", ""]),
        select(vec!["\n", "\\n", "\r\n"]),
        secret(),
        secret(),
    )
        .prop_map(|(label, nl, s, s2)| {
            (format!("-----BEGIN {label}PRIVATE KEY-----{nl}MII{s}{nl}{s2}{nl}-----END {label}PRIVATE KEY-----"), s)
        });
    prop_oneof![
        userinfo,
        token_userinfo,
        bearer,
        pair,
        escaped_json_pair,
        json_pair,
        query,
        header,
        name_value,
        token,
        aws,
        jwt,
        pem,
        basic,
        webhook,
        presigned,
        glued,
        multi_word,
        escaped,
    ]
}

/// A text shape with words around it.
fn text_with_secret() -> impl Strategy<Value = (String, String)> {
    (filler(), text_shape(), filler()).prop_map(|(a, (shape, s), b)| (format!("{a} {shape} {b}"), s))
}

/// A secret in a value tree, by key or by shape: `(value, secret)`.
fn planted_value() -> impl Strategy<Value = (Value, String)> {
    let by_key = (sensitive_key(), secret(), 0..4usize).prop_map(|(k, s, form)| {
        let v = match form {
            0 => json!(s),
            1 => json!({"inner": s}),
            2 => json!([1, s]),
            _ => json!({"a": [{"b": s}]}),
        };
        (json!({ k: v, "other": "fine" }), s)
    });
    let name_value = (
        secret_name(),
        select(NAME_KEYS.to_vec()),
        0..3usize,
        select(vec!["value", "val", "data", "default", "defaultValue", "valueFrom"]),
        0..3usize,
        secret(),
    )
        .prop_map(|(name, nk, nk_case, vk, vk_case, s)| {
            (json!({ case_of(nk, nk_case): name, case_of(vk, vk_case): s, "type": "text" }), s)
        });
    let in_text = text_with_secret().prop_map(|(t, s)| (Value::String(t), s));
    prop_oneof![by_key, name_value, in_text]
}

/// Keys that are neither sensitive nor name-like.
const NEUTRAL_KEYS: [&str; 9] = ["query", "items", "config", "list", "text", "note", "path", "opts", "payload"];

/// `value` nested `levels.len()` deep: each level an object (under a
/// neutral key, beside filler) or an array (among filler).
fn nest(value: Value, levels: &[(bool, usize, String)]) -> Value {
    levels.iter().fold(value, |inner, (array, key, filler)| {
        if *array {
            json!([filler, inner, 7])
        } else {
            let k = NEUTRAL_KEYS[key % NEUTRAL_KEYS.len()];
            let other = NEUTRAL_KEYS[(key + 1) % NEUTRAL_KEYS.len()];
            json!({ k: inner, other: filler })
        }
    })
}

/// Arguments with 1 to 4 secrets, each at a random depth (0 to 6).
fn arguments() -> impl Strategy<Value = (Value, Vec<String>)> {
    let planted = (planted_value(), prop::collection::vec((any::<bool>(), 0..9usize, filler()), 0..7))
        .prop_map(|((v, s), levels)| (nest(v, &levels), s));
    prop::collection::vec(planted, 1..5).prop_map(|items| {
        let mut args = serde_json::Map::new();
        let mut secrets = Vec::new();
        for (i, (v, s)) in items.into_iter().enumerate() {
            args.insert(format!("{}{i}", NEUTRAL_KEYS[i % NEUTRAL_KEYS.len()]), v);
            secrets.push(s);
        }
        args.insert("visible".into(), json!("plain words"));
        (Value::Object(args), secrets)
    })
}

/// An error text quoting 1 to 4 secrets, after a trap-like preamble, on
/// lines of their own or run together (a redaction that runs to the end
/// of a line must not swallow the start of another shape).
fn error_text() -> impl Strategy<Value = (String, Vec<String>)> {
    let separator = select(vec!["\n", " ", "; ", "&", "\\n"]);
    (any::<bool>(), prop::collection::vec(text_with_secret(), 1..5), separator).prop_map(|(trap, parts, separator)| {
        let preamble = if trap {
            "component 'faults' failed: error while executing at wasm backtrace:\n    0:  0x33bae - faults.wasm!abort\n\nCaused by:\n    wasm trap: wasm `unreachable` instruction executed\n"
        } else {
            "tool 'x' failed: its component answered HTTP 500: "
        };
        let (texts, secrets): (Vec<String>, Vec<String>) = parts.into_iter().unzip();
        (format!("{preamble}{}", texts.join(separator)), secrets)
    })
}

/// `v` as JSON text, with each object's name-like keys first: in free
/// text a name/value pair is recognised only when the name comes first (a
/// documented limit; serde_json would order the keys alphabetically).
fn json_text(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let (names, rest): (Vec<_>, Vec<_>) = m.iter().partition(|(k, _)| is_name_key(k));
            let items: Vec<String> = names
                .into_iter()
                .chain(rest)
                .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), json_text(v)))
                .collect();
            format!("{{{}}}", items.join(","))
        }
        Value::Array(a) => format!("[{}]", a.iter().map(json_text).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

/// Everything the gateway emits from these: the invocation line in both
/// formats and the exported spans.
fn emitted(arguments: &str, error: &str) -> String {
    let line = LogLine::new(Level::Error, "spinscope::invocation", "Tool invocation failed", 0)
        .field("arguments", arguments)
        .field("error", error)
        .field("detail", error);
    let span = Span {
        trace_id: [1; 16],
        span_id: [2; 8],
        parent_span_id: Some([3; 8]),
        name: "execute_tool t".into(),
        kind: SpanKind::Client,
        start_unix_nanos: 1,
        end_unix_nanos: 2,
        attributes: Vec::new(),
        error: Some(error.to_string()),
        trace_state: None,
        links: Vec::new(),
    }
    .attr("error.message", error);
    format!(
        "{}\n{}\n{}",
        line.render(LogFormat::Logfmt),
        line.render(LogFormat::Json),
        export_request("svc", "1", &[span])
    )
}

fn assert_hidden(out: &str, secrets: &[String]) -> Result<(), TestCaseError> {
    for s in secrets {
        prop_assert!(!out.contains(&s[..8]), "secret {s} leaked in:\n{out}");
    }
    Ok(())
}

/// Prose that mentions secrets without holding one: ordinary words that
/// contain or resemble sensitive words, joined by blanks and punctuation.
fn prose() -> impl Strategy<Value = String> {
    let word = select(vec![
        "passage",
        "passenger",
        "bypass",
        "compass",
        "pass",
        "passes",
        "author",
        "authority",
        "authors",
        "auth",
        "oauth",
        "OAuth",
        "signature",
        "Signature",
        "signatures",
        "sig",
        "signal",
        "Basic",
        "basic",
        "idea",
        "usage",
        "HTTP",
        "mysql",
        "key",
        "token",
        "the",
        "a",
        "of",
        "is",
        "valid",
        "word",
    ]);
    prop::collection::vec((word, select(vec![" ", " ", " ", ", ", ". ", "; ", "\n"])), 1..24)
        .prop_map(|parts| parts.into_iter().map(|(w, sep)| format!("{w}{sep}")).collect::<String>())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn prose_about_secrets_is_left_alone(text in prose()) {
        let policy = RedactionPolicy::default();
        prop_assert_eq!(redact_text(&text, &policy), text.clone());
        let out = redact_arguments(&json!({"note": text}), &policy);
        prop_assert!(!out.contains(REDACTED), "{}", out);
    }

    #[test]
    fn planted_secrets_never_reach_a_client_name((text, secret) in text_with_secret()) {
        // As `clientInfo` name or version: redacted, then cut at 256 bytes.
        let name = client_string(&text);
        assert_hidden(&name, std::slice::from_ref(&secret))?;
        prop_assert!(name.len() <= crate::bounded::MAX_CLIENT_STRING_BYTES + crate::bounded::CUT_MARKER.len());
        assert_hidden(&emitted("{}", &name), std::slice::from_ref(&secret))?;
    }

    #[test]
    fn planted_secrets_never_reach_the_redacted_arguments((args, secrets) in arguments()) {
        let policy = RedactionPolicy::default();
        let out = redact_arguments(&args, &policy);
        assert_hidden(&out, &secrets)?;
        assert_hidden(&emitted(&out, ""), &secrets)?;
        // The words around them survive.
        prop_assert!(out.contains("plain words") || out.ends_with(ARGUMENTS_TRUNCATION_MARK), "{}", out);
    }

    #[test]
    fn planted_secrets_never_reach_a_logged_or_exported_error((text, secrets) in error_text()) {
        let policy = RedactionPolicy::default();
        let error = redact_message(&text, &policy, 4000);
        assert_hidden(&error, &secrets)?;
        assert_hidden(&emitted("{}", &error), &secrets)?;
        // The same text as an argument string, and the arguments' JSON as an error text.
        let as_argument = redact_arguments(&json!({"message": text}), &policy);
        assert_hidden(&as_argument, &secrets)?;
    }

    #[test]
    fn arguments_quoted_in_an_error_text_are_redacted_too((args, secrets) in arguments()) {
        // A tool that fails with its arguments in the message: the JSON is
        // free text now (name/value pairs written name first, see `json_text`).
        let text = format!("tool 'x' failed for arguments {}", json_text(&args));
        let error = redact_message(&text, &RedactionPolicy::default(), usize::MAX);
        assert_hidden(&error, &secrets)?;
    }

    #[test]
    fn configured_fragments_redact_like_the_defaults(
        frag in "[a-z]{4,8}",
        s in secret(),
        levels in prop::collection::vec((any::<bool>(), 0..9usize, filler()), 0..7),
    ) {
        prop_assume!(!NEUTRAL_KEYS.iter().any(|k| k.contains(frag.as_str())) && !"visible".contains(frag.as_str()));
        let policy = RedactionPolicy::with_extra_keys([frag.to_uppercase()]);
        let args = json!({"visible": 1, "tree": nest(json!({ format!("my_{frag}"): s.clone() }), &levels)});
        let out = redact_arguments(&args, &policy);
        assert_hidden(&out, std::slice::from_ref(&s))?;
        let text = redact_text(&format!("see {frag}={s} here"), &policy);
        assert_hidden(&text, std::slice::from_ref(&s))?;
    }
}
