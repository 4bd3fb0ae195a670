use super::chain::{link, seal, GENESIS};
use super::query::{parse_rfc3339, Query};
use super::state::{decode_segment, encode_segment};
use super::*;
use serde_json::json;

const KEY: &[u8] = b"an audit key of the operator's";

fn call(i: u64, tool: &str, tenant: &str) -> Event {
    let mut e = Event::new(Kind::ToolCall, 1_700_000_000_000 + i);
    e.request_id = Some(format!("req-{i}"));
    e.tool = Some(tool.into());
    e.tenant = Some(tenant.into());
    e.outcome = Some("success".into());
    e.duration_us = Some(1500);
    e
}

fn chain(n: u64, key: Option<&[u8]>) -> Vec<Sealed> {
    let events = (1..=n).map(|i| call(i, if i % 2 == 0 { "sha256" } else { "word_count" }, "acme").sign(key)).collect();
    seal(&Head::default(), events, key).0
}

#[test]
fn canonical_bytes_are_stable_and_leave_absent_fields_out() {
    let e = call(1, "word_count", "acme");
    let text = String::from_utf8(e.canonical()).unwrap();
    assert_eq!(
        text,
        r#"{"kind":"tool_call","time_ms":1700000000001,"request_id":"req-1","tenant":"acme","tool":"word_count","outcome":"success","duration_us":1500}"#
    );
    let back: Event = serde_json::from_str(&text).unwrap();
    assert_eq!(back, e);
}

