//! The benchmark's test components answer what `make bench` times
//! (docs/benchmark.md): `hop`, the floor of a tool call, gives the answer
//! the gateway gives; `many-tools` lists its tools and the gateway calls
//! them. No timing here.

use serde_json::json;
use spinscope_e2e::*;

const CALL: &str = r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"word_count","arguments":{"text":"the quick brown fox"}}}"#;

#[test]
fn the_bare_hop_answers_what_the_gateway_answers() {
    let hop = HostBuilder::new("tests/e2e/manifests/hop.toml").start();
    let reply = hop.post("/mcp", &[("content-type", "application/json")], CALL);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let hopped = reply.json();
    assert_eq!(hopped["id"], 7, "{hopped}");

    let app = HostBuilder::app(Some(&["gateway", "text-tools"])).var("tool_components", "text-tools").start();
    let mut mcp = Mcp::connect(&app).0;
    let result = mcp.call_tool("word_count", json!({"text": "the quick brown fox"}));
    assert_eq!(hopped["result"]["structuredContent"], result["structuredContent"], "{hopped}");
    assert_eq!(hopped["result"]["structuredContent"]["words"], 4, "{hopped}");
    assert_eq!(hopped["result"]["isError"], result["isError"], "{hopped}");
}

/// The hop doing the gateway's kinds of host work too (table 9's
/// ablation rows: its variables, its store calls, its access line) still
/// answers the call, and prints the line.
#[test]
fn the_hop_with_every_extra_still_answers() {
    let hop = HostBuilder::hop_with_extras("config,store,log", false).start();
    let reply = hop.post("/mcp", &[("content-type", "application/json")], CALL);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["result"]["structuredContent"]["words"], 4, "{}", reply.body);
    hop.wait_for_log(|l| l.contains("hop=true"));
}

fn many_tools(count: Option<usize>) -> Host {
    let mut builder = HostBuilder::app(Some(&["gateway"]))
        .component("many-tools", "many_tools.wasm")
        .var("tool_components", "many-tools")
        .var("tools_page_size", "2000");
    if let Some(n) = count {
        builder = builder.component_variable("many-tools", "tool_count", &n.to_string());
    }
    builder.start()
}

#[test]
fn many_tools_lists_a_thousand_tools_or_as_many_as_told() {
    for (count, listed) in [(None, 1_000), (Some(10), 10)] {
        let host = many_tools(count);
        let mut mcp = Mcp::connect(&host).0;
        let reply = mcp.request("tools/list", json!({}));
        let names: Vec<String> = reply.json()["result"]["tools"]
            .as_array()
            .unwrap_or_else(|| panic!("{}", reply.body))
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(names.len(), listed, "{count:?}");
        assert_eq!(names[0], "t0000");
        assert_eq!(names[listed - 1], format!("t{:04}", listed - 1));
        let last = mcp.call_tool(&format!("t{:04}", listed - 1), json!({}));
        assert_eq!(result_text(&last), "ok", "{last}");
        let past = mcp.request("tools/call", json!({"name": format!("t{listed:04}"), "arguments": {}}));
        assert!(past.json().get("error").is_some() || past.json()["result"]["isError"] == true, "{}", past.body);
    }
}
