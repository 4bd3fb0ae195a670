//! A tool call's time split and memory, as the tool component reports them
//! in its answer's headers (`spinscope-tool` adds both): W3C
//! `Server-Timing` with its own execution time as the metric `exec`, and
//! `spinscope-memory-bytes`, its instance's linear memory at the end of the
//! call. A tool that sends neither simply has no split and no memory figure.
//!
//! Wassette's names, where the meaning matches: `total_duration_ms` is the
//! chained request, from sending it to its whole answer received;
//! `execution_ms` the tool's own `exec`; `overhead_ms` the rest, the
//! instantiation of the tool's instance plus the chaining and transport.

/// The header of the tool's execution time.
pub const SERVER_TIMING: &str = "server-timing";
/// The header of the tool instance's memory, in bytes.
pub const MEMORY_HEADER: &str = "spinscope-memory-bytes";

/// The `exec` metric's duration in a `Server-Timing` value (metrics are
/// comma-separated, parameters `;`-separated: `exec;dur=12.5, db;dur=3`).
pub fn exec_ms(server_timing: &str) -> Option<f64> {
    server_timing.split(',').find_map(|metric| {
        let mut parts = metric.split(';').map(str::trim);
        if !parts.next()?.eq_ignore_ascii_case("exec") {
            return None;
        }
        let dur = parts.find_map(|p| p.strip_prefix("dur=").or_else(|| p.strip_prefix("DUR=")))?;
        dur.trim_matches('"').parse::<f64>().ok().filter(|d| d.is_finite() && *d >= 0.0)
    })
}

/// A call's time split, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Split {
    /// Sending the chained request to receiving its whole answer.
    pub total_ms: f64,
    /// The tool's own execution, when it said (never more than the total).
    pub execution_ms: Option<f64>,
    /// The rest: instantiation, chaining, transport.
    pub overhead_ms: Option<f64>,
}

/// The split of a call that took `total_ms`, from the answer's `Server-Timing`.
pub fn split(total_ms: f64, server_timing: Option<&str>) -> Split {
    let execution_ms = server_timing.and_then(exec_ms).map(|e| e.min(total_ms));
    Split { total_ms, execution_ms, overhead_ms: execution_ms.map(|e| total_ms - e) }
}

/// The memory a tool reported, bytes (a value that is no whole number is ignored).
pub fn memory_bytes(header: Option<&str>) -> Option<u64> {
    header?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_is_read_among_other_metrics() {
        assert_eq!(exec_ms("exec;dur=12.5"), Some(12.5));
        assert_eq!(exec_ms("db;dur=3, exec;desc=\"tool\";dur=0.25"), Some(0.25));
        assert_eq!(exec_ms("EXEC;dur=\"7\""), Some(7.0));
        for none in ["", "db;dur=3", "exec", "exec;dur=-1", "exec;dur=NaN", "exec;dur=x"] {
            assert_eq!(exec_ms(none), None, "{none}");
        }
    }

    #[test]
    fn the_split_never_goes_negative() {
        assert_eq!(
            split(10.0, Some("exec;dur=4")),
            Split { total_ms: 10.0, execution_ms: Some(4.0), overhead_ms: Some(6.0) }
        );
        assert_eq!(split(3.0, Some("exec;dur=4")).overhead_ms, Some(0.0), "a tool's clock ahead of ours");
        assert_eq!(split(10.0, None), Split { total_ms: 10.0, execution_ms: None, overhead_ms: None });
    }

    #[test]
    fn memory_is_a_whole_number_of_bytes() {
        assert_eq!(memory_bytes(Some(" 1114112 ")), Some(1_114_112));
        assert_eq!(memory_bytes(Some("1.5MB")), None);
        assert_eq!(memory_bytes(None), None);
    }
}
