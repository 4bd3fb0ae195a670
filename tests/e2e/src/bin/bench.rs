//! `make bench`: measurements side by side in one run, printed as ratios.
//! Not a test: nothing here passes or fails on a number; the goals are
//! printed as met or not met.
//!
//! Every table runs on the local host and, when there is a Spin binary
//! (`SPIN_BIN`, else `spin` on `PATH`), on real Spin too, with the Spin /
//! local ratio for the same work, so the host's performance model stays
//! honest. Without Spin one line says so and only the host's tables run.
//!
//! 1. The store's cost: a trivial request versus one `atomics.increment`
//!    per request on the default SQLite store, with the file in write-ahead
//!    logging mode as `make up` prepares it and with Spin's own rollback
//!    journal. The increment rate is the store's serialized fsync ceiling. Next to it, a recorded tool call's
//!    store operations without the gateway (two `get`s and the `set` of a
//!    new 800-byte record), which tells the store's share of the gap from
//!    the gateway's.
//! 2. Tool calls through the gateway with metric recording on versus off
//!    (`metrics_enabled`): on SQLite, on SQLite with the metrics in an
//!    in-memory store (`metrics_store`), and on Redis (with one increment
//!    per request on that Redis for scale): throughput, p50, p99.
//! 3. Spin / local for each row.
//! 4. The goals, on Spin's numbers: recording's share of p50 latency with
//!    the in-memory metrics store and with Redis (at most 25 %), and the
//!    SQLite throughput with recording against what the store allows the
//!    gateway, taken in the same rounds (at least 90 %): the store's
//!    ceiling, or the gateway's rate without recording when that is lower.
//! 5. The exporter: rendering 1,000 and 10,000 series (native).
//! 6. Legacy versus modern `tools/call`: a handshake-era session against
//!    2026-07-28's stateless requests on the same gateway, recording on, on
//!    SQLite and with the metrics in memory: throughput side by side and
//!    the modern / legacy ratio.
//!
//! All at 32 connections (closed loop: 32 client threads, each sending its
//! next request when the last is answered). All configurations of a store
//! setup, on both hosts, run at once, each on a host of its own, and are
//! measured in short slices taken in turn over several rounds, so the load
//! of a shared machine drifts over all of them alike rather than over
//! whichever ran last; the goals also show the spread over the rounds.
//!
//! Knobs: `bench --quick` (smaller samples, for a smoke run);
//! `SPINSCOPE_BENCH_SLICE_SECS`, `SPINSCOPE_BENCH_ROUNDS`;
//! `SPINSCOPE_BENCH_ONLY=sqlite,memory,redis,eras` (store setups; `eras`
//! is table 6);
//! `SPINSCOPE_BENCH_HOSTS=local,spin`; `SPINSCOPE_BENCH_VARS=name=value,...`
//! (app variables for every gateway, to try a setting, e.g.
//! `tool_map_ttl_ms=60000`).
//!
//! How the numbers are taken, and what they mean: docs/benchmark.md.

use serde_json::json;
use spinscope_e2e::*;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CLIENTS: usize = 32;
/// Recording's share of p50 latency allowed (in-memory metrics, Redis).
const GOAL_SHARE: f64 = 0.25;
/// SQLite throughput with recording, as a share of the store's ceiling.
const GOAL_CEILING: f64 = 0.90;

/// How long each measured slice lasts and how many rounds of slices run.
struct Plan {
    slice: Duration,
    rounds: usize,
    warmup: Duration,
    /// A pause after each slice: the gateway records metrics after it has
    /// answered, so a slice leaves recordings behind; they finish before
    /// the next row's slice starts.
    settle: Duration,
}

impl Plan {
    fn from_env() -> Plan {
        let quick = std::env::args().any(|a| a == "--quick");
        let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<f64>().ok());
        let slice = env("SPINSCOPE_BENCH_SLICE_SECS").unwrap_or(if quick { 0.4 } else { 1.5 });
        let rounds = env("SPINSCOPE_BENCH_ROUNDS").map(|r| r.max(1.0) as usize).unwrap_or(if quick { 1 } else { 4 });
        Plan {
            slice: Duration::from_secs_f64(slice),
            rounds,
            warmup: Duration::from_secs_f64((slice / 2.0).clamp(0.2, 1.0)),
            settle: Duration::from_secs_f64((slice / 6.0).clamp(0.05, 0.25)),
        }
    }
}

fn label(kind: HostKind) -> &'static str {
    match kind {
        HostKind::Local => "local",
        HostKind::Spin => "spin",
    }
}

/// Starts `builder` on the host `kind`. The harness picks the host from
/// `SPINSCOPE_E2E_HOST` when it starts one, so it is set for each start;
/// no client thread of the bench runs then.
fn start(mut builder: HostBuilder, kind: HostKind) -> Host {
    std::env::set_var("SPINSCOPE_E2E_HOST", label(kind));
    if let Some(disk) = slow_disk() {
        builder = builder
            .env("LD_PRELOAD", &disk.shim.display().to_string())
            .env("SPINSCOPE_FSYNC_DELAY_US", &disk.delay.as_micros().to_string());
    }
    let host = builder.start();
    assert_eq!(host.kind, kind, "the harness started another host than asked for");
    host
}

