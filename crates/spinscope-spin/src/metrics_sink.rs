//! The metrics in the store (see docs/metrics.md): writing a request's
//! observations (the gateway, and the exporter and readiness for their own
//! rejections) and reading them all back (the exporter, and the detailed
//! health view), in the layout that stays exact on the store in use
//! ([`Layout`]).

use crate::kv::{KvError, Store};
use crate::metrics_fold;
use crate::metrics_layout::Layout;
use crate::refusals;
use spinscope::config::Config;
use spinscope::keys;
use spinscope::metrics::activity::ActivityLimits;
use spinscope::metrics::series::RejectReason;
use spinscope::metrics::{self, catalog, counters, Limits, Recorder, Snapshot};

/// The store holding the metrics (`metrics_store`): usually the default
/// store, which the caller has open already.
pub enum MetricsStore<'a> {
    /// The store the caller already has open.
    Shared(&'a Store),
    /// A store of its own, opened for the metrics.
    Own(Store),
}

impl std::ops::Deref for MetricsStore<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        match self {
            MetricsStore::Shared(store) => store,
            MetricsStore::Own(store) => store,
        }
    }
}

/// Opens the metrics store, reusing `default` when it is the default store.
pub fn metrics_store<'a>(config: &Config, default: Option<&'a Store>) -> Result<MetricsStore<'a>, KvError> {
    match default {
        Some(store) if config.metrics_store == DEFAULT_STORE => Ok(MetricsStore::Shared(store)),
        _ => Store::open(&config.metrics_store).map(MetricsStore::Own),
    }
}

/// The caps a recording and the merged view keep to.
fn limits(config: &Config) -> Limits {
    Limits {
        max_series_per_metric: config.metrics_max_series_per_metric,
        activity: ActivityLimits {
            session_ttl_ms: config.session_idle_timeout.as_millis() as u64,
            ..ActivityLimits::default()
        },
    }
}

/// The caps of the fold record (observation layout): one record holds the
/// activity of every session and tenant, so it keeps eight times what one
/// request's record may (as many as the eight shard records of earlier
/// versions kept between them).
pub(crate) fn fold_limits(config: &Config) -> Limits {
    let mut limits = limits(config);
    limits.activity.max_sessions *= 8;
    limits.activity.max_tenants *= 8;
    limits
}

/// Records a request's observations in the layout the store can keep exact
/// (docs/metrics.md): one observation record written with `set` on Spin's
/// SQLite stores (one write per request, folded later by the exporter), one
/// `increment` per series field on Spin's Redis store (whose `set` of many
/// keys could never be folded exactly: its compare-and-swap is broken). On failure the error
/// is returned for the caller's log and counted with one increment when the
/// store still takes writes; the request itself is never failed by it.
///
/// The layout is detected here, once per request ([`Layout::detect`], one
/// `get`): nothing outside the metrics knows how they are stored.
///
/// The request's audit events (`crate::audit`) ride in its observation
/// record when `store` is the default store and keeps observation records;
/// otherwise they are written as a pending record of their own in
/// `audit.default_store` (one more write, on a store without the other).
pub fn record(store: &Store, recorder: &Recorder, audit: Audit<'_>) -> Result<(), String> {
    if recorder.is_empty() && audit.events.is_empty() {
        return Ok(());
    }
    let layout = Layout::detect(store);
    let carried = matches!(layout, Ok(Layout::Observations)) && audit.default_store.is_none();
    if !carried && !audit.events.is_empty() {
        let default = audit.default_store.unwrap_or(store);
        if let Err(e) = crate::audit::write_pending(default, audit.events, crate::time::now_unix_ms()) {
            let _ = store.increment(keys::METRICS_RECORD_FAILURES, 1);
            return Err(format!("audit events not written: {e}"));
        }
    }
    if recorder.is_empty() && !carried {
        return Ok(());
    }
    let outcome = match layout {
        Ok(Layout::Counters) => record_counters(store, recorder).map_err(|e| e.to_string()),
        Ok(Layout::Observations) => {
            let events = if carried { audit.events } else { &[] };
            metrics_fold::write(store, recorder, events).map_err(|e| e.to_string())
        }
        Err(e) => Err(e.to_string()),
    };
    if outcome.is_err() {
        let _ = store.increment(keys::METRICS_RECORD_FAILURES, 1);
    }
    outcome
}

/// A request's audit events, and where they go when the metrics store
/// cannot carry them.
#[derive(Clone, Copy, Default)]
pub struct Audit<'a> {
    /// The events (none when audit is off or nothing happened to audit).
    pub events: &'a [spinscope::audit::Event],
    /// The default store, when the metrics store is another one; `None`
    /// when the metrics store is the default store.
    pub default_store: Option<&'a Store>,
}

