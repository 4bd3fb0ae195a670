//! `spinscope-variables`: writes the runtime configuration `make up` gives
//! Spin, with the app's variables in a `static` provider (see the
//! library's docs for why). It prints variable names, never values.

use clap::{Parser, Subcommand};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(about = "Writes the app's variables into a static variables provider of Spin's runtime configuration")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Resolve the manifest's [variables] as Spin's environment provider
    /// would (SPIN_VARIABLE_<NAME>, the .env file, the default) and write
    /// them, after the base configuration if any, to --out (mode 0600).
    StaticProvider {
        /// The app's manifest.
        #[arg(long, default_value = "spin.toml")]
        manifest: PathBuf,
        /// The runtime configuration file to write.
        #[arg(long)]
        out: PathBuf,
        /// An operator's runtime configuration to start from (stores, say);
        /// refused if it declares variables providers of its own.
        #[arg(long, env = "SPINSCOPE_RUNTIME_CONFIG")]
        base: Option<PathBuf>,
        /// The .env file Spin's environment provider reads (none if absent).
        #[arg(long, default_value = ".env")]
        dotenv: PathBuf,
    },
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn static_provider(manifest: &Path, out: &Path, base: Option<&Path>, dotenv: &Path) -> Result<String, String> {
    let dotenv = match std::fs::read_to_string(dotenv) {
        Ok(text) => spinscope_variables::parse_dotenv(&text).map_err(|e| e.to_string())?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Default::default(),
        Err(e) => return Err(format!("{}: {e}", dotenv.display())),
    };
    let resolved = spinscope_variables::resolve(&read(manifest)?, |k| std::env::var(k).ok(), &dotenv)
        .map_err(|e| e.to_string())?;
    let base = base.map(read).transpose()?;
    let text = spinscope_variables::runtime_config(base.as_deref(), &resolved).map_err(|e| e.to_string())?;
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    // Written aside and renamed, so Spin never reads half a file; 0600,
    // for the values may be secrets.
    let tmp = out.with_extension("toml.tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| format!("{}: {e}", tmp.display()))?;
    file.write_all(text.as_bytes()).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut summary = format!("{}: {} variable(s) in a static provider", out.display(), resolved.values.len());
    if !resolved.unresolved.is_empty() {
        summary += &format!(
            " ({} without a value, left to Spin: {})",
            resolved.unresolved.len(),
            resolved.unresolved.join(", ")
        );
    }
    Ok(summary)
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::StaticProvider { manifest, out, base, dotenv } => {
            static_provider(&manifest, &out, base.as_deref(), &dotenv)
        }
    };
    match result {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("spinscope-variables: {e}");
            ExitCode::FAILURE
        }
    }
}
