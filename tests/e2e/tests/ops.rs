//! The operations kit in `ops/`, checked mechanically and against a real
//! Prometheus: every metric name and label in the dashboard and the rules
//! exists in the catalog, promtool accepts the configs and the alert and SLO
//! unit tests pass, and Debian's `prometheus`, run with the shipped scrape
//! config against the app on loopback, stores exactly the calls made and
//! evaluates every rule (the SLO ones on a run with failures in it).

use serde_json::{json, Value};
use spinscope::auth::hash_key;
use spinscope::metrics::catalog::{self, Kind};
use spinscope_e2e::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use yaml_rust2::YamlLoader;

fn ops(path: &str) -> PathBuf {
    workspace_root().join("ops").join(path)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The rule files Prometheus loads (`rule_files` of prometheus.yml): the
/// shared recording rules, the alerts, and the SLO rules rendered by
/// `spinscope-slo` (docs/slo.md).
const RULE_FILES: [&str; 3] = ["rules.yml", "alerts.yml", "slo.yml"];

/// Every recording rule's name, in every rule file (a record's name has a
/// colon, an alert's none).
fn recorded() -> BTreeSet<String> {
    RULE_FILES
        .iter()
        .flat_map(|f| rule_exprs(&format!("prometheus/{f}")))
        .map(|(n, _)| n)
        .filter(|n| n.contains(':'))
        .collect()
}

/// Every alert's name, in every rule file.
fn alert_names() -> BTreeSet<String> {
    RULE_FILES.iter().flat_map(|f| alert_rules(&format!("prometheus/{f}"))).map(|(n, _)| n).collect()
}

/// The alert rules of a rule file, with their names.
fn alert_rules(file: &str) -> Vec<(String, yaml_rust2::Yaml)> {
    let docs = YamlLoader::load_from_str(&read(&ops(file))).unwrap();
    let mut out = Vec::new();
    for group in docs[0]["groups"].as_vec().expect("groups") {
        for rule in group["rules"].as_vec().expect("rules") {
            if let Some(name) = rule["alert"].as_str() {
                out.push((name.to_string(), rule.clone()));
            }
        }
    }
    out
}

/// Every `expr` of a rule file, with the rule's name (`record` or `alert`).
fn rule_exprs(file: &str) -> Vec<(String, String)> {
    let docs = YamlLoader::load_from_str(&read(&ops(file))).unwrap();
    let mut out = Vec::new();
    for group in docs[0]["groups"].as_vec().expect("groups") {
        for rule in group["rules"].as_vec().expect("rules") {
            let name = rule["record"].as_str().or(rule["alert"].as_str()).expect("record or alert");
            out.push((name.to_string(), rule["expr"].as_str().expect("expr").to_string()));
        }
    }
    out
}

/// Every query of the dashboard, with its panel's title.
fn dashboard_exprs() -> Vec<(String, String)> {
    let dash: Value = serde_json::from_str(&read(&ops("grafana/spinscope.json"))).unwrap();
    let mut out = Vec::new();
    for panel in dash["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            out.push((panel["title"].as_str().unwrap().to_string(), target["expr"].as_str().unwrap().to_string()));
        }
    }
    for var in dash["templating"]["list"].as_array().unwrap() {
        if let Some(q) = var["query"]["query"].as_str() {
            out.push((format!("variable {}", var["name"]), q.to_string()));
        }
    }
    out
}

/// Grafana's variables, as the dashboard would fill them in for one app.
fn grafana_to_promql(expr: &str) -> String {
    expr.replace("$__rate_interval", "1m").replace("$job", "spinscope").replace("$tool", ".*")
}

