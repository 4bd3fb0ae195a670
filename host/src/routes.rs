//! HTTP route matching as Spin does it (`spinframework/spin` `crates/routes`):
//! exact routes, and wildcard routes ending in `/...` that match their prefix
//! and everything below it. An exact route beats a wildcard; among wildcards
//! the longest prefix wins. Deliberate difference: `:name` parameter
//! segments are not supported (spinscope does not use them).

#[derive(Debug, Clone)]
pub struct Route {
    /// The route as written in the manifest, e.g. `/health/...`.
    pub raw: String,
    /// The route without the wildcard suffix, e.g. `/health`.
    pub base: String,
    pub wildcard: bool,
    pub component: String,
}

#[derive(Debug, Clone)]
pub struct Matched<'a> {
    pub route: &'a Route,
    /// The part of the path below the matched base (`spin-path-info`).
    pub path_info: String,
}

#[derive(Debug, Default)]
pub struct Router {
    routes: Vec<Route>,
}

/// Paths Spin keeps for itself.
pub const RESERVED_PREFIX: &str = "/.well-known/spin/";

impl Router {
    pub fn add(&mut self, raw: &str, component: &str) -> anyhow::Result<()> {
        let raw = normalize(raw);
        if raw.starts_with(RESERVED_PREFIX) || raw == "/.well-known/spin" {
            anyhow::bail!("route {raw} is reserved by Spin");
        }
        let (base, wildcard) = match raw.strip_suffix("/...") {
            Some(base) => (if base.is_empty() { "/".to_string() } else { base.to_string() }, true),
            None if raw == "/..." => ("/".to_string(), true),
            None => (raw.clone(), false),
        };
        if let Some(dup) = self.routes.iter().find(|r| r.base == base && r.wildcard == wildcard) {
            anyhow::bail!("duplicate route {raw}: components '{}' and '{component}'", dup.component);
        }
        self.routes.push(Route { raw, base, wildcard, component: component.to_string() });
        Ok(())
    }

    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    pub fn route_for(&self, path: &str) -> Option<Matched<'_>> {
        let path = if path.is_empty() { "/" } else { path };
        if let Some(route) = self.routes.iter().find(|r| !r.wildcard && r.base == path) {
            return Some(Matched { route, path_info: String::new() });
        }
        self.routes.iter().filter(|r| r.wildcard && wildcard_matches(&r.base, path)).max_by_key(|r| r.base.len()).map(
            |route| {
                let rest = if route.base == "/" { path } else { &path[route.base.len()..] };
                Matched { route, path_info: rest.to_string() }
            },
        )
    }
}

fn wildcard_matches(base: &str, path: &str) -> bool {
    if base == "/" {
        return true;
    }
    path == base || (path.starts_with(base) && path.as_bytes().get(base.len()) == Some(&b'/'))
}

fn normalize(raw: &str) -> String {
    let trimmed = raw.trim();
    let with_slash = if trimmed.starts_with('/') { trimmed.to_string() } else { format!("/{trimmed}") };
    if with_slash.len() > 1 && with_slash.ends_with('/') {
        with_slash.trim_end_matches('/').to_string()
    } else {
        with_slash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router() -> Router {
        let mut r = Router::default();
        r.add("/mcp", "gateway").unwrap();
        r.add("/health/...", "ready").unwrap();
        r.add("/health/live", "health").unwrap();
        r.add("/...", "fallback").unwrap();
        r
    }

    #[test]
    fn exact_beats_wildcard() {
        let r = router();
        assert_eq!(r.route_for("/health/live").unwrap().route.component, "health");
        let m = r.route_for("/health/ready").unwrap();
        assert_eq!(m.route.component, "ready");
        assert_eq!(m.path_info, "/ready");
        assert_eq!(r.route_for("/health").unwrap().route.component, "ready");
        assert_eq!(r.route_for("/healthz").unwrap().route.component, "fallback");
        assert_eq!(r.route_for("/mcp").unwrap().path_info, "");
    }

    #[test]
    fn no_match_without_fallback() {
        let mut r = Router::default();
        r.add("/mcp", "gateway").unwrap();
        assert!(r.route_for("/mcp/x").is_none());
        assert!(r.route_for("/").is_none());
    }

    #[test]
    fn reserved_and_duplicate_rejected() {
        let mut r = Router::default();
        assert!(r.add("/.well-known/spin/x", "a").is_err());
        r.add("/a", "a").unwrap();
        assert!(r.add("/a", "b").is_err());
    }
}
