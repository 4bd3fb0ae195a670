//! Structured log lines: levels and an env-logger style filter, `logfmt` and
//! JSON rendering, the always-on access log line, request ids, and a logfmt
//! parser (used by tests to read lines back).
//!
//! No clock here: callers pass unix milliseconds, and timestamps are rendered
//! as RFC 3339 UTC with our own civil-date conversion (no date crate).

use std::fmt::{self, Write as _};

/// Severity, most severe first, so `Error < Warn < Info < Debug < Trace` and
/// "enabled" means `level <= max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl Level {
    pub const ALL: [Level; 5] = [
        Level::Error,
        Level::Warn,
        Level::Info,
        Level::Debug,
        Level::Trace,
    ];

    /// Case-insensitive level name.
    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL
            .into_iter()
            .find(|l| s.eq_ignore_ascii_case(l.as_str()))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
            Level::Trace => "trace",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Maximum level of one directive; `None` is `off`.
type MaxLevel = Option<Level>;

/// A filter in `RUST_LOG` syntax, e.g. `warn,spinscope::invocation=debug`.
///
/// Directives are comma-separated, either a bare level (the default for all
/// targets) or `target=level`. A target matches itself and its `::`
/// children (`gateway` matches `gateway::tools` but not `gateways`); the
/// longest matching target wins, then the bare level, then `info`. Levels are
/// `off`, `error`, `warn`, `info`, `debug`, `trace`, case-insensitive.
///
/// Unlike env_logger, a bare word must be a level (a bare target would turn a
/// misspelt level into a silent no-op), and `/regex` suffixes are rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFilter {
    default: MaxLevel,
    /// `(target, max)`, later duplicates replacing earlier ones.
    directives: Vec<(String, MaxLevel)>,
}

impl Default for LogFilter {
    fn default() -> Self {
        Self {
            default: Some(Level::Info),
            directives: Vec::new(),
        }
    }
}

const LEVEL_NAMES: &str = "off, error, warn, info, debug or trace";

fn parse_max_level(s: &str) -> Option<MaxLevel> {
    if s.eq_ignore_ascii_case("off") {
        Some(None)
    } else {
        Level::parse(s).map(Some)
    }
}

fn max_level_str(m: MaxLevel) -> &'static str {
    m.map_or("off", Level::as_str)
}

impl LogFilter {
    /// Parses a `log_level` value; empty means the default (`info`). The error
    /// names the offending directive, for the readiness probe to report.
    pub fn parse(spec: &str) -> Result<LogFilter, String> {
        let mut filter = LogFilter::default();
        for raw in spec.split(',') {
            let directive = raw.trim();
            if directive.is_empty() {
                continue;
            }
            let err = |why: String| format!("invalid directive \"{directive}\": {why}");
            if directive.contains('/') {
                return Err(err("regex filters (\"/...\") are not supported".into()));
            }
            match directive.split_once('=') {
                None => {
                    filter.default = parse_max_level(directive).ok_or_else(|| {
                        err(format!(
                            "unknown level (expected {LEVEL_NAMES}, or target=level)"
                        ))
                    })?;
                }
                Some((target, level)) => {
                    let (target, level) = (target.trim(), level.trim());
                    if target.is_empty() {
                        return Err(err("empty target before '='".into()));
                    }
                    if let Some(c) = target.chars().find(|&c| !is_target_char(c)) {
                        return Err(err(format!("invalid character {c:?} in target")));
                    }
                    let max = parse_max_level(level).ok_or_else(|| {
                        err(format!(
                            "unknown level \"{level}\" (expected {LEVEL_NAMES})"
                        ))
                    })?;
                    filter.directives.retain(|(t, _)| t != target);
                    filter.directives.push((target.to_owned(), max));
                }
            }
        }
        Ok(filter)
    }

    /// Whether a line at `level` from `target` passes the filter.
    pub fn enabled(&self, target: &str, level: Level) -> bool {
        let max = self
            .directives
            .iter()
            .filter(|(prefix, _)| target_matches(prefix, target))
            .max_by_key(|(prefix, _)| prefix.len())
            .map_or(self.default, |(_, max)| *max);
        max.is_some_and(|max| level <= max)
    }