#[test]
fn the_argument_digest_is_of_canonical_json() {
    let a = arguments_digest(&json!({"b": 1, "a": [1, "x"]}));
    let b = arguments_digest(&serde_json::from_str(r#"{ "a": [1,"x"], "b": 1 }"#).unwrap());
    assert_eq!(a, b, "key order and whitespace do not matter");
    // sha256 of {"a":[1,"x"],"b":1}
    assert_eq!(a, hex::encode(<sha2::Sha256 as sha2::Digest>::digest(br#"{"a":[1,"x"],"b":1}"#)));
}

#[test]
fn a_sealed_chain_verifies_with_and_without_a_key() {
    let plain = chain(20, None);
    assert_eq!(plain[0].prev, GENESIS);
    assert_eq!((plain[19].seq, plain[19].prev.clone()), (20, plain[18].hash.clone()));
    let head = Head { seq: 20, hash: plain[19].hash.clone() };
    let ok = verify(&plain, Head::default(), None, Some(&head)).unwrap();
    assert_eq!((ok.events, ok.head), (20, head));
    let keyed = chain(20, Some(KEY));
    verify(&keyed, Head::default(), Some(KEY), None).unwrap();
    let broken = verify(&keyed, Head::default(), None, None).unwrap_err();
    assert!(broken.why.contains("verify with the key"), "{broken}");
    let broken = verify(&plain, Head::default(), Some(KEY), None).unwrap_err();
    assert_eq!(broken.seq, 1, "an unkeyed chain fails a keyed verification at once");
}

#[test]
fn every_kind_of_tampering_is_named() {
    let good = chain(10, None);
    let check = |events: &[Sealed]| verify(events, Head::default(), None, None).unwrap_err();
    // An edited field.
    let mut edited = good.clone();
    edited[4].event.outcome = Some("error".into());
    assert_eq!(check(&edited).seq, 5);
    assert!(check(&edited).why.contains("edited"));
    // A deleted event.
    let mut deleted = good.clone();
    deleted.remove(6);
    let b = check(&deleted);
    assert_eq!(b.seq, 7, "{b}");
    assert!(b.why.contains("missing"), "{b}");
    // Two swapped.
    let mut swapped = good.clone();
    swapped.swap(2, 3);
    assert_eq!(check(&swapped).seq, 3);
    // An inserted one, renumbered and relinked after it by a forger without the key.
    let mut inserted = good[..5].to_vec();
    let (forged, _) = seal(&Head { seq: 5, hash: good[4].hash.clone() }, vec![call(99, "delete_records", "x")], None);
    inserted.extend(forged);
    inserted.extend(good[5..].iter().cloned());
    assert_eq!(check(&inserted).seq, 7, "the original 6th no longer links");
    // The newest dropped: caught against the published head only.
    let head = Head { seq: 10, hash: good[9].hash.clone() };
    let b = verify(&good[..9], Head::default(), None, Some(&head)).unwrap_err();
    assert_eq!(b.seq, 10, "{b}");
    // A whole chain recomputed without the key fails a keyed verification.
    let keyed = chain(5, Some(KEY));
    let mut events: Vec<Event> = keyed.iter().map(|s| s.event.clone()).collect();
    events[2].outcome = Some("error".into());
    let (forged, _) = seal(&Head::default(), events, None);
    let b = verify(&forged, Head::default(), Some(KEY), None).unwrap_err();
    assert_eq!(b.seq, 1, "without the key no link can be right: {b}");
    // Recomputed with the links but not the event MAC (a forger who saw an
    // earlier key cannot fake events written later): the MAC names it.
    let mut relinked: Vec<Event> = keyed.iter().map(|s| s.event.clone()).collect();
    relinked[2].outcome = Some("error".into());
    let (relinked, _) = seal(&Head::default(), relinked, Some(KEY));
    let b = verify(&relinked, Head::default(), Some(KEY), None).unwrap_err();
    assert_eq!(b.seq, 3);
    assert!(b.why.contains("MAC"), "{b}");
}

#[test]
fn links_bind_the_sequence_number() {
    let e = call(1, "t", "x");
    assert_ne!(link(GENESIS, 1, &e, None), link(GENESIS, 2, &e, None));
    assert_ne!(link(GENESIS, 1, &e, None), link(GENESIS, 1, &e, Some(KEY)));
}

#[test]
fn retention_drops_whole_segments_and_the_chain_verifies_from_its_checkpoint() {
    let mut state = AuditState::default();
    let mut store: Vec<(String, Vec<u8>)> = Vec::new();
    for batch in 0..6u64 {
        let pending = (0..10).map(|i| call(batch * 10 + i, "t", "acme")).collect();
        let sealing = state.seal_batch(pending, format!("seg{batch}"), None, 25, 1_800_000_000_000).unwrap();
        store.retain(|(id, _)| !sealing.dropped_segments.contains(id));
        store.push((format!("seg{batch}"), encode_segment(&sealing.events)));
    }
    assert!(state.retained() <= 25 + 1, "{}", state.retained());
    assert_eq!(state.segments.len(), store.len());
    let events: Vec<Sealed> = store.iter().flat_map(|(_, b)| decode_segment(b).unwrap()).collect();
    assert_eq!(events.first().unwrap().seq, state.checkpoint.seq + 1);
    let retention: Vec<&Sealed> = events.iter().filter(|e| e.event.kind == Kind::Retention).collect();
    assert!(!retention.is_empty());
    assert_eq!(state.dropped, retention.last().map(|_| state.dropped).unwrap());
    let ok = verify(&events, state.checkpoint.clone(), None, Some(&state.head)).unwrap();
    assert_eq!(ok.head, state.head);
    // A checkpoint moved further by someone dropping one more segment is
    // not attested by any retention event.
    let later = Head { seq: state.segments[0].last, hash: state.segments[0].last_hash.clone() };
    let rest: Vec<Sealed> = events.iter().filter(|e| e.seq > later.seq).cloned().collect();
    let b = verify(&rest, later, None, Some(&state.head)).unwrap_err();
    assert!(b.why.contains("checkpoint"), "{b}");
}

#[test]
fn sealing_order_does_not_depend_on_arrival() {
    let events: Vec<Event> = (0..8).map(|i| call(i % 3, "t", &format!("tenant{i}"))).collect();
    let mut reversed = events.clone();
    reversed.reverse();
    let mut a = AuditState::default();
    let mut b = AuditState::default();
    let sa = a.seal_batch(events, "x".into(), None, 1000, 0).unwrap();
    let sb = b.seal_batch(reversed, "x".into(), None, 1000, 0).unwrap();
    assert_eq!(sa, sb);
    assert!(a.seal_batch(Vec::new(), "y".into(), None, 1000, 0).is_none());
}

#[test]
fn a_segment_with_a_bad_line_is_an_error_naming_it() {
    let mut bytes = encode_segment(&chain(3, None));
    bytes.extend_from_slice(b"{not json\n");
    assert!(decode_segment(&bytes).unwrap_err().starts_with("line 4"));
}

#[test]
fn queries_parse_and_match() {
    let q = Query::parse("since=2026-12-07T10:00:00Z&tool=word_count&kind=tool_call&limit=5&cursor=3").unwrap();
    assert_eq!(q.since_ms, Some(1_796_637_600_000));
    assert_eq!((q.limit, q.cursor, q.first_seq()), (5, Some(3), 4));
    let events = chain(10, None);
    let picked: Vec<u64> = events.iter().filter(|e| q.matches(e)).map(|e| e.seq).collect();
    assert!(picked.is_empty(), "the events are from 2023");
    let q = Query::parse("since=2&tool=word_count&tenant=acme&outcome=success").unwrap();
    let picked: Vec<u64> = events.iter().filter(|e| q.matches(e)).map(|e| e.seq).collect();
    assert_eq!(picked, [3, 5, 7, 9]);
    for bad in ["since=yesterday", "limit=0", "limit=1001", "kind=nope", "cursor=-1", "tools=x"] {
        assert!(Query::parse(bad).is_err(), "{bad}");
    }
    assert_eq!(Query::parse("").unwrap().limit, 100);
}

#[test]
fn rfc_3339_times() {
    assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(parse_rfc3339("2026-12-07T10:00:00.250Z"), Some(1_796_637_600_250));
    assert_eq!(parse_rfc3339("2026-12-07T11:00:00+01:00"), Some(1_796_637_600_000));
    assert_eq!(parse_rfc3339("2000-02-29T00:00:00Z"), Some(951_782_400_000));
    for bad in ["2026-13-01T00:00:00Z", "2026-12-07", "2026-12-07T10:00:00", "2026-12-07T10:00:00.Z", "x"] {
        assert_eq!(parse_rfc3339(bad), None, "{bad}");
    }
}

/// A state of `batches` sealed batches of `size` events, and the segments.
fn sealed_batches(batches: u64, size: u64, key: Option<&[u8]>) -> (AuditState, Vec<Vec<Sealed>>) {
    let mut state = AuditState::default();
    let mut segments = Vec::new();
    for batch in 0..batches {
        let pending = (0..size).map(|i| call(batch * size + i, "t", "acme").sign(key)).collect();
        let sealing = state.seal_batch(pending, format!("seg{batch}"), key, 1_000_000, 0).unwrap();
        segments.push(sealing.events);
    }
    (state, segments)
}

#[test]
fn a_check_reads_the_newest_segment_and_a_window_that_rotates_with_the_clock() {
    use super::check::{plan, MAX_EVENTS, MAX_SEGMENTS, ROTATION_MS};
    assert!(plan(&AuditState::default(), 0).is_empty());
    let (one, _) = sealed_batches(1, 3, None);
    assert_eq!(plan(&one, 0), vec![0]);
    // 100 small segments: windows of MAX_SEGMENTS, every older one read
    // within a few rotations, the newest every time.
    let (state, _) = sealed_batches(100, 2, None);
    let mut seen = std::collections::BTreeSet::new();
    for turn in 0..4 {
        let picked = plan(&state, turn * ROTATION_MS);
        assert_eq!(picked.last(), Some(&99));
        assert!(picked.len() <= MAX_SEGMENTS + 1);
        seen.extend(picked);
    }
    assert_eq!(seen.len(), 100, "four turns read every segment");
    // Big segments: bounded by events instead.
    let (big, _) = sealed_batches(6, 1_500, None);
    for turn in 0..6 {
        let picked = plan(&big, turn * ROTATION_MS);
        let older: u64 =
            picked[..picked.len() - 1].iter().map(|&i| big.segments[i].last + 1 - big.segments[i].first).sum();
        assert!(older <= MAX_EVENTS, "{picked:?}");
    }
}

#[test]
fn a_segment_checks_against_its_neighbours_and_the_head() {
    use super::check::segment;
    for key in [None, Some(KEY)] {
        let (state, segments) = sealed_batches(4, 5, key);
        for (i, events) in segments.iter().enumerate() {
            assert_eq!(segment(&state, i, events, key), Ok(5), "segment {i}");
        }
        // An edit, a deletion, a swap, the newest dropped, one appended.
        let mut edited = segments[1].clone();
        edited[2].event.outcome = Some("error".into());
        assert_eq!(segment(&state, 1, &edited, key).unwrap_err().seq, edited[2].seq);
        let mut deleted = segments[2].clone();
        let gone = deleted.remove(0);
        assert_eq!(segment(&state, 2, &deleted, key).unwrap_err().seq, gone.seq);
        let mut swapped = segments[0].clone();
        swapped.swap(1, 2);
        assert_eq!(segment(&state, 0, &swapped, key).unwrap_err().seq, segments[0][1].seq);
        let mut short = segments[3].clone();
        let newest = short.pop().unwrap();
        assert_eq!(segment(&state, 3, &short, key).unwrap_err().seq, newest.seq);
        let mut long = segments[3].clone();
        long.push(Sealed { seq: newest.seq + 1, ..newest.clone() });
        assert!(segment(&state, 3, &long, key).is_err());
        // A segment taken out of its place does not link.
        assert!(segment(&state, 2, &segments[1], key).is_err());
    }
}
