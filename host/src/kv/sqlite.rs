//! Spin's SQLite key-value store (`crates/key-value-spin/src/store.rs`):
//! table `spin_key_value(store, key, value)`, one connection behind one
//! mutex, SQLite's default rollback journal and synchronous mode (every
//! write commits with an fsync), counters as 8-byte little-endian i64.
//! Calls block the worker thread the way Spin's do (`block_in_place`).

use super::{KvError, KvResult, Store};
use anyhow::{Context, Result};
use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;
use std::sync::{Arc, Mutex};

pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    name: String,
}

const UPSERT: &str = "INSERT INTO spin_key_value (store, key, value) VALUES ($1, $2, $3)
                      ON CONFLICT(store, key) DO UPDATE SET value=$3";

impl SqliteStore {
    pub fn open_file(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let conn = Connection::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        Self::with_schema(conn, "default")
    }

    /// An in-memory database (Spin's `type = "spin"` without a `path`): the
    /// same schema and lock, no fsync, nothing kept after the process.
    pub fn open_memory(name: &str) -> Result<Self> {
        Self::with_schema(Connection::open_in_memory()?, name)
    }

    fn with_schema(conn: Connection, name: &str) -> Result<Self> {
        conn.execute(
            "CREATE TABLE IF NOT EXISTS spin_key_value (
                store TEXT NOT NULL,
                key   TEXT NOT NULL,
                value BLOB NOT NULL,
                PRIMARY KEY (store, key)
            )",
            [],
        )?;
        Ok(Self { conn: Arc::new(Mutex::new(conn)), name: name.into() })
    }

    /// A view of the same file for another store name.
    pub fn named(&self, name: &str) -> Self {
        Self { conn: self.conn.clone(), name: name.to_string() }
    }

    fn with_conn<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> KvResult<T> {
        tokio::task::block_in_place(|| {
            let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut conn).map_err(KvError::other)
        })
    }
}

fn read(conn: &Connection, store: &str, key: &str) -> rusqlite::Result<Option<Vec<u8>>> {
    conn.prepare_cached("SELECT value FROM spin_key_value WHERE store=$1 AND key=$2")?
        .query_row(params![store, key], |row| row.get(0))
        .optional()
}

#[async_trait]
impl Store for SqliteStore {
    async fn get(&self, key: &str) -> KvResult<Option<Vec<u8>>> {
        self.with_conn(|c| read(c, &self.name, key))
    }

    async fn set(&self, key: &str, value: &[u8]) -> KvResult<()> {
        self.with_conn(|c| c.prepare_cached(UPSERT)?.execute(params![self.name, key, value]).map(drop))
    }

    async fn delete(&self, key: &str) -> KvResult<()> {
        self.with_conn(|c| {
            c.prepare_cached("DELETE FROM spin_key_value WHERE store=$1 AND key=$2")?
                .execute(params![self.name, key])
                .map(drop)
        })
    }

    async fn exists(&self, key: &str) -> KvResult<bool> {
        self.with_conn(|c| {
            c.prepare_cached("SELECT 1 FROM spin_key_value WHERE store=$1 AND key=$2 LIMIT 1")?
                .exists(params![self.name, key])
        })
    }

    async fn list_keys(&self) -> KvResult<Vec<String>> {
        self.with_conn(|c| {
            let mut stmt = c.prepare_cached("SELECT key FROM spin_key_value WHERE store=$1")?;
            let keys = stmt.query_map(params![self.name], |row| row.get(0))?;
            keys.collect()
        })
    }

    async fn increment(&self, key: &str, delta: i64) -> KvResult<i64> {
        let result = self.with_conn(|c| {
            let tx = c.transaction()?;
            let current = read(&tx, &self.name, key)?;
            let value = match current {
                None => Ok(0i64),
                Some(bytes) => bytes
                    .try_into()
                    .map(i64::from_le_bytes)
                    .map_err(|_| "value is not an 8-byte counter"),
            };
            let Ok(value) = value else { return Ok(Err(())) };
            let new = value.wrapping_add(delta);
            tx.prepare_cached(UPSERT)?.execute(params![self.name, key, new.to_le_bytes()])?;
            tx.commit()?;
            Ok(Ok(new))
        })?;
        result.map_err(|()| KvError(format!("key '{key}' does not hold a counter")))
    }

    async fn compare_and_swap(&self, key: &str, expected: Option<&[u8]>, new: &[u8]) -> KvResult<bool> {
        self.with_conn(|c| {
            let changed = match expected {
                Some(old) => c
                    .prepare_cached(
                        "UPDATE spin_key_value SET value=$1 WHERE store=$2 AND key=$3 AND value=$4",
                    )?
                    .execute(params![new, self.name, key, old])?,
                None => c
                    .prepare_cached(
                        "INSERT INTO spin_key_value (store, key, value) VALUES ($1, $2, $3)
                         ON CONFLICT(store, key) DO NOTHING",
                    )?
                    .execute(params![self.name, key, new])?,
            };
            Ok(changed == 1)
        })
    }

    async fn get_many(&self, keys: Vec<String>) -> KvResult<Vec<(String, Option<Vec<u8>>)>> {
        self.with_conn(|c| {
            keys.into_iter()
                .map(|k| read(c, &self.name, &k).map(|v| (k, v)))
                .collect()
        })
    }

    async fn set_many(&self, pairs: Vec<(String, Vec<u8>)>) -> KvResult<()> {
        self.with_conn(|c| {
            let tx = c.transaction()?;
            for (k, v) in &pairs {
                tx.prepare_cached(UPSERT)?.execute(params![self.name, k, v])?;
            }
            tx.commit()
        })
    }

    async fn delete_many(&self, keys: Vec<String>) -> KvResult<()> {
        self.with_conn(|c| {
            let tx = c.transaction()?;
            for k in &keys {
                tx.prepare_cached("DELETE FROM spin_key_value WHERE store=$1 AND key=$2")?
                    .execute(params![self.name, k])?;
            }
            tx.commit()
        })
    }
}