    /// The most verbose level enabled for any target (`None`: all off), for a
    /// cheap check before building a line.
    pub fn max_level(&self) -> Option<Level> {
        self.directives
            .iter()
            .map(|(_, m)| *m)
            .fold(self.default, |a, b| a.max(b))
    }
}

/// Normalized form, e.g. `info,gateway=debug`; parses back to the same filter.
impl fmt::Display for LogFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(max_level_str(self.default))?;
        for (target, max) in &self.directives {
            write!(f, ",{target}={}", max_level_str(*max))?;
        }
        Ok(())
    }
}

fn is_target_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':' | '.')
}

/// `prefix` matches `target` itself and its `::` descendants.
fn target_matches(prefix: &str, target: &str) -> bool {
    target
        .strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
}

/// Output format of log lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum LogFormat {
    #[default]
    Logfmt,
    Json,
}

impl LogFormat {
    /// `logfmt` or `json`, case-insensitive; empty means the default.
    pub fn parse(s: &str) -> Result<LogFormat, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "logfmt" => Ok(LogFormat::Logfmt),
            "json" => Ok(LogFormat::Json),
            _ => Err(format!(
                "unknown format \"{}\" (expected logfmt or json)",
                s.trim()
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LogFormat::Logfmt => "logfmt",
            LogFormat::Json => "json",
        }
    }
}

