//! The count of requests refused before authentication (a missing or
//! invalid API key, a refused `Origin`), by reason, kept so that such
//! requests cannot saturate the store (see `spinscope::sampling`): one
//! atomic counter per reason and window of `sampling::WINDOW_SECS`, exact
//! up to a count and sampled above it, folded into the reason's total once
//! a window is old. An earlier version counted them all under one reason,
//! `unauthorized` (`keys::LEGACY_UNAUTHORIZED`): its keys are still read.

use crate::kv::{KvError, Store};
use crate::{random_bytes, time};
use spinscope::metrics::decode_counter;
use spinscope::{keys, sampling};
use std::collections::BTreeMap;

fn read_counter(store: &Store, key: &str) -> Result<u64, KvError> {
    Ok(store.get(key)?.as_deref().and_then(decode_counter).unwrap_or(0).max(0) as u64)
}

/// Refusals of a window kept as exemplars for its audit event.
pub const EXEMPLARS: u64 = 3;

/// One window folded into its reason's total: what its audit event says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folded {
    /// Why its requests were refused (`reason` of `rejected_total`).
    pub reason: String,
    /// The window's number (`sampling::WINDOW_SECS` long).
    pub window: u64,
    /// Its refusals (estimated above `sampling::EXACT_PER_WINDOW`).
    pub count: u64,
    /// Its first few refusals: origin and request id.
    pub exemplars: Vec<String>,
}

/// Counts one refusal for `reason`: at most one write (the window's
/// counter), and none for a refusal the sampling passes over; the window's
/// first [`EXEMPLARS`] also keep `exemplar` (one more write each). The
/// first refusal of a window also folds the windows older than
/// `sampling::FOLD_AFTER_SECS`, and returns them.
pub fn count(store: &Store, reason: &str, exemplar: &str) -> Result<Vec<Folded>, KvError> {
    let now_second = time::now_unix_ms() / 1000;
    let window = now_second / sampling::WINDOW_SECS;
    let key = keys::unauthorized_window(reason, window);
    let weight = sampling::weight(read_counter(store, &key)?);
    if !sampling::sampled(weight, u64::from_le_bytes(random_bytes::<8>())) {
        return Ok(Vec::new());
    }
    let n = store.increment(&key, weight as i64)? as u64;
    if weight == 1 && n <= EXEMPLARS {
        store.set(&keys::unauthorized_exemplar(reason, window, n), exemplar.as_bytes())?;
    }
    match n {
        1 => fold(store, now_second),
        _ => Ok(Vec::new()),
    }
}

/// Folds the old windows now (a scrape, an audit read), and returns them.
pub fn fold_now(store: &Store) -> Result<Vec<Folded>, KvError> {
    fold(store, time::now_unix_ms() / 1000)
}

/// A window counter's reason and window, from its key.
fn parse_window(key: &str) -> Option<(String, u64)> {
    let rest = key.strip_prefix(keys::UNAUTHORIZED_WINDOW_PREFIX)?;
    match rest.rsplit_once(':') {
        Some((reason, window)) => Some((reason.to_string(), window.parse().ok()?)),
        None => Some((keys::LEGACY_UNAUTHORIZED.to_string(), rest.parse().ok()?)),
    }
}

/// Moves every old window's count into its reason's total. Each window is
/// folded by the one caller that claims it; its counter is deleted before
/// the total grows, so a concurrent reader may see a window missing for a
/// moment, never counted twice ([`totals`] keeps what it shows monotonic).
fn fold(store: &Store, now_second: u64) -> Result<Vec<Folded>, KvError> {
    let mut folded = Vec::new();
    for key in store.keys_with_prefix(keys::UNAUTHORIZED_WINDOW_PREFIX)? {
        let Some((reason, window)) = parse_window(&key) else { continue };
        let window_end = (window + 1) * sampling::WINDOW_SECS;
        let claim = keys::unauthorized_fold(&reason, window);
        if window_end + sampling::FOLD_AFTER_SECS >= now_second || !store.claim(&claim)? {
            continue;
        }
        let value = read_counter(store, &key)?;
        let exemplar_keys: Vec<String> =
            (1..=EXEMPLARS).map(|n| keys::unauthorized_exemplar(&reason, window, n)).collect();
        let mut exemplars = Vec::new();
        for k in &exemplar_keys {
            if let Some(bytes) = store.get(k)? {
                exemplars.push(String::from_utf8_lossy(&bytes).into_owned());
            }
        }
        store.delete(&key)?;
        if value > 0 {
            store.increment(&keys::unauthorized_total(&reason), value as i64)?;
            folded.push(Folded { reason: reason.clone(), window, count: value, exemplars });
        }
        for k in &exemplar_keys {
            store.delete(k)?;
        }
        store.delete(&claim)?;
    }
    Ok(folded)
}

/// Every refusal counted so far, by reason: the folded totals plus the
/// recent windows, never less than what was shown before. `reasons` are
/// always listed (at 0 when none); the earlier version's reason only when
/// it counted any.
pub fn totals(store: &Store, reasons: &[&str]) -> Result<BTreeMap<String, u64>, KvError> {
    let mut sums: BTreeMap<String, u64> = BTreeMap::new();
    for reason in reasons.iter().copied().chain([keys::LEGACY_UNAUTHORIZED]) {
        sums.insert(reason.to_string(), read_counter(store, &keys::unauthorized_total(reason))?);
    }
    for key in store.keys_with_prefix(keys::UNAUTHORIZED_WINDOW_PREFIX)? {
        if let Some((reason, _)) = parse_window(&key) {
            *sums.entry(reason).or_default() += read_counter(store, &key)?;
        }
    }
    for (reason, sum) in sums.iter_mut() {
        let shown_key = keys::unauthorized_shown(reason);
        let shown = store.get(&shown_key)?.as_deref().and_then(decode_counter).unwrap_or(0).max(0) as u64;
        if *sum > shown {
            // Plain decimal text: never incremented, so any encoding reads.
            let _ = store.set(&shown_key, sum.to_string().as_bytes());
        }
        *sum = (*sum).max(shown);
    }
    sums.retain(|reason, sum| *sum > 0 || reasons.contains(&reason.as_str()));
    Ok(sums)
}
