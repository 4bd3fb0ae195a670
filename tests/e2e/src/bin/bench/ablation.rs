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
    ("hop + store (4 calls: open, 2 gets, 1 get-many)", "store"),
    ("hop + access line", "log"),
    ("hop + config + store + access line", "config,store,log"),
];

/// The gateway with nothing recorded (neither metrics nor the audit
/// trail), its variables in a static provider as `make up` gives them, and
/// with Spin's environment provider alone (a bare `spin up`).
const GATEWAY_BARE: &str = "gateway, metrics and audit off";
const GATEWAY_ENV: &str = "gateway, metrics and audit off, env provider only";
/// The first row without its access line (`log_level=warn`).
const GATEWAY_QUIET: &str = "gateway, metrics and audit off, no access line";

/// A hop whose component does `extras` too; with `config`, it is given
/// the app's variables and the gateway's mapping of them, as `spin.toml`
/// declares them.
fn hop_with(kind: HostKind, extras: &str) -> Host {
    let root = workspace_root();
    let mut doc: toml::Table =
        std::fs::read_to_string(root.join("tests/e2e/manifests/hop.toml")).unwrap().parse().unwrap();
    let app: toml::Table = std::fs::read_to_string(root.join("spin.toml")).unwrap().parse().unwrap();
    let target = target_dir().join("wasm32-wasip2/component");
    let comps = doc.get_mut("component").and_then(|c| c.as_table_mut()).unwrap();
    for (_, comp) in comps.iter_mut() {
        let comp = comp.as_table_mut().unwrap();
        let file = std::path::Path::new(comp["source"].as_str().unwrap()).file_name().unwrap().to_owned();
        comp.insert("source".into(), target.join(file).display().to_string().into());
    }
    let hop = comps.get_mut("hop").and_then(|c| c.as_table_mut()).unwrap();
    let mut env = toml::Table::new();
    env.insert("HOP_EXTRAS".into(), extras.into());
    hop.insert("environment".into(), toml::Value::Table(env));
    hop.insert("key_value_stores".into(), toml::Value::Array(vec!["default".into()]));
    if extras.contains("config") {
        hop.insert("variables".into(), app["component"]["gateway"]["variables"].clone());
        doc.insert("variables".into(), app["variables"].clone());
    }
    let path = temp_dir("manifest").join("spin.toml");
    std::fs::write(&path, toml::to_string(&doc).unwrap()).unwrap();
    let mut builder = HostBuilder::new(&path);
    if extras.contains("static") {
        // Every app variable in a `static` provider, which Spin asks before
        // its environment provider.
        let values: toml::Table = app["variables"]
            .as_table()
            .unwrap()
            .iter()
            .map(|(name, v)| (name.clone(), v.get("default").cloned().unwrap_or_else(|| "".into())))
            .collect();
        let mut provider = toml::Table::new();
        provider.insert("type".into(), "static".into());
        provider.insert("values".into(), toml::Value::Table(values));
        let mut section = toml::Table::new();
        section.insert("variables_provider".into(), toml::Value::Array(vec![toml::Value::Table(provider)]));
        builder = builder.runtime_config_section(&toml::to_string(&section).unwrap());
    }
    start(builder, kind)
}

fn hop_req(host: &Host) -> Req {
    let body = json!({"jsonrpc":"2.0","id":1,"method":"tools/call",
        "params":{"name":"word_count","arguments":{"text":"the quick brown fox"}}});
    let headers = [("content-type", "application/json"), ("accept", "application/json, text/event-stream")];
    Req {
        url: host.url("/mcp"),
        headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        body: Some(body.to_string()),
        cpu: host.cpu_meter(),
        committed: None,
    }
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
            let req = hop_req(&host);
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
