//! An application loaded from its manifest: compiled components, routes,
//! stores and variables, and how one request runs in a fresh instance.
//! Service chaining comes back here through [`Chain`], which the app
//! implements.

use crate::allowed_hosts::AllowedHost;
use crate::kv::wasi::KvCtx;
use crate::kv::{RuntimeConfig, StoreManager};
use crate::limits::InstanceLimits;
use crate::logs::{ComponentLog, Which};
use crate::manifest::{Manifest, RouteDecl};
use crate::outbound_http::{Chain, ChainedResponse};
use crate::profile::{ProfileOptions, Profiler};
use crate::routes::Router;
use crate::state::{Grants, HostState};
use crate::variables::Variables;
use anyhow::{anyhow, Context, Result};
use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi_http::p2::bindings::http::types::{ErrorCode, Scheme};
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::p2::WasiHttpView;

pub struct App {
    pub name: String,
    pub version: Option<String>,
    pub components: HashMap<String, Arc<ComponentRuntime>>,
    pub router: Router,
    pub stores: Arc<StoreManager>,
    pub limits: InstanceLimits,
    /// The guest profile being collected (`--profile-component`).
    pub profiler: Option<Arc<Profiler>>,
}

/// A component compiled once and pre-linked (`ProxyPre`), with what its
/// manifest grants it.
pub struct ComponentRuntime {
    pub id: String,
    pub pre: ProxyPre<HostState>,
    pub grants: Grants,
}

pub struct LoadOptions {
    pub manifest: PathBuf,
    pub runtime_config: Option<PathBuf>,
    /// Where `.spin/` state lives (SQLite store, logs, compile cache).
    pub state_dir: Option<PathBuf>,
    pub log_dir: Option<PathBuf>,
    pub limits: InstanceLimits,
    pub profile: Option<ProfileOptions>,
}

/// The engine: components, async, and epoch interruption (a running guest
/// yields at every tick and is interrupted after its request timeout, see
/// `limits`), with the ticker that advances the epoch.
/// The epoch ticks every `tick`: Spin's [`crate::limits::EPOCH_TICK`], or a
/// guest profile's sampling interval.
pub fn engine(tick: std::time::Duration) -> Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    let engine = Engine::new(&config)?;
    crate::limits::start_epoch_ticker(&engine, tick);
    Ok(engine)
}

