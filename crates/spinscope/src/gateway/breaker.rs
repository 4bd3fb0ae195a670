//! A circuit breaker per tool component, shared by every instance of the
//! gateway through the store, built only on what Spin's key-value stores
//! guarantee (docs/breakers.md): `increment` is atomic on both, a `set` is
//! a blind last-writer-wins write, and compare-and-swap is not to be
//! trusted (Redis reports failure when it applied; SQLite upserts an
//! absent key). So:
//!
//! - failures are counted by `increment` of a per-component counter: the
//!   value a failing call gets back is the length of the streak;
//! - the state is one blind-written text record, [`State`], read once per
//!   call: absent while the component is healthy, so a healthy app's
//!   calls read one key and write nothing for the breaker;
//! - the one trial call of a half-open breaker is claimed by `increment`
//!   of a key named for the breaker's generation and trial window:
//!   exactly one caller gets 1.
//!
//! The breaker opens after `breaker_failures` consecutive component
//! failures (errors, timeouts, traps, unreadable answers; a tool's own
//! `isError` result is an answer, not a failure). Consecutive failures,
//! not a failure ratio in a window: a ratio needs every success counted,
//! a store write per healthy call, which the hot path cannot afford on
//! SQLite (every write an fsync); a streak needs writes only when calls
//! fail.

/// The breaker state of one component, as stored (text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// At least one failure since the last success: the streak is
    /// counted, nothing is refused. (Closed, as far as callers go.)
    Suspect,
    /// Refusing calls until `until_ms`, then half-open: one trial call
    /// per `cooldown` window decides. `generation` names the opening (the
    /// unix ms it opened at), so trials of an earlier one never count for
    /// this one.
    Open {
        /// Unix ms at which the first trial may go through.
        until_ms: u64,
        /// The opening's own name; trial claims are keyed by it.
        generation: u64,
    },
}

impl State {
    /// The stored text.
    pub fn encode(self) -> String {
        match self {
            State::Suspect => "suspect".to_string(),
            State::Open { until_ms, generation } => format!("open:{until_ms}:{generation}"),
        }
    }

    /// The state stored as `bytes`; anything unreadable counts as closed
    /// (a breaker must never refuse calls on a record it cannot read).
    pub fn decode(bytes: &[u8]) -> Option<State> {
        let text = std::str::from_utf8(bytes).ok()?;
        if text == "suspect" {
            return Some(State::Suspect);
        }
        let mut parts = text.strip_prefix("open:")?.split(':');
        let until_ms = parts.next()?.parse().ok()?;
        let generation = parts.next()?.parse().ok()?;
        parts.next().is_none().then_some(State::Open { until_ms, generation })
    }
}

/// The value of `circuit_breaker_state` for a stored state at `now_ms`
/// (Hatago's encoding): 0 closed (or suspect), 1 open, 2 half-open.
pub fn gauge(state: Option<State>, now_ms: u64) -> i64 {
    match state {
        Some(State::Open { until_ms, .. }) if now_ms < until_ms => 1,
        Some(State::Open { .. }) => 2,
        _ => 0,
    }
}

/// The name of a [`gauge`] value, as `/health/detailed` and readiness say it.
pub fn state_label(gauge: i64) -> &'static str {
    match gauge {
        1 => "open",
        2 => "half_open",
        _ => "closed",
    }
}

/// The breaker's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Consecutive component failures that open it; 0 turns breakers off.
    pub failures: u64,
    /// How long it stays open before a trial, and how long a trial may
    /// take before another caller may try.
    pub cooldown_ms: u64,
}

impl Policy {
    /// The settings of `config` (`breaker_failures`, `breaker_cooldown_ms`).
    pub fn of(config: &crate::config::Config) -> Policy {
        Policy { failures: config.breaker_failures, cooldown_ms: config.breaker_cooldown.as_millis() as u64 }
    }

    /// Whether breakers are on.
    pub fn enabled(self) -> bool {
        self.failures > 0
    }
}

/// What a `tools/call` reads before it calls, in one store call where the
/// store can: `first` (the tool's entry of the map, or the map) and, with
/// breakers on, every component's breaker state.
pub fn prefetch_keys(first: &str, components: &[String], policy: Policy) -> Vec<String> {
    let mut wanted = vec![first.to_string()];
    if policy.enabled() {
        wanted.extend(components.iter().map(|c| crate::keys::breaker_state(c)));
    }
    wanted
}

