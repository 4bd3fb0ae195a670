//! The status page in a real browser: headless Chromium (Debian's
//! `chromium`, installed by `make test`) loads `/status` from the app, runs
//! its script under the page's Content-Security-Policy, and the DOM it
//! leaves must show the figures `/metrics?format=json` and
//! `/health/detailed` report, in open mode and under API keys. The open-mode
//! test also saves screenshots in target/ (docs/status.png is a copy).

use serde_json::{json, Value};
use spinscope::auth::hash_key;
use spinscope_e2e::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const KEY: &str = "key-for-acme-0123456789";

/// Chromium: `CHROMIUM` when set, else `chromium` on `PATH`. Missing, the
/// test fails: a browser test that skips itself would pass without testing.
fn chromium() -> PathBuf {
    if let Some(bin) = std::env::var_os("CHROMIUM").filter(|b| !b.is_empty()) {
        let bin = PathBuf::from(bin);
        assert!(bin.is_file(), "CHROMIUM={}: no such file", bin.display());
        return bin;
    }
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join("chromium"))
        .find(|p| p.is_file())
        .expect("chromium not found (set CHROMIUM or put it on PATH): `make test` installs it via scripts/install-deps.sh (apt-get install chromium)")
}

/// Runs headless Chromium on `url` with a fresh profile and `args`, letting
/// the page run for `virtual_ms` of virtual time (polls every 5 s; time
/// stands still while a fetch is pending, so slow answers do not eat it);
/// returns its stdout (the DOM with `--dump-dom`).
fn browse(url: &str, virtual_ms: u32, args: &[&str]) -> String {
    let profile = temp_dir("chromium");
    let mut cmd = Command::new(chromium());
    cmd.args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"])
        .args(["--disable-background-networking", "--disable-component-update", "--disable-sync"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--virtual-time-budget={virtual_ms}"))
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // A group of its own, so that a stuck browser goes with all its helper
    // processes (renderer, GPU, zygote).
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd.spawn().expect("chromium starts");
    // Drained while it runs: a DOM larger than the pipe's buffer would
    // otherwise block it.
    let drain = |mut stream: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stream.read_to_string(&mut text);
            text
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = Command::new("kill").args(["-s", "KILL", "--", &format!("-{}", child.id())]).status();
            let _ = child.wait();
            panic!("chromium did not finish with {url} within 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (dom, errors) = (stdout.join().unwrap(), stderr.join().unwrap());
    let _ = std::fs::remove_dir_all(&profile);
    assert!(status.success(), "chromium failed on {url} ({status}): {errors}");
    dom
}

fn dom(url: &str) -> String {
    browse(url, 12_000, &["--dump-dom"])
}

/// The opening tag of the element with `attr="value"`, and what follows it.
fn element<'a>(dom: &'a str, attr: &str, value: &str) -> &'a str {
    let needle = format!("{attr}=\"{value}\"");
    let at = dom.find(&needle).unwrap_or_else(|| panic!("no element with {needle} in the DOM:\n{dom}"));
    let start = dom[..at].rfind('<').unwrap();
    &dom[start..]
}

/// The text of the element with `id`, which holds text only.
fn text(dom: &str, id: &str) -> String {
    let el = element(dom, "id", id);
    let body = &el[el.find('>').unwrap() + 1..];
    body[..body.find('<').unwrap()].to_string()
}

/// Whether the element with `id` carries the `hidden` attribute.
fn hidden(dom: &str, id: &str) -> bool {
    let el = element(dom, "id", id);
    el[..el.find('>').unwrap()].contains(" hidden")
}

/// The text of column `col` in the tools table's row for `tool`.
fn tool_cell(dom: &str, tool: &str, col: &str) -> String {
    let row = element(dom, "data-tool", tool);
    let row = &row[..row.find("</tr>").unwrap()];
    text(row.replace("data-col", "id").as_str(), col)
}

/// The text of column `col` in the tool components table's row for `component`.
fn component_cell(dom: &str, component: &str, col: &str) -> String {
    let row = element(dom, "data-component", component);
    let row = &row[..row.find("</tr>").unwrap()];
    text(row.replace("data-col", "id").as_str(), col)
}

/// How the page shows a breaker state of `/health/detailed`.
fn breaker_shown(state: &Value) -> &'static str {
    match state.as_str() {
        Some("closed") => "closed",
        Some("open") => "open",
        Some("half_open") => "half-open",
        other => panic!("breaker state {other:?}"),
    }
}

