//! Every application variable spinscope reads, parsed in one place so the
//! components agree on names, defaults and rules, and the readiness probe's
//! `config` check can name the variable that is wrong.

use crate::log::{LogFilter, LogFormat};
use std::time::Duration;

/// The parsed configuration. Defaults are those of `spin.toml`.
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
    /// Key-value store label holding the metric shards (`metrics_store`):
    /// `default`, or e.g. an in-memory store for speed (docs/deployment.md).
    pub metrics_store: String,
    /// Shard records the metric writes are spread over (`metrics_shards`).
    pub metrics_shards: u32,
    /// Series a metric may have in one shard record before new ones are
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

/// A variable that does not parse.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    /// The variable name.
    pub variable: &'static str,
    /// What is wrong with its value.
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "variable '{}': {}", self.variable, self.message)
    }
}

impl Config {
    /// Parses every variable through `lookup` (absent or empty means the
    /// default). All errors are returned, not just the first.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let get = |name: &str| lookup(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let mut number = |name: &'static str, default: u64, min: u64, max: u64| -> u64 {
            match get(name) {
                None => default,
                Some(v) => match v.parse::<u64>() {
                    Ok(n) if (min..=max).contains(&n) => n,
                    Ok(n) => {
                        errors.push(ConfigError { variable: name, message: format!("{n} is outside {min}..={max}") });
                        default
                    }
                    Err(_) => {
                        errors.push(ConfigError { variable: name, message: format!("{v:?} is not a whole number") });
                        default
                    }
                },
            }
        };
        let tool_timeout_ms = number("tool_timeout_ms", 30_000, 1, 3_600_000);
        let session_idle_secs = number("session_idle_timeout_secs", 1800, 1, 30 * 86_400);
        let metrics_shards = number("metrics_shards", 8, 1, 256) as u32;
        let max_series = number("metrics_max_series_per_metric", 1000, 1, 1_000_000) as usize;
        let tool_map_ttl_ms = number("tool_map_ttl_ms", 10_000, 0, 3_600_000);
        let ready_ttl_ms = number("ready_cache_ttl_ms", 2000, 0, 600_000);
        let max_request_bytes = number("max_request_bytes", 1 << 20, 64, 1 << 30) as usize;
        let max_output_bytes = number("max_output_bytes", 1 << 20, 64, 1 << 30) as usize;
        let tools_page_size = number("tools_page_size", 100, 1, 10_000) as usize;
        let max_concurrency = number("max_concurrency", 0, 0, 1_000_000);
        let rate_limit_per_minute = number("rate_limit_per_minute", 0, 0, 10_000_000) as u32;
        // 0: a minute's worth of requests.
        let rate_limit_burst = match number("rate_limit_burst", 0, 0, 10_000_000) as u32 {
            0 => rate_limit_per_minute,
            n => n,
        };

        let mut flag = |name: &'static str, default: bool| -> bool {
            match get(name).as_deref() {
                None => default,
                Some("true" | "1" | "yes" | "on") => true,
                Some("false" | "0" | "no" | "off") => false,
                Some(v) => {
                    errors.push(ConfigError { variable: name, message: format!("{v:?} is not true or false") });
                    default
                }
            }
        };
        let validate_tool_arguments = flag("validate_tool_arguments", true);
        let metrics_enabled = flag("metrics_enabled", true);
        let tools_required = flag("tools_required", false);

        // Spin store labels: letters, digits, '_' and '-'.
        let metrics_store = match get("metrics_store") {
            None => "default".to_string(),
            Some(label) if is_component_id(&label) => label,
            Some(label) => {
                errors.push(ConfigError { variable: "metrics_store", message: format!("{label:?} is not a store label") });
                "default".to_string()
            }
        };

        let tool_components = match get("tool_components") {
            None => Vec::new(),
            Some(list) => {
                let ids: Vec<String> = list.split(',').map(|s| s.trim().to_string()).collect();
                for id in &ids {
                    if !is_component_id(id) {
                        errors.push(ConfigError {
                            variable: "tool_components",
                            message: format!("{id:?} is not a component id (lowercase letters, digits, '-', '_')"),
                        });
                    }
                }
                ids.into_iter().filter(|id| is_component_id(id)).collect()
            }
        };
        let log_filter = match get("log_level") {
            None => LogFilter::default(),
            Some(v) => LogFilter::parse(&v).unwrap_or_else(|e| {
                errors.push(ConfigError { variable: "log_level", message: e });
                LogFilter::default()
            }),
        };
        let log_format = match get("log_format") {
            None => LogFormat::default(),
            Some(v) => LogFormat::parse(&v).unwrap_or_else(|e| {
                errors.push(ConfigError { variable: "log_format", message: e });
                LogFormat::default()
            }),
        };
        let api_keys = match get("api_keys") {
            None => crate::auth::ApiKeys::default(),
            Some(spec) => crate::auth::ApiKeys::parse(&spec).unwrap_or_else(|e| {
                errors.push(ConfigError { variable: "api_keys", message: e });
                crate::auth::ApiKeys::default()
            }),
        };
        let otlp_traces_endpoint = get("otlp_traces_endpoint");
        if let Some(url) = &otlp_traces_endpoint {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                errors.push(ConfigError { variable: "otlp_traces_endpoint", message: format!("{url:?} is not an http(s) URL") });
            }
        }
        let otlp_sampling_ratio = match get("otlp_sampling_ratio") {
            None => 1.0,
            Some(v) => match v.parse::<f64>() {
                Ok(r) if (0.0..=1.0).contains(&r) => r,
                _ => {
                    errors.push(ConfigError { variable: "otlp_sampling_ratio", message: format!("{v:?} is not a number from 0 to 1") });
                    1.0
                }
            },
        };
        let service_name = get("service_name").unwrap_or_else(|| "spinscope".to_string());
        let list = |name: &str| -> Vec<String> {
            get(name)
                .map(|v| v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
                .unwrap_or_default()
        };
        let config = Config {
            tool_components,
            tool_timeout: Duration::from_millis(tool_timeout_ms),
            log_filter,
            log_format,
            redact_keys: list("redact_keys"),
            session_idle_timeout: Duration::from_secs(session_idle_secs),
            allowed_origins: list("allowed_origins"),
            validate_tool_arguments,
            metrics_enabled,
            metrics_store,
            metrics_shards,
            metrics_max_series_per_metric: max_series,
            tool_map_ttl: Duration::from_millis(tool_map_ttl_ms),
            ready_cache_ttl: Duration::from_millis(ready_ttl_ms),
            tools_required,
            max_request_bytes,
            max_output_bytes,
            tools_page_size,
            api_keys,
            max_concurrency,
            rate_limit_per_minute,
            rate_limit_burst,
            otlp_traces_endpoint,
            service_name,
            otlp_sampling_ratio,
        };
        if errors.is_empty() {
            Ok(config)
        } else {
            Err(errors)
        }
    }

    /// Whether a browser `Origin` may call the gateway: loopback origins by
    /// default (DNS-rebinding protection, as the MCP spec asks), or the list.
    pub fn origin_allowed(&self, origin: &str) -> bool {
        if self.allowed_origins.iter().any(|o| o == "*" || o.eq_ignore_ascii_case(origin)) {
            return true;
        }
        if !self.allowed_origins.is_empty() {
            return false;
        }
        let host = origin
            .split_once("://")
            .map(|(_, rest)| rest)
            .unwrap_or(origin);
        let host = if host.starts_with('[') {
            host.split(']').next().map(|h| format!("{h}]")).unwrap_or_default()
        } else {
            host.split(':').next().unwrap_or_default().to_string()
        };
        matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]")
    }
}

fn is_component_id(id: &str) -> bool {
    !id.is_empty()
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
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
    fn every_bad_variable_is_named() {
        let errs = parse(&[("tool_timeout_ms", "soon"), ("tool_components", "ok,Bad Name"), ("metrics_enabled", "maybe")])
            .unwrap_err();
        let names: Vec<&str> = errs.iter().map(|e| e.variable).collect();
        assert_eq!(names, ["tool_timeout_ms", "metrics_enabled", "tool_components"]);
        assert!(errs[0].to_string().contains("tool_timeout_ms"));
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
