use super::*;

const POLICY: Policy = Policy { failures: 3, cooldown_ms: 1_000 };

#[test]
fn states_round_trip_and_garbage_reads_as_closed() {
    for state in [State::Suspect, State::Open { until_ms: 1_700_000_000_123, generation: 1_700_000_000_000 }] {
        assert_eq!(State::decode(state.encode().as_bytes()), Some(state));
    }
    for garbage in [&b""[..], b"open", b"open:1", b"open:1:2:3", b"open:x:2", b"\xff", b"closed"] {
        assert_eq!(State::decode(garbage), None, "{garbage:?}");
    }
}

#[test]
fn a_healthy_component_costs_no_write() {
    assert_eq!(decide(None, POLICY, 5), Decision::Call);
    assert_eq!(after_call(None, Decision::Call, CallEnd::Answered, POLICY, 5), Writes::NONE);
}

#[test]
fn consecutive_failures_open_it_and_a_success_forgets_the_streak() {
    let first = after_call(None, Decision::Call, CallEnd::Failed { streak: 1 }, POLICY, 10);
    assert_eq!(first.set_state, Some(State::Suspect), "the streak is marked");
    let suspect = Some(State::Suspect);
    assert_eq!(decide(suspect, POLICY, 11), Decision::Call, "suspect refuses nothing");
    assert_eq!(after_call(suspect, Decision::Call, CallEnd::Failed { streak: 2 }, POLICY, 11), Writes::NONE);
    let third = after_call(suspect, Decision::Call, CallEnd::Failed { streak: 3 }, POLICY, 12);
    assert_eq!(third.set_state, Some(State::Open { until_ms: 1_012, generation: 12 }));
    assert_eq!(third.transition, Some(Transition::Open));
    let healed = after_call(suspect, Decision::Call, CallEnd::Answered, POLICY, 13);
    assert_eq!(healed, Writes { reset: true, ..Writes::NONE });
}

#[test]
fn open_refuses_until_the_cooldown_then_offers_one_trial_per_window() {
    let open = Some(State::Open { until_ms: 1_000, generation: 7 });
    assert_eq!(decide(open, POLICY, 400), Decision::Refuse { retry_after_ms: 600 });
    let trial = decide(open, POLICY, 1_000);
    assert_eq!(trial, Decision::Trial { claim: TrialClaim { generation: 7, window: 0 } });
    assert_eq!(decide(open, POLICY, 1_999), trial, "the same window, the same claim: one trial");
    assert_eq!(
        decide(open, POLICY, 2_000),
        Decision::Trial { claim: TrialClaim { generation: 7, window: 1 } },
        "a trial that never reported holds its window only"
    );
}

#[test]
fn the_trial_decides() {
    let open = Some(State::Open { until_ms: 1_000, generation: 7 });
    let claim = TrialClaim { generation: 7, window: 0 };
    let closed = after_call(open, Decision::Trial { claim }, CallEnd::Answered, POLICY, 1_100);
    assert_eq!(
        closed,
        Writes { reset: true, release: Some(claim), transition: Some(Transition::Closed), ..Writes::NONE }
    );
    let reopened = after_call(open, Decision::Trial { claim }, CallEnd::Failed { streak: 4 }, POLICY, 1_100);
    assert_eq!(reopened.set_state, Some(State::Open { until_ms: 2_100, generation: 1_100 }), "a new opening");
    assert_eq!((reopened.release, reopened.transition), (Some(claim), Some(Transition::Open)));
}

#[test]
fn refused_calls_write_nothing_and_off_means_off() {
    let refuse = Decision::Refuse { retry_after_ms: 5 };
    let open = Some(State::Open { until_ms: 1_000, generation: 7 });
    assert_eq!(after_call(open, refuse, CallEnd::Answered, POLICY, 1), Writes::NONE);
    let off = Policy { failures: 0, ..POLICY };
    assert_eq!(decide(open, off, 1), Decision::Call, "breakers off: every call goes through");
}

#[test]
fn later_failures_of_a_streak_never_write_suspect_over_an_opening() {
    // A failing call decided before the opening was written: its streak
    // is past 1, so it writes nothing, or reopens past the threshold.
    let late = after_call(Some(State::Suspect), Decision::Call, CallEnd::Failed { streak: 2 }, POLICY, 20);
    assert_eq!(late.set_state, None);
    assert_eq!(Transition::Open.label(), "open");
    assert_eq!(Transition::Closed.label(), "closed");
}

#[test]
fn a_call_reads_its_first_key_and_the_breakers_only_when_they_are_on() {
    let components = vec!["text-tools".to_string(), "calc".to_string()];
    let on = Policy { failures: 5, cooldown_ms: 1_000 };
    let off = Policy { failures: 0, cooldown_ms: 1_000 };
    assert_eq!(
        prefetch_keys("entry", &components, on),
        vec!["entry".to_string(), crate::keys::breaker_state("text-tools"), crate::keys::breaker_state("calc")]
    );
    assert_eq!(prefetch_keys("entry", &components, off), vec!["entry".to_string()]);
    assert_eq!(prefetch_keys("entry", &[], on), vec!["entry".to_string()]);
}
