//! The host serves a manifest the way `spin up` does: routes, a fresh
//! instance per request, service chaining, outbound rules, key-value stores
//! (SQLite and Redis), variables and component logs. These run on both
//! hosts (see `SPINSCOPE_E2E_HOST`), so they pin the local host to Spin.

use spinscope_e2e::*;

const MANIFEST: &str = "tests/e2e/manifests/foundation.toml";

#[test]
fn routes_match_like_spin() {
    let host = HostBuilder::new(MANIFEST).start();
    // Exact route beats the wildcard that also covers it.
    let live = host.get("/health/live");
    assert_eq!(live.status, 200);
    assert_eq!(live.json()["status"], "ok");
    // The wildcard takes the rest.
    assert_eq!(host.get("/health/instance").body, "1");
    // Nothing matches: 404 from the host itself.
    let missing = host.get("/nothing-here");
    assert_eq!(missing.status, 404);
    // Spin's reserved paths.
    assert_eq!(host.get("/.well-known/spin/health").status, 200);
    assert_eq!(host.get("/.well-known/spin/other").status, 404);
}

#[test]
fn spin_headers_are_added() {
    let host = HostBuilder::new(MANIFEST).start();
    let seen = host.get("/probe/sub/headers?x=1").json();
    assert_eq!(seen["spin-path-info"], "/sub/headers");
    assert_eq!(seen["spin-matched-route"], "/probe/...");
    assert_eq!(seen["spin-component-route"], "/probe");
    assert!(seen["spin-full-url"].as_str().unwrap().ends_with("/probe/sub/headers?x=1"), "{seen}");
    assert!(seen["spin-client-addr"].as_str().unwrap().starts_with("127.0.0.1:"), "{seen}");
}

#[test]
fn every_request_gets_a_fresh_instance() {
    let host = HostBuilder::new(MANIFEST).start();
    for _ in 0..5 {
        assert_eq!(host.get("/probe/instance").body, "1");
    }
}

#[test]
fn service_chaining_reaches_private_components_only_when_allowed() {
    let host = HostBuilder::new(MANIFEST).start();
    let listed = host.get("/probe/chain?to=text-tools&path=/");
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert!(listed.body.starts_with("200 ["), "{}", listed.body);
    assert!(listed.body.contains("word_count"), "{}", listed.body);
    // calc is not in the probe's allowed_outbound_hosts.
    let refused = host.get("/probe/chain?to=calc&path=/");
    assert_eq!(refused.status, 502, "{}", refused.body);
    assert!(refused.body.to_lowercase().contains("denied"), "{}", refused.body);
    // A private component has no public route.
    assert_eq!(host.get("/text-tools").status, 404);
}

#[test]
fn outbound_hosts_are_enforced() {
    let host = HostBuilder::new(MANIFEST).start();
    let refused = host.get("/probe/outbound?url=http://example.com/");
    assert_eq!(refused.status, 502);
    assert!(refused.body.to_lowercase().contains("denied"), "{}", refused.body);
    let own = host.url("/health/live");
    let allowed = host.get(&format!("/probe/outbound?url={own}"));
    assert_eq!(allowed.status, 200, "{}", allowed.body);
    assert!(allowed.body.starts_with("200 "), "{}", allowed.body);
}

#[test]
fn only_listed_stores_open() {
    let host = HostBuilder::new(MANIFEST).start();
    assert_eq!(host.get("/probe/open?store=default").status, 200);
    let denied = host.get("/probe/open?store=other");
    assert_eq!(denied.status, 403);
    assert!(denied.body.contains("access"), "{}", denied.body);
}

#[test]
fn variables_resolve_from_defaults_and_environment() {
    let host = HostBuilder::new(MANIFEST).start();
    assert_eq!(host.get("/probe/var?name=greeting").body, "hello world");
    assert_eq!(host.get("/probe/var?name=who").status, 404, "components see only their own keys");
    drop(host);
    let host = HostBuilder::new(MANIFEST).var("who", "spin").start();
    assert_eq!(host.get("/probe/var?name=greeting").body, "hello spin");
}

