//! The command line, as `spin up` spells it: `spinscope-host [up] [OPTIONS]`.

use crate::limits::InstanceLimits;
use crate::profile::ProfileOptions;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

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

    #[command(flatten)]
    pub limits: LimitArgs,

    #[command(flatten)]
    pub profile: ProfileArgs,
}

/// A guest profile of one component (docs/benchmark.md, "Profiling a
/// component"). Not a Spin flag.
#[derive(Args, Debug)]
#[command(next_help_heading = "Guest profiling")]
pub struct ProfileArgs {
    /// Write a guest profile of this component (its id in the manifest)
    ///
    /// Every instance of the component is sampled at each tick of
    /// --profile-interval while it runs wasm; the samples of all its
    /// requests go into one profile in the Firefox profiler's format
    /// (https://profiler.firefox.com, "Load a profile from file").
    #[arg(long, value_name = "COMPONENT")]
    pub profile_component: Option<String>,

    /// Where the profile is written
    #[arg(long, value_name = "FILE", default_value = "profile.json")]
    pub profile_out: PathBuf,

    /// Write the profile once the component has served this many requests
    /// [default: when the host stops]
    #[arg(long, value_name = "N")]
    pub profile_requests: Option<u64>,

    /// How often a sample is taken (the engine's epoch tick while profiling)
    #[arg(long, value_name = "DURATION", default_value = "1ms", value_parser = parse_duration)]
    pub profile_interval: Duration,
}

impl ProfileArgs {
    /// What to profile, if anything.
    pub fn options(&self) -> Option<ProfileOptions> {
        Some(ProfileOptions {
            component: self.profile_component.clone()?,
            out: self.profile_out.clone(),
            requests: self.profile_requests.filter(|n| *n > 0),
            interval: nonzero(self.profile_interval).unwrap_or(crate::limits::EPOCH_TICK),
        })
    }
}

/// What keeps the host serving when a client or a guest misbehaves
/// (docs/host.md, "Limits"). Each flag also reads an environment variable;
/// 0 turns a limit off.
#[derive(Args, Debug)]
#[command(next_help_heading = "Limits (0 turns one off)")]
pub struct LimitArgs {
    /// The most memory one component instance may grow to
    ///
    /// In bytes, or with a KiB, MiB or GiB suffix. Past it the guest's
    /// allocation fails, which traps it: the request gets a 500. Spin's flag
    /// and variable; Spin has no limit unless it is set.
    #[arg(long, env = "SPIN_MAX_INSTANCE_MEMORY", value_name = "BYTES", default_value = "256MiB", value_parser = parse_bytes)]
    pub max_instance_memory: u64,

    /// How long a request's instance may run before it is interrupted
    ///
    /// A guest still executing this long after its request started is
    /// interrupted (epoch interruption, checked every 10 ms) and the request
    /// fails with a 500. Waiting on I/O (a store, a chained request) counts
    /// toward the time, but a waiting guest is interrupted only once it runs
    /// again. Seconds, or a number with an s, ms, us or ns suffix, as Spin's
    /// flag (which Spin 4 applies to WASIp3 components only).
    #[arg(long, env = "SPINSCOPE_HOST_REQUEST_TIMEOUT", value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub request_timeout: Duration,

    /// How long a client may take to send a request head
    ///
    /// A connection whose request head is not complete in time is closed
    /// without an answer; so is a keep-alive connection idle that long.
    /// Spin has no such timeout.
    #[arg(long, env = "SPINSCOPE_HOST_HEADER_READ_TIMEOUT", value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub header_read_timeout: Duration,

    /// The most client connections open at once
    ///
    /// At the cap, each new connection closes the one idle longest (idle: no
    /// request in progress); when every one is busy, new connections wait in
    /// the listen backlog until one finishes its request. Lowered to 3/4 of the open-file
    /// limit (ulimit -n) when that is smaller. Spin has no cap.
    #[arg(long, env = "SPINSCOPE_HOST_MAX_CONNECTIONS", value_name = "N", default_value_t = 1024)]
    pub max_connections: usize,
}

