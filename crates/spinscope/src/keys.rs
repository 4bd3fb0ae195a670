//! The key-value layout, versioned: every key spinscope writes starts with
//! [`PREFIX`]. Changing the meaning of a key means a new version segment.

/// Common prefix of every key spinscope stores.
pub const PREFIX: &str = "spinscope:v1:";

/// Prefix of the shard records versions before the fold wrote (`<n>` after
/// it, one compare-and-swap per request, SQLite stores only). Nothing in
/// the app reads or writes them any more: `spinscope-sqlite prepare` folds
/// them into [`METRICS_FOLD`] once and deletes them (docs/deployment.md).
pub const METRICS_SHARD_PREFIX: &str = "spinscope:v1:metrics:shard:";

/// Shard record `n` of those versions (for tests that build such a store).
pub fn metrics_shard(n: u32) -> String {
    format!("{METRICS_SHARD_PREFIX}{n}")
}

/// Prefix of those versions' shard claim counters (`<n>` after it: the
/// writer whose `increment` returned 1 created shard `n`); deleted with the
/// shard records.
pub const METRICS_SHARD_CLAIM_PREFIX: &str = "spinscope:v1:metrics:shard_claim:";

/// Prefix of the observation records (SQLite layout, `metrics::FoldRecord`):
/// one per recorded request, under a random 128-bit id in hex, written once
/// with `set` and deleted once folded into [`METRICS_FOLD`].
pub const METRICS_OBS_PREFIX: &str = "spinscope:v1:metrics:obs:";

/// The observation record `id` (32 hex digits).
pub fn metrics_obs(id: &str) -> String {
    format!("{METRICS_OBS_PREFIX}{id}")
}

/// The fold record: every observation record folded so far, and the ids
/// that make folding idempotent (`metrics::FoldRecord`).
pub const METRICS_FOLD: &str = "spinscope:v1:metrics:fold";

/// Claim counter of [`METRICS_FOLD`]: the folder whose `increment` returns 1
/// creates it; after that it is only ever compare-and-swapped (sound on an
/// existing key, unlike the upsert Spin's SQLite store makes of a swap on an
/// absent one).
pub const METRICS_FOLD_CLAIM: &str = "spinscope:v1:metrics:fold_claim";

/// Prefix of the metrics kept in the counter layout
/// (`metrics::counters`): one key per series field.
pub const COUNTER_PREFIX: &str = "spinscope:v1:n:";

/// An `increment`-ed marker whose stored bytes tell the store's counter
/// encoding: 8 bytes little-endian (Spin's SQLite store) or decimal text
/// (Spin's Redis store). It decides the metrics layout (docs/metrics.md).
pub const STORE_ENCODING: &str = "spinscope:v1:store_encoding";

/// One MCP session record.
pub fn session(id: &str) -> String {
    format!("{SESSION_PREFIX}{id}")
}

/// Cached tool-name → component map of the gateway.
pub const TOOL_MAP: &str = "spinscope:v1:toolmap";

/// Longest tool name with an entry of its own ([`tool_entry`]).
pub const MAX_TOOL_ENTRY_NAME: usize = 256;

/// Tool `name`'s entry of the cached map, written with it: what a
/// `tools/call` reads instead of the whole map
/// (`gateway::tool_map::entry_records`). `None` for a name too long to be
/// a key (such a call reads the whole map).
pub fn tool_entry(name: &str) -> Option<String> {
    (name.len() <= MAX_TOOL_ENTRY_NAME).then(|| format!("{PREFIX}tool:{name}"))
}
/// Unix milliseconds at which the app was first seen started (startup probe).
pub const STARTED_AT: &str = "spinscope:v1:app:started_at";
/// Claim counter of [`STARTED_AT`]: only the probe whose increment returns
/// 1 writes it.
pub const STARTED_AT_CLAIM: &str = "spinscope:v1:app:started_at_claim";
/// The app's secret for open mode's session labels (`auth::session_label`),
/// 32 random bytes as hex, written once by the claimer of
/// [`SESSION_LABEL_KEY_CLAIM`].
pub const SESSION_LABEL_KEY: &str = "spinscope:v1:app:session_label_key";
/// Claim counter of [`SESSION_LABEL_KEY`].
pub const SESSION_LABEL_KEY_CLAIM: &str = "spinscope:v1:app:session_label_key_claim";
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
    format!("{IN_FLIGHT_PREFIX}{minute}")
}

/// Prefix of the in-flight counters, for dropping the ones no longer read.
pub const IN_FLIGHT_PREFIX: &str = "spinscope:v1:inflight:";

/// Requests of one tenant (`-` in open mode) in rate-limit window number
/// `window` (an atomic counter; see `auth::RateWindow`).
pub fn rate_limit(tenant: &str, window: u64) -> String {
    format!("{PREFIX}ratelimit:{tenant}:{window}")
}