/// A slower disk, emulated: `SPINSCOPE_BENCH_FSYNC_MS` adds that long to
/// every fsync of every host the bench starts, through the
/// `spinscope-fsync-delay` shim (`LD_PRELOAD`; `make bench-slow-disk`
/// builds it). The store's ceiling then is the disk's, as on the 2.5 ms
/// and 12 ms disks the project is deployed on, rather than this machine's
/// fast one, on which the gateway's CPU runs out first.
struct SlowDisk {
    shim: PathBuf,
    delay: Duration,
}

fn slow_disk() -> Option<&'static SlowDisk> {
    static DISK: std::sync::OnceLock<Option<SlowDisk>> = std::sync::OnceLock::new();
    DISK.get_or_init(|| {
        let ms: f64 =
            std::env::var("SPINSCOPE_BENCH_FSYNC_MS").ok()?.parse().expect("SPINSCOPE_BENCH_FSYNC_MS: milliseconds");
        let shim = spinscope_e2e::target_dir().join("release/libspinscope_fsync_delay.so");
        assert!(shim.exists(), "{} is missing: cargo build --release -p spinscope-fsync-delay", shim.display());
        Some(SlowDisk { shim, delay: Duration::from_secs_f64(ms / 1e3) })
    })
    .as_ref()
}

/// The Spin CLI the harness will run, made absolute (a relative `SPIN_BIN`
/// is relative to where the bench was started), and its version line; or
/// why there is none.
fn find_spin() -> Result<(PathBuf, String), String> {
    let Some(bin) = spin_binary() else {
        return Err("no Spin binary (set SPIN_BIN or put `spin` on PATH)".into());
    };
    let bin = if bin.components().count() > 1 { std::fs::canonicalize(&bin).unwrap_or(bin) } else { bin };
    match std::process::Command::new(&bin).arg("--version").output() {
        Ok(out) if out.status.success() => {
            std::env::set_var("SPIN_BIN", &bin);
            Ok((bin, String::from_utf8_lossy(&out.stdout).trim().to_string()))
        }
        Ok(out) => Err(format!("`{} --version` failed ({})", bin.display(), out.status)),
        Err(e) => Err(format!("{} cannot run: {e}", bin.display())),
    }
}

/// Stops a host (the harness kills its whole process group) and removes
/// its state directory.
fn stop(host: Host) {
    let _ = std::fs::remove_dir_all(host.stop());
}

/// One request of a load: URL, headers, optional POST body.
#[derive(Clone)]
struct Req {
    url: String,
    headers: Vec<(String, String)>,
    body: Option<String>,
    /// The CPU time of the host that serves it.
    cpu: CpuMeter,
    /// What its work moves in the host's store, when the bench counts it.
    committed: Option<Committed>,
}

/// Sends `req` on this thread's connection; the status, or why there was none.
fn send(req: &Req) -> Result<u16, String> {
    thread_local!(static AGENT: ureq::Agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(60)).build());
    let mut r = AGENT.with(|a| a.request(if req.body.is_some() { "POST" } else { "GET" }, &req.url));
    for (k, v) in &req.headers {
        r = r.set(k, v);
    }
    let result = match &req.body {
        Some(b) => r.send_string(b),
        None => r.call(),
    };
    let resp = match result {
        Ok(resp) => resp,
        Err(ureq::Error::Status(_, resp)) => resp,
        Err(e) => return Err(e.to_string()),
    };
    let status = resp.status();
    let mut sink = Vec::new();
    resp.into_reader().take(16 << 20).read_to_end(&mut sink).map_err(|e| e.to_string())?;
    Ok(status)
}

