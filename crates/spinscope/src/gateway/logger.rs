//! The gateway's log lines: filtered by `log_level`, formatted by
//! `log_format`, each carrying the request id and the trace context, and
//! a tool call's lines the same correlation fields wherever they are written.

use super::record::RequestRecord;
use crate::config::Config;
use crate::log::{Level, LogFilter, LogFormat, LogLine};
use crate::trace::TraceContext;

/// Log targets, for `log_level` directives such as `spinscope::invocation=debug`.
pub const TARGET_GATEWAY: &str = "spinscope::gateway";
/// The invocation log (Wassette's): one line per tool call.
pub const TARGET_INVOCATION: &str = "spinscope::invocation";

/// One request's logger.
#[derive(Debug, Clone)]
pub struct Logger {
    filter: LogFilter,
    format: LogFormat,
    request_id: String,
    trace_id: String,
    span_id: String,
    /// The wall clock, unix ms (the platform's; a fixed one in tests).
    clock: fn() -> u64,
}

impl Logger {
    /// A logger for the request `request_id` in `trace`.
    pub fn new(config: &Config, request_id: &str, trace: &TraceContext, clock: fn() -> u64) -> Self {
        Logger {
            filter: config.log_filter.clone(),
            format: config.log_format,
            request_id: request_id.to_string(),
            trace_id: trace.trace_id_hex(),
            span_id: trace.span_id_hex(),
            clock,
        }
    }

    /// Whether lines of `target` at `level` are written.
    pub fn enabled(&self, target: &str, level: Level) -> bool {
        self.filter.enabled(target, level)
    }

    /// A line with the request's correlation fields already set.
    pub fn line(&self, level: Level, target: &str, message: &str) -> LogLine {
        LogLine::new(level, target, message, (self.clock)())
            .field("request_id", self.request_id.as_str())
            .field("trace_id", self.trace_id.as_str())
            .field("span_id", self.span_id.as_str())
    }

    /// A line about `record`'s call of `tool` on `component`: who called,
    /// in which session, as every invocation line says it.
    pub fn call_line(
        &self,
        level: Level,
        message: &str,
        record: &RequestRecord,
        tool: &str,
        component: &str,
    ) -> LogLine {
        self.line(level, TARGET_INVOCATION, message)
            .field("tool_name", tool)
            .field("component_id", component)
            .field("session_id", record.session_id.as_deref().unwrap_or("-"))
            .field("tenant", record.tenant.as_deref().unwrap_or("-"))
            .field_opt("client", record.client_name.as_deref())
            .field_opt("client_version", record.client_version.as_deref())
    }

    /// The line as written, or `None` when its level is filtered out.
    pub fn render(&self, line: &LogLine) -> Option<String> {
        self.enabled(line.target(), line.level()).then(|| line.render(self.format))
    }

    /// Writes the line to stdout (Spin's component log), when enabled.
    pub fn emit(&self, line: LogLine) {
        if let Some(text) = self.render(&line) {
            println!("{text}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spinscope_testkit::logfmt::{logfmt_field, parse_logfmt};

    fn clock() -> u64 {
        1_700_000_000_000
    }

    fn logger(level: &str) -> (Logger, RequestRecord) {
        let config = Config::from_lookup(|k| (k == "log_level").then(|| level.to_string())).unwrap();
        let trace = TraceContext::from_incoming(None, None, None, &[3; 24]);
        let record = RequestRecord::new("req-9".into(), 0, clock(), trace.clone());
        (Logger::new(&config, "req-9", &trace, clock), record)
    }

    #[test]
    fn every_line_carries_the_request_and_trace_ids() {
        let (log, record) = logger("info");
        let text = log.render(&log.line(Level::Warn, TARGET_GATEWAY, "Origin refused")).unwrap();
        assert_eq!(logfmt_field(&text, "request_id").as_deref(), Some("req-9"));
        assert_eq!(logfmt_field(&text, "trace_id"), Some(record.trace.trace_id_hex()));
        assert_eq!(logfmt_field(&text, "span_id"), Some(record.trace.span_id_hex()));
    }

    #[test]
    fn call_lines_name_the_caller_once_for_every_line() {
        let (log, mut record) = logger("debug");
        record.admitted(Some("acme".into()));
        let line = log.call_line(Level::Debug, "Tool invocation started", &record, "wc", "text-tools");
        let text = log.render(&line).unwrap();
        let field = |k: &str| logfmt_field(&text, k);
        assert_eq!(field("tool_name").as_deref(), Some("wc"));
        assert_eq!(field("component_id").as_deref(), Some("text-tools"));
        assert_eq!(field("tenant").as_deref(), Some("acme"));
        assert_eq!(field("session_id").as_deref(), Some("-"));
        assert_eq!(parse_logfmt(&text).iter().filter(|(k, _)| k == "client").count(), 0, "absent, not empty");
    }

    #[test]
    fn filtered_lines_are_not_rendered() {
        let (log, _) = logger("info,spinscope::invocation=error");
        assert!(log.render(&log.line(Level::Debug, TARGET_GATEWAY, "x")).is_none());
        assert!(log.render(&log.line(Level::Warn, TARGET_INVOCATION, "x")).is_none());
        assert!(log.render(&log.line(Level::Error, TARGET_INVOCATION, "x")).is_some());
    }
}
