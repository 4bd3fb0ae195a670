use crate::remote::{export, follow, FollowOptions, Page, Source};
use crate::*;
use spinscope::audit::chain::seal;
use spinscope::audit::state::{encode_segment, AuditState};
use spinscope::audit::{Event, Kind};

const KEY: &[u8] = b"an audit key of the operator's";

fn call(i: u64) -> Event {
    let mut e = Event::new(Kind::ToolCall, 1_700_000_000_000 + i);
    e.request_id = Some(format!("req-{i}"));
    e.tool = Some(if i.is_multiple_of(2) { "sha256" } else { "word_count" }.into());
    e.tenant = Some("acme".into());
    e.outcome = Some("success".into());
    e.duration_us = Some(1500);
    e
}

fn chain(n: u64, key: Option<&[u8]>) -> Vec<Sealed> {
    seal(&Head::default(), (1..=n).map(|i| call(i).sign(key)).collect(), key).0
}

/// The export's lines, as the server writes them.
fn lines(events: &[Sealed]) -> Vec<String> {
    events.iter().map(|e| serde_json::to_string(e).unwrap()).collect()
}

fn check(lines: &[String], key: Option<&[u8]>, head: Option<&Head>) -> Result<Summary, Failure> {
    let text: Vec<u8> = lines.iter().flat_map(|l| format!("{l}\n").into_bytes()).collect();
    verify_lines(text.as_slice(), key, head)
}

fn broken_at(result: Result<Summary, Failure>) -> (u64, String) {
    match result {
        Err(Failure::Broken(b)) => (b.seq, b.why),
        other => panic!("expected a broken chain, got {other:?}"),
    }
}

fn head_of(events: &[Sealed]) -> Head {
    let last = events.last().unwrap();
    Head { seq: last.seq, hash: last.hash.clone() }
}

#[test]
fn a_good_export_verifies_and_says_what_it_holds() {
    let events = chain(10, None);
    let summary = check(&lines(&events), None, Some(&head_of(&events))).unwrap();
    assert_eq!(summary, Summary { events: 10, first: 1, head: head_of(&events), keyed: false });
    assert_eq!(summary.to_string(), format!("ok: 10 events, seq 1..10, head 10:{}, unkeyed", events[9].hash));
    let keyed = chain(4, Some(KEY));
    let summary = check(&lines(&keyed), Some(KEY), None).unwrap();
    assert!(summary.to_string().ends_with(", keyed"), "{summary}");
    // Blank lines and CRLF line ends change nothing.
    let text = lines(&events).join("\r\n\r\n");
    assert_eq!(verify_lines(text.as_bytes(), None, None).unwrap().events, 10);
    // An empty export is an empty chain, which a published head beyond it breaks.
    let empty = verify_lines(&b""[..], None, None).unwrap();
    assert_eq!(empty.to_string(), format!("ok: 0 events, head 0:{}, unkeyed", Head::default().hash));
    assert_eq!(broken_at(verify_lines(&b"\n"[..], None, Some(&head_of(&events)))).0, 1);
}

#[test]
fn an_edited_field_is_named_by_its_sequence_number() {
    let mut text = lines(&chain(10, None));
    text[4] = text[4].replace("\"success\"", "\"error\"");
    let (seq, why) = broken_at(check(&text, None, None));
    assert_eq!(seq, 5);
    assert!(why.contains("edited"), "{why}");
}

#[test]
fn a_deleted_line_is_named() {
    let mut text = lines(&chain(10, None));
    text.remove(6);
    let (seq, why) = broken_at(check(&text, None, None));
    assert_eq!(seq, 7);
    assert!(why.contains("missing"), "{why}");
    // The first line deleted: the export then claims to start at a
    // checkpoint that no retention event records.
    let mut text = lines(&chain(10, None));
    text.remove(0);
    let (seq, why) = broken_at(check(&text, None, None));
    assert_eq!(seq, 2);
    assert!(why.contains("checkpoint"), "{why}");
}

#[test]
fn two_swapped_lines_are_named() {
    let mut text = lines(&chain(10, None));
    text.swap(2, 3);
    let (seq, why) = broken_at(check(&text, None, None));
    assert_eq!(seq, 3);
    assert!(why.contains("out of order") || why.contains("missing"), "{why}");
}

