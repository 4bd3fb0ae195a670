//! Severity levels and the two output formats of a line.

use std::fmt;

/// Severity, most severe first, so `Error < Warn < Info < Debug < Trace` and
/// "enabled" means `level <= max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Something failed.
    Error,
    /// Something is wrong but the request went on.
    Warn,
    /// What happened (the default).
    Info,
    /// Detail for finding a problem.
    Debug,
    /// Everything.
    Trace,
}

impl Level {
    /// Every level, most severe first.
    pub const ALL: [Level; 5] = [Level::Error, Level::Warn, Level::Info, Level::Debug, Level::Trace];

    /// Case-insensitive level name.
    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| s.eq_ignore_ascii_case(l.as_str()))
    }

    /// The lowercase name, as written in lines and filters.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
            Level::Trace => "trace",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Output format of log lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum LogFormat {
    #[default]
    /// `key=value` pairs, one line each (the default).
    Logfmt,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    /// `logfmt` or `json`, case-insensitive; empty means the default.
    pub fn parse(s: &str) -> Result<LogFormat, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "logfmt" => Ok(LogFormat::Logfmt),
            "json" => Ok(LogFormat::Json),
            _ => Err(format!("unknown format \"{}\" (expected logfmt or json)", s.trim())),
        }
    }

    /// The name `log_format` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            LogFormat::Logfmt => "logfmt",
            LogFormat::Json => "json",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_order_and_names() {
        assert!(Level::Error < Level::Warn && Level::Warn < Level::Info);
        assert!(Level::Info < Level::Debug && Level::Debug < Level::Trace);
        assert_eq!(Level::parse("WARN"), Some(Level::Warn));
        assert_eq!(Level::parse("warning"), None);
        assert_eq!(Level::Trace.to_string(), "trace");
    }

    #[test]
    fn format_parse() {
        assert_eq!(LogFormat::parse("logfmt"), Ok(LogFormat::Logfmt));
        assert_eq!(LogFormat::parse(" JSON "), Ok(LogFormat::Json));
        assert_eq!(LogFormat::parse(""), Ok(LogFormat::Logfmt));
        assert_eq!(LogFormat::default(), LogFormat::Logfmt);
        let err = LogFormat::parse("xml").unwrap_err();
        assert!(err.contains("\"xml\"") && err.contains("logfmt or json"), "{err}");
    }
}
