//! Table 4: the goals, judged on the rows measured for tables 1 and 2.

use super::*;

/// Recording's share of p50 latency allowed (in-memory metrics, Redis).
pub(crate) const GOAL_SHARE: f64 = 0.25;
/// SQLite throughput with recording, as a share of the store's ceiling.
pub(crate) const GOAL_CEILING: f64 = 0.90;

pub(crate) fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "NOT MET"
    }
}

/// `f` of each round's pair of slices, as "lo–hi %".
pub(crate) fn spread(a: &Samples, b: &Samples, f: impl Fn(&Run, &Run) -> f64) -> String {
    let values: Vec<f64> =
        a.slices.iter().zip(&b.slices).map(|(x, y)| 100.0 * f(x, y)).filter(|v| v.is_finite()).collect();
    let lo = values.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = values.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    if values.len() < 2 {
        String::new()
    } else {
        format!(" (rounds {lo:.0}-{hi:.0}%)")
    }
}

pub(crate) fn goals(kind: HostKind, results: &Results) {
    let host = label(kind);
    let get = |row: String| results.get(&(row, host));
    for stores in [Stores::SqliteMetricsInMemory, Stores::Redis] {
        if let (Some(off), Some(on)) = (get(on_off(stores, false)), get(on_off(stores, true))) {
            let s = share(&on.run(), &off.run());
            println!(
                "  {host:<5} {:<26} recording share of p50 latency {:>3.0}%{}, p50 {:.1} -> {:.1} ms   goal <= {:.0}%: {}",
                stores.name(),
                100.0 * s,
                spread(on, off, share),
                off.run().p50_ms,
                on.run().p50_ms,
                100.0 * GOAL_SHARE,
                verdict(s <= GOAL_SHARE)
            );
        }
    }
    for (stores, _) in SQLITE_SETUPS {
        sqlite_goal(host, stores, results);
    }
}

/// The SQLite goal: throughput with recording against what the store's
/// serialized writes allow the gateway. That is the store's ceiling (one
/// increment per request) when it is below what the gateway serves without
/// recording; when it is above, the store does not set the pace, and the
/// gateway's own rate without recording is what it allows.
pub(crate) fn sqlite_goal(host: &'static str, stores: Stores, results: &Results) {
    let get = |row: String| results.get(&(row, host));
    let (Some(on), Some(off), Some(ceiling)) =
        (get(on_off(stores, true)), get(on_off(stores, false)), get(increment_row(stores)))
    else {
        return;
    };
    let store_bound = ceiling.run().per_sec <= off.run().per_sec;
    let (bound, what) = if store_bound {
        (ceiling, format!("the store's {:.0} increments/s", ceiling.run().per_sec))
    } else {
        (
            off,
            format!(
                "{:.0} calls/s without recording (the store allows {:.0}/s)",
                off.run().per_sec,
                ceiling.run().per_sec
            ),
        )
    };
    let r = on.run().per_sec / bound.run().per_sec;
    // The gateway answers before it records, so answers can run ahead of
    // what the store has committed: the store's own counts (tool calls
    // recorded, increments committed over the same slices) must meet the
    // goal too.
    let counted = on.committed_per_sec().zip(ceiling.committed_per_sec()).map(|(recorded, increments)| {
        let bound = if store_bound { increments } else { off.run().per_sec };
        (recorded, increments, recorded / bound)
    });
    let worst = counted.map_or(r, |(_, _, rc)| r.min(rc));
    println!(
        "  {host:<5} {:<26} recording on {:.0} calls/s = {:>3.0}%{} of {what}   goal >= {:.0}%: {}",
        stores.name(),
        on.run().per_sec,
        100.0 * r,
        spread(on, bound, |a, b| a.per_sec / b.per_sec),
        100.0 * GOAL_CEILING,
        verdict(worst >= GOAL_CEILING)
    );
    if counted.is_none() {
        println!(
            "  {host:<5} {:<26} counted in the store: no quick read in any slice (the rollback journal's readers wait for a pause in the writes); the answers alone judge",
            ""
        );
    }
    if let Some((recorded, increments, rc)) = counted {
        println!(
            "  {host:<5} {:<26} counted in the store: {recorded:.0} tool calls recorded/s = {:>3.0}% of {}",
            "",
            100.0 * rc,
            if store_bound {
                format!("{increments:.0} increments committed/s")
            } else {
                format!("the calls/s without recording (the store committed {increments:.0} increments/s)")
            }
        );
    }
    // What recording costs the host in CPU, next to what the call costs
    // without it: on a machine whose cores the gateway saturates, the
    // throughput lost to recording follows this share.
    println!(
        "  {host:<5} {:<26} host CPU per call {:.2} ms with recording, {:.2} ms without ({:+.0}%)",
        "",
        on.cpu_ms(),
        off.cpu_ms(),
        100.0 * (on.cpu_ms() / off.cpu_ms() - 1.0)
    );
    // The same store work without the gateway: what is left of the gap
    // is the gateway's own work competing with the store's lock holder.
    if let Some(pattern) = get(pattern_row(stores)) {
        println!(
            "  {host:<5} {:<26} its store operations alone: {:.0}/s = {:>3.0}%{} of the store's ceiling",
            "",
            pattern.run().per_sec,
            100.0 * pattern.run().per_sec / ceiling.run().per_sec,
            spread(pattern, ceiling, |a, b| a.per_sec / b.per_sec),
        );
    }
}
