//! Every application variable spinscope reads, parsed in one place so the
//! components agree on names, defaults and rules, and the readiness probe's
//! `config` check can name the variable that is wrong.
//!
//! [`vars`] is the one table of the variables (name, default, secret);
//! [`reads`] says which of them each component reads. `spin.toml` and the
//! README are checked against both by `tests/e2e/tests/variables.rs`.
//! [`load_config`] reads a component's set and keeps every problem
//! ([`LoadedConfig`]), which the probes' `config` check reports.

pub(crate) mod load;
pub mod oauth;
pub mod reads;
pub mod vars;

pub use load::{load_config, LoadedConfig, VariableProblem};
pub use vars::{Var, VarSet};

use crate::log::{LogFilter, LogFormat};
use std::time::Duration;

/// The parsed configuration. Defaults are those of [`vars`], which
/// `spin.toml`'s `[variables]` repeats (and a test keeps equal).
#[derive(Debug, Clone)]
pub struct Config {
    /// Component ids of the tool components (`tool_components`).
    pub tool_components: Vec<String>,
    /// Deadline of one tool call (`tool_timeout_ms`).
    pub tool_timeout: Duration,
    /// Which log lines are written (`log_level`, `RUST_LOG` syntax).
    pub log_filter: LogFilter,
    /// `logfmt` or `json` lines (`log_format`).
    pub log_format: LogFormat,
    /// Extra argument key fragments to redact (`redact_keys`).
    pub redact_keys: Vec<String>,
    /// A session unused for this long has expired (`session_idle_timeout_secs`).
    pub session_idle_timeout: Duration,
    /// Allowed `Origin` values; empty means loopback origins only, `*` any.
    pub allowed_origins: Vec<String>,
    /// Whether `tools/call` arguments are checked against the tool's
    /// `inputSchema` before the call (`validate_tool_arguments`).
    pub validate_tool_arguments: bool,
    /// Metric recording on/off (`metrics_enabled`), for benchmarks.
    pub metrics_enabled: bool,
    /// Key-value store label holding the metrics (`metrics_store`):
    /// `default`, or e.g. an in-memory store, which keeps the metrics off the disk (docs/deployment.md).
    pub metrics_store: String,
    /// Series a metric may have in one record (the fold record) before new ones are
    /// dropped (`metrics_max_series_per_metric`; see [`crate::metrics::Limits`]).
    pub metrics_max_series_per_metric: usize,
    /// How long the cached tool → component map is used before it is
    /// refreshed (`tool_map_ttl_ms`).
    pub tool_map_ttl: Duration,
    /// How long a readiness report is served from the cache (`ready_cache_ttl_ms`).
    pub ready_cache_ttl: Duration,
    /// Whether a tool component that is down makes readiness fail (503).
    pub tools_required: bool,
    /// Largest accepted request body; larger gets 413 (`max_request_bytes`).
    pub max_request_bytes: usize,
    /// Largest tool output passed on; longer text is truncated with a note.
    pub max_output_bytes: usize,
    /// Tools per `tools/list` page before `nextCursor` (`tools_page_size`).
    pub tools_page_size: usize,
    /// API keys (`api_keys`, secret); empty means open mode.
    pub api_keys: crate::auth::ApiKeys,
    /// Gateway-wide limit of requests in flight; 0 is off (`max_concurrency`).
    pub max_concurrency: u64,
    /// Live MCP sessions a tenant may hold (`max_sessions_per_tenant`);
    /// over it `initialize` is refused.
    pub max_sessions_per_tenant: u64,
    /// Live sessions one client address may hold in open mode
    /// (`max_sessions_per_client`; 0 is off), so that one client cannot use
    /// up the shared open-mode tenant's `max_sessions_per_tenant`.
    pub max_sessions_per_client: u64,
    /// How long a request body may take to arrive (`body_timeout_ms`); a
    /// slower one gets 408 and holds nothing meanwhile.
    pub body_timeout: Duration,
    /// Consecutive component failures that open a tool component's
    /// circuit breaker (`breaker_failures`; 0 turns breakers off).
    pub breaker_failures: u64,
    /// How long an open breaker refuses calls before one trial
    /// (`breaker_cooldown_ms`), and each trial window's length.
    pub breaker_cooldown: Duration,
    /// The most tool metric reports read from one call result
    /// (`max_tool_metric_reports`; 0 turns tools' own metrics off).
    pub max_tool_metric_reports: usize,
    /// Whether the audit trail records events (`audit_enabled`).
    pub audit_enabled: bool,
    /// The key that authenticates audit events and the chain (`audit_key`,
    /// secret; at least 16 bytes), if set.
    pub audit_key: Option<AuditKey>,
    /// About how many audit events are kept (`audit_retention_events`).
    pub audit_retention_events: u64,
    /// OAuth access tokens (`oauth_*`), when `oauth_issuer` is set.
    pub oauth: Option<oauth::OAuthConfig>,
    /// Who may list and call which tool (`tool_policy`; empty: everyone let in).
    pub tool_policy: crate::oauth::policy::Policy,
    /// Per-tenant requests a minute; 0 is off (`rate_limit_per_minute`).
    pub rate_limit_per_minute: u32,
    /// Burst size of the rate limit (`rate_limit_burst`; default: a minute's worth).
    pub rate_limit_burst: u32,
    /// OTLP/HTTP traces URL (`otlp_traces_endpoint`); `None`: export off.
    pub otlp_traces_endpoint: Option<String>,
    /// `service.name` of the exported spans (`service_name`).
    pub service_name: String,
    /// Share of new traces recorded, 0.0–1.0 (`otlp_sampling_ratio`); a
    /// parent's sampled flag always wins.
    pub otlp_sampling_ratio: f64,
}

