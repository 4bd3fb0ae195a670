//! Descriptive statistics.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub count: usize,
    pub sum: f64,
    pub mean: f64,
    pub median: f64,
    pub min: f64,
    pub max: f64,
    /// Population standard deviation.
    pub stddev: f64,
}

/// Summarises `numbers`; `None` if there are none.
pub fn summarize(numbers: &[f64]) -> Option<Summary> {
    if numbers.is_empty() {
        return None;
    }
    let mut sorted = numbers.to_vec();
    sorted.sort_by(f64::total_cmp);
    let count = sorted.len();
    let sum: f64 = sorted.iter().sum();
    let mean = sum / count as f64;
    let median = if count % 2 == 1 { sorted[count / 2] } else { (sorted[count / 2 - 1] + sorted[count / 2]) / 2.0 };
    let variance = sorted.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / count as f64;
    Some(Summary { count, sum, mean, median, min: sorted[0], max: sorted[count - 1], stddev: variance.sqrt() })
}

impl Summary {
    /// Whether every figure is finite (huge inputs can overflow the sum).
    pub fn is_finite(&self) -> bool {
        [self.sum, self.mean, self.median, self.stddev].iter().all(|x| x.is_finite())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summarizes() {
        let s = summarize(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap();
        assert_eq!(s, Summary { count: 8, sum: 40.0, mean: 5.0, median: 4.5, min: 2.0, max: 9.0, stddev: 2.0 });
        let s = summarize(&[3.0, -1.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min, s.max), (2.0, -1.0, 3.0));
        assert_eq!(summarize(&[]), None);
        assert!(!summarize(&[f64::MAX, f64::MAX]).unwrap().is_finite());
    }
}
