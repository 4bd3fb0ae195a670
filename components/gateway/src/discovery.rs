//! The tool components behind the gateway (FTL's contract): `GET /` lists a
//! component's tools, `POST /<tool>` calls one with the arguments as body
//! and answers a `CallToolResult`. Reached by Spin service chaining.
//!
//! Which component owns which tool is cached in the store (`keys::TOOL_MAP`)
//! for `tool_map_ttl_ms`, so a `tools/call` does not ask every component.

use crate::context::Context;
use crate::logger::TARGET_GATEWAY;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use spinscope::config::Config;
use spinscope::keys;
use spinscope::log::Level;
use spinscope::mcp::{self, RpcError, Tool};
use spinscope::redact::{redact_message, RedactionPolicy};
use spinscope_spin::kv::{Encoding, Store};
use spinscope_spin::metrics_sink;
use spinscope_spin::outbound::SendFailure;
use spinscope_spin::time;
use spinscope_spin::tool_components::{self, component_url, MAX_METADATA_BYTES};
use std::time::Duration;

/// Metadata requests get at most this long, so one dead component cannot
/// stall `tools/list` for the whole tool timeout.
const DISCOVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// The URL that calls `tool`: its name percent-encoded as one path segment.
pub fn tool_url(component: &str, tool: &str) -> String {
    let mut path = String::from("/");
    for b in tool.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            path.push(b as char);
        } else {
            path.push_str(&format!("%{b:02X}"));
        }
    }
    component_url(component, &path)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ToolEntry {
    pub component: String,
    pub tool: Tool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ToolMap {
    pub fetched_at_ms: u64,
    pub tools: Vec<ToolEntry>,
    /// The counter encoding of the store holding the map, when the metrics
    /// live there too (`metrics_sink::store_hint`): a call without a
    /// session (2026-07-28) takes its metrics layout from here instead of
    /// reading the marker, as a session's calls take it from their record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_encoding: Option<String>,
}

impl ToolMap {
    pub fn find(&self, name: &str) -> Option<&ToolEntry> {
        self.tools.iter().find(|e| e.tool.name == name)
    }

    fn same_content(&self, other: &ToolMap) -> bool {
        self.tools.len() == other.tools.len()
            && self.store_encoding == other.store_encoding
            && self.tools.iter().zip(&other.tools).all(|(a, b)| {
                a.component == b.component && serde_json::to_value(&a.tool).ok() == serde_json::to_value(&b.tool).ok()
            })
    }
}

/// A component that did not list its tools, and why.
#[derive(Debug, Clone)]
pub struct DiscoveryFailure {
    pub component: String,
    pub reason: String,
}

/// A tool name offered by two components: the first (in `tool_components`
/// order) wins.
#[derive(Debug, Clone)]
pub struct Duplicate {
    pub tool: String,
    pub kept: String,
    pub ignored: String,
}

pub struct Discovery {
    pub map: ToolMap,
    pub failures: Vec<DiscoveryFailure>,
    pub duplicates: Vec<Duplicate>,
}

/// Asks every tool component for its tools, all at once.
pub fn discover(config: &Config, now_ms: u64) -> Discovery {
    let timeout = DISCOVERY_TIMEOUT.min(config.tool_timeout);
    let replies = tool_components::list_tools(&config.tool_components, timeout);
    let mut tools: Vec<ToolEntry> = Vec::new();
    let mut failures = Vec::new();
    let mut duplicates = Vec::new();
    for (component, reply) in config.tool_components.iter().zip(replies) {
        let listed = match reply {
            Err(SendFailure::Timeout) => Err(format!("no answer within {} ms", timeout.as_millis())),
            Err(e) => Err(e.to_string()),
            Ok(r) if r.status != 200 => Err(format!("metadata request answered HTTP {}", r.status)),
            Ok(r) if r.truncated => Err(format!("tool list larger than {MAX_METADATA_BYTES} bytes")),
            Ok(r) => serde_json::from_slice::<Vec<Tool>>(&r.body)
                .map_err(|e| format!("tool list is not a JSON array of tools: {e}")),
        };
        match listed {
            Ok(list) => {
                for tool in list {
                    if let Some(first) = tools.iter().find(|e| e.tool.name == tool.name) {
                        duplicates.push(Duplicate {
                            tool: tool.name.clone(),
                            kept: first.component.clone(),
                            ignored: component.clone(),
                        });
                        continue;
                    }
                    tools.push(ToolEntry { component: component.clone(), tool });
                }
            }
            Err(reason) => failures.push(DiscoveryFailure { component: component.clone(), reason }),
        }
    }
    Discovery { map: ToolMap { fetched_at_ms: now_ms, tools, store_encoding: None }, failures, duplicates }
}

pub fn load_map(store: &Store) -> Option<ToolMap> {
    let bytes = store.get(keys::TOOL_MAP).ok()??;
    serde_json::from_slice(&bytes).ok()
}

/// Caches a freshly discovered map, unless the cached one is the same and
/// still fresh (the write is skipped: store writes are the scarce resource).
pub fn save_map(store: &Store, map: &ToolMap, cached: Option<&ToolMap>, ttl: Duration) -> bool {
    if let Some(cached) = cached {
        let fresh = map.fetched_at_ms.saturating_sub(cached.fetched_at_ms) < ttl.as_millis() as u64 / 2;
        if fresh && cached.same_content(map) {
            return false;
        }
    }
    store.set(keys::TOOL_MAP, &serde_json::to_vec(map).expect("tool map serializes")).is_ok()
}

pub fn is_fresh(map: &ToolMap, now_ms: u64, ttl: Duration) -> bool {
    now_ms.saturating_sub(map.fetched_at_ms) < ttl.as_millis() as u64
}

/// Discovers the tools now (every component asked at once), logs and
/// records what failed, and caches the map unless `cached` is the same.
pub fn discover_now(cx: &mut Context, cached: Option<&ToolMap>) -> ToolMap {
    let discovery = discover(&cx.config, time::now_unix_ms());
    let policy = RedactionPolicy::with_extra_keys(&cx.config.redact_keys);
    for failure in &discovery.failures {
        cx.record.discovery_failures.push(failure.component.clone());
        // A component's answer may quote anything, secrets included.
        let error = redact_message(&failure.reason, &policy, 500);
        let line = cx
            .log
            .line(Level::Warn, TARGET_GATEWAY, "Tool component did not list its tools")
            .field("component_id", failure.component.as_str())
            .field("error", error.as_str());
        cx.log.emit(line);
    }
    for dup in &discovery.duplicates {
        let line = cx
            .log
            .line(Level::Error, TARGET_GATEWAY, "Duplicate tool name: the first component keeps it")
            .field("tool_name", dup.tool.as_str())
            .field("component_id", dup.ignored.as_str())
            .field("kept_by", dup.kept.as_str());
        cx.log.emit(line);
    }
    let mut map = discovery.map;
    if let Ok(store) = cx.store() {
        map.store_encoding = metrics_sink::store_hint(&cx.config, store);
        save_map(store, &map, cached, cx.config.tool_map_ttl);
    }
    take_hint(cx, &map);
    map
}

/// The metrics layout, from the map when the session did not tell it.
fn take_hint(cx: &mut Context, map: &ToolMap) {
    if cx.record.store_encoding.is_none() {
        cx.record.store_encoding = map.store_encoding.as_deref().and_then(Encoding::from_tag);
    }
}

/// `tools/list`: always discovers afresh (a client listing tools wants the
/// current set), one page at a time.
pub fn tools_list(cx: &mut Context, params: Option<&Value>) -> Result<Value, RpcError> {
    let cursor = mcp::list_cursor(params)?.map(str::to_string);
    let cached = cx.store().ok().and_then(load_map);
    let map = discover_now(cx, cached.as_ref());
    let all: Vec<Tool> = map.tools.into_iter().map(|e| e.tool).collect();
    let (page, next) = mcp::paginate(&all, cursor.as_deref(), cx.config.tools_page_size)?;
    Ok(mcp::tools_list_result(&page, next.as_deref()))
}

/// The owner of `tool`: from the cached map when fresh and it knows the
/// tool, else from a new discovery.
pub fn find_tool(cx: &mut Context, tool: &str) -> Option<ToolEntry> {
    let cached = cx.store().ok().and_then(load_map);
    let now = time::now_unix_ms();
    let usable = cached.as_ref().filter(|m| is_fresh(m, now, cx.config.tool_map_ttl) && m.find(tool).is_some());
    match usable {
        Some(map) => {
            take_hint(cx, map);
            map.find(tool).cloned()
        }
        None => discover_now(cx, cached.as_ref()).find(tool).cloned(),
    }
}
