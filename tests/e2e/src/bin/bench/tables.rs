//! Tables 1, 2, 3 and 5: the store's cost, recording on versus off, the
//! local host against Spin, and the exporter.

use super::*;

/// Tables 1 and the SQLite rows of 2, measured in the same rounds, so the
/// store's ceiling and the floors (a trivial request, one bare chained hop)
/// are taken next to the gateway on that store. With `full` false, only
/// the floors and the gateway on SQLite, recording off and on
/// (`SPINSCOPE_BENCH_ONLY=floors`).
pub(crate) fn sqlite_group(kinds: &[HostKind], plan: &Plan, results: &mut Results, full: bool) {
    let mut configs = Vec::new();
    let mut store_rows = vec![TRIVIAL.to_string(), HOP.to_string()];
    for &kind in kinds {
        for (i, (stores, journal)) in SQLITE_SETUPS.into_iter().enumerate() {
            if !full && i > 0 {
                break;
            }
            // One host for the store rows: the trivial request does not touch the store.
            let host = foundation(kind, None, journal);
            if i == 0 {
                let req = get(&host, "/probe/instance");
                configs.push(Config { name: TRIVIAL.into(), kind, req, samples: Samples::default(), host: None });
                configs.push(hop(kind));
            }
            if full {
                let pattern = get(&host, "/probe/pattern");
                configs.push(Config {
                    name: pattern_row(stores),
                    kind,
                    req: pattern,
                    samples: Samples::default(),
                    host: None,
                });
                let mut increment = get(&host, "/probe/count?key=bench");
                increment.committed = Some(Committed::counter(&host.state_dir, "bench"));
                configs.push(Config::new(increment_row(stores), kind, increment, host));
            } else {
                // The trivial row's host is then this one's alone.
                let trivial = configs.iter_mut().rev().find(|c| c.name == TRIVIAL && c.kind == kind).unwrap();
                trivial.host = Some(host);
            }
            if i == 0 {
                configs.push(gateway_nothing_recorded(kind));
            }
            configs.push(gateway(stores, kind, None, false));
            configs.push(gateway(stores, kind, None, true));
            if i == 0 && full {
                configs.push(gateway_modern(stores, kind, None, false));
                configs.push(gateway_breakers_off(kind));
                configs.push(gateway_features(kind, true));
                configs.push(gateway_features(kind, false));
                configs.push(gateway_audit_off(kind));
                for credential in [Credential::Open, Credential::ApiKey, Credential::Token] {
                    configs.push(gateway_credential(kind, credential));
                }
            }
            store_rows.extend([pattern_row(stores), increment_row(stores)]);
        }
    }
    measure(&mut configs, plan);
    let (store, tools): (Vec<Config>, Vec<Config>) = configs.into_iter().partition(|c| store_rows.contains(&c.name));
    println!(
        "\n== 1. Floors and store cost: trivial request, one bare hop, one increment on the default SQLite store =="
    );
    println!("  (sqlite: write-ahead logging, as `make up` prepares the file; rollback journal: as Spin creates it)");
    report(&store, results);
    for &kind in kinds {
        if let (Some(t), Some(h)) =
            (results.get(&(TRIVIAL.into(), label(kind))), results.get(&(HOP.into(), label(kind))))
        {
            println!(
                "  {:<36} {:<5} trivial / hop throughput {:.1}x   hop / trivial host CPU per request {:.1}x",
                "floors",
                label(kind),
                t.run().per_sec / h.run().per_sec,
                h.cpu_ms() / t.cpu_ms()
            );
        }
    }
    for &kind in kinds {
        for (stores, _) in SQLITE_SETUPS {
            if let (Some(t), Some(i)) =
                (results.get(&(TRIVIAL.into(), label(kind))), results.get(&(increment_row(stores), label(kind))))
            {
                println!(
                    "  {:<36} {:<5} trivial / increment throughput {:.1}x",
                    stores.name(),
                    label(kind),
                    t.run().per_sec / i.run().per_sec
                );
            }
        }
    }
    println!("\n== 2. Tool calls through the gateway, recording on vs off ==");
    report(&tools, results);
    for (stores, _) in SQLITE_SETUPS {
        on_off_summary(stores, kinds, results);
    }
    for &kind in kinds {
        let on = results.get(&(on_off(Stores::Sqlite, true), label(kind)));
        let off = results.get(&(BREAKERS_OFF.into(), label(kind)));
        feature_cost("breakers on/off", on.zip(off), kind);
        let on = results.get(&(FEATURES_ON.into(), label(kind)));
        let off = results.get(&(FEATURES_OFF.into(), label(kind)));
        feature_cost("breakers + tool metrics on/off", on.zip(off), kind);
        let on = results.get(&(on_off(Stores::Sqlite, true), label(kind)));
        let off = results.get(&(AUDIT_OFF.into(), label(kind)));
        let open = results.get(&(Credential::Open.row(), label(kind)));
        for credential in [Credential::ApiKey, Credential::Token] {
            if let Some((with, open)) = results.get(&(credential.row(), label(kind))).zip(open) {
                println!(
                    "  {:<36} {:<5} vs open: throughput {:.2}   host CPU per call {:+.3} ms",
                    credential.row(),
                    label(kind),
                    with.run().per_sec / open.run().per_sec,
                    with.cpu_ms() - open.cpu_ms(),
                );
            }
        }
        if let Some((on, off)) = on.zip(off) {
            println!(
                "  {:<36} {:<5} audit on/off: throughput {:.2}   p50 {:+.2} ms   host CPU per call {:+.3} ms",
                "sqlite, recording on",
                label(kind),
                on.run().per_sec / off.run().per_sec,
                on.run().p50_ms - off.run().p50_ms,
                on.cpu_ms() - off.cpu_ms(),
            );
        }
    }
}

