//! A tool's own metrics (docs/tools.md): declare them in the tool's
//! `tools/list` entry with [`declare`], report values in a call result with
//! [`report`]. The gateway checks both (`spinscope::metrics::tool_metrics`)
//! and exports them as `tool_<name>{component, tool, …}`.

use serde_json::{json, Value};
pub use spinscope::metrics::tool_metrics::META_KEY;

/// `tool` (one `tools/list` entry) with `metrics` declared in its `_meta`:
/// each `{"name", "type": "counter"|"histogram", "help", "labels", "buckets"}`.
pub fn declare(mut tool: Value, metrics: Value) -> Value {
    tool["_meta"][META_KEY] = metrics;
    tool
}

/// `result` (a `CallToolResult`) carrying `reports` in its `_meta`: each
/// `{"name", "value", "labels": {…}}`. The gateway takes them out before
/// the client reads the result.
pub fn report(mut result: Value, reports: Vec<Value>) -> Value {
    if !reports.is_empty() {
        result["_meta"][META_KEY] = Value::Array(reports);
    }
    result
}

/// One report: `value` of the metric `name`, with `labels`.
pub fn sample(name: &str, value: impl Into<Value>, labels: Value) -> Value {
    json!({ "name": name, "value": value.into(), "labels": labels })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declarations_and_reports_go_under_our_key() {
        let tool =
            declare(json!({"name": "t", "_meta": {"other": 1}}), json!([{"name": "a_total", "type": "counter"}]));
        assert_eq!(tool["_meta"]["other"], 1);
        assert_eq!(tool["_meta"][META_KEY][0]["name"], "a_total");
        let result = report(json!({"content": []}), vec![sample("a_total", 2, json!({"k": "v"}))]);
        assert_eq!(result["_meta"][META_KEY], json!([{"name": "a_total", "value": 2, "labels": {"k": "v"}}]));
        assert!(report(json!({"content": []}), Vec::new()).get("_meta").is_none());
    }
}
