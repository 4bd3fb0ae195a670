//! The sealed chain's bookkeeping: its head, its segments (the sealed
//! events, stored a batch per key), the retention checkpoint, and what the
//! last batch sealed (so that a sealer that died half-way seals nothing
//! twice). Sealing is a pure function of the state and the pending events;
//! the store adapter writes the segment and then the state, in one
//! compare-and-swap where the store has a sound one.

use super::chain::{seal, seal_order, Head, Sealed};
use super::event::{Checkpoint, Event, Kind};
use serde::{Deserialize, Serialize};

/// One sealed batch, stored under `keys::audit_segment(id)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentRef {
    /// Its key's id (random: two sealers racing never write one key).
    pub id: String,
    /// Its first sequence number.
    pub first: u64,
    /// Its last.
    pub last: u64,
    /// The hash of its last event (a checkpoint when it is dropped).
    pub last_hash: String,
}

/// The chain's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AuditState {
    /// The last sealed event.
    #[serde(default)]
    pub head: Head,
    /// Where the retained chain starts (the genesis until retention drops).
    #[serde(default)]
    pub checkpoint: Head,
    /// The retained segments, oldest first.
    #[serde(default)]
    pub segments: Vec<SegmentRef>,
    /// Events dropped by retention so far.
    #[serde(default)]
    pub dropped: u64,
    /// Pending records the last batch sealed that may still exist (the
    /// layout without a fold record deletes them after writing the state).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sealed_ids: Vec<String>,
}

/// One batch sealed: what to write, then what to delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealing {
    /// The new segment's events (the key is its [`SegmentRef::id`], the
    /// last of the new state's segments).
    pub events: Vec<Sealed>,
    /// Segments retention dropped: delete after the state is written.
    pub dropped_segments: Vec<String>,
    /// Events those held.
    pub dropped_events: u64,
}

impl AuditState {
    /// Events retained.
    pub fn retained(&self) -> u64 {
        self.segments.iter().map(|s| s.last + 1 - s.first).sum()
    }

    /// Seals `pending` (in [`seal_order`]) as segment `id`, keeping at
    /// most about `retention` events (whole segments are dropped, oldest
    /// first, never the newest; a drop is itself an event of the batch).
    /// `None` when there is nothing to seal.
    pub fn seal_batch(
        &mut self,
        mut pending: Vec<Event>,
        id: String,
        key: Option<&[u8]>,
        retention: u64,
        now_ms: u64,
    ) -> Option<Sealing> {
        if pending.is_empty() {
            return None;
        }
        seal_order(&mut pending);
        let mut dropped_segments = Vec::new();
        let mut dropped_events = 0;
        let incoming = pending.len() as u64 + 1;
        while !self.segments.is_empty() && self.retained() + incoming > retention {
            let oldest = self.segments.remove(0);
            dropped_events += oldest.last + 1 - oldest.first;
            self.checkpoint = Head { seq: oldest.last, hash: oldest.last_hash.clone() };
            dropped_segments.push(oldest.id);
        }
        if dropped_events > 0 {
            let mut retention_event = Event::new(Kind::Retention, now_ms);
            retention_event.count = Some(dropped_events);
            retention_event.checkpoint =
                Some(Checkpoint { seq: self.checkpoint.seq, hash: self.checkpoint.hash.clone() });
            pending.push(retention_event.sign(key));
            self.dropped += dropped_events;
        }
        let (events, head) = seal(&self.head, pending, key);
        let first = events.first().map(|e| e.seq).unwrap_or(head.seq);
        self.segments.push(SegmentRef { id, first, last: head.seq, last_hash: head.hash.clone() });
        self.head = head;
        Some(Sealing { events, dropped_segments, dropped_events })
    }
}

/// A segment's bytes: its events as JSON lines.
pub fn encode_segment(events: &[Sealed]) -> Vec<u8> {
    let mut out = Vec::with_capacity(events.len() * 400);
    for e in events {
        serde_json::to_writer(&mut out, e).expect("a sealed event serializes");
        out.push(b'\n');
    }
    out
}

/// A segment read back; a line that does not parse is an error naming it
/// (verification must see every event, not skip one).
pub fn decode_segment(bytes: &[u8]) -> Result<Vec<Sealed>, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
    text.lines()
        .filter(|l| !l.is_empty())
        .enumerate()
        .map(|(i, line)| serde_json::from_str(line).map_err(|e| format!("line {}: {e}", i + 1)))
        .collect()
}
