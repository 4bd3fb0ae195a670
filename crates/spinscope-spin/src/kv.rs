//! Key-value storage over `wasi:keyvalue` (draft2), as Spin provides it.
//!
//! `store` (open/get/set/delete/exists, and `list-keys` once per handle),
//! `atomics` (increment, compare-and-swap of existing keys) and, for the
//! fold of observation records on SQLite, `batch` `get-many` and
//! `delete-many` (Spin's Redis `get-many` takes keys as `KEYS` patterns:
//! never used there).

use crate::bindings::wasi::keyvalue::{atomics, batch, store};
use spinscope::read_ahead::{self, ReadAhead};

/// An open key-value store (a Spin key-value store label).
pub struct Store {
    bucket: store::Bucket,
    /// Every key, listed at most once per handle (see [`Store::keys_with_prefix`]).
    listing: std::cell::OnceCell<Vec<String>>,
    /// The counter encoding, read at most once per handle (see [`Store::encoding`]).
    encoding: std::cell::OnceCell<Encoding>,
    /// Values read ahead of their use (see [`Store::read_ahead`]).
    ahead: std::cell::RefCell<ReadAhead>,
}

/// Keys per batch call: bounds what one call reads into memory.
const BATCH: usize = 256;

/// What [`Store::swap_existing`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Swap {
    /// The new value replaced the one `f` saw.
    Written,
    /// The key does not exist: nothing was written (see [`Store::swap_existing`]).
    Absent,
    /// `f` declined (returned `None`): nothing was written.
    Declined,
    /// Another writer got in first: nothing was written.
    Lost,
}

/// How the store encodes the counters `increment` keeps, which tells what
/// its compare-and-swap can be trusted with (docs/metrics.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// 8 bytes little-endian: Spin's SQLite store (files or in memory),
    /// whose swap of an existing key is a sound `UPDATE ... WHERE value = old`.
    LittleEndian,
    /// Decimal text: Spin's Redis store, whose swap reports failure even
    /// when applied and opens a connection each time: never to be used.
    Decimal,
}

impl Encoding {
    /// Its name in records that carry it (`sessions::Session`).
    pub fn tag(self) -> &'static str {
        match self {
            Encoding::LittleEndian => "le",
            Encoding::Decimal => "decimal",
        }
    }

    /// The encoding a [`Encoding::tag`] names.
    pub fn from_tag(tag: &str) -> Option<Encoding> {
        match tag {
            "le" => Some(Encoding::LittleEndian),
            "decimal" => Some(Encoding::Decimal),
            _ => None,
        }
    }
}

impl Store {
    /// Opens the store labelled `name`; the component must be granted it in `spin.toml`.
    pub fn open(name: &str) -> Result<Store, KvError> {
        let bucket = store::open(name)?;
        Ok(Store { bucket, listing: Default::default(), encoding: Default::default(), ahead: Default::default() })
    }

    /// Opens the `"default"` store.
    pub fn open_default() -> Result<Store, KvError> {
        Store::open("default")
    }

