//! `spinscope-audit`: checks spinscope's audit trail without trusting the
//! running server (see the library's docs for why). Exit status: 0 when
//! the check passed, 1 when the trail is broken or damaged, 2 when it could
//! not be checked.

use clap::{Parser, Subcommand};
use spinscope::audit::Head;
use spinscope_audit::http::Server;
use spinscope_audit::remote::{self, FollowOptions};
use spinscope_audit::{parse_head, read_key, verify_lines, Failure};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(
    about = "Checks spinscope's audit trail without trusting the running server",
    after_help = "Exit status: 0 the check passed, 1 the trail is broken or damaged, 2 it could not be checked."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Verify an export of the trail (a file of JSON lines).
    ///
    /// Checks every link and every hash, and with the key every event MAC,
    /// of an export as `GET /audit` and `export` write it. Prints
    /// `ok: N events, seq A..B, head B:HASH, keyed|unkeyed`, or
    /// `broken at sequence N: why` (or `broken at line L: why`) and exits 1.
    Verify {
        /// The export; `-` reads standard input.
        file: PathBuf,
        /// A file holding `audit_key` (one trailing newline is ignored);
        /// needed for a keyed chain.
        #[arg(long)]
        key_file: Option<PathBuf>,
        /// The head the server published (`audit-head`, or what `export`
        /// printed): catches a dropped tail.
        #[arg(long, value_name = "SEQ:HASH", value_parser = parse_head)]
        head: Option<Head>,
    },
    /// Export a gateway's whole retained trail as JSON lines.
    ///
    /// Pages through `GET /audit` and prints the head of the last page to
    /// standard error as `head SEQ:HASH` (for `verify --head`). Use a key
    /// with the admin role: a tenant's key reads its own events only, and
    /// such an export does not verify.
    Export {
        /// The gateway (`https://gw.example.com`).
        url: String,
        /// An API key, sent as `Authorization: Bearer`.
        #[arg(long, env = "SPINSCOPE_API_KEY", hide_env_values = true)]
        api_key: Option<String>,
        /// Where to write; standard output when absent.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print a gateway's new events as they are sealed.
    ///
    /// Polls `GET /audit` after the last event seen; with `--verify`,
    /// checks each event against the one before it (use a key with the
    /// admin role: a tenant's view of the chain has gaps).
    Tail {
        /// The gateway (`https://gw.example.com`).
        url: String,
        /// An API key, sent as `Authorization: Bearer`.
        #[arg(long, env = "SPINSCOPE_API_KEY", hide_env_values = true)]
        api_key: Option<String>,
        /// How long to wait between polls once caught up.
        #[arg(long, default_value_t = 1000)]
        interval_ms: u64,
        /// Start with this sequence number (default: only events sealed
        /// from now on).
        #[arg(long, value_name = "SEQ")]
        since: Option<u64>,
        /// Verify each event against the one before, and stop (exit 1) at
        /// the first that does not verify.
        #[arg(long)]
        verify: bool,
        /// A file holding `audit_key`, for `--verify` of a keyed chain.
        #[arg(long, requires = "verify")]
        key_file: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Verify { file, key_file, head } => verify(&file, key_file.as_deref(), head.as_ref()),
        Command::Export { url, api_key, out } => export(&url, api_key, out.as_deref()),
        Command::Tail { url, api_key, interval_ms, since, verify, key_file } => {
            tail(&url, api_key, Duration::from_millis(interval_ms), since, verify, key_file.as_deref())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("spinscope-audit: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn key(path: Option<&Path>) -> Result<Option<Vec<u8>>, Failure> {
    path.map(read_key).transpose()
}

fn verify(file: &Path, key_file: Option<&Path>, head: Option<&Head>) -> Result<(), Failure> {
    let key = key(key_file)?;
    let summary = if file == Path::new("-") {
        verify_lines(io::stdin().lock(), key.as_deref(), head)?
    } else {
        let f = File::open(file).map_err(|source| Failure::Io { what: file.display().to_string(), source })?;
        verify_lines(BufReader::new(f), key.as_deref(), head)?
    };
    println!("{summary}");
    Ok(())
}

fn export(url: &str, api_key: Option<String>, out: Option<&Path>) -> Result<(), Failure> {
    let mut server = Server::new(url, api_key);
    let exported = match out {
        Some(path) => {
            let f = File::create(path).map_err(|source| Failure::Io { what: path.display().to_string(), source })?;
            remote::export(&mut server, &mut BufWriter::new(f))?
        }
        None => remote::export(&mut server, &mut io::stdout().lock())?,
    };
    eprintln!("head {}:{}", exported.head.seq, exported.head.hash);
    Ok(())
}

fn tail(
    url: &str,
    api_key: Option<String>,
    interval: Duration,
    since: Option<u64>,
    verify: bool,
    key_file: Option<&Path>,
) -> Result<(), Failure> {
    let key = key(key_file)?;
    let options = FollowOptions { since, verify, key: key.as_deref() };
    let mut out = io::stdout().lock();
    remote::follow(&mut Server::new(url, api_key), &mut out, &options, || {
        std::thread::sleep(interval);
        true
    })?;
    out.flush().map_err(|source| Failure::Io { what: "writing".into(), source })
}
