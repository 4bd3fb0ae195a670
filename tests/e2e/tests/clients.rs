//! The official MCP client SDKs against the real gateway on the host under
//! test: Python `mcp` 2.x and Rust `rmcp` 3.x in their 2026-07-28 mode
//! (`server/discover`, then stateless requests), and the TypeScript SDK 1.x
//! in the handshake era (initialize, a session, DELETE). What each client
//! negotiated and got back is checked, and `/metrics` must agree: no session
//! for the modern clients, one (created and ended) for the handshake client,
//! and the calls counted under the negotiated `mcp_protocol_version`.
//!
//! Python and node run as subprocesses from what `make deps`
//! (scripts/install-deps.sh) installs under `target/mcp-clients`; when that
//! is missing the test fails and says so, it never skips.

use rmcp::model::{CallToolRequestParams, ClientConfig, Implementation, ProtocolVersion};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{ClientLifecycleMode, ClientServiceExt};
use serde_json::{json, Value};
use spinscope_e2e::*;
use spinscope_testkit::exposition::Exposition;
use std::process::Command;

const MODERN: &str = "2026-07-28";
/// What the TypeScript SDK 1.32 asks for in `initialize` (its latest).
const TS_SDK_VERSION: &str = "2025-11-25";

fn app() -> HostBuilder {
    HostBuilder::app(Some(&["gateway", "metrics", "text-tools", "calc"])).var("tool_components", "text-tools,calc")
}

/// `spinscope_mcp_requests_total` for `method` at protocol version `version`.
fn requests(e: &Exposition, method: &str, version: &str) -> f64 {
    value(e, "spinscope_mcp_requests_total", &[("method", method), ("mcp_protocol_version", version)])
}

