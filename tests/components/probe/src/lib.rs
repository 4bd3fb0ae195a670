//! Test-only component for the host's end-to-end tests (`tests/e2e`). Each
//! path exercises one host capability and reports what the guest saw.
//!
//! `/probe/cas`, `/probe/casmany`, `/probe/batch` and `/probe/kv` call
//! `wasi:keyvalue` directly (their own bindings, not spinscope-spin's
//! wrappers) so the tests can pin the store semantics real Spin has,
//! compare-and-swap quirks included (docs/host.md).

use spin_sdk::http::{IntoResponse, Request, Response};
use spin_sdk::http_component;
use spinscope_spin::{kv, outbound, vars};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// Guest memory: a fresh instance per request means this is always 1.
static REQUESTS_SEEN_BY_THIS_INSTANCE: AtomicU32 = AtomicU32::new(0);

/// Bindings for the whole `wasi:keyvalue` draft2 surface (cas handles, batch).
mod raw {
    wit_bindgen::generate!({
        path: "../../../wit",
        world: "spinscope:platform/platform",
        generate_all,
        // spinscope-spin binds the same world: distinct custom section names.
        type_section_suffix: "probe",
    });
}

fn reply(status: u16, body: impl Into<String>) -> Response {
    Response::builder().status(status).header("content-type", "text/plain").body(body.into()).build()
}