/// Value of a [`LogLine`] field.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    Str(String),
    U64(u64),
    I64(i64),
    /// Non-finite values render as `NaN`/`inf` in logfmt and `null` in JSON.
    F64(f64),
    Bool(bool),
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
    pub fn new(
        level: Level,
        target: impl Into<String>,
        message: impl Into<String>,
        ts_unix_ms: u64,
    ) -> Self {
        Self {
            level,
            target: target.into(),
            message: message.into(),
            ts_unix_ms,
            fields: Vec::new(),
        }
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

    pub fn field_u64(self, key: &str, value: u64) -> Self {
        self.push(key, FieldValue::U64(value))
    }

    pub fn field_i64(self, key: &str, value: i64) -> Self {
        self.push(key, FieldValue::I64(value))
    }

    pub fn field_f64(self, key: &str, value: f64) -> Self {
        self.push(key, FieldValue::F64(value))
    }

    pub fn field_bool(self, key: &str, value: bool) -> Self {
        self.push(key, FieldValue::Bool(value))
    }

    fn push(mut self, key: &str, value: FieldValue) -> Self {
        self.fields.push((sanitize_key(key), value));
        self
    }

    pub fn level(&self) -> Level {
        self.level
    }

    pub fn target(&self) -> &str {
        &self.target
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn fields(&self) -> &[(String, FieldValue)] {
        &self.fields
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
        write!(
            out,
            "ts={} level={} target=",
            rfc3339_ms(self.ts_unix_ms),
            self.level
        )
        .unwrap();
        push_logfmt_value(&mut out, &self.target);
        out.push_str(" msg=");
        push_quoted(&mut out, &self.message);
        for (key, value) in &self.fields {
            write!(out, " {key}=").unwrap();
            match value {
                FieldValue::Str(s) => push_quoted(&mut out, s),
                FieldValue::U64(n) => write!(out, "{n}").unwrap(),
                FieldValue::I64(n) => write!(out, "{n}").unwrap(),
                FieldValue::F64(n) => write!(out, "{n}").unwrap(),
                FieldValue::Bool(b) => write!(out, "{b}").unwrap(),
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
                FieldValue::I64(n) => n.to_string(),
                FieldValue::F64(n) => {
                    serde_json::Number::from_f64(*n).map_or("null".into(), |n| n.to_string())
                }
                FieldValue::Bool(b) => b.to_string(),
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
        .map(|c| {
            if c.is_whitespace() || c.is_control() || c == '=' || c == '"' {
                '_'
            } else {
                c
            }
        })
        .collect();
    if k.is_empty() {
        k.push('_');
    }
    if RESERVED_KEYS.contains(&k.as_str()) {
        k.insert_str(0, "field_");
    }
    k
}

/// The access log line, one per HTTP request, always on (wasmrun format):
/// `ts=… id=… method=POST path=/mcp status=200 dur_ms=1 tenant=-`.
/// Values are bare unless they need quoting (spaces, `=`, quotes, backslashes,
/// control characters, empty), so the line stays one parseable logfmt line.
/// A missing tenant is `-`.
pub fn access_line(
    ts_unix_ms: u64,
    request_id: &str,
    method: &str,
    path: &str,
    status: u16,
    dur_ms: u64,
    tenant: Option<&str>,
) -> String {
    let mut out = String::with_capacity(96);
    write!(out, "ts={} id=", rfc3339_ms(ts_unix_ms)).unwrap();
    push_logfmt_value(&mut out, request_id);
    out.push_str(" method=");
    push_logfmt_value(&mut out, method);
    out.push_str(" path=");
    push_logfmt_value(&mut out, path);
    write!(out, " status={status} dur_ms={dur_ms} tenant=").unwrap();
    push_logfmt_value(&mut out, tenant.unwrap_or("-"));
    out
}

/// Appends `s` bare when that is unambiguous, else quoted and escaped.
fn push_logfmt_value(out: &mut String, s: &str) {
    let needs_quotes = s.is_empty()
        || s.chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '=' | '\\'));
    if needs_quotes {
        push_quoted(out, s);
    } else {
        out.push_str(s);
    }
}

/// Appends `"s"` with `"`, `\`, `\n`, `\r`, `\t` escaped and other control
/// characters (and U+2028/U+2029, which some viewers treat as line breaks)
/// as `\u{hex}`.
fn push_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => {
                write!(out, "\\u{{{:x}}}", c as u32).unwrap();
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Parses one logfmt line into its `key=value` pairs, in order. Quoted values
/// understand the escapes [`LogLine`] writes (`\"`, `\\`, `\n`, `\r`, `\t`,
/// `\u{hex}`, and JSON-style `\uXXXX`); unknown escapes are kept verbatim.
/// A bare `key` yields an empty value.
pub fn parse_logfmt(line: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|&c| c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        let mut value = String::new();
        if chars.next_if_eq(&'=').is_some() {
            if chars.next_if_eq(&'"').is_some() {
                read_quoted(&mut chars, &mut value);
            } else {
                while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                    value.push(c);
                }
            }
        }
        pairs.push((key, value));
    }
    pairs
}

/// The value of the first `key` in a logfmt line.
pub fn logfmt_field(line: &str, key: &str) -> Option<String> {
    parse_logfmt(line)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

/// Reads a quoted value after its opening quote, up to the closing one (or
/// the end of an unterminated line).
fn read_quoted(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, out: &mut String) {
    while let Some(c) = chars.next() {
        match c {
            '"' => return,
            '\\' => match chars.next() {
                Some('"') => out.push('"'),
                Some('\\') => out.push('\\'),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some('u') => {
                    let mut hex = String::new();
                    let braced = chars.next_if_eq(&'{').is_some();
                    if braced {
                        while let Some(h) = chars.next_if(|&h| h != '}' && h != '"') {
                            hex.push(h);
                        }
                        chars.next_if_eq(&'}');
                    } else {
                        for _ in 0..4 {
                            if let Some(h) = chars.next_if(char::is_ascii_hexdigit) {
                                hex.push(h);
                            }
                        }
                    }
                    match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                        Some(ch) => out.push(ch),
                        None if braced => write!(out, "\\u{{{hex}}}").unwrap(),
                        None => write!(out, "\\u{hex}").unwrap(),
                    }
                }
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            },
            c => out.push(c),
        }
    }
}

/// Whether an incoming request id (e.g. `X-Request-Id`) is safe to echo and
/// log as is: 1–64 chars of `[A-Za-z0-9._-]`.
pub fn is_safe_request_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// A new request id: 16 lowercase hex chars from 8 random bytes.
pub fn new_request_id(random: &[u8; 8]) -> String {
    crate::trace::hex(random)
}

const MS_PER_DAY: u64 = 86_400_000;

/// RFC 3339 UTC timestamp with milliseconds, e.g. `2026-11-23T10:00:00.123Z`.
pub fn rfc3339_ms(unix_ms: u64) -> String {
    let days = (unix_ms / MS_PER_DAY) as i64;
    let ms_of_day = unix_ms % MS_PER_DAY;
    let (y, m, d) = civil_from_days(days);
    let secs = ms_of_day / 1000;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        ms_of_day % 1000
    )
}

