//! How a logfmt value is written: bare when unambiguous, else quoted and
//! escaped so that a line stays one line.

use std::fmt::Write as _;

/// Appends `s` bare when that is unambiguous, else quoted and escaped.
pub(super) fn push_logfmt_value(out: &mut String, s: &str) {
    let needs_quotes =
        s.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '=' | '\\'));
    if needs_quotes {
        push_quoted(out, s);
    } else {
        out.push_str(s);
    }
}

/// Appends `"s"` with `"`, `\`, `\n`, `\r`, `\t` escaped and other control
/// characters (and U+2028/U+2029, which some viewers treat as line breaks)
/// as `\u{hex}`.
pub(super) fn push_quoted(out: &mut String, s: &str) {
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
