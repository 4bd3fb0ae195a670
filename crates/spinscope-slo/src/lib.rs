//! spinscope's service level objectives, rendered as Prometheus rules.
//!
//! Two objectives over a rolling 30 days (docs/slo.md):
//!
//! - **availability**: the share of `tools/call` calls whose outcome
//!   (`spinscope_tool_calls_total{outcome}`) is not one of the bad outcomes
//!   (by default `error`, `timeout` and `circuit_open`);
//! - **latency**: the share of `tools/call` operations answered within a
//!   threshold, read from the OpenTelemetry MCP duration histogram
//!   (`spinscope_mcp_server_operation_duration_seconds`), whose bucket
//!   bounds are the only thresholds it can tell.
//!
//! For each: the error ratio over 5m, 30m, 1h, 2h, 6h, 1d, 3d and 30d, the
//! error budget left over 30 days, and alerts on the budget's burn rate in
//! pairs of windows (the Google SRE workbook's multiwindow, multi-burn-rate
//! alerts). [`render`] writes them; `ops/prometheus/slo.yml` is its output
//! for [`Config::default`], and a test keeps the two equal.

use std::fmt::Write as _;
use std::str::FromStr;

/// The availability objective shipped, in percent.
pub const DEFAULT_AVAILABILITY: &str = "99.9";
/// The latency threshold shipped.
pub const DEFAULT_LATENCY: &str = "1s";
/// The latency objective shipped, in percent.
pub const DEFAULT_LATENCY_OBJECTIVE: &str = "99";
/// The outcomes of `spinscope_tool_calls_total` that spend availability
/// budget, shipped.
pub const DEFAULT_BAD_OUTCOMES: &str = "error,timeout,circuit_open";

/// Every `outcome` of `spinscope_tool_calls_total`, as the catalog names them.
pub const TOOL_OUTCOMES: [&str; 4] = ["success", "error", "timeout", "circuit_open"];

/// The bucket bounds of `spinscope_mcp_server_operation_duration_seconds`
/// (the catalog's `MCP_DURATION_BUCKETS`), in milliseconds: the only
/// latency thresholds the histogram can answer exactly.
pub const LATENCY_BUCKETS_MS: [u64; 14] =
    [10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000, 60000, 120000, 300000];

/// The counter of tool calls, by `outcome`.
pub const TOOL_CALLS: &str = "spinscope_tool_calls_total";
/// The OpenTelemetry MCP operation duration histogram (without suffix).
pub const OPERATION_DURATION: &str = "spinscope_mcp_server_operation_duration_seconds";

/// The windows an error ratio is recorded over; the last one is the
/// objective's period, which the remaining budget is computed over.
pub const WINDOWS: [&str; 8] = ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"];

/// One alert on the error budget's burn rate: it fires when the error ratio
/// is above `factor` × the budget over both windows (the long one says the
/// burn is significant, the short one that it is still going on).
#[derive(Debug, Clone, Copy)]
pub struct Burn {
    /// The alert name's suffix.
    pub name: &'static str,
    /// How many times faster than sustainable (1 spends the budget in
    /// exactly 30 days).
    pub factor: &'static str,
    /// The long window.
    pub long: &'static str,
    /// The short window.
    pub short: &'static str,
    /// The `for:` duration.
    pub for_: &'static str,
    /// The `severity` label: `critical` pages, `warning` opens a ticket (as
    /// in ops/prometheus/alerts.yml).
    pub severity: &'static str,
    /// The share of the 30-day budget spent over the long window when the
    /// alert starts firing.
    pub spent: &'static str,
    /// What becomes of the whole budget at this rate.
    pub lasts: &'static str,
}

/// The three burn-rate alerts of each objective.
pub const BURNS: [Burn; 3] = [
    Burn {
        name: "Fast",
        factor: "14.4",
        long: "1h",
        short: "5m",
        for_: "2m",
        severity: "critical",
        spent: "2%",
        lasts: "is gone in about 2 days",
    },
    Burn {
        name: "Medium",
        factor: "6",
        long: "6h",
        short: "30m",
        for_: "15m",
        severity: "critical",
        spent: "5%",
        lasts: "is gone in 5 days",
    },
    Burn {
        name: "Slow",
        factor: "1",
        long: "3d",
        short: "6h",
        for_: "1h",
        severity: "warning",
        spent: "10%",
        lasts: "is gone before the 30 days are over",
    },
];

/// Digits after the point a percentage may have.
const PERCENT_DIGITS: u32 = 7;
/// A ratio of 1 in the fixed point of [`Objective`] (percent × 10^7).
const ONE: u64 = 100 * 10u64.pow(PERCENT_DIGITS);

