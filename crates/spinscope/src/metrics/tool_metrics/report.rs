//! A call result's reports, taken out of the result before the client
//! reads it:
//!
//! ```json
//! "_meta": { "io.spinscope/metrics": [
//!   { "name": "records_processed_total", "value": 3, "labels": { "format": "csv" } },
//!   { "name": "record_size_bytes", "value": 512, "labels": { "format": "csv" } }
//! ] }
//! ```
//!
//! A counter's `value` is its increment (a whole number ≥ 0); a
//! histogram's is one observation (a number ≥ 0). `labels` names exactly
//! the declared labels (it may be left out when none are declared).

use super::declare::{declarations, Declaration};
use super::{series_key, DropReason, ToolKind, MAX_VALUE_BYTES, META_KEY, PART_BUCKET, PART_SUM, PART_VALUE};
use crate::mcp::Tool;
use crate::metrics::snapshot::micros;
use serde_json::Value;

/// One increment of the internal family (see [`super`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Increment {
    /// The series, as [`super::series_key`] writes it.
    pub series: String,
    /// How much.
    pub delta: u64,
}

/// What a result reported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reports {
    /// The increments of the reports kept.
    pub increments: Vec<Increment>,
    /// Reports dropped, by reason (reasons that dropped none left out).
    pub dropped: Vec<(DropReason, u64)>,
}

impl Reports {
    fn drop(&mut self, reason: DropReason, n: u64) {
        match self.dropped.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, count)) => *count += n,
            None => self.dropped.push((reason, n)),
        }
    }
}

/// Takes the reports out of `result` (always, so that the client never
/// reads them) and keeps those that fit a declaration of `tool`, the one
/// called, at most `max` (0: tool metrics are off, nothing is read). The
/// declarations are read only when there are reports.
pub fn take(result: &mut Value, tool: &Tool, max: usize) -> Reports {
    let mut reports = Reports::default();
    let Some(meta) = result.get_mut("_meta").and_then(Value::as_object_mut) else { return reports };
    let Some(listed) = meta.remove(META_KEY) else { return reports };
    if meta.is_empty() {
        result.as_object_mut().map(|r| r.remove("_meta"));
    }
    if max == 0 {
        return reports;
    }
    let (declared, _) = declarations(tool);
    let Value::Array(items) = listed else {
        reports.drop(DropReason::Malformed, 1);
        return reports;
    };
    if items.len() > max {
        reports.drop(DropReason::TooMany, (items.len() - max) as u64);
    }
    for item in items.iter().take(max) {
        let Some(declaration) = item.get("name").and_then(Value::as_str).and_then(|n| find(&declared, n)) else {
            reports.drop(if item.get("name").is_some() { DropReason::Undeclared } else { DropReason::Malformed }, 1);
            continue;
        };
        match increments(declaration, item) {
            Some(mut found) => reports.increments.append(&mut found),
            None => reports.drop(DropReason::Malformed, 1),
        }
    }
    reports
}

fn find<'a>(declared: &'a [Declaration], name: &str) -> Option<&'a Declaration> {
    declared.iter().find(|d| d.name == name)
}

/// The increments of one report of `declaration`, `None` when malformed.
fn increments(declaration: &Declaration, item: &Value) -> Option<Vec<Increment>> {
    let labels = label_values(declaration, item.get("labels"))?;
    let value = item.get("value")?;
    let one = |part: String, delta: u64| Increment { series: series_key(&declaration.name, &part, &labels), delta };
    match declaration.kind {
        ToolKind::Counter => {
            let delta = value.as_u64().or_else(|| {
                value.as_f64().filter(|v| v.fract() == 0.0 && *v >= 0.0 && *v < 1.8e19).map(|v| v as u64)
            })?;
            Some(vec![one(PART_VALUE.to_string(), delta)])
        }
        ToolKind::Histogram => {
            let v = value.as_f64().filter(|v| v.is_finite() && *v >= 0.0)?;
            let index = declaration.buckets.partition_point(|bound| *bound < v);
            let le = declaration.buckets.get(index).map_or_else(|| "+Inf".to_string(), |b| format!("{b}"));
            let mut found = vec![one(format!("{PART_BUCKET}{le}"), 1)];
            if let Ok(sum) = u64::try_from(micros(v)) {
                found.push(one(PART_SUM.to_string(), sum));
            }
            Some(found)
        }
    }
}

/// The label pairs in the declared order, when `given` names exactly the
/// declared labels with string values short enough.
fn label_values<'a>(declaration: &'a Declaration, given: Option<&'a Value>) -> Option<Vec<(&'a str, &'a str)>> {
    let Some(given) = given else {
        return declaration.labels.is_empty().then(Vec::new);
    };
    let given = given.as_object()?;
    if given.len() != declaration.labels.len() {
        return None;
    }
    let pairs = declaration.labels.iter().map(|name| {
        let value = given.get(name)?.as_str().filter(|v| v.len() <= MAX_VALUE_BYTES)?;
        Some((name.as_str(), value))
    });
    pairs.collect()
}