#[derive(Clone, Copy)]
struct Run {
    per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn run_of(times_ms: &[f64], seconds: f64) -> Run {
    let mut t = times_ms.to_vec();
    t.sort_by(|a, b| a.partial_cmp(b).unwrap());
    Run { per_sec: t.len() as f64 / seconds.max(1e-9), p50_ms: percentile(&t, 0.5), p99_ms: percentile(&t, 0.99) }
}

/// What the slices of one configuration added up to.
#[derive(Default, Clone)]
struct Samples {
    times_ms: Vec<f64>,
    seconds: f64,
    /// Each slice on its own, in round order.
    slices: Vec<Run>,
    /// Non-2xx answers and transport errors, with one example.
    failures: usize,
    example_failure: Option<String>,
    /// The host's CPU time over the slices (and the pause after each, when
    /// the recordings of the last answers finish), and the requests it served
    /// meanwhile, those answered after a slice's end included.
    cpu: Duration,
    served: usize,
    /// What the store committed over the slices (`Req::committed`), and
    /// the time between the reads before and after each slice.
    committed: u64,
    committed_seconds: f64,
}

impl Samples {
    fn run(&self) -> Run {
        run_of(&self.times_ms, self.seconds)
    }
    /// The host's CPU time per request, in ms.
    fn cpu_ms(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e3 / self.served.max(1) as f64
    }
    /// What the store committed per second, when it was counted.
    fn committed_per_sec(&self) -> Option<f64> {
        (self.committed_seconds > 0.0).then(|| self.committed as f64 / self.committed_seconds)
    }
}

/// `CLIENTS` threads send `req` back to back for `length`. Only answers
/// that come within the slice count (throughput over the slice's length,
/// latencies); the requests still in flight at its end are waited for and
/// dropped, so a slow tail neither stretches nor shortens the slice.
fn slice(req: &Req, length: Duration, settle: Duration, into: &mut Samples) {
    let cpu_before = req.cpu.read();

    let deadline = Instant::now() + length;
    let req = Arc::new(req.clone());
    let threads: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let req = req.clone();
            std::thread::spawn(move || {
                let mut times = Vec::new();
                let mut failures = Vec::new();
                let mut served = 0;
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let outcome = send(&req);
                    served += 1;
                    if Instant::now() > deadline {
                        break;
                    }
                    times.push(t.elapsed().as_secs_f64() * 1e3);
                    match outcome {
                        Ok(status) if (200..300).contains(&status) => {}
                        Ok(status) => failures.push(format!("status {status}")),
                        Err(e) => failures.push(e),
                    }
                }
                (times, failures, served)
            })
        })
        .collect();
    // The store's count over the slice's last three quarters, when the
    // calls' pipeline is full (a call is answered, then recorded, a call's
    // latency after it starts), read as the slice ends, before its last
    // answers are waited for.
    let committed_before = req.committed.as_ref().and_then(|c| {
        std::thread::sleep(length / 4);
        quick_read(c)
    });
    std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
    if let (Some(c), Some((before, at))) = (&req.committed, committed_before) {
        if let Some((after, now)) = quick_read(c) {
            into.committed += after.saturating_sub(before);
            into.committed_seconds += now.duration_since(at).as_secs_f64();
        }
    }
    let mut times = Vec::new();
    for t in threads {
        let (mine, failures, served) = t.join().unwrap();
        into.served += served;
        times.extend(mine);
        into.failures += failures.len();
        if into.example_failure.is_none() {
            into.example_failure = failures.into_iter().next();
        }
    }
    into.slices.push(run_of(&times, length.as_secs_f64()));
    into.times_ms.extend(times);
    into.seconds += length.as_secs_f64();
    std::thread::sleep(settle);
    into.cpu += req.cpu.read().saturating_sub(cpu_before);
}

/// The store's count and when it was read, if the read was quick enough to
/// date it. With SQLite's rollback journal a reader waits for a moment
/// when no write is pending, which under load can take seconds (or fail
/// after the 5 s busy timeout): such a slice is not counted.
fn quick_read(committed: &Committed) -> Option<(u64, Instant)> {
    let started = Instant::now();
    let count = committed.read().ok()?;
    let now = Instant::now();
    (now - started < Duration::from_millis(50)).then_some((count, now))
}

/// One configuration under load: its row name, host, request, samples.
struct Config {
    name: String,
    kind: HostKind,
    req: Req,
    samples: Samples,
    host: Option<Host>,
}

impl Config {
    fn new(name: impl Into<String>, kind: HostKind, req: Req, host: Host) -> Config {
        Config { name: name.into(), kind, req, samples: Samples::default(), host: Some(host) }
    }
}

impl Drop for Config {
    fn drop(&mut self) {
        if let Some(host) = self.host.take() {
            stop(host);
        }
    }
}

/// Warms every configuration up, then measures them in turn, round after
/// round; every other round runs in reverse order.
fn measure(configs: &mut [Config], plan: &Plan) {
    for c in configs.iter() {
        slice(&c.req, plan.warmup, plan.settle, &mut Samples::default());
    }
    for round in 0..plan.rounds {
        let mut order: Vec<usize> = (0..configs.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for i in order {
            let c = &mut configs[i];
            slice(&c.req, plan.slice, plan.settle, &mut c.samples);
        }
    }
}

/// Every measured row, by (row name, host).
type Results = BTreeMap<(String, &'static str), Samples>;

fn report(configs: &[Config], results: &mut Results) {
    for c in configs {
        let r = c.samples.run();
        let failures = match c.samples.failures {
            0 => String::new(),
            n => format!("   {n} failed, e.g. {}", c.samples.example_failure.as_deref().unwrap_or("?")),
        };
        println!(
            "  {:<36} {:<5} {:>6.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms   host CPU {:.2} ms/req{failures}",
            c.name,
            label(c.kind),
            r.per_sec,
            r.p50_ms,
            r.p99_ms,
            c.samples.cpu_ms()
        );
        results.insert((c.name.clone(), label(c.kind)), c.samples.clone());
    }
}

fn get(host: &Host, path: &str) -> Req {
    Req { url: host.url(path), headers: vec![], body: None, cpu: host.cpu_meter(), committed: None }
}

/// An MCP `tools/call` on a session of `host`.
fn tool_call(host: &Host) -> Req {
    let (mcp, _) = Mcp::connect(host);
    let body = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"word_count","arguments":{"text":"the quick brown fox"}}});
    Req {
        url: host.url("/mcp"),
        headers: mcp.headers(),
        body: Some(body.to_string()),
        cpu: host.cpu_meter(),
        committed: None,
    }
}