impl LimitArgs {
    /// The limits each instance runs under.
    pub fn instance(&self) -> InstanceLimits {
        InstanceLimits {
            max_memory: (self.max_instance_memory > 0)
                .then(|| usize::try_from(self.max_instance_memory).unwrap_or(usize::MAX)),
            request_timeout: nonzero(self.request_timeout),
        }
    }

    pub fn header_read_timeout(&self) -> Option<Duration> {
        nonzero(self.header_read_timeout)
    }
}

fn nonzero(d: Duration) -> Option<Duration> {
    (!d.is_zero()).then_some(d)
}

/// Spin's duration syntax (`crates/trigger-http`): a bare number is seconds;
/// `s`, `ms`, `us` (`μs`) and `ns` suffixes.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let error = || format!("expected a number of seconds, or a number with an s, ms, us or ns suffix; got {s:?}");
    let (number, unit): (&str, fn(u64) -> Duration) = if let Some(n) = s.strip_suffix("ms") {
        (n, Duration::from_millis)
    } else if let Some(n) = s.strip_suffix("us").or_else(|| s.strip_suffix("μs")) {
        (n, Duration::from_micros)
    } else if let Some(n) = s.strip_suffix("ns") {
        (n, Duration::from_nanos)
    } else {
        (s.strip_suffix('s').unwrap_or(s), Duration::from_secs)
    };
    number.trim().parse().map(unit).map_err(|_| error())
}

/// Bytes, as Spin's `--max-instance-memory` takes them, or with a binary suffix.
fn parse_bytes(s: &str) -> Result<u64, String> {
    let (number, scale) = [("KiB", 1u64 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30)]
        .iter()
        .find_map(|(suffix, scale)| s.strip_suffix(suffix).map(|n| (n, *scale)))
        .unwrap_or((s, 1));
    number
        .trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| format!("expected a number of bytes, optionally with a KiB, MiB or GiB suffix; got {s:?}"))
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
    fn limits_have_defaults_and_take_spins_syntax() {
        let a = up(&[]);
        assert_eq!(a.limits.max_instance_memory, 256 << 20);
        assert_eq!(a.limits.request_timeout, Duration::from_secs(60));
        assert_eq!(a.limits.header_read_timeout, Duration::from_secs(30));
        assert_eq!(a.limits.max_connections, 1024);
        let a = up(&["--max-instance-memory", "67108864", "--request-timeout", "1500ms", "--header-read-timeout", "0"]);
        assert_eq!(a.limits.instance().max_memory, Some(64 << 20));
        assert_eq!(a.limits.instance().request_timeout, Some(Duration::from_millis(1500)));
        assert_eq!(a.limits.header_read_timeout(), None);
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("5us"), Ok(Duration::from_micros(5)));
        assert!(parse_duration("2m").is_err());
        assert_eq!(parse_bytes("64MiB"), Ok(64 << 20));
        assert_eq!(parse_bytes("1GiB"), Ok(1 << 30));
        assert!(parse_bytes("64MB").is_err());
    }

    #[test]
    fn profiling_is_off_unless_a_component_is_named() {
        assert!(up(&[]).profile.options().is_none());
        let p = up(&["--profile-component", "gateway", "--profile-out", "g.json", "--profile-requests", "500"])
            .profile
            .options()
            .unwrap();
        assert_eq!((p.component.as_str(), p.out, p.requests), ("gateway", PathBuf::from("g.json"), Some(500)));
        assert_eq!(p.interval, Duration::from_millis(1));
        let p = up(&["--profile-component", "gateway", "--profile-interval", "250us"]).profile.options().unwrap();
        assert_eq!((p.out, p.requests, p.interval), (PathBuf::from("profile.json"), None, Duration::from_micros(250)));
    }

    #[test]
    fn unknown_flags_are_refused() {
        assert!(Cli::try_parse_from(["spinscope-host", "--nope"]).is_err());
        assert!(Cli::try_parse_from(["spinscope-host", "up", "--listen"]).is_err());
    }
}