/// Proleptic Gregorian `(year, month, day)` of `days` since 1970-01-01.
///
/// Howard Hinnant's `civil_from_days`: shift the epoch to 0000-03-01 so the
/// leap day is the last day of the (March-based) year, then split into
/// 400-year eras of 146 097 days, years of the era, and day of the year.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468; // days from 0000-03-01 to 1970-01-01
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365], from March 1st
    let mp = (5 * doy + 2) / 153; // [0, 11], March = 0
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = (if mp < 10 { mp + 3 } else { mp - 9 }) as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TS: u64 = 1_795_428_000_123; // 2026-11-23T10:00:00.123Z

    #[test]
    fn level_order_and_names() {
        assert!(Level::Error < Level::Warn && Level::Warn < Level::Info);
        assert!(Level::Info < Level::Debug && Level::Debug < Level::Trace);
        assert_eq!(Level::parse("WARN"), Some(Level::Warn));
        assert_eq!(Level::parse("warning"), None);
        assert_eq!(Level::Trace.to_string(), "trace");
    }

    #[test]
    fn filter_default_is_info() {
        for spec in ["", "  ", ","] {
            let f = LogFilter::parse(spec).unwrap();
            assert_eq!(f, LogFilter::default());
            assert!(f.enabled("gateway", Level::Info));
            assert!(!f.enabled("gateway", Level::Debug));
        }
    }

    #[test]
    fn filter_bare_level() {
        let f = LogFilter::parse("debug").unwrap();
        assert!(f.enabled("anything", Level::Debug));
        assert!(!f.enabled("anything", Level::Trace));
        let off = LogFilter::parse("off").unwrap();
        assert!(!off.enabled("x", Level::Error));
        assert_eq!(off.max_level(), None);
    }

    #[test]
    fn filter_target_directives() {
        let f = LogFilter::parse("gateway=debug,info").unwrap();
        assert!(f.enabled("gateway", Level::Debug));
        assert!(f.enabled("gateway::tools", Level::Debug));
        assert!(
            !f.enabled("gateways", Level::Debug),
            "prefix must end at a path boundary"
        );
        assert!(!f.enabled("other", Level::Debug));
        assert!(f.enabled("other", Level::Info));
        assert_eq!(f.max_level(), Some(Level::Debug));
    }

    #[test]
    fn filter_most_specific_target_wins() {
        let f = LogFilter::parse("warn,spinscope::invocation=debug,spinscope=error").unwrap();
        assert!(f.enabled("spinscope::invocation", Level::Debug));
        assert!(f.enabled("spinscope::invocation::x", Level::Debug));
        assert!(!f.enabled("spinscope::metrics", Level::Warn));
        assert!(f.enabled("spinscope::metrics", Level::Error));
        assert!(f.enabled("gateway", Level::Warn));
        assert!(!f.enabled("gateway", Level::Info));
        let off = LogFilter::parse("trace,noisy=off").unwrap();
        assert!(!off.enabled("noisy", Level::Error));
        assert!(off.enabled("quiet", Level::Trace));
    }

    #[test]
    fn filter_last_duplicate_wins_and_display_round_trips() {
        let f = LogFilter::parse(" gateway = trace , GATEWAY=Info, gateway=WARN , debug ").unwrap();
        assert!(!f.enabled("gateway", Level::Info));
        assert!(f.enabled("GATEWAY", Level::Info));
        assert_eq!(f.to_string(), "debug,GATEWAY=info,gateway=warn");
        assert_eq!(LogFilter::parse(&f.to_string()).unwrap(), f);
    }

    #[test]
    fn filter_errors_are_clear() {
        let cases = [
            ("verbose", "unknown level"),
            ("gateway=loud", "unknown level \"loud\""),
            ("=debug", "empty target"),
            ("gate way=debug", "invalid character ' '"),
            ("info/foo", "regex filters"),
            ("a=b=c", "unknown level \"b=c\""),
        ];
        for (spec, expected) in cases {
            let err = LogFilter::parse(spec).unwrap_err();
            assert!(err.contains(expected), "{spec}: {err}");
            assert!(err.starts_with("invalid directive"), "{err}");
        }
    }

    #[test]
    fn format_parse() {
        assert_eq!(LogFormat::parse("logfmt"), Ok(LogFormat::Logfmt));
        assert_eq!(LogFormat::parse(" JSON "), Ok(LogFormat::Json));
        assert_eq!(LogFormat::parse(""), Ok(LogFormat::Logfmt));
        assert_eq!(LogFormat::default(), LogFormat::Logfmt);
        let err = LogFormat::parse("xml").unwrap_err();
        assert!(
            err.contains("\"xml\"") && err.contains("logfmt or json"),
            "{err}"
        );
    }

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
            .field_i64("neg", -3)
            .field_f64("ratio", 0.25)
            .field_bool("ok", false)
            .field_opt("absent", None::<&str>)
            .field_opt("present", Some("p"))
            .render(LogFormat::Logfmt);
        assert_eq!(
            line,
            "ts=1970-01-01T00:00:00.000Z level=warn target=t msg=\"m\" neg=-3 ratio=0.25 ok=false present=\"p\""
        );
    }

    #[test]
    fn logfmt_escaping_keeps_one_line_and_round_trips() {
        let nasty = "a \"quoted\" \\ back\nnew\rret\ttab\u{1b}[31m\u{7f}\u{2028}end é🦀";
        let line = LogLine::new(Level::Error, "gate way", nasty, TS)
            .field("v", nasty)
            .field("bad key=\"x\"", "k")
            .render(LogFormat::Logfmt);
        assert!(
            !line.contains('\n') && !line.contains('\r') && !line.contains('\u{1b}'),
            "{line}"
        );
        assert!(
            line.contains(r#"\"quoted\" \\ back\nnew\rret\ttab\u{1b}[31m\u{7f}\u{2028}end é🦀"#),
            "{line}"
        );
        let fields = parse_logfmt(&line);
        let get = |k: &str| {
            fields
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("target"), Some("gate way"));
        assert_eq!(get("msg"), Some(nasty));
        assert_eq!(get("v"), Some(nasty));
        assert_eq!(get("bad_key__x_"), Some("k"));
        assert_eq!(get("level"), Some("error"));
    }

    #[test]
    fn reserved_and_empty_keys_are_renamed() {
        let line = LogLine::new(Level::Info, "t", "real", 0)
            .field("msg", "fake")
            .field("", "e");
        assert_eq!(line.fields()[0].0, "field_msg");
        assert_eq!(line.fields()[1].0, "_");
        assert_eq!(
            logfmt_field(&line.render(LogFormat::Logfmt), "msg").as_deref(),
            Some("real")
        );
    }

    #[test]
    fn json_rendering() {
        let line = sample()
            .field_f64("nan", f64::NAN)
            .field_bool("b", true)
            .render(LogFormat::Json);
        assert_eq!(
            line,
            r#"{"ts":"2026-11-23T10:00:00.123Z","level":"info","target":"gateway","msg":"Tool invocation completed","tool_name":"fetch","duration_ms":125,"outcome":"success","nan":null,"b":true}"#
        );
        let nasty =
            LogLine::new(Level::Debug, "t", "line1\nline2 \"q\"", 0).render(LogFormat::Json);
        assert!(!nasty.contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&nasty).unwrap();
        assert_eq!(v["msg"], "line1\nline2 \"q\"");
        assert_eq!(v["level"], "debug");
    }

    #[test]
    fn access_line_format() {
        let line = access_line(
            1_781_349_535_354,
            "d5aafbe6c56c32ec",
            "POST",
            "/mcp",
            200,
            1,
            None,
        );
        assert_eq!(
            line,
            "ts=2026-06-13T11:18:55.354Z id=d5aafbe6c56c32ec method=POST path=/mcp status=200 dur_ms=1 tenant=-"
        );
        let line = access_line(0, "r1", "GET", "/a b\"c\n?x=1", 404, 7, Some("acme"));
        assert_eq!(
            line,
            "ts=1970-01-01T00:00:00.000Z id=r1 method=GET path=\"/a b\\\"c\\n?x=1\" status=404 dur_ms=7 tenant=acme"
        );
        let fields = parse_logfmt(&line);
        assert_eq!(fields.len(), 7);
        assert_eq!(fields[3], ("path".into(), "/a b\"c\n?x=1".into()));
        assert_eq!(fields[6], ("tenant".into(), "acme".into()));
        assert_eq!(
            logfmt_field(&access_line(0, "", "GET", "/", 200, 0, Some("")), "id").as_deref(),
            Some("")
        );
    }

    #[test]
    fn parse_logfmt_edge_cases() {
        let p = parse_logfmt("  a=1 flag b=\"x y\" c= d=\"\\u0041\\u{1F980}\\q\" e=\"unterminated");
        assert_eq!(
            p,
            vec![
                ("a".into(), "1".into()),
                ("flag".into(), "".into()),
                ("b".into(), "x y".into()),
                ("c".into(), "".into()),
                ("d".into(), "A🦀\\q".into()),
                ("e".into(), "unterminated".into()),
            ]
        );
        assert!(parse_logfmt("").is_empty());
    }

    #[test]
    fn request_ids() {
        assert_eq!(
            new_request_id(&[0xd5, 0xaa, 0xfb, 0xe6, 0xc5, 0x6c, 0x32, 0xec]),
            "d5aafbe6c56c32ec"
        );
        assert!(is_safe_request_id(&new_request_id(&[0; 8])));
        for ok in ["a", "A-b_c.9", &"x".repeat(64)] {
            assert!(is_safe_request_id(ok), "{ok}");
        }
        for bad in [
            "",
            &"x".repeat(65),
            "a b",
            "a\"b",
            "a\nb",
            "é",
            "a/b",
            "a=b",
        ] {
            assert!(!is_safe_request_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn timestamps() {
        let cases = [
            (0, "1970-01-01T00:00:00.000Z"),
            (999, "1970-01-01T00:00:00.999Z"),
            (951_782_399_999, "2000-02-28T23:59:59.999Z"),
            (951_782_400_000, "2000-02-29T00:00:00.000Z"),
            (951_868_800_000, "2000-03-01T00:00:00.000Z"),
            (1_709_164_800_000, "2024-02-29T00:00:00.000Z"),
            (1_735_689_599_999, "2024-12-31T23:59:59.999Z"),
            (2_147_483_647_000, "2038-01-19T03:14:07.000Z"),
            (2_147_483_648_001, "2038-01-19T03:14:08.001Z"),
            (4_107_456_000_000, "2100-02-28T00:00:00.000Z"), // 2100 is not a leap year
            (4_107_542_400_000, "2100-03-01T00:00:00.000Z"),
            (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
            (TS, "2026-11-23T10:00:00.123Z"),
        ];
        for (ms, expected) in cases {
            assert_eq!(rfc3339_ms(ms), expected, "{ms}");
        }
    }

    #[test]
    fn civil_from_days_matches_a_day_by_day_walk() {
        // Independent reference: walk the calendar one day at a time.
        let is_leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let month_len = |y: i64, m: u32| match m {
            2 if is_leap(y) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        let (mut y, mut m, mut d) = (1970i64, 1u32, 1u32);
        for days in 0..=150_000 {
            assert_eq!(civil_from_days(days), (y, m, d), "day {days}");
            d += 1;
            if d > month_len(y, m) {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(-719_468), (0, 3, 1));
    }
}
