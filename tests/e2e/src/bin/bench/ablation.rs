//! Table 9: where a gateway call's cost over the bare hop goes, by
//! ablation. The `hop` test component does, on request, each kind of host
//! work the gateway asks of Spin on a `tools/call` (its configuration, its
//! store calls, its access line), so each one's cost on the host is
//! measured alone, side by side with the bare hop and the gateway, in the
//! same rounds (`SPINSCOPE_BENCH_ONLY=ablation`; docs/benchmark.md).

use super::*;

/// The hop's extras (`HOP_EXTRAS`, tests/components/hop) of each row.
const ROWS: [(&str, &str); 5] = [
    ("hop + config (the gateway's variables, one get-all)", "config"),
    ("hop + config, values from a static provider", "config,static"),
    ("hop + store (2 calls: open, 1 get-many)", "store"),
    ("hop + access line", "log"),
    ("hop + all three (config from a static provider)", "config,static,store,log"),
];

/// The gateway with nothing recorded (neither metrics nor the audit
/// trail), its variables in a static provider as `make up` gives them, and
/// with Spin's environment provider alone (a bare `spin up`).
const GATEWAY_BARE: &str = "gateway, metrics and audit off";
const GATEWAY_ENV: &str = "gateway, metrics and audit off, env provider only";
/// The first row without its access line (`log_level=warn`).
const GATEWAY_QUIET: &str = "gateway, metrics and audit off, no access line";

/// A hop whose component does `extras` too; with `config`, it is given
/// the app's variables and the gateway's mapping of them, and with
/// `static` they are in a static provider, as `make up` gives them.
fn hop_with(kind: HostKind, extras: &str) -> Host {
    let mut builder = HostBuilder::hop_with_extras(extras, extras.contains("config"));
    if extras.contains("static") {
        builder = builder.static_variables();
    }
    start(builder, kind)
}

/// Table 9: the bare hop, the hop with each extra, the hop with all of
/// them, and the gateway recording nothing, on each host.
pub(crate) fn ablation_group(kinds: &[HostKind], plan: &Plan, results: &mut Results) {
    println!(
        "\n== 9. Where the gateway's cost over the hop goes: the hop plus each kind of the gateway's host work =="
    );
    let mut configs = Vec::new();
    for &kind in kinds {
        configs.push(hop(kind));
        for (name, extras) in ROWS {
            let host = hop_with(kind, extras);
            let req = hop_call(&host);
            configs.push(Config::new(name, kind, req, host));
        }
        let quiet: &[(&str, &str)] = &[("log_level", "warn")];
        for (name, static_variables, vars) in
            [(GATEWAY_BARE, true, &[][..]), (GATEWAY_ENV, false, &[][..]), (GATEWAY_QUIET, true, quiet)]
        {
            let features = Features { audit: false, static_variables, ..Features::DEFAULT };
            let host = gateway_host_with_vars(Stores::Sqlite, kind, None, false, features, vars);
            let req = tool_call(&host);
            configs.push(Config::new(name, kind, req, host));
        }
    }
    measure(&mut configs, plan);
    report(&configs, results);
    for &kind in kinds {
        let Some(bare) = results.get(&(HOP.into(), label(kind))) else { continue };
        let rows = ROWS.iter().map(|(name, _)| *name).chain([GATEWAY_BARE, GATEWAY_ENV, GATEWAY_QUIET]);
        for name in rows {
            if let Some(row) = results.get(&(name.to_string(), label(kind))) {
                println!(
                    "  {:<52} {:<5} vs the bare hop: host CPU per call {:+.3} ms   throughput {:.2}x",
                    name,
                    label(kind),
                    row.cpu_ms() - bare.cpu_ms(),
                    row.run().per_sec / bare.run().per_sec,
                );
            }
        }
    }
}
