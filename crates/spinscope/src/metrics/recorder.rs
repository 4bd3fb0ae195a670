//! A request's observations, collected in memory and written as one
//! record in one store write at the end of the request (see
//! [`Snapshot::apply`](super::Snapshot::apply)).

use super::activity::Note;
use super::catalog::{Kind, MetricDef};

/// One recorded observation, labels in the metric's catalog order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Observation {
    Add { metric: &'static MetricDef, labels: Vec<String>, delta: u64 },
    GaugeAdd { metric: &'static MetricDef, labels: Vec<String>, delta: i64 },
    Observe { metric: &'static MetricDef, labels: Vec<String>, value: f64 },
}

impl Observation {
    pub(crate) fn metric(&self) -> &'static MetricDef {
        match self {
            Observation::Add { metric, .. }
            | Observation::GaugeAdd { metric, .. }
            | Observation::Observe { metric, .. } => metric,
        }
    }

    pub(crate) fn labels(&self) -> &[String] {
        match self {
            Observation::Add { labels, .. }
            | Observation::GaugeAdd { labels, .. }
            | Observation::Observe { labels, .. } => labels,
        }
    }
}

/// The observations of one request. Recording never fails: a call that does
/// not fit its metric is dropped (and trips a `debug_assert!` in debug
/// builds, where the mistake is the caller's), because metrics must never
/// fail the request they describe.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Recorder {
    pub(crate) observations: Vec<Observation>,
    /// Per-session and per-tenant activity (see [`super::activity`]).
    pub(crate) notes: Vec<Note>,
}

fn fits(metric: &MetricDef, labels: &[&str], kind: Kind) -> bool {
    let ok = metric.kind == kind && metric.labels.len() == labels.len();
    debug_assert!(
        ok,
        "{}: recorded as a {kind:?} with {} label values, but it is a {:?} with labels {:?}",
        metric.name,
        labels.len(),
        metric.kind,
        metric.labels
    );
    ok
}

fn owned(labels: &[&str]) -> Vec<String> {
    labels.iter().map(|l| l.to_string()).collect()
}

impl Recorder {
    /// An empty recorder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `delta` to a counter. Ignored when `metric` is not a counter,
    /// when `labels` does not match its label names, or when `delta` is 0.
    pub(crate) fn inc(&mut self, metric: &'static MetricDef, labels: &[&str], delta: u64) {
        if fits(metric, labels, Kind::Counter) && delta > 0 {
            self.observations.push(Observation::Add { metric, labels: owned(labels), delta });
        }
    }

    /// Moves a gauge up or down (gauges are sums of deltas, so that records
    /// and concurrent requests add up). Ignored like [`Recorder::inc`].
    pub(crate) fn gauge_add(&mut self, metric: &'static MetricDef, labels: &[&str], delta: i64) {
        if fits(metric, labels, Kind::Gauge) && delta != 0 {
            self.observations.push(Observation::GaugeAdd { metric, labels: owned(labels), delta });
        }
    }

    /// Observes `value`, in the metric's base unit (seconds, bytes), in a
    /// histogram. NaN and infinities are ignored; a negative value (a clock
    /// stepping back) counts as 0, because every histogram here measures a
    /// duration or a size and a negative `_sum` is invalid in OpenMetrics.
    pub(crate) fn observe(&mut self, metric: &'static MetricDef, labels: &[&str], value: f64) {
        if fits(metric, labels, Kind::Histogram) && value.is_finite() {
            let value = value.max(0.0);
            self.observations.push(Observation::Observe { metric, labels: owned(labels), value });
        }
    }

    /// Records what the request did for its session and tenant.
    pub fn note(&mut self, note: Note) {
        self.notes.push(note);
    }

    /// Number of observations recorded.
    pub fn len(&self) -> usize {
        self.observations.len()
    }

    /// Whether nothing (no observation, no activity note) was recorded.
    pub fn is_empty(&self) -> bool {
        self.observations.is_empty() && self.notes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::catalog::*;

    #[test]
    fn records_what_fits() {
        let mut r = Recorder::new();
        r.inc(&TOOL_CALLS_TOTAL, &["wordcount", "text-tools", "success"], 1);
        r.inc(&SESSIONS_CREATED_TOTAL, &[], 0);
        r.gauge_add(&SESSIONS_ACTIVE, &[], 0);
        r.observe(&TOOL_CALL_DURATION_SECONDS, &["wordcount", "text-tools"], f64::NAN);
        r.observe(&TOOL_CALL_DURATION_SECONDS, &["wordcount", "text-tools"], f64::INFINITY);
        r.observe(&TOOL_CALL_DURATION_SECONDS, &["wordcount", "text-tools"], -0.5);
        assert_eq!(r.len(), 2);
        assert!(matches!(r.observations[1], Observation::Observe { value, .. } if value == 0.0));
    }

    // Wrong calls are a programming error caught by debug builds; release
    // builds (what runs in Spin) must ignore them without panicking.
    #[test]
    #[cfg(not(debug_assertions))]
    fn wrong_calls_are_ignored_in_release() {
        let mut r = Recorder::new();
        r.inc(&TOOL_CALLS_TOTAL, &["only-one"], 1);
        r.inc(&SESSIONS_ACTIVE, &[], 1);
        r.gauge_add(&SESSIONS_CREATED_TOTAL, &[], 1);
        r.observe(&TOOL_CALLS_TOTAL, &["a", "b", "c"], 1.0);
        assert!(r.is_empty());
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "tool_calls_total")]
    fn wrong_calls_assert_in_debug() {
        Recorder::new().inc(&TOOL_CALLS_TOTAL, &["only-one"], 1);
    }
}
