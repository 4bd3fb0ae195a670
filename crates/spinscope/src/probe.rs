//! Health, startup and readiness probes, the pure part: the status model,
//! the readiness report and its JSON, the readiness cache record, the
//! recorded start time, and the per-part figures of `/health/detailed`.
//!
//! The `health` component (liveness, startup) and the `ready` component
//! (readiness, `/health`, `/health/detailed`) do the I/O and call in here.

use crate::config::{Config, Var, VarSet};
use crate::metrics::{catalog, Snapshot};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

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

/// A variable that could not be read or does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariableProblem {
    /// The variable name.
    pub variable: String,
    /// What is wrong with it.
    pub message: String,
}

impl std::fmt::Display for VariableProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "variable '{}': {}", self.variable, self.message)
    }
}

/// The configuration as the probes see it.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// Parsed; when some variables are wrong, those take their defaults so
    /// the other checks can still run.
    pub config: Config,
    /// Every variable that could not be read or parsed, in the order read.
    pub problems: Vec<VariableProblem>,
    /// How many distinct variables were read (the component's set).
    pub variables_read: usize,
}

/// Reads and parses the variables in `reads` (a component's set, see
/// [`crate::config::reads`]) through `lookup` (which fails when the
/// variable provider does), keeping every problem, not just the first.
/// `lookup` is never asked for a variable outside `reads`: those keep their
/// defaults.
pub fn load_config(reads: VarSet, lookup: impl Fn(&str) -> Result<Option<String>, String>) -> LoadedConfig {
    let lookup = |name: &str| match Var::from_name(name) {
        Some(var) if reads.contains(var) => lookup(name),
        _ => Ok(None),
    };
    let read = std::cell::RefCell::new(Vec::<String>::new());
    let mut problems: Vec<VariableProblem> = Vec::new();
    let unreadable = std::cell::RefCell::new(Vec::<VariableProblem>::new());
    let first = Config::from_lookup(|name| {
        if Var::from_name(name).is_none_or(|var| !reads.contains(var)) {
            return None;
        }
        if !read.borrow().iter().any(|n| n == name) {
            read.borrow_mut().push(name.to_string());
        }
        match lookup(name) {
            Ok(value) => value,
            Err(message) => {
                unreadable.borrow_mut().push(VariableProblem { variable: name.to_string(), message });
                None
            }
        }
    });
    problems.extend(unreadable.into_inner());
    let config = match first {
        Ok(config) => config,
        Err(errors) => {
            problems.extend(
                errors.iter().map(|e| VariableProblem { variable: e.variable.to_string(), message: e.message.clone() }),
            );
            let bad: Vec<&str> = errors.iter().map(|e| e.variable).collect();
            Config::from_lookup(|name| if bad.contains(&name) { None } else { lookup(name).ok().flatten() })
                .or_else(|_| Config::from_lookup(|_| None))
                .expect("the defaults parse")
        }
    };
    LoadedConfig { config, problems, variables_read: read.into_inner().len() }
}

/// The `config` check: an error naming every variable that is wrong.
pub fn config_check(loaded: &LoadedConfig, latency_ms: f64) -> Check {
    if loaded.problems.is_empty() {
        return Check::new(Status::Ok, latency_ms, format!("all {} variables parse", loaded.variables_read));
    }
    let mut names: Vec<&str> = Vec::new();
    for p in &loaded.problems {
        if !names.contains(&p.variable.as_str()) {
            names.push(&p.variable);
        }
    }
    let message = loaded.problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
    Check::new(Status::Error, latency_ms, message).with("variables", json!(names))
}

/// What one tool component's metadata request came to.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolProbe {
    /// The component id.
    pub component: String,
    /// How long its answer took, in milliseconds.
    pub latency_ms: f64,
    /// The number of tools it lists, or why it is not ready.
    pub outcome: Result<usize, String>,
}

/// Judges a metadata reply (`GET /` of a tool component) the way the
/// gateway will use it: HTTP 200 with a JSON array of tools.
pub fn classify_tool_reply(status: u16, truncated: bool, body: &[u8]) -> Result<usize, String> {
    if status != 200 {
        return Err(format!("metadata request answered HTTP {status}"));
    }
    if truncated {
        return Err("tool list too large".into());
    }
    serde_json::from_slice::<Vec<crate::mcp::Tool>>(body)
        .map(|tools| tools.len())
        .map_err(|e| format!("tool list is not a JSON array of tools: {e}"))
}

