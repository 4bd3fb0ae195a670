//! The per-part figures of `/health/detailed`, read from the merged metrics.

use crate::metrics::{catalog, Snapshot};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Per-part figures of `/health/detailed` from the merged metrics:
/// the gateway's requests, errors and sessions, and each tool component's
/// calls and failures (every configured component appears, with zeros when
/// it has had no calls).
pub fn figures(snapshot: &Snapshot, tool_components: &[String]) -> Value {
    let counter = |v: &crate::metrics::SeriesValue| match v {
        crate::metrics::SeriesValue::Counter(c) => *c,
        _ => 0,
    };
    // http_requests_total{route, method, status}
    let (mut http_requests, mut http_errors) = (0u64, 0u64);
    for (labels, value) in snapshot.series(&catalog::HTTP_REQUESTS_TOTAL) {
        let n = counter(value);
        http_requests += n;
        if labels.get(2).and_then(|s| s.parse::<u16>().ok()).is_some_and(|s| s >= 500) {
            http_errors += n;
        }
    }
    // mcp_requests_total{method, mcp_protocol_version, outcome}: a JSON-RPC
    // error and a tool's isError both fail the operation (the conventions).
    let (mut mcp_requests, mut mcp_errors) = (0u64, 0u64);
    for (labels, value) in snapshot.series(&catalog::MCP_REQUESTS_TOTAL) {
        let n = counter(value);
        mcp_requests += n;
        if labels.get(2).is_some_and(|outcome| outcome != "success") {
            mcp_errors += n;
        }
    }
    // tool_calls_total{tool, component, outcome}
    let mut tools: BTreeMap<String, [u64; 4]> = tool_components.iter().map(|c| (c.clone(), [0; 4])).collect();
    for (labels, value) in snapshot.series(&catalog::TOOL_CALLS_TOTAL) {
        let (Some(component), Some(outcome)) = (labels.get(1), labels.get(2)) else { continue };
        let entry = tools.entry(component.clone()).or_default();
        let n = counter(value);
        entry[0] += n;
        match outcome.as_str() {
            "error" => entry[1] += n,
            "timeout" => entry[2] += n,
            // Refused by the breaker: a tool-level error as well.
            "circuit_open" => {
                entry[1] += n;
                entry[3] += n;
            }
            _ => {}
        }
    }
    let mut discovery_failures: BTreeMap<String, u64> = BTreeMap::new();
    for (labels, value) in snapshot.series(&catalog::TOOL_DISCOVERY_FAILURES_TOTAL) {
        if let Some(component) = labels.first() {
            *discovery_failures.entry(component.clone()).or_default() += counter(value);
        }
    }
    let tools: Map<String, Value> = tools
        .into_iter()
        .map(|(component, [calls, errors, timeouts, circuit_open])| {
            let failures = discovery_failures.get(&component).copied().unwrap_or(0);
            let breaker =
                crate::gateway::breaker::state_label(snapshot.gauge(&catalog::CIRCUIT_BREAKER_STATE, &[&component]));
            let figures = json!({
                "calls": calls,
                "errors": errors,
                "timeouts": timeouts,
                "circuit_open": circuit_open,
                "breaker": breaker,
                "discovery_failures": failures,
            });
            (component, figures)
        })
        .collect();
    json!({
        "gateway": {
            "http_requests": http_requests,
            "http_errors": http_errors,
            "mcp_requests": mcp_requests,
            "mcp_errors": mcp_errors,
            "sessions_active": snapshot.gauge(&catalog::SESSIONS_ACTIVE, &[]).max(0),
            "sessions_created": snapshot.counter(&catalog::SESSIONS_CREATED_TOTAL, &[]),
        },
        "tools": tools,
    })
}
