//! The fold record: where the per-request observation records of the SQLite
//! layout end up (docs/metrics.md, "observation records and the fold").
//!
//! On SQLite each request writes its observations once, under a key of its
//! own (a [`Snapshot`] of that request alone, in the metrics record
//! encoding of [`super::record_codec`]). Whoever folds (the exporter on a
//! scrape, a gateway now and then) adds them into the one fold record and
//! then deletes them. The fold record is a metrics record with one more
//! member:
//!
//! ```text
//! {"v":2,"series":[…],"activity":{…},"fold":{"n":42,"ids":["9f…",…]}}
//! ```
//!
//! `n` counts the folds, so no two versions of the record are ever the same
//! bytes (the compare-and-swap that writes it compares bytes). `ids` are the
//! observation records the record holds whose deletion is not yet known to
//! have happened: those of its last fold, plus any earlier ones still found
//! in the store then. A record whose id is listed there is already counted
//! and is only deleted, never added again, so a folder that died between
//! writing the fold and deleting its records costs nothing twice.

use super::record_codec::DecodeError;
use super::snapshot::Snapshot;
use crate::audit::AuditState;
use serde::Deserialize;
use std::collections::BTreeSet;

/// The fold record: the folded totals and the bookkeeping that makes
/// folding idempotent (see the module documentation).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FoldRecord {
    /// Everything folded so far.
    pub snapshot: Snapshot,
    /// Folds so far: each write of the record has a new one.
    pub generation: u64,
    /// Observation records counted in `snapshot` that may still exist.
    pub ids: BTreeSet<String>,
    /// The audit chain the folds seal the records' events into
    /// (`spinscope_spin::audit`), once there has been one.
    pub audit: Option<AuditState>,
}

#[derive(Deserialize)]
struct RawFold {
    #[serde(default)]
    fold: Option<RawFoldState>,
    #[serde(default)]
    audit: Option<AuditState>,
}

#[derive(Deserialize)]
struct RawFoldState {
    n: u64,
    ids: Vec<String>,
}

impl FoldRecord {
    /// The record's bytes: its snapshot's record with the `fold` member last.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.snapshot.encode();
        out.pop(); // the record's closing brace
        out.extend_from_slice(format!(",\"fold\":{{\"n\":{},\"ids\":", self.generation).as_bytes());
        // Hex ids need no escaping; serde_json writes them exactly.
        let _ = serde_json::to_writer(&mut out, &self.ids);
        out.push(b'}');
        if let Some(audit) = &self.audit {
            out.extend_from_slice(b",\"audit\":");
            let _ = serde_json::to_writer(&mut out, audit);
        }
        out.push(b'}');
        out
    }

    /// Reads a fold record. A metrics record without `fold` reads as
    /// generation 0 with no ids.
    pub fn decode(bytes: &[u8]) -> Result<FoldRecord, DecodeError> {
        let snapshot = Snapshot::decode(bytes)?;
        let raw: RawFold = serde_json::from_slice(bytes).map_err(|e| DecodeError(e.to_string()))?;
        let (generation, ids) = raw.fold.map(|f| (f.n, f.ids.into_iter().collect())).unwrap_or_default();
        Ok(FoldRecord { snapshot, generation, ids, audit: raw.audit })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::snapshot::fixtures::*;

    #[test]
    fn the_fold_record_round_trips_and_reads_plain_records() {
        let record = FoldRecord {
            snapshot: call("a", "s1", 7),
            generation: 3,
            ids: ["00ff".to_string(), "abcd".to_string()].into_iter().collect(),
            audit: None,
        };
        let bytes = record.encode();
        assert!(bytes.ends_with(br#","fold":{"n":3,"ids":["00ff","abcd"]}}"#), "{}", String::from_utf8_lossy(&bytes));
        assert_eq!(FoldRecord::decode(&bytes).unwrap(), record);
        // The plain record decoder reads it too (it ignores `fold`).
        assert_eq!(Snapshot::decode(&bytes).unwrap(), record.snapshot);
        let empty = FoldRecord::default();
        assert_eq!(empty.encode(), br#"{"v":2,"series":[],"fold":{"n":0,"ids":[]}}"#);
        assert_eq!(FoldRecord::decode(br#"{"v":1,"series":[]}"#).unwrap(), empty);
        assert!(FoldRecord::decode(b"{").is_err());
        // The audit chain's state rides along, after `fold`.
        let with_audit = FoldRecord { audit: Some(AuditState::default()), ..record };
        let bytes = with_audit.encode();
        assert!(String::from_utf8_lossy(&bytes).contains(r#""fold":{"n":3,"ids":["00ff","abcd"]},"audit":{"#));
        assert_eq!(FoldRecord::decode(&bytes).unwrap(), with_audit);
    }
}