/// The `tools` check: `degraded` when any component is not ready, with
/// each component's own status, latency and message under `components`.
pub fn tools_check(probes: &[ToolProbe], required: bool, latency_ms: f64) -> Check {
    let mut components = Map::new();
    let mut down = Vec::new();
    for probe in probes {
        let entry = match &probe.outcome {
            Ok(tools) => json!({
                "status": Status::Ok.as_str(),
                "latency_ms": round_ms(probe.latency_ms),
                "message": format!("lists {tools} tools"),
                "tools": tools,
            }),
            Err(why) => {
                down.push(probe.component.as_str());
                json!({
                    "status": Status::Error.as_str(),
                    "latency_ms": round_ms(probe.latency_ms),
                    "message": why,
                })
            }
        };
        components.insert(probe.component.clone(), entry);
    }
    let (status, message) = if probes.is_empty() {
        (Status::Ok, "no tool components configured".to_string())
    } else if down.is_empty() {
        (Status::Ok, format!("all {} tool components answer", probes.len()))
    } else {
        let reasons: Vec<String> = probes
            .iter()
            .filter_map(|p| p.outcome.as_ref().err().map(|why| format!("{}: {why}", p.component)))
            .collect();
        (
            Status::Degraded,
            format!("{} of {} tool components not ready: {}", down.len(), probes.len(), reasons.join("; ")),
        )
    };
    Check::new(status, latency_ms, message)
        .with("required", json!(required))
        .with("components", Value::Object(components))
}

/// A readiness report: the checks of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Random id of the run, so a cached copy can be told from a new run.
    pub id: String,
    /// Unix milliseconds when the run started.
    pub checked_at_ms: u64,
    /// The checks by name ([`CHECK_CONFIG`], [`CHECK_KV`], [`CHECK_TOOLS`]).
    pub checks: BTreeMap<String, Check>,
}

/// Version of the cache record layout.
const CACHE_VERSION: u64 = 1;

impl Report {
    /// An empty report of run `id`, started at `checked_at_ms`.
    pub fn new(id: impl Into<String>, checked_at_ms: u64) -> Report {
        Report { id: id.into(), checked_at_ms, checks: BTreeMap::new() }
    }

    /// Adds (or replaces) the check `name`.
    pub fn add(&mut self, name: &str, check: Check) {
        self.checks.insert(name.to_string(), check);
    }

    /// The worst status of the checks (`ok` when there are none).
    pub fn status(&self) -> Status {
        self.checks.values().map(|c| c.status).max().unwrap_or(Status::Ok)
    }

    /// Names of the checks that are not `ok`, in name order.
    pub fn failing(&self) -> Vec<&str> {
        self.checks.iter().filter(|(_, c)| c.status != Status::Ok).map(|(n, _)| n.as_str()).collect()
    }

    /// 200 or 503: `error` always fails; `degraded` fails only when the
    /// degraded check is in `required` (e.g. `tools` with `tools_required`).
    pub fn http_status(&self, required: &[&str]) -> u16 {
        let fails = self.checks.iter().any(|(name, c)| match c.status {
            Status::Ok => false,
            Status::Error => true,
            Status::Degraded => required.contains(&name.as_str()),
        });
        if fails {
            503
        } else {
            200
        }
    }

    /// `{name: check JSON}`.
    pub fn checks_json(&self) -> Value {
        Value::Object(self.checks.iter().map(|(n, c)| (n.clone(), c.to_json())).collect())
    }

    /// `{name: status}`, for the `/health` summary.
    pub fn statuses_json(&self) -> Value {
        Value::Object(self.checks.iter().map(|(n, c)| (n.clone(), c.status.as_str().into())).collect())
    }

    /// The readiness body: `{"status","timestamp","checked_at","cached",
    /// "check_id","failing","checks"}` (`now_ms` is the time of the answer).
    pub fn to_json(&self, now_ms: u64, cached: bool) -> Value {
        json!({
            "status": self.status().as_str(),
            "timestamp": crate::log::rfc3339_ms(now_ms),
            "checked_at": crate::log::rfc3339_ms(self.checked_at_ms),
            "cached": cached,
            "check_id": self.id,
            "failing": self.failing(),
            "checks": self.checks_json(),
        })
    }

    /// Whether a report checked at `checked_at_ms` may still be served at
    /// `now_ms`. Clocks of several hosts sharing a store may disagree a
    /// little, so the distance counts either way. A TTL of 0 disables it.
    pub fn fresh(&self, now_ms: u64, ttl_ms: u64) -> bool {
        ttl_ms > 0 && now_ms.abs_diff(self.checked_at_ms) < ttl_ms
    }

