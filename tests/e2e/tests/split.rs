//! A tool call's time split and memory, end to end (docs/metrics.md, "Time
//! split and memory"): tools built on `spinscope-tool` report their own
//! execution time (`Server-Timing`) and their instance's memory; the
//! gateway logs the split and records both, and its own memory.

use serde_json::json;
use spinscope_e2e::*;
use std::collections::HashMap;

fn fields(line: &str) -> HashMap<String, String> {
    spinscope_testkit::logfmt::parse_logfmt(line).into_iter().collect()
}

fn completed(host: &Host, tool: &str) -> HashMap<String, String> {
    let line =
        host.wait_for_log(|l| l.contains("Tool invocation completed") && l.contains(&format!("tool_name=\"{tool}\"")));
    fields(&line)
}

#[test]
fn tools_report_their_own_time_and_memory() {
    let host = HostBuilder::app(Some(&["gateway", "metrics", "text-tools"]))
        .var("tool_components", "text-tools,faults")
        .var("log_level", "debug")
        .start();
    let (mut mcp, _) = Mcp::connect(&host);
    mcp.call_tool("word_count", json!({"text": "a b c"}));
    let f = completed(&host, "word_count");
    let total: f64 = f["total_duration_ms"].parse().unwrap();
    let execution: f64 = f["execution_ms"].parse().unwrap();
    let overhead: f64 = f["overhead_ms"].parse().unwrap();
    assert!(execution <= total + 1.0 && overhead >= 0.0, "{f:?}");
    assert!((total - execution - overhead).abs() <= 1.0, "total = execution + overhead: {f:?}");

    // A tool that says nothing of itself has no split.
    mcp.call_tool("echo_headers", json!({}));
    let f = completed(&host, "echo_headers");
    assert!(
        f.contains_key("total_duration_ms") && !f.contains_key("execution_ms") && !f.contains_key("overhead_ms"),
        "{f:?}"
    );

    // Memory: 64 MiB allocated by the tool shows in its histogram.
    let r = mcp.call_tool("allocate", json!({"mb": 64}));
    assert!(result_text(&r).contains("allocated 64 MiB"), "{r}");
    let e = scrape_until(&host, |e| {
        value(e, "spinscope_component_memory_bytes_count", &[("component", "faults")]) >= 1.0
            && value(e, "spinscope_component_memory_bytes_count", &[("component", "gateway")]) >= 3.0
            && value(e, "spinscope_tool_execution_duration_seconds_count", &[("tool", "word_count")]) >= 1.0
    });
    let faults = [("component", "faults")];
    let under_64mib = [("component", "faults"), ("le", "67108864")];
    assert!(
        value(&e, "spinscope_component_memory_bytes_bucket", &under_64mib)
            < value(&e, "spinscope_component_memory_bytes_count", &faults),
        "the allocating call's instance held more than 64 MiB"
    );
    assert!(
        value(&e, "spinscope_component_memory_bytes_count", &[("component", "gateway")]) >= 3.0,
        "the gateway's own"
    );
    assert!(value(&e, "spinscope_component_memory_bytes_count", &[("component", "text-tools")]) >= 1.0);
    let exec = [("tool", "word_count"), ("component", "text-tools")];
    assert_eq!(value(&e, "spinscope_tool_execution_duration_seconds_count", &exec), 1.0);
    let echo = [("tool", "echo_headers")];
    assert_eq!(value(&e, "spinscope_tool_execution_duration_seconds_count", &echo), 0.0, "no split, no observation");
}
