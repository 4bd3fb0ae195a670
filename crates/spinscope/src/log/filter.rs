//! The `log_level` filter, in `RUST_LOG` syntax.

use super::Level;
use std::fmt;

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
        Self { default: Some(Level::Info), directives: Vec::new() }
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
                    filter.default = parse_max_level(directive)
                        .ok_or_else(|| err(format!("unknown level (expected {LEVEL_NAMES}, or target=level)")))?;
                }
                Some((target, level)) => {
                    let (target, level) = (target.trim(), level.trim());
                    if target.is_empty() {
                        return Err(err("empty target before '='".into()));
                    }
                    if let Some(c) = target.chars().find(|&c| !is_target_char(c)) {
                        return Err(err(format!("invalid character {c:?} in target")));
                    }
                    let max = parse_max_level(level)
                        .ok_or_else(|| err(format!("unknown level \"{level}\" (expected {LEVEL_NAMES})")))?;
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
    target.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }

    #[test]
    fn filter_target_directives() {
        let f = LogFilter::parse("gateway=debug,info").unwrap();
        assert!(f.enabled("gateway", Level::Debug));
        assert!(f.enabled("gateway::tools", Level::Debug));
        assert!(!f.enabled("gateways", Level::Debug), "prefix must end at a path boundary");
        assert!(!f.enabled("other", Level::Debug));
        assert!(f.enabled("other", Level::Info));
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
}
