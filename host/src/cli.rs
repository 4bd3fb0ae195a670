//! The command line, as `spin up` spells it: `spinscope-host [up] [OPTIONS]`.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Serve a Spin application (spin.toml) locally, as `spin up` does.
#[derive(Parser, Debug)]
#[command(
    name = "spinscope-host",
    version,
    about,
    long_about = "Serve a Spin application (spin.toml, manifest v2) locally, as `spin up` does: \
                  HTTP routes, a fresh instance per request, service chaining, \
                  allowed_outbound_hosts, key-value stores and variables. \
                  A development and test host; production runs on Spin.",
    override_usage = "spinscope-host [up] [OPTIONS]",
    args_conflicts_with_subcommands = true,
    disable_help_subcommand = true,
    after_help = "Variables come from SPIN_VARIABLE_<NAME> environment variables, as on Spin. \
                  See docs/host.md."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    up: UpArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the application (what runs without a command, too)
    Up(UpArgs),
}

impl Cli {
    /// The options of `up`, whether or not the command was named.
    pub fn into_up(self) -> UpArgs {
        match self.command {
            Some(Command::Up(args)) => args,
            None => self.up,
        }
    }
}

/// The options of `up`, as `spin up` names them.
#[derive(Args, Debug)]
pub struct UpArgs {
    /// The application to run: a manifest, or a directory containing spin.toml
    #[arg(short = 'f', long = "from", alias = "file", value_name = "APPLICATION", default_value = "spin.toml")]
    pub from: PathBuf,

    /// IP address and port to listen on (port 0: any free port, printed in the banner)
    #[arg(long, value_name = "ADDRESS", default_value = "127.0.0.1:3000")]
    pub listen: String,

    /// Runtime configuration (key-value stores), in Spin's format
    #[arg(long, value_name = "FILE")]
    pub runtime_config_file: Option<PathBuf>,

    /// Application state directory: the default SQLite store and the logs
    /// [default: .spin beside the manifest]
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,

    /// Directory for the components' stdout and stderr [default: <state-dir>/logs]
    #[arg(short = 'L', long, value_name = "DIR")]
    pub log_dir: Option<PathBuf>,
}

impl UpArgs {
    /// The manifest: `--from` itself, or its `spin.toml` when it names a directory.
    pub fn manifest(&self) -> PathBuf {
        if self.from.is_dir() {
            self.from.join("spin.toml")
        } else {
            self.from.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn up(args: &[&str]) -> UpArgs {
        Cli::try_parse_from(std::iter::once("spinscope-host").chain(args.iter().copied())).unwrap().into_up()
    }

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn up_is_optional_and_flags_match_spin_up() {
        let flags = ["-f", "app/spin.toml", "--listen", "127.0.0.1:0", "--runtime-config-file", "rc.toml"];
        for args in [flags.to_vec(), [&["up"][..], &flags[..]].concat()] {
            let a = up(&args);
            assert_eq!(a.from, PathBuf::from("app/spin.toml"));
            assert_eq!(a.listen, "127.0.0.1:0");
            assert_eq!(a.runtime_config_file, Some(PathBuf::from("rc.toml")));
            assert_eq!(a.state_dir, None);
        }
        let a = up(&["up", "--from=x.toml", "--state-dir", "st", "-L", "logs"]);
        assert_eq!((a.from, a.state_dir, a.log_dir), ("x.toml".into(), Some("st".into()), Some("logs".into())));
        let a = up(&["--file", "y.toml"]);
        assert_eq!(a.from, PathBuf::from("y.toml"));
        let a = up(&[]);
        assert_eq!((a.from, a.listen), (PathBuf::from("spin.toml"), "127.0.0.1:3000".to_string()));
    }

    #[test]
    fn unknown_flags_are_refused() {
        assert!(Cli::try_parse_from(["spinscope-host", "--nope"]).is_err());
        assert!(Cli::try_parse_from(["spinscope-host", "up", "--listen"]).is_err());
    }
}
