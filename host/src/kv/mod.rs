//! Key-value stores behind `wasi:keyvalue@0.2.0-draft2`, as Spin 4.0.2
//! provides them, quirks included: the `default` store is SQLite in
//! `.spin/sqlite_key_value.db`, and a runtime config file can switch any
//! store to Redis. What each backend does, and where it deliberately differs
//! from Spin, is in docs/host.md ("Key-value stores").

mod redis_store;
mod sqlite;
pub mod wasi;

use anyhow::{bail, Context, Result};
use async_trait::async_trait;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

pub use redis_store::RedisStore;
pub use sqlite::SqliteStore;

/// A backend failure.
#[derive(Debug, Clone)]
pub enum KvError {
    /// What the guest sees as `error::other(message)`. Spin formats the
    /// backend's error with `{:?}`; so does [`KvError::other`].
    Other(String),
    /// Where Spin 4.0.2's host code panics: the guest traps and the request
    /// fails with a 500, as it does on Spin.
    Panic(String),
}

impl KvError {
    pub fn other(e: impl std::fmt::Debug) -> Self {
        KvError::Other(format!("{e:?}"))
    }
}

pub type KvResult<T> = std::result::Result<T, KvError>;

/// Why a compare-and-swap did not swap (Spin's `SwapError`).
#[derive(Debug, Clone)]
pub enum SwapError {
    /// The guest sees `cas-error::cas-failed` with a fresh handle.
    CasFailed,
    /// The guest sees `cas-error::store-error(other(message))`.
    Other(String),
}

/// One named store. Every call maps to the backend operations Spin 4.0.2
/// performs, with their cost and their quirks (docs/host.md, "Key-value
/// stores"): on SQLite each write is a transaction (an fsync) behind the one
/// connection's lock.
#[async_trait]
pub trait Store: Send + Sync {
    /// Runs after every `open` (Spin's Redis store sends a `PING`).
    async fn after_open(&self) {}
    async fn get(&self, key: &str) -> KvResult<Option<Vec<u8>>>;
    async fn set(&self, key: &str, value: &[u8]) -> KvResult<()>;
    async fn delete(&self, key: &str) -> KvResult<()>;
    async fn exists(&self, key: &str) -> KvResult<bool>;
    async fn list_keys(&self) -> KvResult<Vec<String>>;
    async fn increment(&self, key: &str, delta: i64) -> KvResult<i64>;
    /// A compare-and-swap handle on `key` (Spin's `new_compare_and_swap`).
    async fn new_compare_and_swap(&self, key: &str) -> KvResult<Arc<dyn Cas>>;
    /// Called with at least one key (the wasi layer answers `[]` itself).
    async fn get_many(&self, keys: Vec<String>) -> KvResult<Vec<(String, Option<Vec<u8>>)>>;
    async fn set_many(&self, pairs: Vec<(String, Vec<u8>)>) -> KvResult<()>;
    async fn delete_many(&self, keys: Vec<String>) -> KvResult<()>;
}

/// A compare-and-swap in progress (Spin's `Cas`): `current` reads the value
/// (and, on Redis, WATCHes the key); `swap` writes by the backend's rule.
#[async_trait]
pub trait Cas: Send + Sync {
    async fn current(&self) -> KvResult<Option<Vec<u8>>>;
    async fn swap(&self, value: Vec<u8>) -> Result<(), SwapError>;
}

/// Runtime config (`--runtime-config-file`), Spin's format:
/// `[key_value_store.NAME] type = "redis", url = "redis://..."` or
/// `type = "spin"` with an optional `path` for SQLite (in memory without);
/// `[[variables_provider]] type = "static", values = { ... }` (Spin's other
/// providers, vault and Azure, are refused: this host has none).
#[derive(Debug, Default, serde::Deserialize)]
pub struct RuntimeConfig {
    #[serde(default)]
    pub key_value_store: HashMap<String, StoreConfig>,
    #[serde(default, alias = "config_provider")]
    pub variables_provider: Vec<VariablesProvider>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum VariablesProvider {
    Static { values: std::collections::BTreeMap<String, String> },
}

#[derive(Debug, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StoreConfig {
    Redis { url: String },
    Spin { path: Option<String> },
}