/// What a feature costs a call: the throughput ratio and the host CPU per
/// call, on vs off, against the 0.05 ms budget.
fn feature_cost(what: &str, on_off: Option<(&Samples, &Samples)>, kind: HostKind) {
    let Some((on, off)) = on_off else { return };
    let cpu = on.cpu_ms() - off.cpu_ms();
    let verdict = if cpu <= 0.05 { "met" } else { "NOT MET" };
    println!(
        "  {:<36} {:<5} {what}: throughput {:.2}   host CPU per call {cpu:+.3} ms   goal <= +0.05 ms: {verdict}",
        "sqlite, recording on",
        label(kind),
        on.run().per_sec / off.run().per_sec,
    );
}

/// The rows of table 2 for the in-memory metrics store or Redis.
pub(crate) fn store_group(stores: Stores, kinds: &[HostKind], plan: &Plan, results: &mut Results) {
    // One Redis per host, so neither sees the other's keys.
    let redis: Vec<Option<RedisServer>> =
        kinds.iter().map(|_| (stores == Stores::Redis).then(RedisServer::start)).collect();
    let mut configs = Vec::new();
    for (i, &kind) in kinds.iter().enumerate() {
        configs.push(gateway(stores, kind, redis[i].as_ref(), false));
        configs.push(gateway(stores, kind, redis[i].as_ref(), true));
        configs.push(gateway_modern(stores, kind, redis[i].as_ref(), false));
        configs.push(gateway_modern(stores, kind, redis[i].as_ref(), true));
        if let Some(r) = &redis[i] {
            // One store round trip next to the gateway's work, for scale.
            let host = foundation(kind, Some(r), Journal::Wal);
            configs.push(Config::new(INCREMENT_REDIS, kind, get(&host, "/probe/count?key=bench"), host));
        }
    }
    measure(&mut configs, plan);
    report(&configs, results);
    drop(configs);
    on_off_summary(stores, kinds, results);
}