fn query(req: &Request, name: &str) -> Option<String> {
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
        // A recorded tool call's store operations (the session and tool map
        // reads, the observation record's `set` under a new key), for the
        // benchmark's comparison with the gateway doing them.
        "pattern" => {
            let r = kv::Store::open_default().and_then(|s| {
                s.get("probe:a")?;
                s.get("probe:b")?;
                let id: String = spinscope_spin::random_bytes::<16>().iter().map(|b| format!("{b:02x}")).collect();
                s.set(&format!("probe:obs:{id}"), &[b'x'; 800])
            });
            match r {
                Ok(()) => reply(200, "ok"),
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
        "cas" => {
            let key = query(&req, "key").unwrap_or_else(|| "probe:cas".into());
            json_reply(kvprobe::cas_race(&key, query(&req, "seed").as_deref()))
        }
        "casmany" => {
            let key = query(&req, "key").unwrap_or_else(|| "probe:casmany".into());
            let n = query(&req, "n").and_then(|n| n.parse().ok()).unwrap_or(10);
            json_reply(kvprobe::cas_many(&key, n))
        }
        "batch" => {
            let list = |name: &str| -> Vec<String> {
                query(&req, name)
                    .map(|v| v.split(',').filter(|k| !k.is_empty()).map(String::from).collect())
                    .unwrap_or_default()
            };
            json_reply(kvprobe::batch(&list("set"), &list("get")))
        }
        "kv" => {
            let op = query(&req, "op").unwrap_or_default();
            let key = query(&req, "key").unwrap_or_default();
            json_reply(kvprobe::single(&op, &key, query(&req, "value").as_deref()))
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

fn json_reply(r: Result<serde_json::Value, String>) -> Response {
    match r {
        Ok(v) => Response::builder().status(200).header("content-type", "application/json").body(v.to_string()).build(),
        Err(e) => reply(500, e),
    }
}

/// Raw `wasi:keyvalue` scenarios on the `default` store, reported as JSON.
mod kvprobe {
    use crate::raw::wasi::keyvalue::{atomics, batch, store};
    use serde_json::{json, Value};

    fn text(v: Option<Vec<u8>>) -> Value {
        v.map_or(Value::Null, |b| String::from_utf8_lossy(&b).into_owned().into())
    }

    fn err(e: store::Error) -> String {
        match e {
            store::Error::NoSuchStore => "no-such-store".into(),
            store::Error::AccessDenied => "access-denied".into(),
            store::Error::Other(m) => format!("other: {m}"),
        }
    }

    /// "ok", "cas-failed" (with the handle the host returned) or "store-error: ..".
    fn swap(cas: atomics::Cas, value: &str) -> (String, Option<atomics::Cas>) {
        match atomics::swap(cas, value.as_bytes()) {
            Ok(()) => ("ok".into(), None),
            Err(atomics::CasError::CasFailed(h)) => ("cas-failed".into(), Some(h)),
            Err(atomics::CasError::StoreError(e)) => (format!("store-error: {}", err(e)), None),
        }
    }

    /// Two CAS handles race on `key` (absent, or holding `seed`): both read,
    /// the second swaps "b", then the first swaps "a". If the first fails,
    /// the key is deleted and the handle the failure returned swaps
    /// "a-retry" without calling `current` again. Then a lone CAS swaps
    /// "solo", and a CAS that never called `current` swaps "blind".
    pub fn cas_race(key: &str, seed: Option<&str>) -> Result<Value, String> {
        let b = store::open("default").map_err(err)?;
        match seed {
            Some(v) => b.set(key, v.as_bytes()).map_err(err)?,
            None => b.delete(key).map_err(err)?,
        }
        let first = atomics::Cas::new(&b, key).map_err(err)?;
        let first_saw = first.current().map_err(err)?;
        let second = atomics::Cas::new(&b, key).map_err(err)?;
        let second_saw = second.current().map_err(err)?;
        let (second_outcome, _) = swap(second, "b");
        let (first_outcome, returned) = swap(first, "a");
        let after_race = b.get(key).map_err(err)?;
        let (retry, after_retry) = match returned {
            Some(handle) => {
                b.delete(key).map_err(err)?;
                let (outcome, _) = swap(handle, "a-retry");
                (Value::from(outcome), text(b.get(key).map_err(err)?))
            }
            None => (Value::Null, Value::Null),
        };
        let solo = atomics::Cas::new(&b, key).map_err(err)?;
        let solo_saw = solo.current().map_err(err)?;
        let (solo_outcome, _) = swap(solo, "solo");
        let after_solo = b.get(key).map_err(err)?;
        let blind = atomics::Cas::new(&b, key).map_err(err)?;
        let (blind_outcome, _) = swap(blind, "blind");
        let after_blind = b.get(key).map_err(err)?;
        Ok(json!({
            "first_saw": text(first_saw), "second_saw": text(second_saw),
            "second": second_outcome, "first": first_outcome, "after_race": text(after_race),
            "retry": retry, "after_retry": after_retry,
            "solo_saw": text(solo_saw), "solo": solo_outcome, "after_solo": text(after_solo),
            "blind": blind_outcome, "after_blind": text(after_blind),
        }))
    }

    /// `n` sequential read-and-swap rounds on `key`, each with a new handle
    /// (handles a failed swap returns are dropped at once). Stops at the
    /// first error, reporting where.
    pub fn cas_many(key: &str, n: u32) -> Result<Value, String> {
        let b = store::open("default").map_err(err)?;
        let (mut ok, mut failed) = (0, 0);
        for i in 0..n {
            let step = (|| -> Result<String, String> {
                let cas = atomics::Cas::new(&b, key).map_err(|e| format!("new: {}", err(e)))?;
                cas.current().map_err(|e| format!("current: {}", err(e)))?;
                Ok(swap(cas, &i.to_string()).0)
            })();
            match step.as_deref() {
                Ok("ok") => ok += 1,
                Ok("cas-failed") => failed += 1,
                Ok(other) => return Ok(json!({"ok": ok, "cas_failed": failed, "stopped_at": i, "error": other})),
                Err(e) => return Ok(json!({"ok": ok, "cas_failed": failed, "stopped_at": i, "error": e})),
            }
        }
        Ok(json!({"ok": ok, "cas_failed": failed, "value": text(b.get(key).map_err(err)?)}))
    }

    /// `set-many` of `set` (each key's value is "v-<key>"), then `get-many` of `get`.
    pub fn batch(set: &[String], get: &[String]) -> Result<Value, String> {
        let b = store::open("default").map_err(err)?;
        let pairs: Vec<(String, Vec<u8>)> = set.iter().map(|k| (k.clone(), format!("v-{k}").into_bytes())).collect();
        if let Err(e) = batch::set_many(&b, &pairs) {
            return Ok(json!({"set_error": err(e)}));
        }
        Ok(match batch::get_many(&b, get) {
            Ok(found) => json!({"got": found.into_iter().map(|(k, v)| json!([k, text(v)])).collect::<Vec<_>>()}),
            Err(e) => json!({"get_error": err(e)}),
        })
    }

    /// One call: get, set, delete, exists, incr (by 1) or keys (list-keys;
    /// with `value` given, as a cursor).
    pub fn single(op: &str, key: &str, value: Option<&str>) -> Result<Value, String> {
        let b = store::open("default").map_err(err)?;
        let r = match op {
            "get" => b.get(key).map(text),
            "set" => b.set(key, value.unwrap_or_default().as_bytes()).map(|()| Value::Null),
            "delete" => b.delete(key).map(|()| Value::Null),
            "exists" => b.exists(key).map(Value::from),
            "incr" => atomics::increment(&b, key, 1).map(Value::from),
            "keys" => b.list_keys(value).map(|r| json!({"keys": r.keys, "cursor": r.cursor})),
            _ => return Err(format!("unknown op {op}")),
        };
        Ok(match r {
            Ok(v) => json!({"ok": v}),
            Err(e) => json!({"error": err(e)}),
        })
    }
}
