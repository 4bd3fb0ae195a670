//! Metrics: the catalog ([`catalog`]), a request's observations
//! ([`Recorder`]), the aggregate of series a record holds and the exporter
//! renders ([`Snapshot`], in `snapshot.rs`), its bytes in the store
//! (`record_codec.rs`), the fold record ([`FoldRecord`], `fold.rs`), the
//! counter layout ([`counters`]), the encoders (Prometheus text and
//! OpenMetrics in [`text`], JSON in [`json`]).
//! The tests validate the output with the strict parser of both text
//! formats in `spinscope_testkit::exposition`.
//!
//! The flow: a request records into a [`Recorder`]; at its end the adapter
//! (`spinscope_spin::metrics_sink`) either writes the request's own
//! [`Snapshot`] ([`Snapshot::apply`], [`Snapshot::encode`]) as an
//! observation record with one `set`, to be folded into the [`FoldRecord`]
//! by the exporter ([`Snapshot::fold_encoded`]), or, on a store whose
//! compare-and-swap cannot be trusted, increments one key per series field
//! ([`counters`]); the exporter reads either layout into one [`Snapshot`]
//! ([`Snapshot::decode`], [`Snapshot::merge`]) and renders.

pub mod activity;
pub mod catalog;
pub mod counters;
mod fold;
pub mod json;
mod record_codec;
mod recorder;
pub mod series;
mod snapshot;
pub mod text;
pub mod tool_metrics;

pub use fold::FoldRecord;
pub use json::{render_json, render_json_text};
pub use record_codec::DecodeError;
pub use recorder::Recorder;
pub use snapshot::{Histogram, Limits, SeriesValue, Snapshot};
pub use text::{render_openmetrics, render_prometheus, OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE};

/// The label value recorded for anything outside the known set.
pub const OTHER: &str = "_other";

/// The MCP methods the gateway knows; anything else is labelled [`OTHER`].
pub const MCP_METHODS: &[&str] = &[
    "initialize",
    "notifications/initialized",
    "ping",
    "server/discover",
    "tools/list",
    "tools/call",
    "prompts/list",
    "prompts/get",
    "resources/list",
    "resources/read",
    "resources/templates/list",
    "completion/complete",
];

/// `value` if it is one of `known`, else [`OTHER`]: label values that come
/// from clients must not create unbounded series.
pub fn bounded<'a>(value: &'a str, known: impl IntoIterator<Item = &'a str>) -> &'a str {
    if known.into_iter().any(|k| k == value) {
        value
    } else {
        OTHER
    }
}

/// What the exporter adds around the snapshot. The values kept outside the
/// metrics records (requests in flight, failed recordings) are put into the merged
/// snapshot itself with [`Snapshot::set_gauge`] and [`Snapshot::add_counter`].
#[derive(Debug, Clone, PartialEq)]
pub struct RenderContext {
    /// The `version` label of `spinscope_build_info`.
    pub version: String,
    /// The tools' metric declarations, with their component, in tool map
    /// order (for the help and buckets of the `tool_*` families).
    pub tool_metrics: Vec<(String, tool_metrics::declare::Declaration)>,
}

impl Default for RenderContext {
    fn default() -> Self {
        RenderContext { version: env!("CARGO_PKG_VERSION").to_string(), tool_metrics: Vec::new() }
    }
}

/// Reads a counter written by `wasi:keyvalue` `atomics.increment`: Spin's
/// SQLite store keeps it as 8 bytes little-endian, its Redis store as
/// decimal text. Eight bytes that read as a decimal integer are taken as
/// text: as little-endian their last byte would be an ASCII digit, so the
/// counter would be above 3.4e18, which no counter here reaches, while eight
/// digits on Redis are merely above ten million. `None` when the bytes are
/// neither.
pub fn decode_counter(bytes: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(bytes).ok().and_then(|s| s.parse::<i64>().ok());
    text.or_else(|| Some(i64::from_le_bytes(bytes.try_into().ok()?)))
}

/// A snapshot of `series` tool-call series, half counters and half
/// histograms, for the encoders' benchmark (`tests/e2e/src/bin/bench/`)
/// and tests.
pub fn bench_snapshot(series: usize) -> Snapshot {
    let mut snapshot = Snapshot::new();
    let mut recorder = Recorder::new();
    for i in 0..series / 2 {
        let tool = format!("tool_{i}");
        recorder.inc(&catalog::TOOL_CALLS_TOTAL, &[&tool, "bench", "success"], 3);
        recorder.observe(&catalog::TOOL_CALL_DURATION_SECONDS, &[&tool, "bench"], 0.042);
    }
    snapshot.apply(&recorder, &Limits::UNLIMITED);
    snapshot
}

