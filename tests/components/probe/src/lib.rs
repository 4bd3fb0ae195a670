//! Test-only component for the host's end-to-end tests (`tests/e2e`). Each
//! path exercises one host capability and reports what the guest saw.

use spin_sdk::http::{IntoResponse, Request, Response};
use spin_sdk::http_component;
use spinscope_spin::{kv, outbound, vars};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// Guest memory: a fresh instance per request means this is always 1.
static REQUESTS_SEEN_BY_THIS_INSTANCE: AtomicU32 = AtomicU32::new(0);

fn reply(status: u16, body: impl Into<String>) -> Response {
    Response::builder().status(status).header("content-type", "text/plain").body(body.into()).build()
}

fn query<'a>(req: &'a Request, name: &str) -> Option<String> {
    req.query().split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name).then(|| v.replace("%2F", "/").replace("%3A", ":"))
    })
}

#[http_component]
fn handle(req: Request) -> anyhow::Result<impl IntoResponse> {
    let path = req.path().to_string();
    let action = path.rsplit('/').next().unwrap_or_default();
    Ok(match action {
        "count" => {
            let key = query(&req, "key").unwrap_or_else(|| "probe:hits".into());
            match kv::Store::open_default().and_then(|s| s.increment(&key, 1)) {
                Ok(n) => reply(200, n.to_string()),
                Err(e) => reply(500, format!("store error: {e}")),
            }
        }
        "instance" => {
            let n = REQUESTS_SEEN_BY_THIS_INSTANCE.fetch_add(1, Ordering::SeqCst) + 1;
            reply(200, n.to_string())
        }
        "open" => {
            let name = query(&req, "store").unwrap_or_default();
            match kv::Store::open(&name) {
                Ok(_) => reply(200, "opened"),
                Err(e) => reply(403, e.to_string()),
            }
        }
        "chain" => {
            let to = query(&req, "to").unwrap_or_default();
            let target = query(&req, "path").unwrap_or_else(|| "/".into());
            forward(&format!("http://{to}.spin.internal{target}"))
        }
        "outbound" => forward(&query(&req, "url").unwrap_or_default()),
        "headers" => {
            let seen: serde_json::Map<String, serde_json::Value> = req
                .headers()
                .filter(|(name, _)| name.starts_with("spin-") || *name == "traceparent")
                .map(|(name, value)| (name.to_string(), value.as_str().unwrap_or_default().into()))
                .collect();
            reply(200, serde_json::Value::Object(seen).to_string())
        }
        "log" => {
            let line = query(&req, "line").unwrap_or_else(|| "probe-log-line".into());
            println!("{line}");
            eprintln!("stderr {line}");
            reply(200, "logged")
        }
        "var" => {
            let name = query(&req, "name").unwrap_or_default();
            match vars::get(&name) {
                Ok(Some(v)) => reply(200, v),
                Ok(None) => reply(404, format!("no variable {name}")),
                Err(e) => reply(500, e.to_string()),
            }
        }
        _ => reply(404, format!("probe has no action for {path}")),
    })
}

fn forward(url: &str) -> Response {
    match outbound::send(outbound::Outgoing::get(url), Duration::from_secs(10), 1 << 20) {
        Ok(r) => reply(200, format!("{} {}", r.status, String::from_utf8_lossy(&r.body))),
        Err(e) => reply(502, format!("outbound failed: {e}")),
    }
}
