//! The host side of `wasi:keyvalue@0.2.0-draft2` and `wasi:config/store`,
//! bound from the same WIT files the components use (`wit/`).

use super::{KvError, Store};
use crate::state::HostState;
use std::sync::Arc;
use wasmtime::component::Resource;

wasmtime::component::bindgen!({
    path: "../wit",
    world: "spinscope:platform/platform",
    imports: { default: async | trappable },
    with: {
        "wasi:keyvalue/store.bucket": Bucket,
        "wasi:keyvalue/atomics.cas": Cas,
    },
});

use wasi::config::store as config;
use wasi::keyvalue::{atomics, batch, store};

/// An open store handle held by a guest.
pub struct Bucket {
    store: Arc<dyn Store>,
}

/// A compare-and-swap handle: the key, and the value `current` observed.
/// Like Spin's, a `swap` without a prior `current` expects the key absent.
pub struct Cas {
    store: Arc<dyn Store>,
    key: String,
    observed: Option<Vec<u8>>,
}

impl From<KvError> for store::Error {
    fn from(e: KvError) -> Self {
        store::Error::Other(e.0)
    }
}

type GuestResult<T> = wasmtime::Result<Result<T, store::Error>>;

fn lift<T>(r: Result<T, KvError>) -> GuestResult<T> {
    Ok(r.map_err(Into::into))
}

impl HostState {
    fn bucket(&self, b: &Resource<Bucket>) -> wasmtime::Result<Arc<dyn Store>> {
        Ok(self.table.get(b)?.store.clone())
    }
}

impl store::Host for HostState {
    async fn open(&mut self, identifier: String) -> GuestResult<Resource<Bucket>> {
        // A component may open only the stores its manifest lists, as on Spin.
        if !self.component.key_value_stores.iter().any(|s| *s == identifier) {
            return Ok(Err(store::Error::AccessDenied));
        }
        match self.app.stores.get(&identifier) {
            Some(store) => Ok(Ok(self.table.push(Bucket { store })?)),
            None => Ok(Err(store::Error::NoSuchStore)),
        }
    }
}

impl store::HostBucket for HostState {
    async fn get(&mut self, b: Resource<Bucket>, key: String) -> GuestResult<Option<Vec<u8>>> {
        lift(self.bucket(&b)?.get(&key).await)
    }

    async fn set(&mut self, b: Resource<Bucket>, key: String, value: Vec<u8>) -> GuestResult<()> {
        lift(self.bucket(&b)?.set(&key, &value).await)
    }

    async fn delete(&mut self, b: Resource<Bucket>, key: String) -> GuestResult<()> {
        lift(self.bucket(&b)?.delete(&key).await)
    }

    async fn exists(&mut self, b: Resource<Bucket>, key: String) -> GuestResult<bool> {
        lift(self.bucket(&b)?.exists(&key).await)
    }

    async fn list_keys(
        &mut self,
        b: Resource<Bucket>,
        _cursor: Option<String>,
    ) -> GuestResult<store::KeyResponse> {
        // Like Spin: the whole list at once, no cursor.
        lift(self.bucket(&b)?.list_keys().await.map(|keys| store::KeyResponse { keys, cursor: None }))
    }

    async fn drop(&mut self, b: Resource<Bucket>) -> wasmtime::Result<()> {
        self.table.delete(b)?;
        Ok(())
    }
}

impl atomics::Host for HostState {
    async fn increment(&mut self, b: Resource<Bucket>, key: String, delta: i64) -> GuestResult<i64> {
        lift(self.bucket(&b)?.increment(&key, delta).await)
    }

    async fn swap(
        &mut self,
        cas: Resource<Cas>,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), atomics::CasError>> {
        let cas = self.table.delete(cas)?;
        match cas.store.compare_and_swap(&cas.key, cas.observed.as_deref(), &value).await {
            Ok(true) => Ok(Ok(())),
            Ok(false) => {
                let fresh = self.table.push(Cas { store: cas.store, key: cas.key, observed: None })?;
                Ok(Err(atomics::CasError::CasFailed(fresh)))
            }
            Err(e) => Ok(Err(atomics::CasError::StoreError(e.into()))),
        }
    }
}

impl atomics::HostCas for HostState {
    async fn new(&mut self, b: Resource<Bucket>, key: String) -> GuestResult<Resource<Cas>> {
        let store = self.bucket(&b)?;
        Ok(Ok(self.table.push(Cas { store, key, observed: None })?))
    }

    async fn current(&mut self, cas: Resource<Cas>) -> GuestResult<Option<Vec<u8>>> {
        let (store, key) = {
            let c = self.table.get(&cas)?;
            (c.store.clone(), c.key.clone())
        };
        match store.get(&key).await {
            Ok(value) => {
                self.table.get_mut(&cas)?.observed = value.clone();
                Ok(Ok(value))
            }
            Err(e) => lift(Err(e)),
        }
    }

    async fn drop(&mut self, cas: Resource<Cas>) -> wasmtime::Result<()> {
        self.table.delete(cas)?;
        Ok(())
    }
}

impl batch::Host for HostState {
    async fn get_many(
        &mut self,
        b: Resource<Bucket>,
        keys: Vec<String>,
    ) -> GuestResult<Vec<(String, Option<Vec<u8>>)>> {
        lift(self.bucket(&b)?.get_many(keys).await)
    }

    async fn set_many(&mut self, b: Resource<Bucket>, pairs: Vec<(String, Vec<u8>)>) -> GuestResult<()> {
        lift(self.bucket(&b)?.set_many(pairs).await)
    }

    async fn delete_many(&mut self, b: Resource<Bucket>, keys: Vec<String>) -> GuestResult<()> {
        lift(self.bucket(&b)?.delete_many(keys).await)
    }
}

impl config::Host for HostState {
    async fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<String>, config::Error>> {
        Ok(Ok(self.component.config.get(&key).cloned()))
    }

    async fn get_all(&mut self) -> wasmtime::Result<Result<Vec<(String, String)>, config::Error>> {
        Ok(Ok(self.component.config.iter().map(|(k, v)| (k.clone(), v.clone())).collect()))
    }
}

pub fn add_to_linker(linker: &mut wasmtime::component::Linker<HostState>) -> wasmtime::Result<()> {
    use wasmtime::component::HasSelf;
    store::add_to_linker::<_, HasSelf<HostState>>(linker, |s| s)?;
    atomics::add_to_linker::<_, HasSelf<HostState>>(linker, |s| s)?;
    batch::add_to_linker::<_, HasSelf<HostState>>(linker, |s| s)?;
    config::add_to_linker::<_, HasSelf<HostState>>(linker, |s| s)?;
    Ok(())
}
