//! The aggregate of many series: what one metrics record holds (a
//! request's observation record, the fold record), and what the exporter
//! renders. A snapshot grows by applying a request's [`Recorder`]
//! ([`Snapshot::apply`]), by merging another one ([`Snapshot::merge`]), or
//! by folding one in under the caps ([`Snapshot::fold_in`]); it is queried
//! by metric and label values.
//!
//! Its bytes in the store are in [`super::record_codec`]; the fold record
//! that holds one is [`super::FoldRecord`].

use super::activity::{Activity, ActivityLimits};
use super::catalog::{self, Kind, MetricDef};
use super::recorder::{Observation, Recorder};
use std::collections::BTreeMap;
use std::ops::Bound;

/// One histogram series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Histogram {
    /// One count per bucket of the catalog, plus one for `+Inf`; each bucket
    /// counts only the observations that fell in it (not cumulative).
    pub buckets: Vec<u64>,
    /// Sum of the observations in millionths of the base unit.
    pub sum_micros: i64,
    /// Number of observations; always the sum of `buckets`.
    pub count: u64,
}

impl Histogram {
    pub(crate) fn new(metric: &MetricDef) -> Self {
        Histogram { buckets: vec![0; metric.buckets.len() + 1], sum_micros: 0, count: 0 }
    }

    fn observe(&mut self, metric: &MetricDef, value: f64) {
        self.buckets[bucket_index(metric, value)] += 1;
        self.sum_micros = self.sum_micros.saturating_add(micros(value));
        self.count += 1;
    }

    fn add(&mut self, other: &Histogram) {
        for (a, b) in self.buckets.iter_mut().zip(&other.buckets) {
            *a = a.saturating_add(*b);
        }
        self.sum_micros = self.sum_micros.saturating_add(other.sum_micros);
        self.count = self.count.saturating_add(other.count);
    }

    /// The sum of the observations in the base unit.
    pub fn sum(&self) -> f64 {
        self.sum_micros as f64 / 1e6
    }
}

/// The bucket an observation falls in: upper bounds are inclusive (`le`),
/// as in Prometheus; the last index is `+Inf`.
pub(crate) fn bucket_index(metric: &MetricDef, value: f64) -> usize {
    metric.buckets.partition_point(|bound| *bound < value)
}

/// An observation in millionths of its unit; `as` saturates, so even absurd
/// values cannot wrap a sum.
pub(crate) fn micros(value: f64) -> i64 {
    (value * 1e6).round() as i64
}

/// The value of one series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeriesValue {
    /// A counter total.
    Counter(u64),
    /// A gauge: the sum of its deltas.
    Gauge(i64),
    /// A histogram.
    Histogram(Histogram),
}

impl SeriesValue {
    pub(crate) fn zero(metric: &MetricDef) -> Self {
        match metric.kind {
            Kind::Counter => SeriesValue::Counter(0),
            Kind::Gauge => SeriesValue::Gauge(0),
            Kind::Histogram => SeriesValue::Histogram(Histogram::new(metric)),
        }
    }
}

/// Bounds on what a snapshot may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// New series of one metric beyond this are dropped (and counted in
    /// `metrics_series_dropped_total`). It bounds one record (the fold
    /// record in the SQLite layout) or the merged view (the counter layout).
    pub max_series_per_metric: usize,
    /// Bounds on the per-session and per-tenant activity.
    pub activity: ActivityLimits,
}

impl Limits {
    /// No cap (for values the exporter sets itself, and benchmarks).
    pub const UNLIMITED: Limits = Limits {
        max_series_per_metric: usize::MAX,
        activity: ActivityLimits { max_sessions: usize::MAX, session_ttl_ms: u64::MAX, max_tenants: usize::MAX },
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_series_per_metric: 1000, activity: ActivityLimits::default() }
    }
}

