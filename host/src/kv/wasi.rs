//! The host side of `wasi:keyvalue@0.2.0-draft2` and `wasi:config/store`,
//! bound from the same WIT files the components use (`wit/`).

use super::{KvError, Store, StoreManager, SwapError};
use std::collections::BTreeMap;
use std::sync::Arc;
use wasmtime::component::{HasData, Linker, Resource, ResourceTable};

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

/// A compare-and-swap handle: the store's own CAS object (which remembers
/// what `current` saw, or holds Redis's WATCHing connection), and what a
/// failed swap needs to open the next one.
pub struct Cas {
    store: Arc<dyn Store>,
    key: String,
    inner: Arc<dyn super::Cas>,
}

type GuestResult<T> = wasmtime::Result<Result<T, store::Error>>;

/// A backend error becomes `error::other`; where Spin's host panics, the
/// guest traps instead (the request fails as it does on Spin).
fn lift<T>(r: Result<T, KvError>) -> GuestResult<T> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(KvError::Other(msg)) => Ok(Err(store::Error::Other(msg))),
        Err(KvError::Panic(msg)) => Err(wasmtime::format_err!("{msg}")),
    }
}

/// A store failure while answering `swap`.
fn cas_store_error(e: KvError) -> wasmtime::Result<Result<(), atomics::CasError>> {
    match e {
        KvError::Other(msg) => Ok(Err(atomics::CasError::StoreError(store::Error::Other(msg)))),
        KvError::Panic(msg) => Err(wasmtime::format_err!("{msg}")),
    }
}

/// What one component's instances may reach through these interfaces: the
/// stores its manifest lists and its variables. Cheap to clone (shared).
#[derive(Clone)]
pub struct KvCtx {
    /// Every store of the app, opened at start-up.
    pub stores: Arc<StoreManager>,
    /// The stores this component lists (`key_value_stores`).
    pub allowed: Arc<[String]>,
    /// The component's variables, as `wasi:config/store` serves them.
    pub config: Arc<BTreeMap<String, String>>,
}

/// A [`KvCtx`] with the instance's resource table: what the bindings work on.
pub struct KvView<'a> {
    pub ctx: &'a KvCtx,
    pub table: &'a mut ResourceTable,
}

impl KvView<'_> {
    fn bucket(&self, b: &Resource<Bucket>) -> wasmtime::Result<Arc<dyn Store>> {
        Ok(self.table.get(b)?.store.clone())
    }
}

impl store::Host for KvView<'_> {
    async fn open(&mut self, identifier: String) -> GuestResult<Resource<Bucket>> {
        // A component may open only the stores its manifest lists, as on Spin.
        if !self.ctx.allowed.contains(&identifier) {
            return Ok(Err(store::Error::AccessDenied));
        }
        match self.ctx.stores.get(&identifier) {
            Some(store) => {
                store.after_open().await;
                Ok(Ok(self.table.push(Bucket { store })?))
            }
            None => Ok(Err(store::Error::NoSuchStore)),
        }
    }
}

impl store::HostBucket for KvView<'_> {
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

    async fn list_keys(&mut self, b: Resource<Bucket>, cursor: Option<String>) -> GuestResult<store::KeyResponse> {
        // Like Spin: the whole list at once, and a cursor is an error.
        if cursor.is_some() {
            return Ok(Err(store::Error::Other("list_keys: cursor not supported".into())));
        }
        lift(self.bucket(&b)?.list_keys().await.map(|keys| store::KeyResponse { keys, cursor: None }))
    }

    async fn drop(&mut self, b: Resource<Bucket>) -> wasmtime::Result<()> {
        self.table.delete(b)?;
        Ok(())
    }
}

