//! The tokens of a line: metric and label names, sample values, and the
//! escapes of label values and HELP text.

/// A metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub(super) fn is_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// A label name: `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__`.
pub(super) fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        // Reserved for Prometheus' own use.
        && !s.starts_with("__")
}

/// A sample value: a float, `+Inf`/`-Inf`/`NaN` (any case), no hex.
pub(super) fn parse_value(s: &str) -> Result<f64, String> {
    let plain = s.strip_prefix(['+', '-']).unwrap_or(s);
    let named = ["inf", "infinity", "nan"].iter().any(|n| plain.eq_ignore_ascii_case(n));
    let numeric = !plain.is_empty()
        && plain.chars().any(|c| c.is_ascii_digit())
        && plain.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'));
    if !(named || numeric) {
        return Err(format!("invalid value {s:?}"));
    }
    s.parse::<f64>().map_err(|_| format!("invalid value {s:?}"))
}

/// Unescapes `raw`; with `quote`, `"` must be escaped (label values,
/// OpenMetrics HELP), else it stands for itself (0.0.4 HELP).
pub(super) fn unescape(raw: &str, quote: bool) -> Result<String, String> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '"' && quote {
            return Err("unescaped double quote".into());
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('"') if quote => out.push('"'),
            other => return Err(format!("invalid escape sequence \\{}", other.map(String::from).unwrap_or_default())),
        }
    }
    Ok(out)
}
