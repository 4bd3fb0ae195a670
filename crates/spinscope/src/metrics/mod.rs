//! Metrics: the catalog ([`catalog`]), a request's observations
//! ([`Recorder`]), the shard record and merged view ([`Snapshot`]), the
//! encoders (Prometheus text, OpenMetrics, JSON) and a strict parser of the
//! Prometheus text format ([`parse`]) that the tests validate output with.

pub mod catalog;
pub mod json;
pub mod parse;
mod recorder;
mod snapshot;
pub mod text;

pub use json::render_json;
pub use recorder::Recorder;
pub use snapshot::{ApplyReport, DecodeError, Histogram, Limits, SeriesValue, Snapshot};
pub use text::{render_openmetrics, render_prometheus, OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE};

/// The label value recorded for anything outside the known set.
pub const OTHER: &str = "_other";

/// The MCP methods the gateway knows; anything else is labelled [`OTHER`].
pub const MCP_METHODS: &[&str] = &["initialize", "notifications/initialized", "ping", "tools/list", "tools/call"];

/// `value` if it is one of `known`, else [`OTHER`]: label values that come
/// from clients must not create unbounded series.
pub fn bounded<'a>(value: &'a str, known: impl IntoIterator<Item = &'a str>) -> &'a str {
    if known.into_iter().any(|k| k == value) {
        value
    } else {
        OTHER
    }
}

/// What the exporter adds around the snapshot.
#[derive(Debug, Clone)]
pub struct RenderContext {
    pub version: String,
}

impl Default for RenderContext {
    fn default() -> Self {
        RenderContext { version: env!("CARGO_PKG_VERSION").to_string() }
    }
}

/// Reads a counter written by `wasi:keyvalue` `atomics.increment`: Spin's
/// SQLite store keeps 8 bytes little-endian, its Redis store decimal text.
/// An 8-byte value is read as little-endian (decimal text of exactly eight
/// digits would be a counter above ten million on Redis, and reads wrong:
/// the readers here only see counters far below that, and the ambiguity is
/// Spin's own).
pub fn decode_counter(bytes: &[u8]) -> Option<i64> {
    if bytes.len() == 8 && !bytes.iter().all(|b| b.is_ascii_digit() || *b == b'-') {
        return Some(i64::from_le_bytes(bytes.try_into().ok()?));
    }
    std::str::from_utf8(bytes).ok()?.trim().parse().ok()
}

/// A snapshot of `series` tool-call series (counters and histograms), for
/// benchmarks of the encoders.
pub fn bench_snapshot(series: usize) -> Snapshot {
    let mut snapshot = Snapshot::new();
    let limits = Limits { max_series_per_metric: usize::MAX };
    let mut recorder = Recorder::new();
    for i in 0..series / 2 {
        let tool = format!("tool_{i}");
        recorder.inc(&catalog::TOOL_CALLS_TOTAL, &[&tool, "bench", "success"], 3);
        recorder.observe(&catalog::TOOL_CALL_DURATION_SECONDS, &[&tool, "bench"], 0.042);
    }
    snapshot.apply(&recorder, &limits);
    snapshot
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_in_both_encodings() {
        assert_eq!(decode_counter(&42i64.to_le_bytes()), Some(42));
        assert_eq!(decode_counter(&(-3i64).to_le_bytes()), Some(-3));
        assert_eq!(decode_counter(b"642"), Some(642));
        assert_eq!(decode_counter(b"-7"), Some(-7));
        assert_eq!(decode_counter(b"nope"), None);
        assert_eq!(decode_counter(b""), None);
    }

    #[test]
    fn bounded_labels() {
        assert_eq!(bounded("tools/call", MCP_METHODS.iter().copied()), "tools/call");
        assert_eq!(bounded("server/discover", MCP_METHODS.iter().copied()), OTHER);
    }

    #[test]
    fn ten_thousand_series_render_and_parse() {
        let s = bench_snapshot(10_000);
        assert_eq!(s.len(), 10_000);
        let text = render_prometheus(&s, &RenderContext::default());
        let parsed = parse::parse(&text).unwrap();
        assert_eq!(parsed.value("spinscope_tool_calls_total", &[("tool", "tool_9"), ("outcome", "success")]), Some(3.0));
    }
}