/// `audit_key`'s bytes; never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct AuditKey(Vec<u8>);

impl AuditKey {
    /// The key's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditKey(<secret>)")
    }
}

/// A variable that does not parse.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("variable '{variable}': {message}")]
pub struct ConfigError {
    /// The variable name.
    pub variable: &'static str,
    /// What is wrong with its value.
    pub message: String,
}

impl Config {
    /// Parses every variable through `lookup`: absent means the default of
    /// [`vars`]; empty means the default too, except for the lists, where
    /// it is an empty list. All errors are returned, not just the first.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, Vec<ConfigError>> {
        Config::from_var_lookup(|var| lookup(var.name()))
    }

    /// [`Config::from_lookup`] with `lookup` given the [`Var`] itself (no
    /// search by name: this runs on every request).
    pub fn from_var_lookup(lookup: impl Fn(Var) -> Option<String>) -> Result<Config, Vec<ConfigError>> {
        let mut p = Parser { lookup, errors: Vec::new() };
        let tool_timeout_ms = p.number(Var::ToolTimeoutMs, 1, 3_600_000);
        let session_idle_secs = p.number(Var::SessionIdleTimeoutSecs, 1, 30 * 86_400);
        let max_series = p.number(Var::MetricsMaxSeriesPerMetric, 1, 1_000_000) as usize;
        let tool_map_ttl_ms = p.number(Var::ToolMapTtlMs, 0, 3_600_000);
        let ready_ttl_ms = p.number(Var::ReadyCacheTtlMs, 0, 600_000);
        let max_request_bytes = p.number(Var::MaxRequestBytes, 64, 1 << 30) as usize;
        let max_output_bytes = p.number(Var::MaxOutputBytes, 64, 1 << 30) as usize;
        let tools_page_size = p.number(Var::ToolsPageSize, 1, 10_000) as usize;
        let max_concurrency = p.number(Var::MaxConcurrency, 0, 1_000_000);
        let max_sessions_per_tenant = p.number(Var::MaxSessionsPerTenant, 1, 10_000_000);
        let max_sessions_per_client = p.number(Var::MaxSessionsPerClient, 0, 10_000_000);
        let body_timeout_ms = p.number(Var::BodyTimeoutMs, 100, 600_000);
        let breaker_failures = p.number(Var::BreakerFailures, 0, 1_000_000);
        let breaker_cooldown_ms = p.number(Var::BreakerCooldownMs, 100, 86_400_000);
        let max_tool_metric_reports = p.number(Var::MaxToolMetricReports, 0, 1024) as usize;
        let audit_retention_events = p.number(Var::AuditRetentionEvents, 1_000, 1_000_000_000);
        let rate_limit_per_minute = p.number(Var::RateLimitPerMinute, 0, 10_000_000) as u32;
        // 0: a minute's worth of requests.
        let rate_limit_burst = match p.number(Var::RateLimitBurst, 0, 10_000_000) as u32 {
            0 => rate_limit_per_minute,
            n => n,
        };

        let validate_tool_arguments = p.setting(Var::ValidateToolArguments, parse_flag);
        let metrics_enabled = p.setting(Var::MetricsEnabled, parse_flag);
        let audit_enabled = p.setting(Var::AuditEnabled, parse_flag);
        let audit_key = p.setting(Var::AuditKey, |key| match key.len() {
            0 => Ok(None),
            16.. => Ok(Some(AuditKey(key.as_bytes().to_vec()))),
            // Never quoted: it is a secret.
            _ => Err("the key must be at least 16 bytes".to_string()),
        });
        let tools_required = p.setting(Var::ToolsRequired, parse_flag);

        // Spin store labels: letters, digits, '_' and '-'.
        let metrics_store = p.setting(Var::MetricsStore, |label| {
            if is_component_id(label) {
                Ok(label.to_string())
            } else {
                Err(format!("{label:?} is not a store label"))
            }
        });
        let tool_components = p.tool_components();
        let log_filter = p.setting(Var::LogLevel, LogFilter::parse);
        let log_format = p.setting(Var::LogFormat, LogFormat::parse);
        let api_keys = p.setting(Var::ApiKeys, crate::auth::ApiKeys::parse);
        let oauth = p.oauth();
        let tool_policy = p.setting(Var::ToolPolicy, oauth::parse_policy);
        let otlp_traces_endpoint = p.setting(Var::OtlpTracesEndpoint, |url| {
            if url.is_empty() || url.starts_with("http://") || url.starts_with("https://") {
                Ok(Some(url.to_string()).filter(|u| !u.is_empty()))
            } else {
                Err(format!("{url:?} is not an http(s) URL"))
            }
        });
        let otlp_sampling_ratio = p.setting(Var::OtlpSamplingRatio, |v| match v.parse::<f64>() {
            Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
            _ => Err(format!("{v:?} is not a number from 0 to 1")),
        });
        let service_name = p.setting(Var::ServiceName, |v| Ok(v.to_string()));
        let config = Config {
            tool_components,
            tool_timeout: Duration::from_millis(tool_timeout_ms),
            log_filter,
            log_format,
            redact_keys: p.list(Var::RedactKeys),
            session_idle_timeout: Duration::from_secs(session_idle_secs),
            allowed_origins: p.list(Var::AllowedOrigins),
            validate_tool_arguments,
            metrics_enabled,
            metrics_store,
            metrics_max_series_per_metric: max_series,
            tool_map_ttl: Duration::from_millis(tool_map_ttl_ms),
            ready_cache_ttl: Duration::from_millis(ready_ttl_ms),
            tools_required,
            max_request_bytes,
            max_output_bytes,
            tools_page_size,
            api_keys,
            max_concurrency,
            max_sessions_per_tenant,
            max_sessions_per_client,
            body_timeout: Duration::from_millis(body_timeout_ms),
            breaker_failures,
            breaker_cooldown: Duration::from_millis(breaker_cooldown_ms),
            max_tool_metric_reports,
            audit_enabled,
            audit_key,
            audit_retention_events,
            oauth,
            tool_policy,
            rate_limit_per_minute,
            rate_limit_burst,
            otlp_traces_endpoint,
            service_name,
            otlp_sampling_ratio,
        };
        if p.errors.is_empty() {
            Ok(config)
        } else {
            Err(p.errors)
        }
    }

    /// Open mode: no API keys and no OAuth, so every caller is let in
    /// (and sees what open mode shows).
    pub fn is_open(&self) -> bool {
        self.api_keys.is_open() && self.oauth.is_none()
    }

    /// Whether `origin` may call (see `allowed_origins`).
    pub fn origin_allowed(&self, origin: &str) -> bool {
        if self.allowed_origins.iter().any(|o| o == "*" || o.eq_ignore_ascii_case(origin)) {
            return true;
        }
        if !self.allowed_origins.is_empty() {
            return false;
        }
        let host = origin.split_once("://").map(|(_, rest)| rest).unwrap_or(origin);
        let host = if host.starts_with('[') {
            host.split(']').next().map(|h| format!("{h}]")).unwrap_or_default()
        } else {
            host.split(':').next().unwrap_or_default().to_string()
        };
        matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]")
    }
}

