//! Clocks.

use wasi::clocks::{monotonic_clock, wall_clock};

/// Wall-clock time in milliseconds since the Unix epoch.
pub fn now_unix_ms() -> u64 {
    let now = wall_clock::now();
    now.seconds * 1000 + u64::from(now.nanoseconds) / 1_000_000
}

/// Wall-clock time in nanoseconds since the Unix epoch.
pub fn now_unix_ns() -> u64 {
    let now = wall_clock::now();
    now.seconds * 1_000_000_000 + u64::from(now.nanoseconds)
}

/// Monotonic clock in nanoseconds, for measuring durations; its origin is arbitrary.
pub fn monotonic_ns() -> u64 {
    monotonic_clock::now()
}

/// Blocks this instance for `duration` (a short backoff; nothing else runs
/// in a Spin instance meanwhile).
pub fn sleep(duration: std::time::Duration) {
    monotonic_clock::subscribe_duration(u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)).block();
}
