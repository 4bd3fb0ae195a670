//! What a host's default SQLite store says was done, for the benchmark:
//! the work committed, read from the store file while the host runs.
//!
//! The gateway answers a call before it records it, so the answers a
//! benchmark slice counts can run ahead of the recordings the store has
//! committed. Where the store sets the pace, the SQLite goal compares
//! what the store committed: tool calls recorded against increments.

use spinscope::keys;
use spinscope::metrics::catalog::TOOL_CALLS_TOTAL;
use spinscope::metrics::{FoldRecord, SeriesValue, Snapshot};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A count a row's work moves in the store.
#[derive(Debug, Clone)]
pub enum Committed {
    /// One counter (8 bytes little-endian) the row increments.
    Counter { db: PathBuf, key: String },
    /// Tool calls recorded in the metrics: the fold record's, plus those
    /// of the observation records it does not count yet.
    RecordedToolCalls { db: PathBuf },
}

impl Committed {
    /// A counter in the default store of the host whose state is `state_dir`.
    pub fn counter(state_dir: &Path, key: &str) -> Committed {
        Committed::Counter { db: state_dir.join(spinscope_sqlite::FILE_NAME), key: key.to_string() }
    }

    /// The recorded tool calls of the host whose state is `state_dir`.
    pub fn recorded_tool_calls(state_dir: &Path) -> Committed {
        Committed::RecordedToolCalls { db: state_dir.join(spinscope_sqlite::FILE_NAME) }
    }

    /// The count now (one read transaction), or why it cannot be read.
    pub fn read(&self) -> Result<u64, String> {
        let db = match self {
            Committed::Counter { db, .. } | Committed::RecordedToolCalls { db } => db,
        };
        let conn = rusqlite::Connection::open(db).map_err(|e| e.to_string())?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(|e| e.to_string())?;
        match self {
            Committed::Counter { key, .. } => {
                let value: Option<Vec<u8>> = conn
                    .query_row("SELECT value FROM spin_key_value WHERE store = 'default' AND key = ?1", [key], |r| {
                        r.get(0)
                    })
                    .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) })
                    .map_err(|e| e.to_string())?;
                Ok(value.and_then(|v| spinscope::metrics::decode_counter(&v)).unwrap_or(0).max(0) as u64)
            }
            Committed::RecordedToolCalls { .. } => {
                let mut stmt = conn
                    .prepare("SELECT key, value FROM spin_key_value WHERE store = 'default' AND key LIKE 'spinscope:v1:metrics:%'")
                    .map_err(|e| e.to_string())?;
                let rows: Vec<(String, Vec<u8>)> = stmt
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                    .and_then(|rows| rows.collect())
                    .map_err(|e| e.to_string())?;
                let fold = match rows.iter().find(|(k, _)| k == keys::METRICS_FOLD) {
                    Some((_, bytes)) => FoldRecord::decode(bytes).map_err(|e| e.to_string())?,
                    None => FoldRecord::default(),
                };
                let mut total = tool_calls(&fold.snapshot);
                for (key, bytes) in &rows {
                    let Some(id) = key.strip_prefix(keys::METRICS_OBS_PREFIX) else { continue };
                    if !fold.ids.contains(id) {
                        total += tool_calls(&Snapshot::decode(bytes).map_err(|e| e.to_string())?);
                    }
                }
                Ok(total)
            }
        }
    }
}

fn tool_calls(snapshot: &Snapshot) -> u64 {
    snapshot
        .series(&TOOL_CALLS_TOTAL)
        .map(|(_, value)| match value {
            SeriesValue::Counter(c) => *c,
            _ => 0,
        })
        .sum()
}
