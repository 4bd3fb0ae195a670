//! `spinscope-host`: a small Spin-compatible host for developing and testing
//! spinscope where no `spin` binary is available. It serves a spin.toml
//! (manifest v2) the way `spin up` does: HTTP routes, a fresh instance per
//! request, service chaining, allowed_outbound_hosts, key-value stores
//! (SQLite or Redis) and variables. Production runs on Spin.

mod allowed_hosts;
mod app;
mod cli;
mod kv;
mod logs;
mod manifest;
mod outbound_http;
mod routes;
mod server;
mod state;
mod variables;

use anyhow::{Context, Result};
use clap::Parser;

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("Error: {e:#}");
        std::process::exit(1);
    }
}

async fn run() -> Result<()> {
    let args = cli::Cli::parse().into_up();
    let engine = app::engine()?;
    let opts = app::LoadOptions {
        manifest: args.manifest(),
        runtime_config: args.runtime_config_file.clone(),
        state_dir: args.state_dir.clone(),
        log_dir: args.log_dir.clone(),
    };
    let app = app::App::load(&engine, &opts).await?;
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    println!("App: {} {}", app.name, app.version.as_deref().unwrap_or(""));
    println!("Serving http://{addr}");
    println!("Available Routes:");
    for route in app.router.routes() {
        println!("  {}: http://{addr}{}", route.component, route.raw);
    }
    println!("Key-value stores: {}", app.stores.describe().join(", "));
    use std::io::Write;
    let _ = std::io::stdout().flush();

    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = server::serve(app.clone(), listener) => r?,
        _ = tokio::signal::ctrl_c() => eprintln!("Shutting down"),
        _ = sigterm.recv() => eprintln!("Shutting down"),
    }
    Ok(())
}
