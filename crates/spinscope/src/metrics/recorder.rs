//! A request's observations, collected in memory and applied to a shard
//! record in one write at the end of the request.

use super::catalog::{Kind, MetricDef};

#[derive(Debug, Clone)]
pub(crate) enum Observation {
    Add { metric: &'static MetricDef, labels: Vec<String>, delta: u64 },
    GaugeAdd { metric: &'static MetricDef, labels: Vec<String>, delta: i64 },
    Observe { metric: &'static MetricDef, labels: Vec<String>, value: f64 },
}

#[derive(Debug, Default, Clone)]
pub struct Recorder {
    pub(crate) observations: Vec<Observation>,
}

fn fits(metric: &MetricDef, labels: &[&str], kind: Kind) -> bool {
    let ok = metric.kind == kind && metric.labels.len() == labels.len();
    debug_assert!(ok, "{}: wrong kind or label count", metric.name);
    ok
}

impl Recorder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `delta` to a counter. A call that does not match the metric's
    /// kind or label count is ignored (and caught by debug builds).
    pub fn inc(&mut self, metric: &'static MetricDef, labels: &[&str], delta: u64) {
        if fits(metric, labels, Kind::Counter) && delta > 0 {
            let labels = labels.iter().map(|l| l.to_string()).collect();
            self.observations.push(Observation::Add { metric, labels, delta });
        }
    }

    /// Moves a gauge up or down.
    pub fn gauge_add(&mut self, metric: &'static MetricDef, labels: &[&str], delta: i64) {
        if fits(metric, labels, Kind::Gauge) && delta != 0 {
            let labels = labels.iter().map(|l| l.to_string()).collect();
            self.observations.push(Observation::GaugeAdd { metric, labels, delta });
        }
    }

    /// Observes `value` (in the metric's base unit) in a histogram.
    pub fn observe(&mut self, metric: &'static MetricDef, labels: &[&str], value: f64) {
        if fits(metric, labels, Kind::Histogram) && value.is_finite() {
            let labels = labels.iter().map(|l| l.to_string()).collect();
            self.observations.push(Observation::Observe { metric, labels, value });
        }
    }

    pub fn is_empty(&self) -> bool {
        self.observations.is_empty()
    }
}
