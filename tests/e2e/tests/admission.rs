//! Admission that no caller can hold hostage (issue 23): a body must
//! arrive within `body_timeout_ms` (408 after it) and a concurrency slot
//! is taken only once it is in, so a stalled client of one tenant never
//! makes another tenant wait; in open mode, where every client shares one
//! tenant, each client address holds at most `max_sessions_per_client`.

use serde_json::json;
use spinscope::auth::hash_key;
use spinscope_e2e::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

const KEY_A: &str = "key-for-acme-0123456789";
const KEY_B: &str = "key-for-globex-9876543210";

fn init_body() -> String {
    json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}).to_string()
}

fn port(host: &Host) -> u16 {
    host.url("/").rsplit(':').next().unwrap().trim_end_matches('/').parse().unwrap()
}

/// A `POST /mcp` whose head says 100 bytes of body and which sends one.
fn stalled(port: u16, key: &str) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let head = format!(
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{"
    );
    s.write_all(head.as_bytes()).unwrap();
    s
}

/// The status of the answer on `s`, waiting at most `within`.
fn status_of(mut s: TcpStream, within: Duration) -> Option<u16> {
    s.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 512];
    let n = s.read(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf[..n]);
    text.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn a_stalled_body_holds_no_slot_and_gets_408() {
    let keys = format!("acme:{},globex:{}", hash_key(KEY_A), hash_key(KEY_B));
    let host = HostBuilder::app(Some(&["gateway", "metrics", "text-tools"]))
        .var("tool_components", "text-tools")
        .var("api_keys", &keys)
        .var("max_concurrency", "3")
        .var("body_timeout_ms", "2000")
        .start();
    let port = port(&host);
    let started = Instant::now();
    let a: Vec<TcpStream> = (0..3).map(|_| stalled(port, KEY_A)).collect();
    std::thread::sleep(Duration::from_millis(200));

    // Tenant B, meanwhile: a session and a call, each answered at once.
    let auth = format!("Bearer {KEY_B}");
    let mut b = Mcp::new(&host);
    let began = Instant::now();
    let init = b.post_raw(&init_body(), &[("authorization", &auth)]);
    assert_eq!(init.status, 200, "{}", init.body);
    b.session = Some(init.header("mcp-session-id").unwrap().to_string());
    b.protocol_version = Some("2025-06-18".into());
    let call =
        json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"word_count","arguments":{"text":"a b"}}});
    let r = b.post_raw(&call.to_string(), &[("authorization", &auth)]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(began.elapsed() < Duration::from_secs(1), "B waited {:?} behind A's stalled bodies", began.elapsed());

    // A's requests: 408 once the deadline has passed, not before.
    for s in a {
        assert_eq!(status_of(s, Duration::from_secs(10)), Some(408));
    }
    assert!(started.elapsed() >= Duration::from_millis(1900), "408 before the deadline: {:?}", started.elapsed());
    let metrics = request("GET", &host.url("/metrics"), &[("authorization", &auth)], None);
    let e = spinscope_testkit::exposition::parse(&metrics.body).unwrap();
    assert_eq!(value(&e, "spinscope_in_flight_requests", &[]), 0.0, "nothing held");
    let lines = host.wait_for_logs(|l| l.iter().filter(|l| l.contains("status=408")).count() >= 3);
    assert_eq!(lines.iter().filter(|l| l.contains("status=408") && l.contains("tenant=acme")).count(), 3);
}

/// A raw `POST /mcp` of `body` from the local address `from`.
fn post_from(from: &str, port: u16, body: &str) -> (u16, String) {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.bind(&format!("{from}:0").parse::<SocketAddr>().unwrap().into()).unwrap();
    socket.connect(&SocketAddr::from(([127, 0, 0, 1], port)).into()).unwrap();
    let mut s: TcpStream = socket.into();
    let head = format!(
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text)
}

#[test]
fn in_open_mode_one_client_at_its_cap_leaves_room_for_another() {
    let host = HostBuilder::app(Some(&["gateway", "metrics", "text-tools"]))
        .var("tool_components", "text-tools")
        .var("max_sessions_per_client", "2")
        .start();
    let port = port(&host);
    for _ in 0..2 {
        let (status, text) = post_from("127.0.0.1", port, &init_body());
        assert_eq!(status, 200, "{text}");
    }
    let (status, text) = post_from("127.0.0.1", port, &init_body());
    assert_eq!(status, 429, "a third session from the same address: {text}");
    assert!(text.contains("this client already holds 2 live sessions"), "{text}");
    // Another address still gets one.
    let (status, text) = post_from("127.0.0.2", port, &init_body());
    assert_eq!(status, 200, "another client: {text}");
    let e = scrape(&host);
    assert_eq!(value(&e, "spinscope_rejected_total", &[("reason", "sessions")]), 1.0);
    assert_eq!(value(&e, "spinscope_sessions_active", &[]), 3.0);
}
