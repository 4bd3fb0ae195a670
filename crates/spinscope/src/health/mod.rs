//! Health, startup and readiness, the pure part: the status model and the
//! checks (this file), the `config` check of the configuration as the
//! probes load it with [`crate::config::load_config`] ([`config_check`]),
//! the tool components' check ([`tools_check`]), the readiness report, its
//! cache record and the recorded start time ([`report`]), and the per-part
//! figures of `/health/detailed` ([`figures`]).
//!
//! The `health` component (liveness, startup) and the `ready` component
//! (readiness, `/health`, `/health/detailed`) do the I/O and call in here.

mod config_check;
mod figures;
mod report;
mod tools_check;

pub use config_check::config_check;
pub use figures::figures;
pub use report::{decode_started_at, encode_started_at, wants_fresh, Report};
pub use tools_check::{classify_tool_reply, tools_check, ToolProbe};

use serde_json::{json, Map, Value};

/// Outcome of a check, and of a whole report (the worst of its checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// Everything works.
    Ok,
    /// Working, with a part missing (a tool component down).
    Degraded,
    /// Not able to serve (store down, configuration invalid).
    Error,
}

impl Status {
    /// The name in JSON reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Degraded => "degraded",
            Status::Error => "error",
        }
    }

    /// Reads a name written by [`Status::as_str`].
    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "ok" => Some(Status::Ok),
            "degraded" => Some(Status::Degraded),
            "error" => Some(Status::Error),
            _ => None,
        }
    }
}

/// Names of the readiness checks.
pub const CHECK_CONFIG: &str = "config";
/// The key-value store answers.
pub const CHECK_KV: &str = "kv";
/// The tool components list their tools.
pub const CHECK_TOOLS: &str = "tools";

/// One check's result: `{"status","latency_ms","message", ...details}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// The outcome.
    pub status: Status,
    /// How long the check took, in milliseconds.
    pub latency_ms: f64,
    /// What was found, for an operator.
    pub message: String,
    /// Extra fields of the check's JSON object (e.g. `components` of `tools`).
    pub details: Map<String, Value>,
}

impl Check {
    /// A check without details (`latency_ms` rounded to microseconds).
    pub fn new(status: Status, latency_ms: f64, message: impl Into<String>) -> Check {
        Check { status, latency_ms: round_ms(latency_ms), message: message.into(), details: Map::new() }
    }

    /// Adds a detail field (builder style).
    pub fn with(mut self, key: &str, value: Value) -> Check {
        self.details.insert(key.to_string(), value);
        self
    }

    /// The JSON object of the check, details included.
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("status".into(), self.status.as_str().into());
        object.insert("latency_ms".into(), json!(self.latency_ms));
        object.insert("message".into(), self.message.clone().into());
        for (k, v) in &self.details {
            object.insert(k.clone(), v.clone());
        }
        Value::Object(object)
    }

    /// Reads an object written by [`Check::to_json`]; `None` if it is not one.
    pub fn from_json(value: &Value) -> Option<Check> {
        let object = value.as_object()?;
        let status = Status::parse(object.get("status")?.as_str()?)?;
        let latency_ms = object.get("latency_ms")?.as_f64()?;
        let message = object.get("message")?.as_str()?.to_string();
        let details = object
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "status" | "latency_ms" | "message"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Some(Check { status, latency_ms, message, details })
    }
}

/// Milliseconds rounded to microseconds, so reports stay short.
pub fn round_ms(ms: f64) -> f64 {
    if ms.is_finite() {
        (ms * 1000.0).round() / 1000.0
    } else {
        0.0
    }
}