/// An objective: a percentage strictly between 0 and 100, kept exactly
/// (as decimal fixed point) so that its budget prints as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Objective(u64);

impl FromStr for Objective {
    type Err = String;

    fn from_str(s: &str) -> Result<Objective, String> {
        let bad = || format!("`{s}` is not a percentage between 0 and 100 (such as 99.9)");
        let s = s.trim().trim_end_matches('%');
        if s.ends_with('.') {
            return Err(bad());
        }
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        if frac.len() > PERCENT_DIGITS as usize {
            return Err(format!("`{s}`: at most {PERCENT_DIGITS} digits after the point"));
        }
        let int: u64 = int.parse().map_err(|_| bad())?;
        let frac: u64 = if frac.is_empty() {
            0
        } else {
            frac.parse::<u64>().map_err(|_| bad())? * 10u64.pow(PERCENT_DIGITS - frac.len() as u32)
        };
        let scaled = int.checked_mul(10u64.pow(PERCENT_DIGITS)).and_then(|i| i.checked_add(frac)).ok_or_else(bad)?;
        if scaled == 0 || scaled >= ONE {
            return Err(bad());
        }
        Ok(Objective(scaled))
    }
}

impl Objective {
    /// As a percentage: `99.9`.
    pub fn percent(self) -> String {
        decimal(self.0, PERCENT_DIGITS)
    }

    /// As a ratio: `0.999`.
    pub fn ratio(self) -> String {
        decimal(self.0, PERCENT_DIGITS + 2)
    }

    /// The error budget as a ratio: `0.001`.
    pub fn budget(self) -> String {
        decimal(ONE - self.0, PERCENT_DIGITS + 2)
    }

    /// The error budget as a percentage: `0.1`.
    pub fn budget_percent(self) -> String {
        decimal(ONE - self.0, PERCENT_DIGITS)
    }

    /// Whether an error ratio above `factor` × the budget is possible (below 1).
    fn reachable(self, factor: &str) -> bool {
        factor.parse::<f64>().unwrap() * ((ONE - self.0) as f64) < ONE as f64
    }
}

/// `n / 10^digits`, without trailing zeros.
fn decimal(n: u64, digits: u32) -> String {
    let scale = 10u64.pow(digits);
    let (int, frac) = (n / scale, n % scale);
    if frac == 0 {
        return int.to_string();
    }
    let frac = format!("{frac:0width$}", width = digits as usize);
    format!("{int}.{}", frac.trim_end_matches('0'))
}

/// A latency threshold: one of [`LATENCY_BUCKETS_MS`], written `0.5s`,
/// `500ms` or `1m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threshold {
    ms: u64,
}

impl FromStr for Threshold {
    type Err = String;

    fn from_str(s: &str) -> Result<Threshold, String> {
        let t = s.trim();
        let (number, scale) = if let Some(n) = t.strip_suffix("ms") {
            (n, 1)
        } else if let Some(n) = t.strip_suffix('s') {
            (n, 1000)
        } else if let Some(n) = t.strip_suffix('m') {
            (n, 60_000)
        } else {
            return Err(format!("`{s}`: give a unit (`0.5s`, `500ms`, `1m`)"));
        };
        let ms = number
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite() && *n > 0.0)
            .map(|n| n * scale as f64)
            .ok_or_else(|| format!("`{s}` is not a duration (`0.5s`, `500ms`, `1m`)"))?;
        let valid: Vec<String> = LATENCY_BUCKETS_MS.iter().map(|&ms| Threshold { ms }.to_string()).collect();
        LATENCY_BUCKETS_MS.iter().find(|&&b| (b as f64 - ms).abs() < 1e-6).map(|&ms| Threshold { ms }).ok_or_else(
            || {
                format!(
                    "`{s}` is not a bucket bound of {OPERATION_DURATION}, so the histogram cannot tell calls \
                 within it from the others; use one of {}",
                    valid.join(", ")
                )
            },
        )
    }
}

impl std::fmt::Display for Threshold {
    /// In seconds: `0.5s`, `1s`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}s", decimal(self.ms, 3))
    }
}

impl Threshold {
    /// In milliseconds.
    pub fn millis(self) -> u64 {
        self.ms
    }

    /// The `le` matcher of the bucket: the bound as the gateway writes it
    /// in the Prometheus text format (`1`), and as OpenMetrics writes it
    /// (`1.0`, which Prometheus asks for first and Prometheus 3 writes for
    /// both), when the two differ.
    pub fn le_matcher(self) -> String {
        let plain = decimal(self.ms, 3);
        if plain.contains('.') {
            format!("le=\"{plain}\"")
        } else {
            format!("le=~\"{plain}|{plain}\\\\.0\"")
        }
    }
}

