//! `faults`: a test-only tool component that misbehaves on purpose, so the
//! gateway's handling of each failure mode can be exercised end to end.
//!
//! It follows the tool contract (`GET /` lists the tools, `POST /<tool-name>`
//! with the arguments object calls one, unknown tools get 404 with an
//! `isError` `CallToolResult`) and breaks it only where a tool says so:
//!
//! | tool           | behaviour                                                              |
//! |----------------|------------------------------------------------------------------------|
//! | `slow`         | sleeps `ms` milliseconds (default 60000), then answers                 |
//! | `failing`      | HTTP `status` (default 500) with the text body `text` (default `deliberate failure`); `status` 200: an `isError` result with that text |
//! | `broken`       | 200 with a body that is not JSON                                       |
//! | `trapping`     | panics, so the instance traps                                          |
//! | `huge`         | a valid result whose text is `bytes` bytes long (default 2 MiB)        |
//! | `echo`         | the arguments, as JSON text and as `structuredContent`                 |
//! | `echo_headers` | the request's `traceparent`, `tracestate` and `baggage` as `structuredContent` |
//! | `not_a_result` | 200 with valid JSON that is not a `CallToolResult`                     |
//!
//! Two more paths are not tools (not listed, so the gateway never calls
//! them); they test the host's limits (`tests/e2e/tests/host_limits.rs`):
//!
//! | path                    | behaviour                                                    |
//! |-------------------------|--------------------------------------------------------------|
//! | `GET .../runaway/memory` | allocates (and writes) 1 MiB after 1 MiB, without end        |
//! | `GET .../runaway/cpu`    | computes without end, never calling the host                 |

use serde::Deserialize;
use serde_json::{json, Value};
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;
use spinscope_tool::{
    args, error_result, json_response, method_not_allowed, route, structured_result, text_result, unknown_tool, Route,
};

#[http_component]
fn handle(req: Request) -> Response {
    if req.path().ends_with("/runaway/memory") {
        return allocate_without_end();
    }
    if req.path().ends_with("/runaway/cpu") {
        return compute_without_end();
    }
    match route(&req) {
        Route::List => {
            println!("{}", json!({"component": "faults", "listed": true}));
            json_response(200, &tools())
        }
        Route::Call(tool) => call(tool, &req),
        Route::Other => method_not_allowed(),
    }
}

/// Quotes, backslashes, a line feed and non-ASCII: what a metrics encoder
/// must escape when a tool name becomes a label value.
pub const HOSTILE_NAME: &str = "hostile \"quoted\" \\back\\slash\nnew line ✓ ünïcødé";

fn tools() -> Value {
    let no_args = json!({"type": "object", "properties": {}});
    let tool = |name: &str, description: &str, input: &Value| json!({"name": name, "description": description, "inputSchema": input});
    json!([
        tool(
            "slow",
            "Sleeps `ms` milliseconds (default 60000), then answers.",
            &json!({
                "type": "object",
                "properties": {"ms": {"type": "integer", "minimum": 0}},
            })
        ),
        tool(
            "failing",
            "Answers HTTP `status` (default 500) with the text `text`; with status 200, an isError result with that text.",
            &json!({
                "type": "object",
                "properties": {
                    "text": {"type": "string"},
                    "status": {"type": "integer", "minimum": 200, "maximum": 599},
                },
            })
        ),
        tool(
            "broken",
            "Answers 200 with a body that is not JSON.",
            &no_args
        ),
        tool("trapping", "Panics: the instance traps.", &no_args),
        tool(
            "huge",
            "A result whose text is `bytes` bytes long (default 2 MiB).",
            &json!({
                "type": "object",
                "properties": {"bytes": {"type": "integer", "minimum": 0}},
            })
        ),
        tool("echo", "Returns its arguments.", &json!({"type": "object"})),
        tool(
            "allocate",
            "Allocates and writes `mb` MiB (default 16), then answers: the instance's memory grows by that much.",
            &json!({
                "type": "object",
                "properties": {"mb": {"type": "integer", "minimum": 0, "maximum": 1024}},
            })
        ),
        tool(
            "echo_headers",
            "Returns the traceparent, tracestate, baggage, authorization and x-api-key it received.",
            &no_args
        ),
        tool(
            "not_a_result",
            "Answers 200 with JSON that is not a CallToolResult.",
            &no_args
        ),
        spinscope_tool::own_metrics::declare(
            tool(
                "report_metrics",
                "Answers with `reports` (any JSON) as its metric reports; declares a counter, a histogram and one broken metric.",
                &json!({"type": "object"})
            ),
            json!([
                {"name": "faults_reports_total", "type": "counter", "help": "Reports of the faults component.", "labels": ["kind"]},
                {"name": "faults_value", "type": "histogram", "help": "Values the faults component observed.", "buckets": [1, 10]},
                {"name": "Broken Name", "type": "counter"},
            ])
        ),
        tool(
            HOSTILE_NAME,
            "A tool whose name is hostile to label encoders; calling it fails.",
            &no_args
        ),
    ])
}