/// Where the session records and the metric shards live.
#[derive(Clone, Copy, PartialEq)]
enum Stores {
    /// Both in the default SQLite store on disk, in write-ahead logging mode
    /// as `make up` prepares it (the out-of-the-box setup).
    Sqlite,
    /// Both in the default SQLite store as Spin leaves it when nothing
    /// prepared it: SQLite's rollback journal.
    SqliteRollback,
    /// Sessions on disk, the metrics in an in-memory store (`metrics_store`).
    SqliteMetricsInMemory,
    /// Both in Redis.
    Redis,
}

impl Stores {
    fn name(self) -> &'static str {
        match self {
            Stores::Sqlite => "sqlite",
            Stores::SqliteRollback => "sqlite, rollback journal",
            Stores::SqliteMetricsInMemory => "sqlite + in-memory metrics",
            Stores::Redis => "redis",
        }
    }
}

fn on_off(stores: Stores, recording: bool) -> String {
    format!("{}: recording {}", stores.name(), if recording { "on" } else { "off" })
}

const TRIVIAL: &str = "trivial component";
/// The SQLite setups of tables 1 and 2: the file as `make up` prepares it,
/// and as Spin creates it.
const SQLITE_SETUPS: [(Stores, Journal); 2] =
    [(Stores::Sqlite, Journal::Wal), (Stores::SqliteRollback, Journal::SpinDefault)];

/// One `atomics.increment` per request: the store's serialized write rate.
fn increment_row(stores: Stores) -> String {
    format!("one increment per request ({})", stores.name())
}

/// A recorded tool call's store operations without the gateway: the
/// session and tool map reads and the observation record's `set`.
fn pattern_row(stores: Stores) -> String {
    format!("2 gets + 1 new 800-byte set ({})", stores.name())
}
const INCREMENT_REDIS: &str = "one increment per request (redis)";

/// The gateway with recording on or off, on `stores`.
fn gateway(stores: Stores, kind: HostKind, redis: Option<&RedisServer>, recording: bool) -> Config {
    let host = gateway_host(stores, kind, redis, recording);
    let mut req = tool_call(&host);
    if recording && matches!(stores, Stores::Sqlite | Stores::SqliteRollback) {
        // The SQLite goal counts what the store recorded, not only answers.
        req.committed = Some(Committed::recorded_tool_calls(&host.state_dir));
    }
    Config::new(on_off(stores, recording), kind, req, host)
}

fn gateway_host(stores: Stores, kind: HostKind, redis: Option<&RedisServer>, recording: bool) -> Host {
    let mut builder = HostBuilder::app(Some(&["gateway", "text-tools", "calc"]))
        .var("tool_components", "text-tools,calc")
        .var("metrics_enabled", if recording { "true" } else { "false" });
    for (name, value) in bench_vars() {
        builder = builder.var(&name, &value);
    }
    match stores {
        Stores::Redis => builder = builder.redis(redis.expect("a Redis for the Redis setup")),
        Stores::SqliteMetricsInMemory => builder = builder.metrics_in_memory(),
        Stores::SqliteRollback => builder = builder.journal(Journal::SpinDefault),
        Stores::Sqlite => {}
    }
    start(builder, kind)
}

/// `SPINSCOPE_BENCH_VARS=name=value,...`.
fn bench_vars() -> Vec<(String, String)> {
    std::env::var("SPINSCOPE_BENCH_VARS")
        .unwrap_or_default()
        .split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').expect("SPINSCOPE_BENCH_VARS: name=value,...");
            (k.trim().to_string(), v.trim().to_string())
        })
        .collect()
}

fn foundation(kind: HostKind, redis: Option<&RedisServer>, journal: Journal) -> Host {
    let mut builder = HostBuilder::new("tests/e2e/manifests/foundation.toml").journal(journal);
    if let Some(r) = redis {
        builder = builder.redis(r);
    }
    start(builder, kind)
}

