use super::*;
use serde_json::json;

fn tool(name: &str) -> Tool {
    Tool::new(name, json!({"type": "object"}))
}

fn listing(names: &[&str]) -> ToolAnswer {
    let tools: Vec<Tool> = names.iter().map(|n| tool(n)).collect();
    ToolAnswer::Answered { status: 200, body: serde_json::to_vec(&tools).unwrap(), truncated: false }
}

#[test]
fn tool_names_are_one_escaped_path_segment() {
    assert_eq!(tool_url("text-tools", "word_count"), "http://text-tools.spin.internal/word_count");
    assert_eq!(tool_url("c", "a.b-c_d~e"), "http://c.spin.internal/a.b-c_d~e");
    assert_eq!(tool_url("c", "../admin?x=1#f"), "http://c.spin.internal/..%2Fadmin%3Fx%3D1%23f");
    assert_eq!(tool_url("c", "naïve tool"), "http://c.spin.internal/na%C3%AFve%20tool");
    assert_eq!(component_url("calc", "/"), "http://calc.spin.internal/");
}

#[test]
fn listings_are_read_or_refused_with_a_reason() {
    let t = Duration::from_millis(250);
    assert_eq!(read_listing(listing(&["a", "b"]), t).unwrap().tools.len(), 2);
    assert_eq!(read_listing(ToolAnswer::Timeout, t), Err(ListingError::Timeout { ms: 250 }));
    assert_eq!(
        read_listing(ToolAnswer::Answered { status: 404, body: vec![], truncated: false }, t),
        Err(ListingError::Status(404))
    );
    assert_eq!(
        read_listing(ToolAnswer::Answered { status: 200, body: vec![], truncated: true }, t),
        Err(ListingError::TooLarge)
    );
    let not_tools = read_listing(ToolAnswer::Answered { status: 200, body: b"{}".to_vec(), truncated: false }, t);
    assert!(matches!(not_tools, Err(ListingError::NotTools(_))));
    assert_eq!(
        ListingError::Status(500).to_string(),
        "metadata request answered HTTP 500",
        "the log line reads as before"
    );
}

#[test]
fn the_first_component_keeps_a_duplicate_name() {
    let components = ["text-tools".to_string(), "calc".to_string(), "dead".to_string()];
    let t = Duration::from_secs(1);
    let listings = vec![
        read_listing(listing(&["word_count", "sum"]), t),
        read_listing(listing(&["sum", "mean"]), t),
        read_listing(ToolAnswer::Timeout, t),
    ];
    let d = assemble(&components, listings, 42);
    let owners: Vec<(&str, &str)> = d.map.tools.iter().map(|e| (e.tool.name.as_str(), e.component.as_str())).collect();
    assert_eq!(owners, [("word_count", "text-tools"), ("sum", "text-tools"), ("mean", "calc")]);
    assert_eq!(d.duplicates, [Duplicate { tool: "sum".into(), kept: "text-tools".into(), ignored: "calc".into() }]);
    assert_eq!(d.failures.len(), 1);
    assert_eq!(d.failures[0].component, "dead");
    assert!(!d.map.listed("dead") && d.map.listed("calc"), "what tool_component_up reads");
    assert_eq!(d.map.fetched_at_ms, 42);
    assert_eq!(d.map.find("mean").unwrap().component, "calc");
    assert!(d.map.find("nope").is_none());
}

#[test]
fn an_unchanged_fresh_map_is_not_written_again() {
    let ttl = Duration::from_secs(60);
    let entry = |c: &str| ToolEntry { component: c.into(), tool: tool("wc") };
    let cached =
        ToolMap { fetched_at_ms: 1_000, tools: vec![entry("text-tools")], unlisted: vec![], ..ToolMap::default() };
    let same = ToolMap { fetched_at_ms: 20_000, ..cached.clone() };
    assert!(!same.worth_saving(Some(&cached), ttl), "same content, younger than half the TTL");
    let later = ToolMap { fetched_at_ms: 40_000, ..cached.clone() };
    assert!(later.worth_saving(Some(&cached), ttl), "refreshed before it goes stale");
    let moved = ToolMap { fetched_at_ms: 2_000, tools: vec![entry("calc")], unlisted: vec![], ..ToolMap::default() };
    assert!(moved.worth_saving(Some(&cached), ttl), "the owner changed");
    let failing = ToolMap { fetched_at_ms: 2_000, unlisted: vec!["calc".into()], ..cached.clone() };
    assert!(failing.worth_saving(Some(&cached), ttl), "a component went down");
    assert!(cached.worth_saving(None, ttl));
}

