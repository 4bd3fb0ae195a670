//! Which component owns which tool (FTL's contract: `GET /` on a tool
//! component lists its tools, `POST /<tool>` calls one), the URLs that
//! reach them by Spin service chaining, and the cached map's rules. The
//! same map holds the prompts, resources, resource templates and
//! completions that components offer through spinscope's extension of the
//! contract (a catalog object instead of the tool array; docs/tools.md),
//! discovered and cached with the tools (`gateway::catalog` routes them).

use super::tool_result::ToolAnswer;
use crate::mcp::Tool;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};
use serde_json::Value;
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

/// The URL and body of a `tools/call` on `component`: FTL's
/// `POST /<tool>` with the arguments; or, for a component that speaks
/// spinscope's extension (`extended`), `POST /_mcp/tools/call` with the
/// request's whole params (`name`, `arguments`, and what else the client
/// sent: `_meta` with its capabilities, `inputResponses`, `requestState`),
/// so that a tool can ask for input (SEP-2322) or for a capability.
pub fn call_request(
    component: &str,
    tool: &str,
    arguments: &Value,
    params: Option<&Value>,
    extended: bool,
) -> (String, String) {
    match (extended, params) {
        (true, Some(params @ Value::Object(_))) => {
            let mut body = params.clone();
            body["arguments"] = arguments.clone();
            (component_url(component, "/_mcp/tools/call"), body.to_string())
        }
        _ => (tool_url(component, tool), arguments.to_string()),
    }
}

/// One tool and the component that owns it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ToolEntry {
    /// The component's id.
    pub component: String,
    /// The tool as the component lists it.
    pub tool: Tool,
}

/// A prompt, resource or resource template and the component that offers it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Offered {
    /// The component's id.
    pub component: String,
    /// The item as the component lists it (passed through as it is).
    pub item: Value,
}

/// What one component answered to `GET /`: its tools (FTL's array), and
/// with spinscope's catalog object, what else it serves.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Listing {
    /// Its tools.
    pub tools: Vec<Tool>,
    /// Its prompts (each with a `name`).
    #[serde(default)]
    pub prompts: Vec<Value>,
    /// Its direct resources (each with a `uri`).
    #[serde(default)]
    pub resources: Vec<Value>,
    /// Its resource templates (each with a `uriTemplate`).
    #[serde(default)]
    pub resource_templates: Vec<Value>,
    /// Whether it answers `completion/complete` for its prompts and templates.
    #[serde(default)]
    pub completions: bool,
    /// Whether it answered the catalog object (spinscope's extension): its
    /// tools are then called with the whole params (`call_request`).
    #[serde(skip)]
    pub extended: bool,
}

impl Listing {
    /// A listing of tools only.
    pub fn tools(tools: Vec<Tool>) -> Self {
        Self { tools, ..Self::default() }
    }
}

/// The tools of every component, as cached in the store.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ToolMap {
    /// When it was discovered, unix ms.
    pub fetched_at_ms: u64,
    /// In `tool_components` order, first owner of a name only.
    pub tools: Vec<ToolEntry>,
    /// Components that did not list their tools in that discovery (what
    /// `tool_component_up` reads).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unlisted: Vec<String>,
    /// Prompts, first owner of a name only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prompts: Vec<Offered>,
    /// Direct resources, first owner of a URI only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<Offered>,
    /// Resource templates, in `tool_components` order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_templates: Vec<Offered>,
    /// Components that answer `completion/complete`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub completions: Vec<String>,
    /// Components that answered the catalog object: their tools get the
    /// whole `tools/call` params (`call_request`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extended: Vec<String>,
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
        self.tools == other.tools
            && self.unlisted == other.unlisted
            && self.prompts == other.prompts
            && self.resources == other.resources
            && self.resource_templates == other.resource_templates
            && self.completions == other.completions
            && self.extended == other.extended
    }

    /// Whether `component` speaks spinscope's extension of the contract.
    pub fn is_extended(&self, component: &str) -> bool {
        self.extended.iter().any(|c| c == component)
    }

    /// What `component` listed in this map (for a component not asked).
    fn listing_of(&self, component: &str) -> Listing {
        let items = |offered: &[Offered]| -> Vec<Value> {
            offered.iter().filter(|o| o.component == component).map(|o| o.item.clone()).collect()
        };
        Listing {
            tools: self.tools.iter().filter(|e| e.component == component).map(|e| e.tool.clone()).collect(),
            prompts: items(&self.prompts),
            resources: items(&self.resources),
            resource_templates: items(&self.resource_templates),
            completions: self.completions.iter().any(|c| c == component),
            extended: self.is_extended(component),
        }
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

/// One tool's entry of the map, as kept under its own key
/// ([`crate::keys::tool_entry`]) so that a `tools/call` reads only its tool
/// however many there are.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct EntryRecord {
    fetched_at_ms: u64,
    component: String,
    /// The component speaks spinscope's extension.
    #[serde(default)]
    extended: bool,
    tool: Tool,
}

/// Every tool's entry of `map`, keyed, to be written with the map.
pub fn entry_records(map: &ToolMap) -> Vec<(String, Vec<u8>)> {
    map.tools
        .iter()
        .filter_map(|entry| {
            let key = crate::keys::tool_entry(&entry.tool.name)?;
            let record = EntryRecord {
                fetched_at_ms: map.fetched_at_ms,
                component: entry.component.clone(),
                extended: map.is_extended(&entry.component),
                tool: entry.tool.clone(),
            };
            Some((key, serde_json::to_vec(&record).expect("an entry serializes")))
        })
        .collect()
}