    /// The cache record (`keys::READY_CACHE`): `{"v":1,"id","checked_at_ms","checks"}`.
    pub fn encode_cache(&self) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "v": CACHE_VERSION,
            "id": self.id,
            "checked_at_ms": self.checked_at_ms,
            "checks": self.checks_json(),
        }))
        .expect("report serializes")
    }

    /// Reads a cache record; anything unreadable or of another version is
    /// `None` (a cache miss).
    pub fn decode_cache(bytes: &[u8]) -> Option<Report> {
        let doc: Value = serde_json::from_slice(bytes).ok()?;
        if doc.get("v")?.as_u64()? != CACHE_VERSION {
            return None;
        }
        let id = doc.get("id")?.as_str()?.to_string();
        let checked_at_ms = doc.get("checked_at_ms")?.as_u64()?;
        let checks = doc
            .get("checks")?
            .as_object()?
            .iter()
            .map(|(n, c)| Some((n.clone(), Check::from_json(c)?)))
            .collect::<Option<BTreeMap<_, _>>>()?;
        Some(Report { id, checked_at_ms, checks })
    }
}

/// Whether the query string asks to bypass the readiness cache:
/// `fresh`, `fresh=1`, `fresh=true` or `fresh=yes`.
pub fn wants_fresh(query: &str) -> bool {
    query.split('&').any(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        name == "fresh" && matches!(value, "" | "1" | "true" | "yes")
    })
}

/// The start-time record (`keys::STARTED_AT`): unix ms as decimal text.
pub fn encode_started_at(unix_ms: u64) -> Vec<u8> {
    unix_ms.to_string().into_bytes()
}

/// Reads a start-time record written by [`encode_started_at`].
pub fn decode_started_at(bytes: &[u8]) -> Option<u64> {
    std::str::from_utf8(bytes).ok()?.trim().parse().ok()
}