/// Nanoseconds between two monotonic readings, as milliseconds.
pub fn elapsed_ms(from_ns: u64, to_ns: u64) -> f64 {
    round_ms(to_ns.saturating_sub(from_ns) as f64 / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{load_config, Var, VarSet};
    use crate::metrics::{catalog, Snapshot};
    use crate::metrics::{Limits, Recorder};

    fn report(checks: &[(&str, Status)]) -> Report {
        let mut r = Report::new("abc", 1_000);
        for (name, status) in checks {
            r.add(name, Check::new(*status, 1.0, "m"));
        }
        r
    }

    #[test]
    fn status_is_the_worst_check() {
        assert_eq!(report(&[]).status(), Status::Ok);
        assert_eq!(report(&[("kv", Status::Ok), ("tools", Status::Degraded)]).status(), Status::Degraded);
        let r = report(&[("config", Status::Error), ("kv", Status::Ok), ("tools", Status::Degraded)]);
        assert_eq!(r.status(), Status::Error);
        assert_eq!(r.failing(), ["config", "tools"]);
    }

    #[test]
    fn http_status_follows_required_checks() {
        let degraded = report(&[("kv", Status::Ok), ("tools", Status::Degraded)]);
        assert_eq!(degraded.http_status(&[]), 200);
        assert_eq!(degraded.http_status(&["tools"]), 503);
        let error = report(&[("kv", Status::Error), ("tools", Status::Ok)]);
        assert_eq!(error.http_status(&[]), 503);
        assert_eq!(report(&[("kv", Status::Ok)]).http_status(&["tools"]), 200);
    }

    #[test]
    fn body_names_failing_checks() {
        let mut r = report(&[("kv", Status::Error)]);
        r.add("tools", Check::new(Status::Ok, 0.1234567, "fine").with("required", json!(false)));
        let body = r.to_json(2_000, true);
        assert_eq!(body["status"], "error");
        assert_eq!(body["cached"], true);
        assert_eq!(body["checked_at"], "1970-01-01T00:00:01.000Z");
        assert_eq!(body["timestamp"], "1970-01-01T00:00:02.000Z");
        assert_eq!(body["failing"], json!(["kv"]));
        assert_eq!(body["checks"]["tools"]["latency_ms"], 0.123);
        assert_eq!(body["checks"]["tools"]["required"], false);
        assert_eq!(body["checks"]["kv"]["message"], "m");
    }

    #[test]
    fn cache_record_round_trips() {
        let mut r = report(&[("kv", Status::Ok)]);
        r.add(
            "tools",
            tools_check(
                &[ToolProbe { component: "x".into(), latency_ms: 2.0, outcome: Err("down".into()), breaker: None }],
                false,
                3.0,
            ),
        );
        let decoded = Report::decode_cache(&r.encode_cache()).unwrap();
        assert_eq!(decoded, r);
        assert_eq!(Report::decode_cache(b"not json"), None);
        assert_eq!(Report::decode_cache(br#"{"v":2,"id":"a","checked_at_ms":1,"checks":{}}"#), None);
        assert_eq!(
            Report::decode_cache(
                br#"{"v":1,"id":"a","checked_at_ms":1,"checks":{"kv":{"status":"meh","latency_ms":1,"message":""}}}"#
            ),
            None
        );
    }

    #[test]
    fn freshness() {
        let r = Report::new("a", 10_000);
        assert!(r.fresh(10_000, 2000));
        assert!(r.fresh(11_999, 2000));
        assert!(!r.fresh(12_000, 2000));
        assert!(r.fresh(9_500, 2000), "a little clock skew is tolerated");
        assert!(!r.fresh(10_000, 0), "ttl 0 disables the cache");
    }

    #[test]
    fn fresh_query() {
        for q in ["fresh=1", "fresh", "a=b&fresh=true", "fresh=yes&x"] {
            assert!(wants_fresh(q), "{q}");
        }
        for q in ["", "fresh=0", "fresh=false", "refresh=1", "fresh1=1"] {
            assert!(!wants_fresh(q), "{q}");
        }
    }

    #[test]
    fn started_at_record() {
        assert_eq!(decode_started_at(&encode_started_at(1_795_428_000_123)), Some(1_795_428_000_123));
        assert_eq!(decode_started_at(b" 42\n"), Some(42));
        assert_eq!(decode_started_at(b"soon"), None);
        assert_eq!(decode_started_at(&[0xff]), None);
    }

    use crate::config::load::tests::lookup;

    #[test]
    fn config_check_names_every_variable() {
        let loaded = load_config(VarSet::ALL, lookup(&[("tool_components", "a,b")]));
        assert!(loaded.problems.is_empty());
        assert!(loaded.variables_read >= 17, "{}", loaded.variables_read);
        let ok = config_check(&loaded, 0.5);
        assert_eq!(ok.status, Status::Ok);
        assert!(ok.message.contains("variables parse"));

        let loaded = load_config(
            VarSet::ALL,
            lookup(&[
                ("tool_timeout_ms", "soon"),
                ("tool_components", "calc,Bad,Worse"),
                ("ready_cache_ttl_ms", "!"),
                ("metrics_max_series_per_metric", "4"),
            ]),
        );
        // The good variables still count; the bad ones fall back to defaults.
        assert_eq!(loaded.config.metrics_max_series_per_metric, 4);
        assert_eq!(loaded.config.tool_timeout, std::time::Duration::from_secs(30));
        assert_eq!(loaded.config.ready_cache_ttl, std::time::Duration::from_millis(2000));
        let bad = config_check(&loaded, 0.5);
        assert_eq!(bad.status, Status::Error);
        assert!(bad.message.contains("variable 'tool_timeout_ms': \"soon\" is not a whole number"), "{}", bad.message);
        assert!(bad.message.contains("variable 'ready_cache_ttl_ms': provider down"), "{}", bad.message);
        assert_eq!(bad.details["variables"], json!(["ready_cache_ttl_ms", "tool_timeout_ms", "tool_components"]));
    }

    #[test]
    fn config_check_counts_the_variables_read() {
        let reads = VarSet::of(&[Var::ToolTimeoutMs, Var::ApiKeys]);
        assert_eq!(config_check(&load_config(reads, |_| Ok(None)), 0.1).message, "all 2 variables parse");
    }

    #[test]
    fn tool_replies_are_judged_like_the_gateway() {
        assert_eq!(classify_tool_reply(200, false, br#"[{"name":"a"},{"name":"b","inputSchema":{}}]"#), Ok(2));
        assert!(classify_tool_reply(500, false, b"[]").unwrap_err().contains("HTTP 500"));
        assert!(classify_tool_reply(200, true, b"[]").unwrap_err().contains("too large"));
        assert!(classify_tool_reply(200, false, b"{}").unwrap_err().contains("not a JSON array"));
    }

    #[test]
    fn tools_check_degrades_and_names_components() {
        let probes = vec![
            ToolProbe { component: "calc".into(), latency_ms: 1.5, outcome: Ok(2), breaker: Some("open") },
            ToolProbe {
                component: "ghost".into(),
                latency_ms: 0.2,
                outcome: Err("destination-not-found".into()),
                breaker: None,
            },
        ];
        let check = tools_check(&probes, true, 2.0);
        assert_eq!(check.status, Status::Degraded);
        assert!(
            check.message.contains("1 of 2") && check.message.contains("ghost: destination-not-found"),
            "{}",
            check.message
        );
        let json = check.to_json();
        assert_eq!(json["required"], true);
        assert_eq!(json["components"]["calc"]["status"], "ok");
        assert_eq!(json["components"]["calc"]["tools"], 2);
        assert_eq!(json["components"]["calc"]["breaker"], "open", "named, not judged");
        assert!(json["components"]["ghost"].get("breaker").is_none());
        assert_eq!(json["components"]["ghost"]["status"], "error");
        assert_eq!(tools_check(&probes[..1], false, 1.0).status, Status::Ok);
        assert_eq!(tools_check(&[], false, 0.0).status, Status::Ok);
    }

    #[test]
    fn figures_sum_the_metrics() {
        let mut rec = Recorder::new();
        rec.inc(&catalog::HTTP_REQUESTS_TOTAL, &["/mcp", "POST", "200"], 5);
        rec.inc(&catalog::HTTP_REQUESTS_TOTAL, &["/mcp", "POST", "502"], 2);
        rec.inc(&catalog::HTTP_REQUESTS_TOTAL, &["/mcp", "POST", "404"], 1);
        rec.inc(&catalog::MCP_REQUESTS_TOTAL, &["tools/call", "2026-07-28", "success"], 3);
        rec.inc(&catalog::MCP_REQUESTS_TOTAL, &["tools/call", "2026-07-28", "error"], 1);
        rec.inc(&catalog::TOOL_CALLS_TOTAL, &["word_count", "text-tools", "success"], 2);
        rec.inc(&catalog::TOOL_CALLS_TOTAL, &["sha256", "text-tools", "error"], 1);
        rec.inc(&catalog::TOOL_CALLS_TOTAL, &["slow", "faults", "timeout"], 1);
        rec.inc(&catalog::TOOL_DISCOVERY_FAILURES_TOTAL, &["faults"], 4);
        rec.gauge_add(&catalog::SESSIONS_ACTIVE, &[], 3);
        rec.inc(&catalog::SESSIONS_CREATED_TOTAL, &[], 4);
        let mut a = Snapshot::new();
        a.apply(&rec, &Limits::default());
        let mut b = Snapshot::new();
        let mut rec = Recorder::new();
        rec.gauge_add(&catalog::SESSIONS_ACTIVE, &[], -1);
        b.apply(&rec, &Limits::default());
        a.merge(&b);
        a.set_gauge(&catalog::CIRCUIT_BREAKER_STATE, &["calc"], 1);
        let f = figures(&a, &["text-tools".to_string(), "calc".to_string()]);
        assert_eq!(f["gateway"]["http_requests"], 8);
        assert_eq!(f["gateway"]["http_errors"], 2);
        assert_eq!(f["gateway"]["mcp_requests"], 4);
        assert_eq!(f["gateway"]["mcp_errors"], 1);
        assert_eq!(f["gateway"]["sessions_active"], 2);
        assert_eq!(f["gateway"]["sessions_created"], 4);
        let text_tools = json!({"calls": 3, "errors": 1, "timeouts": 0, "circuit_open": 0, "breaker": "closed", "discovery_failures": 0});
        assert_eq!(f["tools"]["text-tools"], text_tools);
        assert_eq!(f["tools"]["calc"]["calls"], 0);
        assert_eq!(f["tools"]["calc"]["breaker"], "open");
        assert_eq!(f["tools"]["faults"]["timeouts"], 1);
        assert_eq!(f["tools"]["faults"]["discovery_failures"], 4);
        let empty = figures(&Snapshot::new(), &[]);
        assert_eq!(empty["gateway"]["http_requests"], 0);
    }
}
