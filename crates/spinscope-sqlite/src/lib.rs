//! Prepares Spin's default key-value store for spinscope: write-ahead
//! logging (below), and the one-time fold of the metrics shard records an
//! earlier spinscope left in it ([`shards`]).
//!
//! Spin keeps its default key-value store in one SQLite file,
//! `<state-dir>/sqlite_key_value.db`, behind one connection and one lock,
//! and sets no pragma on it: the file gets SQLite's default rollback
//! journal, so every write creates a journal file, fsyncs it, writes the
//! database, fsyncs that and deletes the journal. spinscope writes one
//! record per request, so that journal sets the pace of the whole app.
//!
//! Write-ahead logging is a property of the database file, not of the
//! connection: switched on once, every later connection (Spin's included)
//! commits by appending to the `-wal` file and fsyncing it once, with the
//! same durability (`synchronous=FULL`, SQLite's default, which Spin keeps).
//! [`prepare`] does that switch before Spin first opens the file;
//! `make up` and the end-to-end suite call it through the
//! `spinscope-sqlite` binary and this library. Measured on Spin 4.0.2
//! (docs/benchmark.md), it multiplies the store's write rate by 2.5 and
//! takes recording from the gateway's critical resource to a few percent of
//! its time.
//!
//! Before switching the journal, [`prepare`] folds the shard records
//! earlier versions wrote into the fold record ([`shards::fold_shards`]),
//! in one transaction; on a store without them it changes nothing.

pub mod shards;

use rusqlite::Connection;
use shards::{ShardFold, ShardFoldError};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The file Spin opens for the default store, relative to its state
/// directory (`.spin` unless `spin up --state-dir` says otherwise).
pub const FILE_NAME: &str = "sqlite_key_value.db";

/// Spin's own table, as `crates/key-value-spin` creates it (with `IF NOT
/// EXISTS`, so Spin's statement finds it and changes nothing).
pub const SPIN_SCHEMA: &str = "CREATE TABLE IF NOT EXISTS spin_key_value (
    store TEXT NOT NULL,
    key   TEXT NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (store, key)
)";

/// How long to wait for a running Spin's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// What [`prepare`] found and left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// The database file.
    pub path: PathBuf,
    /// The journal mode it had (`wal` when it was already prepared; a new
    /// file has SQLite's default, `delete`).
    pub previous_mode: String,
    /// Whether the file was created now.
    pub created: bool,
    /// The shard records of earlier versions folded now, and those left.
    pub shards: ShardFold,
}

#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error("cannot create the state directory {path}: {source}")]
    StateDir { path: PathBuf, source: std::io::Error },
    #[error("cannot open {path}: {source}")]
    Open { path: PathBuf, source: rusqlite::Error },
    #[error("{path} is not a database Spin's key-value store can use: {source}")]
    Schema { path: PathBuf, source: rusqlite::Error },
    #[error("cannot fold the metrics shard records of {path} (nothing changed): {source}")]
    Shards { path: PathBuf, source: ShardFoldError },
    #[error("cannot switch {path} to write-ahead logging: {source}")]
    Switch { path: PathBuf, source: rusqlite::Error },
    #[error("{path} is locked by another process (a running Spin?): stop it and run this again")]
    Busy { path: PathBuf },
    #[error(
        "{path} stayed in journal mode {mode}: this file system does not support write-ahead logging \
         (e.g. a network file system); Spin keeps working on it with its default journal, at its slower write rate"
    )]
    Unsupported { path: PathBuf, mode: String },
}

/// Puts `<state_dir>/sqlite_key_value.db` in write-ahead logging mode,
/// creating the directory, the file and Spin's table when they do not exist
/// yet, after folding the shard records of earlier versions into the fold
/// record ([`shards::fold_shards`]). Idempotent; every count is kept.
pub fn prepare(state_dir: &Path) -> Result<Prepared, PrepareError> {
    prepare_waiting(state_dir, BUSY_TIMEOUT)
}

