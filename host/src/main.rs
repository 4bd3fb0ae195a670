//! `spinscope-host`: a small Spin-compatible host for developing and testing
//! spinscope where no `spin` binary is available. It serves a spin.toml
//! (manifest v2) the way `spin up` does: HTTP routes, a fresh instance per
//! request, service chaining, allowed_outbound_hosts, key-value stores
//! (SQLite or Redis) and variables. Production runs on Spin.

mod allowed_hosts;
mod app;
mod cli;
mod connections;
mod kv;
mod limits;
mod logs;
mod manifest;
mod outbound_http;
mod profile;
mod routes;
mod server;
mod state;
mod variables;

use anyhow::{Context, Result};
use clap::Parser;
use connections::Connections;

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("Error: {e:#}");
        std::process::exit(1);
    }
}

async fn run() -> Result<()> {
    let args = cli::Cli::parse().into_up();
    let profile = args.profile.options();
    let engine = app::engine(profile.as_ref().map_or(limits::EPOCH_TICK, |p| p.interval))?;
    let opts = app::LoadOptions {
        manifest: args.manifest(),
        runtime_config: args.runtime_config_file.clone(),
        state_dir: args.state_dir.clone(),
        log_dir: args.log_dir.clone(),
        limits: args.limits.instance(),
        profile,
    };
    let app = app::App::load(&engine, &opts).await?;
    let listener = server::listen(&args.listen).await.with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    // Before "Serving": whoever waits for that line then sees this one too.
    if let Some(p) = &opts.profile {
        let when = p.requests.map_or("when the host stops".to_string(), |n| format!("after {n} requests"));
        println!(
            "Profiling component '{}' every {} into {} ({when})",
            p.component,
            limits::humanize(p.interval),
            p.out.display()
        );
    }
    println!("App: {} {}", app.name, app.version.as_deref().unwrap_or(""));
    println!("Serving http://{addr}");
    println!("Available Routes:");
    for route in app.router.routes() {
        println!("  {}: http://{addr}{}", route.component, route.raw);
    }
    println!("Key-value stores: {}", app.stores.describe().join(", "));
    let server_limits = server_limits(&args.limits);
    println!("Limits: {}", describe_limits(&args.limits, &server_limits));
    use std::io::Write;
    let _ = std::io::stdout().flush();

    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        () = server::serve(app.clone(), listener, server_limits) => {}
        _ = tokio::signal::ctrl_c() => eprintln!("Shutting down"),
        _ = sigterm.recv() => eprintln!("Shutting down"),
    }
    if let Some(profiler) = &app.profiler {
        profiler.write();
    }
    Ok(())
}

/// The connection cap and header-read timeout; the cap is lowered to 3/4 of
/// the open-file limit when that is smaller, so connections alone cannot
/// run the host out of file descriptors.
fn server_limits(args: &cli::LimitArgs) -> server::ServerLimits {
    let mut max = args.max_connections;
    if let Some(files) = connections::open_file_limit() {
        let fit = usize::try_from(files / 4 * 3).unwrap_or(usize::MAX).max(1);
        if max == 0 || max > fit {
            eprintln!("--max-connections lowered to {fit}: the open-file limit (ulimit -n) is {files}");
            max = fit;
        }
    }
    server::ServerLimits { connections: Connections::new(max), header_read_timeout: args.header_read_timeout() }
}

/// One line for the banner: `Limits: 256 MiB memory per instance, ...`.
fn describe_limits(args: &cli::LimitArgs, server: &server::ServerLimits) -> String {
    let instance = args.instance();
    let or_none = |d: Option<std::time::Duration>| d.map_or("no".to_string(), limits::humanize);
    let memory = match instance.max_memory {
        Some(bytes) if bytes % (1 << 20) == 0 => format!("{} MiB", bytes >> 20),
        Some(bytes) => format!("{bytes} bytes"),
        None => "no".into(),
    };
    let connections = match server.connections.max() {
        usize::MAX => "no connection cap".to_string(),
        n => format!("{n} connections"),
    };
    format!(
        "{memory} memory per instance, {} request timeout, {} header-read timeout, {connections} (see --help)",
        or_none(instance.request_timeout),
        or_none(server.header_read_timeout),
    )
}
