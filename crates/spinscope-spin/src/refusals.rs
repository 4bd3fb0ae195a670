//! The count of requests refused for want of a valid API key, kept so that
//! such requests cannot saturate the store (see `spinscope::sampling`):
//! one atomic counter per window of `sampling::WINDOW_SECS`, exact up to a
//! count and sampled above it, folded into a total once a window is old.

use crate::kv::{KvError, Store};
use crate::{random_bytes, time};
use spinscope::metrics::decode_counter;
use spinscope::{keys, sampling};

fn read_counter(store: &Store, key: &str) -> Result<u64, KvError> {
    Ok(store.get(key)?.as_deref().and_then(decode_counter).unwrap_or(0).max(0) as u64)
}

/// Refusals of a window kept as exemplars for its audit event.
pub const EXEMPLARS: u64 = 3;

/// One window folded into the total: what its audit event says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folded {
    /// The window's number (`sampling::WINDOW_SECS` long).
    pub window: u64,
    /// Its refusals (estimated above `sampling::EXACT_PER_WINDOW`).
    pub count: u64,
    /// Its first few refusals: origin and request id.
    pub exemplars: Vec<String>,
}

/// Counts one refusal: at most one write (the window's counter), and none
/// for a refusal the sampling passes over; the window's first
/// [`EXEMPLARS`] also keep `exemplar` (one more write each). The first
/// refusal of a window also folds the windows older than
/// `sampling::FOLD_AFTER_SECS`, and returns them.
pub fn count(store: &Store, exemplar: &str) -> Result<Vec<Folded>, KvError> {
    let now_second = time::now_unix_ms() / 1000;
    let window = now_second / sampling::WINDOW_SECS;
    let key = keys::unauthorized_window(window);
    let weight = sampling::weight(read_counter(store, &key)?);
    if !sampling::sampled(weight, u64::from_le_bytes(random_bytes::<8>())) {
        return Ok(Vec::new());
    }
    let n = store.increment(&key, weight as i64)? as u64;
    if weight == 1 && n <= EXEMPLARS {
        store.set(&keys::unauthorized_exemplar(window, n), exemplar.as_bytes())?;
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

/// Moves every old window's count into the total. Each window is folded
/// by the one caller that claims it; its counter is deleted before the
/// total grows, so a concurrent reader may see a window missing for a
/// moment, never counted twice ([`total`] keeps what it shows monotonic).
fn fold(store: &Store, now_second: u64) -> Result<Vec<Folded>, KvError> {
    let mut folded = Vec::new();
    for key in store.keys_with_prefix(keys::UNAUTHORIZED_WINDOW_PREFIX)? {
        let Some(window) = key.strip_prefix(keys::UNAUTHORIZED_WINDOW_PREFIX).and_then(|s| s.parse::<u64>().ok())
        else {
            continue;
        };
        let window_end = (window + 1) * sampling::WINDOW_SECS;
        if window_end + sampling::FOLD_AFTER_SECS >= now_second || !store.claim(&keys::unauthorized_fold(window))? {
            continue;
        }
        let value = read_counter(store, &key)?;
        let exemplar_keys: Vec<String> = (1..=EXEMPLARS).map(|n| keys::unauthorized_exemplar(window, n)).collect();
        let mut exemplars = Vec::new();
        for k in &exemplar_keys {
            if let Some(bytes) = store.get(k)? {
                exemplars.push(String::from_utf8_lossy(&bytes).into_owned());
            }
        }
        store.delete(&key)?;
        if value > 0 {
            store.increment(keys::UNAUTHORIZED_TOTAL, value as i64)?;
            folded.push(Folded { window, count: value, exemplars });
        }
        for k in &exemplar_keys {
            store.delete(k)?;
        }
        store.delete(&keys::unauthorized_fold(window))?;
    }
    Ok(folded)
}

/// Every refusal counted so far: the folded total plus the recent windows,
/// never less than what was shown before.
pub fn total(store: &Store) -> Result<u64, KvError> {
    let mut sum = read_counter(store, keys::UNAUTHORIZED_TOTAL)?;
    for key in store.keys_with_prefix(keys::UNAUTHORIZED_WINDOW_PREFIX)? {
        sum += read_counter(store, &key)?;
    }
    let shown = store.get(keys::UNAUTHORIZED_SHOWN)?.as_deref().and_then(decode_counter).unwrap_or(0).max(0) as u64;
    if sum > shown {
        // Plain decimal text: never incremented, so any encoding reads.
        let _ = store.set(keys::UNAUTHORIZED_SHOWN, sum.to_string().as_bytes());
    }
    Ok(sum.max(shown))
}
