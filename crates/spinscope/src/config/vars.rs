//! The one table of application variables: name, default, secret, and the
//! [`Config`](super::Config) field each one fills. `spin.toml`'s
//! `[variables]`, each `[component.X.variables]` and the README's table
//! are checked against it (`tests/e2e/tests/variables.rs`), so a default is
//! written here and nowhere else in code.

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variable {
    /// The name in `spin.toml` (and `SPIN_VARIABLE_<NAME>` upper-cased).
    pub name: &'static str,
    /// The default, as written in `[variables]`; `None`: `required = true`.
    pub default: Option<&'static str>,
    /// `secret = true` in `[variables]`.
    pub secret: bool,
    /// The [`Config`](super::Config) field (or method) that holds it
    /// parsed, so code reading it can be traced back to the variable.
    pub field: &'static str,
}

const fn var(name: &'static str, default: &'static str, field: &'static str) -> Variable {
    Variable { name, default: Some(default), secret: false, field }
}

/// Declares [`Var`], its table and [`Var::ALL`] from one list, so a
/// variable is written once.
macro_rules! variables {
    ($($id:ident => $row:expr,)*) => {
        /// A variable spinscope reads, by name (see [`Var::name`]).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[allow(missing_docs)] // Each variant is the variable of the same name, described in the README.
        pub enum Var {
            $($id,)*
        }

        /// Every variable, in [`Var`] order (`Var::X as usize` is its row).
        static TABLE: &[Variable] = &[$($row,)*];

        impl Var {
            /// Every variable, in table order.
            pub const ALL: &'static [Var] = &[$(Var::$id,)*];
        }
    };
}

variables! {
    ToolComponents => var("tool_components", "text-tools,calc", "tool_components"),
    ToolTimeoutMs => var("tool_timeout_ms", "30000", "tool_timeout"),
    LogLevel => var("log_level", "info", "log_filter"),
    LogFormat => var("log_format", "logfmt", "log_format"),
    RedactKeys => var("redact_keys", "", "redact_keys"),
    SessionIdleTimeoutSecs => var("session_idle_timeout_secs", "1800", "session_idle_timeout"),
    AllowedOrigins => var("allowed_origins", "", "allowed_origins"),
    ValidateToolArguments => var("validate_tool_arguments", "true", "validate_tool_arguments"),
    MetricsEnabled => var("metrics_enabled", "true", "metrics_enabled"),
    MetricsStore => var("metrics_store", "default", "metrics_store"),
    MetricsMaxSeriesPerMetric => var("metrics_max_series_per_metric", "1000", "metrics_max_series_per_metric"),
    ToolMapTtlMs => var("tool_map_ttl_ms", "10000", "tool_map_ttl"),
    ReadyCacheTtlMs => var("ready_cache_ttl_ms", "2000", "ready_cache_ttl"),
    ToolsRequired => var("tools_required", "false", "tools_required"),
    MaxRequestBytes => var("max_request_bytes", "1048576", "max_request_bytes"),
    MaxOutputBytes => var("max_output_bytes", "1048576", "max_output_bytes"),
    ToolsPageSize => var("tools_page_size", "100", "tools_page_size"),
    ApiKeys => Variable { secret: true, ..var("api_keys", "", "api_keys") },
    MaxConcurrency => var("max_concurrency", "0", "max_concurrency"),
    RateLimitPerMinute => var("rate_limit_per_minute", "0", "rate_limit_per_minute"),
    RateLimitBurst => var("rate_limit_burst", "0", "rate_limit_burst"),
    OtlpTracesEndpoint => var("otlp_traces_endpoint", "", "otlp_traces_endpoint"),
    OtlpSamplingRatio => var("otlp_sampling_ratio", "1.0", "otlp_sampling_ratio"),
    ServiceName => var("service_name", "spinscope", "service_name"),
    MaxSessionsPerTenant => var("max_sessions_per_tenant", "1000", "max_sessions_per_tenant"),
    MaxSessionsPerClient => var("max_sessions_per_client", "100", "max_sessions_per_client"),
    BodyTimeoutMs => var("body_timeout_ms", "10000", "body_timeout"),
    BreakerFailures => var("breaker_failures", "5", "breaker_failures"),
    BreakerCooldownMs => var("breaker_cooldown_ms", "30000", "breaker_cooldown"),
    MaxToolMetricReports => var("max_tool_metric_reports", "64", "max_tool_metric_reports"),
    AuditEnabled => var("audit_enabled", "true", "audit_enabled"),
    AuditKey => Variable { secret: true, ..var("audit_key", "", "audit_key") },
    AuditRetentionEvents => var("audit_retention_events", "1000000", "audit_retention_events"),
    OauthIssuer => var("oauth_issuer", "", "oauth"),
    OauthResource => var("oauth_resource", "", "oauth"),
    OauthJwks => var("oauth_jwks", "", "oauth"),
    OauthJwksUrl => var("oauth_jwks_url", "", "oauth"),
    OauthJwksTtlMs => var("oauth_jwks_ttl_ms", "600000", "oauth"),
    OauthScopes => var("oauth_scopes", "", "oauth"),
    OauthRequiredScopes => var("oauth_required_scopes", "", "oauth"),
    OauthTenantClaim => var("oauth_tenant_claim", "sub", "oauth"),
    ToolPolicy => var("tool_policy", "", "tool_policy"),
}

