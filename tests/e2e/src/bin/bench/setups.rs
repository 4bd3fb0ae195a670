//! What is measured: the store setups, the rows' names, and the hosts
//! (gateway, or the probe component on its own) each row runs on.

use super::*;

/// Where the session records and the metrics live.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Stores {
    /// Both in the default SQLite store on disk, in write-ahead logging mode
    /// as `make up` prepares it (the out-of-the-box setup).
    Sqlite,
    /// Both in the default SQLite store as Spin leaves it when nothing
    /// prepared it: SQLite's rollback journal.
    SqliteRollback,
    /// Sessions on disk, the metrics in an in-memory store (`metrics_store`).
    SqliteMetricsInMemory,
    /// Both in Redis.
    Redis,
}

impl Stores {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Stores::Sqlite => "sqlite",
            Stores::SqliteRollback => "sqlite, rollback journal",
            Stores::SqliteMetricsInMemory => "sqlite + in-memory metrics",
            Stores::Redis => "redis",
        }
    }
}

pub(crate) fn on_off(stores: Stores, recording: bool) -> String {
    format!("{}: recording {}", stores.name(), if recording { "on" } else { "off" })
}

pub(crate) const TRIVIAL: &str = "trivial component";

/// The floor of one tool call: the `hop` test component takes the same
/// `tools/call word_count` body and forwards it to `text-tools` by service
/// chaining as the gateway does (same URL, body and headers), and nothing
/// else (tests/components/hop).
pub(crate) const HOP: &str = "one bare chained hop (text-tools)";

/// The bare hop's row, on a host of its own (`hop` and `text-tools`).
pub(crate) fn hop(kind: HostKind) -> Config {
    let host = start(HostBuilder::new("tests/e2e/manifests/hop.toml"), kind);
    let req = hop_call(&host);
    Config::new(HOP, kind, req, host)
}

/// The hop's request: the gateway's `tools/call word_count` body.
pub(crate) fn hop_call(host: &Host) -> Req {
    let body = json!({"jsonrpc":"2.0","id":1,"method":"tools/call",
        "params":{"name":"word_count","arguments":{"text":"the quick brown fox"}}});
    let headers = [("content-type", "application/json"), ("accept", "application/json, text/event-stream")];
    Req {
        url: host.url("/mcp"),
        headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        body: Some(body.to_string()),
        cpu: host.cpu_meter(),
        committed: None,
    }
}

/// The row of a 2026-07-28 `tools/call` (no session) with recording on or
/// off, on `stores`.
pub(crate) fn modern_on_off(stores: Stores, recording: bool) -> String {
    format!("{}: 2026-07-28, recording {}", stores.name(), if recording { "on" } else { "off" })
}

/// A gateway answering 2026-07-28 calls, recording on or off, on `stores`.
pub(crate) fn gateway_modern(stores: Stores, kind: HostKind, redis: Option<&RedisServer>, recording: bool) -> Config {
    let host = gateway_host(stores, kind, redis, recording);
    let req = modern_call(&host, &[]);
    Config::new(modern_on_off(stores, recording), kind, req, host)
}
/// The SQLite setups of tables 1 and 2: the file as `make up` prepares it,
/// and as Spin creates it.
pub(crate) const SQLITE_SETUPS: [(Stores, Journal); 2] =
    [(Stores::Sqlite, Journal::Wal), (Stores::SqliteRollback, Journal::SpinDefault)];

/// One `atomics.increment` per request: the store's serialized write rate.
pub(crate) fn increment_row(stores: Stores) -> String {
    format!("one increment per request ({})", stores.name())
}

/// A recorded tool call's store operations without the gateway: the
/// session and tool map reads and the observation record's `set`.
pub(crate) fn pattern_row(stores: Stores) -> String {
    format!("2 gets + 1 new 800-byte set ({})", stores.name())
}
pub(crate) const INCREMENT_REDIS: &str = "one increment per request (redis)";

/// The gateway with recording on or off, on `stores`.
pub(crate) fn gateway(stores: Stores, kind: HostKind, redis: Option<&RedisServer>, recording: bool) -> Config {
    let host = gateway_host(stores, kind, redis, recording);
    let mut req = tool_call(&host);
    if recording && matches!(stores, Stores::Sqlite | Stores::SqliteRollback) {
        // The SQLite goal counts what the store recorded, not only answers.
        req.committed = Some(Committed::recorded_tool_calls(&host.state_dir));
    }
    Config::new(on_off(stores, recording), kind, req, host)
}