impl atomics::Host for KvView<'_> {
    async fn increment(&mut self, b: Resource<Bucket>, key: String, delta: i64) -> GuestResult<i64> {
        lift(self.bucket(&b)?.increment(&key, delta).await)
    }

    async fn swap(&mut self, cas: Resource<Cas>, value: Vec<u8>) -> wasmtime::Result<Result<(), atomics::CasError>> {
        // Spin leaves a swapped handle in its table until the instance ends
        // (on Redis its connection stays open that long): so does this host.
        let (store, key, inner) = {
            let c = self.table.get(&cas)?;
            (c.store.clone(), c.key.clone(), c.inner.clone())
        };
        match inner.swap(value).await {
            Ok(()) => Ok(Ok(())),
            Err(SwapError::Other(msg)) => Ok(Err(atomics::CasError::StoreError(store::Error::Other(msg)))),
            Err(SwapError::CasFailed) => {
                // As Spin: a new handle on the key, with `current` already
                // called on it (on Redis: a new connection, WATCH and GET).
                let fresh = match store.new_compare_and_swap(&key).await {
                    Ok(fresh) => fresh,
                    Err(e) => return cas_store_error(e),
                };
                if let Err(e) = fresh.current().await {
                    return cas_store_error(e);
                }
                let handle = self.table.push(Cas { store, key, inner: fresh })?;
                Ok(Err(atomics::CasError::CasFailed(handle)))
            }
        }
    }
}

impl atomics::HostCas for KvView<'_> {
    async fn new(&mut self, b: Resource<Bucket>, key: String) -> GuestResult<Resource<Cas>> {
        let store = self.bucket(&b)?;
        match store.new_compare_and_swap(&key).await {
            Ok(inner) => Ok(Ok(self.table.push(Cas { store, key, inner })?)),
            Err(e) => lift(Err(e)),
        }
    }

    async fn current(&mut self, cas: Resource<Cas>) -> GuestResult<Option<Vec<u8>>> {
        let inner = self.table.get(&cas)?.inner.clone();
        lift(inner.current().await)
    }

    async fn drop(&mut self, cas: Resource<Cas>) -> wasmtime::Result<()> {
        self.table.delete(cas)?;
        Ok(())
    }
}

impl batch::Host for KvView<'_> {
    async fn get_many(
        &mut self,
        b: Resource<Bucket>,
        keys: Vec<String>,
    ) -> GuestResult<Vec<(String, Option<Vec<u8>>)>> {
        // Spin answers an empty batch itself, before the backend.
        let store = self.bucket(&b)?;
        if keys.is_empty() {
            return Ok(Ok(Vec::new()));
        }
        lift(store.get_many(keys).await)
    }

    async fn set_many(&mut self, b: Resource<Bucket>, pairs: Vec<(String, Vec<u8>)>) -> GuestResult<()> {
        let store = self.bucket(&b)?;
        if pairs.is_empty() {
            return Ok(Ok(()));
        }
        lift(store.set_many(pairs).await)
    }

    async fn delete_many(&mut self, b: Resource<Bucket>, keys: Vec<String>) -> GuestResult<()> {
        let store = self.bucket(&b)?;
        if keys.is_empty() {
            return Ok(Ok(()));
        }
        lift(store.delete_many(keys).await)
    }
}

impl config::Host for KvView<'_> {
    async fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<String>, config::Error>> {
        Ok(Ok(self.ctx.config.get(&key).cloned()))
    }

    async fn get_all(&mut self) -> wasmtime::Result<Result<Vec<(String, String)>, config::Error>> {
        Ok(Ok(self.ctx.config.iter().map(|(k, v)| (k.clone(), v.clone())).collect()))
    }
}

struct HasKv;

impl HasData for HasKv {
    type Data<'a> = KvView<'a>;
}

/// Adds the key-value and config interfaces to `linker`; `view` gives the
/// bindings an instance's [`KvView`].
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> KvView<'_>,
) -> wasmtime::Result<()> {
    store::add_to_linker::<_, HasKv>(linker, view)?;
    atomics::add_to_linker::<_, HasKv>(linker, view)?;
    batch::add_to_linker::<_, HasKv>(linker, view)?;
    config::add_to_linker::<_, HasKv>(linker, view)?;
    Ok(())
}
