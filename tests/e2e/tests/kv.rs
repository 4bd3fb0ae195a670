//! The key-value stores behave as Spin 4.0.2's do, quirks included
//! (docs/host.md, "Key-value stores"). The probe component drives
//! `wasi:keyvalue` directly (`/probe/cas`, `/probe/casmany`, `/probe/batch`,
//! `/probe/kv`); every assertion here holds on the local host and on real
//! Spin (`SPINSCOPE_E2E_HOST=spin`), except where a test says otherwise.

use serde_json::{json, Value};
use spinscope_e2e::*;

const MANIFEST: &str = "tests/e2e/manifests/foundation.toml";

/// Read from the environment, so this file does not depend on the harness
/// version.
fn on_spin() -> bool {
    std::env::var("SPINSCOPE_E2E_HOST").is_ok_and(|h| h.trim() == "spin")
}

fn probe(host: &Host, path: &str) -> Value {
    let reply = host.get(path);
    assert_eq!(reply.status, 200, "{path}: {}", reply.body);
    reply.json()
}

/// What `/probe/cas` reports: two handles race (both read, the second
/// swaps "b", then the first swaps "a"); a failed first swap is retried on
/// the handle the failure returned after the key was deleted; then a lone
/// CAS swaps "solo" and a CAS that never called `current` swaps "blind".
fn race(host: &Host, key: &str, seed: Option<&str>) -> Value {
    let seed = seed.map(|s| format!("&seed={s}")).unwrap_or_default();
    probe(host, &format!("/probe/cas?key={key}{seed}"))
}

#[test]
fn sqlite_cas_on_an_absent_key_always_succeeds_and_a_present_one_compares() {
    let host = HostBuilder::new(MANIFEST).start();
    // The quirk: both handles saw the key absent, both swaps succeed (an
    // unconditional upsert), the later write wins. A CAS without `current`
    // is an upsert too.
    assert_eq!(
        race(&host, "fresh", None),
        json!({
            "first_saw": null, "second_saw": null, "second": "ok", "first": "ok", "after_race": "a",
            "retry": null, "after_retry": null,
            "solo_saw": "a", "solo": "ok", "after_solo": "solo",
            "blind": "ok", "after_blind": "blind",
        })
    );
    // On an existing key the swap is `UPDATE ... WHERE value = <seen>`:
    // exactly one of the two wins. The handle a failed swap returns has
    // already read the key ("b"): once the key is deleted, its swap fails.
    assert_eq!(
        race(&host, "seeded", Some("v0")),
        json!({
            "first_saw": "v0", "second_saw": "v0", "second": "ok", "first": "cas-failed", "after_race": "b",
            "retry": "cas-failed", "after_retry": null,
            "solo_saw": null, "solo": "ok", "after_solo": "solo",
            "blind": "ok", "after_blind": "blind",
        })
    );
    let rounds = probe(&host, "/probe/casmany?key=rounds&n=5");
    assert_eq!(rounds, json!({"ok": 5, "cas_failed": 0, "value": "4"}));
}

fn connections_received(redis: &RedisServer) -> u64 {
    let info = redis.command(&["INFO", "stats"]);
    let line = info.lines().find(|l| l.starts_with("total_connections_received:")).expect("INFO stats");
    line.split(':').nth(1).unwrap().trim().parse().unwrap()
}

/// New Redis connections while `f` runs (not counting the one that asks).
fn connections_opened_by(redis: &RedisServer, f: impl FnOnce()) -> u64 {
    let before = connections_received(redis);
    f();
    connections_received(redis) - before - 1
}

#[test]
fn redis_swap_reports_cas_failed_even_when_it_applied() {
    let redis = RedisServer::start();
    let host = HostBuilder::new(MANIFEST).redis(&redis).start();
    // The shared connection is open once a first request has used the store.
    assert_eq!(probe(&host, "/probe/kv?op=get&key=warm"), json!({"ok": null}));
    for (key, seed) in [("fresh", None), ("seeded", Some("v0"))] {
        let mut report = Value::Null;
        // Each CAS handle opens a connection of its own (4 here), and so does
        // each failed swap, for the handle it returns (5: every swap fails).
        let opened = connections_opened_by(&redis, || report = race(&host, key, seed));
        assert_eq!(opened, 9, "{key}");
        let seen = seed.map_or(Value::Null, Value::from);
        // Every swap reports cas-failed (Spin's `UNWATCH <key>` is refused);
        // the second's SET was applied all the same, the first's EXEC was
        // aborted (its watched key had changed), the retry's too (deleted).
        assert_eq!(
            report,
            json!({
                "first_saw": seen, "second_saw": seen, "second": "cas-failed", "first": "cas-failed",
                "after_race": "b", "retry": "cas-failed", "after_retry": null,
                "solo_saw": null, "solo": "cas-failed", "after_solo": "solo",
                "blind": "cas-failed", "after_blind": "blind",
            }),
            "{key}"
        );
    }
    // Five uncontended rounds: five "failures", each applied.
    let mut rounds = Value::Null;
    let opened = connections_opened_by(&redis, || rounds = probe(&host, "/probe/casmany?key=rounds&n=5"));
    assert_eq!(rounds, json!({"ok": 0, "cas_failed": 5, "value": "4"}));
    assert_eq!(opened, 10);
    // `increment` is INCRBY on the shared connection: no new connection.
    assert_eq!(connections_opened_by(&redis, || assert_eq!(host.get("/probe/count?key=n").body, "1")), 0);
}

