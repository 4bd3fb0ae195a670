//! A component's own problems (not a request's), written to stderr as one
//! line in the app's `log_format`, like every other line it writes.

use spinscope::log::{Level, LogFormat, LogLine};

/// Log target of these lines.
pub const TARGET: &str = "spinscope::component";

/// Writes `message` with `error` at `warn` to stderr.
pub fn warn(format: LogFormat, message: &str, error: &str) {
    let line = LogLine::new(Level::Warn, TARGET, message, crate::time::now_unix_ms()).field("error", error);
    eprintln!("{}", line.render(format));
}