fn call(tool: &str, req: &Request) -> Response {
    let began = spinscope_tool::now_ns();
    // One JSON line per call received, so a test can count what reached
    // the component (tests/e2e/tests/breakers.rs), whatever the log format.
    println!("{}", json!({"component": "faults", "called": tool}));
    let result = match tool {
        "slow" => args(tool, req.body()).map(|a: SlowArgs| slow(a.ms)),
        "failing" => match args::<FailingArgs>(tool, req.body()) {
            Ok(a) if a.status == 200 => Err(a.text),
            Ok(a) => {
                return Response::builder().status(a.status).header("content-type", "text/plain").body(a.text).build()
            }
            Err(e) => Err(e),
        },
        "broken" => {
            return Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .body(r#"{"content": [{"type": "text", "te"#)
                .build()
        }
        "trapping" => panic!("deliberate trap"),
        "huge" => args(tool, req.body()).map(|a: HugeArgs| text_result("x".repeat(a.bytes))),
        "echo" => args::<Value>(tool, req.body()).map(structured_result),
        "allocate" => args(tool, req.body()).map(|a: AllocateArgs| {
            let held = std::hint::black_box(vec![1u8; a.mb << 20]);
            text_result(format!("allocated {} MiB", held.len() >> 20))
        }),
        "echo_headers" => {
            let header = |name| req.header(name).and_then(|v| v.as_str()).map(str::to_owned);
            Ok(structured_result(json!({
                "traceparent": header("traceparent"),
                "tracestate": header("tracestate"),
                "baggage": header("baggage"),
                // Never forwarded by the gateway (no token passthrough).
                "authorization": header("authorization"),
                "x-api-key": header("x-api-key"),
            })))
        }
        "not_a_result" => Ok(json!({"hello": 1})),
        "report_metrics" => args::<Value>(tool, req.body()).map(|a| {
            let mut result = text_result("reported".into());
            result["_meta"][spinscope_tool::own_metrics::META_KEY] = a["reports"].clone();
            result
        }),
        _ => return unknown_tool(tool),
    };
    let response = json_response(200, &result.unwrap_or_else(error_result));
    match tool {
        // A tool that reports nothing of itself, as a third-party one may.
        "echo_headers" => response,
        _ => spinscope_tool::measured(response, began),
    }
}

#[derive(Deserialize)]
struct FailingArgs {
    #[serde(default = "default_failing_text")]
    text: String,
    #[serde(default = "default_failing_status")]
    status: u16,
}

fn default_failing_text() -> String {
    "deliberate failure".into()
}

fn default_failing_status() -> u16 {
    500
}

#[derive(Deserialize)]
struct SlowArgs {
    #[serde(default = "default_slow_ms")]
    ms: u64,
}

fn default_slow_ms() -> u64 {
    60_000
}

#[derive(Deserialize)]
struct AllocateArgs {
    #[serde(default = "default_allocate_mb")]
    mb: usize,
}

fn default_allocate_mb() -> usize {
    16
}

#[derive(Deserialize)]
struct HugeArgs {
    #[serde(default = "default_huge_bytes")]
    bytes: usize,
}

fn default_huge_bytes() -> usize {
    2 * 1024 * 1024
}

fn slow(ms: u64) -> Value {
    wasi::clocks::monotonic_clock::subscribe_duration(ms.saturating_mul(1_000_000)).block();
    text_result(format!("slept {ms} ms"))
}

/// Holds on to ever more memory, each page written, until an allocation
/// fails (the host's memory limit, else wasm32's 4 GiB) and the guest aborts.
fn allocate_without_end() -> Response {
    let mut held: Vec<Vec<u8>> = Vec::new();
    loop {
        held.push(std::hint::black_box(vec![1u8; 1 << 20]));
    }
}

/// Never returns and never calls the host: only an interrupt stops it.
fn compute_without_end() -> Response {
    let mut n: u64 = 0;
    loop {
        n = std::hint::black_box(n.wrapping_add(1));
    }
}