#[test]
fn batch_get_follows_spin_on_both_stores() {
    let redis = RedisServer::start();
    for store in ["sqlite", "redis"] {
        let builder = HostBuilder::new(MANIFEST);
        let host = if store == "redis" { builder.redis(&redis).start() } else { builder.start() };
        let set = probe(&host, "/probe/batch?set=a,b,k1,k2&get=");
        assert_eq!(set, json!({"got": []}), "{store}: an empty get-many never reaches the store");
        let get = probe(&host, "/probe/batch?get=b,missing,a,a");
        if store == "sqlite" {
            // Found keys only, in key order, each once.
            assert_eq!(get, json!({"got": [["a", "v-a"], ["b", "v-b"]]}));
            assert_eq!(probe(&host, "/probe/batch?get=missing"), json!({"got": []}));
            continue;
        }
        // Spin's Redis get-many sends `KEYS k1 k2 ...`: refused with 2+ keys...
        let error = get["get_error"].as_str().unwrap_or_else(|| panic!("{get}"));
        assert!(error.contains("wrong number of arguments for 'keys' command"), "{error}");
        // ... and one key is a pattern whose matches are paired up as
        // (key, value): none, or an even number...
        assert_eq!(probe(&host, "/probe/batch?get=missing"), json!({"got": []}));
        let pair = probe(&host, "/probe/batch?get=k*");
        let got = pair["got"].as_array().unwrap_or_else(|| panic!("{pair}"));
        assert_eq!(got.len(), 1, "{pair}");
        let mut names = [got[0][0].as_str().unwrap(), got[0][1].as_str().unwrap()];
        names.sort();
        assert_eq!(names, ["k1", "k2"], "{pair}: key names, not values");
        // ... while an odd number of matches is a panic on Spin: the request fails.
        assert_eq!(host.get("/probe/batch?get=a").status, 500);
        assert_eq!(probe(&host, "/probe/kv?op=get&key=a"), json!({"ok": "v-a"}), "and nothing lasting");
    }
}

#[test]
fn list_keys_returns_everything_and_refuses_a_cursor() {
    let host = HostBuilder::new(MANIFEST).start();
    probe(&host, "/probe/kv?op=set&key=one&value=1");
    assert_eq!(probe(&host, "/probe/kv?op=keys"), json!({"ok": {"keys": ["one"], "cursor": null}}));
    assert_eq!(
        probe(&host, "/probe/kv?op=keys&value=next"),
        json!({"error": "other: list_keys: cursor not supported"})
    );
}

#[test]
fn sqlite_increment_of_a_value_that_is_not_8_bytes() {
    // A host of its own: on Spin this poisons the store.
    let host = HostBuilder::new(MANIFEST).start();
    probe(&host, "/probe/kv?op=set&key=text&value=abc");
    probe(&host, "/probe/kv?op=set&key=other&value=x");
    let incr = host.get("/probe/kv?op=incr&key=text");
    if on_spin() {
        // Spin panics (`expect("incorrect length")`) with the connection's
        // mutex held: every later call on that SQLite file panics too.
        assert_eq!(incr.status, 500, "{}", incr.body);
        assert_eq!(host.get("/probe/kv?op=get&key=other").status, 500);
    } else {
        // The local host answers an error instead, and carries on.
        let error = incr.json()["error"].as_str().map(String::from).unwrap_or_else(|| panic!("{}", incr.body));
        assert!(error.contains("not an 8-byte little-endian counter"), "{error}");
        assert_eq!(probe(&host, "/probe/kv?op=get&key=other"), json!({"ok": "x"}));
    }
}