/// Per-part figures of `/health/detailed` from the merged metrics shards:
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
    // mcp_requests_total{method, outcome}
    let (mut mcp_requests, mut mcp_errors) = (0u64, 0u64);
    for (labels, value) in snapshot.series(&catalog::MCP_REQUESTS_TOTAL) {
        let n = counter(value);
        mcp_requests += n;
        if labels.get(1).map(String::as_str) == Some("error") {
            mcp_errors += n;
        }
    }
    // tool_calls_total{tool, component, outcome}
    let mut tools: BTreeMap<String, [u64; 3]> =
        tool_components.iter().map(|c| (c.clone(), [0; 3])).collect();
    for (labels, value) in snapshot.series(&catalog::TOOL_CALLS_TOTAL) {
        let (Some(component), Some(outcome)) = (labels.get(1), labels.get(2)) else { continue };
        let entry = tools.entry(component.clone()).or_default();
        let n = counter(value);
        entry[0] += n;
        match outcome.as_str() {
            "error" => entry[1] += n,
            "timeout" => entry[2] += n,
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
        .map(|(component, [calls, errors, timeouts])| {
            let failures = discovery_failures.get(&component).copied().unwrap_or(0);
            (
                component,
                json!({"calls": calls, "errors": errors, "timeouts": timeouts, "discovery_failures": failures}),
            )
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

#[cfg(test)]
mod tests {
    use super::*;
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
        r.add("tools", tools_check(&[ToolProbe { component: "x".into(), latency_ms: 2.0, outcome: Err("down".into()) }], false, 3.0));
        let decoded = Report::decode_cache(&r.encode_cache()).unwrap();
        assert_eq!(decoded, r);
        assert_eq!(Report::decode_cache(b"not json"), None);
        assert_eq!(Report::decode_cache(br#"{"v":2,"id":"a","checked_at_ms":1,"checks":{}}"#), None);
        assert_eq!(Report::decode_cache(br#"{"v":1,"id":"a","checked_at_ms":1,"checks":{"kv":{"status":"meh","latency_ms":1,"message":""}}}"#), None);
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

    fn lookup(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Result<Option<String>, String> {
        move |name| match pairs.iter().find(|(k, _)| *k == name) {
            Some((_, "!")) => Err("provider down".to_string()),
            Some((_, v)) => Ok(Some(v.to_string())),
            None => Ok(None),
        }
    }

    #[test]
    fn config_check_names_every_variable() {
        let loaded = load_config(VarSet::ALL, lookup(&[("tool_components", "a,b")]));
        assert!(loaded.problems.is_empty());
        assert!(loaded.variables_read >= 17, "{}", loaded.variables_read);
        let ok = config_check(&loaded, 0.5);
        assert_eq!(ok.status, Status::Ok);
        assert!(ok.message.contains("variables parse"));

        let loaded = load_config(VarSet::ALL, lookup(&[
            ("tool_timeout_ms", "soon"),
            ("tool_components", "calc,Bad,Worse"),
            ("ready_cache_ttl_ms", "!"),
            ("metrics_shards", "4"),
        ]));
        // The good variables still count; the bad ones fall back to defaults.
        assert_eq!(loaded.config.metrics_shards, 4);
        assert_eq!(loaded.config.tool_timeout, std::time::Duration::from_secs(30));
        assert_eq!(loaded.config.ready_cache_ttl, std::time::Duration::from_millis(2000));
        let bad = config_check(&loaded, 0.5);
        assert_eq!(bad.status, Status::Error);
        assert!(bad.message.contains("variable 'tool_timeout_ms': \"soon\" is not a whole number"), "{}", bad.message);
        assert!(bad.message.contains("variable 'ready_cache_ttl_ms': provider down"), "{}", bad.message);
        assert_eq!(bad.details["variables"], json!(["ready_cache_ttl_ms", "tool_timeout_ms", "tool_components"]));
    }

    #[test]
    fn only_the_declared_variables_are_read() {
        let asked = std::cell::RefCell::new(Vec::<String>::new());
        let reads = VarSet::of(&[Var::ToolTimeoutMs, Var::ApiKeys]);
        let loaded = load_config(reads, |name| {
            asked.borrow_mut().push(name.to_string());
            Ok(Some(match name {
                "tool_timeout_ms" => "5000".to_string(),
                _ => "not valid anywhere".to_string(),
            }))
        });
        let wrong: Vec<&str> = loaded.problems.iter().map(|p| p.variable.as_str()).collect();
        assert_eq!(wrong, ["api_keys"], "only the declared variables are parsed");
        assert_eq!(loaded.variables_read, 2);
        assert_eq!(loaded.config.tool_timeout, std::time::Duration::from_secs(5));
        // Undeclared: the default, never asked for.
        assert_eq!(loaded.config.metrics_shards, 8);
        let mut asked = asked.into_inner();
        asked.sort();
        asked.dedup();
        assert_eq!(asked, ["api_keys", "tool_timeout_ms"]);
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
            ToolProbe { component: "calc".into(), latency_ms: 1.5, outcome: Ok(2) },
            ToolProbe { component: "ghost".into(), latency_ms: 0.2, outcome: Err("destination-not-found".into()) },
        ];
        let check = tools_check(&probes, true, 2.0);
        assert_eq!(check.status, Status::Degraded);
        assert!(check.message.contains("1 of 2") && check.message.contains("ghost: destination-not-found"), "{}", check.message);
        let json = check.to_json();
        assert_eq!(json["required"], true);
        assert_eq!(json["components"]["calc"]["status"], "ok");
        assert_eq!(json["components"]["calc"]["tools"], 2);
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
        rec.inc(&catalog::MCP_REQUESTS_TOTAL, &["tools/call", "success"], 3);
        rec.inc(&catalog::MCP_REQUESTS_TOTAL, &["tools/call", "error"], 1);
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
        let f = figures(&a, &["text-tools".to_string(), "calc".to_string()]);
        assert_eq!(f["gateway"]["http_requests"], 8);
        assert_eq!(f["gateway"]["http_errors"], 2);
        assert_eq!(f["gateway"]["mcp_requests"], 4);
        assert_eq!(f["gateway"]["mcp_errors"], 1);
        assert_eq!(f["gateway"]["sessions_active"], 2);
        assert_eq!(f["gateway"]["sessions_created"], 4);
        assert_eq!(f["tools"]["text-tools"], json!({"calls": 3, "errors": 1, "timeouts": 0, "discovery_failures": 0}));
        assert_eq!(f["tools"]["calc"]["calls"], 0);
        assert_eq!(f["tools"]["faults"]["timeouts"], 1);
        assert_eq!(f["tools"]["faults"]["discovery_failures"], 4);
        let empty = figures(&Snapshot::new(), &[]);
        assert_eq!(empty["gateway"]["http_requests"], 0);
    }
}