#[test]
fn a_required_variable_without_value_fails_startup() {
    let err = HostBuilder::new("tests/e2e/manifests/foundation-required.toml").try_start().err().expect("must fail");
    // Spin's wording, which the local host follows (it adds how to set it).
    assert!(err.contains("no provider resolved required variable(s): [Key(\"who\")]"), "{err}");
    let host = HostBuilder::new("tests/e2e/manifests/foundation-required.toml").var("who", "x").start();
    assert_eq!(host.get("/probe/var?name=greeting").body, "hello x");
}

#[test]
fn component_output_goes_to_terminal_and_log_files() {
    let host = HostBuilder::new(MANIFEST).start();
    assert_eq!(host.get("/probe/log?line=marker-4711").status, 200);
    // Both streams reach the host's stderr (as on Spin), not its stdout.
    host.wait_for_log(|l| l == "marker-4711");
    host.wait_for_log(|l| l == "stderr marker-4711");
    assert!(!host.stdout.text().contains("marker-4711"), "{}", host.stdout.text());
    // ... and each its own file.
    let read = |name: &str| std::fs::read_to_string(host.state_dir.join("logs").join(name)).unwrap_or_default();
    let deadline = std::time::Instant::now() + LOG_WAIT;
    while !(read("probe_stdout.txt").contains("marker-4711") && read("probe_stderr.txt").contains("stderr marker-4711"))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "log files: {:?} {:?}",
            read("probe_stdout.txt"),
            read("probe_stderr.txt")
        );
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    assert!(!read("probe_stdout.txt").contains("stderr marker-4711"));
}

#[test]
fn sqlite_store_persists_across_restarts_with_spins_encoding() {
    let host = HostBuilder::new(MANIFEST).start();
    for expected in 1..=3 {
        assert_eq!(host.get("/probe/count?key=restart").body, expected.to_string());
    }
    let state = host.stop();
    let host = HostBuilder::new(MANIFEST).state_dir(&state).start();
    assert_eq!(host.get("/probe/count?key=restart").body, "4");
    drop(host);
    // Spin's schema and counter encoding: 8 bytes, little-endian i64.
    let db = rusqlite::Connection::open(state.join("sqlite_key_value.db")).unwrap();
    let value: Vec<u8> = db
        .query_row("SELECT value FROM spin_key_value WHERE store='default' AND key='restart'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(value, 4i64.to_le_bytes());
}

fn exact_under_concurrency(host: &Host, key: &str) {
    const THREADS: usize = 32;
    const PER_THREAD: usize = 20;
    let url = host.url(&format!("/probe/count?key={key}"));
    let statuses = concurrently(THREADS, PER_THREAD, move |_| request("GET", &url, &[], None).status);
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let last = host.get(&format!("/probe/count?key={key}")).body;
    assert_eq!(last, (THREADS * PER_THREAD + 1).to_string(), "no increment may be lost");
}

#[test]
fn sqlite_increments_are_exact_under_32_concurrent_clients() {
    let host = HostBuilder::new(MANIFEST).start();
    exact_under_concurrency(&host, "concurrent");
}

#[test]
fn redis_store_is_exact_persistent_and_uses_decimal_text() {
    let redis = RedisServer::start();
    let host = HostBuilder::new(MANIFEST).redis(&redis).start();
    exact_under_concurrency(&host, "concurrent");
    let state = host.stop();
    let host = HostBuilder::new(MANIFEST).state_dir(&state).redis(&redis).start();
    assert_eq!(host.get("/probe/count?key=concurrent").body, "642");
    // Spin's Redis store keeps counters as decimal text (INCRBY).
    let raw = redis.command(&["GET", "concurrent"]);
    assert_eq!(raw, "$3\r\n642\r\n");
}