fn is_component_id(id: &str) -> bool {
    !id.is_empty() && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

fn parse_flag(v: &str) -> Result<bool, String> {
    match v {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(format!("{v:?} is not true or false")),
    }
}

/// Reads the variables through `lookup`, keeping every error.
struct Parser<F> {
    lookup: F,
    errors: Vec<ConfigError>,
}

impl<F: Fn(Var) -> Option<String>> Parser<F> {
    /// The value as set, trimmed; absent: the default.
    fn raw(&self, var: Var) -> String {
        match (self.lookup)(var) {
            // Most values need no trimming: no second copy then.
            Some(value) if value.trim().len() == value.len() => value,
            Some(value) => value.trim().to_string(),
            None => var.default_value().trim().to_string(),
        }
    }

    /// `var` parsed; empty means the default, and a value that does not
    /// parse is an error (the default is used).
    fn setting<T>(&mut self, var: Var, parse: impl Fn(&str) -> Result<T, String>) -> T {
        let value = self.raw(var);
        if !value.is_empty() {
            match parse(&value) {
                Ok(parsed) => return parsed,
                Err(message) => self.errors.push(ConfigError { variable: var.name(), message }),
            }
        }
        // Every default parses (tested).
        match parse(var.default_value()) {
            Ok(parsed) => parsed,
            Err(e) => panic!("the default of variable '{}' does not parse: {e}", var.name()),
        }
    }

    /// A whole number in `min..=max`.
    fn number(&mut self, var: Var, min: u64, max: u64) -> u64 {
        self.setting(var, |v| match v.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            Ok(n) => Err(format!("{n} is outside {min}..={max}")),
            Err(_) => Err(format!("{v:?} is not a whole number")),
        })
    }

    /// A comma-separated list, empty items dropped; empty is an empty list.
    fn list(&self, var: Var) -> Vec<String> {
        self.raw(var).split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
    }

    /// The `oauth_*` variables together (one is meaningless without the
    /// others); an error is the variable's.
    fn oauth(&mut self) -> Option<oauth::OAuthConfig> {
        let (issuer, resource, jwks) =
            (self.raw(Var::OauthIssuer), self.raw(Var::OauthResource), self.raw(Var::OauthJwks));
        let (jwks_url, jwks_ttl_ms) = (self.raw(Var::OauthJwksUrl), self.raw(Var::OauthJwksTtlMs));
        let tenant_claim = self.raw(Var::OauthTenantClaim);
        let raw = oauth::Raw {
            issuer: &issuer,
            resource: &resource,
            jwks: &jwks,
            jwks_url: &jwks_url,
            jwks_ttl_ms: &jwks_ttl_ms,
            scopes: self.list_spaced(Var::OauthScopes),
            required_scopes: self.list_spaced(Var::OauthRequiredScopes),
            tenant_claim: &tenant_claim,
        };
        match oauth::parse(raw) {
            Ok(config) => config,
            Err((variable, message)) => {
                self.errors.push(ConfigError { variable, message });
                None
            }
        }
    }

    /// A list separated by spaces or commas (scopes).
    fn list_spaced(&self, var: Var) -> Vec<String> {
        self.raw(var).split([' ', ',']).filter(|s| !s.is_empty()).map(str::to_string).collect()
    }

    /// `tool_components`: every id that is not a component id is an error
    /// of its own; empty is no tool component at all.
    fn tool_components(&mut self) -> Vec<String> {
        let var = Var::ToolComponents;
        let list = self.raw(var);
        if list.is_empty() {
            return Vec::new();
        }
        let ids: Vec<String> = list.split(',').map(|s| s.trim().to_string()).collect();
        for id in ids.iter().filter(|id| !is_component_id(id)) {
            self.errors.push(ConfigError {
                variable: var.name(),
                message: format!("{id:?} is not a component id (lowercase letters, digits, '-', '_')"),
            });
        }
        ids.into_iter().filter(|id| is_component_id(id)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(pairs: &[(&str, &str)]) -> Result<Config, Vec<ConfigError>> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.tool_timeout, Duration::from_secs(30));
        assert_eq!(c.session_idle_timeout, Duration::from_secs(1800));
        assert!(c.metrics_enabled && c.validate_tool_arguments && !c.tools_required);
    }

    #[test]
    fn absent_and_empty_mean_the_table_default() {
        let absent = parse(&[]).unwrap();
        assert_eq!(absent.tool_components, ["text-tools", "calc"]);
        assert_eq!(absent.metrics_store, "default");
        assert_eq!(absent.service_name, "spinscope");
        assert_eq!(absent.log_format, LogFormat::Logfmt);
        assert_eq!(format!("{:?}", absent.log_filter), format!("{:?}", LogFilter::default()));
        assert_eq!(absent.otlp_sampling_ratio, 1.0);
        assert_eq!(absent.otlp_traces_endpoint, None);
        assert!(absent.api_keys.is_open());
        // Every variable set to its default, as Spin serves it, reads the same.
        let defaults: Vec<(&str, &str)> = Var::ALL.iter().map(|v| (v.name(), v.default_value())).collect();
        assert_eq!(format!("{:?}", parse(&defaults).unwrap()), format!("{absent:?}"));
        // Empty: the default, except for a list, which is then empty.
        let empty: Vec<(&str, &str)> = Var::ALL.iter().map(|v| (v.name(), " ")).collect();
        let empty = parse(&empty).unwrap();
        assert!(empty.tool_components.is_empty());
        assert_eq!(empty.tool_timeout, absent.tool_timeout);
        assert_eq!(empty.metrics_store, "default");
    }

    #[test]
    fn every_bad_variable_is_named() {
        let errs =
            parse(&[("tool_timeout_ms", "soon"), ("tool_components", "ok,Bad Name"), ("metrics_enabled", "maybe")])
                .unwrap_err();
        let names: Vec<&str> = errs.iter().map(|e| e.variable).collect();
        assert_eq!(names, ["tool_timeout_ms", "metrics_enabled", "tool_components"]);
        assert!(errs[0].to_string().contains("tool_timeout_ms"));
    }

    #[test]
    fn this_rounds_variables_at_their_limits() {
        let ok = |vars: &[(&str, &str)]| parse(vars).unwrap_or_else(|e| panic!("{vars:?}: {e:?}"));
        let bad = |vars: &[(&str, &str)]| parse(vars).unwrap_err();
        assert_eq!(ok(&[("max_tool_metric_reports", "0")]).max_tool_metric_reports, 0);
        assert_eq!(ok(&[("max_tool_metric_reports", "1024")]).max_tool_metric_reports, 1024);
        assert_eq!(bad(&[("max_tool_metric_reports", "1025")])[0].variable, "max_tool_metric_reports");
        assert_eq!(ok(&[("audit_retention_events", "1000")]).audit_retention_events, 1000);
        assert_eq!(bad(&[("audit_retention_events", "999")])[0].variable, "audit_retention_events");
        // A key of 16 bytes is the shortest; a shorter one is refused, never quoted.
        assert!(ok(&[("audit_key", "0123456789abcdef")]).audit_key.is_some());
        let short = bad(&[("audit_key", "0123456789abcde")]);
        assert_eq!(short[0].variable, "audit_key");
        assert!(!short[0].message.contains("0123456789abcde"), "{}", short[0].message);
        assert!(!format!("{:?}", ok(&[("audit_key", "0123456789abcdef")]).audit_key).contains("0123"));
        // OAuth: on with the issuer, its companions required and checked.
        assert!(ok(&[]).oauth.is_none() && ok(&[]).is_open());
        let jwks = r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;
        let on =
            [("oauth_issuer", "https://auth.test"), ("oauth_resource", "https://mcp.test/mcp"), ("oauth_jwks", jwks)];
        let c = ok(&on);
        assert!(c.oauth.is_some() && !c.is_open());
        for (var, value) in [
            ("oauth_issuer", "auth.test"),
            ("oauth_resource", ""),
            ("oauth_jwks", "{}"),
            ("oauth_jwks", r#"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#),
            ("oauth_tenant_claim", " "),
        ] {
            let mut vars = on.to_vec();
            vars.retain(|(k, _)| *k != var);
            vars.push((var, value));
            assert_eq!(bad(&vars)[0].variable, var, "{var}={value}");
        }
        // Keys from a URL instead: exactly one source, https (or loopback
        // http), and a TTL from a second to a day.
        let url = [("oauth_issuer", "https://auth.test"), ("oauth_resource", "https://mcp.test/mcp")];
        let with = |extra: &[(&'static str, &'static str)]| [&url[..], extra].concat();
        let from_url = ok(&with(&[("oauth_jwks_url", "https://auth.test/jwks")])).oauth.unwrap().keys;
        assert!(matches!(from_url, oauth::KeysFrom::Url { ttl_ms: 600_000, .. }), "{from_url:?}");
        for ttl in ["1000", "86400000"] {
            assert!(ok(&with(&[("oauth_jwks_url", "http://127.0.0.1:8080/jwks"), ("oauth_jwks_ttl_ms", ttl)]))
                .oauth
                .is_some());
        }
        for (vars, var) in [
            (with(&[]), "oauth_jwks"),
            (with(&[("oauth_jwks", jwks), ("oauth_jwks_url", "https://auth.test/jwks")]), "oauth_jwks_url"),
            (with(&[("oauth_jwks_url", "http://auth.test/jwks")]), "oauth_jwks_url"),
            (with(&[("oauth_jwks_url", "https://auth.test/jwks"), ("oauth_jwks_ttl_ms", "999")]), "oauth_jwks_ttl_ms"),
            (
                with(&[("oauth_jwks_url", "https://auth.test/jwks"), ("oauth_jwks_ttl_ms", "86400001")]),
                "oauth_jwks_ttl_ms",
            ),
        ] {
            assert_eq!(bad(&vars)[0].variable, var, "{vars:?}");
        }
        assert_eq!(bad(&[("tool_policy", "word_count = friend:bob")])[0].variable, "tool_policy");
    }

    #[test]
    fn origins() {
        let c = parse(&[]).unwrap();
        assert!(c.origin_allowed("http://localhost:3000"));
        assert!(c.origin_allowed("http://[::1]:3000"));
        assert!(!c.origin_allowed("https://evil.example"));
        let c = parse(&[("allowed_origins", "https://app.example")]).unwrap();
        assert!(c.origin_allowed("https://app.example"));
        assert!(!c.origin_allowed("http://localhost:3000"));
    }
}
