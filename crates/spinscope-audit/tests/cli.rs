//! The built binary, as an auditor runs it: on export files, and against a
//! small HTTP server that pages like `GET /audit`.

use spinscope::audit::chain::seal;
use spinscope::audit::{Event, Head, Kind, Sealed};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_spinscope-audit");

fn chain(n: u64) -> Vec<Sealed> {
    let events = (1..=n)
        .map(|i| {
            let mut e = Event::new(Kind::ToolCall, 1_700_000_000_000 + i);
            e.tool = Some("word_count".into());
            e.outcome = Some("success".into());
            e
        })
        .collect();
    seal(&Head::default(), events, None).0
}

fn jsonl(events: &[Sealed]) -> String {
    events.iter().map(|e| serde_json::to_string(e).unwrap() + "\n").collect()
}

fn run(args: &[&str]) -> (i32, String, String) {
    let Output { status, stdout, stderr } = Command::new(BIN).args(args).output().unwrap();
    (status.code().unwrap(), String::from_utf8(stdout).unwrap(), String::from_utf8(stderr).unwrap())
}

#[test]
fn verify_passes_a_good_export_and_names_where_a_broken_one_breaks() {
    let dir = tempfile::tempdir().unwrap();
    let events = chain(5);
    let good = dir.path().join("good.jsonl");
    std::fs::write(&good, jsonl(&events)).unwrap();
    let head = format!("5:{}", events[4].hash);
    let (code, out, _) = run(&["verify", good.to_str().unwrap(), "--head", &head]);
    assert_eq!(code, 0);
    assert_eq!(out, format!("ok: 5 events, seq 1..5, head {head}, unkeyed\n"));

    let broken = dir.path().join("broken.jsonl");
    let mut edited: Vec<String> = jsonl(&events).lines().map(str::to_string).collect();
    edited[2] = edited[2].replace("\"success\"", "\"error\"");
    std::fs::write(&broken, edited.join("\n")).unwrap();
    let (code, out, err) = run(&["verify", broken.to_str().unwrap()]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(err.starts_with("spinscope-audit: broken at sequence 3: "), "{err}");

    let damaged = dir.path().join("damaged.jsonl");
    std::fs::write(&damaged, jsonl(&events) + "{\"seq\": 6, \"trunc\n").unwrap();
    let (code, _, err) = run(&["verify", damaged.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.starts_with("spinscope-audit: broken at line 6: "), "{err}");

    // Could not check: exit 2, whatever the chain.
    let (code, _, err) = run(&["verify", dir.path().join("none.jsonl").to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    let (code, _, _) = run(&["verify", good.to_str().unwrap(), "--head", "5:nothex"]);
    assert_eq!(code, 2);
}

#[test]
fn verify_reads_standard_input() {
    let events = chain(3);
    let mut child = Command::new(BIN)
        .args(["verify", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(jsonl(&events).as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    assert!(String::from_utf8(output.stdout).unwrap().starts_with("ok: 3 events, seq 1..3,"));
}

/// Serves `events` as `GET /audit` does, two to a page whatever the limit
/// asked (so that paging is exercised), to the bearer of `key` only.
fn serve(events: Vec<Sealed>, key: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut authorized = false;
            loop {
                let mut header = String::new();
                reader.read_line(&mut header).unwrap();
                if header.trim().is_empty() {
                    break;
                }
                authorized |= header.trim().eq_ignore_ascii_case(&format!("authorization: Bearer {key}"));
            }
            let cursor: u64 = request_line
                .split(['?', '&', ' '])
                .find_map(|p| p.strip_prefix("cursor="))
                .map_or(0, |c| c.parse().unwrap());
            let last = events.last().unwrap();
            let page: Vec<Sealed> = events.iter().filter(|e| e.seq > cursor).take(2).cloned().collect();
            let mut headers = format!("audit-head: {}:{}\r\n", last.seq, last.hash);
            if page.last().is_some_and(|e| e.seq < last.seq) {
                headers += &format!("audit-next-cursor: {}\r\n", page.last().unwrap().seq);
            }
            let (status, body) = match authorized {
                true => ("200 OK", jsonl(&page)),
                false => ("401 Unauthorized", r#"{"status":"error","message":"an API key is required"}"#.to_string()),
            };
            let response = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/x-ndjson\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(response.as_bytes()).unwrap();
        }
    });
    url
}

#[test]
fn export_pages_through_a_gateway_and_its_head_checks_the_file() {
    let events = chain(7);
    let url = serve(events.clone(), "k-123");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.jsonl");
    let (code, _, err) = run(&["export", &url, "--api-key", "k-123", "--out", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), jsonl(&events));
    let head = err.trim().strip_prefix("head ").unwrap();
    assert_eq!(head, format!("7:{}", events[6].hash));
    let (code, out, _) = run(&["verify", file.to_str().unwrap(), "--head", head]);
    assert_eq!(code, 0);
    assert!(out.starts_with("ok: 7 events"), "{out}");

    let (code, _, err) = run(&["export", &url, "--api-key", "wrong"]);
    assert_eq!(code, 2);
    assert!(err.contains("HTTP 401: an API key is required"), "{err}");
}
