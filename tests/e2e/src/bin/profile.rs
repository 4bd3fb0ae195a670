//! `make profile`: a guest profile of one component over many requests, on
//! the local host (wasmtime's `GuestProfiler`, `--profile-component`).
//!
//! Starts the default app (`spin.toml`, the components in `target/`) on the
//! local host with the component profiled, drives `tools/call word_count`
//! on one session from a few client threads until the host has written the
//! profile (after `PROFILE_REQUESTS` requests of that component), and says
//! where it is. Open it at https://profiler.firefox.com ("Load a profile
//! from file"); docs/benchmark.md, "Profiling a component", says how to
//! read it.
//!
//! Knobs (environment): `PROFILE_COMPONENT` (default `gateway`),
//! `PROFILE_REQUESTS` (default 2000), `PROFILE_OUT` (default
//! `target/profile/<component>.profile.json`), `PROFILE_INTERVAL` (the
//! sampling interval, default `1ms`), `PROFILE_VARS=name=value,...` (app
//! variables, e.g. `metrics_enabled=false`).

use serde_json::json;
use spinscope_e2e::*;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Client threads: enough to keep the host's two cores busy, few enough
/// that the profile is mostly the component's work, not the client's.
const THREADS: usize = 4;

fn main() {
    let env = |name: &str, default: &str| std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or(default.into());
    let component = env("PROFILE_COMPONENT", "gateway");
    let requests: u64 = env("PROFILE_REQUESTS", "2000").parse().expect("PROFILE_REQUESTS: a number");
    let interval = env("PROFILE_INTERVAL", "1ms");
    let out = std::env::var("PROFILE_OUT")
        .ok()
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| target_dir().join("profile").join(format!("{component}.profile.json")));
    let out = std::path::absolute(&out).expect("PROFILE_OUT: a path");
    std::fs::create_dir_all(out.parent().expect("PROFILE_OUT: a file")).expect("the profile's directory");
    let _ = std::fs::remove_file(&out);

    // The flag is the local host's: Spin has no guest profiler.
    std::env::set_var("SPINSCOPE_E2E_HOST", "local");
    let requests_arg = requests.to_string();
    let out_arg = out.display().to_string();
    let mut builder = HostBuilder::app(None).var("breaker_failures", "5").args(&[
        "--profile-component",
        &component,
        "--profile-out",
        &out_arg,
        "--profile-requests",
        &requests_arg,
        "--profile-interval",
        &interval,
    ]);
    for pair in env("PROFILE_VARS", "").split(',').filter(|p| !p.trim().is_empty()) {
        let (name, value) = pair.split_once('=').expect("PROFILE_VARS: name=value,...");
        builder = builder.var(name.trim(), value.trim());
    }
    let host = builder.start();
    println!("Profiling component '{component}' over {requests} requests (tools/call word_count, {THREADS} clients)");

    let (mcp, _) = Mcp::connect(&host);
    let headers = mcp.headers();
    let url = host.url("/mcp");
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let clients: Vec<_> = (0..THREADS)
        .map(|_| {
            let (headers, url, stop, sent) = (headers.clone(), url.clone(), stop.clone(), sent.clone());
            std::thread::spawn(move || {
                let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let body = json!({"jsonrpc":"2.0","id":1,"method":"tools/call",
                    "params":{"name":"word_count","arguments":{"text":"the quick brown fox"}}})
                .to_string();
                while !stop.load(Ordering::Relaxed) {
                    let reply = request("POST", &url, &h, Some(body.as_bytes()));
                    assert_eq!(reply.status, 200, "{}", reply.body);
                    sent.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let written = |lines: &[String]| lines.iter().any(|l| l.starts_with("Profile of component"));
    let deadline = Instant::now() + Duration::from_secs(300);
    while !written(&host.logs()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().expect("a client failed");
    }
    let logs = host.logs();
    let Some(line) = logs.iter().find(|l| l.starts_with("Profile of component")) else {
        eprintln!(
            "No profile after {} tools/call requests in {:.0} s: does '{component}' serve them?\n{}",
            sent.load(Ordering::Relaxed),
            started.elapsed().as_secs_f64(),
            logs.join("\n")
        );
        std::process::exit(1);
    };
    println!("{line}");
    println!(
        "{} tools/call requests sent in {:.1} s. Open it at https://profiler.firefox.com (\"Load a profile from file\"): {}",
        sent.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64(),
        out.display()
    );
    let _ = std::fs::remove_dir_all(host.stop());
}