pub(crate) fn gateway_host(stores: Stores, kind: HostKind, redis: Option<&RedisServer>, recording: bool) -> Host {
    gateway_host_with(stores, kind, redis, recording, Features::DEFAULT)
}

/// The row of a gateway on SQLite that records nothing: no metrics and no
/// audit trail (whose event is a durable write of its own when the metrics
/// are off). Like the bare hop, it writes nothing per call: the row the
/// hop goal compares.
pub(crate) const NOTHING_RECORDED: &str = "sqlite: nothing recorded (metrics, audit off)";

pub(crate) fn gateway_nothing_recorded(kind: HostKind) -> Config {
    sqlite_row(NOTHING_RECORDED, kind, false, Features { audit: false, ..Features::DEFAULT })
}

/// A row of `tools/call word_count` through a gateway on SQLite.
fn sqlite_row(name: &str, kind: HostKind, recording: bool, features: Features) -> Config {
    let host = gateway_host_with(Stores::Sqlite, kind, None, recording, features);
    let req = tool_call(&host);
    Config::new(name, kind, req, host)
}

/// The row of a gateway on SQLite, recording on, with its tool components'
/// circuit breakers off: what breakers cost a call, side by side.
pub(crate) const BREAKERS_OFF: &str = "sqlite: recording on, breakers off";

/// A gateway with breakers on (the app's default) or off.
pub(crate) fn gateway_breakers_off(kind: HostKind) -> Config {
    sqlite_row(BREAKERS_OFF, kind, true, Features { breakers: false, ..Features::DEFAULT })
}

/// The rows of a gateway on SQLite, recording on, calling `calc`'s
/// `statistics` on whole numbers (it then reports one counter and one
/// histogram observation of its own) with breakers and tools' own metrics
/// both on (the app's defaults) or both off: what the features of issue 24
/// cost a call.
pub(crate) const FEATURES_ON: &str = "sqlite: statistics, breakers + tool metrics on";
pub(crate) const FEATURES_OFF: &str = "sqlite: statistics, breakers + tool metrics off";

/// One of the two rows above.
pub(crate) fn gateway_features(kind: HostKind, on: bool) -> Config {
    let features = Features { breakers: on, tool_metrics: on, ..Features::DEFAULT };
    let host = gateway_host_with(Stores::Sqlite, kind, None, true, features);
    let req = tool_call_of(&host, "statistics", json!({"numbers": [1, 2, 3, 4, 5]}));
    Config::new(if on { FEATURES_ON } else { FEATURES_OFF }, kind, req, host)
}

/// The row of a gateway on SQLite, recording on, with the audit trail off:
/// what the audit trail costs a call (its events ride in the call's one
/// write, which it moves before the answer), side by side.
pub(crate) const AUDIT_OFF: &str = "sqlite: recording on, audit off";

/// A gateway with the audit trail off.
pub(crate) fn gateway_audit_off(kind: HostKind) -> Config {
    sqlite_row(AUDIT_OFF, kind, true, Features { audit: false, ..Features::DEFAULT })
}

/// How a caller proves who it is, for the rows that say what checking it
/// costs a call (2026-07-28 requests, SQLite, recording on).
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Credential {
    /// Open mode: nothing to check.
    Open,
    /// An API key.
    ApiKey,
    /// An OAuth access token (RS256), checked against an inline JWKS.
    Token,
}

impl Credential {
    /// Open mode is the app's default: its row is the 2026-07-28 row with
    /// recording on, which the era goals use too.
    pub(crate) fn row(self) -> String {
        match self {
            Credential::Open => modern_on_off(Stores::Sqlite, true),
            Credential::ApiKey => "sqlite: 2026-07-28, API key".into(),
            Credential::Token => "sqlite: 2026-07-28, OAuth token".into(),
        }
    }
}

