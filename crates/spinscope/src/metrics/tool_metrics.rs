//! Tools' own metrics: what a tool declares in its `tools/list` entry and
//! reports in its call results, under the `_meta` key [`META_KEY`]
//! (docs/tools.md shows a tool author how).
//!
//! * [`declare`]: a tool's declarations (name, counter or histogram, help,
//!   label names, buckets), checked when they are read.
//! * [`report`]: a call result's reports, checked against the calling
//!   tool's declarations and taken out of the result (the client never sees
//!   them); each good one becomes increments of the one internal family
//!   [`catalog::TOOL_METRICS`], each bad one a count in
//!   `tool_metric_reports_dropped_total{component,reason}`.
//! * [`families`]: the internal series turned back into the families the
//!   exporter renders, named [`EXPORT_PREFIX`]`<name>`.
//!
//! Why one internal counter family rather than a family per declaration:
//! a recorded call then stays one observation record in one store write,
//! the record codec, the fold and the Redis counter layout need nothing
//! new, and the existing series cap (`max_series_per_metric`, counted in
//! `metrics_series_dropped_total{metric="tool_metrics"}`) bounds every
//! tool metric at once. A histogram observation is two increments: its
//! bucket's count and its sum in millionths.

pub mod declare;
pub mod families;
pub mod report;

#[cfg(test)]
mod tests;

use super::catalog;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// The `_meta` key of declarations (in a `tools/list` entry) and reports
/// (in a `tools/call` result); MCP reserves `_meta` keys with a prefix of
/// reverse-DNS labels for whoever owns the name.
pub const META_KEY: &str = "io.spinscope/metrics";

/// What every exported tool metric's name starts with. It is disjoint
/// from [`catalog::PREFIX`] (neither starts with the other), so no
/// declared name can ever be one of spinscope's own.
pub const EXPORT_PREFIX: &str = "tool_";

/// Labels spinscope adds to every tool metric (so a tool cannot declare them).
pub const ADDED_LABELS: [&str; 2] = ["component", "tool"];

/// The most metrics one tool may declare; later ones are ignored.
pub const MAX_DECLARATIONS: usize = 16;

/// The most labels one metric may declare.
pub const MAX_LABELS: usize = 8;

/// The most buckets one histogram may declare.
pub const MAX_BUCKETS: usize = 32;

/// The longest metric or label name, in bytes.
pub const MAX_NAME_BYTES: usize = 64;
/// The longest label value, in bytes.
pub const MAX_VALUE_BYTES: usize = 128;
/// The longest help text, in bytes.
pub const MAX_HELP_BYTES: usize = 256;

/// A counter or a histogram (tools declare no gauges: a gauge's value is
/// the state of one instance, and instances come and go per request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolKind {
    /// Counts up by the reported amount.
    Counter,
    /// Observes the reported value in the declared buckets.
    Histogram,
}

impl ToolKind {
    /// The kind as the catalog's.
    pub fn kind(self) -> catalog::Kind {
        match self {
            ToolKind::Counter => catalog::Kind::Counter,
            ToolKind::Histogram => catalog::Kind::Histogram,
        }
    }
}

/// Why a report was dropped (`reason` of `tool_metric_reports_dropped_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DropReason {
    /// It names a metric the calling tool did not declare (or declared
    /// malformed, so that the declaration was ignored).
    Undeclared,
    /// Its shape is wrong: not an object, no number, a counter increment
    /// that is not a whole number ≥ 0, a histogram value below 0 or not
    /// finite, label names other than the declared ones, a label value
    /// too long or not a string.
    Malformed,
    /// Beyond the most reports one result may carry.
    TooMany,
}

impl DropReason {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Undeclared => "undeclared",
            DropReason::Malformed => "malformed",
            DropReason::TooMany => "too_many",
        }
    }
}

/// The part of a series an internal series counts: a counter's value, a
/// histogram's sum (in millionths), or one of its buckets.
pub(crate) const PART_VALUE: &str = "value";
pub(crate) const PART_SUM: &str = "sum";
pub(crate) const PART_BUCKET: &str = "bucket:";

/// Label values are percent-encoded but for these, so that `=`, `&` and
/// ` ` only ever separate.
const LABEL_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// The `series` label of an internal series: `<metric> <part>` and, when
/// the metric has labels, ` <name>=<value>&…` (values percent-encoded). One
/// label rather than one per field keeps a call's record small: every
/// series costs a call its encoding and its fold.
pub(crate) fn series_key(metric: &str, part: &str, labels: &[(&str, &str)]) -> String {
    let mut key = format!("{metric} {part}");
    for (i, (name, value)) in labels.iter().enumerate() {
        key.push(if i == 0 { ' ' } else { '&' });
        key.push_str(name);
        key.push('=');
        key.extend(utf8_percent_encode(value, LABEL_VALUE));
    }
    key
}

/// Label names and values, in order.
pub(crate) type LabelPairs = Vec<(String, String)>;

/// A `series` label read back: metric, part, label pairs; `None` when it
/// is not one [`series_key`] writes.
pub(crate) fn parse_series_key(key: &str) -> Option<(&str, &str, LabelPairs)> {
    let mut fields = key.splitn(3, ' ');
    let (metric, part) = (fields.next()?, fields.next()?);
    let mut labels = Vec::new();
    for pair in fields.next().map(|l| l.split('&')).into_iter().flatten() {
        let (name, value) = pair.split_once('=')?;
        labels.push((name.to_string(), percent_decode_str(value).decode_utf8().ok()?.into_owned()));
    }
    Some((metric, part, labels))
}
