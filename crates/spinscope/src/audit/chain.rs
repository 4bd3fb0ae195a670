//! The hash chain: each sealed event carries its sequence number, the hash
//! of its predecessor, and its own hash over both and its canonical bytes.
//!
//! `hash(n) = H(prev_hash(n) ‖ seq(n) as 8 bytes big-endian ‖ canonical(event n))`
//!
//! with `H` = SHA-256 without `audit_key`, and HMAC-SHA-256 under the key
//! with it (so nobody without the key can compute a consistent chain). The
//! first event's `prev` is 64 zeros (or the checkpoint's hash after a
//! retention drop). An edited event changes its hash; a deleted, inserted
//! or reordered one breaks the sequence or the link; a dropped tail is
//! caught against the published head.

use super::event::{Checkpoint, Event, Kind};
use crate::hmac::hmac_sha256;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `prev` of the first event of a chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Domain separation of the chain's keyed hash from the event MAC.
const LINK_CONTEXT: &[u8] = b"spinscope-audit-link-v1\0";

/// A sealed event: one line of `GET /audit` and of an export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    /// Its place in the chain, from 1, without gaps.
    pub seq: u64,
    /// Its predecessor's hash (hex).
    pub prev: String,
    /// The event.
    #[serde(flatten)]
    pub event: Event,
    /// Its own hash (hex).
    pub hash: String,
}

/// Where a chain ends: the last sealed event (seq 0 and [`GENESIS`] when
/// none is).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// The last sequence number.
    pub seq: u64,
    /// Its hash (hex).
    pub hash: String,
}

impl Default for Head {
    fn default() -> Self {
        Head { seq: 0, hash: GENESIS.to_string() }
    }
}

impl From<&Checkpoint> for Head {
    fn from(c: &Checkpoint) -> Head {
        Head { seq: c.seq, hash: c.hash.clone() }
    }
}

/// The hash of event `event` at `seq` after `prev`.
pub fn link(prev: &str, seq: u64, event: &Event, key: Option<&[u8]>) -> String {
    let prev = hex::decode(prev).unwrap_or_default();
    let canonical = event.canonical();
    let parts: [&[u8]; 3] = [&prev, &seq.to_be_bytes(), &canonical];
    match key {
        Some(key) => {
            let mut keyed = vec![LINK_CONTEXT];
            keyed.extend(parts);
            hex::encode(hmac_sha256(key, &keyed))
        }
        None => {
            let mut h = Sha256::new();
            for p in parts {
                h.update(p);
            }
            hex::encode(h.finalize())
        }
    }
}

/// Seals `events` after `head`, in order; returns them and the new head.
pub fn seal(head: &Head, events: Vec<Event>, key: Option<&[u8]>) -> (Vec<Sealed>, Head) {
    let mut head = head.clone();
    let sealed = events
        .into_iter()
        .map(|event| {
            let seq = head.seq + 1;
            let hash = link(&head.hash, seq, &event, key);
            let prev = std::mem::replace(&mut head, Head { seq, hash: hash.clone() }).hash;
            Sealed { seq, prev, event, hash }
        })
        .collect();
    (sealed, head)
}

/// The order pending events are sealed in: by time, then request id,
/// then bytes, so that any sealer picks the same order.
pub fn seal_order(events: &mut [Event]) {
    events.sort_by_cached_key(|e| (e.time_ms, e.request_id.clone(), e.canonical()));
}

/// Why a chain does not verify, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    /// The first sequence number that is wrong (or missing).
    pub seq: u64,
    /// What is wrong with it.
    pub why: String,
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the chain breaks at sequence {}: {}", self.seq, self.why)
    }
}

/// What a verification found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Verified {
    /// Events checked.
    pub events: u64,
    /// Where the chain ends.
    pub head: Head,
    /// Where it started (after the checkpoint, if any).
    pub from: Head,
}

/// A verification in progress, one event at a time (an export is read as
/// a stream).
pub struct Verifier<'k> {
    key: Option<&'k [u8]>,
    head: Head,
    from: Head,
    events: u64,
    /// A checkpoint the chain started from, until an event attests it.
    unattested: Option<Head>,
}

impl<'k> Verifier<'k> {
    /// Verifies from `from` (the genesis, or a retention checkpoint: then a
    /// retention event in the chain must record it), with `key` if the
    /// chain is keyed.
    pub fn new(from: Head, key: Option<&'k [u8]>) -> Verifier<'k> {
        let unattested = (from.seq > 0).then(|| from.clone());
        Verifier { key, head: from.clone(), from, events: 0, unattested }
    }

    /// Verifies a stretch that starts inside the chain, at `from` (one
    /// segment: no retention event need attest where it starts).
    pub fn within(from: Head, key: Option<&'k [u8]>) -> Verifier<'k> {
        Verifier { key, head: from.clone(), from, events: 0, unattested: None }
    }

    /// Checks the next event.
    pub fn next(&mut self, e: &Sealed) -> Result<(), Broken> {
        let expected = self.head.seq + 1;
        let broken = |why: String| Err(Broken { seq: expected.min(e.seq.max(1)), why });
        if e.seq != expected {
            let why = match e.seq < expected {
                true => format!("sequence {} again or out of order (expected {expected})", e.seq),
                false => format!("sequence {expected} is missing (found {} next)", e.seq),
            };
            return Err(Broken { seq: expected, why });
        }
        if e.prev != self.head.hash {
            return broken("it does not link to its predecessor (deleted, inserted or reordered events)".into());
        }
        if let Some(key) = self.key {
            if !e.event.mac_is_valid(key) {
                return broken("its event MAC is missing or wrong (edited, or written without the key)".into());
            }
        }
        if link(&e.prev, e.seq, &e.event, self.key) != e.hash {
            let why = match self.key {
                Some(_) => "its hash is wrong (the event was edited, or the chain was computed without the key)",
                None => "its hash is wrong (the event was edited; or the chain is keyed: verify with the key)",
            };
            return broken(why.into());
        }
        if e.event.kind == Kind::Retention {
            if let (Some(c), Some(pending)) = (&e.event.checkpoint, &self.unattested) {
                if Head::from(c) == *pending {
                    self.unattested = None;
                }
            }
        }
        self.head = Head { seq: e.seq, hash: e.hash.clone() };
        self.events += 1;
        Ok(())
    }

    /// The end of the events: checks that they reach `published` (the head
    /// the server states), when given, and that a checkpoint started from
    /// was attested.
    pub fn finish(self, published: Option<&Head>) -> Result<Verified, Broken> {
        if let Some(c) = &self.unattested {
            let why = "the chain starts at a checkpoint that no retention event records".to_string();
            return Err(Broken { seq: c.seq + 1, why });
        }
        if let Some(p) = published {
            if p.seq > self.head.seq {
                let why = format!("the events end at {} but the published head is {}", self.head.seq, p.seq);
                return Err(Broken { seq: self.head.seq + 1, why });
            }
            if p.seq == self.head.seq && p.hash != self.head.hash {
                return Err(Broken { seq: p.seq, why: "the last event is not the published head".into() });
            }
        }
        Ok(Verified { events: self.events, head: self.head, from: self.from })
    }
}

/// Verifies `events` from `from` (see [`Verifier`]) against `published`.
pub fn verify<'a>(
    events: impl IntoIterator<Item = &'a Sealed>,
    from: Head,
    key: Option<&[u8]>,
    published: Option<&Head>,
) -> Result<Verified, Broken> {
    let mut verifier = Verifier::new(from, key);
    for e in events {
        verifier.next(e)?;
    }
    verifier.finish(published)
}