/// Prefix of the per-window counters of requests refused before
/// authentication (`sampling`): `<reason>:<window>`, or an earlier
/// version's `<window>` alone (reason `unauthorized`).
pub const UNAUTHORIZED_WINDOW_PREFIX: &str = "spinscope:v1:unauth:w:";
/// The reason an earlier version counted every such refusal under; its
/// keys keep their old names.
pub const LEGACY_UNAUTHORIZED: &str = "unauthorized";
/// The refusals for `reason` in `window` (an atomic counter, weighted; see `sampling`).
pub fn unauthorized_window(reason: &str, window: u64) -> String {
    match reason {
        LEGACY_UNAUTHORIZED => format!("{UNAUTHORIZED_WINDOW_PREFIX}{window}"),
        _ => format!("{UNAUTHORIZED_WINDOW_PREFIX}{reason}:{window}"),
    }
}
/// The `n`th refusal for `reason` in `window` (from 1, the first few only):
/// an exemplar for the window's audit event (origin and request id).
pub fn unauthorized_exemplar(reason: &str, window: u64, n: u64) -> String {
    format!("{PREFIX}unauth:ex:{reason}:{window}:{n}")
}
/// Claim counter of the fold of a window into its reason's total.
pub fn unauthorized_fold(reason: &str, window: u64) -> String {
    match reason {
        LEGACY_UNAUTHORIZED => format!("{PREFIX}unauth:fold:{window}"),
        _ => format!("{PREFIX}unauth:fold:{reason}:{window}"),
    }
}
/// Refusals for `reason` of windows already folded (an atomic counter).
pub fn unauthorized_total(reason: &str) -> String {
    match reason {
        LEGACY_UNAUTHORIZED => format!("{PREFIX}unauth:total"),
        _ => format!("{PREFIX}unauth:total:{reason}"),
    }
}
/// The count for `reason` the exporter last showed, so it never shows less
/// (a fold in progress can hide a window's count for a moment).
pub fn unauthorized_shown(reason: &str) -> String {
    match reason {
        LEGACY_UNAUTHORIZED => format!("{PREFIX}unauth:shown"),
        _ => format!("{PREFIX}unauth:shown:{reason}"),
    }
}

/// The live sessions counter of a client address (open mode's
/// `max_sessions_per_client`).
pub fn sessions_live_client(address: &str) -> String {
    format!("{PREFIX}sessions_live_client:{address}")
}

/// Circuit breaker state of a tool component (blind-written text, absent
/// while it is healthy; `spinscope::gateway::breaker::State`).
pub fn breaker_state(component: &str) -> String {
    format!("{PREFIX}breaker:{component}:state")
}

/// Consecutive failures of a tool component, an atomic counter.
pub fn breaker_failures(component: &str) -> String {
    format!("{PREFIX}breaker:{component}:failures")
}

/// Claim counter of one half-open trial of a breaker's opening.
pub fn breaker_trial(component: &str, generation: u64, window: u64) -> String {
    format!("{PREFIX}breaker:{component}:trial:{generation}:{window}")
}

/// Live sessions of one tenant (`-` in open mode), an atomic counter.
pub fn sessions_live(tenant: &str) -> String {
    format!("{PREFIX}sessions_live:{tenant}")
}

/// The log level a handshake-era session set with `logging/setLevel`
/// (text; deleted when the session ends).
pub fn session_log_level(id: &str) -> String {
    format!("{PREFIX}session_log_level:{id}")
}

/// A client's response to request `id` the gateway sent it in session
/// `session` (`gateway::bridge`): the waiting call's mark until the
/// response is kept, deleted by the call when it has read it.
pub fn client_reply(session: &str, id: &str) -> String {
    format!("{PREFIX}client_reply:{session}:{id}")
}

/// Claim counter of ending session `id`: whoever takes it to 1 ends it.
pub fn session_end_claim(id: &str) -> String {
    format!("{PREFIX}session_end:{id}")
}

/// Prefix of the session records, for listing them.
pub const SESSION_PREFIX: &str = "spinscope:v1:session:";

/// Audit events waiting to be sealed, one key per request that wrote any
/// (the layouts where they do not ride in an observation record,
/// `spinscope_spin::audit`): a JSON array of events.
pub const AUDIT_PENDING_PREFIX: &str = "spinscope:v1:audit:pending:";

/// A pending audit record: `<time_ms, 13 digits>-<random hex>`, so that
/// listing order is time order.
pub fn audit_pending(id: &str) -> String {
    format!("{AUDIT_PENDING_PREFIX}{id}")
}

/// The audit chain's state where there is no fold record to hold it
/// (`spinscope::audit::AuditState`, JSON).
pub const AUDIT_STATE: &str = "spinscope:v1:audit:state";

/// The OAuth issuer's JWKS document fetched from `oauth_jwks_url`
/// (`spinscope::oauth::keys::Cached`, JSON), shared by every instance.
pub const OAUTH_JWKS: &str = "spinscope:v1:oauth:jwks";

/// The claim of a JWKS refresh in one refresh window
/// (`spinscope::oauth::keys::refresh_window`): one fetch per window.
pub fn oauth_jwks_refresh(window: u64) -> String {
    format!("{PREFIX}oauth:jwks:refresh:{window}")
}

/// A break in the audit chain a check found
/// (`spinscope::audit::check::Found`, JSON), kept until a full
/// verification passes.
pub const AUDIT_BROKEN: &str = "spinscope:v1:audit:broken";

/// One sealed segment of the audit chain (JSON lines).
pub fn audit_segment(id: &str) -> String {
    format!("{PREFIX}audit:seg:{id}")
}

/// Claim counter of sealing in one time window (the layout without a
/// fold record): whoever takes it to 1 seals in that window.
pub fn audit_seal_claim(window: u64) -> String {
    format!("{PREFIX}audit:seal:{window}")
}
