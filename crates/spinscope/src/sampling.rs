//! Counting refused requests without letting them saturate the store.
//!
//! A request without a valid API key must not cost a durable write each:
//! on Spin's default store every write is an fsync behind one app-wide
//! lock, so a client with a bad key would slow every legitimate request.
//! Refusals are counted per window of [`WINDOW_SECS`] in one atomic
//! counter: exactly (weight 1) while that window's count is below
//! [`EXACT_PER_WINDOW`], then by weighted sampling: a refusal that finds the
//! count at `c` is written with probability `1/k` and weight
//! `k = c / EXACT_PER_WINDOW`, so the expected count stays exact
//! (unbiased) while the writes per window grow only with the logarithm of
//! the refusals: about `EXACT_PER_WINDOW × (1 + ln(refusals /
//! EXACT_PER_WINDOW))`, some 280 for 2,000. The standard error is about
//! `1 / sqrt(writes)` of the count: 6 % for 2,000 refusals in a window.

/// The length of a counting window, in seconds.
pub const WINDOW_SECS: u64 = 10;

/// Refusals a window counted one by one.
pub const EXACT_PER_WINDOW: u64 = 64;

/// Windows that ended longer ago than this many seconds are folded into
/// the total (several windows, so that clocks a little apart agree).
pub const FOLD_AFTER_SECS: u64 = 30;

/// The weight a refusal is written with when its window's count is `count`:
/// it is written with probability `1 / weight` (see [`sampled`]).
pub fn weight(count: u64) -> u64 {
    if count < EXACT_PER_WINDOW {
        1
    } else {
        count / EXACT_PER_WINDOW
    }
}

/// Whether a refusal of `weight` is written, given a uniformly random `draw`.
pub fn sampled(weight: u64, draw: u64) -> bool {
    weight <= 1 || draw.is_multiple_of(weight)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator, enough for a simulation.
    fn next(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    /// `n` refusals in one window: (the weighted count, the writes).
    fn window(n: u64, seed: &mut u64) -> (u64, u64) {
        let (mut count, mut writes) = (0, 0);
        for _ in 0..n {
            let w = weight(count);
            if sampled(w, next(seed)) {
                count += w;
                writes += 1;
            }
        }
        (count, writes)
    }

    #[test]
    fn exact_below_the_threshold() {
        let mut seed = 7;
        assert_eq!(window(EXACT_PER_WINDOW, &mut seed), (EXACT_PER_WINDOW, EXACT_PER_WINDOW));
    }

    #[test]
    fn unbiased_with_few_writes_above_it() {
        let mut seed = 0x9e37_79b9_7f4a_7c15;
        let runs = 400;
        let (mut total, mut writes) = (0u64, 0u64);
        for _ in 0..runs {
            let (c, w) = window(2_000, &mut seed);
            total += c;
            writes += w;
        }
        let mean = total as f64 / runs as f64;
        assert!((mean - 2_000.0).abs() < 2_000.0 * 0.02, "mean {mean}");
        assert!(writes / runs < 350, "{} writes for 2,000 refusals", writes / runs);
    }
}
