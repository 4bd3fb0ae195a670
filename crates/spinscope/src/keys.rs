//! The key-value layout, versioned: every key spinscope writes starts with
//! [`PREFIX`]. Changing the meaning of a key means a new version segment.

/// Common prefix of every key spinscope stores.
pub const PREFIX: &str = "spinscope:v1:";

/// Shard `n` of the metrics aggregate (see `metrics::aggregate`).
pub fn metrics_shard(n: u32) -> String {
    format!("{PREFIX}metrics:shard:{n}")
}

/// One MCP session record.
pub fn session(id: &str) -> String {
    format!("{SESSION_PREFIX}{id}")
}

/// Cached tool-name → component map of the gateway.
pub const TOOL_MAP: &str = "spinscope:v1:toolmap";
/// Unix milliseconds at which the app was first seen started (startup probe).
pub const STARTED_AT: &str = "spinscope:v1:app:started_at";
/// Cached readiness report.
pub const READY_CACHE: &str = "spinscope:v1:ready:cache";
/// Prefix of the throw-away keys the readiness `kv` check writes.
pub const PROBE_PREFIX: &str = "spinscope:v1:probe:";

/// Recordings that could not be written (contention or store errors), as a
/// `wasi:keyvalue` atomic counter (8-byte LE on SQLite, decimal on Redis).
pub const METRICS_RECORD_FAILURES: &str = "spinscope:v1:metrics:record_failures";

/// Gateway requests in flight that started in unix minute `minute` (an
/// atomic counter). Readers add the current and the previous minute, so a
/// slot leaked by a crashed instance stops counting within two minutes.
pub fn in_flight(minute: u64) -> String {
    format!("{PREFIX}inflight:{minute}")
}

/// Token bucket of one tenant's rate limit (`-` in open mode).
pub fn rate_limit(tenant: &str) -> String {
    format!("{PREFIX}ratelimit:{tenant}")
}

/// Prefix of the session records, for listing them.
pub const SESSION_PREFIX: &str = "spinscope:v1:session:";
