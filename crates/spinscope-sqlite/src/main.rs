//! `spinscope-sqlite`: puts Spin's default key-value store in write-ahead
//! logging mode before Spin opens it, and folds the metrics shard records
//! an earlier spinscope left in it (see the library's docs for why).

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(about = "Prepares Spin's default key-value store (SQLite) for spinscope")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Switch <state-dir>/sqlite_key_value.db to write-ahead logging,
    /// creating it when it does not exist, after folding the metrics shard
    /// records of earlier versions into the fold record. Idempotent; every
    /// count is kept.
    Prepare {
        /// Spin's state directory (`spin up --state-dir`).
        #[arg(long, default_value = ".spin", env = "SPINSCOPE_STATE_DIR")]
        state_dir: PathBuf,
    },
    /// Print the store's journal mode (`wal` once prepared).
    Check {
        #[arg(long, default_value = ".spin", env = "SPINSCOPE_STATE_DIR")]
        state_dir: PathBuf,
    },
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Prepare { state_dir } => spinscope_sqlite::prepare(&state_dir).map(|p| {
            let was = if p.created {
                "created".to_string()
            } else if p.previous_mode == "wal" {
                "already so".to_string()
            } else {
                format!("was {}", p.previous_mode)
            };
            println!("{}: journal_mode=wal ({was})", p.path.display());
            if p.shards.folded > 0 {
                println!(
                    "{}: folded {} metrics shard record(s) of an earlier version into the fold record",
                    p.path.display(),
                    p.shards.folded
                );
            }
            for (store, key, reason) in &p.shards.unreadable {
                eprintln!("spinscope-sqlite: store '{store}': {key} does not decode, left as it is: {reason}");
            }
        }),
        Command::Check { state_dir } => spinscope_sqlite::journal_mode(&state_dir).map(|mode| {
            println!("{}: journal_mode={mode}", state_dir.join(spinscope_sqlite::FILE_NAME).display());
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("spinscope-sqlite: {e}");
            ExitCode::FAILURE
        }
    }
}
