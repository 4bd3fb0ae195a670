//! Per-request state of one component instance: its WASI context, its
//! resource table, and what its manifest grants it (outbound HTTP, stores,
//! variables). It knows nothing of the app: chained requests go through the
//! [`Chain`] it is given.

use crate::allowed_hosts::AllowedHost;
use crate::kv::wasi::{KvCtx, KvView};
use crate::limits::MemoryLimiter;
use crate::logs::ComponentLog;
use crate::outbound_http::{Chain, OutboundHttp};
use std::sync::Arc;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::p2::{WasiHttpCtxView, WasiHttpView};
use wasmtime_wasi_http::WasiHttpCtx;

/// What a component's manifest entry grants each of its instances, resolved
/// once at start-up.
pub struct Grants {
    pub id: Arc<str>,
    pub allowed_hosts: Arc<[AllowedHost]>,
    /// Its key-value stores and variables.
    pub kv: KvCtx,
    pub environment: Vec<(String, String)>,
    pub stdout: ComponentLog,
    pub stderr: ComponentLog,
}

pub struct HostState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    kv: KvCtx,
    outbound: OutboundHttp,
    memory: MemoryLimiter,
}

impl HostState {
    pub fn new(grants: &Grants, chain: Arc<dyn Chain>, max_memory: Option<usize>) -> Self {
        let mut wasi = WasiCtx::builder();
        wasi.stdout(grants.stdout.clone()).stderr(grants.stderr.clone()).envs(&grants.environment);
        Self {
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            kv: grants.kv.clone(),
            outbound: OutboundHttp { component: grants.id.clone(), allowed_hosts: grants.allowed_hosts.clone(), chain },
            memory: MemoryLimiter::new(grants.id.clone(), max_memory),
        }
    }

    /// The instance's memory limit, for `Store::limiter`.
    pub fn limiter(&mut self) -> &mut dyn wasmtime::ResourceLimiter {
        &mut self.memory
    }

    /// The view the key-value and config bindings work on.
    pub fn kv(&mut self) -> KvView<'_> {
        KvView { ctx: &self.kv, table: &mut self.table }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.outbound }
    }
}