/// What to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The availability objective.
    pub availability: Objective,
    /// The outcomes that count against availability.
    pub bad_outcomes: Vec<String>,
    /// The latency threshold.
    pub latency: Threshold,
    /// The share of calls that must answer within `latency`.
    pub latency_objective: Objective,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            availability: DEFAULT_AVAILABILITY.parse().unwrap(),
            bad_outcomes: parse_outcomes(DEFAULT_BAD_OUTCOMES).unwrap(),
            latency: DEFAULT_LATENCY.parse().unwrap(),
            latency_objective: DEFAULT_LATENCY_OBJECTIVE.parse().unwrap(),
        }
    }
}

/// A comma-separated list of bad outcomes: known, not `success`, no repeats.
pub fn parse_outcomes(s: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for o in s.split(',').map(str::trim).filter(|o| !o.is_empty()) {
        if !TOOL_OUTCOMES.contains(&o) {
            return Err(format!("`{o}` is not an outcome of {TOOL_CALLS} ({})", TOOL_OUTCOMES.join(", ")));
        }
        if o == "success" {
            return Err("`success` cannot be a bad outcome".into());
        }
        if !out.iter().any(|p| p == o) {
            out.push(o.to_string());
        }
    }
    if out.is_empty() {
        return Err("name at least one bad outcome".into());
    }
    // Catalog order, so that the same set always renders the same.
    out.sort_by_key(|o| TOOL_OUTCOMES.iter().position(|t| t == o));
    Ok(out)
}

impl Config {
    /// The command line that renders this configuration.
    pub fn command_line(&self) -> String {
        let mut line = format!(
            "spinscope-slo --availability {} --latency {} --latency-objective {}",
            self.availability.percent(),
            self.latency,
            self.latency_objective.percent()
        );
        if self.bad_outcomes != Config::default().bad_outcomes {
            let _ = write!(line, " --bad-outcomes {}", self.bad_outcomes.join(","));
        }
        line
    }

    /// Burn-rate alerts that can never fire (`factor` × the budget above 1):
    /// one line each, for the command to warn about.
    pub fn unreachable_alerts(&self) -> Vec<String> {
        let mut out = Vec::new();
        for slo in self.slos() {
            for burn in BURNS {
                if !slo.objective.reachable(burn.factor) {
                    out.push(format!(
                        "{}: {}× a budget of {}% is more than every call",
                        alert_name(&slo, &burn),
                        burn.factor,
                        slo.objective.budget_percent()
                    ));
                }
            }
        }
        out
    }

    fn slos(&self) -> [Slo; 2] {
        let bad = self.bad_outcomes.join("|");
        let count = format!("{OPERATION_DURATION}_count{{mcp_method_name=\"tools/call\"}}");
        let within =
            format!("{OPERATION_DURATION}_bucket{{mcp_method_name=\"tools/call\", {}}}", self.latency.le_matcher());
        [
            Slo {
                name: "availability",
                title: "Availability",
                objective: self.availability,
                what: format!("tools/call calls ended in {}", or_list(&self.bad_outcomes)),
                good: format!("end in an outcome other than {}", or_list(&self.bad_outcomes)),
                ratio: Box::new(move |w| {
                    format!(
                        "(\n  sum by (job) (rate({TOOL_CALLS}{{outcome=~\"{bad}\"}}[{w}]))\n    \
                         or sum by (job) (rate({TOOL_CALLS}[{w}])) * 0\n)\n  \
                         / sum by (job) (rate({TOOL_CALLS}[{w}]))\n"
                    )
                }),
            },
            Slo {
                name: "latency",
                title: "Latency",
                objective: self.latency_objective,
                what: format!("tools/call operations took longer than {}", self.latency),
                good: format!("answer within {}", self.latency),
                ratio: Box::new(move |w| {
                    format!(
                        "(\n  sum by (job) (rate({count}[{w}]))\n    \
                         - sum by (job) (rate({within}[{w}]))\n)\n  \
                         / sum by (job) (rate({count}[{w}]))\n"
                    )
                }),
            },
        ]
    }
}

/// `a`, `a or b`, `a, b or c`.
fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// One objective, ready to render.
struct Slo {
    /// The `slo` label.
    name: &'static str,
    /// In alert names.
    title: &'static str,
    objective: Objective,
    /// What the error ratio is the share of ("… tools/call calls failed").
    what: String,
    /// What a good call does.
    good: String,
    /// The error ratio's expression over a window.
    ratio: Box<dyn Fn(&str) -> String>,
}

fn alert_name(slo: &Slo, burn: &Burn) -> String {
    format!("Spinscope{}BudgetBurn{}", slo.title, burn.name)
}

