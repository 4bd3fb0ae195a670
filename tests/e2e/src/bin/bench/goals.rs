//! Table 4: the goals, judged on the rows measured for tables 1 and 2.

use super::*;

/// Recording's share of p50 latency allowed (in-memory metrics, Redis).
pub(crate) const GOAL_SHARE: f64 = 0.25;
/// SQLite throughput with recording, as a share of the store's ceiling.
pub(crate) const GOAL_CEILING: f64 = 0.90;

/// Issue 28's goals. A `tools/call` with recording off against one bare
/// chained hop to the same tool component: p50 at most this many times the
/// hop's, throughput at least this share of the hop's.
pub(crate) const GOAL_HOP_P50: f64 = 1.5;
pub(crate) const GOAL_HOP_THROUGHPUT: f64 = 0.67;
/// Throughput with recording on as a share of recording off, by store, in
/// both eras.
pub(crate) const GOAL_RECORDING: [(Stores, f64); 3] =
    [(Stores::SqliteMetricsInMemory, 0.92), (Stores::Redis, 0.92), (Stores::Sqlite, 0.88)];
/// The native exporter renders 10,000 series in less than this.
pub(crate) const GOAL_RENDER_MS: f64 = 10.0;
/// A scrape on Spin with 10,000 pending observation records answers in
/// less than this.
pub(crate) const GOAL_SCRAPE_S: f64 = 1.0;
/// With 1,000 tool series in the store instead of 10, a call's p50 and host
/// CPU at most this many times as much.
pub(crate) const GOAL_FLAT: f64 = 1.2;

pub(crate) fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "NOT MET"
    }
}

/// `f` of each round's pair of slices, as "lo–hi %".
pub(crate) fn spread(a: &Samples, b: &Samples, f: impl Fn(&Run, &Run) -> f64) -> String {
    match round_range(a, b, f) {
        Some((lo, hi)) => format!(" (rounds {:.0}-{:.0}%)", 100.0 * lo, 100.0 * hi),
        None => String::new(),
    }
}

/// `f` of each round's pair of slices, as "lo–hi x".
pub(crate) fn spread_x(a: &Samples, b: &Samples, f: impl Fn(&Run, &Run) -> f64) -> String {
    match round_range(a, b, f) {
        Some((lo, hi)) => format!(" (rounds {lo:.2}-{hi:.2}x)"),
        None => String::new(),
    }
}

/// The lowest and highest of `f` over the rounds, when there are two or more.
fn round_range(a: &Samples, b: &Samples, f: impl Fn(&Run, &Run) -> f64) -> Option<(f64, f64)> {
    let values: Vec<f64> = a.slices.iter().zip(&b.slices).map(|(x, y)| f(x, y)).filter(|v| v.is_finite()).collect();
    let lo = values.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = values.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    (values.len() >= 2).then_some((lo, hi))
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
    floor_goals(host, results);
    recording_goals(host, results);
    era_goals(host, results);
}

