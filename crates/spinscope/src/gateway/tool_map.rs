//! Which component owns which tool (FTL's contract: `GET /` on a tool
//! component lists its tools, `POST /<tool>` calls one), the URLs that
//! reach them by Spin service chaining, and the cached map's rules.

use super::tool_result::ToolAnswer;
use crate::mcp::Tool;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The largest tool list read from a component.
pub const MAX_METADATA_BYTES: usize = 4 << 20;

/// Metadata requests get at most this long, so one dead component cannot
/// stall `tools/list` for the whole tool timeout.
pub const DISCOVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// `path` on `component`, reached by Spin service chaining.
pub fn component_url(component: &str, path: &str) -> String {
    format!("http://{component}.spin.internal{path}")
}

/// Everything but RFC 3986's unreserved characters is escaped.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// The URL that calls `tool`: its name percent-encoded as one path segment.
pub fn tool_url(component: &str, tool: &str) -> String {
    component_url(component, &format!("/{}", utf8_percent_encode(tool, PATH_SEGMENT)))
}

/// One tool and the component that owns it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ToolEntry {
    /// The component's id.
    pub component: String,
    /// The tool as the component lists it.
    pub tool: Tool,
}

/// The tools of every component, as cached in the store.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ToolMap {
    /// When it was discovered, unix ms.
    pub fetched_at_ms: u64,
    /// In `tool_components` order, first owner of a name only.
    pub tools: Vec<ToolEntry>,
    /// Components that did not list their tools in that discovery (what
    /// `tool_component_up` reads).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unlisted: Vec<String>,
}

impl ToolMap {
    /// The entry of `name`.
    pub fn find(&self, name: &str) -> Option<&ToolEntry> {
        self.tools.iter().find(|e| e.tool.name == name)
    }

    /// Whether it is younger than `ttl` at `now_ms`.
    pub fn is_fresh(&self, now_ms: u64, ttl: Duration) -> bool {
        now_ms.saturating_sub(self.fetched_at_ms) < ttl.as_millis() as u64
    }

    /// Whether both list the same tools, owned by the same components,
    /// and the same components failed.
    pub fn same_content(&self, other: &ToolMap) -> bool {
        self.tools == other.tools && self.unlisted == other.unlisted
    }

    /// Whether `component` listed its tools in this discovery.
    pub fn listed(&self, component: &str) -> bool {
        !self.unlisted.iter().any(|c| c == component)
    }

    /// Whether this freshly discovered map must be written over `cached`:
    /// not when the cached one lists the same and is younger than half
    /// the TTL (store writes are the scarce resource).
    pub fn worth_saving(&self, cached: Option<&ToolMap>, ttl: Duration) -> bool {
        let Some(cached) = cached else { return true };
        let fresh = self.fetched_at_ms.saturating_sub(cached.fetched_at_ms) < ttl.as_millis() as u64 / 2;
        !(fresh && cached.same_content(self))
    }
}

/// Why a component's tools could not be listed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListingError {
    /// No answer within the discovery deadline.
    #[error("no answer within {ms} ms")]
    Timeout {
        /// The deadline.
        ms: u64,
    },
    /// The request could not be made.
    #[error("{0}")]
    Unreachable(String),
    /// Another status than 200.
    #[error("metadata request answered HTTP {0}")]
    Status(u16),
    /// Over [`MAX_METADATA_BYTES`].
    #[error("tool list larger than {MAX_METADATA_BYTES} bytes")]
    TooLarge,
    /// Not a JSON array of tools.
    #[error("tool list is not a JSON array of tools: {0}")]
    NotTools(String),
    /// Not asked: its circuit breaker is open, and no earlier listing is
    /// cached.
    #[error("not asked: its circuit breaker is open")]
    BreakerOpen,
}

impl ListingError {
    /// Whether the component was asked and failed (what
    /// `tool_discovery_failures_total` counts), as opposed to not asked.
    pub fn is_failure(&self) -> bool {
        !matches!(self, ListingError::BreakerOpen)
    }
}

/// The listing of a component whose breaker is open, which is not asked
/// (it would cost every `tools/list` its timeout): its tools from the last
/// good map, so clients still see them (and get `circuit_open`, with a
/// retry hint, when they call one), or nothing when no map has them.
pub fn while_open(cached: Option<&ToolMap>, component: &str) -> Result<Vec<Tool>, ListingError> {
    match cached {
        Some(map) if map.listed(component) => {
            Ok(map.tools.iter().filter(|e| e.component == component).map(|e| e.tool.clone()).collect())
        }
        _ => Err(ListingError::BreakerOpen),
    }
}

/// A component's answer to `GET /`, read as its tools.
pub fn read_listing(answer: ToolAnswer, timeout: Duration) -> Result<Vec<Tool>, ListingError> {
    match answer {
        ToolAnswer::Timeout => Err(ListingError::Timeout { ms: timeout.as_millis() as u64 }),
        ToolAnswer::HttpError(e) => Err(ListingError::Unreachable(format!("HTTP error: {e}"))),
        ToolAnswer::Unreachable(e) => Err(ListingError::Unreachable(e)),
        ToolAnswer::Answered { status, .. } if status != 200 => Err(ListingError::Status(status)),
        ToolAnswer::Answered { truncated: true, .. } => Err(ListingError::TooLarge),
        ToolAnswer::Answered { body, .. } => {
            serde_json::from_slice(&body).map_err(|e| ListingError::NotTools(e.to_string()))
        }
    }
}

/// A component that did not list its tools, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveryFailure {
    /// The component.
    pub component: String,
    /// Why.
    pub reason: ListingError,
}

/// A tool name offered by two components: the first (in `tool_components`
/// order) keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    /// The tool.
    pub tool: String,
    /// Its owner.
    pub kept: String,
    /// The component whose tool of that name is ignored.
    pub ignored: String,
}

/// What asking every component found.
#[derive(Debug, Clone, PartialEq)]
pub struct Discovery {
    /// The new map.
    pub map: ToolMap,
    /// Components that did not list their tools.
    pub failures: Vec<DiscoveryFailure>,
    /// Names listed twice.
    pub duplicates: Vec<Duplicate>,
}

/// Puts the components' listings (in `components` order) together.
pub fn assemble(components: &[String], listings: Vec<Result<Vec<Tool>, ListingError>>, now_ms: u64) -> Discovery {
    let mut tools: Vec<ToolEntry> = Vec::new();
    let mut failures = Vec::new();
    let mut duplicates = Vec::new();
    for (component, listed) in components.iter().zip(listings) {
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
    let unlisted = failures.iter().map(|f: &DiscoveryFailure| f.component.clone()).collect();
    Discovery { map: ToolMap { fetched_at_ms: now_ms, tools, unlisted }, failures, duplicates }
}

#[cfg(test)]
mod tests;
