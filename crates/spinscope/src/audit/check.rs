//! The chain checked a little at every scrape, so that an alert can say
//! the trail was tampered with before anyone asks `/audit/verify`: each
//! check reads the newest segment and one window of older segments,
//! chosen by the clock, so the whole retained chain is read again and
//! again at a bounded cost per scrape (docs/audit.md). A break found is
//! kept ([`Broken`] under `keys::AUDIT_BROKEN`) until a full verification
//! passes again: the next check reads another window, and must not
//! un-find it.

use super::chain::{Broken, Head, Sealed, Verifier};
use super::state::AuditState;
use serde::{Deserialize, Serialize};

/// Events one check reads at most (about 2 ms of hashing at 4,000).
pub const MAX_EVENTS: u64 = 4_000;
/// Segments one check reads at most (one store read each).
pub const MAX_SEGMENTS: usize = 32;
/// How long one window stays the window checked: about one scrape.
pub const ROTATION_MS: u64 = 15_000;

/// A break a check found, as stored until a verification passes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Found {
    /// The first broken sequence number.
    pub seq: u64,
    /// Why.
    pub why: String,
    /// When it was found (Unix ms).
    pub at_ms: u64,
}

impl Found {
    /// `broken`, found at `at_ms`.
    pub fn new(broken: &Broken, at_ms: u64) -> Found {
        Found { seq: broken.seq, why: broken.why.clone(), at_ms }
    }
}

/// The segments (indices into `state.segments`) one check at `now_ms`
/// reads: the newest, and the window of older ones the clock points at.
/// Windows are consecutive runs of at most [`MAX_SEGMENTS`] segments and
/// [`MAX_EVENTS`] events (a bigger segment is a window of its own).
pub fn plan(state: &AuditState, now_ms: u64) -> Vec<usize> {
    let Some(newest) = state.segments.len().checked_sub(1) else { return Vec::new() };
    let mut windows: Vec<(usize, usize)> = Vec::new();
    let (mut start, mut events) = (0, 0);
    for (i, s) in state.segments[..newest].iter().enumerate() {
        let size = s.last + 1 - s.first;
        if i > start && (i - start == MAX_SEGMENTS || events + size > MAX_EVENTS) {
            windows.push((start, i));
            (start, events) = (i, 0);
        }
        events += size;
    }
    if newest > start {
        windows.push((start, newest));
    }
    let mut picked: Vec<usize> = match windows.len() {
        0 => Vec::new(),
        n => {
            let (from, to) = windows[(now_ms / ROTATION_MS) as usize % n];
            (from..to).collect()
        }
    };
    picked.push(newest);
    picked
}

/// Checks segment `index`'s events against the state: they link from the
/// previous segment's last hash (or the retention checkpoint), carry
/// exactly its sequence numbers, end at its recorded hash, and the newest
/// ends at the published head. With `key`, every MAC and link is keyed.
pub fn segment(state: &AuditState, index: usize, events: &[Sealed], key: Option<&[u8]>) -> Result<u64, Broken> {
    let s = &state.segments[index];
    let prev = match index {
        0 => state.checkpoint.hash.clone(),
        i => state.segments[i - 1].last_hash.clone(),
    };
    let mut verifier = Verifier::within(Head { seq: s.first - 1, hash: prev }, key);
    for e in events {
        verifier.next(e)?;
    }
    let end = Head { seq: s.last, hash: s.last_hash.clone() };
    let verified = verifier.finish(Some(&end))?;
    if verified.head.seq != s.last {
        let why = format!("segment {}..{} holds events past its end", s.first, s.last);
        return Err(Broken { seq: s.last + 1, why });
    }
    if index + 1 == state.segments.len() && verified.head != state.head {
        return Err(Broken {
            seq: state.head.seq,
            why: "the newest segment does not end at the published head".into(),
        });
    }
    Ok(verified.events)
}
