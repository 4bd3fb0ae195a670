//! The `tools` check: every tool component answers its metadata request.

use super::{round_ms, Check, Status};
use serde_json::{json, Map, Value};

/// What one tool component's metadata request came to.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolProbe {
    /// The component id.
    pub component: String,
    /// How long its answer took, in milliseconds.
    pub latency_ms: f64,
    /// The number of tools it lists, or why it is not ready.
    pub outcome: Result<usize, String>,
    /// Its circuit breaker (`closed`, `open`, `half_open`), when known.
    pub breaker: Option<&'static str>,
}

/// Judges a metadata reply (`GET /` of a tool component) the way the
/// gateway will use it: HTTP 200 with a JSON array of tools.
pub fn classify_tool_reply(status: u16, truncated: bool, body: &[u8]) -> Result<usize, String> {
    if status != 200 {
        return Err(format!("metadata request answered HTTP {status}"));
    }
    if truncated {
        return Err("tool list too large".into());
    }
    serde_json::from_slice::<Vec<crate::mcp::Tool>>(body)
        .map(|tools| tools.len())
        .map_err(|e| format!("tool list is not a JSON array of tools: {e}"))
}

/// The `tools` check: `degraded` when any component is not ready, with
/// each component's own status, latency and message under `components`.
pub fn tools_check(probes: &[ToolProbe], required: bool, latency_ms: f64) -> Check {
    let mut components = Map::new();
    let mut down = Vec::new();
    for probe in probes {
        let entry = match &probe.outcome {
            Ok(tools) => json!({
                "status": Status::Ok.as_str(),
                "latency_ms": round_ms(probe.latency_ms),
                "message": format!("lists {tools} tools"),
                "tools": tools,
            }),
            Err(why) => {
                down.push(probe.component.as_str());
                json!({
                    "status": Status::Error.as_str(),
                    "latency_ms": round_ms(probe.latency_ms),
                    "message": why,
                })
            }
        };
        let mut entry = entry;
        if let Some(breaker) = probe.breaker {
            // Reported, not judged: the gateway answers an open breaker's
            // calls at once, and the probe above says whether it answers.
            entry["breaker"] = breaker.into();
        }
        components.insert(probe.component.clone(), entry);
    }
    let (status, message) = if probes.is_empty() {
        (Status::Ok, "no tool components configured".to_string())
    } else if down.is_empty() {
        (Status::Ok, format!("all {} tool components answer", probes.len()))
    } else {
        let reasons: Vec<String> = probes
            .iter()
            .filter_map(|p| p.outcome.as_ref().err().map(|why| format!("{}: {why}", p.component)))
            .collect();
        (
            Status::Degraded,
            format!("{} of {} tool components not ready: {}", down.len(), probes.len(), reasons.join("; ")),
        )
    };
    Check::new(status, latency_ms, message)
        .with("required", json!(required))
        .with("components", Value::Object(components))
}