#[test]
fn a_truncated_tail_is_caught_against_the_published_head_only() {
    let events = chain(10, None);
    let head = head_of(&events);
    let truncated = &lines(&events)[..8];
    assert_eq!(check(truncated, None, None).unwrap().events, 8, "without the head it cannot be seen");
    let (seq, why) = broken_at(check(truncated, None, Some(&head)));
    assert_eq!(seq, 9);
    assert!(why.contains("published head"), "{why}");
    // The same length but another last event.
    let other = Head { seq: 10, hash: events[8].hash.clone() };
    assert_eq!(broken_at(check(&lines(&events), None, Some(&other))).0, 10);
    // An export that runs past the published head passes through it.
    let earlier = Head { seq: 6, hash: events[5].hash.clone() };
    assert_eq!(check(&lines(&events), None, Some(&earlier)).unwrap().events, 10);
    let (seq, why) = broken_at(check(&lines(&events), None, Some(&Head { seq: 6, ..head.clone() })));
    assert_eq!(seq, 6);
    assert!(why.contains("published head"), "{why}");
}

#[test]
fn a_keyed_chain_needs_its_key() {
    let keyed = lines(&chain(5, Some(KEY)));
    let (seq, why) = broken_at(check(&keyed, None, None));
    assert_eq!(seq, 1);
    assert!(why.contains("verify with the key"), "{why}");
    assert_eq!(broken_at(check(&keyed, Some(b"another key, also long"), None)).0, 1);
    // An unkeyed chain given a key fails too: the key is part of the claim.
    assert_eq!(broken_at(check(&lines(&chain(5, None)), Some(KEY), None)).0, 1);
}