/// Tables 1 and the SQLite rows of 2, measured in the same rounds, so the
/// store's ceiling is taken next to the gateway on that store.
fn sqlite_group(kinds: &[HostKind], plan: &Plan, results: &mut Results) {
    let mut configs = Vec::new();
    let mut store_rows = vec![TRIVIAL.to_string()];
    for &kind in kinds {
        for (i, (stores, journal)) in SQLITE_SETUPS.into_iter().enumerate() {
            // One host for the store rows: the trivial request does not touch the store.
            let host = foundation(kind, None, journal);
            if i == 0 {
                let req = get(&host, "/probe/instance");
                configs.push(Config { name: TRIVIAL.into(), kind, req, samples: Samples::default(), host: None });
            }
            let pattern = get(&host, "/probe/pattern");
            configs.push(Config {
                name: pattern_row(stores),
                kind,
                req: pattern,
                samples: Samples::default(),
                host: None,
            });
            let mut increment = get(&host, "/probe/count?key=bench");
            increment.committed = Some(Committed::counter(&host.state_dir, "bench"));
            configs.push(Config::new(increment_row(stores), kind, increment, host));
            configs.push(gateway(stores, kind, None, false));
            configs.push(gateway(stores, kind, None, true));
            store_rows.extend([pattern_row(stores), increment_row(stores)]);
        }
    }
    measure(&mut configs, plan);
    let (store, tools): (Vec<Config>, Vec<Config>) = configs.into_iter().partition(|c| store_rows.contains(&c.name));
    println!("\n== 1. Store cost: trivial request vs one increment on the default SQLite store ==");
    println!("  (sqlite: write-ahead logging, as `make up` prepares the file; rollback journal: as Spin creates it)");
    report(&store, results);
    for &kind in kinds {
        for (stores, _) in SQLITE_SETUPS {
            if let (Some(t), Some(i)) =
                (results.get(&(TRIVIAL.into(), label(kind))), results.get(&(increment_row(stores), label(kind))))
            {
                println!(
                    "  {:<36} {:<5} trivial / increment throughput {:.1}x",
                    stores.name(),
                    label(kind),
                    t.run().per_sec / i.run().per_sec
                );
            }
        }
    }
    println!("\n== 2. Tool calls through the gateway, recording on vs off ==");
    report(&tools, results);
    for (stores, _) in SQLITE_SETUPS {
        on_off_summary(stores, kinds, results);
    }
}

/// The rows of table 2 for the in-memory metrics store or Redis.
fn store_group(stores: Stores, kinds: &[HostKind], plan: &Plan, results: &mut Results) {
    // One Redis per host, so neither sees the other's keys.
    let redis: Vec<Option<RedisServer>> =
        kinds.iter().map(|_| (stores == Stores::Redis).then(RedisServer::start)).collect();
    let mut configs = Vec::new();
    for (i, &kind) in kinds.iter().enumerate() {
        configs.push(gateway(stores, kind, redis[i].as_ref(), false));
        configs.push(gateway(stores, kind, redis[i].as_ref(), true));
        if let Some(r) = &redis[i] {
            // One store round trip next to the gateway's work, for scale.
            let host = foundation(kind, Some(r), Journal::Wal);
            configs.push(Config::new(INCREMENT_REDIS, kind, get(&host, "/probe/count?key=bench"), host));
        }
    }
    measure(&mut configs, plan);
    report(&configs, results);
    drop(configs);
    on_off_summary(stores, kinds, results);
}

/// Recording's share of the p50 latency with recording on.
fn share(on: &Run, off: &Run) -> f64 {
    (on.p50_ms - off.p50_ms).max(0.0) / on.p50_ms
}

fn on_off_summary(stores: Stores, kinds: &[HostKind], results: &Results) {
    for &kind in kinds {
        let (Some(off), Some(on)) =
            (results.get(&(on_off(stores, false), label(kind))), results.get(&(on_off(stores, true), label(kind))))
        else {
            continue;
        };
        let cpu = on.cpu_ms() - off.cpu_ms();
        let (off, on) = (off.run(), on.run());
        println!(
            "  {:<36} {:<5} throughput on/off {:.2}   p50 on/off {:.2}   recording share of p50 {:.0}%   machine time per call {:+.2} ms   host CPU per call {:+.2} ms",
            stores.name(),
            label(kind),
            on.per_sec / off.per_sec,
            on.p50_ms / off.p50_ms,
            100.0 * share(&on, &off),
            1e3 * (1.0 / on.per_sec - 1.0 / off.per_sec),
            cpu
        );
    }
}

fn host_vs_spin(results: &Results) {
    let rows: Vec<String> = [TRIVIAL, INCREMENT_REDIS]
        .into_iter()
        .map(String::from)
        .chain(SQLITE_SETUPS.into_iter().flat_map(|(s, _)| [increment_row(s), pattern_row(s)]))
        .chain(
            [Stores::Sqlite, Stores::SqliteRollback, Stores::SqliteMetricsInMemory, Stores::Redis]
                .into_iter()
                .flat_map(|s| [on_off(s, false), on_off(s, true)]),
        )
        .collect();
    println!("\n== 3. Local host vs Spin, same work (spin / local) ==");
    for row in rows {
        if let (Some(l), Some(s)) = (results.get(&(row.clone(), "local")), results.get(&(row.clone(), "spin"))) {
            let (l, s) = (l.run(), s.run());
            println!(
                "  {row:<36} throughput {:>5.2}x   p50 {:>5.2}x   p99 {:>5.2}x",
                s.per_sec / l.per_sec,
                s.p50_ms / l.p50_ms,
                s.p99_ms / l.p99_ms
            );
        }
    }
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "NOT MET"
    }
}