/// Recording's share of the p50 latency with recording on.
pub(crate) fn share(on: &Run, off: &Run) -> f64 {
    (on.p50_ms - off.p50_ms).max(0.0) / on.p50_ms
}

pub(crate) fn on_off_summary(stores: Stores, kinds: &[HostKind], results: &Results) {
    for &kind in kinds {
        let (Some(off), Some(on)) =
            (results.get(&(on_off(stores, false), label(kind))), results.get(&(on_off(stores, true), label(kind))))
        else {
            continue;
        };
        let cpu = on.cpu_ms() - off.cpu_ms();
        let (off, on) = (off.run(), on.run());
        println!(
            "  {:<36} {:<5} throughput on/off {:.2}   p50 on/off {:.2}   recording share of p50 {:.0}%   machine time per call {:+.2} ms   host CPU per call {:+.2} ms",
            stores.name(),
            label(kind),
            on.per_sec / off.per_sec,
            on.p50_ms / off.p50_ms,
            100.0 * share(&on, &off),
            1e3 * (1.0 / on.per_sec - 1.0 / off.per_sec),
            cpu
        );
    }
}

pub(crate) fn host_vs_spin(results: &Results) {
    let rows: Vec<String> = [TRIVIAL, HOP, INCREMENT_REDIS]
        .into_iter()
        .map(String::from)
        .chain(SQLITE_SETUPS.into_iter().flat_map(|(s, _)| [increment_row(s), pattern_row(s)]))
        .chain(
            [Stores::Sqlite, Stores::SqliteRollback, Stores::SqliteMetricsInMemory, Stores::Redis]
                .into_iter()
                .flat_map(|s| [on_off(s, false), on_off(s, true), modern_on_off(s, false), modern_on_off(s, true)]),
        )
        .collect();
    println!("\n== 3. Local host vs Spin, same work (spin / local) ==");
    for row in rows {
        if let (Some(l), Some(s)) = (results.get(&(row.clone(), "local")), results.get(&(row.clone(), "spin"))) {
            let (l, s) = (l.run(), s.run());
            println!(
                "  {row:<36} throughput {:>5.2}x   p50 {:>5.2}x   p99 {:>5.2}x",
                s.per_sec / l.per_sec,
                s.p50_ms / l.p50_ms,
                s.p99_ms / l.p99_ms
            );
        }
    }
}

pub(crate) fn exporter() {
    println!("\n== 5. Exporter ==");
    // What folding costs per recorded request, before Spin's own costs
    // (the records' get-many and delete, the fold record's swap).
    let records: Vec<Vec<u8>> = (0..1_024).map(spinscope::metrics::bench_call_record).collect();
    let limits = spinscope::metrics::Limits::default();
    let runs = 20;
    let t = Instant::now();
    for _ in 0..runs {
        let mut folded = spinscope::metrics::Snapshot::new();
        for bytes in &records {
            folded.fold_encoded(bytes, &limits).expect("the bench records decode");
        }
        folded.prune_activity(0, &limits);
    }
    let per = t.elapsed().as_secs_f64() / (runs * records.len()) as f64;
    println!(
        "  fold   {:>6} call records (native): {:>6.2} µs per record ({} bytes each)",
        records.len(),
        per * 1e6,
        records[0].len()
    );
    for series in [1_000usize, 10_000] {
        let snapshot = spinscope::metrics::bench_snapshot(series);
        let runs = 20;
        let t = Instant::now();
        let mut bytes = 0;
        for _ in 0..runs {
            bytes =
                spinscope::metrics::render_prometheus(&snapshot, &spinscope::metrics::RenderContext::default()).len();
        }
        let ms = (t.elapsed() / runs).as_secs_f64() * 1e3;
        let goal = match series {
            10_000 => format!("   goal < {GOAL_RENDER_MS:.0} ms: {}", verdict(ms < GOAL_RENDER_MS)),
            _ => String::new(),
        };
        println!("  render {series:>6} series (native): {ms:>8.2} ms  ({bytes} bytes){goal}");
    }
}