/// Variables of `spin.toml` that no component reads: they only fill
/// templates elsewhere in the manifest (`otlp_collector_host` is in the
/// gateway's `allowed_outbound_hosts`, `oauth_jwks_host` in those of every
/// component that checks access tokens). `field` is empty.
pub const MANIFEST_ONLY: &[Variable] =
    &[var("otlp_collector_host", "http://127.0.0.1:4318", ""), var("oauth_jwks_host", "https://jwks.invalid", "")];

impl Var {
    /// Its row of the table.
    pub fn spec(self) -> &'static Variable {
        &TABLE[self as usize]
    }

    /// Its name in `spin.toml`.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// Its default (empty for a required variable).
    pub fn default_value(self) -> &'static str {
        self.spec().default.unwrap_or("")
    }

    /// The variable called `name`, if spinscope reads one.
    pub fn from_name(name: &str) -> Option<Var> {
        Var::ALL.iter().copied().find(|v| v.name() == name)
    }
}

/// A set of variables: what a component (or a shared helper) reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct VarSet(u64);

impl VarSet {
    /// No variable.
    pub const EMPTY: VarSet = VarSet(0);
    /// Every variable in the table.
    pub const ALL: VarSet = VarSet::of(Var::ALL);

    /// The set of `vars`.
    pub const fn of(vars: &[Var]) -> VarSet {
        VarSet::EMPTY.with(vars)
    }

    /// This set plus `vars`.
    pub const fn with(self, vars: &[Var]) -> VarSet {
        let mut bits = self.0;
        let mut i = 0;
        while i < vars.len() {
            bits |= 1 << vars[i] as u64;
            i += 1;
        }
        VarSet(bits)
    }

    /// Every variable in either set.
    pub const fn union(self, other: VarSet) -> VarSet {
        VarSet(self.0 | other.0)
    }

    /// Whether `var` is in the set.
    pub const fn contains(self, var: Var) -> bool {
        self.0 & (1 << var as u64) != 0
    }

    /// Whether every variable of `other` is in this set too.
    pub const fn includes(self, other: VarSet) -> bool {
        self.0 & other.0 == other.0
    }

    /// How many variables are in the set.
    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The variables in the set, in table order.
    pub fn iter(self) -> impl Iterator<Item = Var> {
        Var::ALL.iter().copied().filter(move |v| self.contains(*v))
    }

    /// The names of the variables in the set, in table order.
    pub fn names(self) -> Vec<&'static str> {
        self.iter().map(Var::name).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_in_enum_order_and_names_are_unique() {
        for (i, var) in Var::ALL.iter().copied().enumerate() {
            assert_eq!(var as usize, i, "{var:?} is out of order in Var::ALL");
            assert_eq!(Var::from_name(var.name()), Some(var));
        }
        let mut names: Vec<&str> =
            Var::ALL.iter().map(|v| v.name()).chain(MANIFEST_ONLY.iter().map(|m| m.name)).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(names.len(), before, "a name is in the table twice");
        assert_eq!(VarSet::ALL.len(), Var::ALL.len());
    }

    #[test]
    fn sets() {
        let s = VarSet::of(&[Var::ApiKeys, Var::LogLevel]);
        assert!(s.contains(Var::ApiKeys) && !s.contains(Var::ToolComponents));
        assert_eq!(s.names(), ["log_level", "api_keys"]);
        assert!(VarSet::ALL.includes(s) && !s.includes(VarSet::ALL));
        assert_eq!(s.union(VarSet::of(&[Var::ServiceName])).len(), 3);
        assert!(VarSet::EMPTY.is_empty());
    }
}
