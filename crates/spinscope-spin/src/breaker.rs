//! The tool components' circuit breakers in the store: the state read
//! once per call, failures counted by `increment`, the trial claimed by
//! `increment`, the rest blind writes (`spinscope::gateway::breaker`
//! decides; docs/breakers.md).

use crate::kv::Store;
use spinscope::gateway::breaker::{self, CallEnd, Decision, Policy, State, Transition, TrialClaim, Writes};
use spinscope::gateway::tool_map::ToolMap;
use spinscope::keys;
use spinscope::metrics::{catalog, Snapshot};

/// The stored state of `component`'s breaker; a store error or a record
/// that does not read counts as closed: a breaker never refuses calls on
/// what it cannot read.
pub fn state(store: &Store, component: &str) -> Option<State> {
    store.get(&keys::breaker_state(component)).ok().flatten().as_deref().and_then(State::decode)
}

/// Counts one more failure of `component`: the streak's length, this one
/// included (0 when the store failed: it then opens nothing).
pub fn count_failure(store: &Store, component: &str) -> u64 {
    store.increment(&keys::breaker_failures(component), 1).map(|n| n.max(0) as u64).unwrap_or(0)
}

/// Whether this caller won `claim` (the half-open trial).
pub fn claim_trial(store: &Store, component: &str, claim: TrialClaim) -> bool {
    store.claim(&keys::breaker_trial(component, claim.generation, claim.window)).unwrap_or(false)
}

/// Applies a call's writes; failures are ignored (the next call decides
/// again from whatever is stored).
pub fn apply(store: &Store, component: &str, writes: &Writes) {
    if writes.reset {
        let _ = store.delete(&keys::breaker_state(component));
        let _ = store.delete(&keys::breaker_failures(component));
    }
    if let Some(state) = writes.set_state {
        let _ = store.set(&keys::breaker_state(component), state.encode().as_bytes());
    }
    if let Some(claim) = writes.release {
        let _ = store.delete(&keys::breaker_trial(component, claim.generation, claim.window));
    }
}

/// `circuit_breaker_state{component}` and `tool_component_up{component}`
/// of every component, read from the store (its breaker, one `get` each,
/// and the cached tool map) into `snapshot`: the exporter's and
/// `/health/detailed`'s view, never the hot path's. Up: it listed its
/// tools at the last discovery (before any, it counts as up) and its
/// breaker is not open.
pub fn gauges_into(snapshot: &mut Snapshot, store: &Store, components: &[String], now_ms: u64) {
    let map: Option<ToolMap> =
        store.get(keys::TOOL_MAP).ok().flatten().and_then(|bytes| serde_json::from_slice(&bytes).ok());
    for component in components {
        let value = breaker::gauge(state(store, component), now_ms);
        snapshot.set_gauge(&catalog::CIRCUIT_BREAKER_STATE, &[component], value);
        let listed = map.as_ref().is_none_or(|m| m.listed(component));
        snapshot.set_gauge(&catalog::TOOL_COMPONENT_UP, &[component], i64::from(listed && value != 1));
    }
}

/// One call's passage through its component's breaker: decided before the
/// call (one read; a claim when half-open), settled after it.
pub struct Guard<'a> {
    store: Option<&'a Store>,
    component: &'a str,
    policy: Policy,
    before: Option<State>,
    decision: Decision,
}

/// What a `tools/call` reads before it calls: the cached tool map, and
/// the breaker state of every tool component. On SQLite one `get-many`:
/// the breakers' read rides the map's (the store's encoding, which tells
/// SQLite, is read once per request for the metrics anyway). Elsewhere
/// the map alone, and [`check`] reads the one breaker it needs.
pub struct Prefetched {
    /// The bytes of what was read first (the tool's entry, or the map), if cached.
    pub map: Option<Vec<u8>>,
    /// Each component's breaker state, when read with the map.
    states: Option<Vec<(String, Option<State>)>>,
}

impl Prefetched {
    /// `component`'s breaker state if it was read (`None`: not read).
    pub fn state(&self, component: &str) -> Option<Option<State>> {
        self.states.as_ref().map(|s| s.iter().find(|(c, _)| c == component).and_then(|(_, state)| *state))
    }
}

/// Reads `first` (the called tool's entry of the map, or the map) and, on
/// SQLite with breakers on, every component's breaker state with it (see
/// [`Prefetched`]).
pub fn prefetch(store: &Store, first: &str, components: &[String], policy: Policy) -> Prefetched {
    let wanted = breaker::prefetch_keys(first, components, policy);
    // The encoding is read (when no session told it) only if it decides something.
    if !(wanted.len() > 1 && matches!(store.encoding(), Ok(crate::kv::Encoding::LittleEndian))) {
        return Prefetched { map: store.get(first).ok().flatten(), states: None };
    }
    let Ok(found) = store.get_many(&wanted) else {
        return Prefetched { map: store.get(first).ok().flatten(), states: None };
    };
    let value = |key: &str| found.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_slice());
    let states =
        components.iter().map(|c| (c.clone(), value(&keys::breaker_state(c)).and_then(State::decode))).collect();
    Prefetched { map: value(first).map(<[u8]>::to_vec), states: Some(states) }
}

/// Reads (unless `known`, from [`prefetch`]) and decides `component`'s
/// breaker for a call at `now_ms` (no store, or breakers off: the call
/// goes through).
pub fn check<'a>(
    store: Option<&'a Store>,
    component: &'a str,
    known: Option<Option<State>>,
    policy: Policy,
    now_ms: u64,
) -> Guard<'a> {
    let store = store.filter(|_| policy.enabled());
    let before = store.and_then(|s| known.unwrap_or_else(|| state(s, component)));
    let decision = match breaker::decide(before, policy, now_ms) {
        // Another caller holds this window's trial.
        Decision::Trial { claim } if !store.is_some_and(|s| claim_trial(s, component, claim)) => {
            Decision::Refuse { retry_after_ms: policy.cooldown_ms }
        }
        decision => decision,
    };
    Guard { store, component, policy, before, decision }
}

impl Guard<'_> {
    /// When the call must not be made: the time until a retry may pass.
    pub fn refused(&self) -> Option<u64> {
        match self.decision {
            Decision::Refuse { retry_after_ms } => Some(retry_after_ms),
            _ => None,
        }
    }

    /// Settles the breaker after the call: `component_failed` as
    /// `ToolFailure::is_component_failure` says. Returns the transition,
    /// if the call moved it.
    pub fn finish(self, component_failed: bool, now_ms: u64) -> Option<Transition> {
        let store = self.store?;
        let end = match component_failed {
            true => CallEnd::Failed { streak: count_failure(store, self.component) },
            false => CallEnd::Answered,
        };
        let writes = breaker::after_call(self.before, self.decision, end, self.policy, now_ms);
        apply(store, self.component, &writes);
        writes.transition
    }
}

/// Which of `components` have an open breaker now (not half-open: a
/// listing is no trial), one `get` each; none when breakers are off.
pub fn open_now(store: Option<&Store>, components: &[String], policy: Policy, now_ms: u64) -> Vec<bool> {
    let store = store.filter(|_| policy.enabled());
    components.iter().map(|c| store.is_some_and(|s| breaker::gauge(state(s, c), now_ms) == 1)).collect()
}
