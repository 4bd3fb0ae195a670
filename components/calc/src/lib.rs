//! `calc`: an example tool component (`calculate`, `statistics`).
//!
//! It follows the tool contract (FTL's) that `spinscope-tool` implements and
//! docs/tools.md describes.
//!
//! The arithmetic lives in [`expr`] and [`stats`], which do not touch Spin and
//! are unit-tested natively.

mod expr;
mod stats;

use serde::Deserialize;
use serde_json::{json, Value};
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;
use spinscope_tool::own_metrics::{declare, report, sample};
use spinscope_tool::{args, error_result, serve, structured_result};

#[http_component]
fn handle(req: Request) -> Response {
    serve(&req, tools, call)
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
        declare(json!({
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
        }), statistics_metrics()),
    ])
}

/// The metrics `statistics` declares (docs/tools.md): how many numbers it
/// summarized, whole or fractional, and how many each call had.
fn statistics_metrics() -> Value {
    json!([
        {
            "name": "numbers_summarized_total",
            "type": "counter",
            "help": "Numbers the statistics tool summarized, by kind (integer or fraction).",
            "labels": ["kind"],
        },
        {
            "name": "numbers_per_call",
            "type": "histogram",
            "help": "How many numbers one statistics call summarized.",
            "buckets": [1, 10, 100, 1000, 10000],
        },
    ])
}

/// What one `statistics` call reports of its metrics.
fn statistics_reports(numbers: &[f64]) -> Vec<Value> {
    let integers = numbers.iter().filter(|n| n.fract() == 0.0).count();
    let mut reports = vec![sample("numbers_per_call", numbers.len(), json!({}))];
    for (kind, n) in [("integer", integers), ("fraction", numbers.len() - integers)] {
        if n > 0 {
            reports.push(sample("numbers_summarized_total", n, json!({ "kind": kind })));
        }
    }
    reports
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
    let value = expr::evaluate(expression).map_err(|e| format!("cannot evaluate {expression:?}: {e}"))?;
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
    Ok(report(structured_result(json!(summary)), statistics_reports(numbers)))
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
        assert_eq!(bad["content"][0]["text"], r#"cannot evaluate "1/0": division by zero"#);

        let stats = call("statistics", br#"{"numbers": [1, 2, 3, 4]}"#).unwrap();
        assert_eq!(stats["structuredContent"]["median"], 2.5);
        assert_eq!(call("statistics", br#"{"numbers": []}"#).unwrap()["isError"], true);
        assert_eq!(call("statistics", br#"{"numbers": ["a"]}"#).unwrap()["isError"], true);
        assert!(call("nope", b"{}").is_none());
    }

    /// What calc declares, the gateway reads whole; what it reports, the
    /// gateway keeps whole.
    #[test]
    fn its_metrics_keep_the_gateways_rules() {
        use spinscope::metrics::tool_metrics::{declare::declarations, report::take};
        let listed: Vec<spinscope::mcp::Tool> = serde_json::from_value(tools()).unwrap();
        let statistics = listed.iter().find(|t| t.name == "statistics").unwrap();
        let (declared, problems) = declarations(statistics);
        assert_eq!((declared.len(), problems.len()), (2, 0), "{problems:?}");
        let mut result = call("statistics", br#"{"numbers": [1, 2.5, 3]}"#).unwrap();
        let reports = take(&mut result, statistics, 64);
        assert!(reports.dropped.is_empty(), "{:?}", reports.dropped);
        let parts: Vec<(&str, u64)> = reports.increments.iter().map(|i| (i.series.as_str(), i.delta)).collect();
        assert_eq!(
            parts,
            [
                ("numbers_per_call bucket:10", 1),
                ("numbers_per_call sum", 3_000_000),
                ("numbers_summarized_total value kind=integer", 2),
                ("numbers_summarized_total value kind=fraction", 1),
            ]
        );
    }
}