/// Now and then (one request in 256, after its answer): fold the pending
/// observation records, sealing their audit events, or seal the standalone
/// audit records, so that both stay bounded when nobody scrapes. Its
/// failure loses nothing: the records stay pending for the next one.
pub fn now_and_then(store: &Store, default_store: &Store, config: &Config) {
    if crate::random_bytes::<1>()[0] != 0 {
        return;
    }
    let now = crate::time::now_unix_ms();
    let sealer = crate::audit::Sealer::of(config);
    if let Ok(Layout::Observations) = Layout::detect(store) {
        let _ = metrics_fold::fold(store, &fold_limits(config), &sealer, now, 2);
    }
    if config.audit_enabled {
        if let Ok(crate::audit::Carrier::Standalone) = crate::audit::carrier(config, default_store) {
            let _ = crate::audit::seal_standalone(default_store, &sealer, now);
        }
    }
}

/// The label of the default store.
const DEFAULT_STORE: &str = "default";

/// The counter layout: each key moved by one atomic increment.
fn record_counters(store: &Store, recorder: &Recorder) -> Result<(), KvError> {
    let writes = counters::writes(recorder);
    for (key, delta) in &writes.increments {
        store.increment(key, *delta)?;
    }
    for (key, value) in &writes.sets {
        store.set(key, value.to_string().as_bytes())?;
    }
    Ok(())
}

/// Every metric read back and merged, and what reading them met.
#[derive(Default)]
pub struct Collected {
    /// The merged series and activity.
    pub snapshot: Snapshot,
    /// The first store error met, if any: the numbers are then incomplete.
    pub store_error: Option<KvError>,
    /// The counter of failed recordings, when it could be read.
    pub record_failures: Option<u64>,
    /// Observation records not yet folded when read (observation layout).
    pub pending_observations: usize,
    /// Observation records that do not decode: not counted, left in place.
    pub unreadable_observations: Vec<String>,
}

/// Reads every metric back and merges it, plus the counter of failed
/// recordings, in the layout [`record`] uses on this store. Counters
/// written by `increment` are read in either backend's encoding.
pub fn collect(store: &Store, config: &Config) -> Collected {
    let mut out = match Layout::detect(store) {
        Ok(Layout::Counters) => collect_counters(store, config),
        Ok(Layout::Observations) => collect_folded(store, config),
        Err(e) => Collected { store_error: Some(e), ..Collected::default() },
    };
    // Requests refused for want of a key are counted apart (`refusals`).
    let unauthenticated = RejectReason::UNAUTHENTICATED.map(RejectReason::as_str);
    match refusals::totals(store, &unauthenticated) {
        Ok(refused) => {
            for (reason, n) in refused {
                out.snapshot.add_counter(&catalog::REJECTED_TOTAL, &[&reason], n);
            }
        }
        Err(e) => {
            out.store_error.get_or_insert(e);
        }
    }
    match store.get(keys::METRICS_RECORD_FAILURES) {
        Ok(value) => {
            out.record_failures = Some(value.as_deref().and_then(metrics::decode_counter).unwrap_or(0).max(0) as u64)
        }
        Err(e) => {
            out.store_error.get_or_insert(e);
        }
    }
    out
}

/// The observation layout: the fold record and the pending observation
/// records (`metrics_fold::read`, which also folds a bounded batch of them).
/// Shard records of earlier versions are not read: `spinscope-sqlite
/// prepare` folds them into the fold record once (docs/deployment.md).
fn collect_folded(store: &Store, config: &Config) -> Collected {
    let now = crate::time::now_unix_ms();
    match metrics_fold::read(store, &fold_limits(config), &crate::audit::Sealer::of(config), now, 16) {
        Ok(view) => Collected {
            snapshot: view.snapshot,
            pending_observations: view.pending,
            unreadable_observations: view.unreadable,
            ..Collected::default()
        },
        Err(e) => Collected { store_error: Some(e), ..Collected::default() },
    }
}

/// The counter layout: list the keys (Spin's Redis store lists them with
/// `KEYS *`, fine for a store of spinscope's size, see docs/metrics.md), `get` each, rebuild the merged view;
/// the keys of sessions idle past the timeout are deleted on the way.
fn collect_counters(store: &Store, config: &Config) -> Collected {
    let mut out = Collected::default();
    let keys = match store.keys_with_prefix(keys::COUNTER_PREFIX) {
        Ok(keys) => keys,
        Err(e) => {
            out.store_error = Some(e);
            return out;
        }
    };
    let mut entries = Vec::with_capacity(keys.len());
    for key in keys {
        match store.get(&key) {
            // A value that is no counter is skipped like an unknown series.
            Ok(Some(bytes)) => entries.extend(metrics::decode_counter(&bytes).map(|value| (key, value))),
            Ok(None) => {}
            Err(e) => {
                out.store_error.get_or_insert(e);
            }
        }
    }
    let assembled = counters::assemble(entries, &limits(config), crate::time::now_unix_ms());
    for key in &assembled.stale {
        let _ = store.delete(key);
    }
    // Keys of metrics this version does not know are skipped, as the
    // record decoder skips their series.
    out.snapshot = assembled.snapshot;
    out
}
