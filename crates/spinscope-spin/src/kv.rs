//! Key-value storage over `wasi:keyvalue` (draft2), as Spin provides it.
//!
//! Only `store` (open/get/set/delete/exists) and `atomics` (increment,
//! compare-and-swap) are used; `batch` and `list-keys` are deliberately not
//! wrapped so components never import them.

use std::fmt;

use crate::bindings::wasi::keyvalue::{atomics, store};

/// An open key-value store (a Spin key-value store label).
pub struct Store {
    bucket: store::Bucket,
}

/// What [`Store::update`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateOutcome {
    /// The new value was swapped in on attempt number `attempts` (from 1).
    Written { attempts: u32 },
    /// The closure returned `None`: nothing was written.
    Unchanged,
    /// Every one of the `attempts` lost a race with another writer; nothing was written.
    Contended { attempts: u32 },
}

impl Store {
    /// Opens the store labelled `name`; the component must be granted it in `spin.toml`.
    pub fn open(name: &str) -> Result<Store, KvError> {
        Ok(Store {
            bucket: store::open(name)?,
        })
    }

    /// Opens the `"default"` store.
    pub fn open_default() -> Result<Store, KvError> {
        Store::open("default")
    }

    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        Ok(self.bucket.get(key)?)
    }

    pub fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError> {
        Ok(self.bucket.set(key, value)?)
    }

    /// Deletes `key`; deleting a missing key is not an error.
    pub fn delete(&self, key: &str) -> Result<(), KvError> {
        Ok(self.bucket.delete(key)?)
    }

    pub fn exists(&self, key: &str) -> Result<bool, KvError> {
        Ok(self.bucket.exists(key)?)
    }

    /// Atomically adds `delta` to the integer at `key` (missing counts as 0)
    /// and returns the new value.
    /// Every key starting with `prefix` (`list-keys`, all pages). Only for
    /// inspection endpoints: it reads the whole key space.
    pub fn keys_with_prefix(&self, prefix: &str) -> Result<Vec<String>, KvError> {
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let page = self.bucket.list_keys(cursor.as_deref())?;
            out.extend(page.keys.into_iter().filter(|k| k.starts_with(prefix)));
            match page.cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(out),
            }
        }
    }

    pub fn increment(&self, key: &str, delta: i64) -> Result<i64, KvError> {
        Ok(atomics::increment(&self.bucket, key, delta)?)
    }

    /// Read-modify-write of `key` by compare-and-swap.
    ///
    /// `f` sees the current value (`None` if the key is missing) and returns
    /// the value to write, or `None` to leave the key as it is. If another
    /// writer got in between, `f` runs again on the newer value, up to
    /// `max_attempts` times in all (at least once).
    pub fn update(
        &self,
        key: &str,
        max_attempts: u32,
        mut f: impl FnMut(Option<&[u8]>) -> Option<Vec<u8>>,
    ) -> Result<UpdateOutcome, KvError> {
        let max_attempts = max_attempts.max(1);
        let mut cas = atomics::Cas::new(&self.bucket, key)?;
        for attempt in 1..=max_attempts {
            let Some(new_value) = f(cas.current()?.as_deref()) else {
                return Ok(UpdateOutcome::Unchanged);
            };
            match atomics::swap(cas, &new_value) {
                Ok(()) => return Ok(UpdateOutcome::Written { attempts: attempt }),
                // The failed swap hands back a handle that sees the newer value.
                Err(atomics::CasError::CasFailed(newer)) => cas = newer,
                Err(atomics::CasError::StoreError(e)) => return Err(e.into()),
            }
        }
        Ok(UpdateOutcome::Contended {
            attempts: max_attempts,
        })
    }
}

/// A key-value store error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KvError {
    /// No store with that label is configured.
    NoSuchStore,
    /// The store is not granted to this component in `spin.toml`.
    AccessDenied,
    /// Any other error reported by the host.
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

impl fmt::Display for KvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KvError::NoSuchStore => f.write_str("no such key-value store"),
            KvError::AccessDenied => f.write_str(
                "access to the key-value store denied (is it in the component's key_value_stores?)",
            ),
            KvError::Other(msg) => write!(f, "key-value store error: {msg}"),
        }
    }
}

impl std::error::Error for KvError {}
