//! A fake OTLP/HTTP collector for the trace tests: JSON (the gateway's own
//! export) and protobuf (Spin's exporter, which speaks only `http/protobuf`
//! or gRPC), the protobuf read into the JSON mapping's shape so that the
//! tests read both alike.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A small OTLP/HTTP receiver on loopback: accepts `POST /v1/traces` and
/// keeps each body (JSON, or protobuf as its JSON mapping), for tests that
/// check the spans the gateway and Spin export.
pub struct OtlpReceiver {
    /// The loopback port it listens on.
    pub port: u16,
    /// Every export request's body, in arrival order: as sent (JSON), or
    /// its JSON mapping (protobuf).
    pub bodies: Arc<Mutex<Vec<Value>>>,
    /// How many bodies came as protobuf (`application/x-protobuf`).
    pub protobuf_bodies: Arc<Mutex<usize>>,
}

impl OtlpReceiver {
    /// Listens on a free loopback port, answering every request 200.
    pub fn start() -> OtlpReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let protobuf_bodies = Arc::new(Mutex::new(0));
        let keep = bodies.clone();
        let count = protobuf_bodies.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let keep = keep.clone();
                let count = count.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    // One request per connection (answered `connection: close`).
                    let (mut length, mut chunked, mut protobuf) = (0, false, false);
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                        let line = line.to_ascii_lowercase();
                        if let Some(v) = line.strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                        if let Some(v) = line.strip_prefix("transfer-encoding:") {
                            chunked = v.contains("chunked");
                        }
                        if let Some(v) = line.strip_prefix("content-type:") {
                            protobuf = v.contains("protobuf");
                        }
                    }
                    let body = if chunked { read_chunked(&mut reader) } else { read_n(&mut reader, length) };
                    let Some(body) = body else { return };
                    if protobuf {
                        if let Some(v) = protobuf_to_json(&body) {
                            keep.lock().unwrap().push(v);
                            *count.lock().unwrap() += 1;
                        }
                        // An empty ExportTraceServiceResponse.
                        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                        return;
                    }
                    if let Ok(v) = serde_json::from_slice(&body) {
                        keep.lock().unwrap().push(v);
                    }
                    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}");
                });
            }
        });
        OtlpReceiver { port, bodies, protobuf_bodies }
    }

    /// Every span received so far (of every resource and scope).
    pub fn spans(&self) -> Vec<Value> {
        let array = |v: &Value| v.as_array().cloned().unwrap_or_default();
        self.bodies
            .lock()
            .unwrap()
            .iter()
            .flat_map(|b| array(&b["resourceSpans"]))
            .flat_map(|r| array(&r["scopeSpans"]))
            .flat_map(|s| array(&s["spans"]))
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

fn read_n(reader: &mut impl Read, n: usize) -> Option<Vec<u8>> {
    let mut body = vec![0; n];
    reader.read_exact(&mut body).ok()?;
    Some(body)
}

fn read_chunked(reader: &mut BufReader<std::net::TcpStream>) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size).ok()?;
        let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
        let mut chunk = read_n(reader, size + 2)?;
        chunk.truncate(size);
        body.extend(chunk);
        if size == 0 {
            return Some(body);
        }
    }
}

/// One protobuf field: its number and its value (varint, fixed or bytes).
enum Wire<'a> {
    Varint(u64),
    Fixed64(u64),
    Fixed32,
    Bytes(&'a [u8]),
}

/// The fields of one protobuf message, in order; `None` if malformed.
fn fields(mut b: &[u8]) -> Option<Vec<(u64, Wire<'_>)>> {
    fn varint(b: &mut &[u8]) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = b.split_first()?;
            *b = rest;
            v |= ((byte & 0x7f) as u64) << shift;
            if byte & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }
    let mut out = Vec::new();
    while !b.is_empty() {
        let key = varint(&mut b)?;
        let value = match key & 7 {
            0 => Wire::Varint(varint(&mut b)?),
            1 => {
                let (v, rest) = b.split_at_checked(8)?;
                b = rest;
                Wire::Fixed64(u64::from_le_bytes(v.try_into().ok()?))
            }
            2 => {
                let n = varint(&mut b)? as usize;
                let (v, rest) = b.split_at_checked(n)?;
                b = rest;
                Wire::Bytes(v)
            }
            5 => {
                b = b.get(4..)?;
                Wire::Fixed32
            }
            _ => return None,
        };
        out.push((key >> 3, value));
    }
    Some(out)
}