/// [`prepare`], waiting at most `busy` for another process's lock.
fn prepare_waiting(state_dir: &Path, busy: Duration) -> Result<Prepared, PrepareError> {
    std::fs::create_dir_all(state_dir)
        .map_err(|source| PrepareError::StateDir { path: state_dir.to_path_buf(), source })?;
    let path = state_dir.join(FILE_NAME);
    let created = !path.exists();
    let mut conn = open(&path, busy)?;
    let schema = |source| classify(&path, source, |path, source| PrepareError::Schema { path, source });
    conn.execute_batch(SPIN_SCHEMA).map_err(schema)?;
    let shards = shards::fold_shards(&mut conn).map_err(|source| match source {
        ShardFoldError::Sql(source) => {
            classify(&path, source, |path, source| PrepareError::Shards { path, source: ShardFoldError::Sql(source) })
        }
        other => PrepareError::Shards { path: path.clone(), source: other },
    })?;
    let previous_mode = mode(&conn, "PRAGMA journal_mode").map_err(schema)?;
    let now = mode(&conn, "PRAGMA journal_mode=WAL")
        .map_err(|source| classify(&path, source, |path, source| PrepareError::Switch { path, source }))?;
    if now != "wal" {
        return Err(PrepareError::Unsupported { path, mode: now });
    }
    Ok(Prepared { path, previous_mode, created, shards })
}

/// The journal mode of `<state_dir>/sqlite_key_value.db`, without changing
/// anything (the file must exist).
pub fn journal_mode(state_dir: &Path) -> Result<String, PrepareError> {
    let path = state_dir.join(FILE_NAME);
    let conn = Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|source| PrepareError::Open { path: path.clone(), source })?;
    mode(&conn, "PRAGMA journal_mode").map_err(|source| PrepareError::Schema { path, source })
}

fn open(path: &Path, busy: Duration) -> Result<Connection, PrepareError> {
    let conn = Connection::open(path).map_err(|source| PrepareError::Open { path: path.to_path_buf(), source })?;
    conn.busy_timeout(busy).map_err(|source| PrepareError::Open { path: path.to_path_buf(), source })?;
    Ok(conn)
}

/// A locked file is [`PrepareError::Busy`] whatever statement met the lock;
/// any other failure is what `other` makes of it.
fn classify(
    path: &Path,
    source: rusqlite::Error,
    other: impl FnOnce(PathBuf, rusqlite::Error) -> PrepareError,
) -> PrepareError {
    match source.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
            PrepareError::Busy { path: path.to_path_buf() }
        }
        _ => other(path.to_path_buf(), source),
    }
}

