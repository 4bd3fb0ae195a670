//! The status page's response headers (the `status` component serves the
//! page itself, `components/status/src/page.html`; see docs/status-page.md).
//!
//! The page carries its CSS and JavaScript inline, so that it works offline
//! and from one request. Its Content-Security-Policy allows exactly those
//! two blocks, by their SHA-256 (no `'unsafe-inline'`), and nothing else but
//! `fetch` to its own origin: an injected `<script>`, an inline event
//! handler, a remote image or a form post is refused by the browser. The
//! hashes are computed from the page the component embeds, so editing the
//! page can never leave a stale policy behind.

use base64::Engine;
use sha2::{Digest, Sha256};

/// The page's `Content-Security-Policy`: its inline `<script>` and `<style>`
/// blocks by hash, `fetch` to its own origin only, no frames, no forms, no
/// `<base>`, images only from itself or `data:`.
pub fn content_security_policy(page: &str) -> String {
    let sources = |tag: &str| {
        let hashes: Vec<String> =
            inline_blocks(page, tag).iter().map(|b| format!("'sha256-{}'", sha256_base64(b))).collect();
        if hashes.is_empty() {
            "'none'".to_string()
        } else {
            hashes.join(" ")
        }
    };
    format!(
        "default-src 'none'; script-src {}; style-src {}; connect-src 'self'; img-src 'self' data:; \
         frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        sources("script"),
        sources("style")
    )
}

/// The text between `<tag>` and `</tag>`, for each such block: the exact
/// bytes a browser hashes for the policy. The page writes its two tags
/// without attributes; a tag with attributes (`<script src=…>`) is not an
/// inline block, so it gets no hash and would be refused.
pub fn inline_blocks<'a>(page: &'a str, tag: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut blocks = Vec::new();
    let mut rest = page;
    while let Some(start) = rest.find(&open) {
        let body = &rest[start + open.len()..];
        let Some(end) = body.find(&close) else { break };
        blocks.push(&body[..end]);
        rest = &body[end + close.len()..];
    }
    blocks
}

/// Standard base64 with padding (RFC 4648 §4), the encoding CSP hashes use.
fn sha256_base64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The page the `status` component serves.
    const PAGE: &str = include_str!("../../../components/status/src/page.html");

    #[test]
    fn hashes_are_base64_sha256() {
        // The CSP specification's own example: the hash of `alert('Hello, world.');`.
        assert_eq!(sha256_base64("alert('Hello, world.');"), "qznLcsROx4GACP2dm0UCKCzCG+HiZ1guq6ZZDob/Tng=");
        assert_eq!(sha256_base64(""), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    }

    #[test]
    fn the_policy_names_each_inline_block_and_nothing_else() {
        let page = "<style>b{}</style><script>1</script><p>x</p><script>2</script>";
        let csp = content_security_policy(page);
        assert!(csp.starts_with("default-src 'none'; "), "{csp}");
        let script = format!("script-src 'sha256-{}' 'sha256-{}';", sha256_base64("1"), sha256_base64("2"));
        assert!(csp.contains(&script), "{csp}");
        assert!(csp.contains(&format!("style-src 'sha256-{}';", sha256_base64("b{}"))), "{csp}");
        for directive in ["connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'"] {
            assert!(csp.contains(directive), "{csp}");
        }
        assert!(!csp.contains("unsafe"), "{csp}");
        // No block: nothing allowed rather than an empty (invalid) list.
        assert!(content_security_policy("<p>").contains("script-src 'none'; style-src 'none';"));
    }

    #[test]
    fn the_served_page_is_self_contained_and_small() {
        assert!(PAGE.len() < 40 * 1024, "the page is {} bytes; keep it a few tens of kB", PAGE.len());
        assert_eq!(inline_blocks(PAGE, "script").len(), 1, "one inline script");
        assert_eq!(inline_blocks(PAGE, "style").len(), 1, "one inline style block");
        // Anything loaded from elsewhere would be refused by the policy
        // (and break offline use): no external script, style, font or image.
        for needle in ["<script ", "<link", "@import", "url(", "https://", " style=", " onclick", " onload"] {
            assert!(!PAGE.contains(needle), "the page contains {needle:?}");
        }
        // The one URL is SVG's namespace name, which is never fetched.
        let urls = PAGE.matches("http://").count();
        assert_eq!(urls, PAGE.matches("http://www.w3.org/2000/svg").count(), "the page names an external URL");
    }
}