#[test]
fn tool_maps_compare_every_field_of_every_tool() {
    let a = ToolMap {
        fetched_at_ms: 1,
        tools: vec![ToolEntry { component: "c".into(), tool: tool("wc") }],
        unlisted: vec![],
        ..ToolMap::default()
    };
    let mut b = ToolMap { fetched_at_ms: 2, ..a.clone() };
    assert!(a.same_content(&b), "the time is not content");
    b.tools[0].tool.description = Some("counts words".into());
    assert!(!a.same_content(&b));
    let mut c = a.clone();
    c.tools[0].tool.extra.insert("icons".into(), json!([]));
    assert!(!a.same_content(&c), "fields this code does not know count too");
}

#[test]
fn freshness_is_the_ttl() {
    let map = ToolMap { fetched_at_ms: 1_000, tools: vec![], unlisted: vec![], ..ToolMap::default() };
    assert!(map.is_fresh(1_999, Duration::from_secs(1)));
    assert!(!map.is_fresh(2_000, Duration::from_secs(1)));
    assert!(map.is_fresh(500, Duration::from_secs(1)), "a clock stepping back keeps it fresh");
}

#[test]
fn a_map_written_by_an_earlier_build_still_reads() {
    let old = json!({"fetched_at_ms": 5, "tools": [], "store_encoding": "le"});
    let map: ToolMap = serde_json::from_value(old).unwrap();
    assert_eq!(map.fetched_at_ms, 5);
}

#[test]
fn an_open_component_keeps_its_last_good_listing() {
    let t = Duration::from_secs(1);
    let components = ["text-tools".to_string(), "faults".to_string()];
    let good = assemble(
        &components,
        vec![read_listing(listing(&["wc"]), t), read_listing(listing(&["slow", "failing"]), t)],
        1,
    );
    let served = while_open(Some(&good.map), "faults").unwrap();
    assert_eq!(served.tools.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["slow", "failing"]);
    assert_eq!(while_open(None, "faults"), Err(ListingError::BreakerOpen), "no earlier listing: left out");
    let later = assemble(&components, vec![read_listing(listing(&["wc"]), t), Err(ListingError::BreakerOpen)], 2);
    assert_eq!(while_open(Some(&later.map), "faults"), Err(ListingError::BreakerOpen));
    assert!(!ListingError::BreakerOpen.is_failure() && ListingError::TooLarge.is_failure());
}