/// The record name of the error ratio over `window`.
pub fn ratio_record(window: &str) -> String {
    format!("spinscope:slo_errors:ratio_rate{window}")
}

/// The record name of the objective (a constant, by `slo`).
pub const OBJECTIVE_RECORD: &str = "spinscope:slo_objective:ratio";
/// The record name of the error budget left over the 30-day period.
pub const BUDGET_RECORD: &str = "spinscope:slo_error_budget_remaining:ratio_30d";

/// Indents every non-empty line of `text` by `n` spaces.
fn indent(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    text.lines().map(|l| if l.is_empty() { "\n".to_string() } else { format!("{pad}{l}\n") }).collect()
}

/// The rule file: a recording group and the alerts of each objective.
pub fn render(config: &Config) -> String {
    let mut out = String::new();
    let slos = config.slos();
    let _ = write!(
        out,
        "# Service level objectives for spinscope: recording rules and burn-rate alerts.\n\
         # Rendered by crates/spinscope-slo (docs/slo.md) with\n\
         #\n\
         #   {}\n\
         #\n\
         # Do not edit: render the file again with other objectives. The shipped\n\
         # file is the command's output for its defaults (a test checks it).\n\
         #\n",
        config.command_line()
    );
    for slo in &slos {
        let _ = writeln!(
            out,
            "# {}: {}% of tools/call calls {}, over 30 days.",
            slo.name,
            slo.objective.percent(),
            slo.good
        );
    }
    out.push_str(
        "#\n\
         # Per objective (label `slo`): the error ratio over each window\n\
         # (spinscope:slo_errors:ratio_rate<window>), the objective\n\
         # (spinscope:slo_objective:ratio) and the share of the 30-day error budget\n\
         # left (spinscope:slo_error_budget_remaining:ratio_30d; below 0 when\n\
         # overspent). Alerts fire when the budget burns `factor` times faster than\n\
         # sustainable over a long and a short window alike: 14.4x over 1h and 5m\n\
         # and 6x over 6h and 30m page (severity critical), 1x over 3d and 6h opens\n\
         # a ticket (severity warning).\n\
         groups:\n",
    );
    for slo in &slos {
        let label = format!("        labels:\n          slo: {}\n", slo.name);
        let _ = write!(out, "  - name: spinscope.slo.{}\n    interval: 30s\n    rules:\n", slo.name);
        let _ =
            write!(out, "      - record: {OBJECTIVE_RECORD}\n        expr: vector({})\n{label}", slo.objective.ratio());
        for w in WINDOWS {
            let _ = write!(
                out,
                "      - record: {}\n        expr: |\n{}{label}",
                ratio_record(w),
                indent(&(slo.ratio)(w), 10)
            );
        }
        let _ = write!(
            out,
            "      - record: {BUDGET_RECORD}\n        expr: 1 - {}{{slo=\"{}\"}} / {}\n{label}",
            ratio_record("30d"),
            slo.name,
            slo.objective.budget()
        );
        for burn in BURNS {
            let name = alert_name(slo, &burn);
            let threshold = format!("({} * {})", burn.factor, slo.objective.budget());
            let action = if burn.severity == "critical" { "pages" } else { "opens a ticket" };
            let _ = write!(
                out,
                "      # {factor}x the budget rate over {long} and {short}: {spent} of the 30-day budget spent in {long}; {action}.\n\
                 \x20     - alert: {name}\n\
                 \x20       expr: |\n\
                 \x20         {long_rec}{{slo=\"{slo}\"}} > {threshold}\n\
                 \x20           and {short_rec}{{slo=\"{slo}\"}} > {threshold}\n\
                 \x20       for: {for_}\n\
                 \x20       labels:\n\
                 \x20         severity: {severity}\n\
                 \x20       annotations:\n\
                 \x20         summary: \"{{{{ $labels.job }}}}: tools/call {slo} error budget burn above {factor}x over {long}\"\n\
                 \x20         description: \"{{{{ $value | humanizePercentage }}}} of {what} over the last {long}, and more than {factor}x the budget over the last {short} as well: the {percent}% objective allows {budget_percent}%. At this rate the 30-day budget {lasts}.\"\n\
                 \x20         runbook: \"docs/operations.md#{anchor}\"\n",
                factor = burn.factor,
                long = burn.long,
                short = burn.short,
                spent = burn.spent,
                long_rec = ratio_record(burn.long),
                short_rec = ratio_record(burn.short),
                slo = slo.name,
                for_ = burn.for_,
                severity = burn.severity,
                what = slo.what,
                percent = slo.objective.percent(),
                budget_percent = slo.objective.budget_percent(),
                lasts = burn.lasts,
                anchor = name.to_lowercase(),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests;
