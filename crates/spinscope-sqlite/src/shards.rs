//! The one-time fold of the shard records earlier versions wrote.
//!
//! Before the fold record, the SQLite layout kept the metrics in up to 256
//! shard records (`spinscope:v1:metrics:shard:<n>`), each moved by a
//! compare-and-swap per request. Nothing in the app reads them any more. A
//! store an earlier build wrote may still hold them, so [`fold_shards`]
//! (run by [`crate::prepare`], before Spin opens the file) adds every one
//! that decodes into the fold record (`spinscope:v1:metrics:fold`, created
//! when absent, in the bytes the app writes) and deletes it with its claim
//! counter, all in one SQLite transaction: the counts move at once or not
//! at all, and a second run finds nothing to do. Shard records only ever
//! existed on SQLite stores (Redis keeps the counter layout).
//!
//! The shards are added without the series caps, as the exporter of those
//! versions merged them: the totals it showed are the totals kept. A shard
//! record that does not decode (a newer version's, or damaged) was never
//! counted by that exporter either; it is left as it is and reported.

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use spinscope::keys;
use spinscope::metrics::{FoldRecord, Snapshot};
use std::collections::BTreeMap;

/// What [`fold_shards`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShardFold {
    /// Shard records added into their store's fold record and deleted.
    pub folded: usize,
    /// Shard records that do not decode (`store`, `key`, reason): not
    /// counted, left in place.
    pub unreadable: Vec<(String, String, String)>,
}

/// Why the shards could not be folded; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum ShardFoldError {
    #[error(transparent)]
    Sql(#[from] rusqlite::Error),
    #[error("the fold record of store '{store}' does not decode ({reason}): shard records left as they are")]
    FoldRecord { store: String, reason: String },
}

/// Folds every decodable shard record of every store in the file into that
/// store's fold record and deletes it (see the module documentation). One
/// `IMMEDIATE` transaction: it waits for another writer's lock (the
/// connection's busy timeout) and changes nothing on error.
pub fn fold_shards(conn: &mut Connection) -> Result<ShardFold, ShardFoldError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut out = ShardFold::default();
    // Store label → (shard key, decoded record).
    let mut shards: BTreeMap<String, Vec<(String, Snapshot)>> = BTreeMap::new();
    {
        let mut rows = tx
            .prepare("SELECT store, key, value FROM spin_key_value WHERE key >= ?1 AND key < ?2 ORDER BY store, key")?;
        let mut rows = rows.query(params![keys::METRICS_SHARD_PREFIX, prefix_end(keys::METRICS_SHARD_PREFIX)])?;
        while let Some(row) = rows.next()? {
            let (store, key): (String, String) = (row.get(0)?, row.get(1)?);
            match Snapshot::decode(&bytes(row, 2)?) {
                Ok(snapshot) => shards.entry(store).or_default().push((key, snapshot)),
                Err(e) => out.unreadable.push((store, key, e.to_string())),
            }
        }
    }
    for (store, records) in shards {
        let current: Option<Vec<u8>> = tx
            .query_row(
                "SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2",
                params![store, keys::METRICS_FOLD],
                |row| bytes(row, 0),
            )
            .optional()?;
        let mut fold = match &current {
            Some(bytes) => FoldRecord::decode(bytes)
                .map_err(|e| ShardFoldError::FoldRecord { store: store.clone(), reason: e.to_string() })?,
            None => {
                // Created here: the claim says so to the app's folders (who
                // only create the record after claiming it).
                tx.execute(
                    "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                    params![store, keys::METRICS_FOLD_CLAIM, 1i64.to_le_bytes()],
                )?;
                FoldRecord::default()
            }
        };
        for (_, snapshot) in &records {
            fold.snapshot.merge(snapshot);
        }
        // A new generation, so the record's bytes never repeat (a folder's
        // compare-and-swap against the old bytes fails and reads again).
        fold.generation += 1;
        tx.execute(
            "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
             ON CONFLICT(store, key) DO UPDATE SET value = excluded.value",
            params![store, keys::METRICS_FOLD, fold.encode()],
        )?;
        for (key, _) in &records {
            let claim = key.replacen(keys::METRICS_SHARD_PREFIX, keys::METRICS_SHARD_CLAIM_PREFIX, 1);
            tx.execute("DELETE FROM spin_key_value WHERE store = ?1 AND key IN (?2, ?3)", params![store, key, claim])?;
        }
        out.folded += records.len();
    }
    tx.commit()?;
    Ok(out)
}

