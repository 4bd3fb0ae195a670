//! `calc`: an example tool component (`calculate`, `statistics`).
//!
//! # The tool contract (FTL's)
//!
//! A tool component is a Spin HTTP component the gateway reaches by service
//! chaining, e.g. `http://calc.spin.internal/calculate`. It answers:
//!
//! - `GET /` with a JSON array of tool metadata: `name`, `title`,
//!   `description`, `inputSchema`, optional `outputSchema`, `annotations`;
//! - `POST /<tool-name>`, the body being the arguments JSON object, with
//!   `200` and an MCP `CallToolResult`: `content: [{"type": "text", "text": ...}]`,
//!   optional `structuredContent` (an object matching `outputSchema`), `isError`.
//!
//! An unknown tool gets `404` with a `CallToolResult` whose `isError` is true.
//! Bad arguments get `200` with `isError: true` and a readable message, so the
//! model can correct its call. The tool name is the last segment of the request
//! path, which works however the component is reached (chained or routed);
//! `spin-path-info` alone would not. A `traceparent` header may come with the
//! request; tools are free to ignore it.
//!
//! The arithmetic lives in [`expr`] and [`stats`], which do not touch Spin and
//! are unit-tested natively.

mod expr;
mod stats;

use serde::Deserialize;
use serde_json::{json, Value};
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::http_component;

#[http_component]
fn handle(req: Request) -> Response {
    let tool = req.path().rsplit('/').next().unwrap_or_default();
    match req.method() {
        Method::Get if tool.is_empty() || is_base_path(&req) => json_response(200, &tools()),
        Method::Post => match call(tool, req.body()) {
            Some(result) => json_response(200, &result),
            None => json_response(404, &error_result(format!("unknown tool {tool:?}"))),
        },
        _ => json_response(405, &error_result("use GET / or POST /<tool-name>".into())),
    }
}

/// Whether the request is for the component's base path when it is routed
/// under a prefix, e.g. `GET /calc` for route `/calc/...`.
fn is_base_path(req: &Request) -> bool {
    req.header("spin-path-info")
        .and_then(|v| v.as_str())
        .is_some_and(|info| info.is_empty() || info == "/")
}

fn tools() -> Value {
    let number = |description: &str| json!({"type": "number", "description": description});
    json!([
        {
            "name": "calculate",
            "title": "Calculate",
            "description": "Evaluates an arithmetic expression with + - * / % ^ (power), parentheses, \
                            unary minus and decimals, e.g. \"(1.5 + 2) * -3 ^ 2\".",
            "inputSchema": {
                "type": "object",
                "properties": {
                    "expression": {"type": "string", "description": "The expression to evaluate."},
                },
                "required": ["expression"],
            },
            "outputSchema": {
                "type": "object",
                "properties": {"result": number("The value of the expression.")},
                "required": ["result"],
            },
            "annotations": {"readOnlyHint": true, "idempotentHint": true, "openWorldHint": false},
        },
        {
            "name": "statistics",
            "title": "Statistics",
            "description": "Count, sum, mean, median, minimum, maximum and population standard \
                            deviation of a list of numbers.",
            "inputSchema": {
                "type": "object",
                "properties": {
                    "numbers": {"type": "array", "items": {"type": "number"}, "minItems": 1},
                },
                "required": ["numbers"],
            },
            "outputSchema": {
                "type": "object",
                "properties": {
                    "count": {"type": "integer"},
                    "sum": number("Sum of the numbers."),
                    "mean": number("Arithmetic mean."),
                    "median": number("Middle value, or the mean of the two middle values."),
                    "min": number("Smallest number."),
                    "max": number("Largest number."),
                    "stddev": number("Population standard deviation."),
                },
                "required": ["count", "sum", "mean", "median", "min", "max", "stddev"],
            },
            "annotations": {"readOnlyHint": true, "idempotentHint": true, "openWorldHint": false},
        },
    ])
}

/// Runs `tool` on the raw arguments; `None` if there is no such tool.
fn call(tool: &str, body: &[u8]) -> Option<Value> {
    let result = match tool {
        "calculate" => args(tool, body).and_then(|a: CalculateArgs| calculate(&a.expression)),
        "statistics" => args(tool, body).and_then(|a: StatisticsArgs| statistics(&a.numbers)),
        _ => return None,
    };
    Some(result.unwrap_or_else(error_result))
}

#[derive(Deserialize)]
struct CalculateArgs {
    expression: String,
}

#[derive(Deserialize)]
struct StatisticsArgs {
    numbers: Vec<f64>,
}

fn calculate(expression: &str) -> Result<Value, String> {
    let value =
        expr::evaluate(expression).map_err(|e| format!("cannot evaluate {expression:?}: {e}"))?;
    Ok(json!({
        "content": [{"type": "text", "text": expr::format_number(value)}],
        "structuredContent": {"result": value},
        "isError": false,
    }))
}

fn statistics(numbers: &[f64]) -> Result<Value, String> {
    let summary = stats::summarize(numbers).ok_or("numbers must not be empty")?;
    if !summary.is_finite() {
        return Err("the numbers are too large to summarize".into());
    }
    let value = json!(summary);
    Ok(json!({
        "content": [{"type": "text", "text": value.to_string()}],
        "structuredContent": value,
        "isError": false,
    }))
}

/// Parses the arguments object; an empty body counts as `{}`.
fn args<T: for<'de> Deserialize<'de>>(tool: &str, body: &[u8]) -> Result<T, String> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| format!("invalid arguments for {tool}: {e}"))
}

fn error_result(message: String) -> Value {
    json!({"content": [{"type": "text", "text": message}], "isError": true})
}

fn json_response(status: u16, body: &Value) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(body.to_string())
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls() {
        let ok = call("calculate", br#"{"expression": "2 * (3 + 4)"}"#).unwrap();
        assert_eq!(ok["content"][0]["text"], "14");
        assert_eq!(ok["structuredContent"]["result"], 14.0);
        assert_eq!(ok["isError"], false);

        let bad = call("calculate", br#"{"expression": "1/0"}"#).unwrap();
        assert_eq!(bad["isError"], true);
        assert_eq!(
            bad["content"][0]["text"],
            r#"cannot evaluate "1/0": division by zero"#
        );

        let stats = call("statistics", br#"{"numbers": [1, 2, 3, 4]}"#).unwrap();
        assert_eq!(stats["structuredContent"]["median"], 2.5);
        assert_eq!(
            call("statistics", br#"{"numbers": []}"#).unwrap()["isError"],
            true
        );
        assert_eq!(
            call("statistics", br#"{"numbers": ["a"]}"#).unwrap()["isError"],
            true
        );
        assert!(call("nope", b"{}").is_none());
    }
}