/// `f` of each round's pair of slices, as "lo–hi %".
fn spread(a: &Samples, b: &Samples, f: impl Fn(&Run, &Run) -> f64) -> String {
    let values: Vec<f64> =
        a.slices.iter().zip(&b.slices).map(|(x, y)| 100.0 * f(x, y)).filter(|v| v.is_finite()).collect();
    let lo = values.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = values.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    if values.len() < 2 {
        String::new()
    } else {
        format!(" (rounds {lo:.0}-{hi:.0}%)")
    }
}

fn goals(kind: HostKind, results: &Results) {
    let host = label(kind);
    let get = |row: String| results.get(&(row, host));
    for stores in [Stores::SqliteMetricsInMemory, Stores::Redis] {
        if let (Some(off), Some(on)) = (get(on_off(stores, false)), get(on_off(stores, true))) {
            let s = share(&on.run(), &off.run());
            println!(
                "  {host:<5} {:<26} recording share of p50 latency {:>3.0}%{}, p50 {:.1} -> {:.1} ms   goal <= {:.0}%: {}",
                stores.name(),
                100.0 * s,
                spread(on, off, share),
                off.run().p50_ms,
                on.run().p50_ms,
                100.0 * GOAL_SHARE,
                verdict(s <= GOAL_SHARE)
            );
        }
    }
    for (stores, _) in SQLITE_SETUPS {
        sqlite_goal(host, stores, results);
    }
}

/// The SQLite goal: throughput with recording against what the store's
/// serialized writes allow the gateway. That is the store's ceiling (one
/// increment per request) when it is below what the gateway serves without
/// recording; when it is above, the store does not set the pace, and the
/// gateway's own rate without recording is what it allows.
fn sqlite_goal(host: &'static str, stores: Stores, results: &Results) {
    let get = |row: String| results.get(&(row, host));
    let (Some(on), Some(off), Some(ceiling)) =
        (get(on_off(stores, true)), get(on_off(stores, false)), get(increment_row(stores)))
    else {
        return;
    };
    let store_bound = ceiling.run().per_sec <= off.run().per_sec;
    let (bound, what) = if store_bound {
        (ceiling, format!("the store's {:.0} increments/s", ceiling.run().per_sec))
    } else {
        (
            off,
            format!(
                "{:.0} calls/s without recording (the store allows {:.0}/s)",
                off.run().per_sec,
                ceiling.run().per_sec
            ),
        )
    };
    let r = on.run().per_sec / bound.run().per_sec;
    // The gateway answers before it records, so answers can run ahead of
    // what the store has committed: the store's own counts (tool calls
    // recorded, increments committed over the same slices) must meet the
    // goal too.
    let counted = on.committed_per_sec().zip(ceiling.committed_per_sec()).map(|(recorded, increments)| {
        let bound = if store_bound { increments } else { off.run().per_sec };
        (recorded, increments, recorded / bound)
    });
    let worst = counted.map_or(r, |(_, _, rc)| r.min(rc));
    println!(
        "  {host:<5} {:<26} recording on {:.0} calls/s = {:>3.0}%{} of {what}   goal >= {:.0}%: {}",
        stores.name(),
        on.run().per_sec,
        100.0 * r,
        spread(on, bound, |a, b| a.per_sec / b.per_sec),
        100.0 * GOAL_CEILING,
        verdict(worst >= GOAL_CEILING)
    );
    if counted.is_none() {
        println!(
            "  {host:<5} {:<26} counted in the store: no quick read in any slice (the rollback journal's readers wait for a pause in the writes); the answers alone judge",
            ""
        );
    }
    if let Some((recorded, increments, rc)) = counted {
        println!(
            "  {host:<5} {:<26} counted in the store: {recorded:.0} tool calls recorded/s = {:>3.0}% of {}",
            "",
            100.0 * rc,
            if store_bound {
                format!("{increments:.0} increments committed/s")
            } else {
                format!("the calls/s without recording (the store committed {increments:.0} increments/s)")
            }
        );
    }
    // What recording costs the host in CPU, next to what the call costs
    // without it: on a machine whose cores the gateway saturates, the
    // throughput lost to recording follows this share.
    println!(
        "  {host:<5} {:<26} host CPU per call {:.2} ms with recording, {:.2} ms without ({:+.0}%)",
        "",
        on.cpu_ms(),
        off.cpu_ms(),
        100.0 * (on.cpu_ms() / off.cpu_ms() - 1.0)
    );
    // The same store work without the gateway: what is left of the gap
    // is the gateway's own work competing with the store's lock holder.
    if let Some(pattern) = get(pattern_row(stores)) {
        println!(
            "  {host:<5} {:<26} its store operations alone: {:.0}/s = {:>3.0}%{} of the store's ceiling",
            "",
            pattern.run().per_sec,
            100.0 * pattern.run().per_sec / ceiling.run().per_sec,
            spread(pattern, ceiling, |a, b| a.per_sec / b.per_sec),
        );
    }
}

/// Table 6's rows: the same `tools/call word_count` in the two eras of MCP.
const LEGACY: &str = "legacy";
const MODERN: &str = "modern";
const ERA_STORES: [Stores; 2] = [Stores::Sqlite, Stores::SqliteMetricsInMemory];

fn era_row(stores: Stores, era: &str) -> String {
    format!("{}: {era}", stores.name())
}