#[test]
fn a_damaged_line_is_named_by_its_line_number() {
    let mut text = lines(&chain(5, None));
    text.insert(3, "{not json".into());
    match check(&text, None, None) {
        Err(Failure::Damaged { line: 4, why }) => assert!(why.contains("not JSON"), "{why}"),
        other => panic!("{other:?}"),
    }
    // JSON, but not a sealed event.
    let mut text = lines(&chain(5, None));
    text[1] = r#"{"seq":2}"#.into();
    assert!(matches!(check(&text, None, None), Err(Failure::Damaged { line: 2, .. })));
    // Not UTF-8.
    let mut bytes = format!("{}\n", lines(&chain(1, None))[0]).into_bytes();
    bytes.extend_from_slice(b"\xff\xfe\n");
    assert!(matches!(verify_lines(bytes.as_slice(), None, None), Err(Failure::Damaged { line: 2, .. })));
    // A field the hash does not cover, added to an event that still links.
    let mut text = lines(&chain(5, None));
    text[2] = text[2].replacen('{', r#"{"approved_by":"ceo","#, 1);
    match check(&text, None, None) {
        Err(Failure::Damaged { line: 3, why }) => assert!(why.contains("approved_by"), "{why}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_export_after_retention_verifies_from_its_checkpoint() {
    let mut state = AuditState::default();
    let mut segments: Vec<(String, Vec<u8>)> = Vec::new();
    for batch in 0..6u64 {
        let pending = (0..10).map(|i| call(batch * 10 + i).sign(Some(KEY))).collect();
        let sealing = state.seal_batch(pending, format!("seg{batch}"), Some(KEY), 25, 1_800_000_000_000).unwrap();
        segments.retain(|(id, _)| !sealing.dropped_segments.contains(id));
        segments.push((format!("seg{batch}"), encode_segment(&sealing.events)));
    }
    let export: Vec<u8> = segments.iter().flat_map(|(_, bytes)| bytes.clone()).collect();
    let summary = verify_lines(export.as_slice(), Some(KEY), Some(&state.head)).unwrap();
    assert_eq!((summary.first, summary.head), (state.checkpoint.seq + 1, state.head.clone()));
    // One more segment dropped by hand: no retention event records that start.
    let rest = &segments[1..];
    let export: Vec<u8> = rest.iter().flat_map(|(_, bytes)| bytes.clone()).collect();
    let (_, why) = broken_at(verify_lines(export.as_slice(), Some(KEY), Some(&state.head)));
    assert!(why.contains("checkpoint"), "{why}");
}

#[test]
fn heads_and_key_files_parse() {
    let hash = "AB".repeat(32);
    assert_eq!(parse_head(&format!("12:{hash}")).unwrap(), Head { seq: 12, hash: hash.to_lowercase() });
    for bad in ["12", "x:00", "12:abc", &format!("-1:{hash}"), &format!("1:{}", "g".repeat(64))] {
        assert!(parse_head(bad).is_err(), "{bad}");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key");
    std::fs::write(&path, b" a key with spaces \r\n").unwrap();
    assert_eq!(read_key(&path).unwrap(), b" a key with spaces ");
    std::fs::write(&path, b"\n").unwrap();
    assert_eq!(read_key(&path).unwrap_err().exit_code(), 2);
    assert_eq!(read_key(&dir.path().join("none")).unwrap_err().exit_code(), 2);
}

/// A gateway serving `events`, of which `visible` are sealed so far; each
/// page asked after the first seals `grow` more.
struct Fake {
    events: Vec<Sealed>,
    visible: usize,
    grow: usize,
    asked: Vec<(Option<u64>, usize)>,
}

impl Source for Fake {
    fn page(&mut self, cursor: Option<u64>, limit: usize) -> Result<Page, Failure> {
        if !self.asked.is_empty() {
            self.visible = (self.visible + self.grow).min(self.events.len());
        }
        self.asked.push((cursor, limit));
        let sealed = &self.events[..self.visible];
        let after: Vec<&Sealed> = sealed.iter().filter(|e| cursor.is_none_or(|c| e.seq > c)).collect();
        let page: Vec<&Sealed> = after.iter().take(limit).copied().collect();
        let next_cursor = (after.len() > limit).then(|| page.last().unwrap().seq);
        let head = sealed.last().map_or_else(Head::default, |e| Head { seq: e.seq, hash: e.hash.clone() });
        Ok(Page { lines: page.iter().map(|e| serde_json::to_string(e).unwrap()).collect(), next_cursor, head })
    }

    fn name(&self) -> String {
        "fake".into()
    }
}

#[test]
fn an_export_pages_to_the_head_and_verifies() {
    let events = chain(2500, None);
    let mut fake = Fake { events: events.clone(), visible: 2500, grow: 0, asked: Vec::new() };
    let mut out = Vec::new();
    let exported = export(&mut fake, &mut out).unwrap();
    assert_eq!(exported, remote::Exported { events: 2500, head: head_of(&events) });
    assert_eq!(fake.asked, [(None, 1000), (Some(1000), 1000), (Some(2000), 1000)]);
    let summary = verify_lines(out.as_slice(), None, Some(&exported.head)).unwrap();
    assert_eq!(summary.events, 2500);
}

#[test]
fn tail_prints_new_events_and_stops_at_a_broken_one() {
    let events = chain(30, None);
    // From the current head (10): only the events sealed after it.
    let mut fake = Fake { events: events.clone(), visible: 10, grow: 7, asked: Vec::new() };
    let mut out = Vec::new();
    let mut polls = 0;
    let options = FollowOptions { verify: true, ..FollowOptions::default() };
    let printed = follow(&mut fake, &mut out, &options, || {
        polls += 1;
        polls < 5
    })
    .unwrap();
    assert_eq!(printed, 20);
    assert_eq!(String::from_utf8(out).unwrap(), lines(&events[10..]).join("\n") + "\n");
    // From a sequence number, with an event edited on the server.
    let mut edited = events.clone();
    edited[14].event.outcome = Some("error".into());
    let mut fake = Fake { events: edited, visible: 30, grow: 0, asked: Vec::new() };
    let mut out = Vec::new();
    let options = FollowOptions { since: Some(5), verify: true, key: None };
    let failure = follow(&mut fake, &mut out, &options, || true).unwrap_err();
    assert_eq!(failure.to_string().split(':').next(), Some("broken at sequence 15"));
    assert_eq!(failure.exit_code(), 1);
    assert_eq!(String::from_utf8(out).unwrap(), lines(&events[4..14]).join("\n") + "\n", "printed up to it");
}

#[test]
fn tail_notices_a_head_that_goes_back() {
    // Events up to 10 seen (`--since 11`), and the server's chain now ends at 3.
    let mut fake = Fake { events: chain(10, None), visible: 3, grow: 0, asked: Vec::new() };
    let options = FollowOptions { since: Some(11), verify: true, key: None };
    let failure = follow(&mut fake, &mut Vec::new(), &options, || true).unwrap_err();
    assert!(failure.to_string().contains("went back"), "{failure}");
    assert_eq!(failure.exit_code(), 1);
}
