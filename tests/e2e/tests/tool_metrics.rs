//! Tools' own metrics end to end (docs/tools.md): `calc`'s `statistics`
//! declares a counter and a histogram in its `tools/list` entry and reports
//! them in each result; the gateway takes the reports out of the result,
//! records the declared ones in the call's one metrics record, and the
//! exporter renders them as `tool_*` families. `faults`' `report_metrics`
//! reports whatever it is asked to, to show what is dropped and counted.

use serde_json::{json, Value};
use spinscope_e2e::*;

const META_KEY: &str = "io.spinscope/metrics";

fn app() -> HostBuilder {
    HostBuilder::app(Some(&["gateway", "metrics", "calc"])).var("tool_components", "calc,faults")
}

/// `report_metrics` answering with `reports`; the result the client reads.
fn report(mcp: &mut Mcp, reports: Value) -> Value {
    let r = mcp.call_tool("report_metrics", json!({ "reports": reports }));
    assert_eq!(result_text(&r), "reported", "{r}");
    r
}

#[test]
fn declared_metrics_appear_with_their_labels_and_the_rest_is_dropped_and_counted() {
    let host = app().var("max_tool_metric_reports", "4").start();
    let (mut mcp, _) = Mcp::connect(&host);
    let listed = mcp.request("tools/list", json!({})).json();
    let statistics = listed["result"]["tools"].as_array().unwrap().iter().find(|t| t["name"] == "statistics").unwrap();
    assert_eq!(statistics["_meta"][META_KEY].as_array().map(Vec::len), Some(2), "declarations are listed as written");

    for numbers in [json!([1, 2, 3]), json!([0.5, 2]), json!((0..50).collect::<Vec<_>>())] {
        let r = mcp.call_tool("statistics", json!({ "numbers": numbers }));
        assert!(r.get("_meta").is_none(), "the reports never reach the client: {r}");
        assert!(r["structuredContent"]["mean"].is_number(), "{r}");
    }
    let good = json!({ "name": "faults_reports_total", "value": 2, "labels": { "kind": "good" } });
    let r = report(
        &mut mcp,
        json!([
            good,
            { "name": "faults_value", "value": 5 },
            { "name": "undeclared_total", "value": 1 },
            { "name": "Broken Name", "value": 1 },
            { "name": "faults_reports_total", "value": -1, "labels": { "kind": "bad" } },
            { "name": "faults_reports_total", "value": 1 },
        ]),
    );
    assert!(r.get("_meta").is_none(), "{r}");
    report(&mut mcp, json!("not a list"));

    let e = scrape_until(&host, |e| {
        value(e, "tool_numbers_per_call_count", &[]) >= 3.0
            && value(e, "spinscope_tool_metric_reports_dropped_total", &[("component", "faults")]) >= 5.0
    });
    let calc = [("component", "calc"), ("tool", "statistics")];
    let with = |extra: &[(&'static str, &'static str)]| [&calc[..], extra].concat();
    assert_eq!(value(&e, "tool_numbers_summarized_total", &with(&[("kind", "integer")])), 54.0);
    assert_eq!(value(&e, "tool_numbers_summarized_total", &with(&[("kind", "fraction")])), 1.0);
    assert_eq!(value(&e, "tool_numbers_per_call_count", &calc), 3.0);
    assert_eq!(value(&e, "tool_numbers_per_call_sum", &calc), 55.0);
    assert_eq!(value(&e, "tool_numbers_per_call_bucket", &with(&[("le", "1")])), 0.0, "every declared bucket");
    assert_eq!(value(&e, "tool_numbers_per_call_bucket", &with(&[("le", "10")])), 2.0);
    assert_eq!(value(&e, "tool_numbers_per_call_bucket", &with(&[("le", "100")])), 3.0);
    assert_eq!(value(&e, "tool_numbers_per_call_bucket", &with(&[("le", "+Inf")])), 3.0);
    let faults = [("component", "faults"), ("tool", "report_metrics")];
    assert_eq!(value(&e, "tool_faults_reports_total", &[&faults[..], &[("kind", "good")]].concat()), 2.0);
    assert_eq!(value(&e, "tool_faults_value_count", &faults), 1.0);
    let dropped = |reason| {
        value(&e, "spinscope_tool_metric_reports_dropped_total", &[("component", "faults"), ("reason", reason)])
    };
    assert_eq!(dropped("undeclared"), 2.0, "an undeclared name, and one whose declaration broke the rules");
    assert_eq!(dropped("too_many"), 2.0, "the fifth and sixth, over max_tool_metric_reports = 4");
    assert_eq!(dropped("malformed"), 1.0, "a report list that is not a list");
    assert_eq!(value(&e, "tool_faults_reports_total", &[("kind", "bad")]), 0.0);
    let help = host.get("/metrics").body;
    assert!(help.contains("# HELP tool_numbers_per_call How many numbers one statistics call summarized.\n"), "{help}");
    promtool_check(&help);
    let om =
        request("GET", &host.url("/metrics"), &[("accept", "application/openmetrics-text; version=1.0.0")], None).body;
    spinscope_testkit::exposition::parse_openmetrics(&om).unwrap_or_else(|e| panic!("{e}\n{om}"));
    let j = host.get("/metrics?format=json").json();
    let series = j["series"].as_array().unwrap();
    assert!(series.iter().any(|s| s["name"] == "tool_numbers_summarized_total" && s["labels"]["kind"] == "integer"));

    // The declaration that broke the rules was said once, when the map was saved.
    let line = host.wait_for_log(|l| l.contains("Tool metric declaration ignored"));
    assert!(line.contains("report_metrics") && line.contains("Broken Name"), "{line}");
}

#[test]
fn zero_turns_tool_metrics_off_and_still_hides_the_reports() {
    let host = app().var("max_tool_metric_reports", "0").start();
    let (mut mcp, _) = Mcp::connect(&host);
    let r = mcp.call_tool("statistics", json!({ "numbers": [1, 2] }));
    assert!(r.get("_meta").is_none(), "{r}");
    let r = report(&mut mcp, json!([{ "name": "undeclared_total", "value": 1 }]));
    assert!(r.get("_meta").is_none(), "{r}");
    let e = scrape_until(&host, |e| value(e, "spinscope_tool_calls_total", &[]) >= 2.0);
    assert_eq!(value(&e, "spinscope_tool_calls_total", &[]), 2.0);
    assert_eq!(value(&e, "tool_numbers_per_call_count", &[]), 0.0);
    assert_eq!(value(&e, "spinscope_tool_metric_reports_dropped_total", &[]), 0.0);
}
