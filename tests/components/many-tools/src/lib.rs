//! `many-tools`: a tool component that lists many trivial tools, `t0000`,
//! `t0001`, ... (1,000, or the component variable `tool_count`), each
//! answering "ok". `make bench` calls each once, so that the store holds
//! a series per tool, and then times one of them (docs/benchmark.md, the
//! flat-cost line).

use serde_json::{json, Value};
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;
use spinscope_tool::{serve, text_result};

/// Tools listed when `tool_count` is not set.
const DEFAULT_COUNT: usize = 1_000;

#[http_component]
fn handle(req: Request) -> Response {
    serve(&req, tools, call)
}

fn count() -> usize {
    spinscope_spin::vars::get("tool_count").ok().flatten().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_COUNT)
}

/// The name of tool `i`.
fn name(i: usize) -> String {
    format!("t{i:04}")
}

fn tools() -> Value {
    let schema = json!({"type": "object", "properties": {"text": {"type": "string"}}});
    Value::Array(
        (0..count()).map(|i| json!({"name": name(i), "description": "Answers ok.", "inputSchema": schema})).collect(),
    )
}

fn call(tool: &str, _arguments: &[u8]) -> Option<Value> {
    let i: usize = tool.strip_prefix('t')?.parse().ok()?;
    (i < count() && tool == name(i)).then(|| text_result("ok".to_string()))
}