/// The MCP request series of a scrape, for a failed assertion to show.
fn mcp_series(host: &Host) -> String {
    let body = host.get("/metrics").body;
    body.lines()
        .filter(|l| l.contains("spinscope_mcp_") || l.contains("spinscope_sessions_"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// What every modern client must have left in the metrics: one discovery
/// and its two `word_count` calls counted at 2026-07-28, no `initialize`,
/// no session.
fn assert_stateless(host: &Host, client: &str) {
    // Each request records its own metrics after answering: wait for all of them.
    let e = scrape_until(host, |e| {
        requests(e, "tools/call", MODERN) >= 2.0
            && requests(e, "tools/list", MODERN) >= 1.0
            && requests(e, "server/discover", MODERN) >= 1.0
    });
    let series = || mcp_series(host);
    assert_eq!(requests(&e, "tools/call", MODERN), 2.0, "{client}: tools/call at {MODERN}\n{}", series());
    assert!(requests(&e, "tools/list", MODERN) >= 1.0, "{client}: tools/list at {MODERN}\n{}", series());
    assert_eq!(requests(&e, "server/discover", MODERN), 1.0, "{client}: one discovery\n{}", series());
    assert_eq!(
        value(
            &e,
            "spinscope_mcp_server_operation_duration_seconds_count",
            &[("mcp_method_name", "tools/call"), ("gen_ai_tool_name", "word_count"), ("mcp_protocol_version", MODERN)]
        ),
        2.0,
        "{client}: operation duration of the calls at {MODERN}\n{}",
        series()
    );
    assert_eq!(value(&e, "spinscope_mcp_requests_total", &[("method", "initialize")]), 0.0, "{client}\n{}", series());
    assert_eq!(value(&e, "spinscope_sessions_created_total", &[]), 0.0, "{client} made a session\n{}", series());
    assert_eq!(value(&e, "spinscope_sessions_active", &[]), 0.0, "{client}\n{}", series());
}

/// `word_count` of "the quick brown fox", as a client summarised it.
fn assert_word_count(call: &Value) {
    assert_eq!(call["is_error"], false, "{call}");
    assert_eq!(call["structured"]["words"], 4, "{call}");
    assert_eq!(call["structured"]["characters"], 19, "{call}");
}

/// Invalid arguments, from 2025-11-25 on: a tool execution error with a
/// message (SEP-1303), not a JSON-RPC error.
fn assert_invalid_arguments(call: &Value) {
    assert_eq!(call["is_error"], true, "{call}");
    assert!(!call["text"].as_str().unwrap_or_default().is_empty(), "a message the model can act on: {call}");
}

fn tool_names(list: &Value) -> Vec<&str> {
    list.as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect()
}

#[test]
fn python_sdk_discovers_and_speaks_2026_07_28_without_a_session() {
    let python = installed("venv/bin/python");
    let host = app().start();
    let mut cmd = Command::new(python);
    cmd.arg(client_script("python_modern.py")).arg(host.url("/mcp"));
    let out = run_client(cmd);

    assert_eq!(out["protocol_version"], MODERN, "{out}");
    assert_eq!(out["server_info"]["name"], "spinscope", "{out}");
    let tools = tool_names(&out["tools"]);
    for tool in ["calculate", "change_case", "sha256", "statistics", "word_count"] {
        assert!(tools.contains(&tool), "{tool} not listed: {out}");
    }
    assert_word_count(&out["call"]);
    assert_invalid_arguments(&out["invalid_call"]);
    assert_stateless(&host, "python mcp");
}

/// A `CallToolResult` from rmcp in the scripts' summary shape.
fn summary(result: &rmcp::model::CallToolResult) -> Value {
    let v = serde_json::to_value(result).unwrap();
    let text: String = v["content"].as_array().into_iter().flatten().filter_map(|c| c["text"].as_str()).collect();
    json!({"is_error": v["isError"].as_bool().unwrap_or(false), "text": text, "structured": v["structuredContent"]})
}

#[test]
fn rmcp_discovers_and_speaks_2026_07_28_without_a_session() {
    // A TTL of its own, to see the tools/list cache hint come from it.
    let host = app().var("tool_map_ttl_ms", "7000").start();
    let url = host.url("/mcp");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let out = rt.block_on(async {
        let mut config = ClientConfig::default();
        config.client_info = Implementation::new("spinscope-e2e-rmcp", "1.0.0");
        // Discover mode has no fallback to `initialize`: a gateway that did
        // not answer `server/discover` with 2026-07-28 fails the start.
        let lifecycle = ClientLifecycleMode::Discover { preferred_versions: vec![ProtocolVersion::V_2026_07_28] };
        let client = config
            .serve_with_lifecycle(StreamableHttpClientTransport::from_uri(url), lifecycle)
            .await
            .expect("rmcp discover start");
        let info = client.peer_info().expect("peer info after discover");
        let page = client.list_tools(None).await.expect("tools/list");
        let tools = &page.tools;
        let args = |v: Value| v.as_object().unwrap().clone();
        let ok = client
            .call_tool(
                CallToolRequestParams::new("word_count").with_arguments(args(json!({"text": "the quick brown fox"}))),
            )
            .await
            .expect("tools/call");
        let invalid = client
            .call_tool(CallToolRequestParams::new("word_count").with_arguments(args(json!({"text": 5}))))
            .await
            .expect("tools/call with invalid arguments is a result, not an error");
        client.cancel().await.expect("rmcp shutdown");
        let mut names: Vec<String> = tools.iter().map(|t| t.name.to_string()).collect();
        names.sort();
        json!({
            "protocol_version": info.protocol_version.to_string(),
            "server_info": info.server_info.as_ref().map(|i| json!({"name": i.name, "version": i.version})),
            "tools": names,
            "list_cache_hint": {
                "ttlMs": page.ttl_ms,
                "cacheScope": page.cache_scope,
                "resultType": page.result_type,
                "nextCursor": page.next_cursor,
            },
            "call": summary(&ok),
            "invalid_call": summary(&invalid),
        })
    });

    assert_eq!(out["protocol_version"], MODERN, "{out}");
    assert_eq!(out["server_info"]["name"], "spinscope", "{out}");
    assert!(tool_names(&out["tools"]).contains(&"word_count"), "{out}");
    // Cache hints of 2026-07-28 (SEP-2549): the tool map's TTL, public in
    // open mode; one page holds every tool.
    assert_eq!(
        out["list_cache_hint"],
        json!({"ttlMs": 7000, "cacheScope": "public", "resultType": "complete", "nextCursor": null}),
        "{out}"
    );
    assert_word_count(&out["call"]);
    assert_invalid_arguments(&out["invalid_call"]);
    assert_stateless(&host, "rmcp");
}

#[test]
fn typescript_sdk_1_x_keeps_its_handshake_era_session() {
    let node_modules = installed("node/node_modules");
    installed("node/node_modules/@modelcontextprotocol/sdk/package.json");
    let host = app().start();
    let mut cmd = Command::new("node");
    cmd.env("NODE_PATH", &node_modules).arg(client_script("node/handshake.cjs")).arg(host.url("/mcp"));
    let out = run_client(cmd);

    assert_eq!(out["protocol_version"], TS_SDK_VERSION, "{out}");
    assert_eq!(out["server_info"]["name"], "spinscope", "{out}");
    assert!(out["session"].as_str().is_some_and(|s| !s.is_empty()), "a session id: {out}");
    assert_eq!(out["ended"], true, "DELETE ended the session: {out}");
    assert!(tool_names(&out["tools"]).contains(&"calculate"), "{out}");
    let call = &out["call"];
    assert_eq!(call["is_error"], false, "{call}");
    assert_eq!(call["structured"]["result"], 14.0, "(1.5 + 2) * 4: {call}");
    assert_invalid_arguments(&out["invalid_call"]);

    // One session, created by initialize and ended by the DELETE.
    // Wait for every request's recording, the DELETE's included: the
    // session is active from initialize's recording until the DELETE's.
    let e = scrape_until(&host, |e| {
        requests(e, "tools/call", TS_SDK_VERSION) >= 2.0
            && value(e, "spinscope_sessions_created_total", &[]) >= 1.0
            && value(e, "spinscope_sessions_active", &[]) == 0.0
    });
    let series = mcp_series(&host);
    assert_eq!(value(&e, "spinscope_sessions_created_total", &[]), 1.0, "{series}");
    assert_eq!(value(&e, "spinscope_sessions_active", &[]), 0.0, "{series}");
    assert_eq!(value(&e, "spinscope_mcp_requests_total", &[("method", "initialize")]), 1.0, "{series}");
    assert_eq!(requests(&e, "tools/call", TS_SDK_VERSION), 2.0, "{series}");
    assert_eq!(requests(&e, "tools/call", MODERN), 0.0, "{series}");
}