/// A gateway whose callers present `credential`.
pub(crate) fn gateway_credential(kind: HostKind, credential: Credential) -> Config {
    if credential == Credential::Open {
        return gateway_modern(Stores::Sqlite, kind, None, true);
    }
    const RESOURCE: &str = "https://bench.test/mcp";
    let issuer = spinscope_testkit::issuer::Issuer::new();
    let mut builder = HostBuilder::app(Some(&["gateway", "text-tools", "calc"]))
        .static_variables()
        .var("tool_components", "text-tools,calc")
        .var("breaker_failures", "5");
    let auth = match credential {
        Credential::Open => None,
        Credential::ApiKey => {
            builder = builder.var("api_keys", &format!("bench:{}", spinscope::auth::hash_key("bench-key-0123456789")));
            Some("Bearer bench-key-0123456789".to_string())
        }
        Credential::Token => {
            builder = builder
                .var("oauth_issuer", "https://issuer.test")
                .var("oauth_resource", RESOURCE)
                .var("oauth_jwks", &issuer.jwks().to_string());
            let exp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 86_400;
            let claims = json!({"iss": "https://issuer.test", "aud": RESOURCE, "sub": "bench", "exp": exp});
            Some(format!("Bearer {}", issuer.sign("RS256", Some("r1"), &claims)))
        }
    };
    for (name, value) in bench_vars() {
        builder = builder.var(&name, &value);
    }
    let host = start(builder, kind);
    let extra: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", a.as_str())).collect();
    let req = modern_call(&host, &extra);
    Config::new(credential.row(), kind, req, host)
}

/// The features of a tool call that can be turned off.
#[derive(Clone, Copy)]
pub(crate) struct Features {
    pub(crate) breakers: bool,
    pub(crate) tool_metrics: bool,
    pub(crate) audit: bool,
    /// The variables in a static provider, as `make up` gives them (off:
    /// Spin's environment provider alone, as a bare `spin up` has it).
    pub(crate) static_variables: bool,
}

impl Features {
    pub(crate) const DEFAULT: Features =
        Features { breakers: true, tool_metrics: true, audit: true, static_variables: true };
}

pub(crate) fn gateway_host_with(
    stores: Stores,
    kind: HostKind,
    redis: Option<&RedisServer>,
    recording: bool,
    features: Features,
) -> Host {
    gateway_host_with_vars(stores, kind, redis, recording, features, &[])
}

/// [`gateway_host_with`], and app variables of the row's own, set last.
pub(crate) fn gateway_host_with_vars(
    stores: Stores,
    kind: HostKind,
    redis: Option<&RedisServer>,
    recording: bool,
    features: Features,
    vars: &[(&str, &str)],
) -> Host {
    let Features { breakers, tool_metrics, audit, static_variables } = features;
    let mut builder = HostBuilder::app(Some(&["gateway", "text-tools", "calc"]))
        .var("tool_components", "text-tools,calc")
        .var("metrics_enabled", if recording { "true" } else { "false" })
        // The app's default, 5 (the test harness turns breakers off).
        .var("breaker_failures", if breakers { "5" } else { "0" })
        .var("max_tool_metric_reports", if tool_metrics { "64" } else { "0" })
        .var("audit_enabled", if audit { "true" } else { "false" });
    for (name, value) in bench_vars() {
        builder = builder.var(&name, &value);
    }
    for (name, value) in vars {
        builder = builder.var(name, value);
    }
    if static_variables {
        builder = builder.static_variables();
    }
    match stores {
        Stores::Redis => builder = builder.redis(redis.expect("a Redis for the Redis setup")),
        Stores::SqliteMetricsInMemory => builder = builder.metrics_in_memory(),
        Stores::SqliteRollback => builder = builder.journal(Journal::SpinDefault),
        Stores::Sqlite => {}
    }
    start(builder, kind)
}

/// `SPINSCOPE_BENCH_VARS=name=value,...`.
pub(crate) fn bench_vars() -> Vec<(String, String)> {
    std::env::var("SPINSCOPE_BENCH_VARS")
        .unwrap_or_default()
        .split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').expect("SPINSCOPE_BENCH_VARS: name=value,...");
            (k.trim().to_string(), v.trim().to_string())
        })
        .collect()
}

pub(crate) fn foundation(kind: HostKind, redis: Option<&RedisServer>, journal: Journal) -> Host {
    let mut builder = HostBuilder::new("tests/e2e/manifests/foundation.toml").journal(journal);
    if let Some(r) = redis {
        builder = builder.redis(r);
    }
    start(builder, kind)
}