/// The labels a series name may carry: the catalog's, `le` on buckets, and
/// the target labels Prometheus adds.
fn labels_of(series: &str) -> Option<BTreeSet<String>> {
    let name = series.strip_prefix("spinscope_")?;
    let mut labels: BTreeSet<String> = ["job", "instance"].iter().map(|s| s.to_string()).collect();
    if let Some(def) = catalog::by_name(name) {
        if def.kind != Kind::Histogram {
            labels.extend(def.labels.iter().map(|s| s.to_string()));
            return Some(labels);
        }
    }
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(def) = name.strip_suffix(suffix).and_then(catalog::by_name) {
            if def.kind == Kind::Histogram {
                labels.extend(def.labels.iter().map(|s| s.to_string()));
                if suffix == "_bucket" {
                    labels.insert("le".into());
                }
                return Some(labels);
            }
        }
    }
    None
}

fn is_number(s: &str) -> bool {
    s.trim().parse::<f64>().is_ok_and(f64::is_finite)
}

fn identifiers(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_string = false;
    for c in expr.chars() {
        if c == '"' {
            in_string = !in_string;
        }
        if !in_string && (c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            cur.push(c);
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Checks one expression: every `spinscope_…` name is a catalog series,
/// every `spinscope:…` name a recording rule, and every label used in a
/// selector or in `by (…)` belongs to a metric of the expression. A
/// constant (`vector(0.999)`, an SLO's objective) names no metric.
fn check_expr(context: &str, expr: &str, recorded: &BTreeSet<String>) -> Result<(), String> {
    let mut allowed: BTreeSet<String> = BTreeSet::new();
    let mut metrics = 0;
    // Recording rules keep their `by` labels (checked at their definition);
    // `up` and `probe_success` are Prometheus' own: no label check on those.
    let mut opaque = false;
    for id in identifiers(expr) {
        if id.starts_with("spinscope_") {
            let labels = labels_of(&id).ok_or_else(|| format!("{context}: `{id}` is not in the catalog: {expr}"))?;
            allowed.extend(labels);
            metrics += 1;
        } else if id.starts_with("spinscope:") {
            if !recorded.contains(&id) {
                return Err(format!("{context}: `{id}` is not a recording rule in ops/prometheus/*.yml"));
            }
            opaque = true;
        } else if id == "up" || id == "probe_success" {
            opaque = true;
        }
    }
    if opaque {
        return Ok(());
    }
    if metrics == 0 && expr.trim().strip_prefix("vector(").and_then(|e| e.strip_suffix(')')).is_some_and(is_number) {
        return Ok(());
    }
    if metrics == 0 {
        return Err(format!("{context}: no spinscope metric in `{expr}`"));
    }
    // Label names: `name=`, `name=~`, `name!=`, `name!~` in selectors, and `by (a, b)`.
    let mut used = Vec::new();
    for selector in expr.split('{').skip(1) {
        let body = selector.split('}').next().unwrap();
        for matcher in body.split(',') {
            let name = matcher.split(['=', '!']).next().unwrap().trim();
            if !name.is_empty() {
                used.push(name.to_string());
            }
        }
    }
    for part in expr.split("by (").skip(1) {
        used.extend(part.split(')').next().unwrap().split(',').map(|s| s.trim().to_string()));
    }
    for label in used {
        if !allowed.contains(&label) {
            return Err(format!("{context}: label `{label}` is on none of its metrics: {expr}"));
        }
    }
    Ok(())
}

#[test]
fn every_metric_and_label_in_the_dashboard_and_rules_is_in_the_catalog() {
    let recorded = recorded();
    assert!(recorded.contains("spinscope:slo_errors:ratio_rate5m") && recorded.contains("spinscope:tool_calls:rate5m"));
    let mut checked = 0;
    let mut errors = Vec::new();
    for (name, expr) in RULE_FILES.iter().flat_map(|f| rule_exprs(&format!("prometheus/{f}"))) {
        errors.extend(check_expr(&name, &expr, &recorded).err());
        checked += 1;
    }
    for (title, expr) in dashboard_exprs() {
        errors.extend(check_expr(&title, &expr, &recorded).err());
        checked += 1;
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    assert!(checked > 30, "only {checked} expressions found");

    // The checker itself catches what it should.
    assert!(check_expr("t", "rate(spinscope_tool_calls[5m])", &recorded).is_err());
    assert!(check_expr("t", "sum by (route) (rate(spinscope_tool_calls_total[5m]))", &recorded).is_err());
    assert!(check_expr("t", "spinscope_tool_call_duration_seconds_bucket{le=\"1\", tool=\"x\"}", &recorded).is_ok());
    assert!(check_expr("t", "spinscope_sessions_active_bucket", &recorded).is_err());
    assert!(check_expr("t", "spinscope:nope > 1", &recorded).is_err());
    assert!(check_expr("t", "vector(0.999)", &recorded).is_ok());
    assert!(check_expr("t", "vector(time())", &recorded).is_err());
}

#[test]
fn the_dashboard_covers_what_an_operator_asks_first() {
    let all: Vec<String> = dashboard_exprs().into_iter().map(|(_, e)| e).collect();
    let uses = |needle: &str| all.iter().any(|e| e.contains(needle));
    for needle in [
        "spinscope_http_requests_total",
        "status=~\"4..|5..\"",
        "spinscope_tool_calls_total",
        "histogram_quantile(0.95, sum by (tool, le) (rate(spinscope_tool_call_duration_seconds_bucket",
        "spinscope_rejected_total",
        "spinscope_in_flight_requests",
        "spinscope_sessions_active",
        "max by (component) (spinscope_circuit_breaker_state",
        "spinscope_circuit_breaker_transitions_total",
        "histogram_quantile(0.99, sum by (component, le) (rate(spinscope_component_memory_bytes_bucket",
        "spinscope:slo_objective:ratio",
        "spinscope:slo_error_budget_remaining:ratio_30d",
        "spinscope:slo_errors:ratio_rate1h",
    ] {
        assert!(uses(needle), "no dashboard query uses {needle}");
    }
}

fn promtool(args: &[&str]) {
    let out = Command::new("promtool")
        .args(args)
        .output()
        .expect("promtool not found: `make test` installs Debian's prometheus package");
    assert!(
        out.status.success(),
        "promtool {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn promtool_accepts_the_rules_the_configs_and_the_alert_unit_tests() {
    let dir = ops("prometheus");
    let rules: Vec<String> = RULE_FILES.iter().map(|f| dir.join(f).display().to_string()).collect();
    let mut check = vec!["check", "rules"];
    check.extend(rules.iter().map(String::as_str));
    promtool(&check);
    promtool(&["test", "rules", &dir.join("tests/alerts_test.yml").display().to_string()]);
    promtool(&["test", "rules", &dir.join("tests/slo_test.yml").display().to_string()]);
    // The shipped config loads every rule file, and nothing else.
    for config in ["prometheus.yml", "prometheus-kubernetes.yml"] {
        let docs = YamlLoader::load_from_str(&read(&dir.join(config))).unwrap();
        let loaded: Vec<&str> = docs[0]["rule_files"]
            .as_vec()
            .expect("rule_files")
            .iter()
            .map(|f| f.as_str().unwrap().rsplit('/').next().unwrap())
            .collect();
        assert_eq!(loaded, RULE_FILES, "rule_files of {config}");
    }
    promtool(&["check", "config", &dir.join("prometheus.yml").display().to_string()]);

    // The Kubernetes config names in-cluster paths: point them at the repo's
    // rule files and a key file so that promtool can follow them.
    let tmp = temp_dir("promtool");
    let key = tmp.join("key");
    std::fs::write(&key, "a-key").unwrap();
    let k8s = read(&dir.join("prometheus-kubernetes.yml"))
        .replace("/etc/prometheus/spinscope/", &format!("{}/", dir.display()))
        .replace("/etc/prometheus/secrets/spinscope-scrape-key/key", &key.display().to_string());
    let k8s_path = tmp.join("prometheus-kubernetes.yml");
    std::fs::write(&k8s_path, k8s).unwrap();
    promtool(&["check", "config", &k8s_path.display().to_string()]);
    let _ = std::fs::remove_dir_all(tmp);
}

/// Debian's `prometheus`, serving on loopback with a throw-away data
/// directory; stopped and cleaned up on drop.
struct Prometheus {
    child: Child,
    url: String,
    dir: PathBuf,
}

impl Prometheus {
    /// The shipped `prometheus.yml` and rule files, pointed at `target` and
    /// sped up (scrapes and rule evaluations every second).
    fn start(target: &str, files: &[(&str, &str)], edit: impl Fn(String) -> String) -> Prometheus {
        let dir = temp_dir("prometheus");
        for (name, text) in files {
            std::fs::write(dir.join(name), text).unwrap();
        }
        let config = read(&ops("prometheus/prometheus.yml"))
            .replace("127.0.0.1:3000", target)
            .replace("scrape_interval: 15s", "scrape_interval: 1s")
            .replace("evaluation_interval: 15s", "evaluation_interval: 1s");
        std::fs::write(dir.join("prometheus.yml"), edit(config)).unwrap();
        for rules in RULE_FILES {
            let text = read(&ops("prometheus").join(rules)).replace("interval: 30s", "interval: 1s");
            std::fs::write(dir.join(rules), text).unwrap();
        }
        let port = free_port();
        let log = std::fs::File::create(dir.join("prometheus.log")).unwrap();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", dir.join("prometheus.yml").display()))
            .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .current_dir(&dir)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("prometheus not found: `make test` installs Debian's prometheus package");
        let prom = Prometheus { child, url: format!("http://127.0.0.1:{port}"), dir };
        prom.wait_for("Prometheus ready", || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
                && request("GET", &prom.api("/-/ready"), &[], None).status == 200
        });
        prom
    }

    fn api(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("prometheus.log")).unwrap_or_default()
    }

    fn wait_for(&self, what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}; prometheus log:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// An instant query; panics unless Prometheus answers `success`.
    fn query(&self, promql: &str) -> Vec<Value> {
        let url = format!("{}/api/v1/query?query={}", self.url, encode(promql));
        let reply = request("GET", &url, &[], None);
        let body = reply.json();
        assert_eq!(body["status"], "success", "query `{promql}` failed: {}", reply.body);
        body["data"]["result"].as_array().cloned().unwrap_or_default()
    }

    /// The value of a query that returns one series (0 when it returns none).
    fn scalar(&self, promql: &str) -> f64 {
        let result = self.query(promql);
        assert!(result.len() <= 1, "`{promql}` returned {} series", result.len());
        result.first().map_or(0.0, |s| s["value"][1].as_str().unwrap().parse().unwrap())
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn host_port(host: &Host) -> String {
    host.url("").trim_start_matches("http://").trim_end_matches('/').to_string()
}

#[test]
fn prometheus_stores_exactly_the_calls_made_and_loads_every_rule() {
    let host = HostBuilder::app(None)
        .var("tool_components", "text-tools,calc,faults")
        .var("max_request_bytes", "4096")
        // The three failing calls below open the `faults` breaker, so that
        // the breaker panels and alert see a transition.
        .var("breaker_failures", "3")
        .start();
    let prom = Prometheus::start(&host_port(&host), &[], |c| c);

    let (mut mcp, _) = Mcp::connect(&host);
    // Two rounds: `rate()` sees a counter increase only from a value it
    // scraped before, so the SLO ratios below need the tools' series to
    // exist in Prometheus before most of the calls are made.
    let total = "sum(spinscope_tool_calls_total{job=\"spinscope\"})";
    let call_failing = |mcp: &mut Mcp| {
        let result = mcp.call_tool("failing", json!({}));
        assert_eq!(result["isError"], true, "{result}");
    };
    mcp.call_tool("word_count", json!({"text": "call number 0"}));
    call_failing(&mut mcp);
    prom.wait_for("the first round in Prometheus", || prom.scalar(total) == 2.0);
    for i in 1..7 {
        mcp.call_tool("word_count", json!({"text": format!("call number {i}")}));
    }
    for _ in 0..2 {
        call_failing(&mut mcp);
    }
    mcp.call_tool("calculate", json!({"expression": "6*7"}));
    let big = "x".repeat(5000);
    assert_eq!(mcp.post_raw(&big, &[]).status, 413);

    // Prometheus scrapes every second: wait until it has seen all 11 calls.
    prom.wait_for("11 tool calls in Prometheus", || prom.scalar(total) == 11.0);
    let by = |tool: &str, outcome: &str| {
        prom.scalar(&format!(
            "sum(spinscope_tool_calls_total{{job=\"spinscope\", tool=\"{tool}\", outcome=\"{outcome}\"}})"
        ))
    };
    assert_eq!(by("word_count", "success"), 7.0);
    assert_eq!(by("failing", "error"), 3.0);
    assert_eq!(by("calculate", "success"), 1.0);
    assert_eq!(prom.scalar("sum(spinscope_rejected_total{reason=\"payload\"})"), 1.0);
    assert_eq!(prom.scalar("sum(spinscope_sessions_created_total)"), 1.0);
    assert_eq!(prom.scalar("sum(spinscope_tool_call_duration_seconds_count{tool=\"word_count\"})"), 7.0);
    assert_eq!(prom.scalar("up{job=\"spinscope\"}"), 1.0);
    // The breaker gauge is there for every configured component; `faults`
    // opened on its third failure (half-open, 2, once its cool-down is over).
    assert_eq!(prom.scalar("spinscope_circuit_breaker_state{component=\"text-tools\"}"), 0.0);
    assert_eq!(prom.query("spinscope_circuit_breaker_state").len(), 3);
    assert!(prom.scalar("spinscope_circuit_breaker_state{component=\"faults\"}") >= 1.0);
    assert_eq!(prom.scalar("sum(spinscope_circuit_breaker_transitions_total{component=\"faults\", to=\"open\"})"), 1.0);

    // Every rule of every file loads and evaluates without error.
    let rule_count: usize = RULE_FILES.iter().map(|f| rule_exprs(&format!("prometheus/{f}")).len()).sum();
    prom.wait_for("every rule evaluated", || {
        let rules = request("GET", &prom.api("/api/v1/rules"), &[], None).json();
        let all: Vec<&Value> =
            rules["data"]["groups"].as_array().unwrap().iter().flat_map(|g| g["rules"].as_array().unwrap()).collect();
        let errors: Vec<String> = all.iter().filter(|r| r["health"] == "err").map(|r| r.to_string()).collect();
        assert!(errors.is_empty(), "rules failing: {errors:?}");
        all.len() == rule_count && all.iter().all(|r| r["health"] == "ok")
    });
    // The open breaker makes its alert pending (it fires after 5 minutes).
    prom.wait_for("SpinscopeCircuitBreakerOpen pending for faults", || {
        let pending = "ALERTS{alertname=\"SpinscopeCircuitBreakerOpen\", alertstate=\"pending\"}";
        let alerts = prom.query(pending);
        alerts.len() == 1 && alerts[0]["metric"]["component"] == "faults"
    });
    // The recording rules produce series for what was called.
    prom.wait_for("the recording rules to see the calls", || {
        !prom.query("spinscope:tool_calls:rate5m{tool=\"failing\", outcome=\"error\"}").is_empty()
            && !prom.query("spinscope:tool_error_ratio:rate5m{tool=\"word_count\"}").is_empty()
            && !prom.query("spinscope:tool_error_ratio:rate5m{tool=\"failing\"}").is_empty()
    });
    // The SLO rules see the run: of the second round's calls in series
    // Prometheus had seen, 2 in 8 failed (the tool's own `isError` counts,
    // as outcome `error`; `calculate`'s one call is in a new series, whose
    // rate is 0), far over a 0.1% budget, so the fast burn is pending at once (it pages after 2
    // minutes); every call answered within 1 s, which the `le` matcher
    // finds whichever text format Prometheus scraped (OpenMetrics writes
    // `le="1.0"`).
    prom.wait_for("the SLO rules to see the failures", || {
        let ratio = |slo: &str| {
            prom.query(&format!("spinscope:slo_errors:ratio_rate5m{{job=\"spinscope\", slo=\"{slo}\"}}"))
                .first()
                .map(|s| s["value"][1].as_str().unwrap().parse::<f64>().unwrap())
        };
        matches!(ratio("availability"), Some(r) if r > 0.1 && r < 0.5)
            && ratio("latency") == Some(0.0)
            && prom.scalar("spinscope:slo_error_budget_remaining:ratio_30d{slo=\"availability\"}") < 0.0
            && prom.scalar("spinscope:slo_error_budget_remaining:ratio_30d{slo=\"latency\"}") == 1.0
    });
    prom.wait_for("SpinscopeAvailabilityBudgetBurnFast pending", || {
        let pending = "ALERTS{alertname=\"SpinscopeAvailabilityBudgetBurnFast\", alertstate=\"pending\"}";
        let alerts = prom.query(pending);
        alerts.len() == 1
            && alerts[0]["metric"]["severity"] == "critical"
            && alerts[0]["metric"]["slo"] == "availability"
    });
    assert!(prom.query("ALERTS{alertname=~\"SpinscopeLatencyBudgetBurn.*\"}").is_empty());

    // Every dashboard query runs, and each panel shows data after this traffic
    // (a second scrape is needed for rate()).
    std::thread::sleep(Duration::from_secs(2));
    let dash: Value = serde_json::from_str(&read(&ops("grafana/spinscope.json"))).unwrap();
    for panel in dash["panels"].as_array().unwrap() {
        let Some(targets) = panel["targets"].as_array() else { continue };
        let series: usize =
            targets.iter().map(|t| prom.query(&grafana_to_promql(t["expr"].as_str().unwrap())).len()).sum();
        assert!(series > 0, "panel {} shows no data", panel["title"]);
    }
    drop(prom);
}

#[test]
fn prometheus_scrapes_with_an_api_key_when_auth_is_on() {
    let key = "monitoring-key-0123456789abcdef";
    let host = HostBuilder::app(None)
        .var("tool_components", "text-tools,calc")
        .var("api_keys", &format!("monitoring:{}", hash_key(key)))
        .start();
    // The key file sits next to the config, as the comment in prometheus.yml says.
    let prom = Prometheus::start(&host_port(&host), &[("spinscope.key", key)], |config| {
        config
            .replace("    # authorization:", "    authorization:")
            .replace("    #   type: Bearer", "      type: Bearer")
            .replace("    #   credentials_file: spinscope.key", "      credentials_file: spinscope.key")
    });
    assert!(read(&prom.dir.join("prometheus.yml")).contains("\n    authorization:\n      type: Bearer\n"));

    // A client without a key is refused and counted; Prometheus, with it, is not.
    assert_eq!(host.post("/mcp", &[("content-type", "application/json")], "{}").status, 401);
    prom.wait_for("an authorized scrape", || {
        prom.scalar("up{job=\"spinscope\"}") == 1.0
            && prom.scalar("sum(spinscope_rejected_total{reason=\"missing_key\"})") == 1.0
    });
    drop(prom);
}

#[test]
fn every_alert_has_its_runbook_section_and_table_row() {
    let doc = read(&workspace_root().join("docs/operations.md"));
    let section = doc.split("\n## Alerts and what to do\n").nth(1).expect("an alerts section in docs/operations.md");
    let section = section.split("\n## ").next().unwrap();
    let mut alerts = 0;
    // alerts.yml has nothing but alerts; slo.yml has six among its records.
    assert_eq!(alert_rules("prometheus/alerts.yml").len(), rule_exprs("prometheus/alerts.yml").len());
    assert_eq!(alert_rules("prometheus/slo.yml").len(), 6, "the SLO alerts");
    for file in RULE_FILES {
        for (name, rule) in alert_rules(&format!("prometheus/{file}")) {
            let name = name.as_str();
            alerts += 1;
            let runbook = rule["annotations"]["runbook"].as_str().unwrap_or_else(|| panic!("{name}: no runbook"));
            assert_eq!(runbook, format!("docs/operations.md#{}", name.to_lowercase()), "{name}");
            assert!(section.contains(&format!("\n### {name}\n")), "{name}: no `### {name}` in docs/operations.md");
            let severity = rule["labels"]["severity"].as_str().unwrap_or_else(|| panic!("{name}: no severity"));
            assert!(
                section.contains(&format!("| `{name}` | {severity} |")),
                "{name}: no row `| `{name}` | {severity} |` in the alerts table of docs/operations.md"
            );
        }
    }
    assert_eq!(alerts, alert_names().len(), "an alert name used twice");
    assert_eq!(alerts, section.matches("\n### ").count(), "a runbook section without its alert");
}

/// The backticked names in the first column of the table under `heading`
/// in docs/operations.md.
fn documented_fields(heading: &str) -> BTreeSet<String> {
    let doc = read(&workspace_root().join("docs/operations.md"));
    let section = doc.split(heading).nth(1).unwrap_or_else(|| panic!("no {heading} in docs/operations.md"));
    let section = section.split("\n### ").next().unwrap().split("\n## ").next().unwrap();
    section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .flat_map(|l| {
            let cell = l.split('|').nth(1).unwrap();
            cell.split('`').skip(1).step_by(2).map(str::to_string).collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn the_log_reference_names_exactly_the_fields_the_gateway_writes() {
    let host = HostBuilder::app(None)
        .var("tool_components", "text-tools,calc,faults")
        .var("log_level", "debug")
        .var("tool_timeout_ms", "300")
        .start();
    let (mut mcp, _) = Mcp::connect(&host);
    mcp.call_tool("word_count", json!({"text": "hello world", "api_token": "s3cret-value"}));
    mcp.call_tool("failing", json!({}));
    mcp.call_tool("slow", json!({"ms": 2000}));

    // Five access lines (initialize, initialized, three calls), written
    // after each response, and the invocation lines.
    let lines = host.wait_for_logs(|lines| {
        lines.iter().filter(|l| l.contains(" dur_ms=")).count() >= 5
            && lines.iter().any(|l| l.contains("outcome=timeout"))
            && lines.iter().any(|l| l.contains("Tool invocation completed successfully"))
            && lines.iter().any(|l| l.contains("Tool invocation failed"))
    });
    let parsed: Vec<Vec<(String, String)>> = lines.iter().map(|l| spinscope_testkit::logfmt::parse_logfmt(l)).collect();
    type Fields = [(String, String)];
    let keys = |pick: &dyn Fn(&Fields) -> bool| -> BTreeSet<String> {
        parsed.iter().filter(|f| pick(f)).flat_map(|f| f.iter().map(|(k, _)| k.clone())).collect()
    };
    let has = |f: &[(String, String)], k: &str, v: &str| f.iter().any(|(a, b)| a == k && b == v);
    let access = keys(&|f| f.iter().any(|(k, _)| k == "dur_ms"));
    let invocation = keys(&|f| has(f, "target", "spinscope::invocation"));
    let shown = |pick: &dyn Fn(&str) -> bool| lines.iter().filter(|l| pick(l)).cloned().collect::<Vec<_>>().join("\n");
    assert_eq!(
        access,
        documented_fields("### Access log"),
        "access log fields vs docs/operations.md; access lines:\n{}",
        shown(&|l| l.contains("dur_ms="))
    );
    assert_eq!(
        invocation,
        documented_fields("### Invocation log"),
        "invocation log fields vs docs/operations.md; invocation lines:\n{}",
        shown(&|l| l.contains("spinscope::invocation"))
    );
    for msg in ["Tool invocation started", "Tool invocation completed successfully", "Tool invocation failed"] {
        assert!(parsed.iter().any(|f| has(f, "msg", msg)), "no `{msg}` line");
    }
    assert!(parsed.iter().any(|f| has(f, "outcome", "timeout")), "no timeout line");
    assert!(
        !host.stdout.text().contains("s3cret-value") && !host.stderr.text().contains("s3cret-value"),
        "a secret argument reached the log"
    );
}