/// A value as Spin writes it (a blob), or as text.
fn bytes(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<Vec<u8>> {
    let value = row.get_ref(index)?;
    value
        .as_bytes()
        .map(<[u8]>::to_vec)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(index, value.data_type(), Box::new(e)))
}

/// The least string above every string starting with `prefix` (its last
/// byte, an ASCII `:`, plus one): `key >= prefix AND key < end` is the
/// prefix, by SQLite's byte-wise comparison of text.
fn prefix_end(prefix: &str) -> String {
    let mut end = prefix.to_string();
    let last = end.pop().expect("a non-empty prefix");
    end.push(char::from(last as u8 + 1));
    end
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SPIN_SCHEMA;
    use spinscope::metrics::catalog::{SESSIONS_ACTIVE, TOOL_CALLS_TOTAL, TOOL_CALL_DURATION_SECONDS};
    use spinscope::metrics::series::{ToolCall, ToolOutcome};
    use spinscope::metrics::{Limits, Recorder};

    const SUCCESS: [&str; 3] = ["sha256", "text-tools", "success"];

    /// A record of `calls` successful `sha256` calls and `sessions_active` moved by `sessions`.
    fn calls(calls: usize, sessions: i64) -> Snapshot {
        let mut r = Recorder::new();
        for _ in 0..calls {
            r.tool_call(ToolCall {
                tool: "sha256",
                component: "text-tools",
                outcome: ToolOutcome::Success,
                duration_s: 0.01,
            });
        }
        r.sessions(sessions.unsigned_abs(), sessions);
        let mut s = Snapshot::new();
        s.apply(&r, &Limits::UNLIMITED);
        s
    }

    fn store(rows: &[(&str, String, Vec<u8>)]) -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(SPIN_SCHEMA).unwrap();
        for (store, key, value) in rows {
            conn.execute("INSERT INTO spin_key_value VALUES (?1, ?2, ?3)", params![store, key, value]).unwrap();
        }
        conn
    }

    fn rows(conn: &Connection) -> Vec<(String, String, Vec<u8>)> {
        let mut stmt = conn.prepare("SELECT store, key, value FROM spin_key_value ORDER BY store, key").unwrap();
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap();
        rows.map(Result::unwrap).collect()
    }

    fn get(conn: &Connection, store: &str, key: &str) -> Option<Vec<u8>> {
        conn.query_row("SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2", params![store, key], |r| {
            r.get(0)
        })
        .optional()
        .unwrap()
    }

    /// What the exporter shows: the fold record plus every pending
    /// observation record it does not list as counted.
    fn exported(conn: &Connection, store: &str) -> Snapshot {
        let fold = FoldRecord::decode(&get(conn, store, keys::METRICS_FOLD).unwrap()).unwrap();
        let mut view = fold.snapshot.clone();
        for (s, key, value) in rows(conn) {
            match key.strip_prefix(keys::METRICS_OBS_PREFIX) {
                Some(id) if s == store && !fold.ids.contains(id) => view.merge(&Snapshot::decode(&value).unwrap()),
                _ => {}
            }
        }
        view
    }

    fn tool_calls(s: &Snapshot) -> u64 {
        s.counter(&TOOL_CALLS_TOTAL, &SUCCESS)
    }

    #[test]
    fn shard_records_are_folded_into_the_fold_record_once() {
        let listed = "0".repeat(32);
        let fold = FoldRecord {
            snapshot: calls(5, 1),
            generation: 7,
            ids: [listed.clone()].into_iter().collect(),
            audit: None,
        };
        let mut conn = store(&[
            ("default", keys::metrics_shard(0), calls(3, 2).encode()),
            ("default", keys::metrics_shard(5), calls(4, -1).encode()),
            ("default", format!("{}0", keys::METRICS_SHARD_CLAIM_PREFIX), 1i64.to_le_bytes().to_vec()),
            ("default", format!("{}5", keys::METRICS_SHARD_CLAIM_PREFIX), 1i64.to_le_bytes().to_vec()),
            ("default", keys::METRICS_FOLD.to_string(), fold.encode()),
            // Counted by the fold record, not yet deleted: stays, still not counted twice.
            ("default", keys::metrics_obs(&listed), calls(1, 0).encode()),
            // Pending: counted by readers beside the fold record.
            ("default", keys::metrics_obs(&"1".repeat(32)), calls(2, 0).encode()),
            ("default", keys::metrics_obs(&"2".repeat(32)), calls(1, 0).encode()),
            ("default", "spinscope:v1:session:abc".to_string(), b"{}".to_vec()),
        ]);
        let before = exported(&conn, "default");
        assert_eq!(tool_calls(&before), 5 + 2 + 1, "the fold record and pending records: shards are not read");

        let done = fold_shards(&mut conn).unwrap();
        assert_eq!(done, ShardFold { folded: 2, unreadable: vec![] });
        let after = exported(&conn, "default");
        assert_eq!(tool_calls(&after), 5 + 2 + 1 + 3 + 4, "the sum of everything");
        assert_eq!(after.gauge(&SESSIONS_ACTIVE, &[]), 1 + 2 - 1);
        let h = after.histogram(&TOOL_CALL_DURATION_SECONDS, &["sha256", "text-tools"]).unwrap();
        assert_eq!(h.count, 15);
        let record = FoldRecord::decode(&get(&conn, "default", keys::METRICS_FOLD).unwrap()).unwrap();
        assert_eq!(record.generation, 8, "a new generation: a folder's swap against the old bytes fails");
        assert_eq!(record.ids, fold.ids, "the records it counts stay listed");
        let keys: Vec<String> = rows(&conn).into_iter().map(|(_, k, _)| k).collect();
        assert!(!keys.iter().any(|k| k.contains(":metrics:shard")), "shard records and claims are gone: {keys:?}");
        assert_eq!(keys.iter().filter(|k| k.starts_with(keys::METRICS_OBS_PREFIX)).count(), 3, "left to the app");

        // A second run changes nothing.
        let table = rows(&conn);
        assert_eq!(fold_shards(&mut conn).unwrap(), ShardFold::default());
        assert_eq!(rows(&conn), table);
    }

    #[test]
    fn without_a_fold_record_one_is_created_as_the_app_would_and_claimed() {
        let mut conn = store(&[
            ("default", keys::metrics_shard(2), calls(3, 0).encode()),
            ("metrics", keys::metrics_shard(0), calls(6, 0).encode()),
            ("metrics", keys::metrics_shard(1), b"{\"v\":1,\"series\":[ not json".to_vec()),
            ("metrics", keys::metrics_shard(3), br#"{"v":3,"series":[]}"#.to_vec()),
        ]);
        let done = fold_shards(&mut conn).unwrap();
        assert_eq!(done.folded, 2);
        let unreadable: Vec<&str> = done.unreadable.iter().map(|(_, k, _)| k.as_str()).collect();
        assert_eq!(unreadable, [keys::metrics_shard(1), keys::metrics_shard(3)]);
        for (store, expected) in [("default", 3), ("metrics", 6)] {
            let bytes = get(&conn, store, keys::METRICS_FOLD).unwrap();
            let record = FoldRecord::decode(&bytes).unwrap();
            assert_eq!(tool_calls(&record.snapshot), expected, "{store}");
            let created = FoldRecord {
                snapshot: calls(expected as usize, 0),
                generation: 1,
                ids: Default::default(),
                audit: None,
            };
            assert_eq!(bytes, created.encode(), "generation 1, no ids, in the app's own encoding");
            assert_eq!(get(&conn, store, keys::METRICS_FOLD_CLAIM), Some(1i64.to_le_bytes().to_vec()));
        }
        // Unreadable shard records are left exactly as they were.
        assert_eq!(get(&conn, "metrics", &keys::metrics_shard(1)).unwrap(), b"{\"v\":1,\"series\":[ not json");
        let table = rows(&conn);
        assert_eq!(fold_shards(&mut conn).unwrap().folded, 0);
        assert_eq!(rows(&conn), table);
    }

    #[test]
    fn a_fold_record_that_does_not_decode_stops_the_fold_and_changes_nothing() {
        let mut conn = store(&[
            ("default", keys::metrics_shard(0), calls(3, 0).encode()),
            ("default", keys::METRICS_FOLD.to_string(), br#"{"v":3,"series":[]}"#.to_vec()),
        ]);
        let table = rows(&conn);
        let err = fold_shards(&mut conn).unwrap_err();
        assert!(err.to_string().contains("fold record of store 'default' does not decode"), "{err}");
        assert_eq!(rows(&conn), table);
    }

    #[test]
    fn a_store_without_shards_is_not_touched() {
        let mut conn = store(&[("default", keys::METRICS_FOLD.to_string(), FoldRecord::default().encode())]);
        let table = rows(&conn);
        assert_eq!(fold_shards(&mut conn).unwrap(), ShardFold::default());
        assert_eq!(rows(&conn), table);
        assert_eq!(prefix_end(keys::METRICS_SHARD_PREFIX), "spinscope:v1:metrics:shard;");
    }
}