/// The observation record of one successful `tools/call` as the gateway
/// writes it (HTTP, MCP and tool series, and the session's activity), for
/// the fold's benchmark and tests. `i` picks one of 32 sessions.
pub fn bench_call_record(i: u64) -> Vec<u8> {
    use series::{HttpRequest, McpOperation, ToolCall, ToolOutcome};
    let mut r = Recorder::new();
    let http = HttpRequest {
        route: "/mcp",
        method: "POST",
        status: 200,
        duration_s: 0.002,
        request_bytes: 120,
        response_bytes: 300,
    };
    r.http_request(http);
    r.mcp_operation(McpOperation {
        method: "tools/call",
        tool: "word_count",
        protocol_version: Some("2025-06-18"),
        error: None,
        duration_s: 0.0015,
    });
    let call =
        ToolCall { tool: "word_count", component: "text-tools", outcome: ToolOutcome::Success, duration_s: 0.001 };
    r.tool_call(call);
    let session = Some(format!("{:032x}", i % 32));
    r.note(activity::Note { tenant: "-".into(), session, tool_call: true, error: false, at_ms: 1_000 + i });
    let mut snapshot = Snapshot::new();
    snapshot.apply(&r, &Limits::UNLIMITED);
    snapshot.encode()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_record_folds_into_its_series() {
        let mut folded = Snapshot::new();
        for i in 0..64 {
            folded.fold_encoded(&bench_call_record(i), &Limits::default()).unwrap();
        }
        folded.prune_activity(2_000, &Limits::default());
        assert_eq!(folded.counter(&catalog::TOOL_CALLS_TOTAL, &["word_count", "text-tools", "success"]), 64);
        let h = folded.histogram(&catalog::TOOL_CALL_DURATION_SECONDS, &["word_count", "text-tools"]).unwrap();
        assert_eq!((h.count, h.sum_micros), (64, 64_000));
        assert_eq!(folded.activity().sessions.len(), 32);
        assert!(String::from_utf8(bench_call_record(0)).unwrap().contains(r#""hs":[[0,1],1000,1]"#));
    }

    #[test]
    fn counters_in_both_encodings() {
        // SQLite: 8 bytes little-endian.
        assert_eq!(decode_counter(&42i64.to_le_bytes()), Some(42));
        assert_eq!(decode_counter(&(-3i64).to_le_bytes()), Some(-3));
        assert_eq!(decode_counter(&0i64.to_le_bytes()), Some(0));
        assert_eq!(decode_counter(&[0x2a, 0, 0, 0, 0, 0, 0, 0]), Some(42));
        // Redis: decimal text, eight digits included.
        assert_eq!(decode_counter(b"642"), Some(642));
        assert_eq!(decode_counter(b"-7"), Some(-7));
        assert_eq!(decode_counter(b"12345678"), Some(12_345_678));
        assert_eq!(decode_counter(b"-1234567"), Some(-1_234_567));
        // Neither.
        assert_eq!(decode_counter(b"nope"), None);
        assert_eq!(decode_counter(b""), None);
        assert_eq!(decode_counter(&[1, 2, 3]), None);
        assert_eq!(decode_counter(b"99999999999999999999"), None);
    }

    #[test]
    fn bounded_labels() {
        assert_eq!(bounded("tools/call", MCP_METHODS.iter().copied()), "tools/call");
        assert_eq!(bounded("sampling/createMessage", MCP_METHODS.iter().copied()), OTHER);
    }

    #[test]
    fn ten_thousand_series_render_and_parse() {
        let s = bench_snapshot(10_000);
        assert_eq!(s.len(), 10_000);
        let context = RenderContext::default();
        let text = render_prometheus(&s, &context);
        let parsed = spinscope_testkit::exposition::parse(&text).unwrap();
        let labels = [("tool", "tool_9"), ("outcome", "success")];
        assert_eq!(parsed.value("spinscope_tool_calls_total", &labels), Some(3.0));
        assert_eq!(parsed.value("spinscope_tool_calls_total", &[]), Some(15_000.0));
        assert_eq!(parsed.value("spinscope_tool_call_duration_seconds_count", &[]), Some(5_000.0));
        let om = spinscope_testkit::exposition::parse_openmetrics(&render_openmetrics(&s, &context)).unwrap();
        assert_eq!(om.value("spinscope_tool_calls_total", &labels), Some(3.0));
        let json: serde_json::Value =
            serde_json::from_str(&render_json_text(&s, &context, &Default::default())).unwrap();
        assert_eq!(json["series"].as_array().unwrap().len(), 10_000);
        assert_eq!(json["tool_calls_total"]["success"], 15_000);
    }
}