/// The tool names of the tools table, top to bottom.
fn tool_rows(dom: &str) -> Vec<String> {
    dom.split("data-tool=\"").skip(1).map(|rest| rest[..rest.find('"').unwrap()].to_string()).collect()
}

/// `/metrics?format=json` (with `key`), once `done` holds for it.
fn metrics_when(host: &Host, key: Option<&str>, done: impl Fn(&Value) -> bool) -> Value {
    let auth = key.map(|k| format!("Bearer {k}")).unwrap_or_default();
    let headers: Vec<(&str, &str)> = if key.is_some() { vec![("authorization", auth.as_str())] } else { vec![] };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let reply = request("GET", &host.url("/metrics?format=json"), &headers, None);
        assert_eq!(reply.status, 200, "{}", reply.body);
        let json = reply.json();
        if done(&json) {
            return json;
        }
        assert!(Instant::now() < deadline, "the metrics never showed the calls: {json:#}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Known calls: word_count ×4, calculate ×3 of which 2 fail (isError): the
/// busier tool sorts last by name, so the table's order shows its sort.
fn make_calls(host: &Host, key: Option<&str>) {
    let auth = key.map(|k| format!("Bearer {k}"));
    let extra: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", a.as_str())).collect();
    let mut mcp = Mcp::new(host);
    let init =
        json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "e2e", "version": "1"}});
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init}).to_string();
    let reply = mcp.post_raw(&body, &extra);
    assert_eq!(reply.status, 200, "{}", reply.body);
    mcp.session = Some(reply.header("mcp-session-id").unwrap().to_string());
    mcp.protocol_version = Some("2025-06-18".into());
    assert_eq!(mcp.post_raw(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#, &extra).status, 202);
    let calls = [
        ("word_count", json!({"text": "one two three"})),
        ("word_count", json!({"text": "four"})),
        ("word_count", json!({"text": "five six"})),
        ("word_count", json!({"text": "seven"})),
        ("calculate", json!({"expression": "6*7"})),
        ("calculate", json!({"expression": "1/0"})),
        ("calculate", json!({"expression": "2/0"})),
    ];
    for (i, (name, arguments)) in calls.into_iter().enumerate() {
        let params = json!({"name": name, "arguments": arguments});
        let body = json!({"jsonrpc": "2.0", "id": i + 2, "method": "tools/call", "params": params}).to_string();
        let reply = mcp.post_raw(&body, &extra);
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert!(reply.json().get("result").is_some(), "{}", reply.body);
    }
}

fn calls_recorded(m: &Value) -> bool {
    m["tools"]["word_count"]["success"] == 4 && m["tools"]["calculate"]["count"] == 3
}

/// The DOM shows each tool's calls and errors as `metrics` reports them,
/// busiest first, and the readiness, checks and tool components (breakers
/// included) `detailed` reports.
fn assert_page_shows(dom: &str, metrics: &Value, detailed: &Reply) {
    let tools = metrics["tools"].as_object().unwrap();
    assert!(!tools.is_empty());
    let calls =
        |t: &Value| ["success", "error", "timeout", "circuit_open"].iter().map(|o| t[o].as_u64().unwrap()).sum::<u64>();
    for (name, t) in tools {
        // Counts below 1000 are shown as plain integers (1.2k above).
        assert_eq!(tool_cell(dom, name, "calls"), calls(t).to_string(), "{name}");
        assert_eq!(tool_cell(dom, name, "errors"), t["error"].to_string(), "{name}");
        assert_eq!(tool_cell(dom, name, "circuit-open"), t["circuit_open"].to_string(), "{name}");
        assert_eq!(tool_cell(dom, name, "component"), t["component"].as_str().unwrap(), "{name}");
    }
    let rows = tool_rows(dom);
    let mut by_calls: Vec<(&String, u64)> = tools.iter().map(|(n, t)| (n, calls(t))).collect();
    by_calls.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    assert_eq!(rows, by_calls.iter().map(|(n, _)| n.to_string()).collect::<Vec<_>>(), "sorted by calls");
    let tile = element(dom, "id", "t-calls");
    let total = text(&tile.replacen("class=\"sub\"", "id=\"sub\"", 1), "sub");
    assert_eq!(total, format!("{} since start", tools.values().map(calls).sum::<u64>()));

    let health = detailed.json();
    let expected = match (detailed.status, health["status"].as_str().unwrap()) {
        (200, "ok") => "ready".to_string(),
        (200, other) => format!("ready, {other}"),
        _ => "not ready".to_string(),
    };
    assert_eq!(text(dom, "readiness"), expected);
    for (check, c) in health["checks"].as_object().unwrap() {
        let item = element(dom, "data-check", check);
        let status = c["status"].as_str().unwrap();
        assert!(
            item.starts_with(&format!("<li data-check=\"{check}\"><span class=\"pill {status}\">{status}</span>")),
            "{check}: {item}"
        );
    }
    let components = health["parts"]["tools"].as_object().unwrap();
    assert!(!components.is_empty(), "{health}");
    for (component, c) in components {
        assert_eq!(component_cell(dom, component, "breaker"), breaker_shown(&c["breaker"]), "{component}");
        assert_eq!(component_cell(dom, component, "circuit-open"), c["circuit_open"].to_string(), "{component}");
        assert_eq!(component_cell(dom, component, "errors"), c["errors"].to_string(), "{component}");
        assert_memory_shown(&component_cell(dom, component, "memory"), metrics, component);
    }
    assert!(hidden(dom, "csp"), "the browser blocked part of the page: {}", text(dom, "csp"));
    assert!(hidden(dom, "notice"), "the page shows a problem: {}", text(dom, "notice"));
}

/// The memory cell of `component`: "–" without observations, else the mean
/// per request (to the rounding shown) and the bucket every request fit in,
/// from `spinscope_component_memory_bytes` in `metrics`.
fn assert_memory_shown(cell: &str, metrics: &Value, component: &str) {
    let series = metrics["series"].as_array().unwrap().iter().find(|x| {
        x["name"] == "spinscope_component_memory_bytes"
            && x["labels"]["component"] == component
            && x["count"].as_u64() > Some(0)
    });
    let Some(x) = series else {
        assert_eq!(cell, "–", "{component}: no memory observed");
        return;
    };
    let count = x["count"].as_u64().unwrap();
    let mean = x["sum"].as_f64().unwrap() / count as f64;
    let mut bounds: Vec<(f64, u64)> = x["buckets"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(le, c)| (if le == "+Inf" { f64::INFINITY } else { le.parse().unwrap() }, c.as_u64().unwrap()))
        .collect();
    bounds.sort_by(|a, b| a.0.total_cmp(&b.0));
    let bound = bounds.iter().find(|(_, c)| *c >= count).unwrap().0;
    assert!(bound.is_finite(), "{component}: {x}");
    let mib = |n: f64| {
        if n >= 1024.0 * 1024.0 * 1024.0 {
            format!("{} GiB", n / 1024f64.powi(3))
        } else {
            format!("{} MiB", n / 1024f64.powi(2))
        }
    };
    let (shown_mean, shown_bound) = cell
        .strip_prefix("mean ")
        .and_then(|rest| rest.split_once(" · ≤ "))
        .unwrap_or_else(|| panic!("{component}: memory cell `{cell}`"));
    assert_eq!(shown_bound, mib(bound), "{component}: {cell}");
    let (number, unit) = shown_mean.split_once(' ').unwrap();
    let scale = match unit {
        "B" => 1.0,
        "KiB" => 1024.0,
        "MiB" => 1024f64.powi(2),
        "GiB" => 1024f64.powi(3),
        other => panic!("{component}: unit {other} in `{cell}`"),
    };
    let shown = number.parse::<f64>().unwrap() * scale;
    assert!((shown - mean).abs() <= mean * 0.05, "{component}: `{cell}` for a mean of {mean} bytes");
}

fn detailed(host: &Host, key: Option<&str>) -> Reply {
    let auth = key.map(|k| format!("Bearer {k}")).unwrap_or_default();
    let headers: Vec<(&str, &str)> = if key.is_some() { vec![("authorization", auth.as_str())] } else { vec![] };
    request("GET", &host.url("/health/detailed"), &headers, None)
}

#[test]
fn the_page_is_static_under_a_strict_policy_and_the_root_redirects_to_it() {
    let host = HostBuilder::app(None).var("api_keys", &format!("acme:{}", hash_key(KEY))).start();
    // Unfollowed (the harness's client follows redirects).
    let root = ureq::AgentBuilder::new().redirects(0).build().get(&host.url("/")).call().expect("GET /");
    assert_eq!((root.status(), root.header("location")), (302, Some("status")));
    // "/" is an exact route: any other path is still the host's own 404,
    // never the status component's.
    let other = host.get("/nothing-here");
    assert_eq!(other.status, 404);
    assert!(!other.body.contains("no page at"), "{}", other.body);
    let page = host.get("/status");
    assert_eq!(page.status, 200);
    assert_eq!(page.header("content-type"), Some("text/html; charset=utf-8"));
    let csp = page.header("content-security-policy").expect("a Content-Security-Policy");
    for directive in ["default-src 'none'", "script-src 'sha256-", "style-src 'sha256-", "connect-src 'self'"] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert!(!csp.contains("unsafe"), "{csp}");
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    // Served without a key under auth, after calls: the shell carries no
    // figure, tool or tenant of its own; those come from the JSON endpoints.
    make_calls(&host, Some(KEY));
    let again = host.get("/status");
    assert_eq!(again.body, page.body, "the page does not depend on the app's state");
    assert!(!again.body.contains("word_count") && !again.body.contains("acme"));
    assert_eq!(request("POST", &host.url("/status"), &[], None).status, 405);
}

#[test]
fn open_mode_shows_the_figures_of_metrics_and_readiness() {
    let host = HostBuilder::app(None).start();
    make_calls(&host, None);
    let metrics = metrics_when(&host, None, calls_recorded);
    let dom = dom(&host.url("/status"));
    assert_page_shows(&dom, &metrics, &detailed(&host, None));
    assert_eq!(text(&dom, "auth"), "open mode");
    assert!(!hidden(&dom, "activity"), "sessions and tenants are shown in open mode");
    assert!(element(&dom, "id", "tenants").contains("<td>-</td><td>"), "the open-mode tenant `-`");
    // The audit trail: the chain head from /metrics, and /audit/verify (open in open mode).
    assert!(text(&dom, "audit-head").starts_with('#'), "audit head `{}`", text(&dom, "audit-head"));
    let verified = text(&dom, "audit-verify");
    assert!(verified.starts_with("verified ") && verified.contains(" events up to #"), "{verified}");
    screenshots(&host);
}

#[test]
fn a_tool_component_down_shows_as_degraded() {
    // `absent` is no component of the app: readiness finds it down.
    let host = HostBuilder::app(None).var("tool_components", "text-tools,calc,absent").start();
    let detailed = detailed(&host, None);
    assert_eq!(detailed.json()["status"], "degraded", "{}", detailed.body);
    let dom = dom(&host.url("/status"));
    assert_eq!(text(&dom, "readiness"), "ready, degraded");
    assert_eq!(component_cell(&dom, "absent", "state"), "down");
    assert_eq!(component_cell(&dom, "calc", "state"), "up");
}

#[test]
fn an_open_circuit_breaker_shows_with_its_refused_calls() {
    let host = HostBuilder::app(None)
        .var("tool_components", "text-tools,calc,faults")
        .var("breaker_failures", "2")
        .var("breaker_cooldown_ms", "600000")
        .start();
    let (mut mcp, _) = Mcp::connect(&host);
    mcp.call_tool("word_count", json!({"text": "a b"}));
    // Two component failures (HTTP 500) open `faults`; the third call is
    // refused at once.
    for _ in 0..3 {
        assert_eq!(mcp.call_tool("failing", json!({}))["isError"], true);
    }
    let metrics = metrics_when(&host, None, |m| m["tools"]["failing"]["circuit_open"] == 1);
    let detailed = detailed(&host, None);
    let faults = &detailed.json()["parts"]["tools"]["faults"];
    assert_eq!((faults["breaker"].as_str(), faults["circuit_open"].as_u64()), (Some("open"), Some(1)), "{faults}");
    let dom = dom(&host.url("/status"));
    assert_page_shows(&dom, &metrics, &detailed);
    assert_eq!(component_cell(&dom, "faults", "breaker"), "open");
    assert_eq!(component_cell(&dom, "faults", "circuit-open"), "1");
    assert_eq!(component_cell(&dom, "text-tools", "breaker"), "closed");
    assert_eq!(tool_cell(&dom, "failing", "calls"), "3");
    assert_eq!(tool_cell(&dom, "failing", "circuit-open"), "1");
    assert_eq!(tool_cell(&dom, "failing", "error-ratio"), "100%");
}

#[test]
fn under_auth_the_page_asks_for_a_key_and_shows_the_figures_with_it() {
    let host = HostBuilder::app(None).var("api_keys", &format!("acme:{}", hash_key(KEY))).start();
    make_calls(&host, Some(KEY));
    let metrics = metrics_when(&host, Some(KEY), calls_recorded);

    let none = dom(&host.url("/status"));
    assert_eq!(text(&none, "auth"), "key required");
    assert!(text(&none, "notice").starts_with("Key required:"), "{}", text(&none, "notice"));
    assert!(hidden(&none, "data") && tool_rows(&none).is_empty(), "no figures without a key");
    assert_eq!(text(&none, "readiness"), "readiness unknown");

    let wrong = dom(&host.url("/status#key=not-a-key"));
    assert_eq!(text(&wrong, "auth"), "key refused");
    assert!(text(&wrong, "notice").starts_with("Key refused:"), "{}", text(&wrong, "notice"));
    assert!(hidden(&wrong, "data") && tool_rows(&wrong).is_empty(), "no figures with a wrong key");

    let right = dom(&host.url(&format!("/status#key={KEY}")));
    assert_eq!(text(&right, "auth"), "key accepted");
    assert_page_shows(&right, &metrics, &detailed(&host, Some(KEY)));
    assert!(hidden(&right, "activity"), "sessions and tenants are open-mode only");
    assert_eq!(text(&right, "audit-verify"), "needs an admin key", "a tenant's key may not verify the chain");
}

/// target/status.png (laptop, light), status-dark.png and status-phone.png,
/// taken while calls keep coming so that the charts have something to draw.
fn screenshots(host: &Host) {
    let stop = Arc::new(AtomicBool::new(false));
    let url = host.url("");
    // Virtual time leaps from poll to poll, so only calls made while a poll
    // is in flight land between two polls: a few clients keep them coming.
    let traffic: Vec<_> = (0..3)
        .map(|_| {
            let (stop, url) = (stop.clone(), url.clone());
            std::thread::spawn(move || background_calls(&url, &stop))
        })
        .collect();
    let out = target_dir();
    for (file, size, extra) in [
        ("status.png", "1280,1000", None),
        ("status-dark.png", "1280,1000", Some("--force-dark-mode")),
        ("status-phone.png", "390,1600", None),
    ] {
        let path = out.join(file);
        let _ = std::fs::remove_file(&path);
        let mut args = vec![
            format!("--screenshot={}", path.display()),
            format!("--window-size={size}"),
            "--hide-scrollbars".into(),
        ];
        args.extend(extra.map(String::from));
        browse(&host.url("/status"), 60_000, &args.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(std::fs::metadata(&path).is_ok_and(|m| m.len() > 10_000), "no screenshot at {}", path.display());
    }
    stop.store(true, Ordering::SeqCst);
    traffic.into_iter().for_each(|t| t.join().unwrap());
}

/// Tool calls, one in five failing, until `stop`.
fn background_calls(base: &str, stop: &AtomicBool) {
    let host_url = base.to_string();
    let headers = [("content-type", "application/json"), ("accept", "application/json, text/event-stream")];
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "screenshot", "version": "1"}}});
    let reply = request("POST", &format!("{host_url}/mcp"), &headers, Some(init.to_string().as_bytes()));
    let session = reply.header("mcp-session-id").unwrap().to_string();
    let with_session = [headers[0], headers[1], ("mcp-session-id", &session), ("mcp-protocol-version", "2025-06-18")];
    let mut i = 0;
    while !stop.load(Ordering::SeqCst) {
        let (name, arguments) = match i % 5 {
            0 => ("calculate", json!({"expression": "1/0"})),
            1 | 3 => ("word_count", json!({"text": "a b c"})),
            _ => ("calculate", json!({"expression": format!("{i}*2")})),
        };
        let body = json!({"jsonrpc": "2.0", "id": i + 2, "method": "tools/call", "params": {"name": name, "arguments": arguments}});
        request("POST", &format!("{host_url}/mcp"), &with_session, Some(body.to_string().as_bytes()));
        i += 1;
        std::thread::sleep(Duration::from_millis(2 + (i % 7) * 2));
    }
}

fn target_dir() -> PathBuf {
    let dir =
        std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("target"));
    assert!(Path::new(&dir).is_dir(), "{}", dir.display());
    dir
}
