//! One structured log line, built field by field and rendered as logfmt
//! or JSON.

use super::calendar::rfc3339_ms;
use super::escape::{push_logfmt_value, push_quoted};
use super::{Level, LogFormat};
use std::fmt::Write as _;

/// Value of a [`LogLine`] field.
#[derive(Debug, Clone, PartialEq)]
enum FieldValue {
    /// Quoted in logfmt, a JSON string.
    Str(String),
    /// Bare in both formats.
    U64(u64),
}

/// Keys every line carries; a field with one of these names is renamed
/// `field_<name>` so it cannot shadow them.
const RESERVED_KEYS: [&str; 4] = ["ts", "level", "target", "msg"];

/// One structured log line, built field by field, then rendered.
///
/// Field keys are sanitized when added (whitespace, `=`, `"` and control
/// characters become `_`) so they are identical in both formats.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    level: Level,
    target: String,
    message: String,
    ts_unix_ms: u64,
    fields: Vec<(String, FieldValue)>,
}

impl LogLine {
    /// A line without fields; `ts_unix_ms` is when it happened.
    pub fn new(level: Level, target: impl Into<String>, message: impl Into<String>, ts_unix_ms: u64) -> Self {
        Self { level, target: target.into(), message: message.into(), ts_unix_ms, fields: Vec::new() }
    }

    /// Adds a string field (always quoted in logfmt).
    pub fn field(self, key: &str, value: impl Into<String>) -> Self {
        self.push(key, FieldValue::Str(value.into()))
    }

    /// Adds a string field only when `value` is `Some`.
    pub fn field_opt(self, key: &str, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(v) => self.field(key, v),
            None => self,
        }
    }

    /// Adds a number field (bare in logfmt).
    pub fn field_u64(self, key: &str, value: u64) -> Self {
        self.push(key, FieldValue::U64(value))
    }

    fn push(mut self, key: &str, value: FieldValue) -> Self {
        self.fields.push((sanitize_key(key), value));
        self
    }

    /// The severity.
    pub fn level(&self) -> Level {
        self.level
    }

    /// The target, which the filter matches.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The line without a trailing newline; it never contains one.
    pub fn render(&self, format: LogFormat) -> String {
        match format {
            LogFormat::Logfmt => self.render_logfmt(),
            LogFormat::Json => self.render_json(),
        }
    }

    fn render_logfmt(&self) -> String {
        let mut out = String::with_capacity(128);
        write!(out, "ts={} level={} target=", rfc3339_ms(self.ts_unix_ms), self.level).unwrap();
        push_logfmt_value(&mut out, &self.target);
        out.push_str(" msg=");
        push_quoted(&mut out, &self.message);
        for (key, value) in &self.fields {
            write!(out, " {key}=").unwrap();
            match value {
                FieldValue::Str(s) => push_quoted(&mut out, s),
                FieldValue::U64(n) => write!(out, "{n}").unwrap(),
            }
        }
        out
    }

    fn render_json(&self) -> String {
        // Written by hand to keep field order (serde_json's map is sorted).
        let mut out = String::with_capacity(160);
        out.push('{');
        let mut first = true;
        let mut entry = |out: &mut String, key: &str, value: String| {
            if !first {
                out.push(',');
            }
            first = false;
            out.push_str(&json_string(key));
            out.push(':');
            out.push_str(&value);
        };
        entry(&mut out, "ts", json_string(&rfc3339_ms(self.ts_unix_ms)));
        entry(&mut out, "level", json_string(self.level.as_str()));
        entry(&mut out, "target", json_string(&self.target));
        entry(&mut out, "msg", json_string(&self.message));
        for (key, value) in &self.fields {
            let v = match value {
                FieldValue::Str(s) => json_string(s),
                FieldValue::U64(n) => n.to_string(),
            };
            entry(&mut out, key, v);
        }
        out.push('}');
        out
    }
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).expect("strings always serialize")
}

fn sanitize_key(key: &str) -> String {
    let mut k: String = key
        .chars()
        .map(|c| if c.is_whitespace() || c.is_control() || c == '=' || c == '"' { '_' } else { c })
        .collect();
    if k.is_empty() {
        k.push('_');
    }
    if RESERVED_KEYS.contains(&k.as_str()) {
        k.insert_str(0, "field_");
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;
    use spinscope_testkit::logfmt::{logfmt_field, parse_logfmt};

    const TS: u64 = 1_795_428_000_123; // 2026-11-23T10:00:00.123Z

    fn sample() -> LogLine {
        LogLine::new(Level::Info, "gateway", "Tool invocation completed", TS)
            .field("tool_name", "fetch")
            .field_u64("duration_ms", 125)
            .field("outcome", "success")
    }

    #[test]
    fn logfmt_rendering() {
        assert_eq!(
            sample().render(LogFormat::Logfmt),
            "ts=2026-11-23T10:00:00.123Z level=info target=gateway msg=\"Tool invocation completed\" \
             tool_name=\"fetch\" duration_ms=125 outcome=\"success\""
        );
    }

    #[test]
    fn logfmt_value_kinds() {
        let line = LogLine::new(Level::Warn, "t", "m", 0)
            .field_u64("n", 3)
            .field_opt("absent", None::<&str>)
            .field_opt("present", Some("p"))
            .render(LogFormat::Logfmt);
        assert_eq!(line, "ts=1970-01-01T00:00:00.000Z level=warn target=t msg=\"m\" n=3 present=\"p\"");
    }

    #[test]
    fn logfmt_escaping_keeps_one_line_and_round_trips() {
        let nasty = "a \"quoted\" \\ back\nnew\rret\ttab\u{1b}[31m\u{7f}\u{2028}end é🦀";
        let line = LogLine::new(Level::Error, "gate way", nasty, TS)
            .field("v", nasty)
            .field("bad key=\"x\"", "k")
            .render(LogFormat::Logfmt);
        assert!(!line.contains('\n') && !line.contains('\r') && !line.contains('\u{1b}'), "{line}");
        assert!(line.contains(r#"\"quoted\" \\ back\nnew\rret\ttab\u{1b}[31m\u{7f}\u{2028}end é🦀"#), "{line}");
        let fields = parse_logfmt(&line);
        let get = |k: &str| fields.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        assert_eq!(get("target"), Some("gate way"));
        assert_eq!(get("msg"), Some(nasty));
        assert_eq!(get("v"), Some(nasty));
        assert_eq!(get("bad_key__x_"), Some("k"));
        assert_eq!(get("level"), Some("error"));
    }

    #[test]
    fn reserved_and_empty_keys_are_renamed() {
        let line = LogLine::new(Level::Info, "t", "real", 0).field("msg", "fake").field("", "e");
        let rendered = line.render(LogFormat::Logfmt);
        assert!(rendered.ends_with(" field_msg=\"fake\" _=\"e\""), "{rendered}");
        assert_eq!(logfmt_field(&rendered, "msg").as_deref(), Some("real"));
    }

    #[test]
    fn json_rendering() {
        let line = sample().render(LogFormat::Json);
        assert_eq!(
            line,
            r#"{"ts":"2026-11-23T10:00:00.123Z","level":"info","target":"gateway","msg":"Tool invocation completed","tool_name":"fetch","duration_ms":125,"outcome":"success"}"#
        );
        let nasty = LogLine::new(Level::Debug, "t", "line1\nline2 \"q\"", 0).render(LogFormat::Json);
        assert!(!nasty.contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&nasty).unwrap();
        assert_eq!(v["msg"], "line1\nline2 \"q\"");
        assert_eq!(v["level"], "debug");
    }
}
