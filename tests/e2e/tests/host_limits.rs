//! What keeps the host serving when a client or a guest misbehaves
//! (docs/host.md, "Limits"): idle sockets, a request head that never ends, a
//! guest that allocates without end, a guest that computes without end.
//!
//! The misbehaving guest is the test-only `faults` component's runaway paths
//! (public here: tests/e2e/manifests/host-limits.toml). Where Spin behaves the
//! same the test runs on both hosts; where only the local host has the
//! protection the test says so and skips on Spin.

use spinscope_e2e::{host_kind, request_within, Host, HostBuilder, HostKind};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const MANIFEST: &str = "tests/e2e/manifests/host-limits.toml";

/// More than the local host's default connection cap (1,024) and than the
/// usual open-file limit (`ulimit -n` 1,024).
const IDLE_SOCKETS: usize = 1_100;

/// True (after saying why) when the host under test is Spin. Written to the
/// process's stderr itself, which the test harness does not capture, so the
/// line shows in every run.
fn skipped_on_spin(test: &str, why: &str) -> bool {
    if host_kind() == HostKind::Spin {
        let _ = writeln!(std::io::stderr(), "host_limits::{test}: skipped on Spin: {why}");
        return true;
    }
    false
}

fn address(host: &Host) -> String {
    host.url.trim_start_matches("http://").trim_end_matches('/').to_string()
}

/// `/health/live` answers 200 within `within`.
fn assert_live(host: &Host, within: Duration) {
    let reply = request_within(within, "GET", &host.url("/health/live"), &[], None)
        .unwrap_or_else(|| panic!("/health/live did not answer within {within:?}"));
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[test]
fn idle_sockets_do_not_stop_the_host_from_serving() {
    // Spin has no cap and no header-read timeout: it holds every socket
    // open and serves beside them, so this runs on both hosts.
    let host = HostBuilder::new(MANIFEST).start();
    let addr = address(&host);
    let mut idle = Vec::with_capacity(IDLE_SOCKETS);
    for i in 0..IDLE_SOCKETS {
        let mut socket = TcpStream::connect(&addr).unwrap_or_else(|e| {
            panic!("connection {i} to the host failed: {e} (this test needs `ulimit -n` above {IDLE_SOCKETS})")
        });
        // Half never send a byte, half stop in the middle of a request head.
        if i % 2 == 1 {
            socket.write_all(b"GET /health/live HTTP/1.1\r\nHost: idle\r\n").unwrap();
        }
        idle.push(socket);
    }
    assert_live(&host, Duration::from_secs(5));
    // And it keeps serving, one new connection after another.
    for _ in 0..20 {
        assert_live(&host, Duration::from_secs(5));
    }
    if host.kind == HostKind::Local {
        // At its cap the local host closed idle connections for the new ones.
        host.wait_for_log(|l| l.contains("(--max-connections): closing the one idle longest"));
        let closed = idle.iter().filter(|s| closed_by_host(s)).count();
        assert!(closed >= IDLE_SOCKETS - 1024, "only {closed} idle connections were closed");
    }
}

/// Whether the host has closed `socket` (it reads end-of-file or a reset).
fn closed_by_host(mut socket: &TcpStream) -> bool {
    socket.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 64];
    match socket.read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() == ErrorKind::ConnectionReset,
    }
}

#[test]
fn a_request_head_that_never_ends_is_cut_off() {
    if skipped_on_spin(
        "a_request_head_that_never_ends_is_cut_off",
        "Spin has no header-read timeout (a silent client keeps its connection open)",
    ) {
        return;
    }
    let host = HostBuilder::new(MANIFEST).args(&["--header-read-timeout", "1s"]).start();
    let mut slow = TcpStream::connect(address(&host)).unwrap();
    slow.write_all(b"GET /health/live HTTP/1.1\r\nHost: slow\r\n").unwrap();
    let mut silent = TcpStream::connect(address(&host)).unwrap();
    let started = Instant::now();
    for socket in [&mut slow, &mut silent] {
        socket.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = Vec::new();
        // hyper closes without an answer when the head is late.
        let _ = socket.read_to_end(&mut buf);
        assert!(buf.is_empty() || String::from_utf8_lossy(&buf).starts_with("HTTP/1.1 408"), "{buf:?}");
    }
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(900) && waited < Duration::from_secs(5), "closed after {waited:?}");
    assert_live(&host, Duration::from_secs(5));
}

#[test]
fn a_guest_that_allocates_without_end_gets_a_500_and_the_host_keeps_serving() {
    // Both hosts take --max-instance-memory (bytes), so this runs on both.
    let host = HostBuilder::new(MANIFEST).args(&["--max-instance-memory", "67108864"]).start();
    for _ in 0..3 {
        let reply = request_within(Duration::from_secs(30), "GET", &host.url("/faults/runaway/memory"), &[], None)
            .expect("the runaway allocation was answered");
        assert_eq!(reply.status, 500, "{}", reply.body);
        assert_live(&host, Duration::from_secs(5));
    }
    if host.kind == HostKind::Local {
        host.wait_for_log(|l| l.contains("over the instance limit of 67108864 bytes (--max-instance-memory)"));
    }
}

#[test]
fn the_local_host_limits_instance_memory_by_default() {
    if skipped_on_spin(
        "the_local_host_limits_instance_memory_by_default",
        "Spin has no memory limit by default (the guest grows to wasm32's 4 GiB)",
    ) {
        return;
    }
    let host = HostBuilder::new(MANIFEST).start();
    let reply = request_within(Duration::from_secs(30), "GET", &host.url("/faults/runaway/memory"), &[], None)
        .expect("the runaway allocation was answered");
    assert_eq!(reply.status, 500, "{}", reply.body);
    host.wait_for_log(|l| l.contains(&format!("over the instance limit of {} bytes", 256 << 20)));
    assert_live(&host, Duration::from_secs(5));
}

#[test]
fn a_guest_that_computes_without_end_is_interrupted_and_the_host_keeps_serving() {
    if skipped_on_spin(
        "a_guest_that_computes_without_end_is_interrupted_and_the_host_keeps_serving",
        "Spin 4 does not interrupt a WASIp2 guest (its --request-timeout applies to WASIp3 components): it runs until Spin's process is killed",
    ) {
        return;
    }
    let host = HostBuilder::new(MANIFEST).args(&["--request-timeout", "2s"]).start();
    let url = host.url("/faults/runaway/cpu");
    // More runaway guests than the machine has cores: they yield at every
    // epoch tick, so the host still answers meanwhile.
    let runaways: Vec<_> = (0..3)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                let started = Instant::now();
                let reply = request_within(Duration::from_secs(30), "GET", &url, &[], None);
                (reply, started.elapsed())
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    assert_live(&host, Duration::from_secs(5));
    assert!(started.elapsed() < Duration::from_secs(1), "liveness took {:?} beside the runaways", started.elapsed());
    for runaway in runaways {
        let (reply, took) = runaway.join().unwrap();
        let reply = reply.expect("the runaway guest was answered");
        assert_eq!(reply.status, 500, "{}", reply.body);
        assert!(took >= Duration::from_millis(1900) && took < Duration::from_secs(10), "answered after {took:?}");
    }
    host.wait_for_log(|l| l.contains("interrupted: still running after the request timeout (2s, --request-timeout)"));
    assert_live(&host, Duration::from_secs(5));
}
