//! The request's metric observations and their one store write.
//!
//! All series of the app live in a few shard records (`keys::metrics_shard`):
//! a request adds its observations to one shard, chosen at random, by
//! compare-and-swap, so on Spin's SQLite store it costs exactly one write
//! and racing requests lose nothing. The exporter merges the shards.

use spinscope::config::Config;
use spinscope::metrics::activity::Note;
use spinscope::metrics::{self, catalog, Recorder};
use spinscope_spin::kv::Store;
use spinscope_spin::metrics_sink;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolOutcome {
    Success,
    Error,
    Timeout,
}

impl ToolOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ToolOutcome::Success => "success",
            ToolOutcome::Error => "error",
            ToolOutcome::Timeout => "timeout",
        }
    }
}

/// What one request contributes to the metrics.
#[derive(Debug, Default)]
pub struct Observations {
    /// (method, status, duration s, request bytes, response bytes)
    pub http: Option<(String, u16, f64, usize, usize)>,
    pub mcp_method: Option<String>,
    pub mcp_outcome_success: bool,
    pub gen_ai_tool_name: Option<String>,
    pub error_type: Option<String>,
    /// (tool, component, outcome, duration s)
    pub tool: Option<(String, String, ToolOutcome, f64)>,
    pub sessions_created: u64,
    pub sessions_active_delta: i64,
    pub output_truncated: u64,
    pub discovery_failures: Vec<String>,
    pub trace_export_failures: u64,
    /// Why the request was rejected before doing work, if it was.
    pub rejected: Option<&'static str>,
    /// What the request did for its session and tenant (not for rejections).
    pub activity: Option<Note>,
}

const ROUTE: &str = "/mcp";

fn to_recorder(obs: &Observations, config: &Config) -> Recorder {
    let mut rec = Recorder::new();
    if let Some((method, status, duration, req_bytes, resp_bytes)) = &obs.http {
        let method = metrics::bounded(method, ["GET", "POST", "DELETE", "HEAD", "OPTIONS", "PUT", "PATCH"]);
        let status = status.to_string();
        rec.inc(&catalog::HTTP_REQUESTS_TOTAL, &[ROUTE, method, &status], 1);
        rec.observe(&catalog::HTTP_REQUEST_DURATION_SECONDS, &[ROUTE, method], *duration);
        rec.observe(&catalog::HTTP_REQUEST_SIZE_BYTES, &[ROUTE, method], *req_bytes as f64);
        rec.observe(&catalog::HTTP_RESPONSE_SIZE_BYTES, &[ROUTE, method], *resp_bytes as f64);
        if let Some(mcp_method) = &obs.mcp_method {
            let mcp_method = metrics::bounded(mcp_method, metrics::MCP_METHODS.iter().copied());
            let outcome = if obs.mcp_outcome_success && obs.error_type.as_deref().map_or(true, |e| e == "tool_error") {
                "success"
            } else {
                "error"
            };
            rec.inc(&catalog::MCP_REQUESTS_TOTAL, &[mcp_method, outcome], 1);
            let tool = obs.gen_ai_tool_name.as_deref().unwrap_or("");
            let error_type = obs.error_type.as_deref().unwrap_or("");
            rec.observe(&catalog::MCP_SERVER_OPERATION_DURATION_SECONDS, &[mcp_method, tool, error_type], *duration);
        }
    }
    if let Some((tool, component, outcome, duration)) = &obs.tool {
        rec.inc(&catalog::TOOL_CALLS_TOTAL, &[tool, component, outcome.as_str()], 1);
        rec.observe(&catalog::TOOL_CALL_DURATION_SECONDS, &[tool, component], *duration);
    }
    for component in &obs.discovery_failures {
        let component = metrics::bounded(component, config.tool_components.iter().map(String::as_str));
        rec.inc(&catalog::TOOL_DISCOVERY_FAILURES_TOTAL, &[component], 1);
    }
    if obs.sessions_created > 0 {
        rec.inc(&catalog::SESSIONS_CREATED_TOTAL, &[], obs.sessions_created);
    }
    if obs.sessions_active_delta != 0 {
        rec.gauge_add(&catalog::SESSIONS_ACTIVE, &[], obs.sessions_active_delta);
    }
    if obs.output_truncated > 0 {
        rec.inc(&catalog::OUTPUT_TRUNCATED_TOTAL, &[], obs.output_truncated);
    }
    if obs.trace_export_failures > 0 {
        rec.inc(&catalog::TRACE_EXPORT_FAILURES_TOTAL, &[], obs.trace_export_failures);
    }
    if let Some(reason) = obs.rejected {
        rec.inc(&catalog::REJECTED_TOTAL, &[reason], 1);
    }
    if let Some(note) = &obs.activity {
        rec.note(note.clone());
    }
    rec
}

/// Adds the observations to one shard (see `spinscope_spin::metrics_sink`).
pub fn flush(obs: &Observations, config: &Config, store: Option<&Store>) -> Result<(), String> {
    let store = metrics_sink::metrics_store(config, store).map_err(|e| format!("metrics store '{}': {e}", config.metrics_store))?;
    metrics_sink::record(&store, &to_recorder(obs, config), config)
}