    /// The value of `key`, `None` when it is absent.
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        if let Some(known) = self.ahead.borrow_mut().take(key) {
            return Ok(known);
        }
        Ok(self.bucket.get(key)?)
    }

    /// Reads `keys` in one `get-many` for the first read of each that
    /// follows ([`Store::get`], [`Store::get_many`]), unless the request
    /// writes it first (`spinscope::read_ahead`).
    /// For a store known to read many keys in one call; where it cannot,
    /// the read fails, nothing is kept, and each key is read when asked.
    /// Spin's Redis store refuses the read, which tells its encoding
    /// (decimal). Returns whether the keys were read.
    pub fn read_ahead(&self, keys: &[String]) -> bool {
        if !read_ahead::can_batch(keys) {
            return false;
        }
        match batch::get_many(&self.bucket, keys) {
            Ok(found) => {
                let found = found.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))).collect();
                self.ahead.borrow_mut().keep(keys, found);
                true
            }
            Err(store::Error::Other(message)) if read_ahead::refused_by_redis(&message) => {
                self.learn_encoding(Encoding::Decimal);
                false
            }
            Err(_) => false,
        }
    }

    fn forget(&self, key: &str) {
        self.ahead.borrow_mut().forget(key);
    }

    /// Sets `key` to `value`, replacing any previous value.
    pub fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError> {
        self.forget(key);
        Ok(self.bucket.set(key, value)?)
    }

    /// Deletes `key`; deleting a missing key is not an error.
    pub fn delete(&self, key: &str) -> Result<(), KvError> {
        self.forget(key);
        Ok(self.bucket.delete(key)?)
    }

    /// The values of those of `keys` that exist (one `SELECT ... IN` per
    /// chunk on Spin's SQLite store). Only for SQLite: Spin's Redis
    /// `get-many` treats keys as patterns.
    pub fn get_many(&self, keys: &[String]) -> Result<Vec<(String, Vec<u8>)>, KvError> {
        if let Some(known) = self.ahead.borrow_mut().take_many(keys) {
            return Ok(known);
        }
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(BATCH) {
            let found = batch::get_many(&self.bucket, chunk)?;
            out.extend(found.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
        }
        Ok(out)
    }

    /// The values of those of `keys` that exist, one `get` each: what works
    /// on every store (where [`Store::get_many`] is for SQLite only).
    pub fn get_each(&self, keys: &[String]) -> Result<Vec<(String, Vec<u8>)>, KvError> {
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            if let Some(value) = self.get(key)? {
                out.push((key.clone(), value));
            }
        }
        Ok(out)
    }

    /// Sets every pair: on Spin's SQLite store one transaction (one
    /// commit) per chunk, on Redis one `MSET`, where `set` costs one each.
    pub fn set_many(&self, pairs: Vec<(String, Vec<u8>)>) -> Result<(), KvError> {
        pairs.iter().for_each(|(key, _)| self.forget(key));
        let mut pairs = pairs.into_iter().peekable();
        while pairs.peek().is_some() {
            let chunk: Vec<(String, Vec<u8>)> = pairs.by_ref().take(BATCH).collect();
            batch::set_many(&self.bucket, &chunk)?;
        }
        Ok(())
    }

    /// Deletes `keys`: on Spin's SQLite store one `DELETE ... IN` statement
    /// (one commit, one fsync) per chunk, where `delete` costs one each.
    pub fn delete_many(&self, keys: &[String]) -> Result<(), KvError> {
        keys.iter().for_each(|key| self.forget(key));
        for chunk in keys.chunks(BATCH) {
            batch::delete_many(&self.bucket, chunk)?;
        }
        Ok(())
    }

    /// Whether `key` is present.
    pub fn exists(&self, key: &str) -> Result<bool, KvError> {
        Ok(self.bucket.exists(key)?)
    }

    /// Every key starting with `prefix`. Only for rare requests (scrapes,
    /// `initialize`): `list-keys` reads the whole key space (Redis: `KEYS *`),
    /// so the listing is taken once per handle and shared by every caller of
    /// the request. Keys created after it are not in it, and keys deleted
    /// since still are: callers read each key and skip what is gone.
    pub fn keys_with_prefix(&self, prefix: &str) -> Result<Vec<String>, KvError> {
        let all = match self.listing.get() {
            Some(all) => all,
            None => {
                let listed = self.list_all()?;
                self.listing.get_or_init(|| listed)
            }
        };
        Ok(all.iter().filter(|k| k.starts_with(prefix)).cloned().collect())
    }

    fn list_all(&self) -> Result<Vec<String>, KvError> {
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let page = self.bucket.list_keys(cursor.as_deref())?;
            out.extend(page.keys);
            match page.cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(out),
            }
        }
    }

    /// Atomically adds `delta` to the integer at `key` (missing counts as 0)
    /// and returns the new value.
    pub fn increment(&self, key: &str, delta: i64) -> Result<i64, KvError> {
        self.forget(key);
        Ok(atomics::increment(&self.bucket, key, delta)?)
    }

    /// One compare-and-swap of a key that exists: `f` sees the current
    /// value and returns the new one (or `None` to write nothing).
    ///
    /// A missing key is never swapped: on Spin's SQLite store a swap whose
    /// old value was absent is an unconditional upsert, so two creators
    /// would both "succeed" and one write would be lost. Create keys with
    /// [`Store::claim`] instead. Only sound where [`Encoding::LittleEndian`].
    pub fn swap_existing(&self, key: &str, f: impl FnOnce(&[u8]) -> Option<Vec<u8>>) -> Result<Swap, KvError> {
        self.forget(key);
        let cas = atomics::Cas::new(&self.bucket, key)?;
        let Some(current) = cas.current()? else {
            return Ok(Swap::Absent);
        };
        let Some(new_value) = f(&current) else {
            return Ok(Swap::Declined);
        };
        match atomics::swap(cas, &new_value) {
            Ok(()) => Ok(Swap::Written),
            Err(atomics::CasError::CasFailed(_)) => Ok(Swap::Lost),
            Err(atomics::CasError::StoreError(e)) => Err(e.into()),
        }
    }

    /// Whether this caller is the first to claim `claim_key`: `increment`
    /// is atomic on every Spin store, so of any number of concurrent
    /// callers exactly one sees 1. The winner creates what the claim
    /// guards; a winner that dies before doing so leaves it uncreated.
    pub fn claim(&self, claim_key: &str) -> Result<bool, KvError> {
        Ok(self.increment(claim_key, 1)? == 1)
    }

    /// Takes the store's encoding from a record of this store that carries
    /// it (written by code that had [`Store::encoding`]), so that
    /// [`Store::encoding`] needs no read of its own. The first one known stays.
    pub fn learn_encoding(&self, encoding: Encoding) {
        let _ = self.encoding.set(encoding);
    }

    /// The store's counter encoding, read from a marker counter
    /// ([`spinscope::keys::STORE_ENCODING`]) that the first caller ever
    /// creates: one `get` per handle after that (it never changes).
    pub fn encoding(&self) -> Result<Encoding, KvError> {
        if let Some(known) = self.encoding.get() {
            return Ok(*known);
        }
        let key = spinscope::keys::STORE_ENCODING;
        let bytes = match self.get(key)? {
            Some(bytes) => bytes,
            None => {
                self.increment(key, 1)?;
                self.get(key)?.unwrap_or_default()
            }
        };
        let decimal = !bytes.is_empty() && bytes.iter().all(|b| b.is_ascii_digit() || *b == b'-');
        Ok(*self.encoding.get_or_init(|| if decimal { Encoding::Decimal } else { Encoding::LittleEndian }))
    }
}

/// A key-value store error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KvError {
    /// No store with that label is configured.
    #[error("no such key-value store")]
    NoSuchStore,
    /// The store is not granted to this component in `spin.toml`.
    #[error("access to the key-value store denied (is it in the component's key_value_stores?)")]
    AccessDenied,
    /// Any other error reported by the host.
    #[error("key-value store error: {0}")]
    Other(String),
}

impl From<store::Error> for KvError {
    fn from(e: store::Error) -> Self {
        match e {
            store::Error::NoSuchStore => KvError::NoSuchStore,
            store::Error::AccessDenied => KvError::AccessDenied,
            store::Error::Other(msg) => KvError::Other(msg),
        }
    }
}
