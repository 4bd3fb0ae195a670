//! What one instance may use: memory (a wasmtime `ResourceLimiter`, Spin's
//! `--max-instance-memory`) and time (epoch interruption, Spin's
//! `--request-timeout`). Both are in docs/host.md ("Limits").
//!
//! The engine's epoch advances every [`EPOCH_TICK`] (Spin's default tick).
//! At each tick a running guest yields to the async runtime, so a guest that
//! never stops computing cannot hold a runtime thread, and once its request's
//! deadline has passed the next tick interrupts it: it traps and the request
//! fails with a 500. A guest waiting on I/O (a store, a chained request)
//! runs no code and is not interrupted while it waits.

use crate::profile::Profiler;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::{CallHook, Engine, ResourceLimiter, StoreLimits, StoreLimitsBuilder, Trap, UpdateDeadline};

/// How often the engine's epoch advances: Spin's `DEFAULT_EPOCH_TICK_INTERVAL`.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The limits every instance runs under.
#[derive(Debug, Clone, Copy)]
pub struct InstanceLimits {
    /// The most a linear memory of one instance may grow to, in bytes.
    pub max_memory: Option<usize>,
    /// How long after its request started an instance that still runs is interrupted.
    pub request_timeout: Option<Duration>,
}

/// Advances `engine`'s epoch every `tick` on a thread of its own, as Spin
/// does (every [`EPOCH_TICK`]; a guest profile, `--profile-component`,
/// ticks at its sampling interval), until the engine is dropped.
pub fn start_epoch_ticker(engine: &Engine, tick: Duration) {
    let engine = engine.weak();
    std::thread::Builder::new()
        .name("epoch-ticker".into())
        .spawn(move || loop {
            std::thread::sleep(tick);
            match engine.upgrade() {
                Some(engine) => engine.increment_epoch(),
                None => break,
            }
        })
        .expect("cannot start the epoch ticker thread");
}

/// Sets `store`'s epoch deadline: yield at every tick, trap once the request
/// timeout has passed. Must be called on every store of an engine with
/// epoch interruption, which otherwise traps at the first check.
/// With `profiler`, every tick also takes a sample of the running guest.
pub fn set_deadline<T>(
    store: &mut wasmtime::Store<T>,
    component: Arc<str>,
    limits: InstanceLimits,
    profiler: Option<Arc<Profiler>>,
) {
    let deadline = limits.request_timeout.map(|t| (Instant::now() + t, t));
    store.set_epoch_deadline(1);
    if profiler.is_some() {
        // A sample is for a tick that passes while wasm runs. Ticks that
        // passed in the host (a store, a chained request, a host call's
        // `cabi_realloc` included) would otherwise all fall on the first
        // epoch check after it: the count restarts when wasm is entered.
        store.call_hook(|mut ctx, hook| {
            if matches!(hook, CallHook::CallingWasm | CallHook::ReturningFromHost) {
                ctx.set_epoch_deadline(1);
            }
            Ok(())
        });
    }
    store.epoch_deadline_callback(move |ctx| {
        if let Some(profiler) = &profiler {
            profiler.sample(&ctx);
        }
        tick(deadline, &component)
    });
}

/// What a tick does to a running guest: yield, or trap past its deadline.
fn tick(deadline: Option<(Instant, Duration)>, component: &str) -> wasmtime::Result<UpdateDeadline> {
    match deadline {
        Some((at, timeout)) if Instant::now() >= at => Err(wasmtime::Error::from(Trap::Interrupt).context(format!(
            "component '{component}' interrupted: still running after the request timeout ({}, --request-timeout)",
            humanize(timeout)
        ))),
        _ => Ok(UpdateDeadline::YieldCustom(1, Box::pin(tokio::task::yield_now()))),
    }
}

/// The memory limit of one instance: wasmtime's `StoreLimits`, plus one line
/// on the host's stderr the first time the instance is refused memory (the
/// guest then fails its allocation, which usually traps: a 500).
pub struct MemoryLimiter {
    limits: StoreLimits,
    max_memory: Option<usize>,
    component: Arc<str>,
    reported: bool,
}

impl MemoryLimiter {
    pub fn new(component: Arc<str>, max_memory: Option<usize>) -> Self {
        let mut builder = StoreLimitsBuilder::new();
        if let Some(max) = max_memory {
            builder = builder.memory_size(max);
        }
        Self { limits: builder.build(), max_memory, component, reported: false }
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        let allowed = self.limits.memory_growing(current, desired, maximum)?;
        if !allowed && !self.reported {
            self.reported = true;
            if let Some(max) = self.max_memory.filter(|max| desired > *max) {
                eprintln!(
                    "component '{}' asked for {desired} bytes of memory, over the instance limit of {max} bytes (--max-instance-memory): refused",
                    self.component
                );
            }
        }
        Ok(allowed)
    }

    fn table_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}

/// `1500ms` → `1.5s`, `60s` → `60s`: durations as the flags take them.
pub fn humanize(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{}s", d.as_secs())
    } else if d.as_nanos().is_multiple_of(1_000_000) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{d:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_over_the_limit_is_refused() {
        let mut limiter = MemoryLimiter::new("c".into(), Some(1 << 20));
        assert!(limiter.memory_growing(0, 1 << 20, None).unwrap());
        assert!(!limiter.memory_growing(1 << 20, 2 << 20, None).unwrap());
        let mut unlimited = MemoryLimiter::new("c".into(), None);
        assert!(unlimited.memory_growing(0, 1 << 30, None).unwrap());
    }

    #[test]
    fn durations_print_as_the_flags_take_them() {
        assert_eq!(humanize(Duration::from_secs(60)), "60s");
        assert_eq!(humanize(Duration::from_millis(1500)), "1500ms");
    }
}
