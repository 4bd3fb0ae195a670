//! Redis key-value store, as Spin's `key-value-redis`: values as plain
//! strings, counters through `INCRBY` (decimal text). Deliberate difference:
//! compare-and-swap runs as one Lua script on the shared connection, where
//! Spin opens a connection per CAS and uses WATCH/MULTI; the outcome
//! (swap only if unchanged) is the same.

use super::{KvError, KvResult, Store};
use anyhow::Result;
use async_trait::async_trait;
use redis::aio::MultiplexedConnection;
use redis::AsyncCommands;

pub struct RedisStore {
    conn: MultiplexedConnection,
}

const CAS_SCRIPT: &str = r#"
local cur = redis.call('GET', KEYS[1])
if ARGV[1] == '0' then
  if cur then return 0 end
else
  if (not cur) or cur ~= ARGV[2] then return 0 end
end
redis.call('SET', KEYS[1], ARGV[3])
return 1
"#;

impl RedisStore {
    pub async fn connect(url: &str) -> Result<Self> {
        let client = redis::Client::open(url)?;
        let conn = client.get_multiplexed_async_connection().await?;
        Ok(Self { conn })
    }

    fn conn(&self) -> MultiplexedConnection {
        self.conn.clone()
    }
}

#[async_trait]
impl Store for RedisStore {
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

    async fn compare_and_swap(&self, key: &str, expected: Option<&[u8]>, new: &[u8]) -> KvResult<bool> {
        let (has_expected, expected) = match expected {
            Some(e) => ("1", e),
            None => ("0", &[][..]),
        };
        let swapped: i64 = redis::Script::new(CAS_SCRIPT)
            .key(key)
            .arg(has_expected)
            .arg(expected)
            .arg(new)
            .invoke_async(&mut self.conn())
            .await
            .map_err(KvError::other)?;
        Ok(swapped == 1)
    }

    async fn get_many(&self, keys: Vec<String>) -> KvResult<Vec<(String, Option<Vec<u8>>)>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let values: Vec<Option<Vec<u8>>> =
            redis::cmd("MGET").arg(&keys).query_async(&mut self.conn()).await.map_err(KvError::other)?;
        Ok(keys.into_iter().zip(values).collect())
    }

    async fn set_many(&self, pairs: Vec<(String, Vec<u8>)>) -> KvResult<()> {
        if pairs.is_empty() {
            return Ok(());
        }
        self.conn().mset(&pairs).await.map_err(KvError::other)
    }

    async fn delete_many(&self, keys: Vec<String>) -> KvResult<()> {
        if keys.is_empty() {
            return Ok(());
        }
        self.conn().del(keys).await.map_err(KvError::other)
    }
}