/// Metric name (without prefix) and label values in catalog order. Ordering
/// by name first keeps each metric's series contiguous, sorted by label
/// values, which is the exposition order.
pub(crate) type Key = (&'static str, Vec<String>);

/// Series → value, in a deterministic order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub(crate) series: BTreeMap<Key, SeriesValue>,
    pub(crate) activity: Activity,
}

impl Snapshot {
    /// An empty snapshot.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of series.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    /// Whether there is no series and no activity.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty() && self.activity.is_empty()
    }

    /// Requests and tool calls per session and per tenant (see
    /// [`super::activity`]); never rendered in the Prometheus formats.
    pub fn activity(&self) -> &Activity {
        &self.activity
    }

    /// Whether `metric` already has `limit` series (reads at most `limit`).
    fn is_full(&self, metric: &MetricDef, limit: usize) -> bool {
        match limit {
            0 => true,
            usize::MAX => false,
            _ => self.series(metric).nth(limit - 1).is_some(),
        }
    }

    /// The series, created at zero when new, or `None` when it is new and
    /// its metric is full. The caller has checked kind and label count.
    pub(crate) fn entry(
        &mut self,
        metric: &'static MetricDef,
        labels: &[String],
        limits: &Limits,
    ) -> Option<&mut SeriesValue> {
        let key = (metric.name, labels.to_vec());
        if !self.series.contains_key(&key) {
            // The drop counter has one series per metric: it cannot grow
            // without bound, and it must never drop itself.
            let exempt = metric.name == catalog::METRICS_SERIES_DROPPED_TOTAL.name;
            if !exempt && self.is_full(metric, limits.max_series_per_metric) {
                return None;
            }
        }
        Some(self.series.entry(key).or_insert_with(|| SeriesValue::zero(metric)))
    }

    /// Adds a recorder's observations. A new series beyond
    /// `limits.max_series_per_metric` is dropped and counted in
    /// `metrics_series_dropped_total{metric}`.
    pub fn apply(&mut self, recorder: &Recorder, limits: &Limits) {
        for observation in &recorder.observations {
            let metric = observation.metric();
            let Some(entry) = self.entry(metric, observation.labels(), limits) else {
                self.add_counter(&catalog::METRICS_SERIES_DROPPED_TOTAL, &[metric.name], 1);
                continue;
            };
            // The recorder only accepts observations matching the kind.
            match (observation, entry) {
                (Observation::Add { delta, .. }, SeriesValue::Counter(c)) => *c = c.saturating_add(*delta),
                (Observation::GaugeAdd { delta, .. }, SeriesValue::Gauge(g)) => *g = g.saturating_add(*delta),
                (Observation::Observe { value, .. }, SeriesValue::Histogram(h)) => h.observe(metric, *value),
                _ => {}
            }
        }
        for note in &recorder.notes {
            self.activity.note(note, &limits.activity);
        }
    }

    /// Adds to a counter directly, without cap (the exporter uses it for
    /// values kept outside the metrics records). Ignored when `metric` is not a
    /// counter or `labels` does not match its label names.
    pub fn add_counter(&mut self, metric: &'static MetricDef, labels: &[&str], delta: u64) {
        if metric.kind != Kind::Counter || metric.labels.len() != labels.len() {
            return;
        }
        let labels: Vec<String> = labels.iter().map(|l| l.to_string()).collect();
        if let Some(SeriesValue::Counter(c)) = self.entry(metric, &labels, &Limits::UNLIMITED) {
            *c = c.saturating_add(delta);
        }
    }

    /// Sets a gauge directly, without cap (the exporter sets the in-flight
    /// gauge from its own counters). Ignored like [`Snapshot::add_counter`].
    pub fn set_gauge(&mut self, metric: &'static MetricDef, labels: &[&str], value: i64) {
        if metric.kind != Kind::Gauge || metric.labels.len() != labels.len() {
            return;
        }
        let labels: Vec<String> = labels.iter().map(|l| l.to_string()).collect();
        if let Some(SeriesValue::Gauge(g)) = self.entry(metric, &labels, &Limits::UNLIMITED) {
            *g = value;
        }
    }

    /// Adds another snapshot into this one: counters, gauge deltas and
    /// histogram buckets add up. No cap (see [`Snapshot::fold_in`] for the
    /// capped addition).
    pub fn merge(&mut self, other: &Snapshot) {
        for (key, value) in &other.series {
            let Some(mine) = self.series.get_mut(key) else {
                self.series.insert(key.clone(), value.clone());
                continue;
            };
            match (mine, value) {
                (SeriesValue::Counter(a), SeriesValue::Counter(b)) => *a = a.saturating_add(*b),
                (SeriesValue::Gauge(a), SeriesValue::Gauge(b)) => *a = a.saturating_add(*b),
                // Decoding guarantees the catalog's bucket count on both sides.
                (SeriesValue::Histogram(a), SeriesValue::Histogram(b)) if a.buckets.len() == b.buckets.len() => {
                    a.add(b)
                }
                _ => {}
            }
        }
        self.activity.merge(&other.activity);
    }

    /// Adds one observation record (or any snapshot) under the same caps a
    /// recording obeys: a series new to `self` beyond
    /// `limits.max_series_per_metric` is dropped and counted in
    /// `metrics_series_dropped_total` (its observations for histograms, one
    /// otherwise, which is what [`Snapshot::apply`] would have counted for a
    /// single request); sessions idle at `now_ms` past the TTL, and the least
    /// recently seen beyond the cap, are dropped.
    pub fn fold_in(&mut self, other: &Snapshot, limits: &Limits, now_ms: u64) {
        self.fold_unpruned(other, limits);
        self.activity.prune(now_ms, &limits.activity);
    }

    /// `fold_in` but the pruning of sessions.
    pub(super) fn fold_unpruned(&mut self, other: &Snapshot, limits: &Limits) {
        for ((name, labels), value) in &other.series {
            let Some(metric) = catalog::by_name(name) else { continue };
            let Some(entry) = self.entry(metric, labels, limits) else {
                let dropped = match value {
                    SeriesValue::Histogram(h) => h.count,
                    _ => 1,
                };
                self.add_counter(&catalog::METRICS_SERIES_DROPPED_TOTAL, &[metric.name], dropped);
                continue;
            };
            match (entry, value) {
                (SeriesValue::Counter(a), SeriesValue::Counter(b)) => *a = a.saturating_add(*b),
                (SeriesValue::Gauge(a), SeriesValue::Gauge(b)) => *a = a.saturating_add(*b),
                (SeriesValue::Histogram(a), SeriesValue::Histogram(b)) if a.buckets.len() == b.buckets.len() => {
                    for (x, y) in a.buckets.iter_mut().zip(&b.buckets) {
                        *x = x.saturating_add(*y);
                    }
                    a.sum_micros = a.sum_micros.saturating_add(b.sum_micros);
                    a.count = a.count.saturating_add(b.count);
                }
                _ => {}
            }
        }
        fold_activity(&mut self.activity, other.activity.clone(), &limits.activity);
    }

    /// Drops sessions idle at `now_ms` past the TTL, and the least recently
    /// seen beyond the cap (after a batch of [`Snapshot::fold_encoded`]).
    pub fn prune_activity(&mut self, now_ms: u64, limits: &Limits) {
        self.activity.prune(now_ms, &limits.activity);
    }

    /// [`Snapshot::entry`] for a key already built: the key is copied only
    /// when the series is new.
    pub(super) fn keyed_entry(
        &mut self,
        metric: &'static MetricDef,
        key: &Key,
        limits: &Limits,
    ) -> Option<&mut SeriesValue> {
        if !self.series.contains_key(key) {
            // Creates it, or refuses it by the cap, by the same rule.
            return self.entry(metric, &key.1, limits);
        }
        self.series.get_mut(key)
    }

    /// Series of one metric, sorted by label values.
    pub fn series(&self, metric: &MetricDef) -> impl Iterator<Item = (&[String], &SeriesValue)> {
        let name = metric.name;
        // An empty label list sorts first among the metric's keys.
        let start: Key = (name, Vec::new());
        self.series
            .range((Bound::Included(start), Bound::Unbounded))
            .take_while(move |((m, _), _)| *m == name)
            .map(|((_, labels), value)| (labels.as_slice(), value))
    }

    fn get(&self, metric: &MetricDef, labels: &[&str]) -> Option<&SeriesValue> {
        // Compare in place rather than build an owned key.
        self.series(metric)
            .find(|(l, _)| l.len() == labels.len() && l.iter().zip(labels).all(|(a, b)| a == b))
            .map(|(_, v)| v)
    }

    /// A counter's value (0 when absent).
    pub fn counter(&self, metric: &MetricDef, labels: &[&str]) -> u64 {
        match self.get(metric, labels) {
            Some(SeriesValue::Counter(c)) => *c,
            _ => 0,
        }
    }

    /// A gauge's value (0 when absent).
    pub fn gauge(&self, metric: &MetricDef, labels: &[&str]) -> i64 {
        match self.get(metric, labels) {
            Some(SeriesValue::Gauge(g)) => *g,
            _ => 0,
        }
    }

    /// A histogram series, if it exists.
    pub fn histogram(&self, metric: &MetricDef, labels: &[&str]) -> Option<&Histogram> {
        match self.get(metric, labels) {
            Some(SeriesValue::Histogram(h)) => Some(h),
            _ => None,
        }
    }
}

