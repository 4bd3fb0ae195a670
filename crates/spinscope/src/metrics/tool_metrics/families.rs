//! The internal series of [`super`] turned back into the families the
//! exporter renders: `tool_<name>{component, tool, <declared labels>}`.
//!
//! The declarations come from the cached tool map, for the help text and
//! each histogram's full set of buckets. A family recorded but no longer
//! declared (its tool gone from the map) is still rendered: its kind told
//! by its series, its buckets those it has counts in, its help generic.
//! Where two components declare one name differently, the first
//! declaration (in tool map order) sets the kind, and series of the other
//! kind are left out rather than make an invalid family.

use super::declare::{is_name, Declaration};
use super::{parse_series_key, LabelPairs, ToolKind, ADDED_LABELS, EXPORT_PREFIX, PART_BUCKET, PART_SUM, PART_VALUE};
use crate::metrics::catalog::TOOL_METRICS;
use crate::metrics::snapshot::{Histogram, SeriesValue, Snapshot};
use std::collections::BTreeMap;

/// One family to render.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolFamily {
    /// The exported name, with [`EXPORT_PREFIX`].
    pub name: String,
    /// Counter or histogram.
    pub kind: ToolKind,
    /// Help text.
    pub help: String,
    /// A histogram's bucket bounds (without `+Inf`).
    pub bounds: Vec<f64>,
    /// Its series, sorted by label values.
    pub series: Vec<ToolSeries>,
}

/// One series of a [`ToolFamily`].
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSeries {
    /// Label names and values: `component`, `tool`, then the declared ones.
    pub labels: Vec<(String, String)>,
    /// A counter's total, or a histogram whose buckets follow the family's
    /// bounds plus `+Inf`.
    pub value: SeriesValue,
}

/// What the internal series hold for one series, before bounds are known.
#[derive(Default)]
struct Parts {
    value: Option<u64>,
    buckets: BTreeMap<BoundKey, u64>,
    sum_micros: u64,
}

/// A bound ordered as a number (`+Inf` last).
#[derive(Clone, Copy)]
struct BoundKey(f64);
impl PartialEq for BoundKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}
impl Eq for BoundKey {}
impl PartialOrd for BoundKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for BoundKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// The families of `snapshot`'s tool metrics; `declared` lists each
/// declaration with its component, in tool map order.
pub fn families(snapshot: &Snapshot, declared: &[(String, Declaration)]) -> Vec<ToolFamily> {
    // metric → (component, tool, labels) → parts
    let mut found: BTreeMap<&str, BTreeMap<(&str, &str, LabelPairs), Parts>> = BTreeMap::new();
    for (labels, value) in snapshot.series(&TOOL_METRICS) {
        let ([component, tool, series], SeriesValue::Counter(n)) = (labels, value) else { continue };
        let Some((metric, part, set)) = parse_series_key(series) else { continue };
        let parts = found.entry(metric).or_default().entry((component, tool, set)).or_default();
        if part == PART_VALUE {
            parts.value = Some(*n);
        } else if part == PART_SUM {
            parts.sum_micros = *n;
        } else if let Some(le) = part.strip_prefix(PART_BUCKET) {
            let bound = if le == "+Inf" { f64::INFINITY } else { le.parse().unwrap_or(f64::NAN) };
            if !bound.is_nan() {
                *parts.buckets.entry(BoundKey(bound)).or_default() += n;
            }
        }
    }
    let mut out = Vec::with_capacity(found.len());
    for (metric, series) in found {
        if !is_name(metric) {
            continue;
        }
        let declaration = declared.iter().map(|(_, d)| d).find(|d| d.name == metric);
        let kind = match declaration {
            Some(d) => d.kind,
            None if series.values().any(|p| p.value.is_some()) => ToolKind::Counter,
            None => ToolKind::Histogram,
        };
        let mut family = ToolFamily {
            name: format!("{EXPORT_PREFIX}{metric}"),
            kind,
            help: declaration.map_or_else(|| "Reported by a tool (no longer declared).".into(), |d| d.help.clone()),
            bounds: Vec::new(),
            series: Vec::new(),
        };
        if kind == ToolKind::Histogram {
            let mut bounds: Vec<BoundKey> = declared
                .iter()
                .filter(|(_, d)| d.name == metric && d.kind == ToolKind::Histogram)
                .flat_map(|(_, d)| d.buckets.iter().map(|b| BoundKey(*b)))
                .chain(series.values().flat_map(|p| p.buckets.keys().copied()))
                .filter(|b| b.0.is_finite())
                .collect();
            bounds.sort();
            bounds.dedup();
            family.bounds = bounds.into_iter().map(|b| b.0).collect();
        }
        for ((component, tool, set), parts) in series {
            let Some(labels) = label_pairs(component, tool, set) else { continue };
            let value = match (kind, parts.value) {
                (ToolKind::Counter, Some(n)) => SeriesValue::Counter(n),
                (ToolKind::Histogram, None) if !parts.buckets.is_empty() => {
                    SeriesValue::Histogram(histogram(&family.bounds, &parts))
                }
                _ => continue,
            };
            family.series.push(ToolSeries { labels, value });
        }
        if !family.series.is_empty() {
            out.push(family);
        }
    }
    out
}

/// `component`, `tool`, then the recorded labels (checked again: the
/// store is not trusted to hold only what the gateway wrote).
fn label_pairs(component: &str, tool: &str, recorded: Vec<(String, String)>) -> Option<Vec<(String, String)>> {
    let mut labels =
        vec![(ADDED_LABELS[0].to_string(), component.to_string()), (ADDED_LABELS[1].to_string(), tool.to_string())];
    for (name, value) in recorded {
        let reserved = ADDED_LABELS.contains(&name.as_str()) || name == "le";
        if !is_name(&name) || reserved || labels.iter().any(|(n, _)| *n == name) {
            return None;
        }
        labels.push((name, value));
    }
    Some(labels)
}

/// One histogram over `bounds` (+Inf last) from its recorded buckets.
fn histogram(bounds: &[f64], parts: &Parts) -> Histogram {
    let mut buckets = vec![0u64; bounds.len() + 1];
    for (bound, n) in &parts.buckets {
        let index = bounds.partition_point(|b| *b < bound.0);
        buckets[index] = buckets[index].saturating_add(*n);
    }
    let count = buckets.iter().fold(0u64, |a, b| a.saturating_add(*b));
    Histogram { buckets, sum_micros: i64::try_from(parts.sum_micros).unwrap_or(i64::MAX), count }
}