/// A `tools/call` that records nothing (like the hop, it writes nothing)
/// against one bare chained hop to the same tool component, measured in
/// the same rounds: p50 and throughput. Then, for reference, the same with
/// the audit trail on, the app's default, whose event is then a write.
pub(crate) fn floor_goals(host: &'static str, results: &Results) {
    let get = |row: String| results.get(&(row, host));
    let (Some(call), Some(hop)) = (get(NOTHING_RECORDED.into()), get(HOP.into())) else { return };
    let (c, h) = (call.run(), hop.run());
    let p50 = c.p50_ms / h.p50_ms;
    println!(
        "  {host:<5} {:<26} tools/call p50 {:.1} ms = {p50:.2}x{} the bare hop's {:.1} ms   goal <= {GOAL_HOP_P50:.1}x: {}",
        "sqlite, nothing recorded",
        c.p50_ms,
        spread_x(call, hop, |a, b| a.p50_ms / b.p50_ms),
        h.p50_ms,
        verdict(p50 <= GOAL_HOP_P50)
    );
    let throughput = c.per_sec / h.per_sec;
    println!(
        "  {host:<5} {:<26} tools/call {:.0} calls/s = {throughput:.2}x{} the bare hop's {:.0}/s   goal >= {GOAL_HOP_THROUGHPUT:.2}x: {}",
        "",
        c.per_sec,
        spread_x(call, hop, |a, b| a.per_sec / b.per_sec),
        h.per_sec,
        verdict(throughput >= GOAL_HOP_THROUGHPUT)
    );
    println!(
        "  {host:<5} {:<26} host CPU per call {:.2} ms, the bare hop's {:.2} ms ({:.1}x; the gateway's own work {:+.2} ms)",
        "",
        call.cpu_ms(),
        hop.cpu_ms(),
        call.cpu_ms() / hop.cpu_ms(),
        call.cpu_ms() - hop.cpu_ms()
    );
    if let Some(audited) = get(on_off(Stores::Sqlite, false)) {
        println!(
            "  {host:<5} {:<26} for reference, metrics off, audit on: p50 {:.2}x, throughput {:.2}x the hop's, host CPU per call {:.2} ms",
            "",
            audited.run().p50_ms / h.p50_ms,
            audited.run().per_sec / h.per_sec,
            audited.cpu_ms(),
        );
    }
}

/// The MCP era of a row: a handshake-era session, or 2026-07-28's
/// stateless requests.
pub(crate) fn era_rows(stores: Stores, modern: bool, recording: bool) -> String {
    if modern {
        modern_on_off(stores, recording)
    } else {
        on_off(stores, recording)
    }
}

fn era_name(modern: bool) -> &'static str {
    if modern {
        "2026-07-28"
    } else {
        "handshake"
    }
}

/// Throughput with recording on against off, in each era, on each store.
pub(crate) fn recording_goals(host: &'static str, results: &Results) {
    let get = |row: String| results.get(&(row, host));
    for (stores, goal) in GOAL_RECORDING {
        for modern in [false, true] {
            let (Some(on), Some(off)) = (get(era_rows(stores, modern, true)), get(era_rows(stores, modern, false)))
            else {
                continue;
            };
            let r = on.run().per_sec / off.run().per_sec;
            println!(
                "  {host:<5} {:<26} {:<10} recording on/off throughput {:>3.0}%{}, host CPU per call {:+.2} ms   goal >= {:.0}%: {}",
                stores.name(),
                era_name(modern),
                100.0 * r,
                spread(on, off, |a, b| a.per_sec / b.per_sec),
                on.cpu_ms() - off.cpu_ms(),
                100.0 * goal,
                verdict(r >= goal)
            );
        }
    }
}

/// The stateless era no slower than the handshake era, on every store,
/// recording off and on: judged on throughput (measured in the same rounds).
pub(crate) fn era_goals(host: &'static str, results: &Results) {
    let get = |row: String| results.get(&(row, host));
    for stores in [Stores::Sqlite, Stores::SqliteMetricsInMemory, Stores::Redis] {
        for recording in [false, true] {
            let (Some(modern), Some(legacy)) =
                (get(era_rows(stores, true, recording)), get(era_rows(stores, false, recording)))
            else {
                continue;
            };
            let (m, l) = (modern.run(), legacy.run());
            let r = m.per_sec / l.per_sec;
            println!(
                "  {host:<5} {:<26} recording {:<3} 2026-07-28 / handshake throughput {r:.2}x{}   p50 {:.2}x   host CPU {:.2}x   goal: no slower (>= 1.00x): {}",
                stores.name(),
                if recording { "on" } else { "off" },
                spread_x(modern, legacy, |a, b| a.per_sec / b.per_sec),
                m.p50_ms / l.p50_ms,
                modern.cpu_ms() / legacy.cpu_ms(),
                verdict(r >= 1.0)
            );
        }
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