impl RuntimeConfig {
    /// The values of the static providers, the first provider's winning.
    pub fn static_variables(&self) -> std::collections::BTreeMap<String, String> {
        let mut out = std::collections::BTreeMap::new();
        for VariablesProvider::Static { values } in &self.variables_provider {
            for (k, v) in values {
                out.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        out
    }

    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("cannot read runtime config {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("invalid runtime config {}", path.display()))
    }
}

/// The stores of an application, opened at start-up.
pub struct StoreManager {
    stores: HashMap<String, Arc<dyn Store>>,
}

impl StoreManager {
    /// Opens every store a component names: `default` is SQLite in the state
    /// dir unless the runtime config says otherwise; any other name must be
    /// configured, as on Spin.
    pub async fn open(
        names: impl IntoIterator<Item = String>,
        config: &RuntimeConfig,
        state_dir: &Path,
        base_dir: &Path,
    ) -> Result<Self> {
        let mut stores: HashMap<String, Arc<dyn Store>> = HashMap::new();
        let mut sqlite_by_path: HashMap<std::path::PathBuf, Arc<SqliteStore>> = HashMap::new();
        for name in names {
            if stores.contains_key(&name) {
                continue;
            }
            let store: Arc<dyn Store> = match config.key_value_store.get(&name) {
                Some(StoreConfig::Redis { url }) => Arc::new(
                    RedisStore::connect(url)
                        .await
                        .with_context(|| format!("key-value store '{name}': cannot connect to {url}"))?,
                ),
                // As on Spin: a `spin` store with a path is a SQLite file
                // (relative to the runtime config), without one it is an
                // in-memory SQLite database, gone when the process ends.
                Some(StoreConfig::Spin { path: Some(p) }) => {
                    sqlite_store(&mut sqlite_by_path, &base_dir.join(p), &name)?
                }
                Some(StoreConfig::Spin { path: None }) => Arc::new(SqliteStore::open_memory(&name)?),
                None if name == "default" => {
                    sqlite_store(&mut sqlite_by_path, &state_dir.join("sqlite_key_value.db"), &name)?
                }
                None => bail!("key-value store '{name}' is used by a component but not defined in the runtime config"),
            };
            stores.insert(name, store);
        }
        Ok(Self { stores })
    }

    pub fn get(&self, name: &str) -> Option<Arc<dyn Store>> {
        self.stores.get(name).cloned()
    }

    pub fn describe(&self) -> Vec<String> {
        let mut names: Vec<String> = self.stores.keys().cloned().collect();
        names.sort();
        names
    }
}

/// One SQLite file holds several stores (a `store` column), behind one
/// connection and one lock, like Spin's.
fn sqlite_store(
    by_path: &mut HashMap<std::path::PathBuf, Arc<SqliteStore>>,
    path: &Path,
    name: &str,
) -> Result<Arc<dyn Store>> {
    let shared = match by_path.get(path) {
        Some(s) => s.clone(),
        None => {
            let s = Arc::new(SqliteStore::open_file(path)?);
            by_path.insert(path.to_path_buf(), s.clone());
            s
        }
    };
    Ok(Arc::new(shared.named(name)))
}

#[cfg(test)]
mod runtime_config_tests {
    use super::*;

    #[test]
    fn static_variables_providers_are_read_and_others_refused() {
        let text = "[[variables_provider]]\ntype = \"static\"\nvalues = { a = \"1\" }\n\n[[variables_provider]]\ntype = \"static\"\nvalues = { a = \"2\", b = \"3\" }\n";
        let config: RuntimeConfig = toml::from_str(text).unwrap();
        let values = config.static_variables();
        assert_eq!(values.get("a").map(String::as_str), Some("1"));
        assert_eq!(values.get("b").map(String::as_str), Some("3"));
        let vault = "[[config_provider]]\ntype = \"vault\"\nurl = \"http://vault\"\n";
        let err = toml::from_str::<RuntimeConfig>(vault).unwrap_err().to_string();
        assert!(err.contains("vault"), "{err}");
    }
}
