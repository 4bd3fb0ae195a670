//! A logfmt parser, to read the lines of `spinscope::log` back (its
//! `LogLine` and access line).

use std::fmt::Write as _;

/// Parses one logfmt line into its `key=value` pairs, in order. Quoted values
/// understand the escapes `LogLine` writes (`\"`, `\\`, `\n`, `\r`, `\t`,
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
    parse_logfmt(line).into_iter().find(|(k, _)| k == key).map(|(_, v)| v)
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
