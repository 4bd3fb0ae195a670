//! `make bench`: measurements side by side in one run, printed as ratios.
//! Not a test: nothing here passes or fails on a number.
//!
//! 1. The store's cost on the local host (which models Spin's): a trivial
//!    request versus one `atomics.increment`, at 32 concurrent clients.
//! 2. Tool calls through the gateway with metric recording on versus off
//!    (`metrics_enabled`): on SQLite, on SQLite with the shards in an
//!    in-memory store (`metrics_store`), and on Redis: throughput, p50, p99.
//! 3. The exporter: rendering 1,000 and 10,000 series (native).
//!
//! How the numbers are taken, and what they mean: docs/benchmark.md.

use serde_json::json;
use spinscope_e2e::*;
use std::time::{Duration, Instant};

const CLIENTS: usize = 32;

struct Run {
    per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// `CLIENTS` threads each run `per_client` requests made by `make(i)`.
fn load(per_client: usize, make: impl Fn(usize) -> (String, Vec<(String, String)>, Option<String>) + Send + Sync + 'static) -> Run {
    let started = Instant::now();
    let mut times: Vec<f64> = concurrently(CLIENTS, per_client, move |i| {
        let (url, headers, body) = make(i);
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let t = Instant::now();
        let method = if body.is_some() { "POST" } else { "GET" };
        let r = request(method, &url, &headers, body.as_deref().map(str::as_bytes));
        assert!(r.status < 500, "{} {}", r.status, r.body);
        t.elapsed().as_secs_f64() * 1e3
    });
    let total = started.elapsed().as_secs_f64();
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    Run { per_sec: times.len() as f64 / total, p50_ms: percentile(&times, 0.5), p99_ms: percentile(&times, 0.99) }
}

fn print_run(label: &str, r: &Run) {
    println!("  {label:<40} {:>8.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms", r.per_sec, r.p50_ms, r.p99_ms);
}

fn store_cost() {
    println!("\n== 1. Store cost on the local host (32 clients) ==");
    let host = HostBuilder::new("tests/e2e/manifests/foundation.toml").start();
    let trivial_url = host.url("/probe/instance");
    let count_url = host.url("/probe/count?key=bench");
    let _ = load(5, { let u = trivial_url.clone(); move |_| (u.clone(), vec![], None) });
    let trivial = load(60, move |_| (trivial_url.clone(), vec![], None));
    let incr = load(20, move |_| (count_url.clone(), vec![], None));
    print_run("trivial component", &trivial);
    print_run("one increment (SQLite)", &incr);
    println!("  ratio trivial/increment throughput: {:.1}x  (Spin 4.0.2 measured: ~3000/400 = 7.5x)", trivial.per_sec / incr.per_sec);
}

/// Where the session records and the metric shards live.
#[derive(Clone, Copy, PartialEq)]
enum Stores {
    /// Both in the default SQLite store on disk (the out-of-the-box setup).
    Sqlite,
    /// Sessions on disk, the shards in an in-memory store (`metrics_store`).
    SqliteMetricsInMemory,
    /// Both in Redis.
    Redis,
}

impl Stores {
    fn name(self) -> &'static str {
        match self {
            Stores::Sqlite => "sqlite",
            Stores::SqliteMetricsInMemory => "sqlite + in-memory metrics",
            Stores::Redis => "redis",
        }
    }
}

fn tool_calls(stores: Stores, redis: Option<&RedisServer>, recording: bool, per_client: usize) -> Run {
    let mut builder = HostBuilder::app(Some(&["gateway", "text-tools", "calc"]))
        .var("tool_components", "text-tools,calc")
        .var("metrics_enabled", if recording { "true" } else { "false" });
    match (stores, redis) {
        (Stores::Redis, Some(r)) => builder = builder.redis(r),
        (Stores::SqliteMetricsInMemory, _) => builder = builder.metrics_in_memory(),
        _ => {}
    }
    let label = format!("{}: recording {}", stores.name(), if recording { "on" } else { "off" });
    let host = builder.start();
    let (mcp, _) = Mcp::connect(&host);
    let headers = mcp.headers();
    let url = host.url("/mcp");
    let body = |i: usize| json!({"jsonrpc":"2.0","id":i,"method":"tools/call","params":{"name":"word_count","arguments":{"text":"the quick brown fox"}}}).to_string();
    let _ = load(3, { let (u, h) = (url.clone(), headers.clone()); move |i| (u.clone(), h.clone(), Some(body(i))) });
    let run = load(per_client, move |i| (url.clone(), headers.clone(), Some(body(i))));
    print_run(&label, &run);
    run
}

fn gateway_overhead() {
    println!("\n== 2. Tool calls through the gateway, recording on vs off (32 clients) ==");
    for stores in [Stores::Sqlite, Stores::SqliteMetricsInMemory, Stores::Redis] {
        let redis = (stores == Stores::Redis).then(RedisServer::start);
        let off = tool_calls(stores, redis.as_ref(), false, 15);
        let on = tool_calls(stores, redis.as_ref(), true, 15);
        println!(
            "  {}: throughput on/off {:.2}   p50 on/off {:.2}   recording share of p50 latency {:.0}%  (goal <= 25%)",
            stores.name(),
            on.per_sec / off.per_sec,
            on.p50_ms / off.p50_ms,
            100.0 * (on.p50_ms - off.p50_ms).max(0.0) / on.p50_ms
        );
    }
}

fn exporter() {
    println!("\n== 3. Exporter ==");
    for series in [1_000usize, 10_000] {
        let snapshot = spinscope::metrics::bench_snapshot(series);
        let runs = 20;
        let t = Instant::now();
        let mut bytes = 0;
        for _ in 0..runs {
            bytes = spinscope::metrics::render_prometheus(&snapshot, &spinscope::metrics::RenderContext::default()).len();
        }
        let per = t.elapsed() / runs;
        println!("  render {series:>6} series (native): {:>8.2} ms  ({bytes} bytes)  goal < 100 ms", per.as_secs_f64() * 1e3);
    }
    let _ = Duration::from_secs(0);
}

fn main() {
    println!("spinscope benchmark: local host, {CLIENTS} concurrent clients, {} cores", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    store_cost();
    gateway_overhead();
    exporter();
}