/// The owner of tool `name` from its entry's bytes when fresh at `now_ms`,
/// and whether its component speaks the extension; `None`: read the map.
pub fn find_entry(bytes: &[u8], name: &str, now_ms: u64, ttl: Duration) -> Option<(ToolEntry, bool)> {
    let record: EntryRecord = serde_json::from_slice(bytes).ok()?;
    let fresh = now_ms.saturating_sub(record.fetched_at_ms) < ttl.as_millis() as u64;
    (fresh && record.tool.name == name)
        .then_some((ToolEntry { component: record.component, tool: record.tool }, record.extended))
}

/// The owner of tool `name` in the bytes of a cached map that is fresh at
/// `now_ms`, and whether its component speaks spinscope's extension; `None`
/// when the map is stale, unreadable or lacks the tool. A `tools/call`'s
/// hot path: only the tool called is built, the others are scanned
/// over (building every tool's schemas was a fifth of the gateway's CPU).
pub fn find_cached(bytes: &[u8], name: &str, now_ms: u64, ttl: Duration) -> Option<(ToolEntry, bool)> {
    /// The map, its tools left as JSON text.
    #[derive(Deserialize)]
    struct View<'a> {
        fetched_at_ms: u64,
        #[serde(borrow)]
        tools: Vec<EntryView<'a>>,
        #[serde(default, borrow)]
        extended: Vec<std::borrow::Cow<'a, str>>,
    }
    #[derive(Deserialize)]
    struct EntryView<'a> {
        #[serde(borrow)]
        component: std::borrow::Cow<'a, str>,
        #[serde(borrow)]
        tool: &'a serde_json::value::RawValue,
    }
    #[derive(Deserialize)]
    struct Named<'a> {
        #[serde(borrow)]
        name: std::borrow::Cow<'a, str>,
    }
    let view: View<'_> = serde_json::from_slice(bytes).ok()?;
    if now_ms.saturating_sub(view.fetched_at_ms) >= ttl.as_millis() as u64 {
        return None;
    }
    let entry =
        view.tools.iter().find(|e| serde_json::from_str::<Named<'_>>(e.tool.get()).is_ok_and(|n| n.name == name))?;
    let tool: Tool = serde_json::from_str(entry.tool.get()).ok()?;
    let extended = view.extended.contains(&entry.component);
    Some((ToolEntry { component: entry.component.clone().into_owned(), tool }, extended))
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
    /// Not a JSON array of tools (nor a catalog object).
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
pub fn while_open(cached: Option<&ToolMap>, component: &str) -> Result<Listing, ListingError> {
    match cached {
        Some(map) if map.listed(component) => Ok(map.listing_of(component)),
        _ => Err(ListingError::BreakerOpen),
    }
}

/// A component's answer to `GET /`, read as its tools: FTL's array, or
/// spinscope's catalog object (`tools` and what else it serves).
pub fn read_listing(answer: ToolAnswer, timeout: Duration) -> Result<Listing, ListingError> {
    match answer {
        ToolAnswer::Timeout => Err(ListingError::Timeout { ms: timeout.as_millis() as u64 }),
        ToolAnswer::HttpError(e) => Err(ListingError::Unreachable(format!("HTTP error: {e}"))),
        ToolAnswer::Unreachable(e) => Err(ListingError::Unreachable(e)),
        ToolAnswer::Answered { status, .. } if status != 200 => Err(ListingError::Status(status)),
        ToolAnswer::Answered { truncated: true, .. } => Err(ListingError::TooLarge),
        ToolAnswer::Answered { body, .. } => match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(_)) => serde_json::from_slice(&body)
                .map(|listing| Listing { extended: true, ..listing })
                .map_err(|e| ListingError::NotTools(e.to_string())),
            _ => serde_json::from_slice(&body).map(Listing::tools).map_err(|e| ListingError::NotTools(e.to_string())),
        },
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
pub fn assemble(components: &[String], listings: Vec<Result<Listing, ListingError>>, now_ms: u64) -> Discovery {
    let mut tools: Vec<ToolEntry> = Vec::new();
    let mut failures = Vec::new();
    let mut duplicates = Vec::new();
    let (mut prompts, mut resources, mut resource_templates, mut completions, mut extended) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    // The first component keeps a name (or URI) another offers too.
    let add = |into: &mut Vec<Offered>, items: Vec<Value>, key: &str, component: &str| {
        for item in items {
            let Some(id) = item.get(key).and_then(Value::as_str) else { continue };
            if key != "uriTemplate" && into.iter().any(|o| o.item.get(key).and_then(Value::as_str) == Some(id)) {
                continue;
            }
            into.push(Offered { component: component.to_string(), item });
        }
    };
    for (component, listed) in components.iter().zip(listings) {
        match listed {
            Ok(listing) => {
                add(&mut prompts, listing.prompts, "name", component);
                add(&mut resources, listing.resources, "uri", component);
                add(&mut resource_templates, listing.resource_templates, "uriTemplate", component);
                if listing.completions {
                    completions.push(component.clone());
                }
                if listing.extended {
                    extended.push(component.clone());
                }
                for tool in listing.tools {
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
    let map = ToolMap {
        fetched_at_ms: now_ms,
        tools,
        unlisted,
        prompts,
        resources,
        resource_templates,
        completions,
        extended,
    };
    Discovery { map, failures, duplicates }
}

#[cfg(test)]
mod tests;