/// An `ExportTraceServiceRequest` (opentelemetry-proto's
/// `collector/trace/v1`) in the OTLP/JSON mapping's shape: ids in hex,
/// times and `intValue` as strings, enums as numbers; the fields the
/// tests read (resource and scope attributes, span ids, name, kind, times,
/// attributes, links, status), unknown ones skipped.
pub fn protobuf_to_json(body: &[u8]) -> Option<Value> {
    use serde_json::json;
    let text = |v: &[u8]| String::from_utf8_lossy(v).into_owned();
    let hex = |v: &[u8]| v.iter().map(|b| format!("{b:02x}")).collect::<String>();
    fn any_value(b: &[u8]) -> Option<Value> {
        let text = |v: &[u8]| String::from_utf8_lossy(v).into_owned();
        let mut out = json!({});
        for (n, w) in fields(b)? {
            match (n, w) {
                (1, Wire::Bytes(v)) => out = json!({"stringValue": text(v)}),
                (2, Wire::Varint(v)) => out = json!({"boolValue": v != 0}),
                (3, Wire::Varint(v)) => out = json!({"intValue": (v as i64).to_string()}),
                (4, Wire::Fixed64(v)) => out = json!({"doubleValue": f64::from_bits(v)}),
                (5, Wire::Bytes(v)) => {
                    let values = fields(v)?.into_iter().filter_map(|(n, w)| match (n, w) {
                        (1, Wire::Bytes(v)) => any_value(v),
                        _ => None,
                    });
                    out = json!({"arrayValue": {"values": values.collect::<Vec<_>>()}});
                }
                _ => {}
            }
        }
        Some(out)
    }
    let key_value = |b: &[u8]| -> Option<Value> {
        let mut kv = json!({"key": "", "value": {}});
        for (n, w) in fields(b)? {
            match (n, w) {
                (1, Wire::Bytes(v)) => kv["key"] = text(v).into(),
                (2, Wire::Bytes(v)) => kv["value"] = any_value(v)?,
                _ => {}
            }
        }
        Some(kv)
    };
    let link = |b: &[u8]| -> Option<Value> {
        let mut l = json!({"attributes": []});
        for (n, w) in fields(b)? {
            match (n, w) {
                (1, Wire::Bytes(v)) => l["traceId"] = hex(v).into(),
                (2, Wire::Bytes(v)) => l["spanId"] = hex(v).into(),
                (3, Wire::Bytes(v)) if !v.is_empty() => l["traceState"] = text(v).into(),
                (4, Wire::Bytes(v)) => l["attributes"].as_array_mut()?.push(key_value(v)?),
                _ => {}
            }
        }
        Some(l)
    };
    let span = |b: &[u8]| -> Option<Value> {
        let mut s = json!({"attributes": [], "status": {}});
        let mut links = Vec::new();
        for (n, w) in fields(b)? {
            match (n, w) {
                (1, Wire::Bytes(v)) => s["traceId"] = hex(v).into(),
                (2, Wire::Bytes(v)) => s["spanId"] = hex(v).into(),
                (3, Wire::Bytes(v)) if !v.is_empty() => s["traceState"] = text(v).into(),
                (4, Wire::Bytes(v)) if !v.is_empty() => s["parentSpanId"] = hex(v).into(),
                (5, Wire::Bytes(v)) => s["name"] = text(v).into(),
                (6, Wire::Varint(v)) => s["kind"] = v.into(),
                (7, Wire::Fixed64(v)) => s["startTimeUnixNano"] = v.to_string().into(),
                (8, Wire::Fixed64(v)) => s["endTimeUnixNano"] = v.to_string().into(),
                (9, Wire::Bytes(v)) => s["attributes"].as_array_mut()?.push(key_value(v)?),
                (13, Wire::Bytes(v)) => links.push(link(v)?),
                (15, Wire::Bytes(v)) => {
                    for (n, w) in fields(v)? {
                        match (n, w) {
                            (2, Wire::Bytes(m)) => s["status"]["message"] = text(m).into(),
                            (3, Wire::Varint(c)) => s["status"]["code"] = c.into(),
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        if !links.is_empty() {
            s["links"] = links.into();
        }
        Some(s)
    };
    let attributes = |b: &[u8]| -> Option<Value> {
        let mut out = Vec::new();
        for (n, w) in fields(b)? {
            if let (1, Wire::Bytes(v)) = (n, w) {
                out.push(key_value(v)?);
            }
        }
        Some(json!({"attributes": out}))
    };
    let scope_spans = |b: &[u8]| -> Option<Value> {
        let mut out = json!({"scope": {}, "spans": []});
        for (n, w) in fields(b)? {
            match (n, w) {
                (1, Wire::Bytes(v)) => {
                    for (n, w) in fields(v)? {
                        match (n, w) {
                            (1, Wire::Bytes(x)) => out["scope"]["name"] = text(x).into(),
                            (2, Wire::Bytes(x)) => out["scope"]["version"] = text(x).into(),
                            _ => {}
                        }
                    }
                }
                (2, Wire::Bytes(v)) => out["spans"].as_array_mut()?.push(span(v)?),
                _ => {}
            }
        }
        Some(out)
    };
    let mut resource_spans = Vec::new();
    for (n, w) in fields(body)? {
        if let (1, Wire::Bytes(rs)) = (n, w) {
            let mut out = json!({"resource": {"attributes": []}, "scopeSpans": []});
            for (n, w) in fields(rs)? {
                match (n, w) {
                    (1, Wire::Bytes(v)) => out["resource"] = attributes(v)?,
                    (2, Wire::Bytes(v)) => out["scopeSpans"].as_array_mut()?.push(scope_spans(v)?),
                    _ => {}
                }
            }
            resource_spans.push(out);
        }
    }
    Some(json!({ "resourceSpans": resource_spans }))
}

/// Every attribute of `span` (a server span when `on` is
/// [`On::Server`](spinscope::gateway::spans::semconv::On)) and of its links
/// is one `spinscope::gateway::spans::semconv` names for it.
pub fn assert_listed(span: &Value, on: spinscope::gateway::spans::semconv::On) {
    use spinscope::gateway::spans::semconv::{self, On};
    let keys = |v: &Value| -> Vec<String> {
        v["attributes"].as_array().unwrap().iter().map(|a| a["key"].as_str().unwrap().to_string()).collect()
    };
    let links = span["links"].as_array().cloned().unwrap_or_default();
    let all = keys(span).into_iter().map(|k| (k, on)).chain(links.iter().flat_map(keys).map(|k| (k, On::Link)));
    for (key, on) in all {
        let listed = semconv::attribute(&key).unwrap_or_else(|| panic!("{key} is not in semconv::ATTRIBUTES: {span}"));
        assert!(listed.on.contains(&on), "{key} on {on:?}: {span}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(mut v: u64, out: &mut Vec<u8>) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    fn bytes(field: u64, value: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        varint(field << 3 | 2, &mut out);
        varint(value.len() as u64, &mut out);
        out.extend_from_slice(value);
        out
    }

    fn number(field: u64, value: u64) -> Vec<u8> {
        let mut out = Vec::new();
        varint(field << 3, &mut out);
        varint(value, &mut out);
        out
    }

    fn fixed64(field: u64, value: u64) -> Vec<u8> {
        let mut out = Vec::new();
        varint(field << 3 | 1, &mut out);
        out.extend_from_slice(&value.to_le_bytes());
        out
    }

    fn key_value(key: &str, value: Vec<u8>) -> Vec<u8> {
        [bytes(1, key.as_bytes()), bytes(2, &value)].concat()
    }

    /// An `ExportTraceServiceRequest` as opentelemetry-proto lays it out
    /// reads back in the OTLP/JSON mapping's shape.
    #[test]
    fn protobuf_reads_as_the_json_mapping() {
        let span = [
            bytes(1, &[0x5b; 16]),
            bytes(2, &[0xc5; 8]),
            bytes(4, &[0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08]),
            bytes(5, b"tools/call word_count"),
            number(6, 2),
            fixed64(7, 1_000),
            fixed64(8, 2_000),
            bytes(9, &key_value("mcp.method.name", bytes(1, b"tools/call"))),
            bytes(9, &key_value("http.response.status_code", number(3, 200))),
            bytes(13, &[bytes(1, &[0x0a; 16]), bytes(2, &[0xb7; 8]), bytes(3, b"m=2")].concat()),
            bytes(15, &[bytes(2, b"tool_error"), number(3, 2)].concat()),
            // A field this reader does not know (flags, fixed32) is skipped.
            [vec![16 << 3 | 5 | 0x80, 1], vec![1, 0, 0, 0]].concat(),
        ]
        .concat();
        let scope = [bytes(1, &bytes(1, b"spinscope")), bytes(2, &span)].concat();
        let resource = bytes(1, &key_value("service.name", bytes(1, b"spin")));
        let body = bytes(1, &[bytes(1, &resource), bytes(2, &scope)].concat());

        let json = protobuf_to_json(&body).unwrap();
        let rs = &json["resourceSpans"][0];
        assert_eq!(rs["resource"]["attributes"][0]["value"]["stringValue"], "spin");
        assert_eq!(rs["scopeSpans"][0]["scope"]["name"], "spinscope");
        let s = &rs["scopeSpans"][0]["spans"][0];
        assert_eq!(s["traceId"], "5b".repeat(16));
        assert_eq!(s["spanId"], "c5".repeat(8));
        assert_eq!(s["parentSpanId"], "0102030405060708");
        assert_eq!(s["name"], "tools/call word_count");
        assert_eq!((s["kind"].as_u64(), s["startTimeUnixNano"].as_str()), (Some(2), Some("1000")));
        assert_eq!(span_attr(s, "mcp.method.name"), "tools/call");
        assert_eq!(span_attr(s, "http.response.status_code"), "200");
        assert_eq!(s["links"][0]["spanId"], "b7".repeat(8));
        assert_eq!(s["links"][0]["traceState"], "m=2");
        assert_eq!((s["status"]["code"].as_u64(), s["status"]["message"].as_str()), (Some(2), Some("tool_error")));
        assert!(protobuf_to_json(&[0x0a, 0x05, 0x01]).is_none(), "a cut message is refused");
    }
}
