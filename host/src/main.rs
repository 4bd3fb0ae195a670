//! `spinscope-host`: a small Spin-compatible host for developing and testing
//! spinscope where no `spin` binary is available. It serves a spin.toml
//! (manifest v2) the way `spin up` does: HTTP routes, a fresh instance per
//! request, service chaining, allowed_outbound_hosts, key-value stores
//! (SQLite or Redis) and variables. Production runs on Spin.

mod allowed_hosts;
mod app;
mod kv;
mod logs;
mod manifest;
mod outbound_http;
mod routes;
mod server;
mod state;
mod variables;

use anyhow::{bail, Context, Result};
use std::path::PathBuf;

const USAGE: &str = "\
spinscope-host: serve a Spin application (spin.toml) locally, as `spin up` does

USAGE:
    spinscope-host [up] [OPTIONS]

OPTIONS:
    -f, --from <FILE>                 The manifest [default: spin.toml]
        --listen <ADDR>               Address to listen on [default: 127.0.0.1:3000]
        --runtime-config-file <FILE>  Runtime config (key-value stores), Spin's format
        --state-dir <DIR>             State directory [default: .spin beside the manifest]
    -L, --log-dir <DIR>               Component logs [default: <state-dir>/logs]
    -h, --help                        Print this help

Variables come from SPIN_VARIABLE_<NAME> environment variables, as on Spin.";

struct Args {
    manifest: PathBuf,
    listen: String,
    runtime_config: Option<PathBuf>,
    state_dir: Option<PathBuf>,
    log_dir: Option<PathBuf>,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        manifest: PathBuf::from("spin.toml"),
        listen: "127.0.0.1:3000".into(),
        runtime_config: None,
        state_dir: None,
        log_dir: None,
    };
    let mut it = std::env::args().skip(1).peekable();
    if it.peek().map(String::as_str) == Some("up") {
        it.next();
    }
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String> {
            inline.clone().or_else(|| it.next()).with_context(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "-f" | "--from" | "--file" => args.manifest = PathBuf::from(value(&flag)?),
            "--listen" => args.listen = value(&flag)?,
            "--runtime-config-file" => args.runtime_config = Some(PathBuf::from(value(&flag)?)),
            "--state-dir" => args.state_dir = Some(PathBuf::from(value(&flag)?)),
            "-L" | "--log-dir" => args.log_dir = Some(PathBuf::from(value(&flag)?)),
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument '{other}'\n\n{USAGE}"),
        }
    }
    if args.manifest.is_dir() {
        args.manifest = args.manifest.join("spin.toml");
    }
    Ok(args)
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("Error: {e:#}");
        std::process::exit(1);
    }
}

async fn run() -> Result<()> {
    let args = parse_args()?;
    let engine = app::engine()?;
    let opts = app::LoadOptions {
        manifest: args.manifest.clone(),
        runtime_config: args.runtime_config.clone(),
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
