//! Table 6: legacy (handshake-era) versus 2026-07-28 `tools/call`, timed
//! side by side, and their exact store commands on Redis.

use super::*;

/// Table 6's rows: the same `tools/call word_count` in the two eras of MCP.
pub(crate) const LEGACY: &str = "legacy";
pub(crate) const MODERN: &str = "modern";
pub(crate) const ERA_STORES: [Stores; 2] = [Stores::Sqlite, Stores::SqliteMetricsInMemory];

pub(crate) fn era_row(stores: Stores, era: &str) -> String {
    format!("{}: {era}", stores.name())
}

/// A 2026-07-28 `tools/call`: version, client info and capabilities in
/// `params._meta`, the routing headers beside them, no session to look up.
pub(crate) fn modern_tool_call(host: &Host) -> Req {
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "bench", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {},
    });
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "word_count", "arguments": {"text": "the quick brown fox"}, "_meta": meta}});
    let headers = [
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "tools/call"),
        ("mcp-name", "word_count"),
    ];
    let headers = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Req { url: host.url("/mcp"), headers, body: Some(body.to_string()), cpu: host.cpu_meter(), committed: None }
}

/// Whether `req` is answered with a successful tool result: a JSON-RPC
/// error comes back with status 200 too, and must not pass for a call.
pub(crate) fn served(req: &Req) -> Result<(), String> {
    let headers: Vec<(&str, &str)> = req.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let reply = request("POST", &req.url, &headers, req.body.as_ref().map(|b| b.as_bytes()));
    let ok = reply.status == 200
        && serde_json::from_str::<serde_json::Value>(&reply.body)
            .is_ok_and(|v| v["result"]["isError"] == json!(false) && v.get("error").is_none());
    if ok {
        Ok(())
    } else {
        Err(format!("status {}: {}", reply.status, reply.body.chars().take(200).collect::<String>()))
    }
}

/// Table 6: legacy versus modern `tools/call` side by side, recording on, on
/// the default SQLite store and with the metrics in memory (where the
/// session read a legacy call adds is not hidden behind the metrics fsync).
/// Each row on a gateway of its own, measured in the same rounds.
pub(crate) fn era_group(kinds: &[HostKind], plan: &Plan, results: &mut Results) {
    println!("\n== 6. Legacy vs modern tools/call (recording on) ==");
    println!("  legacy: a session (initialize once, MCP-Session-Id on every call); modern: 2026-07-28, no session");
    let mut configs = Vec::new();
    for &kind in kinds {
        for stores in ERA_STORES {
            let host = gateway_host(stores, kind, None, true);
            configs.push(Config::new(era_row(stores, LEGACY), kind, tool_call(&host), host));
            let host = gateway_host(stores, kind, None, true);
            let req = modern_tool_call(&host);
            match served(&req) {
                Ok(()) => configs.push(Config::new(era_row(stores, MODERN), kind, req, host)),
                Err(why) => {
                    println!("  {} {}: not measured, not served ({why})", era_row(stores, MODERN), label(kind));
                    stop(host);
                }
            }
        }
    }
    measure(&mut configs, plan);
    report(&configs, results);
    drop(configs);
    for stores in ERA_STORES {
        for &kind in kinds {
            let get = |era: &str| results.get(&(era_row(stores, era), label(kind)));
            let (Some(legacy), Some(modern)) = (get(LEGACY), get(MODERN)) else { continue };
            let (l, m) = (legacy.run(), modern.run());
            println!(
                "  {:<36} {:<5} modern / legacy: throughput {:.2}x{}   p50 {:.2}x   p99 {:.2}x",
                stores.name(),
                label(kind),
                m.per_sec / l.per_sec,
                spread(modern, legacy, |a, b| a.per_sec / b.per_sec).replace('%', "% of legacy"),
                m.p50_ms / l.p50_ms,
                m.p99_ms / l.p99_ms
            );
        }
    }
    for stores in ERA_STORES {
        for era in [LEGACY, MODERN] {
            let row = era_row(stores, era);
            if let (Some(l), Some(s)) = (results.get(&(row.clone(), "local")), results.get(&(row.clone(), "spin"))) {
                let (l, s) = (l.run(), s.run());
                println!(
                    "  {row:<36} spin / local throughput {:>5.2}x   p50 {:>5.2}x",
                    s.per_sec / l.per_sec,
                    s.p50_ms / l.p50_ms
                );
            }
        }
    }
    era_store_commands(kinds);
}

/// How many calls [`store_commands`] averages over.
pub(crate) const COUNTED_CALLS: usize = 20;

/// The store commands one `tools/call` costs, exactly: `COUNTED_CALLS`
/// calls one after the other on a gateway whose store is Redis (one
/// command per store operation), each with its metrics recorded before the
/// next, counted by Redis itself. The first call, which fills the tool map,
/// is left out.
pub(crate) fn store_commands(redis: &RedisServer, req: &Req) -> String {
    served(req).expect("a tool result");
    let before = redis.settled_commandstats();
    for _ in 0..COUNTED_CALLS {
        served(req).expect("a tool result");
    }
    let cost = commands_per_call(&before, &redis.settled_commandstats(), COUNTED_CALLS as u64);
    let parts: Vec<String> = cost.iter().map(|(name, n)| format!("{} {n:.1}", name.to_uppercase())).collect();
    format!("{:>5.1} = {}", cost.values().sum::<f64>(), parts.join(" + "))
}

/// Table 6's exact part: store commands per `tools/call` in each era, on
/// Redis, recording on and off. Not timed, so the machine's load cannot
/// blur it.
pub(crate) fn era_store_commands(kinds: &[HostKind]) {
    println!("  Redis commands per tools/call (exact: {COUNTED_CALLS} calls in a row, Redis's INFO commandstats):");
    for &kind in kinds {
        for recording in [false, true] {
            for era in [LEGACY, MODERN] {
                let redis = RedisServer::start();
                let host = gateway_host(Stores::Redis, kind, Some(&redis), recording);
                let req = if era == LEGACY { tool_call(&host) } else { modern_tool_call(&host) };
                let counted = match served(&req) {
                    Ok(()) => store_commands(&redis, &req),
                    Err(why) => format!("not served ({why})"),
                };
                let what = format!("recording {}, {era}", if recording { "on" } else { "off" });
                println!("  {what:<36} {:<5} {counted}", label(kind));
                stop(host);
            }
        }
    }
}
