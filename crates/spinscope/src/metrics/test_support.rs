//! Fixtures the metrics modules' tests share.

use super::activity::Note;
use super::catalog::*;
use super::{Limits, Recorder, Snapshot};

/// A recording of two `sha256` calls (one in the last bucket) and a session.
pub fn recorder() -> Recorder {
    let mut r = Recorder::new();
    r.inc(&TOOL_CALLS_TOTAL, &["sha256", "text-tools", "success"], 2);
    r.observe(&TOOL_CALL_DURATION_SECONDS, &["sha256", "text-tools"], 0.015);
    r.observe(&TOOL_CALL_DURATION_SECONDS, &["sha256", "text-tools"], 400.0);
    r.gauge_add(&SESSIONS_ACTIVE, &[], 1);
    r
}

/// One successful call of `tool` in `session` at `at_ms`, as its own record.
pub fn call(tool: &str, session: &str, at_ms: u64) -> Snapshot {
    let mut r = Recorder::new();
    r.inc(&TOOL_CALLS_TOTAL, &[tool, "text-tools", "success"], 1);
    r.observe(&TOOL_CALL_DURATION_SECONDS, &[tool, "text-tools"], 0.015);
    r.note(Note { tenant: "-".into(), session: Some(session.into()), tool_call: true, error: false, at_ms });
    let mut s = Snapshot::new();
    s.apply(&r, &Limits::UNLIMITED);
    s
}
