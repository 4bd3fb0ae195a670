//! A tool's declarations, read from its `tools/list` entry:
//!
//! ```json
//! "_meta": { "io.spinscope/metrics": [
//!   { "name": "records_processed_total", "type": "counter",
//!     "help": "Records processed.", "labels": ["format"] },
//!   { "name": "record_size_bytes", "type": "histogram",
//!     "help": "Record sizes.", "labels": ["format"], "buckets": [64, 1024, 65536] }
//! ] }
//! ```
//!
//! A declaration that breaks a rule is ignored (and said why, for the
//! gateway's log), so its reports count as `undeclared`; the others stand.

use super::{
    ToolKind, ADDED_LABELS, MAX_BUCKETS, MAX_DECLARATIONS, MAX_HELP_BYTES, MAX_LABELS, MAX_NAME_BYTES, META_KEY,
};
use crate::mcp::Tool;
use serde_json::Value;

/// One declared metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Declaration {
    /// Its name without [`super::EXPORT_PREFIX`]: lowercase letters,
    /// digits and `_`, starting with a letter; a counter's ends in `_total`.
    pub name: String,
    /// Counter or histogram.
    pub kind: ToolKind,
    /// One line of help text.
    pub help: String,
    /// Label names, in the order the tool declared them.
    pub labels: Vec<String>,
    /// A histogram's bucket upper bounds, increasing (without `+Inf`).
    pub buckets: Vec<f64>,
}

/// Every declaration that keeps the rules of `tools` (component, tool), in
/// their order, with its component: what the exporter renders by.
pub fn declared_by<'a>(tools: impl IntoIterator<Item = (&'a str, &'a Tool)>) -> Vec<(String, Declaration)> {
    let mut all = Vec::new();
    for (component, tool) in tools {
        all.extend(declarations(tool).0.into_iter().map(|d| (component.to_string(), d)));
    }
    all
}

/// The declarations of `tool` that keep the rules, and a sentence for
/// each one ignored.
pub fn declarations(tool: &Tool) -> (Vec<Declaration>, Vec<String>) {
    let Some(listed) = tool.extra.get("_meta").and_then(|m| m.get(META_KEY)) else {
        return (Vec::new(), Vec::new());
    };
    let Some(items) = listed.as_array() else {
        return (Vec::new(), vec![format!("`_meta.{META_KEY}` is not an array")]);
    };
    let mut declared: Vec<Declaration> = Vec::new();
    let mut problems = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if declared.len() == MAX_DECLARATIONS {
            problems.push(format!("more than {MAX_DECLARATIONS} metrics declared: the rest are ignored"));
            break;
        }
        match declaration(item) {
            Ok(d) if declared.iter().any(|o| o.name == d.name) => {
                problems.push(format!("metric {i} (`{}`) is declared twice", d.name))
            }
            Ok(d) => declared.push(d),
            Err(why) => problems.push(format!("metric {i}: {why}")),
        }
    }
    (declared, problems)
}

/// The one declaration `item`, or why it breaks the rules.
fn declaration(item: &Value) -> Result<Declaration, String> {
    let field = |key: &str| item.get(key).and_then(Value::as_str);
    let name = field("name").ok_or("no `name` string")?;
    if !is_name(name) {
        return Err(format!("`{name}` is not a metric name (a-z, 0-9, `_`, starting with a letter)"));
    }
    let kind = match field("type") {
        Some("counter") => ToolKind::Counter,
        Some("histogram") => ToolKind::Histogram,
        _ => return Err(format!("`{name}`: `type` is neither \"counter\" nor \"histogram\"")),
    };
    if (kind == ToolKind::Counter) != name.ends_with("_total") {
        return Err(format!("`{name}`: a counter's name ends in `_total`, and only a counter's"));
    }
    if kind == ToolKind::Histogram && ["_bucket", "_sum", "_count"].iter().any(|s| name.ends_with(s)) {
        return Err(format!("`{name}`: a histogram's name cannot end like its samples"));
    }
    let help = field("help").unwrap_or_default();
    if help.len() > MAX_HELP_BYTES || help.chars().any(char::is_control) {
        return Err(format!("`{name}`: `help` is over {MAX_HELP_BYTES} bytes or holds a control character"));
    }
    let labels = labels(name, item.get("labels"))?;
    let buckets = match (kind, item.get("buckets")) {
        (ToolKind::Counter, None) => Vec::new(),
        (ToolKind::Counter, Some(_)) => return Err(format!("`{name}`: a counter has no buckets")),
        (ToolKind::Histogram, buckets) => bounds(name, buckets)?,
    };
    Ok(Declaration { name: name.to_string(), kind, help: help.to_string(), labels, buckets })
}

fn labels(name: &str, listed: Option<&Value>) -> Result<Vec<String>, String> {
    let Some(listed) = listed else { return Ok(Vec::new()) };
    let items = listed.as_array().ok_or_else(|| format!("`{name}`: `labels` is not an array"))?;
    if items.len() > MAX_LABELS {
        return Err(format!("`{name}`: more than {MAX_LABELS} labels"));
    }
    let mut labels: Vec<String> = Vec::with_capacity(items.len());
    for label in items {
        let label = label.as_str().filter(|l| is_name(l)).ok_or_else(|| format!("`{name}`: bad label name {label}"))?;
        if ADDED_LABELS.contains(&label) || label == "le" || labels.iter().any(|l| l == label) {
            return Err(format!("`{name}`: label `{label}` is reserved or repeated"));
        }
        labels.push(label.to_string());
    }
    Ok(labels)
}

fn bounds(name: &str, listed: Option<&Value>) -> Result<Vec<f64>, String> {
    let items = listed.and_then(Value::as_array).ok_or_else(|| format!("`{name}`: a histogram needs `buckets`"))?;
    let bounds: Option<Vec<f64>> = items.iter().map(|b| b.as_f64().filter(|b| b.is_finite())).collect();
    let bounds = bounds.ok_or_else(|| format!("`{name}`: a bucket bound is not a finite number"))?;
    if bounds.is_empty() || bounds.len() > MAX_BUCKETS || !bounds.windows(2).all(|w| w[0] < w[1]) {
        return Err(format!("`{name}`: `buckets` must be 1 to {MAX_BUCKETS} increasing numbers"));
    }
    Ok(bounds)
}

/// A metric or label name: `[a-z][a-z0-9_]*`, at most [`MAX_NAME_BYTES`],
/// never starting with `__` (Prometheus reserves those).
pub(crate) fn is_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_NAME_BYTES
        && b[0].is_ascii_lowercase()
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
}