/// A 2026-07-28 `tools/call`: version, client info and capabilities in
/// `params._meta`, the routing headers beside them, no session to look up.
fn modern_tool_call(host: &Host) -> Req {
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "bench", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {},
    });
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "word_count", "arguments": {"text": "the quick brown fox"}, "_meta": meta}});
    let headers = [
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "tools/call"),
        ("mcp-name", "word_count"),
    ];
    let headers = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Req { url: host.url("/mcp"), headers, body: Some(body.to_string()), cpu: host.cpu_meter(), committed: None }
}

/// Whether `req` is answered with a successful tool result: a JSON-RPC
/// error comes back with status 200 too, and must not pass for a call.
fn served(req: &Req) -> Result<(), String> {
    let headers: Vec<(&str, &str)> = req.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let reply = request("POST", &req.url, &headers, req.body.as_ref().map(|b| b.as_bytes()));
    let ok = reply.status == 200
        && serde_json::from_str::<serde_json::Value>(&reply.body)
            .is_ok_and(|v| v["result"]["isError"] == json!(false) && v.get("error").is_none());
    if ok {
        Ok(())
    } else {
        Err(format!("status {}: {}", reply.status, reply.body.chars().take(200).collect::<String>()))
    }
}

/// Table 6: legacy versus modern `tools/call` side by side, recording on, on
/// the default SQLite store and with the metrics in memory (where the
/// session read a legacy call adds is not hidden behind the metrics fsync).
/// Each row on a gateway of its own, measured in the same rounds.
fn era_group(kinds: &[HostKind], plan: &Plan, results: &mut Results) {
    println!("\n== 6. Legacy vs modern tools/call (recording on) ==");
    println!("  legacy: a session (initialize once, MCP-Session-Id on every call); modern: 2026-07-28, no session");
    let mut configs = Vec::new();
    for &kind in kinds {
        for stores in ERA_STORES {
            let host = gateway_host(stores, kind, None, true);
            configs.push(Config::new(era_row(stores, LEGACY), kind, tool_call(&host), host));
            let host = gateway_host(stores, kind, None, true);
            let req = modern_tool_call(&host);
            match served(&req) {
                Ok(()) => configs.push(Config::new(era_row(stores, MODERN), kind, req, host)),
                Err(why) => {
                    println!("  {} {}: not measured, not served ({why})", era_row(stores, MODERN), label(kind));
                    stop(host);
                }
            }
        }
    }
    measure(&mut configs, plan);
    report(&configs, results);
    drop(configs);
    for stores in ERA_STORES {
        for &kind in kinds {
            let get = |era: &str| results.get(&(era_row(stores, era), label(kind)));
            let (Some(legacy), Some(modern)) = (get(LEGACY), get(MODERN)) else { continue };
            let (l, m) = (legacy.run(), modern.run());
            println!(
                "  {:<36} {:<5} modern / legacy: throughput {:.2}x{}   p50 {:.2}x   p99 {:.2}x",
                stores.name(),
                label(kind),
                m.per_sec / l.per_sec,
                spread(modern, legacy, |a, b| a.per_sec / b.per_sec).replace('%', "% of legacy"),
                m.p50_ms / l.p50_ms,
                m.p99_ms / l.p99_ms
            );
        }
    }
    for stores in ERA_STORES {
        for era in [LEGACY, MODERN] {
            let row = era_row(stores, era);
            if let (Some(l), Some(s)) = (results.get(&(row.clone(), "local")), results.get(&(row.clone(), "spin"))) {
                let (l, s) = (l.run(), s.run());
                println!(
                    "  {row:<36} spin / local throughput {:>5.2}x   p50 {:>5.2}x",
                    s.per_sec / l.per_sec,
                    s.p50_ms / l.p50_ms
                );
            }
        }
    }
    era_store_commands(kinds);
}

/// How many calls [`store_commands`] averages over.
const COUNTED_CALLS: usize = 20;

/// The store commands one `tools/call` costs, exactly: `COUNTED_CALLS`
/// calls one after the other on a gateway whose store is Redis (one
/// command per store operation), each with its metrics recorded before the
/// next, counted by Redis itself. The first call, which fills the tool map,
/// is left out.
fn store_commands(redis: &RedisServer, req: &Req) -> String {
    served(req).expect("a tool result");
    let before = redis.settled_commandstats();
    for _ in 0..COUNTED_CALLS {
        served(req).expect("a tool result");
    }
    let cost = commands_per_call(&before, &redis.settled_commandstats(), COUNTED_CALLS as u64);
    let parts: Vec<String> = cost.iter().map(|(name, n)| format!("{} {n:.1}", name.to_uppercase())).collect();
    format!("{:>5.1} = {}", cost.values().sum::<f64>(), parts.join(" + "))
}

