//! The gateway's log lines: filtered by `log_level`, formatted by
//! `log_format`, each carrying the request id and the trace context.

use spinscope::config::Config;
use spinscope::log::{Level, LogLine};
use spinscope::trace::TraceContext;
use spinscope_spin::time;

/// Log targets, for `log_level` directives such as `spinscope::invocation=debug`.
pub const TARGET_GATEWAY: &str = "spinscope::gateway";
pub const TARGET_INVOCATION: &str = "spinscope::invocation";

pub struct Logger {
    config: Config,
    request_id: String,
    trace_id: String,
    span_id: String,
}

impl Logger {
    pub fn new(config: &Config, request_id: &str, trace: &TraceContext) -> Self {
        Self {
            config: config.clone(),
            request_id: request_id.to_string(),
            trace_id: trace.trace_id_hex(),
            span_id: trace.span_id_hex(),
        }
    }

    pub fn enabled(&self, target: &str, level: Level) -> bool {
        self.config.log_filter.enabled(target, level)
    }

    /// A line with the request's correlation fields already set.
    pub fn line(&self, level: Level, target: &str, message: &str) -> LogLine {
        LogLine::new(level, target, message, time::now_unix_ms())
            .field("request_id", self.request_id.as_str())
            .field("trace_id", self.trace_id.as_str())
            .field("span_id", self.span_id.as_str())
    }

    pub fn emit(&self, line: LogLine) {
        if self.enabled(line.target(), line.level()) {
            println!("{}", line.render(self.config.log_format));
        }
    }
}