impl App {
    pub async fn load(engine: &Engine, opts: &LoadOptions) -> Result<Arc<App>> {
        let (manifest, base_dir) = Manifest::load(&opts.manifest)?;
        let state_dir = opts.state_dir.clone().unwrap_or_else(|| base_dir.join(".spin"));
        let log_dir = opts.log_dir.clone().unwrap_or_else(|| state_dir.join("logs"));
        let runtime_config = match &opts.runtime_config {
            Some(path) => RuntimeConfig::load(path)?,
            None => RuntimeConfig::default(),
        };
        let statics = runtime_config.static_variables();
        let variables = Variables::resolve(&manifest.variables, &statics, |k| std::env::var(k).ok())?;

        let mut linker: Linker<HostState> = Linker::new(engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        crate::kv::wasi::add_to_linker(&mut linker, HostState::kv)?;
        // Every store a component lists is opened before any instance runs.
        let store_names = manifest.component.values().flat_map(|c| c.key_value_stores.clone());
        let stores = Arc::new(StoreManager::open(store_names, &runtime_config, &state_dir, &base_dir).await?);

        let mut components = HashMap::new();
        let mut profiler = None;
        if let Some(p) = &opts.profile {
            if !manifest.component.contains_key(&p.component) {
                return Err(anyhow!("--profile-component {}: the manifest has no such component", p.component));
            }
        }
        for (id, decl) in &manifest.component {
            let source = base_dir.join(&decl.source);
            let cache_dir = compile_cache_dir().unwrap_or_else(|| state_dir.join("cache"));
            let component = load_component(engine, &source, &cache_dir)
                .with_context(|| format!("component '{id}': cannot load {}", source.display()))?;
            if let Some(p) = opts.profile.as_ref().filter(|p| &p.component == id) {
                profiler = Some(Arc::new(Profiler::new(engine, &component, p)?));
            }
            let instance_pre = linker
                .instantiate_pre(&component)
                .map_err(anyhow::Error::from)
                .with_context(|| format!("component '{id}' imports something this host does not provide"))?;
            let pre = ProxyPre::new(instance_pre)
                .map_err(anyhow::Error::from)
                .with_context(|| format!("component '{id}' is not a wasi:http component"))?;
            let allowed_hosts = decl
                .allowed_outbound_hosts
                .iter()
                .map(|h| variables.expand(h).and_then(|h| AllowedHost::parse(&h)))
                .collect::<Result<Vec<_>>>()
                .with_context(|| format!("component '{id}': allowed_outbound_hosts"))?;
            let grants = Grants {
                id: id.as_str().into(),
                allowed_hosts: allowed_hosts.into(),
                kv: KvCtx {
                    stores: stores.clone(),
                    allowed: decl.key_value_stores.clone().into(),
                    config: Arc::new(variables.component_config(id, &decl.variables)?),
                },
                environment: decl.environment.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                stdout: ComponentLog::open(Some(&log_dir), id, Which::Stdout)?,
                stderr: ComponentLog::open(Some(&log_dir), id, Which::Stderr)?,
            };
            components.insert(id.clone(), Arc::new(ComponentRuntime { id: id.clone(), pre, grants }));
        }

        let mut router = Router::default();
        for trigger in &manifest.trigger.http {
            match &trigger.route {
                RouteDecl::Path(route) => router.add(route, &trigger.component)?,
                RouteDecl::Private { private: true } => {}
                RouteDecl::Private { private: false } => {
                    return Err(anyhow!(
                        "component '{}': route = {{ private = false }} is not a route",
                        trigger.component
                    ))
                }
            }
        }

        Ok(Arc::new(App {
            name: manifest.application.name,
            version: manifest.application.version,
            components,
            router,
            stores,
            limits: opts.limits,
            profiler,
        }))
    }

    /// Runs `req` in a fresh instance of `component` and returns its response.
    /// A guest that traps or never answers yields a 500, as on Spin.
    pub async fn invoke<B>(
        self: &Arc<Self>,
        component: &Arc<ComponentRuntime>,
        req: hyper::Request<B>,
    ) -> Result<hyper::Response<HyperOutgoingBody>, ErrorCode>
    where
        B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
        B::Error: Into<ErrorCode>,
    {
        let state = HostState::new(&component.grants, self.clone(), self.limits.max_memory);
        let mut store = Store::new(component.pre.engine(), state);
        store.limiter(|state| state.limiter());
        let profiler = self.profiler.clone().filter(|p| p.component == component.id);
        crate::limits::set_deadline(&mut store, component.grants.id.clone(), self.limits, profiler.clone());
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let prepared = (|| -> wasmtime::Result<_> {
            let req = store.data_mut().http().new_incoming_request(Scheme::Http, req)?;
            let out = store.data_mut().http().new_response_outparam(sender)?;
            Ok((req, out))
        })();
        let (req, out) = prepared.map_err(|e| internal(&component.id, e))?;
        let pre = component.pre.clone();
        let id = component.id.clone();
        // The instance runs in its own task so it may keep streaming the body
        // after the head is sent; it is dropped (and its memory freed) after.
        let task = tokio::task::spawn(async move {
            let proxy = pre.instantiate_async(&mut store).await?;
            let handled = proxy.wasi_http_incoming_handler().call_handle(&mut store, req, out).await;
            if let Some(profiler) = profiler {
                profiler.served_one();
            }
            handled
        });
        match receiver.await {
            Ok(result) => {
                // Failing while streaming the body (a trap, the request
                // timeout) cuts the response short; say so, as Spin does.
                tokio::spawn(async move {
                    if let Ok(Err(e)) = task.await {
                        eprintln!("component '{id}' failed after its response started: {e:?}");
                    }
                });
                result
            }
            Err(_) => {
                let err = match task.await {
                    Ok(Ok(())) => anyhow!("guest never set a response"),
                    Ok(Err(e)) => e.into(),
                    Err(e) => e.into(),
                };
                Err(internal(&id, err))
            }
        }
    }
}

impl Chain for App {
    fn run(
        self: Arc<Self>,
        id: &str,
        request: hyper::Request<wasmtime_wasi_http::p2::body::HyperOutgoingBody>,
    ) -> Option<Pin<Box<dyn Future<Output = ChainedResponse> + Send>>> {
        let target = self.components.get(id).cloned()?;
        Some(Box::pin(async move { self.invoke(&target, request).await }))
    }
}

fn internal(component: &str, e: impl Into<anyhow::Error>) -> ErrorCode {
    let e: anyhow::Error = e.into();
    eprintln!("component '{component}' failed: {e:?}");
    ErrorCode::InternalError(Some(format!("component '{component}' failed: {e}")))
}

/// The compile cache, per user as Spin's wasmtime cache is:
/// `$XDG_CACHE_HOME/spinscope-host`, else `~/.cache/spinscope-host` (else,
/// without either, `<state-dir>/cache`). Entries are keyed by content, so
/// every app and state directory shares them.
fn compile_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").filter(|d| !d.is_empty()).map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("spinscope-host"))
}

/// Compiles a component, or loads it from the compile cache keyed by its
/// bytes and the engine's compatibility hash (start-up in milliseconds
/// instead of seconds). Hosts starting at once may compile the same
/// component: each writes its own temporary file and renames it into place,
/// so a reader only ever sees a whole entry.
fn load_component(engine: &Engine, source: &Path, cache_dir: &Path) -> Result<Component> {
    use std::hash::{Hash, Hasher};
    let bytes = std::fs::read(source)?;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let cached = cache_dir.join(format!("{:016x}.cwasm", hasher.finish()));
    if cached.exists() {
        // SAFETY: the file was written by `Component::serialize` of an engine
        // with the same compatibility hash (it is in the file name).
        if let Ok(c) = unsafe { Component::deserialize_file(engine, &cached) } {
            return Ok(c);
        }
    }
    let component = Component::new(engine, &bytes)?;
    if std::fs::create_dir_all(cache_dir).is_ok() {
        let tmp = cached.with_extension(format!("{}.tmp", std::process::id()));
        if let Ok(serialized) = component.serialize() {
            if std::fs::write(&tmp, serialized).is_ok() {
                let _ = std::fs::rename(&tmp, &cached);
            }
        }
    }
    Ok(component)
}
