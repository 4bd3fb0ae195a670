//! Tables 7 and 8: a call's cost as the app grows (1,000 tool series in the
//! store against 10), and one scrape over 10,000 pending observation records.

use super::*;

/// How many tools (and so tool series in the store) each row's app has.
pub(crate) const SCALE_TOOLS: [usize; 2] = [1_000, 10];

pub(crate) fn scale_row(tools: usize) -> String {
    format!("t0000 with {tools} tool series")
}

/// A gateway whose only tool component, `many-tools`, lists `tools` tools
/// (SQLite, recording on, the app's defaults); each tool is called once
/// and then a scrape folds their records, so that the store holds a series
/// per tool. The row calls `t0000` on a session.
fn scale_config(kind: HostKind, tools: usize) -> Config {
    let mut builder = HostBuilder::app(Some(&["gateway", "metrics"]))
        .static_variables()
        .component("many-tools", "many_tools.wasm")
        .component_variable("many-tools", "tool_count", &tools.to_string())
        .var("tool_components", "many-tools")
        .var("breaker_failures", "5");
    for (name, value) in bench_vars() {
        builder = builder.var(&name, &value);
    }
    let host = start(builder, kind);
    let (mcp, _) = Mcp::connect(&host);
    let headers = mcp.headers();
    let url = host.url("/mcp");
    let threads = 8;
    let failed: usize = concurrently(threads, tools.div_ceil(threads), move |i| {
        if i >= tools {
            return 0;
        }
        let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let body =
            json!({"jsonrpc":"2.0","id":i,"method":"tools/call","params":{"name":format!("t{i:04}"),"arguments":{}}});
        let reply = request("POST", &url, &h, Some(body.to_string().as_bytes()));
        let ok = reply.status == 200
            && serde_json::from_str::<serde_json::Value>(&reply.body)
                .is_ok_and(|v| v["result"]["isError"] == json!(false));
        usize::from(!ok)
    })
    .into_iter()
    .sum();
    if failed > 0 {
        println!("  {} {}: {failed} of the {tools} first calls failed", scale_row(tools), label(kind));
    }
    // The records of the calls just made are folded into the fold record.
    std::thread::sleep(Duration::from_millis(300));
    let scraped = host.get("/metrics");
    if scraped.status != 200 {
        println!("  {} {}: the scrape answered {}", scale_row(tools), label(kind), scraped.status);
    }
    let req = tool_call_of(&host, "t0000", json!({"text": "x"}));
    Config::new(scale_row(tools), kind, req, host)
}

/// Table 7: the same call with 1,000 tool series in the store and with 10,
/// side by side in the same rounds; the flat-cost goal.
pub(crate) fn scale_group(kinds: &[HostKind], plan: &Plan, results: &mut Results) {
    println!("\n== 7. Cost as the app grows: 1,000 tool series in the store vs 10 (sqlite, recording on) ==");
    let mut configs = Vec::new();
    for &kind in kinds {
        for tools in SCALE_TOOLS {
            configs.push(scale_config(kind, tools));
        }
    }
    measure(&mut configs, plan);
    report(&configs, results);
    drop(configs);
    for &kind in kinds.iter().rev() {
        flat_goal(label(kind), results);
    }
}

/// The flat-cost goal: p50 and host CPU per call with 1,000 tool series
/// within `GOAL_FLAT` of the same with 10.
pub(crate) fn flat_goal(host: &'static str, results: &Results) {
    let get = |tools: usize| results.get(&(scale_row(tools), host));
    let (Some(many), Some(few)) = (get(SCALE_TOOLS[0]), get(SCALE_TOOLS[1])) else { return };
    let p50 = many.run().p50_ms / few.run().p50_ms;
    let cpu = many.cpu_ms() / few.cpu_ms();
    println!(
        "  {host:<5} 1,000 / 10 tool series: p50 {p50:.2}x{} ({:.1} / {:.1} ms)   host CPU per call {cpu:.2}x ({:.2} / {:.2} ms)   throughput {:.2}x   goal both <= {GOAL_FLAT:.1}x: {}",
        spread_x(many, few, |a, b| a.p50_ms / b.p50_ms),
        many.run().p50_ms,
        few.run().p50_ms,
        many.cpu_ms(),
        few.cpu_ms(),
        many.run().per_sec / few.run().per_sec,
        verdict(p50 <= GOAL_FLAT && cpu <= GOAL_FLAT)
    );
}

/// How many observation records wait for table 8's scrape.
pub(crate) const PENDING: usize = 10_000;

/// Table 8: one `GET /metrics` over `PENDING` observation records that no
/// scrape has folded, written in the store's layout before the host starts
/// (each the record of one `tools/call`, as the gateway writes it). The
/// first scrape reports them all and folds one batch; the next one reports
/// them all again and folds the next batch.
pub(crate) fn scrape_table(kinds: &[HostKind]) {
    println!("\n== 8. A scrape with {PENDING} pending observation records (sqlite) ==");
    let entries: Vec<(String, Vec<u8>)> = (0..PENDING)
        .map(|i| (spinscope::keys::metrics_obs(&format!("{i:032x}")), spinscope::metrics::bench_call_record(i as u64)))
        .collect();
    for &kind in kinds.iter().rev() {
        let state = state_with_store(&entries);
        let builder = HostBuilder::app(Some(&["gateway", "metrics", "text-tools", "calc"]))
            .static_variables()
            .var("tool_components", "text-tools,calc")
            .state_dir(&state);
        let host = start(builder, kind);
        let meter = host.cpu_meter();
        for scrape in ["first scrape", "next scrape"] {
            let cpu = meter.read();
            let t = Instant::now();
            let reply = host.get("/metrics");
            let took = t.elapsed().as_secs_f64();
            let cpu = (meter.read().saturating_sub(cpu)).as_secs_f64();
            let counted = spinscope_testkit::exposition::parse(&reply.body)
                .ok()
                .and_then(|e| e.value("spinscope_tool_calls_total", &[]))
                .unwrap_or(0.0);
            let goal = match scrape {
                "first scrape" => format!("   goal < {GOAL_SCRAPE_S:.0} s: {}", verdict(took < GOAL_SCRAPE_S)),
                _ => String::new(),
            };
            println!(
                "  {:<5} {scrape}: status {}, {:.0} ms, host CPU {:.0} ms, {counted:.0} tool calls counted, {} bytes{goal}",
                label(kind),
                reply.status,
                took * 1e3,
                cpu * 1e3,
                reply.body.len()
            );
        }
        stop(host);
    }
}
