//! A guest profile of one component over many requests
//! (`--profile-component`): wasmtime's `GuestProfiler`, sampled at every
//! epoch tick while an instance of that component runs wasm, written in
//! the Firefox profiler's format (open it at https://profiler.firefox.com;
//! docs/benchmark.md, "Profiling a component").
//!
//! A tick counts only while wasm runs: the count restarts whenever control
//! enters wasm (`limits::set_deadline`'s call hook), or the ticks of a long
//! host call would all land on the first function after it.
//!
//! Every instance of the component (a fresh one per request) samples into
//! the same profile, so the profile adds up what its requests ran. Samples
//! are taken only where wasm checks the epoch (function entries and loop
//! headers) and never while the guest waits in a host call (a store, a
//! chained request): the profile shows where the component's own code
//! spends its time, not where a request waits.

use anyhow::{Context, Result};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use wasmtime::component::Component;
use wasmtime::{AsContext, Engine, GuestProfiler};

/// What to profile, from the command line.
#[derive(Debug, Clone)]
pub struct ProfileOptions {
    /// The component's id in the manifest.
    pub component: String,
    /// Where the profile is written.
    pub out: PathBuf,
    /// Write the profile once the component has served this many requests;
    /// `None`: when the host stops.
    pub requests: Option<u64>,
    /// How often a sample is taken: the engine's epoch tick while profiling.
    pub interval: Duration,
}

/// The profile being collected.
pub struct Profiler {
    pub component: String,
    out: PathBuf,
    requests: Option<u64>,
    served: AtomicU64,
    samples: AtomicU64,
    profile: Mutex<Option<GuestProfiler>>,
}

impl Profiler {
    /// Starts a profile of `component` (its core modules' functions by name).
    pub fn new(engine: &Engine, component: &Component, opts: &ProfileOptions) -> Result<Profiler> {
        let profile = GuestProfiler::new_component(engine, &opts.component, opts.interval, component.clone(), [])
            .map_err(anyhow::Error::from)
            .with_context(|| format!("cannot profile component '{}'", opts.component))?;
        Ok(Profiler {
            component: opts.component.clone(),
            out: opts.out.clone(),
            requests: opts.requests,
            served: AtomicU64::new(0),
            samples: AtomicU64::new(0),
            profile: Mutex::new(Some(profile)),
        })
    }

    /// One sample of the guest running on this thread (from the store's
    /// epoch callback).
    pub fn sample(&self, store: impl AsContext) {
        if let Some(profile) = self.profile.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            profile.sample(store, Duration::ZERO);
            self.samples.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// An instance of the component has finished its request: at the
    /// requested count, the profile is written.
    pub fn served_one(&self) {
        let served = self.served.fetch_add(1, Ordering::Relaxed) + 1;
        if self.requests == Some(served) {
            self.write();
        }
    }

    /// Writes the profile (once; later calls do nothing) and says so on
    /// stderr. Instances still running add nothing more.
    pub fn write(&self) {
        let Some(profile) = self.profile.lock().unwrap_or_else(|e| e.into_inner()).take() else { return };
        let served = self.served.load(Ordering::Relaxed);
        let samples = self.samples.load(Ordering::Relaxed);
        match self.finish(profile) {
            Ok(()) => eprintln!(
                "Profile of component '{}' over {served} requests ({samples} samples) written to {}",
                self.component,
                self.out.display()
            ),
            Err(e) => eprintln!("Profile of component '{}' not written: {e:#}", self.component),
        }
    }

    fn finish(&self, profile: GuestProfiler) -> Result<()> {
        // Written beside and renamed: a reader never sees half a profile.
        let tmp = self.out.with_extension("json.tmp");
        let file = std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        let mut writer = std::io::BufWriter::new(file);
        profile.finish(&mut writer).map_err(anyhow::Error::from)?;
        std::io::Write::flush(&mut writer)?;
        drop(writer);
        std::fs::rename(&tmp, &self.out).with_context(|| format!("cannot write {}", self.out.display()))?;
        Ok(())
    }
}
