//! The SQLite metrics layout end to end (docs/metrics.md): each request
//! writes one observation record, scrapes fold them into the fold record
//! and delete them, exactly, under concurrent scrapes, and without counting
//! twice what a folder that died half-way left behind.

use serde_json::json;
use spinscope::keys;
use spinscope::metrics::catalog::TOOL_CALLS_TOTAL;
use spinscope::metrics::series::{ToolCall, ToolOutcome};
use spinscope::metrics::{FoldRecord, Recorder, Snapshot};
use spinscope_e2e::*;
use spinscope_testkit::exposition::{parse, Exposition};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// `spinscope_spin::metrics_fold::FOLD_BATCH` (that crate builds for wasm only).
const FOLD_BATCH: usize = 1_024;

fn app() -> HostBuilder {
    HostBuilder::app(Some(&["gateway", "metrics", "ready", "text-tools", "calc"]))
        .var("tool_components", "text-tools,calc")
}

fn scrape_url(url: &str) -> Exposition {
    let r = request("GET", url, &[], None);
    assert_eq!(r.status, 200, "{}", r.body);
    parse(&r.body).unwrap_or_else(|e| panic!("invalid exposition: {e}\n{}", r.body))
}

fn tool_calls(e: &Exposition) -> f64 {
    e.value("spinscope_tool_calls_total", &[]).unwrap_or(0.0)
}

/// `(key, value)` of every metrics record left in a stopped host's store.
fn metrics_records(state: &Path) -> Vec<(String, Vec<u8>)> {
    let db = rusqlite::Connection::open(state.join("sqlite_key_value.db")).unwrap();
    let mut stmt = db.prepare("SELECT key, value FROM spin_key_value WHERE key LIKE 'spinscope:v1:metrics:%'").unwrap();
    let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?))).unwrap();
    rows.map(Result::unwrap).collect()
}

fn observations(records: &[(String, Vec<u8>)]) -> Vec<&str> {
    records.iter().filter_map(|(k, _)| k.strip_prefix(keys::METRICS_OBS_PREFIX)).collect()
}

fn fold_record(records: &[(String, Vec<u8>)]) -> FoldRecord {
    let (_, bytes) = records.iter().find(|(k, _)| k == keys::METRICS_FOLD).expect("a fold record");
    FoldRecord::decode(bytes).unwrap()
}

/// Calls `sha256` `threads` × `per_thread` times at once on one session.
fn sha256_calls(host: &Host, threads: usize, per_thread: usize) {
    let (mcp, _) = Mcp::connect(host);
    let headers = mcp.headers();
    let url = host.url("/mcp");
    let statuses = concurrently(threads, per_thread, move |i| {
        let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let body =
            json!({"jsonrpc":"2.0","id":i,"method":"tools/call","params":{"name":"sha256","arguments":{"text": "x"}}});
        request("POST", &url, &h, Some(body.to_string().as_bytes())).status
    });
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
}

#[test]
fn a_scrape_folds_the_observation_records_and_deletes_them() {
    let host = app().start();
    sha256_calls(&host, 8, 5);
    let url = host.url("/metrics");
    // The gateway writes after answering: wait for the last recordings.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while tool_calls(&scrape_url(&url)) < 40.0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let first = scrape_url(&url);
    assert_eq!(tool_calls(&first), 40.0);
    assert_eq!(tool_calls(&scrape_url(&url)), 40.0, "a second scrape counts the folded records once");
    let detailed = host.get("/health/detailed").json();
    assert_eq!(detailed["parts"]["store"]["metrics_observations_pending"], 0, "{detailed}");
    assert_eq!(detailed["parts"]["store"]["metrics_observations_unreadable"], 0, "{detailed}");

    let state = host.stop();
    let records = metrics_records(&state);
    assert_eq!(observations(&records), Vec::<&str>::new(), "folded records are deleted");
    let fold = fold_record(&records);
    assert!(fold.generation >= 1);
    assert_eq!(fold.snapshot.counter(&TOOL_CALLS_TOTAL, &["sha256", "text-tools", "success"]), 40);
    assert!(!records.iter().any(|(k, _)| k.contains(":metrics:shard:")), "shard records are no longer written");
}

/// One `sha256` call's observation record, as the gateway writes it.
fn one_call() -> Vec<u8> {
    let mut recorder = Recorder::new();
    recorder.tool_call(ToolCall {
        tool: "sha256",
        component: "text-tools",
        outcome: ToolOutcome::Success,
        duration_s: 0.01,
    });
    let mut s = Snapshot::new();
    s.apply(&recorder, &spinscope::metrics::Limits::UNLIMITED);
    s.encode()
}

