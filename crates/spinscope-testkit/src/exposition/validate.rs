//! The checks that need a whole family: series not interleaved, counters
//! not negative, `le` only in histograms, and each histogram's buckets,
//! `_sum` and `_count`.

use super::tokens::parse_value;
use super::{Dialect, Family, Labels, Sample};
use std::collections::HashSet;

/// The checks that need a whole family.
pub(super) fn check_family(family: &Family, dialect: Dialect) -> Result<(), String> {
    let what = |e: String| format!("{}: {e}", family.name);
    // The series of one metric point (label set without `le`) are written
    // together: never interleaved with another's.
    let mut seen: HashSet<Labels> = HashSet::new();
    let mut current: Option<Labels> = None;
    let mut groups: Vec<(Labels, Vec<&Sample>)> = Vec::new();
    for s in &family.samples {
        let mut key: Labels = s.labels.iter().filter(|(k, _)| k != "le").cloned().collect();
        key.sort();
        if current.as_ref() != Some(&key) {
            if !seen.insert(key.clone()) {
                return Err(what(format!("samples of {key:?} interleaved with others")));
            }
            current = Some(key.clone());
            groups.push((key, Vec::new()));
        }
        groups.last_mut().expect("pushed above").1.push(s);
    }
    let monotonic = matches!(family.kind.as_str(), "counter" | "histogram");
    if let Some(s) = family.samples.iter().find(|s| monotonic && !s.name.ends_with("_sum") && s.value < 0.0) {
        return Err(what(format!("{} is negative", s.name)));
    }
    if family.kind != "histogram" {
        if family.samples.iter().any(|s| s.labels.iter().any(|(k, _)| k == "le")) && family.kind != "gaugehistogram" {
            return Err(what("le label outside a histogram".into()));
        }
        return Ok(());
    }
    for (labels, samples) in groups {
        let what = |e: &str| format!("{} {labels:?}: {e}", family.name);
        let mut buckets: Vec<(f64, f64)> = Vec::new();
        let (mut count, mut sum) = (None, None);
        for s in samples {
            let le = s.labels.iter().find(|(k, _)| k == "le").map(|(_, v)| v);
            match (s.name.strip_prefix(&family.name).unwrap_or_default(), le) {
                ("_bucket", Some(le)) => buckets.push((parse_value(le).map_err(|e| what(&e))?, s.value)),
                ("_bucket", None) => return Err(what("bucket without le")),
                ("_count", None) => count = Some(s.value),
                ("_sum", None) => sum = Some(s.value),
                ("_created", None) => {}
                _ => return Err(what(&format!("unexpected sample {}", s.name))),
            }
        }
        let increasing = |a: f64, b: f64| b.partial_cmp(&a) == Some(std::cmp::Ordering::Greater);
        if buckets.windows(2).any(|w| !increasing(w[0].0, w[1].0) || w[0].1 > w[1].1) {
            return Err(what("buckets not in increasing le order with cumulative counts"));
        }
        match buckets.last() {
            Some((le, _)) if *le == f64::INFINITY => {}
            _ => return Err(what("the last bucket is not le=\"+Inf\"")),
        }
        let inf = buckets.last().map(|b| b.1);
        if count.is_some() && count != inf {
            return Err(what(&format!("+Inf bucket {inf:?} != _count {count:?}")));
        }
        if count.is_none() || sum.is_none() {
            // Prometheus expects both; OpenMetrics has them both or neither.
            if dialect == Dialect::Prometheus || count.is_some() != sum.is_some() {
                return Err(what("_sum and _count are not both there"));
            }
        }
    }
    Ok(())
}
