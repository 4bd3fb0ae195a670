//! Structured log lines: levels and an env-logger style filter, `logfmt` and
//! JSON rendering, the always-on access log line and request ids. (The logfmt
//! parser that reads lines back is test-only: `spinscope_testkit::logfmt`.)
//!
//! No clock here: callers pass unix milliseconds, and timestamps are rendered
//! as RFC 3339 UTC with our own civil-date conversion (no date crate).

mod access;
mod calendar;
mod escape;
mod filter;
mod level;
mod line;
mod request_id;

pub use access::{access_line, access_line_as, Access};
pub use calendar::{civil_from_days, rfc3339_ms};
pub use filter::LogFilter;
pub use level::{Level, LogFormat};
pub use line::LogLine;
pub use request_id::{is_safe_request_id, new_request_id};
