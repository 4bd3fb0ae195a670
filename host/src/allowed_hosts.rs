//! `allowed_outbound_hosts` as Spin reads it (`crates/factor-outbound-networking`):
//! entries `scheme://host[:port]` where scheme, host and port may be `*`, the
//! host may be `*.suffix`, and a missing port means the scheme's default.
//! `http://self` and `http://<component>.spin.internal` name the app itself.

use anyhow::{bail, Result};

#[derive(Debug, Clone, PartialEq)]
pub struct AllowedHost {
    scheme: Pattern,
    host: HostPattern,
    port: Pattern,
}

#[derive(Debug, Clone, PartialEq)]
enum Pattern {
    Any,
    Exact(String),
}

#[derive(Debug, Clone, PartialEq)]
enum HostPattern {
    Any,
    Suffix(String),
    Exact(String),
}

impl AllowedHost {
    pub fn parse(entry: &str) -> Result<Self> {
        let Some((scheme, rest)) = entry.split_once("://") else {
            bail!("allowed_outbound_hosts entry {entry:?} needs a scheme, e.g. 'https://{entry}'");
        };
        let rest = rest.trim_end_matches('/');
        if rest.contains('/') {
            bail!("allowed_outbound_hosts entry {entry:?} must not have a path");
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) if !h.is_empty() && !h.ends_with(']') || rest.starts_with('[') => (h, Some(p)),
            _ => (rest, None),
        };
        let scheme_pat = if scheme == "*" { Pattern::Any } else { Pattern::Exact(scheme.to_ascii_lowercase()) };
        let host = host.to_ascii_lowercase();
        let host_pat = if host == "*" {
            HostPattern::Any
        } else if let Some(suffix) = host.strip_prefix("*.") {
            HostPattern::Suffix(format!(".{suffix}"))
        } else {
            HostPattern::Exact(host)
        };
        let port_pat = match port {
            Some("*") => Pattern::Any,
            Some(p) => {
                p.parse::<u16>().map_err(|_| anyhow::anyhow!("invalid port in {entry:?}"))?;
                Pattern::Exact(p.to_string())
            }
            None => match scheme {
                "http" => Pattern::Exact("80".into()),
                "https" => Pattern::Exact("443".into()),
                _ => Pattern::Any,
            },
        };
        Ok(Self { scheme: scheme_pat, host: host_pat, port: port_pat })
    }

    pub fn allows(&self, scheme: &str, host: &str, port: u16) -> bool {
        let host = host.to_ascii_lowercase();
        let scheme_ok = match &self.scheme {
            Pattern::Any => true,
            Pattern::Exact(s) => s == scheme,
        };
        let host_ok = match &self.host {
            HostPattern::Any => true,
            HostPattern::Suffix(s) => host.ends_with(s.as_str()),
            HostPattern::Exact(h) => *h == host,
        };
        let port_ok = match &self.port {
            Pattern::Any => true,
            Pattern::Exact(p) => *p == port.to_string(),
        };
        scheme_ok && host_ok && port_ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        let a = AllowedHost::parse("http://*.spin.internal").unwrap();
        assert!(a.allows("http", "text-tools.spin.internal", 80));
        assert!(!a.allows("https", "text-tools.spin.internal", 443));
        let b = AllowedHost::parse("http://127.0.0.1:*").unwrap();
        assert!(b.allows("http", "127.0.0.1", 4318));
        assert!(!b.allows("http", "127.0.0.2", 4318));
        let c = AllowedHost::parse("https://example.com").unwrap();
        assert!(c.allows("https", "EXAMPLE.com", 443));
        assert!(!c.allows("https", "example.com", 8443));
        assert!(AllowedHost::parse("example.com").is_err());
        assert!(AllowedHost::parse("http://x/y").is_err());
    }
}
