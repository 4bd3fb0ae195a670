//! A fake OTLP/HTTP collector for the trace tests.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A small OTLP/HTTP receiver on loopback: accepts `POST /v1/traces` and
/// keeps each JSON body, for tests that check the spans the gateway exports.
pub struct OtlpReceiver {
    /// The loopback port it listens on.
    pub port: u16,
    /// Every export request's JSON body, in arrival order.
    pub bodies: Arc<Mutex<Vec<Value>>>,
}

impl OtlpReceiver {
    /// Listens on a free loopback port, answering every request 200.
    pub fn start() -> OtlpReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let keep = bodies.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let keep = keep.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut length = 0;
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    if let Ok(v) = serde_json::from_slice(&body) {
                        keep.lock().unwrap().push(v);
                    }
                    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}");
                });
            }
        });
        OtlpReceiver { port, bodies }
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<Value> {
        self.bodies
            .lock()
            .unwrap()
            .iter()
            .flat_map(|b| b["resourceSpans"][0]["scopeSpans"][0]["spans"].as_array().cloned().unwrap_or_default())
            .collect()
    }

    /// The span `name` of `trace_id`, waiting up to 20 s for it.
    pub fn wait_for(&self, name: &str, trace_id: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(s) = self.spans().into_iter().find(|s| s["name"] == name && s["traceId"] == trace_id) {
                return s;
            }
            assert!(Instant::now() < deadline, "no span {name} in trace {trace_id}: {:?}", self.spans());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Every body received, as text.
    pub fn text(&self) -> String {
        self.bodies.lock().unwrap().iter().map(Value::to_string).collect::<Vec<_>>().join("\n")
    }
}

/// The value of a span's attribute `key` (whatever its OTLP type), or null.
pub fn span_attr(span: &Value, key: &str) -> Value {
    span["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["key"] == key)
        .map(|a| a["value"].as_object().unwrap().values().next().unwrap().clone())
        .unwrap_or(Value::Null)
}