/// A folder that wrote its fold and died before deleting the records it
/// folded: the fold record lists them, so they are deleted, never counted
/// twice; a record that does not decode is neither counted nor deleted.
#[test]
fn records_a_dead_folder_left_are_deleted_not_counted_twice() {
    let (left, pending) = ("0".repeat(32), "1".repeat(32));
    let mut counted = Snapshot::new();
    for _ in 0..3 {
        counted.merge(&Snapshot::decode(&one_call()).unwrap());
    }
    let fold = FoldRecord { snapshot: counted, generation: 7, ids: [left.clone()].into_iter().collect(), audit: None };
    let state = state_with_store(&[
        (keys::METRICS_FOLD.to_string(), fold.encode()),
        (keys::metrics_obs(&left), one_call()),
        (keys::metrics_obs(&pending), one_call()),
        (keys::metrics_obs(&"2".repeat(32)), b"not a record".to_vec()),
    ]);
    let host = app().state_dir(&state).start();
    let url = host.url("/metrics");
    assert_eq!(tool_calls(&scrape_url(&url)), 4.0, "3 folded (one of them still in the store) + 1 pending");
    assert_eq!(tool_calls(&scrape_url(&url)), 4.0);
    let detailed = host.get("/health/detailed").json();
    assert_eq!(detailed["parts"]["store"]["metrics_observations_unreadable"], 1, "{detailed}");

    let records = metrics_records(&host.stop());
    assert_eq!(observations(&records), vec!["2".repeat(32).as_str()], "only the unreadable record is kept");
    let fold = fold_record(&records);
    assert_eq!(fold.snapshot.counter(&TOOL_CALLS_TOTAL, &["sha256", "text-tools", "success"]), 4);
    assert_eq!(fold.generation, 8);
    assert_eq!(fold.ids.iter().collect::<Vec<_>>(), vec![&pending], "the dead folder's id is no longer listed");
}

/// Scrapes running all the time while calls are recorded: every scrape
/// folds, they race each other (and the gateway's own occasional folds),
/// and yet no scrape ever sees a count go down or beyond the calls made,
/// and the last one is exact.
#[test]
fn concurrent_scrapes_never_lose_or_double_count() {
    let host = app().start();
    let url = host.url("/metrics");
    let done = Arc::new(AtomicBool::new(false));
    let scrapers: Vec<_> = (0..3)
        .map(|_| {
            let (url, done) = (url.clone(), done.clone());
            std::thread::spawn(move || {
                let mut last = 0.0;
                while !done.load(Ordering::Relaxed) {
                    let now = tool_calls(&scrape_url(&url));
                    assert!(now >= last, "a scrape went down: {last} -> {now}");
                    assert!(now <= 320.0, "more calls counted than made: {now}");
                    last = now;
                }
            })
        })
        .collect();
    sha256_calls(&host, 16, 20);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while tool_calls(&scrape_url(&url)) < 320.0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    done.store(true, Ordering::Relaxed);
    for s in scrapers {
        s.join().expect("a scraper saw an inexact count");
    }
    let e = scrape_url(&url);
    assert_eq!(tool_calls(&e), 320.0);
    assert_eq!(e.value("spinscope_metrics_record_failures_total", &[]), Some(0.0));
    let records = metrics_records(&host.stop());
    assert_eq!(fold_record(&records).snapshot.counter(&TOOL_CALLS_TOTAL, &["sha256", "text-tools", "success"]), 320);
}

/// More pending records than one fold takes (and than one `get-many`
/// reads): every scrape still counts them all, each fold persists at most
/// `FOLD_BATCH` of them, and the next scrape folds the rest.
#[test]
fn a_backlog_is_counted_whole_and_folded_in_batches() {
    let backlog = 1_500;
    let entries: Vec<(String, Vec<u8>)> =
        (0..backlog).map(|i| (keys::metrics_obs(&format!("{i:032x}")), one_call())).collect();
    let host = app().state_dir(&state_with_store(&entries)).start();
    let url = host.url("/metrics");
    assert_eq!(tool_calls(&scrape_url(&url)), backlog as f64, "all counted before any is folded");
    let detailed = host.get("/health/detailed").json();
    let pending = backlog - FOLD_BATCH;
    assert_eq!(detailed["parts"]["store"]["metrics_observations_pending"], pending, "{detailed}");
    assert_eq!(tool_calls(&scrape_url(&url)), backlog as f64);
    let records = metrics_records(&host.stop());
    assert_eq!(observations(&records).len(), 0);
    assert_eq!(fold_record(&records).snapshot.counter(&TOOL_CALLS_TOTAL, &["sha256", "text-tools", "success"]), 1_500);
}
