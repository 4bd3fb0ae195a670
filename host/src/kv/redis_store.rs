//! Redis key-value store, as Spin 4.0.2's `key-value-redis`
//! (`crates/key-value-redis/src/store.rs`), quirks included: values as plain
//! strings, counters through `INCRBY` (decimal text), `list-keys` as
//! `KEYS *` over the whole database, a `PING` after every `open`.
//!
//! Compare-and-swap sends what Spin sends. Each CAS handle opens a Redis
//! connection of its own; `current` is `WATCH key` + `GET key`; `swap` is
//! `MULTI` / `SET` / `EXEC` followed by `UNWATCH key`, which Redis refuses
//! (UNWATCH takes no argument). So every swap reports `cas-failed`, whether
//! or not `EXEC` applied the `SET` (it does when the watched key was not
//! written since `current`, or when there was no `current`), and a failed
//! swap opens one more connection for the handle it returns.
//!
//! `get-many` sends `KEYS k1 k2 ...` as Spin does: an error with two keys or
//! more; with one key, a glob pattern whose matching key names are read as
//! (key, value) pairs, and an odd number of matches is a panic on Spin (a
//! trap here).

use super::{Cas, KvError, KvResult, Store, SwapError};
use anyhow::Result;
use async_trait::async_trait;
use redis::aio::MultiplexedConnection;
use redis::AsyncCommands;
use std::sync::Arc;

pub struct RedisStore {
    client: redis::Client,
    conn: MultiplexedConnection,
}

impl RedisStore {
    pub async fn connect(url: &str) -> Result<Self> {
        let client = redis::Client::open(url)?;
        let conn = client.get_multiplexed_async_connection().await?;
        Ok(Self { client, conn })
    }

    fn conn(&self) -> MultiplexedConnection {
        self.conn.clone()
    }
}

#[async_trait]
impl Store for RedisStore {
    async fn after_open(&self) {
        // Spin pings and ignores the outcome.
        let _: redis::RedisResult<redis::Value> = redis::cmd("PING").query_async(&mut self.conn()).await;
    }

    async fn get(&self, key: &str) -> KvResult<Option<Vec<u8>>> {
        self.conn().get(key).await.map_err(KvError::other)
    }

    async fn set(&self, key: &str, value: &[u8]) -> KvResult<()> {
        self.conn().set(key, value).await.map_err(KvError::other)
    }

    async fn delete(&self, key: &str) -> KvResult<()> {
        self.conn().del(key).await.map_err(KvError::other)
    }

    async fn exists(&self, key: &str) -> KvResult<bool> {
        self.conn().exists(key).await.map_err(KvError::other)
    }

    async fn list_keys(&self) -> KvResult<Vec<String>> {
        self.conn().keys("*").await.map_err(KvError::other)
    }

    async fn increment(&self, key: &str, delta: i64) -> KvResult<i64> {
        self.conn().incr(key, delta).await.map_err(KvError::other)
    }

    async fn new_compare_and_swap(&self, key: &str) -> KvResult<Arc<dyn Cas>> {
        // A connection per CAS, as Spin opens (its WATCH must not leak into
        // the shared connection).
        let conn = self.client.get_multiplexed_async_connection().await.map_err(KvError::other)?;
        Ok(Arc::new(RedisCas { key: key.to_string(), conn }))
    }

    async fn get_many(&self, keys: Vec<String>) -> KvResult<Vec<(String, Option<Vec<u8>>)>> {
        // Spin: `.keys::<_, Vec<(String, Option<Vec<u8>>)>>(keys)`.
        let reply: redis::Value =
            redis::cmd("KEYS").arg(&keys).query_async(&mut self.conn()).await.map_err(KvError::other)?;
        let names = match reply {
            redis::Value::Array(items) | redis::Value::Set(items) => items,
            redis::Value::Nil => Vec::new(),
            other => return Err(KvError::Other(format!("unexpected KEYS reply {other:?}"))),
        };
        if names.len() % 2 == 1 {
            // redis-rs 0.32.5 hits `unreachable!()` pairing an odd-length array.
            return Err(KvError::Panic(format!(
                "get-many on Redis: KEYS {keys:?} matched {} keys, an odd number: Spin 4.0.2 panics \
                 here (redis-rs `unreachable!()` pairing them as (key, value))",
                names.len()
            )));
        }
        names
            .chunks_exact(2)
            .map(|pair| {
                let key: String = redis::from_redis_value(&pair[0]).map_err(KvError::other)?;
                let value: Option<Vec<u8>> = redis::from_redis_value(&pair[1]).map_err(KvError::other)?;
                Ok((key, value))
            })
            .collect()
    }

    async fn set_many(&self, pairs: Vec<(String, Vec<u8>)>) -> KvResult<()> {
        self.conn().mset(&pairs).await.map_err(KvError::other)
    }

    async fn delete_many(&self, keys: Vec<String>) -> KvResult<()> {
        self.conn().del(keys).await.map_err(KvError::other)
    }
}

/// Spin's Redis `CompareAndSwap`: a key and a connection of its own.
struct RedisCas {
    key: String,
    conn: MultiplexedConnection,
}

#[async_trait]
impl Cas for RedisCas {
    async fn current(&self) -> KvResult<Option<Vec<u8>>> {
        let mut conn = self.conn.clone();
        redis::cmd("WATCH").arg(&self.key).query_async::<()>(&mut conn).await.map_err(KvError::other)?;
        conn.get(&self.key).await.map_err(KvError::other)
    }

    async fn swap(&self, value: Vec<u8>) -> Result<(), SwapError> {
        let mut conn = self.conn.clone();
        // Spin parses the EXEC reply as `()`: an aborted transaction (nil)
        // looks like a successful one.
        let res: redis::RedisResult<()> = redis::pipe().atomic().set(&self.key, value).query_async(&mut conn).await;
        // Refused by Redis ("wrong number of arguments for 'unwatch'").
        redis::cmd("UNWATCH").arg(&self.key).query_async::<()>(&mut conn).await.map_err(|_| SwapError::CasFailed)?;
        res.map_err(|_| SwapError::CasFailed)
    }
}
