//! The thin wasm-side adapter every spinscope component uses.
//!
//! It wraps exactly the host calls the components need, so their imports stay
//! minimal and the local host (`host/`) knows what to provide:
//!
//! - [`kv`]: `wasi:keyvalue/store` (open, get, set, delete, exists, list),
//!   `wasi:keyvalue/atomics` (increment, compare-and-swap of existing keys)
//!   and `wasi:keyvalue/batch` (get-many, delete-many; SQLite only);
//! - [`vars`]: application variables over `wasi:config/store`;
//! - [`outbound`]: concurrent outgoing HTTP with a deadline over
//!   `wasi:http/outgoing-handler` (spin-sdk's `send` cannot time out);
//! - [`metrics_sink`]: the metrics in the store, written and read, in the
//!   [`metrics_layout`] the store keeps exact ([`metrics_fold`] on SQLite
//!   stores);
//! - [`sessions`]: the MCP session records, ended exactly once and swept;
//! - [`in_flight`] and [`rate_limit`]: the gateway's admission counters;
//! - [`stream_reply`]: an answer built whole, sent before the bookkeeping;
//! - [`startup`]: the app's recorded start time;
//! - [`settings`]: the configuration, read once per request;
//! - [`breaker`]: the tool components' circuit breakers in the store;
//! - [`body`]: a request body read under a size limit;
//! - [`diag`]: a component's own problems, in the app's log format;
//! - [`gate`]: the API-key check of the read-only components;
//! - [`oauth_keys`]: the issuer's keys, inline or fetched and cached;
//! - [`refusals`]: the count of requests refused for want of a key;
//! - [`head`], [`respond`]: their request head (bodies refused unread),
//!   JSON answers and method check;
//! - [`tool_components`]: the tool components' URLs and their tool lists;
//! - [`host_trace`]: spans through the host's tracer (`wasi:otel/tracing`,
//!   Spin's `--experimental-wasi-otel`), for the gateway's nested-trace build;
//! - [`time`] and [`random_bytes`]: clocks and randomness.
//!
//! Only built for `wasm32-wasip2`.

#![warn(missing_docs)]

pub mod audit;
pub mod body;
pub mod breaker;
pub mod diag;
pub mod gate;
pub mod head;
pub mod host_trace;
pub mod in_flight;
pub mod kv;
pub mod metrics_fold;
pub mod metrics_layout;
pub mod metrics_sink;
pub mod oauth_keys;
pub mod outbound;
pub mod rate_limit;
pub mod refusals;
pub mod respond;
pub mod sessions;
pub mod settings;
pub mod startup;
pub mod stream_reply;
pub mod time;
pub mod tool_components;
pub mod vars;

/// Bindings for `spinscope:platform/platform` (../../wit). Everything is
/// generated, but a component imports only the functions it actually calls.
mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "spinscope:platform/platform",
        generate_all,
    });
}

/// Bindings for `spinscope:platform/otel` (`wasi:otel/tracing`), apart from
/// the platform world's so that the local host, which binds that one, need
/// not offer them. Imported only by a component that calls [`host_trace`].
mod bindings_otel {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "spinscope:platform/otel",
        generate_all,
    });
}

/// `N` cryptographically secure random bytes from `wasi:random`.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    // The host returns exactly the requested length.
    out.copy_from_slice(&wasi::random::random::get_random_bytes(N as u64)[..N]);
    out
}