#[test]
fn a_catalog_object_lists_prompts_resources_templates_and_completions() {
    let t = Duration::from_secs(1);
    let body = json!({
        "tools": [{"name": "t1", "inputSchema": {"type": "object"}}],
        "prompts": [{"name": "p"}, {"name": "p2"}],
        "resources": [{"uri": "test://a", "name": "a"}],
        "resourceTemplates": [{"uriTemplate": "test://t/{id}", "name": "t"}],
        "completions": true
    });
    let answer = |b: &serde_json::Value| ToolAnswer::Answered {
        status: 200,
        body: serde_json::to_vec(b).unwrap(),
        truncated: false,
    };
    let listing_a = read_listing(answer(&body), t).unwrap();
    assert_eq!((listing_a.tools.len(), listing_a.prompts.len(), listing_a.completions), (1, 2, true));
    // A second component offers a prompt of the same name: the first keeps it.
    let other = json!({"tools": [], "prompts": [{"name": "p"}, {"name": "q"}], "resources": [{"uri": "test://a"}]});
    let components = ["a".to_string(), "b".to_string()];
    let d = assemble(&components, vec![Ok(listing_a), read_listing(answer(&other), t)], 7);
    let owners: Vec<(&str, &str)> =
        d.map.prompts.iter().map(|o| (o.item["name"].as_str().unwrap(), o.component.as_str())).collect();
    assert_eq!(owners, [("p", "a"), ("p2", "a"), ("q", "b")]);
    assert_eq!(d.map.resources.len(), 1, "the first owner keeps a URI");
    assert_eq!(d.map.resource_templates[0].component, "a");
    assert_eq!(d.map.completions, ["a"]);
    assert_eq!(d.map.extended, ["a", "b"], "both answered the catalog object");
    assert!(d.map.is_extended("b"));
    // A component whose breaker is open is served from the cached map, catalog and all.
    let kept = while_open(Some(&d.map), "a").unwrap();
    assert_eq!((kept.prompts.len(), kept.resources.len(), kept.resource_templates.len()), (2, 1, 1));
    assert!(kept.completions);
    // An old cached map (tools only) still reads.
    let old: ToolMap = serde_json::from_str(r#"{"fetched_at_ms":1,"tools":[]}"#).unwrap();
    assert!(old.prompts.is_empty() && old.completions.is_empty());
}

#[test]
fn an_extended_component_gets_the_whole_params() {
    let params = json!({"name": "t", "arguments": {"x": 1}, "requestState": "s", "_meta": {"k": 1}});
    let args = json!({"x": 1});
    let (url, body) = call_request("c", "t", &args, Some(&params), true);
    assert_eq!(url, "http://c.spin.internal/_mcp/tools/call");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!((body["requestState"].clone(), body["arguments"].clone()), (json!("s"), args.clone()));
    let (url, body) = call_request("c", "t", &args, Some(&params), false);
    assert_eq!((url.as_str(), body.as_str()), ("http://c.spin.internal/t", r#"{"x":1}"#), "FTL's contract");
    // An FTL listing (the array) is not extended.
    let listing = read_listing(listing(&["a"]), Duration::from_secs(1)).unwrap();
    assert!(!listing.extended);
}

#[test]
fn a_cached_map_answers_a_call_as_the_whole_map_would() {
    let ttl = Duration::from_secs(30);
    let mut schema_tool = tool("with \"escapes\"");
    schema_tool.description = Some("Quotes \\ and unicode: é".into());
    let map = ToolMap {
        fetched_at_ms: 1_000,
        tools: vec![
            ToolEntry { component: "a".into(), tool: tool("x") },
            ToolEntry { component: "b".into(), tool: schema_tool.clone() },
            ToolEntry { component: "b".into(), tool: tool("y") },
        ],
        prompts: vec![Offered { component: "b".into(), item: json!({"name": "p"}) }],
        extended: vec!["b".into()],
        ..ToolMap::default()
    };
    let bytes = serde_json::to_vec(&map).unwrap();
    for name in ["x", "with \"escapes\"", "y"] {
        let whole = map.find(name).map(|e| (e.clone(), map.is_extended(&e.component)));
        assert_eq!(find_cached(&bytes, name, 2_000, ttl), whole, "{name}");
    }
    assert_eq!(find_cached(&bytes, "with \"escapes\"", 2_000, ttl).unwrap().0.tool, schema_tool);
    assert_eq!(find_cached(&bytes, "missing", 2_000, ttl), None);
    assert_eq!(find_cached(&bytes, "x", 1_000 + 30_000, ttl), None, "stale: discover afresh");
    assert_eq!(find_cached(b"not json", "x", 2_000, ttl), None);
}

#[test]
fn each_tools_entry_answers_a_call_as_the_map_does() {
    let ttl = Duration::from_secs(30);
    let map = ToolMap {
        fetched_at_ms: 1_000,
        tools: vec![
            ToolEntry { component: "a".into(), tool: tool("x") },
            ToolEntry { component: "b".into(), tool: tool("y") },
            ToolEntry { component: "b".into(), tool: tool(&"z".repeat(300)) },
        ],
        extended: vec!["b".into()],
        ..ToolMap::default()
    };
    let records = entry_records(&map);
    assert_eq!(records.len(), 2, "a name too long for a key has no entry: {records:?}");
    for (name, (key, bytes)) in ["x", "y"].into_iter().zip(&records) {
        assert_eq!(Some(key.clone()), crate::keys::tool_entry(name));
        let whole = map.find(name).map(|e| (e.clone(), map.is_extended(&e.component)));
        assert_eq!(find_entry(bytes, name, 2_000, ttl), whole, "{name}");
        assert_eq!(find_entry(bytes, name, 1_000 + 30_000, ttl), None, "stale: discover afresh");
    }
    assert_eq!(find_entry(&records[0].1, "y", 2_000, ttl), None, "another tool's entry is no answer");
    assert_eq!(find_entry(b"{}", "x", 2_000, ttl), None);
}
