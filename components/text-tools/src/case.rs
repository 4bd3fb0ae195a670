//! Case conversion.

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Case {
    Upper,
    Lower,
    /// Each whitespace-separated word capitalised, whitespace kept.
    Title,
    Snake,
    Kebab,
}

impl Case {
    pub fn apply(self, text: &str) -> String {
        match self {
            Case::Upper => text.to_uppercase(),
            Case::Lower => text.to_lowercase(),
            Case::Title => title(text),
            Case::Snake => words(text).join("_"),
            Case::Kebab => words(text).join("-"),
        }
    }
}

fn title(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at_word_start = true;
    for c in text.chars() {
        if at_word_start {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
        at_word_start = c.is_whitespace();
    }
    out
}

/// Splits into lowercase words at non-alphanumerics and at camelCase humps,
/// keeping acronyms whole: `"parseHTTPResponse v2"` → `parse http response v2`.
fn words(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut words = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            continue;
        }
        let prev = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i + 1).copied();
        let hump = c.is_uppercase()
            && prev.is_some_and(|p| {
                p.is_lowercase() || p.is_numeric() || (p.is_uppercase() && next.is_some_and(char::is_lowercase))
            });
        if hump && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts() {
        let text = "parseHTTPResponse for  user_id-42";
        assert_eq!(Case::Upper.apply("Grüße"), "GRÜSSE");
        assert_eq!(Case::Lower.apply("ÀB"), "àb");
        assert_eq!(Case::Title.apply("hello  wORLD\tdon't"), "Hello  World\tDon't");
        assert_eq!(Case::Snake.apply(text), "parse_http_response_for_user_id_42");
        assert_eq!(Case::Kebab.apply(text), "parse-http-response-for-user-id-42");
        assert_eq!(Case::Snake.apply("Version2Beta"), "version2_beta");
        assert_eq!(Case::Snake.apply("  --  "), "");
    }
}
