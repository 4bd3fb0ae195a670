//! `spinscope-slo`: prints spinscope's SLO recording rules and burn-rate
//! alerts for the objectives given (docs/slo.md). Without options it prints
//! `ops/prometheus/slo.yml` as shipped.

use clap::Parser;
use spinscope_slo::{
    parse_outcomes, render, Config, Objective, Threshold, DEFAULT_AVAILABILITY, DEFAULT_BAD_OUTCOMES, DEFAULT_LATENCY,
    DEFAULT_LATENCY_OBJECTIVE,
};
use std::io::Write;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    about = "Prints spinscope's SLO rules (error ratios, error budget, burn-rate alerts) for Prometheus",
    after_help = "Example: spinscope-slo --availability 99.5 --latency 0.5s > slo.yml\n\
                  Without options it prints ops/prometheus/slo.yml as shipped. See docs/slo.md."
)]
struct Cli {
    /// Availability objective, in percent: the share of tools/call calls
    /// that must not end in a bad outcome over 30 days.
    #[arg(long, value_name = "PERCENT", default_value = DEFAULT_AVAILABILITY)]
    availability: Objective,
    /// The outcomes of spinscope_tool_calls_total that count against
    /// availability (comma-separated; `error` includes a tool's own isError
    /// results).
    #[arg(long, value_name = "OUTCOMES", default_value = DEFAULT_BAD_OUTCOMES, value_parser = outcomes)]
    bad_outcomes: Outcomes,
    /// Latency threshold: a tools/call answered within it is good. One of
    /// the MCP duration histogram's bucket bounds (10ms … 300s).
    #[arg(long, value_name = "DURATION", default_value = DEFAULT_LATENCY)]
    latency: Threshold,
    /// Latency objective, in percent: the share of tools/call operations
    /// that must answer within the threshold over 30 days.
    #[arg(long, value_name = "PERCENT", default_value = DEFAULT_LATENCY_OBJECTIVE)]
    latency_objective: Objective,
}

/// The bad outcomes as one value (clap would read a `Vec` as several).
#[derive(Clone)]
struct Outcomes(Vec<String>);

fn outcomes(s: &str) -> Result<Outcomes, String> {
    parse_outcomes(s).map(Outcomes)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = Config {
        availability: cli.availability,
        bad_outcomes: cli.bad_outcomes.0,
        latency: cli.latency,
        latency_objective: cli.latency_objective,
    };
    for warning in config.unreachable_alerts() {
        eprintln!("spinscope-slo: warning: {warning}: this alert can never fire");
    }
    let mut out = std::io::stdout().lock();
    match out.write_all(render(&config).as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("spinscope-slo: {e}");
            ExitCode::from(2)
        }
    }
}