/// [`Activity::merge`] under the tenant cap [`Activity::note`] keeps; the
/// caller prunes sessions.
pub(super) fn fold_activity(mine: &mut Activity, mut other: Activity, limits: &ActivityLimits) {
    let room = limits.max_tenants.saturating_sub(mine.tenants.len());
    let new: Vec<String> = other.tenants.keys().filter(|t| !mine.tenants.contains_key(*t)).cloned().collect();
    for tenant in new.into_iter().skip(room) {
        other.tenants.remove(&tenant);
    }
    mine.merge(&other);
}

/// Fixtures the metrics modules' tests share.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::Snapshot;
    use crate::metrics::activity::Note;
    use crate::metrics::catalog::*;
    use crate::metrics::{Limits, Recorder};
    /// A recording of two `sha256` calls (one in the last bucket) and a session.
    pub fn recorder() -> Recorder {
        let mut r = Recorder::new();
        r.inc(&TOOL_CALLS_TOTAL, &["sha256", "text-tools", "success"], 2);
        r.observe(&TOOL_CALL_DURATION_SECONDS, &["sha256", "text-tools"], 0.015);
        r.observe(&TOOL_CALL_DURATION_SECONDS, &["sha256", "text-tools"], 400.0);
        r.gauge_add(&SESSIONS_ACTIVE, &[], 1);
        r
    }

    /// One successful call of `tool` in `session` at `at_ms`, as its own record.
    pub fn call(tool: &str, session: &str, at_ms: u64) -> Snapshot {
        let mut r = Recorder::new();
        r.inc(&TOOL_CALLS_TOTAL, &[tool, "text-tools", "success"], 1);
        r.observe(&TOOL_CALL_DURATION_SECONDS, &[tool, "text-tools"], 0.015);
        r.note(Note { tenant: "-".into(), session: Some(session.into()), tool_call: true, error: false, at_ms });
        let mut s = Snapshot::new();
        s.apply(&r, &Limits::UNLIMITED);
        s
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;
    use crate::metrics::activity::Note;
    use crate::metrics::catalog::*;

    #[test]
    fn apply_encode_decode_merge() {
        let mut a = Snapshot::new();
        a.apply(&recorder(), &Limits::default());
        assert_eq!(a.series(&METRICS_SERIES_DROPPED_TOTAL).count(), 0);
        let decoded = Snapshot::decode(&a.encode()).unwrap();
        assert_eq!(decoded, a);
        let mut merged = decoded.clone();
        merged.merge(&a);
        assert_eq!(merged.counter(&TOOL_CALLS_TOTAL, &["sha256", "text-tools", "success"]), 4);
        assert_eq!(merged.gauge(&SESSIONS_ACTIVE, &[]), 2);
        let h = merged.histogram(&TOOL_CALL_DURATION_SECONDS, &["sha256", "text-tools"]).unwrap();
        assert_eq!(h.count, 4);
        assert_eq!(h.buckets[1], 2, "0.015 falls in le=0.02");
        assert_eq!(*h.buckets.last().unwrap(), 2, "400 s falls in +Inf");
        assert_eq!(h.buckets.iter().sum::<u64>(), 4);
        assert_eq!(h.sum_micros, 2 * 400_015_000);
    }

    #[test]
    fn bucket_bounds_are_inclusive() {
        let mut r = Recorder::new();
        for v in [0.0, 0.005, 0.0050001, 10.0, 10.5] {
            r.observe(&HTTP_REQUEST_DURATION_SECONDS, &["/", "GET"], v);
        }
        let mut s = Snapshot::new();
        s.apply(&r, &Limits::default());
        let h = s.histogram(&HTTP_REQUEST_DURATION_SECONDS, &["/", "GET"]).unwrap();
        // le=0.005 holds 0 and 0.005; le=0.01 the next; le=10 holds 10; +Inf 10.5.
        assert_eq!(h.buckets, [2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
        assert_eq!(h.sum_micros, 20_510_000);
    }

    #[test]
    fn merging_two_snapshots() {
        let mut a = Snapshot::new();
        let mut ra = Recorder::new();
        ra.inc(&TOOL_CALLS_TOTAL, &["a", "c", "success"], 1);
        ra.gauge_add(&SESSIONS_ACTIVE, &[], 3);
        a.apply(&ra, &Limits::default());
        let mut b = Snapshot::new();
        let mut rb = Recorder::new();
        rb.inc(&TOOL_CALLS_TOTAL, &["a", "c", "success"], 2);
        rb.inc(&TOOL_CALLS_TOTAL, &["b", "c", "error"], 5);
        rb.gauge_add(&SESSIONS_ACTIVE, &[], -1);
        b.apply(&rb, &Limits::default());
        a.merge(&b);
        assert_eq!(a.len(), 3);
        assert_eq!(a.counter(&TOOL_CALLS_TOTAL, &["a", "c", "success"]), 3);
        assert_eq!(a.counter(&TOOL_CALLS_TOTAL, &["b", "c", "error"]), 5);
        assert_eq!(a.gauge(&SESSIONS_ACTIVE, &[]), 2);
        let order: Vec<_> = a.series(&TOOL_CALLS_TOTAL).map(|(l, _)| l[0].as_str()).collect();
        assert_eq!(order, ["a", "b"]);
    }

    #[test]
    fn the_cap_drops_new_series_and_counts_them() {
        let mut s = Snapshot::new();
        let limits = Limits { max_series_per_metric: 2, ..Limits::default() };
        let mut r = Recorder::new();
        for tool in ["a", "b", "c", "d", "a"] {
            r.inc(&TOOL_CALLS_TOTAL, &[tool, "x", "success"], 1);
        }
        s.apply(&r, &limits);
        assert_eq!(s.series(&TOOL_CALLS_TOTAL).count(), 2);
        assert_eq!(s.counter(&TOOL_CALLS_TOTAL, &["a", "x", "success"]), 2, "existing series still count");
        assert_eq!(s.counter(&METRICS_SERIES_DROPPED_TOTAL, &["tool_calls_total"]), 2);
        // The drop counter itself is exempt, even at a cap of zero.
        let mut r = Recorder::new();
        r.inc(&SESSIONS_CREATED_TOTAL, &[], 1);
        r.inc(&OUTPUT_TRUNCATED_TOTAL, &[], 1);
        let mut s = Snapshot::new();
        s.apply(&r, &Limits { max_series_per_metric: 0, ..Limits::default() });
        assert_eq!(s.series(&METRICS_SERIES_DROPPED_TOTAL).count(), 2);
        assert_eq!(s.counter(&METRICS_SERIES_DROPPED_TOTAL, &["sessions_created_total"]), 1);
        assert_eq!(s.counter(&METRICS_SERIES_DROPPED_TOTAL, &["output_truncated_total"]), 1);
    }

    #[test]
    fn direct_writes_check_kind_and_labels() {
        let mut s = Snapshot::new();
        s.add_counter(&TOOL_CALLS_TOTAL, &[], 1);
        s.add_counter(&SESSIONS_ACTIVE, &[], 1);
        s.set_gauge(&TOOL_CALL_DURATION_SECONDS, &["a", "b"], 1);
        assert!(s.is_empty());
        s.set_gauge(&IN_FLIGHT_REQUESTS, &[], 4);
        s.set_gauge(&IN_FLIGHT_REQUESTS, &[], 2);
        s.add_counter(&METRICS_RECORD_FAILURES_TOTAL, &[], 3);
        assert_eq!(s.gauge(&IN_FLIGHT_REQUESTS, &[]), 2);
        assert_eq!(s.counter(&METRICS_RECORD_FAILURES_TOTAL, &[]), 3);
    }

    #[test]
    fn folding_adds_like_applying() {
        let mut folded = Snapshot::new();
        let mut applied = Snapshot::new();
        for i in 0..5 {
            folded.fold_in(&call("a", "s1", i), &Limits::default(), 10);
            let mut r = Recorder::new();
            r.inc(&TOOL_CALLS_TOTAL, &["a", "text-tools", "success"], 1);
            r.observe(&TOOL_CALL_DURATION_SECONDS, &["a", "text-tools"], 0.015);
            r.note(Note { tenant: "-".into(), session: Some("s1".into()), tool_call: true, error: false, at_ms: i });
            applied.apply(&r, &Limits::default());
        }
        assert_eq!(folded, applied);
        assert_eq!(folded.counter(&TOOL_CALLS_TOTAL, &["a", "text-tools", "success"]), 5);
        assert_eq!(folded.activity().sessions["s1"].requests, 5);
    }

    #[test]
    fn folding_keeps_the_caps() {
        let limits = Limits {
            max_series_per_metric: 1,
            activity: ActivityLimits { max_sessions: 1, session_ttl_ms: 100, max_tenants: 1 },
        };
        let mut s = Snapshot::new();
        s.fold_in(&call("a", "s1", 1_000), &limits, 1_000);
        s.fold_in(&call("b", "s2", 1_050), &limits, 1_050);
        assert_eq!(s.series(&TOOL_CALLS_TOTAL).count(), 1);
        assert_eq!(s.counter(&METRICS_SERIES_DROPPED_TOTAL, &["tool_calls_total"]), 1);
        assert_eq!(s.counter(&METRICS_SERIES_DROPPED_TOTAL, &["tool_call_duration_seconds"]), 1);
        assert_eq!(s.activity().sessions.keys().collect::<Vec<_>>(), ["s2"], "least recently seen evicted");
        let mut other = Activity::default();
        other.note(
            &Note { tenant: "t2".into(), session: None, tool_call: false, error: false, at_ms: 0 },
            &limits.activity,
        );
        let mut with_tenant = Snapshot::new();
        with_tenant.activity = other;
        s.fold_in(&with_tenant, &limits, 1_060);
        assert_eq!(s.activity().tenants.keys().collect::<Vec<_>>(), ["-"], "tenant cap");
        s.fold_in(&Snapshot::new(), &limits, 5_000);
        assert!(s.activity().sessions.is_empty(), "idle past the TTL");
    }
}
