//! Spin's SQLite key-value store (`crates/key-value-spin/src/store.rs`):
//! table `spin_key_value(store, key, value)`, one connection behind one
//! mutex, SQLite's default rollback journal and synchronous mode (every
//! write commits with an fsync), counters as 8-byte little-endian i64.
//! Calls block the worker thread the way Spin's do (`block_in_place`).
//!
//! Compare-and-swap is Spin's, quirk included: `swap` after a `current` that
//! saw a value is `UPDATE ... WHERE value = <seen>` (no row changed: cas
//! failed), but after a `current` that saw no value (or with no `current` at
//! all) it is an unconditional upsert that always succeeds, so two handles
//! that both saw the key absent both "succeed" and the later write wins.
//! One difference: Spin panics when `increment` finds a value that is not 8
//! bytes (and the panic poisons the connection's mutex, so every later call
//! on that file panics too); here that `increment` returns an error.

use super::{Cas, KvError, KvResult, Store, SwapError};
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
        with_conn(&self.conn, f)
    }
}

fn with_conn<T>(conn: &Mutex<Connection>, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> KvResult<T> {
    tokio::task::block_in_place(|| {
        let mut conn = conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut conn).map_err(KvError::other)
    })
}

/// The keys of a batch call as one JSON array parameter: Spin binds them as
/// an `rarray`, `json_each` gives SQLite the same `key IN (set)` query (found
/// rows only, in key order, each once).
fn json_keys(keys: &[String]) -> String {
    serde_json::to_string(keys).expect("strings serialize")
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
            let value = match read(&tx, &self.name, key)? {
                None => 0i64,
                Some(bytes) => match <[u8; 8]>::try_from(bytes.as_slice()) {
                    Ok(le) => i64::from_le_bytes(le),
                    Err(_) => return Ok(Err(bytes.len())),
                },
            };
            // Spin adds with `+` in a release build: wrapping.
            let new = value.wrapping_add(delta);
            tx.prepare_cached(UPSERT)?.execute(params![self.name, key, new.to_le_bytes()])?;
            tx.commit()?;
            Ok(Ok(new))
        })?;
        result.map_err(|len| {
            KvError::Other(format!(
                "key '{key}' holds {len} bytes, not an 8-byte little-endian counter \
                 (Spin 4.0.2 panics here and poisons the store until restart)"
            ))
        })
    }

    async fn new_compare_and_swap(&self, key: &str) -> KvResult<Arc<dyn Cas>> {
        Ok(Arc::new(SqliteCas {
            conn: self.conn.clone(),
            name: self.name.clone(),
            key: key.to_string(),
            seen: Mutex::new(None),
        }))
    }

    async fn get_many(&self, keys: Vec<String>) -> KvResult<Vec<(String, Option<Vec<u8>>)>> {
        self.with_conn(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT key, value FROM spin_key_value
                 WHERE store=$1 AND key IN (SELECT value FROM json_each($2))",
            )?;
            let rows = stmt.query_map(params![self.name, json_keys(&keys)], |row| Ok((row.get(0)?, row.get(1)?)))?;
            rows.collect()
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
            c.prepare_cached("DELETE FROM spin_key_value WHERE store=$1 AND key IN (SELECT value FROM json_each($2))")?
                .execute(params![self.name, json_keys(&keys)])
                .map(drop)
        })
    }
}

/// Spin's SQLite `CompareAndSwap`: the value `current` saw, and the swap rule
/// that depends on it.
struct SqliteCas {
    conn: Arc<Mutex<Connection>>,
    name: String,
    key: String,
    seen: Mutex<Option<Vec<u8>>>,
}

#[async_trait]
impl Cas for SqliteCas {
    async fn current(&self) -> KvResult<Option<Vec<u8>>> {
        let value = with_conn(&self.conn, |c| read(c, &self.name, &self.key))?;
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).clone_from(&value);
        Ok(value)
    }

    async fn swap(&self, value: Vec<u8>) -> Result<(), SwapError> {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let changed = with_conn(&self.conn, |c| match seen {
            Some(old) => c
                .prepare_cached("UPDATE spin_key_value SET value=$1 WHERE store=$2 AND key=$3 AND value=$4")?
                .execute(params![value, self.name, self.key, old]),
            // Spin's quirk: nothing seen, so nothing is compared.
            None => {
                let tx = c.transaction()?;
                let rows = tx.prepare_cached(UPSERT)?.execute(params![self.name, self.key, value])?;
                tx.commit()?;
                Ok(rows)
            }
        });
        match changed {
            Ok(1) => Ok(()),
            Ok(_) => Err(SwapError::CasFailed),
            Err(KvError::Other(e) | KvError::Panic(e)) => Err(SwapError::Other(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread")]
    async fn absent_key_cas_both_succeed_present_key_cas_compares() {
        let store = SqliteStore::open_memory("default").unwrap();
        // Spin's quirk: two handles that saw the key absent both swap.
        let (a, b) = (store.new_compare_and_swap("k").await.unwrap(), store.new_compare_and_swap("k").await.unwrap());
        assert_eq!(a.current().await.unwrap(), None);
        assert_eq!(b.current().await.unwrap(), None);
        assert!(b.swap(b"b".to_vec()).await.is_ok());
        assert!(a.swap(b"a".to_vec()).await.is_ok());
        assert_eq!(store.get("k").await.unwrap().as_deref(), Some(&b"a"[..]));
        // On a present key only the first of two swaps wins.
        let (a, b) = (store.new_compare_and_swap("k").await.unwrap(), store.new_compare_and_swap("k").await.unwrap());
        a.current().await.unwrap();
        b.current().await.unwrap();
        assert!(b.swap(b"b".to_vec()).await.is_ok());
        assert!(matches!(a.swap(b"x".to_vec()).await, Err(SwapError::CasFailed)));
        assert_eq!(store.get("k").await.unwrap().as_deref(), Some(&b"b"[..]));
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn increment_needs_an_8_byte_counter() {
        let store = SqliteStore::open_memory("default").unwrap();
        assert_eq!(store.increment("n", 2).await.unwrap(), 2);
        assert_eq!(store.get("n").await.unwrap(), Some(2i64.to_le_bytes().to_vec()));
        store.set("t", b"abc").await.unwrap();
        assert!(matches!(store.increment("t", 1).await, Err(KvError::Other(m)) if m.contains("3 bytes")));
        // Unlike Spin (a panic that poisons the store), the store carries on.
        assert_eq!(store.increment("n", 1).await.unwrap(), 3);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn get_many_returns_found_keys_in_key_order_once() {
        let store = SqliteStore::open_memory("default").unwrap();
        store.set_many(vec![("b".into(), b"2".to_vec()), ("a".into(), b"1".to_vec())]).await.unwrap();
        let got = store.get_many(vec!["b".into(), "zz".into(), "a".into(), "a".into()]).await.unwrap();
        assert_eq!(got, vec![("a".into(), Some(b"1".to_vec())), ("b".into(), Some(b"2".to_vec()))]);
        store.delete_many(vec!["a".into(), "zz".into()]).await.unwrap();
        assert_eq!(store.list_keys().await.unwrap(), vec!["b".to_string()]);
    }
}
