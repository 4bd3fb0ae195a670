//! The tool components behind the gateway (FTL's contract): `GET /` lists a
//! component's tools, `POST /<tool>` calls one with the arguments as body
//! and answers a `CallToolResult`. Reached by Spin service chaining.
//!
//! Which component owns which tool is cached in the store (`keys::TOOL_MAP`)
//! for `tool_map_ttl_ms`, so a `tools/call` does not ask every component.

use serde::{Deserialize, Serialize};
use spinscope::config::Config;
use spinscope::keys;
use spinscope::mcp::Tool;
use spinscope_spin::kv::Store;
use spinscope_spin::outbound::{self, Outgoing, SendFailure};
use std::time::Duration;

/// Metadata requests get at most this long, so one dead component cannot
/// stall `tools/list` for the whole tool timeout.
const DISCOVERY_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_METADATA_BYTES: usize = 4 << 20;

pub fn component_url(component: &str, path: &str) -> String {
    format!("http://{component}.spin.internal{path}")
}

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
}

impl ToolMap {
    pub fn find(&self, name: &str) -> Option<&ToolEntry> {
        self.tools.iter().find(|e| e.tool.name == name)
    }

    fn same_tools(&self, other: &ToolMap) -> bool {
        self.tools.len() == other.tools.len()
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
    let requests = config
        .tool_components
        .iter()
        .map(|c| Outgoing::get(component_url(c, "/")).header("accept", "application/json"))
        .collect();
    let timeout = DISCOVERY_TIMEOUT.min(config.tool_timeout);
    let replies = outbound::send_all(requests, timeout, MAX_METADATA_BYTES);
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
    Discovery { map: ToolMap { fetched_at_ms: now_ms, tools }, failures, duplicates }
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
        if fresh && cached.same_tools(map) {
            return false;
        }
    }
    store.set(keys::TOOL_MAP, &serde_json::to_vec(map).expect("tool map serializes")).is_ok()
}

pub fn is_fresh(map: &ToolMap, now_ms: u64, ttl: Duration) -> bool {
    now_ms.saturating_sub(map.fetched_at_ms) < ttl.as_millis() as u64
}
