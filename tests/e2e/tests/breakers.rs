//! The tool components' circuit breakers, end to end (docs/breakers.md):
//! a component that keeps failing is no longer called once its breaker is
//! open; after the cool-down exactly one trial call decides; a healthy
//! app's calls write nothing for the breakers. The `faults` test component
//! prints one line per call it receives, which is how the tests count what
//! reached it.

use serde_json::{json, Value};
use spinscope_e2e::*;
use std::sync::Arc;
use std::time::Duration;

const COOLDOWN_MS: u64 = 1_500;

fn app() -> HostBuilder {
    HostBuilder::app(Some(&["gateway", "metrics", "ready", "text-tools"]))
        .var("tool_components", "text-tools,faults")
        .var("breaker_failures", "3")
        .var("breaker_cooldown_ms", &COOLDOWN_MS.to_string())
}

/// A modern (stateless) call of `tool`: its result.
fn call(host: &Host, tool: &str, arguments: Value) -> Value {
    let reply = ModernRequest::call(tool, arguments).send(host, &[]);
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["result"].clone()
}

/// Calls of `tool` that reached the `faults` component so far.
fn received(host: &Host, tool: &str) -> usize {
    let line = format!(r#""called":"{tool}""#);
    host.logs().iter().filter(|l| l.contains(&line)).count()
}

fn breaker(e: &spinscope_testkit::exposition::Exposition) -> (f64, f64, f64, f64) {
    let faults = [("component", "faults")];
    (
        value(e, "spinscope_circuit_breaker_state", &faults),
        value(e, "spinscope_circuit_breaker_transitions_total", &[("component", "faults"), ("to", "open")]),
        value(e, "spinscope_circuit_breaker_transitions_total", &[("component", "faults"), ("to", "closed")]),
        value(e, "spinscope_tool_calls_total", &[("component", "faults"), ("outcome", "circuit_open")]),
    )
}

fn is_open_refusal(result: &Value) -> bool {
    result["isError"] == true && result_text(result).contains("temporarily unavailable")
}

#[test]
fn a_failing_component_is_cut_off_then_one_trial_decides() {
    let host = app().start();
    let down = json!({"status": 500});
    for _ in 0..3 {
        let result = call(&host, "failing", down.clone());
        assert!(result["isError"] == true && !is_open_refusal(&result), "{result}");
    }
    host.wait_for_logs(|_| received(&host, "failing") == 3);

    // Open: answered at once, the component is not called; other
    // components are not affected.
    let refused = call(&host, "failing", down.clone());
    assert!(is_open_refusal(&refused), "{refused}");
    assert!(result_text(&refused).contains("retry after"), "{refused}");
    let other = call(&host, "word_count", json!({"text": "a b"}));
    assert!(result_text(&other).contains("\"words\":2"), "{other}");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(received(&host, "failing"), 3, "an open breaker's calls never reach the component");
    // tools/list does not ask an open component: its tools come from the
    // last good map.
    let listed_before = host.logs().iter().filter(|l| l.contains(r#""listed":true"#)).count();
    let list = ModernRequest::new("tools/list", json!({})).send(&host, &[]).json();
    let names: Vec<&str> =
        list["result"]["tools"].as_array().unwrap().iter().filter_map(|t| t["name"].as_str()).collect();
    assert!(names.contains(&"failing") && names.contains(&"word_count"), "{names:?}");
    std::thread::sleep(Duration::from_millis(200));
    let listed_after = host.logs().iter().filter(|l| l.contains(r#""listed":true"#)).count();
    assert_eq!(listed_after, listed_before, "the open component was not asked for its tools");
    let e = scrape_until(&host, |e| breaker(e).3 >= 1.0);
    assert_eq!(breaker(&e), (1.0, 1.0, 0.0, 1.0), "open, opened once, one call refused");
    assert_eq!(value(&e, "spinscope_tool_discovery_failures_total", &[("component", "faults")]), 0.0);
    assert_eq!(value(&e, "spinscope_tool_component_up", &[("component", "faults")]), 0.0, "down while open");
    assert_eq!(value(&e, "spinscope_tool_component_up", &[("component", "text-tools")]), 1.0);
    assert_eq!(value(&e, "spinscope_tool_calls_total", &[("tool", "failing"), ("outcome", "error")]), 3.0);

    // Half-open: of 16 concurrent callers (of another tool of the same
    // component, which takes a second to answer, so all 16 arrive during
    // the trial) exactly one makes the trial; it answers, which closes it.
    std::thread::sleep(Duration::from_millis(COOLDOWN_MS + 100));
    assert_eq!(breaker(&scrape(&host)).0, 2.0, "half-open after the cool-down");
    let host = Arc::new(host);
    let h = host.clone();
    let results = concurrently(16, 1, move |_| call(&h, "slow", json!({"ms": 1000})));
    let trials = results.iter().filter(|r| !is_open_refusal(r)).count();
    assert_eq!(trials, 1, "exactly one trial: {results:?}");
    host.wait_for_logs(|_| received(&host, "slow") == 1);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(received(&host, "slow"), 1, "the 15 others did not reach the component");
    let e = scrape_until(&host, |e| breaker(e).2 >= 1.0);
    assert_eq!(breaker(&e), (0.0, 1.0, 1.0, 16.0), "closed again by the trial; 1 + 15 refused");
    assert_eq!(value(&e, "spinscope_tool_component_up", &[("component", "faults")]), 1.0, "up again");

    // A trial that fails opens it again for another cool-down.
    for _ in 0..3 {
        call(&host, "failing", down.clone());
    }
    assert!(is_open_refusal(&call(&host, "failing", down.clone())));
    std::thread::sleep(Duration::from_millis(COOLDOWN_MS + 100));
    let trial = call(&host, "failing", down.clone());
    assert!(!is_open_refusal(&trial), "the trial went through: {trial}");
    assert!(is_open_refusal(&call(&host, "failing", down)), "and failed: open again");
    let e = scrape_until(&host, |e| breaker(e).1 >= 3.0);
    assert_eq!((breaker(&e).0, breaker(&e).1), (1.0, 3.0), "opened, closed, opened, reopened by the failed trial");
    let detailed = request("GET", &host.url("/health/detailed"), &[], None).json();
    assert_eq!(detailed["parts"]["tools"]["faults"]["breaker"], "open", "{detailed}");
    assert_eq!(detailed["parts"]["tools"]["text-tools"]["breaker"], "closed", "{detailed}");
}

#[test]
fn a_healthy_app_writes_no_breaker_keys_and_off_means_off() {
    let host = app().start();
    for i in 0..20 {
        call(&host, "word_count", json!({"text": format!("call {i}")}));
    }
    // A tool's own isError is an answer: no streak, no key.
    call(&host, "failing", json!({"status": 200}));
    let state = host.stop();
    let db = rusqlite::Connection::open(state.join("sqlite_key_value.db")).unwrap();
    let keys: Vec<String> = db
        .prepare("SELECT key FROM spin_key_value WHERE key LIKE '%breaker%'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(keys.is_empty(), "{keys:?}");

    let off = app().var("breaker_failures", "0").start();
    for _ in 0..5 {
        let result = call(&off, "failing", json!({"status": 500}));
        assert!(!is_open_refusal(&result), "{result}");
    }
    assert_eq!(breaker(&scrape(&off)).0, 0.0);
}

#[test]
fn two_hosts_sharing_redis_share_the_breaker() {
    let redis = RedisServer::start();
    let a = app().redis(&redis).start();
    let b = app().redis(&redis).start();
    for _ in 0..3 {
        call(&a, "failing", json!({"status": 500}));
    }
    // Opened by A's calls, seen by B's: B does not call the component.
    let refused = call(&b, "failing", json!({"status": 500}));
    assert!(is_open_refusal(&refused), "{refused}");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(received(&b, "failing"), 0, "B's instance never called it");
    let e = scrape_until(&b, |e| breaker(e).0 >= 1.0);
    assert_eq!(breaker(&e).0, 1.0, "B's exporter reports it open");
}
