//! Which variables each component reads. A component loads its
//! configuration with its set (`spinscope_spin::settings::load`), and the
//! loader asks the host for those variables only: the others keep their
//! defaults. `spin.toml` maps each component's set exactly, which
//! `tests/e2e/tests/variables.rs` checks, together with the code: a source
//! file that uses a [`Config`](super::Config) field whose variable is not in
//! its component's set (or its helper's, below) fails that test.

use super::vars::{Var::*, VarSet};

/// What `spinscope_spin::metrics_sink` reads for its callers: where the
/// metrics live and the caps a recording keeps to, and what sealing the
/// audit events a fold meets needs (`spinscope_spin::audit`).
pub const METRICS_SINK: VarSet = VarSet::of(&[
    MetricsStore,
    MetricsMaxSeriesPerMetric,
    SessionIdleTimeoutSecs,
    AuditEnabled,
    AuditKey,
    AuditRetentionEvents,
]);

/// What `spinscope_spin::oauth_keys` reads: the OAuth settings (where
/// the keys come from) and the log format of its warnings.
pub const OAUTH_KEYS: VarSet = VarSet::EMPTY.with(&[
    LogFormat,
    OauthIssuer,
    OauthResource,
    OauthJwks,
    OauthJwksUrl,
    OauthJwksTtlMs,
    OauthScopes,
    OauthRequiredScopes,
    OauthTenantClaim,
]);

/// What `spinscope_spin::gate` reads: the keys and the OAuth settings
/// (it accepts either, the token's keys through `oauth_keys`), what
/// counting a rejection in the metrics sink needs, and the log format of
/// its lines.
pub const GATE: VarSet = METRICS_SINK.union(OAUTH_KEYS).with(&[ApiKeys, LogFormat]);

/// The `gateway` component: everything but the readiness settings.
pub const GATEWAY: VarSet = GATE.with(&[
    ToolPolicy,
    ToolComponents,
    ToolTimeoutMs,
    LogLevel,
    LogFormat,
    RedactKeys,
    AllowedOrigins,
    ValidateToolArguments,
    MetricsEnabled,
    ToolMapTtlMs,
    MaxRequestBytes,
    MaxOutputBytes,
    ToolsPageSize,
    ApiKeys,
    MaxConcurrency,
    MaxSessionsPerTenant,
    MaxSessionsPerClient,
    BodyTimeoutMs,
    BreakerFailures,
    BreakerCooldownMs,
    MaxToolMetricReports,
    RateLimitPerMinute,
    RateLimitBurst,
    OtlpTracesEndpoint,
    OtlpSamplingRatio,
    ServiceName,
]);

/// The `metrics` exporter: the key gate, the metrics it reads, and the
/// tool components whose breakers it reports.
pub const METRICS: VarSet = GATE.with(&[ToolComponents]);

/// The `audit` component (`GET /audit`, `/audit/verify`): the key gate
/// and the chain.
pub const AUDIT: VarSet = GATE;

/// What the `ready` component uses itself: the key gate of its summaries,
/// the metrics of `/health/detailed`, the tool components it probes.
const READY_USES: VarSet = GATE.with(&[ToolComponents, ToolTimeoutMs, ToolsRequired, ReadyCacheTtlMs]);

/// The app's configuration, as the probes check it: every variable some
/// component uses. The startup probe and readiness's `config` check fail
/// on any of them (a wrong `log_level` makes the gateway answer 503, so
/// the app is not ready), which is why `health` and `ready` read them all.
pub const APP: VarSet = GATEWAY.union(METRICS).union(AUDIT).union(READY_USES);

/// The `health` component: liveness reads nothing; startup checks [`APP`].
pub const HEALTH: VarSet = APP;

/// The `ready` component: its `config` check covers [`APP`].
pub const READY: VarSet = APP.union(READY_USES);

/// Every component of `spin.toml` and its set, the tools' empty.
pub const COMPONENTS: &[(&str, VarSet)] = &[
    ("gateway", GATEWAY),
    ("metrics", METRICS),
    ("audit", AUDIT),
    ("health", HEALTH),
    ("ready", READY),
    // A static page: the endpoints it polls check the key.
    ("status", VarSet::EMPTY),
    ("text-tools", VarSet::EMPTY),
    ("calc", VarSet::EMPTY),
];

/// The modules of `spinscope_spin` that read the configuration for their
/// callers: a component using one must read its set too.
pub const HELPERS: &[(&str, VarSet)] = &[
    ("gate", GATE),
    ("metrics_sink", METRICS_SINK),
    ("metrics_fold", METRICS_SINK),
    ("audit", METRICS_SINK),
    ("oauth_keys", OAUTH_KEYS),
];

/// The set of component `id`, if it is one of the app's.
pub fn component(id: &str) -> Option<VarSet> {
    COMPONENTS.iter().find(|(c, _)| *c == id).map(|(_, set)| *set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variable_is_used_by_some_component() {
        let unused: Vec<&str> = VarSet::ALL.iter().filter(|v| !APP.contains(*v)).map(|v| v.name()).collect();
        assert!(
            unused.is_empty(),
            "no component uses {unused:?}: remove them, or declare the component that reads them"
        );
    }

    #[test]
    fn components_include_their_helpers() {
        assert!(GATE.includes(METRICS_SINK));
        assert!(GATEWAY.includes(METRICS_SINK));
        assert!(METRICS.includes(GATE));
        assert!(READY.includes(GATE));
        assert_eq!(component("metrics"), Some(METRICS));
        assert_eq!(component("calc"), Some(VarSet::EMPTY));
        assert_eq!(component("nope"), None);
    }
}