/// What to do with one call, given the stored state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Call the component (closed, or suspect).
    Call,
    /// Open: answer at once, the component is not called; a retry may go
    /// through after `retry_after_ms`.
    Refuse {
        /// Until the next trial window.
        retry_after_ms: u64,
    },
    /// Half-open: the caller that claims `trial_key` with `increment`
    /// (and gets 1) makes the trial call; every other caller is refused.
    Trial {
        /// The claim's key suffix: `<generation>:<window>`.
        claim: TrialClaim,
    },
}

/// The claim of one trial window of one opening.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrialClaim {
    /// The opening.
    pub generation: u64,
    /// The cooldown window since `until_ms`: a trial that never reports
    /// (its caller died) holds its window only.
    pub window: u64,
}

/// Decides a call at `now_ms` from the stored `state`.
pub fn decide(state: Option<State>, policy: Policy, now_ms: u64) -> Decision {
    match state {
        _ if !policy.enabled() => Decision::Call,
        None | Some(State::Suspect) => Decision::Call,
        Some(State::Open { until_ms, .. }) if now_ms < until_ms => {
            Decision::Refuse { retry_after_ms: until_ms - now_ms }
        }
        Some(State::Open { until_ms, generation }) => {
            let window = (now_ms - until_ms) / policy.cooldown_ms.max(1);
            Decision::Trial { claim: TrialClaim { generation, window } }
        }
    }
}

/// How a call to the component ended, for the breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallEnd {
    /// It answered (a tool's own `isError` included).
    Answered,
    /// A component failure; `streak` is what `increment` of the failure
    /// counter returned.
    Failed {
        /// Consecutive failures, this one included.
        streak: u64,
    },
}

/// A breaker moved: the transitions counted in
/// `circuit_breaker_transitions_total{component,to}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// Opened (from closed, or again after a failed trial).
    Open,
    /// Closed by a successful trial.
    Closed,
}

impl Transition {
    /// The `to` label.
    pub fn label(self) -> &'static str {
        match self {
            Transition::Open => "open",
            Transition::Closed => "closed",
        }
    }
}

/// The store writes a call's end needs, all blind: nothing when a
/// healthy component answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Writes {
    /// The state to `set`, if any.
    pub set_state: Option<State>,
    /// Delete the state and the failure counter (closed again).
    pub reset: bool,
    /// The trial claim to delete, once its trial has decided.
    pub release: Option<TrialClaim>,
    /// What changed, for the metrics.
    pub transition: Option<Transition>,
}

impl Writes {
    const NONE: Writes = Writes { set_state: None, reset: false, release: None, transition: None };
}

/// The writes after a call that was made under `decision` with the state
/// `before`, at `now_ms`.
pub fn after_call(before: Option<State>, decision: Decision, end: CallEnd, policy: Policy, now_ms: u64) -> Writes {
    let open = State::Open { until_ms: now_ms + policy.cooldown_ms, generation: now_ms };
    match (decision, end) {
        // A healthy call of a healthy component: nothing.
        (Decision::Call, CallEnd::Answered) if before.is_none() => Writes::NONE,
        // The streak ends: forget it.
        (Decision::Call, CallEnd::Answered) => Writes { reset: true, ..Writes::NONE },
        (Decision::Trial { claim }, CallEnd::Answered) => {
            Writes { reset: true, release: Some(claim), transition: Some(Transition::Closed), ..Writes::NONE }
        }
        (Decision::Trial { claim }, CallEnd::Failed { .. }) => {
            Writes { set_state: Some(open), release: Some(claim), transition: Some(Transition::Open), ..Writes::NONE }
        }
        (Decision::Call, CallEnd::Failed { streak }) if streak >= policy.failures => {
            Writes { set_state: Some(open), transition: Some(Transition::Open), ..Writes::NONE }
        }
        // The first failure of a streak marks the record, so that the
        // success that ends the streak knows to reset it. (Only the first:
        // a later caller's blind write could land over an opening.)
        (Decision::Call, CallEnd::Failed { streak: 1 }) if before.is_none() => {
            Writes { set_state: Some(State::Suspect), ..Writes::NONE }
        }
        (Decision::Call, CallEnd::Failed { .. }) => Writes::NONE,
        (Decision::Refuse { .. }, _) => Writes::NONE,
    }
}

#[cfg(test)]
mod tests;
