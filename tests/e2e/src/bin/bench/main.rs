//! `make bench`: measurements side by side in one run, printed as ratios.
//! Not a test: nothing here passes or fails on a number; the goals are
//! printed as met or not met.
//!
//! Every table runs on the local host and, when there is a Spin binary
//! (`SPIN_BIN`, else `spin` on `PATH`), on real Spin too, with the Spin /
//! local ratio for the same work, so the host's performance model stays
//! honest. Without Spin one line says so and only the host's tables run.
//!
//! 1. The floors and the store's cost: a trivial request (the floor of one
//!    request) and one bare chained hop (the `hop` test component forwarding
//!    the same `tools/call word_count` body to `text-tools` as the gateway
//!    does, and nothing else: the floor of a tool call), measured in the same
//!    rounds as the gateway's SQLite rows of table 2; and a trivial request
//!    versus one `atomics.increment`
//!    per request on the default SQLite store, with the file in write-ahead
//!    logging mode as `make up` prepares it and with Spin's own rollback
//!    journal. The increment rate is the store's serialized fsync ceiling. Next to it, a recorded tool call's
//!    store operations without the gateway (two `get`s and the `set` of a
//!    new 800-byte record), which tells the store's share of the gap from
//!    the gateway's.
//! 2. Tool calls through the gateway with metric recording on versus off
//!    (`metrics_enabled`): on SQLite, on SQLite with the metrics in an
//!    in-memory store (`metrics_store`), and on Redis (with one increment
//!    per request on that Redis for scale): throughput, p50, p99. On
//!    SQLite also with the tool components' circuit breakers off, for what
//!    they cost a call (at most 0.05 ms of host CPU, docs/breakers.md), and
//!    `calc`'s `statistics`, which reports metrics of its own, with
//!    breakers and tools' own metrics both on and both off (the same
//!    budget, docs/tools.md); and with the audit trail off, for what it
//!    costs a call in throughput, latency (its one write moves before the
//!    answer) and host CPU (docs/audit.md); and 2026-07-28 calls open, with
//!    an API key and with an OAuth access token (RS256), for what checking
//!    the caller costs (docs/auth.md). On every store, 2026-07-28 calls
//!    (no session) with recording on and off beside the handshake-era ones.
//! 3. Spin / local for each row.
//! 4. The goals, on Spin's numbers: recording's share of p50 latency with
//!    the in-memory metrics store and with Redis (at most 25 %), and the
//!    SQLite throughput with recording against what the store allows the
//!    gateway, taken in the same rounds (at least 90 %): the store's
//!    ceiling, or the gateway's rate without recording when that is lower.
//!    Then issue 28's: a `tools/call` with recording off against the bare
//!    hop (p50 at most 1.5×, throughput at least 0.67×); recording on vs
//!    off in both eras (throughput at least 92 % with the metrics in memory
//!    and on Redis, 88 % on SQLite); the 2026-07-28 era no slower than the
//!    handshake era on any store, recording off and on.
//! 5. The exporter: rendering 1,000 and 10,000 series (native; 10,000 in
//!    under 10 ms).
//! 6. Legacy versus modern `tools/call`: a handshake-era session against
//!    2026-07-28's stateless requests on the same gateway, recording on, on
//!    SQLite and with the metrics in memory: throughput side by side and
//!    the modern / legacy ratio.
//! 7. Cost as the app grows: the same call (`t0000` of the `many-tools`
//!    test component) with 1,000 tool series in the store and with 10, each
//!    tool called once and folded first; p50 and host CPU per call within
//!    1.2×.
//! 8. One scrape over 10,000 pending observation records, written in the
//!    store's layout before the host starts: under 1 s on Spin.
//! 9. Ablation (`ablation`, not in the default run): the bare hop, the hop
//!    doing each kind of the gateway's host work too (its configuration,
//!    its store calls, its access line), and the gateway recording nothing,
//!    side by side: what each costs the host per call.
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
//! `SPINSCOPE_BENCH_ONLY=sqlite,memory,redis,eras,floors,scale,scrape,ablation`
//! (store setups; `eras` is table 6; `floors` alone runs the floors with
//! the gateway on SQLite, recording off and on, which `sqlite` includes;
//! `scale` is table 7, `scrape` table 8, `ablation` table 9);
//! `SPINSCOPE_BENCH_HOSTS=local,spin`; `SPINSCOPE_BENCH_VARS=name=value,...`
//! (app variables for every gateway, to try a setting, e.g.
//! `tool_map_ttl_ms=60000`).
//!
//! How the numbers are taken, and what they mean: docs/benchmark.md.

mod ablation;
mod eras;
mod goals;
mod load;
mod scale;
mod setups;
mod tables;

use ablation::*;
use eras::*;
use goals::*;
use load::*;
use scale::*;
use setups::*;
use tables::*;

use serde_json::json;
use spinscope_e2e::*;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

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
        sqlite_group(&kinds, &plan, &mut results, true);
    } else if wanted("SPINSCOPE_BENCH_ONLY", "floors") {
        sqlite_group(&kinds, &plan, &mut results, false);
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
    if wanted("SPINSCOPE_BENCH_ONLY", "scale") {
        scale_group(&kinds, &plan, &mut results);
    }
    if wanted("SPINSCOPE_BENCH_ONLY", "scrape") {
        scrape_table(&kinds);
    }
    // Only when asked for: it is for finding costs, not a goal line.
    if std::env::var("SPINSCOPE_BENCH_ONLY").is_ok_and(|v| v.split(',').any(|w| w.trim() == "ablation")) {
        ablation_group(&kinds, &plan, &mut results);
    }
    println!("\nbench took {:.0} s", started.elapsed().as_secs_f64());
}
