//! Components that take no body never read one: a client streaming 200 MB
//! at a probe gets 413 at once and the host's memory does not grow with it.

use spinscope_e2e::*;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Resident memory, in KiB, of every process serving from `state_dir`
/// (the local host, or `spin up` and its trigger process).
fn host_rss_kib(host: &Host) -> u64 {
    let marker = host.state_dir.display().to_string();
    let out = std::process::Command::new("ps").args(["-eo", "rss=,args="]).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains(&marker))
        .filter_map(|l| l.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// Sends `method path` announcing `total` body bytes, streams zeros until the
/// server stops taking them, and returns the status line it answered with.
fn stream_body(host: &Host, method: &str, path: &str, total: usize) -> (String, usize) {
    let addr = host.url.trim_start_matches("http://").trim_end_matches('/').to_string();
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(stream, "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {total}\r\nContent-Type: application/octet-stream\r\n\r\n").unwrap();
    let reader = stream.try_clone().unwrap();
    let status = std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(reader).read_line(&mut line);
        line
    });
    let chunk = vec![0u8; 1 << 20];
    let mut sent = 0;
    while sent < total {
        match stream.write(&chunk) {
            Ok(n) => sent += n,
            Err(_) => break, // refused and closed, or no longer read: either is fine
        }
    }
    (status.join().unwrap(), sent)
}

#[test]
fn a_200_mb_body_at_a_probe_is_refused_unread() {
    let host = HostBuilder::app(Some(&["health", "ready", "metrics", "status"])).start();
    assert_eq!(host.get("/health/live").status, 200);
    let before = host_rss_kib(&host);
    let (status, sent) = stream_body(&host, "GET", "/health/live", 200 << 20);
    assert!(status.starts_with("HTTP/1.1 413"), "{status:?} after {sent} bytes");
    let after = host_rss_kib(&host);
    assert!(after < before + 64 * 1024, "resident memory grew from {before} KiB to {after} KiB");
    // The other read-only components refuse a body the same way; another
    // method gets 405, its body unread too; and the host goes on serving.
    for path in ["/metrics", "/health/ready", "/status"] {
        let (status, _) = stream_body(&host, "GET", path, 8 << 20);
        assert!(status.starts_with("HTTP/1.1 413"), "{path}: {status:?}");
    }
    let (status, _) = stream_body(&host, "POST", "/health/live", 200 << 20);
    assert!(status.starts_with("HTTP/1.1 405"), "{status:?}");
    assert!(host_rss_kib(&host) < before + 64 * 1024);
    assert_eq!(host.get("/health/live").status, 200);
}