fn mode(conn: &Connection, pragma: &str) -> rusqlite::Result<String> {
    conn.query_row(pragma, [], |row| row.get::<_, String>(0)).map(|m| m.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_state_directory_gets_a_wal_database_with_spins_table() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("nested/.spin");
        let prepared = prepare(&state).unwrap();
        assert!(prepared.created);
        assert_eq!(prepared.previous_mode, "delete");
        assert_eq!(journal_mode(&state).unwrap(), "wal");
        let conn = Connection::open(state.join(FILE_NAME)).unwrap();
        // Spin's own statement and its upsert run unchanged on the file.
        conn.execute_batch(SPIN_SCHEMA).unwrap();
        conn.execute(
            "INSERT INTO spin_key_value (store, key, value) VALUES ('default', 'k', x'01')
             ON CONFLICT(store, key) DO UPDATE SET value = excluded.value",
            [],
        )
        .unwrap();
    }

    #[test]
    fn an_existing_store_keeps_its_data_and_a_second_run_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        {
            let conn = Connection::open(dir.path().join(FILE_NAME)).unwrap();
            conn.execute_batch(SPIN_SCHEMA).unwrap();
            conn.execute("INSERT INTO spin_key_value VALUES ('default', 'kept', x'2a')", []).unwrap();
        }
        let first = prepare(dir.path()).unwrap();
        assert!(!first.created);
        assert_eq!(first.previous_mode, "delete");
        let second = prepare(dir.path()).unwrap();
        assert_eq!(second.previous_mode, "wal");
        let conn = Connection::open(dir.path().join(FILE_NAME)).unwrap();
        let v: Vec<u8> =
            conn.query_row("SELECT value FROM spin_key_value WHERE key = 'kept'", [], |r| r.get(0)).unwrap();
        assert_eq!(v, vec![0x2a]);
    }

    #[test]
    fn prepare_folds_an_earlier_versions_shard_records_once() {
        use spinscope::keys;
        use spinscope::metrics::{FoldRecord, Limits, Recorder, Snapshot};
        let record = |created: u64| {
            let mut r = Recorder::new();
            r.sessions(created, 0);
            let mut s = Snapshot::new();
            s.apply(&r, &Limits::UNLIMITED);
            s.encode()
        };
        let dir = tempfile::tempdir().unwrap();
        {
            let conn = Connection::open(dir.path().join(FILE_NAME)).unwrap();
            conn.execute_batch(SPIN_SCHEMA).unwrap();
            let insert = "INSERT INTO spin_key_value VALUES ('default', ?1, ?2)";
            conn.execute(insert, rusqlite::params![keys::metrics_shard(0), record(2)]).unwrap();
            conn.execute(insert, rusqlite::params![keys::metrics_shard(7), record(3)]).unwrap();
            conn.execute(insert, rusqlite::params![keys::metrics_obs(&"a".repeat(32)), record(1)]).unwrap();
        }
        let first = prepare(dir.path()).unwrap();
        assert_eq!((first.shards.folded, first.previous_mode.as_str()), (2, "delete"));
        let conn = Connection::open(dir.path().join(FILE_NAME)).unwrap();
        let fold: Vec<u8> = conn
            .query_row("SELECT value FROM spin_key_value WHERE key = ?1", [keys::METRICS_FOLD], |r| r.get(0))
            .unwrap();
        let fold = FoldRecord::decode(&fold).unwrap();
        assert_eq!(fold.snapshot.counter(&spinscope::metrics::catalog::SESSIONS_CREATED_TOTAL, &[]), 5);
        let left: i64 = conn.query_row("SELECT count(*) FROM spin_key_value", [], |r| r.get(0)).unwrap();
        assert_eq!(left, 3, "the fold record, its claim and the pending observation record");
        assert_eq!(prepare(dir.path()).unwrap().shards, shards::ShardFold::default(), "nothing left to fold");
    }

    #[test]
    fn a_file_that_is_not_a_database_is_refused_and_left_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, b"not a database, but somebody's file").unwrap();
        let err = prepare(dir.path()).unwrap_err();
        assert!(matches!(err, PrepareError::Schema { .. }), "{err}");
        assert!(err.to_string().contains("not a database Spin's key-value store can use"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), b"not a database, but somebody's file");
    }

    #[test]
    fn a_store_another_process_holds_locked_is_refused_and_left_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let holder = Connection::open(dir.path().join(FILE_NAME)).unwrap();
        holder.execute_batch(SPIN_SCHEMA).unwrap();
        holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
        let err = prepare_waiting(dir.path(), Duration::from_millis(50)).unwrap_err();
        assert!(matches!(err, PrepareError::Busy { .. }), "{err}");
        assert!(err.to_string().contains("locked by another process"), "{err}");
        holder.execute_batch("COMMIT").unwrap();
        assert_eq!(journal_mode(dir.path()).unwrap(), "delete");
    }

    #[test]
    fn a_missing_store_is_an_error_for_journal_mode() {
        let dir = tempfile::tempdir().unwrap();
        let err = journal_mode(dir.path()).unwrap_err();
        assert!(err.to_string().contains(FILE_NAME), "{err}");
    }
}