/// Table 6's exact part: store commands per `tools/call` in each era, on
/// Redis, recording on and off. Not timed, so the machine's load cannot
/// blur it.
fn era_store_commands(kinds: &[HostKind]) {
    println!("  Redis commands per tools/call (exact: {COUNTED_CALLS} calls in a row, Redis's INFO commandstats):");
    for &kind in kinds {
        for recording in [false, true] {
            for era in [LEGACY, MODERN] {
                let redis = RedisServer::start();
                let host = gateway_host(Stores::Redis, kind, Some(&redis), recording);
                let req = if era == LEGACY { tool_call(&host) } else { modern_tool_call(&host) };
                let counted = match served(&req) {
                    Ok(()) => store_commands(&redis, &req),
                    Err(why) => format!("not served ({why})"),
                };
                let what = format!("recording {}, {era}", if recording { "on" } else { "off" });
                println!("  {what:<36} {:<5} {counted}", label(kind));
                stop(host);
            }
        }
    }
}

fn exporter() {
    println!("\n== 5. Exporter ==");
    // What folding costs per recorded request, before Spin's own costs
    // (the records' get-many and delete, the fold record's swap).
    let records: Vec<Vec<u8>> = (0..1_024).map(spinscope::metrics::bench_call_record).collect();
    let limits = spinscope::metrics::Limits::default();
    let runs = 20;
    let t = Instant::now();
    for _ in 0..runs {
        let mut folded = spinscope::metrics::Snapshot::new();
        for bytes in &records {
            folded.fold_encoded(bytes, &limits).expect("the bench records decode");
        }
        folded.prune_activity(0, &limits);
    }
    let per = t.elapsed().as_secs_f64() / (runs * records.len()) as f64;
    println!(
        "  fold   {:>6} call records (native): {:>6.2} µs per record ({} bytes each)",
        records.len(),
        per * 1e6,
        records[0].len()
    );
    for series in [1_000usize, 10_000] {
        let snapshot = spinscope::metrics::bench_snapshot(series);
        let runs = 20;
        let t = Instant::now();
        let mut bytes = 0;
        for _ in 0..runs {
            bytes =
                spinscope::metrics::render_prometheus(&snapshot, &spinscope::metrics::RenderContext::default()).len();
        }
        let per = t.elapsed() / runs;
        println!(
            "  render {series:>6} series (native): {:>8.2} ms  ({bytes} bytes)  goal < 100 ms",
            per.as_secs_f64() * 1e3
        );
    }
}

fn main() {
    let plan = Plan::from_env();
    let started = Instant::now();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let wanted = |var: &str, item: &str| std::env::var(var).map_or(true, |v| v.split(',').any(|w| w.trim() == item));
    let mut kinds = Vec::new();
    if wanted("SPINSCOPE_BENCH_HOSTS", "local") {
        kinds.push(HostKind::Local);
    }
    let spin = if wanted("SPINSCOPE_BENCH_HOSTS", "spin") {
        find_spin()
    } else {
        Err("not selected (SPINSCOPE_BENCH_HOSTS)".into())
    };
    let hosts = match &spin {
        Ok((bin, version)) => {
            format!("{}real Spin ({version}, {})", if kinds.is_empty() { "" } else { "local host and " }, bin.display())
        }
        Err(_) => "local host".to_string(),
    };
    println!("spinscope benchmark: {hosts}; {CLIENTS} connections; {cores} cores");
    if let Some(disk) = slow_disk() {
        println!(
            "Slow disk emulated: every fsync of the hosts takes {:.1} ms more (SPINSCOPE_BENCH_FSYNC_MS).",
            disk.delay.as_secs_f64() * 1e3
        );
    }
    match spin {
        Ok(_) => kinds.push(HostKind::Spin),
        Err(why) => {
            println!("No Spin: {why}. The tables run on the local host only; the goals (set on Spin) are shown for it.")
        }
    }
    let vars = bench_vars();
    if !vars.is_empty() {
        println!("Gateway variables: {}", vars.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", "));
    }
    println!(
        "Each row: {} round(s) of {:.1} s slices, the rows of a store setup measured in turn; warm-up {:.1} s each.",
        plan.rounds,
        plan.slice.as_secs_f64(),
        plan.warmup.as_secs_f64()
    );
    let mut results = Results::new();
    if wanted("SPINSCOPE_BENCH_ONLY", "sqlite") {
        sqlite_group(&kinds, &plan, &mut results);
    } else {
        println!("\n== 2. Tool calls through the gateway, recording on vs off ==");
    }
    for (stores, name) in [(Stores::SqliteMetricsInMemory, "memory"), (Stores::Redis, "redis")] {
        if wanted("SPINSCOPE_BENCH_ONLY", name) {
            store_group(stores, &kinds, &plan, &mut results);
        }
    }
    if kinds.contains(&HostKind::Spin) && kinds.contains(&HostKind::Local) {
        host_vs_spin(&results);
    }
    println!("\n== 4. Goals ({CLIENTS} connections; they are set on real Spin) ==");
    for &kind in kinds.iter().rev() {
        goals(kind, &results);
    }
    exporter();
    if wanted("SPINSCOPE_BENCH_ONLY", "eras") {
        era_group(&kinds, &plan, &mut results);
    }
    println!("\nbench took {:.0} s", started.elapsed().as_secs_f64());
}
