//! Support for the end-to-end tests: start a host on a free loopback port
//! with a manifest, capture what it prints, talk HTTP to it, and run a real
//! `redis-server` when a test needs one. The components are the real `.wasm`
//! files built by `make build` (see the Makefile).
//!
//! The host is the project's local host (`target/release/spinscope-host`)
//! or real Spin (`spin up`), chosen by `SPINSCOPE_E2E_HOST=local|spin`
//! (default `local`). Spin is found through `SPIN_BIN`, else `spin` on
//! `PATH`. Both print component output (stdout and stderr) on their own
//! stderr and to `<state-dir>/logs/`: tests read it through [`Host::logs`]
//! and wait for it with [`Host::wait_for_log`], since a component may write
//! after its response has been sent.

mod auth_server;
mod committed;
mod mcp_clients;
mod modern_client;
mod otlp_receiver;
mod scrape;
pub use auth_server::{AuthServer, Client};
pub use committed::Committed;
pub use mcp_clients::{client_script, installed, run_client, CLIENT_TIMEOUT};
pub use modern_client::{ModernRequest, MODERN};
pub use otlp_receiver::{assert_listed, span_attr, OtlpReceiver};
pub use scrape::{promtool_check, scrape, scrape_until, scrape_until_with, scrape_with, value};

use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("target"))
}

pub fn host_binary() -> PathBuf {
    let bin = target_dir().join("release/spinscope-host");
    assert!(bin.exists(), "{} is missing: run `make build` first", bin.display());
    bin
}

/// Which host serves the app under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostKind {
    /// `target/release/spinscope-host`.
    Local,
    /// Real Spin: `$SPIN_BIN up`, else `spin up` from `PATH`.
    Spin,
}

/// The host chosen by `SPINSCOPE_E2E_HOST` (`local`, the default, or `spin`).
pub fn host_kind() -> HostKind {
    match std::env::var("SPINSCOPE_E2E_HOST").unwrap_or_default().trim() {
        "" | "local" => HostKind::Local,
        "spin" => HostKind::Spin,
        other => panic!("SPINSCOPE_E2E_HOST={other}: expected `local` or `spin`"),
    }
}

/// The Spin CLI: `SPIN_BIN` when set, else `spin` on `PATH`.
pub fn spin_binary() -> Option<PathBuf> {
    if let Some(bin) = std::env::var_os("SPIN_BIN").filter(|b| !b.is_empty()) {
        return Some(PathBuf::from(bin));
    }
    std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join("spin")).find(|p| p.is_file())
}

/// A fresh, empty directory under the system temp dir.
pub fn temp_dir(tag: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("spinscope-e2e-{}-{tag}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Everything the host printed, line by line.
#[derive(Clone, Default)]
pub struct Output(Arc<Mutex<Vec<String>>>);

impl Output {
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
    pub fn text(&self) -> String {
        self.lines().join("\n")
    }
}

pub struct HostBuilder {
    manifest: PathBuf,
    env: Vec<(String, String)>,
    /// Extra command-line arguments, after the common flags.
    args: Vec<String>,
    /// Runtime config sections (Spin's format), written at start.
    runtime_config: String,
    state_dir: PathBuf,
    /// The default SQLite store's journal: write-ahead logging, as `make up`
    /// prepares it, unless a test asks for Spin's own default.
    journal: Journal,
    /// The variables in a static provider, as `make up` gives them.
    static_variables: bool,
}

/// How the default SQLite store's file is left before the host opens it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Journal {
    /// `spinscope-sqlite prepare`, as `make up` runs it: write-ahead logging.
    Wal,
    /// Untouched: Spin creates the file with SQLite's rollback journal.
    SpinDefault,
}

impl HostBuilder {
    pub fn new(manifest: impl AsRef<Path>) -> Self {
        let manifest = workspace_root().join(manifest.as_ref());
        Self {
            manifest,
            env: Vec::new(),
            args: Vec::new(),
            runtime_config: String::new(),
            state_dir: temp_dir("state"),
            journal: Journal::Wal,
            static_variables: false,
        }
    }
    /// The app's own `spin.toml`, plus the test-only `faults` component
    /// (private route), keeping only `components` when given (so a test can
    /// run before every component exists). Written to a temp manifest with
    /// absolute `source` paths.
    pub fn app(components: Option<&[&str]>) -> Self {
        Self::app_from("spin.toml", components)
    }

    /// [`HostBuilder::app`] from another of the app's manifests (e.g.
    /// `spin-otel.toml`, the nested-trace build's).
    pub fn app_from(manifest: &str, components: Option<&[&str]>) -> Self {
        let root = workspace_root();
        let text = std::fs::read_to_string(root.join(manifest)).unwrap();
        let mut doc: toml::Table = text.parse().unwrap();
        let keep = |id: &str| components.is_none_or(|c| c.contains(&id) || id == "faults");
        let target = target_dir().join("wasm32-wasip2/component");
        if let Some(toml::Value::Table(comps)) = doc.get_mut("component") {
            comps.retain(|id, _| keep(id));
            let mut faults = toml::Table::new();
            faults.insert("source".into(), "faults.wasm".into());
            comps.insert("faults".into(), toml::Value::Table(faults));
            for (_, comp) in comps.iter_mut() {
                let comp = comp.as_table_mut().unwrap();
                let file = std::path::Path::new(comp["source"].as_str().unwrap()).file_name().unwrap().to_owned();
                comp.insert("source".into(), target.join(file).display().to_string().into());
                comp.remove("build");
            }
        }
        if let Some(toml::Value::Table(triggers)) = doc.get_mut("trigger") {
            if let Some(toml::Value::Array(http)) = triggers.get_mut("http") {
                http.retain(|t| keep(t["component"].as_str().unwrap()));
                let mut t = toml::Table::new();
                let mut private = toml::Table::new();
                private.insert("private".into(), true.into());
                t.insert("route".into(), toml::Value::Table(private));
                t.insert("component".into(), "faults".into());
                http.push(toml::Value::Table(t));
            }
        }
        let dir = temp_dir("manifest");
        let path = dir.join("spin.toml");
        std::fs::write(&path, toml::to_string(&doc).unwrap()).unwrap();
        // Circuit breakers off unless a test turns them on (breakers.rs,
        // ops.rs, status.rs): the other tests call failing tools in a row
        // on purpose and count what each call did.
        Self::new(path).var("breaker_failures", "0")
    }

    /// The bench's hop app (`tests/e2e/manifests/hop.toml`), its `hop`
    /// doing `extras` too (`HOP_EXTRAS`, tests/components/hop) with the
    /// default store granted, and with `gateway_variables` the app's
    /// variables, mapped to it as `spin.toml` maps them to the gateway.
    pub fn hop_with_extras(extras: &str, gateway_variables: bool) -> Self {
        let root = workspace_root();
        let mut doc: toml::Table =
            std::fs::read_to_string(root.join("tests/e2e/manifests/hop.toml")).unwrap().parse().unwrap();
        let target = target_dir().join("wasm32-wasip2/component");
        let comps = doc.get_mut("component").and_then(|c| c.as_table_mut()).unwrap();
        for (_, comp) in comps.iter_mut() {
            let comp = comp.as_table_mut().unwrap();
            let file = std::path::Path::new(comp["source"].as_str().unwrap()).file_name().unwrap().to_owned();
            comp.insert("source".into(), target.join(file).display().to_string().into());
        }
        let hop = comps.get_mut("hop").and_then(|c| c.as_table_mut()).unwrap();
        let env: toml::Table = [("HOP_EXTRAS".to_string(), extras.into())].into_iter().collect();
        hop.insert("environment".into(), env.into());
        hop.insert("key_value_stores".into(), toml::Value::Array(vec!["default".into()]));
        if gateway_variables {
            let app: toml::Table = std::fs::read_to_string(root.join("spin.toml")).unwrap().parse().unwrap();
            hop.insert("variables".into(), app["component"]["gateway"]["variables"].clone());
            doc.insert("variables".into(), app["variables"].clone());
        }
        let path = temp_dir("manifest").join("spin.toml");
        std::fs::write(&path, toml::to_string(&doc).unwrap()).unwrap();
        Self::new(path)
    }

    /// One more component on a private route (reached by service chaining
    /// only), built as `wasm` under the wasm32 target dir: a test-only tool
    /// component such as `conformance`.
    pub fn component(self, id: &str, wasm: &str) -> Self {
        let text = std::fs::read_to_string(&self.manifest).unwrap();
        let mut doc: toml::Table = text.parse().unwrap();
        let mut comp = toml::Table::new();
        let source = target_dir().join("wasm32-wasip2/component").join(wasm);
        comp.insert("source".into(), source.display().to_string().into());
        if let Some(toml::Value::Table(comps)) = doc.get_mut("component") {
            comps.insert(id.into(), toml::Value::Table(comp));
        }
        if let Some(toml::Value::Table(triggers)) = doc.get_mut("trigger") {
            if let Some(toml::Value::Array(http)) = triggers.get_mut("http") {
                let mut t = toml::Table::new();
                let mut private = toml::Table::new();
                private.insert("private".into(), true.into());
                t.insert("route".into(), toml::Value::Table(private));
                t.insert("component".into(), id.into());
                http.push(toml::Value::Table(t));
            }
        }
        let dir = temp_dir("manifest");
        let path = dir.join("spin.toml");
        std::fs::write(&path, toml::to_string(&doc).unwrap()).unwrap();
        Self { manifest: path, ..self }
    }

    /// A variable of component `id` (its `[component.<id>.variables]`),
    /// set to a literal value.
    pub fn component_variable(self, id: &str, name: &str, value: &str) -> Self {
        let text = std::fs::read_to_string(&self.manifest).unwrap();
        let mut doc: toml::Table = text.parse().unwrap();
        let comp = doc
            .get_mut("component")
            .and_then(|c| c.get_mut(id))
            .and_then(|c| c.as_table_mut())
            .expect("a component of the manifest");
        let vars = comp.entry("variables").or_insert_with(|| toml::Value::Table(toml::Table::new()));
        vars.as_table_mut().unwrap().insert(name.into(), value.into());
        let path = temp_dir("manifest").join("spin.toml");
        std::fs::write(&path, toml::to_string(&doc).unwrap()).unwrap();
        Self { manifest: path, ..self }
    }

    /// An environment variable of the host process (and of Spin's trigger
    /// process, which inherits it).
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_string(), value.to_string()));
        self
    }
    pub fn var(mut self, name: &str, value: &str) -> Self {
        self.env.push((format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase()), value.to_string()));
        self
    }
    /// Extra command-line arguments for the host, whichever it is: use flags
    /// both hosts take (e.g. `--max-instance-memory`), or only start such a
    /// host where it is the local one.
    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }
    pub fn state_dir(mut self, dir: &Path) -> Self {
        self.state_dir = dir.to_path_buf();
        self
    }
    /// Leaves the default SQLite store as Spin creates it (rollback journal)
    /// instead of preparing it as `make up` does.
    pub fn journal(mut self, journal: Journal) -> Self {
        self.journal = journal;
        self
    }
    pub fn redis(mut self, redis: &RedisServer) -> Self {
        self.runtime_config += &format!("[key_value_store.default]\ntype = \"redis\"\nurl = \"{}\"\n", redis.url());
        self
    }

    /// The metrics in a store of their own, in memory (Spin's
    /// `type = "spin"` without a path): every component that opens the
    /// default store may open `metrics` too, and `metrics_store` names it.
    pub fn metrics_in_memory(mut self) -> Self {
        let text = std::fs::read_to_string(&self.manifest).unwrap();
        let mut doc: toml::Table = text.parse().unwrap();
        if let Some(toml::Value::Table(comps)) = doc.get_mut("component") {
            for (_, comp) in comps.iter_mut() {
                if let Some(toml::Value::Array(stores)) = comp.as_table_mut().unwrap().get_mut("key_value_stores") {
                    if stores.iter().any(|s| s.as_str() == Some("default")) {
                        stores.push("metrics".into());
                    }
                }
            }
        }
        let dir = temp_dir("manifest");
        self.manifest = dir.join("spin.toml");
        std::fs::write(&self.manifest, toml::to_string(&doc).unwrap()).unwrap();
        self.runtime_config += "[key_value_store.metrics]\ntype = \"spin\"\n";
        self.var("metrics_store", "metrics")
    }
    /// The app's variables in a `static` provider of the runtime
    /// configuration, resolved at start from this builder's environment
    /// (then the process's) and the manifest's defaults, as `make up`
    /// gives them to Spin (`spinscope-variables`).
    pub fn static_variables(mut self) -> Self {
        self.static_variables = true;
        self
    }

    /// A section of Spin's runtime configuration file, as written.
    pub fn runtime_config_section(mut self, text: &str) -> Self {
        self.runtime_config += text;
        self
    }
    pub fn start(self) -> Host {
        self.try_start().unwrap_or_else(|e| panic!("host did not start: {e}"))
    }

    /// Starts the host and waits for its "Serving" line; on failure returns
    /// what it printed.
    pub fn try_start(mut self) -> Result<Host, String> {
        let kind = host_kind();
        if self.journal == Journal::Wal {
            spinscope_sqlite::prepare(&self.state_dir).map_err(|e| e.to_string())?;
        }
        if self.static_variables {
            let manifest = std::fs::read_to_string(&self.manifest).map_err(|e| e.to_string())?;
            let env = |key: &str| {
                let set = self.env.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.clone());
                set.or_else(|| std::env::var(key).ok())
            };
            let resolved =
                spinscope_variables::resolve(&manifest, env, &Default::default()).map_err(|e| e.to_string())?;
            let section = spinscope_variables::runtime_config(None, &resolved).map_err(|e| e.to_string())?;
            self.runtime_config = format!("{}\n{section}", self.runtime_config);
        }
        let runtime_config = if self.runtime_config.is_empty() {
            None
        } else {
            let path = self.state_dir.join("runtime-config.toml");
            std::fs::write(&path, &self.runtime_config).map_err(|e| e.to_string())?;
            Some(path)
        };
        // The local host takes port 0 and prints the one it got; Spin needs a
        // port of its own: take a free one, and another if it was taken
        // between the check and Spin's bind.
        let mut attempts = 0;
        loop {
            let (mut cmd, listen) = match kind {
                HostKind::Local => {
                    let mut cmd = Command::new(host_binary());
                    cmd.arg("up");
                    (cmd, "127.0.0.1:0".to_string())
                }
                HostKind::Spin => {
                    let bin =
                        spin_binary().expect("SPINSCOPE_E2E_HOST=spin but no Spin: set SPIN_BIN or put `spin` on PATH");
                    let mut cmd = Command::new(bin);
                    cmd.arg("up");
                    (cmd, format!("127.0.0.1:{}", free_port()))
                }
            };
            cmd.arg("-f")
                .arg(&self.manifest)
                .arg("--listen")
                .arg(&listen)
                .arg("--state-dir")
                .arg(&self.state_dir)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .stdin(Stdio::null());
            if let Some(path) = &runtime_config {
                cmd.arg("--runtime-config-file").arg(path);
            }
            cmd.args(&self.args);
            for (k, v) in &self.env {
                cmd.env(k, v);
            }
            match launch(cmd, kind, &self.state_dir) {
                Err(e) if kind == HostKind::Spin && e.contains("already in use") && attempts < 10 => attempts += 1,
                other => return other,
            }
        }
    }
}

fn launch(mut cmd: Command, kind: HostKind, state_dir: &Path) -> Result<Host, String> {
    // A process group of its own: `spin up` runs the app in a child process
    // (`spin trigger http`) that outlives a killed parent, so the whole
    // group is killed (see `kill_group`).
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd.spawn().map_err(|e| format!("{cmd:?}: {e}"))?;
    let stdout = Output::default();
    let stderr = Output::default();
    let (tx, rx) = std::sync::mpsc::channel();
    let out_done = pump(child.stdout.take().unwrap(), stdout.clone(), Some(tx));
    let err_done = pump(child.stderr.take().unwrap(), stderr.clone(), None);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(url) => {
                let host = Host { child, kind, url, stdout, stderr, state_dir: state_dir.to_path_buf() };
                // Spin prints its banner as it starts serving; make sure the
                // port answers before a test talks to it.
                let addr = host.url.trim_start_matches("http://").trim_end_matches('/').to_string();
                while TcpStream::connect(&addr).is_err() {
                    if Instant::now() > deadline {
                        return Err(format!("{} printed its URL but does not accept connections", host.url));
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                return Ok(host);
            }
            Err(_) => {
                if let Ok(Some(status)) = child.try_wait() {
                    // Everything it printed, then why it stopped.
                    let _ = out_done.recv_timeout(Duration::from_secs(5));
                    let _ = err_done.recv_timeout(Duration::from_secs(5));
                    return Err(format!("{kind:?} host exited with {status}: {}\n{}", stderr.text(), stdout.text()));
                }
                if Instant::now() > deadline {
                    kill_group(&mut child);
                    return Err(format!("{kind:?} host did not print its URL in time: {}", stderr.text()));
                }
            }
        }
    }
}

/// Reads `stream` line by line into `into`; sends the URL of a "Serving"
/// line to `url`. The returned channel is told when the stream ends.
fn pump(
    stream: impl Read + Send + 'static,
    into: Output,
    url: Option<std::sync::mpsc::Sender<String>>,
) -> std::sync::mpsc::Receiver<()> {
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if let (Some(tx), Some(rest)) = (&url, line.trim().strip_prefix("Serving ")) {
                let _ = tx.send(rest.trim().to_string());
            }
            into.0.lock().unwrap().push(line);
        }
        let _ = done_tx.send(());
    });
    done_rx
}

/// A running host; killed on drop.
pub struct Host {
    child: Child,
    /// Which host this is.
    pub kind: HostKind,
    pub url: String,
    /// What the host itself printed on stdout: its banner and routes.
    pub stdout: Output,
    /// The host's stderr: its own messages and every component's output.
    pub stderr: Output,
    pub state_dir: PathBuf,
}

/// How long [`Host::wait_for_log`] and [`Host::wait_for_logs`] wait.
pub const LOG_WAIT: Duration = Duration::from_secs(20);

/// How long a test waits for an answer that needs a store that is gone: the
/// local host fails such a request at once, while Spin's Redis store waits
/// for Redis and the request stays unanswered (docs/host.md).
pub const DEAD_STORE_WAIT: Duration = Duration::from_secs(5);

impl Host {
    /// The components' output lines (stdout and stderr of every component),
    /// in the order the host printed them. Both Spin and the local host
    /// print them on their stderr, between their own messages.
    pub fn logs(&self) -> Vec<String> {
        self.stderr.lines()
    }

    /// Waits until `done` holds for the component output so far (at most
    /// [`LOG_WAIT`]) and returns the lines either way, for the caller's
    /// assertions to explain a miss.
    pub fn wait_for_logs(&self, done: impl Fn(&[String]) -> bool) -> Vec<String> {
        let deadline = Instant::now() + LOG_WAIT;
        loop {
            let lines = self.logs();
            if done(&lines) || Instant::now() > deadline {
                return lines;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// The first component output line that satisfies `pred`, waiting for it
    /// (at most [`LOG_WAIT`]); panics with the output when none does.
    pub fn wait_for_log(&self, pred: impl Fn(&str) -> bool) -> String {
        let lines = self.wait_for_logs(|lines| lines.iter().any(|l| pred(l)));
        match lines.iter().find(|l| pred(l)) {
            Some(line) => line.clone(),
            None => panic!("no such component output line within {LOG_WAIT:?}; output was:\n{}", lines.join("\n")),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }
    pub fn get(&self, path: &str) -> Reply {
        request("GET", &self.url(path), &[], None)
    }
    pub fn post(&self, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
        request("POST", &self.url(path), headers, Some(body.as_bytes()))
    }
    pub fn stop(mut self) -> PathBuf {
        kill_group(&mut self.child);
        self.state_dir.clone()
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        kill_group(&mut self.child);
    }
}

impl Host {
    /// Reads the CPU time the host uses (see [`CpuMeter`]).
    pub fn cpu_meter(&self) -> CpuMeter {
        CpuMeter(self.child.id())
    }
}

/// The CPU time (user + system) used so far by a host's live processes:
/// every process of its group, Spin's trigger process included. For
/// benchmarks: unlike throughput, it hardly moves with the load other
/// programs put on the machine.
#[derive(Debug, Clone, Copy)]
pub struct CpuMeter(u32);

impl CpuMeter {
    pub fn read(&self) -> Duration {
        group_cpu_time(self.0)
    }
}

/// Sums `utime + stime` over the processes whose group is `pgid`
/// (`/proc/<pid>/stat` fields 14 and 15, in USER_HZ ticks: 100 per second
/// on every Linux architecture's user-space ABI).
fn group_cpu_time(pgid: u32) -> Duration {
    let mut ticks = 0u64;
    let Ok(entries) = std::fs::read_dir("/proc") else { return Duration::ZERO };
    for entry in entries.flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // The command name may hold spaces and parentheses: fields start after the last ')'.
        let Some(end) = stat.rfind(')') else { continue };
        let fields: Vec<&str> = stat[end + 1..].split_whitespace().collect();
        // fields[0] is field 3 (state): pgrp is field 5, utime 14, stime 15.
        if fields.len() > 12 && fields[2].parse::<u32>().ok() == Some(pgid) {
            ticks += fields[11].parse::<u64>().unwrap_or(0) + fields[12].parse::<u64>().unwrap_or(0);
        }
    }
    Duration::from_millis(ticks * 10)
}

/// Kills a host and every process of its group (Spin's trigger process
/// included), then reaps it.
fn kill_group(child: &mut Child) {
    let _ = Command::new("kill").args(["-s", "KILL", "--", &format!("-{}", child.id())]).stderr(Stdio::null()).status();
    let _ = child.kill();
    let _ = child.wait();
}

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new().timeout(Duration::from_secs(120)).build()
}

/// One HTTP request that gives up after `timeout`: `None` when no answer
/// came in time, else any status as a `Reply`; other transport errors panic.
pub fn request_within(
    timeout: Duration,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Option<Reply> {
    let agent = ureq::AgentBuilder::new().timeout(timeout).build();
    match exchange(agent.request(method, url), headers, body) {
        Ok(reply) => Some(reply),
        Err(Failure::TimedOut) => None,
        Err(Failure::Other(e)) => panic!("{method} {url}: {e}"),
    }
}

/// Why an exchange gave no reply.
enum Failure {
    TimedOut,
    Other(String),
}

/// Sends `req` with `headers` and `body`; any status is a `Reply`.
fn exchange(mut req: ureq::Request, headers: &[(&str, &str)], body: Option<&[u8]>) -> Result<Reply, Failure> {
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let result = match body {
        Some(b) => req.send_bytes(b),
        None => req.call(),
    };
    let resp = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(ureq::Error::Transport(t)) if is_timeout(&t) => return Err(Failure::TimedOut),
        Err(e) => return Err(Failure::Other(e.to_string())),
    };
    let status = resp.status();
    let headers = resp
        .headers_names()
        .into_iter()
        .flat_map(|n| resp.all(&n).into_iter().map(|v| (n.clone(), v.to_string())).collect::<Vec<_>>())
        .collect();
    let mut bytes = Vec::new();
    if let Err(e) = resp.into_reader().take(64 << 20).read_to_end(&mut bytes) {
        let timed_out = matches!(e.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock);
        return Err(if timed_out { Failure::TimedOut } else { Failure::Other(e.to_string()) });
    }
    Ok(Reply { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() })
}

fn is_timeout(t: &ureq::Transport) -> bool {
    use std::error::Error;
    let mut source: Option<&(dyn Error + 'static)> = t.source();
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if matches!(io.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock) {
                return true;
            }
        }
        source = e.source();
    }
    t.to_string().to_lowercase().contains("timed out")
}

/// One HTTP request; any status is a `Reply`, only transport errors panic.
pub fn request(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Reply {
    thread_local!(static AGENT: ureq::Agent = agent());
    match exchange(AGENT.with(|a| a.request(method, url)), headers, body) {
        Ok(reply) => reply,
        Err(Failure::TimedOut) => panic!("{method} {url}: timed out"),
        Err(Failure::Other(e)) => panic!("{method} {url}: {e}"),
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A real `redis-server` (Debian's package) on a free loopback port.
pub struct RedisServer {
    child: Child,
    port: u16,
}

impl RedisServer {
    pub fn start() -> RedisServer {
        let port = free_port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server not found: `make test` installs it (apt-get install redis-server)");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        RedisServer { child, port }
    }
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
    /// Runs one command on a connection of its own (so it counts in `INFO
    /// stats` as one connection) and returns the reply as RESP text, e.g.
    /// `$3\r\n642\r\n`; an error reply is `-ERR ...\r\n`.
    pub fn command(&self, args: &[&str]) -> String {
        let (name, rest) = args.split_first().expect("a Redis command");
        let client = redis::Client::open(self.url()).unwrap();
        let mut con = client.get_connection_with_timeout(Duration::from_secs(5)).unwrap();
        con.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        match redis::cmd(name).arg(rest).query::<redis::Value>(&mut con) {
            Ok(value) => resp(&value),
            Err(e) => format!("-{} {}\r\n", e.code().unwrap_or("ERR"), e.detail().unwrap_or_default()),
        }
    }
    /// Commands run so far, by name (`INFO commandstats`), leaving out the
    /// ones a client sends to ask (`INFO`, `CLIENT`, `HELLO`).
    pub fn commandstats(&self) -> std::collections::BTreeMap<String, u64> {
        let info = self.command(&["INFO", "commandstats"]);
        info.lines()
            .filter_map(|l| l.strip_prefix("cmdstat_"))
            .filter_map(|l| {
                let (name, rest) = l.split_once(':')?;
                let calls = rest.split(',').find_map(|f| f.strip_prefix("calls="))?.parse().ok()?;
                Some((name.to_string(), calls))
            })
            .filter(|(name, _)| !matches!(name.as_str(), "info" | "client" | "hello"))
            .collect()
    }
    /// How often Redis ran `command` and how often it refused it before
    /// running it (arity errors: `INFO commandstats`' `calls` and
    /// `rejected_calls`), since it started.
    pub fn command_calls(&self, command: &str) -> (u64, u64) {
        let info = self.command(&["INFO", "commandstats"]);
        let prefix = format!("cmdstat_{command}:");
        let line = info.lines().find_map(|l| l.strip_prefix(prefix.as_str())).unwrap_or("").to_string();
        let field = |name: &str| line.split(',').find_map(|f| f.strip_prefix(name)).map_or(0, |v| v.parse().unwrap());
        (field("calls="), field("rejected_calls="))
    }
    /// [`RedisServer::commandstats`] once the gateway's recordings (made
    /// after each answer) have finished: two reads 200 ms apart that agree.
    pub fn settled_commandstats(&self) -> std::collections::BTreeMap<String, u64> {
        let mut last = self.commandstats();
        for _ in 0..50 {
            std::thread::sleep(Duration::from_millis(200));
            let now = self.commandstats();
            if now == last {
                return now;
            }
            last = now;
        }
        panic!("Redis never went quiet: {last:?}");
    }
    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What `calls` calls cost between two [`RedisServer::commandstats`]
/// readings, by command, per call; commands not run are left out.
pub fn commands_per_call(
    before: &std::collections::BTreeMap<String, u64>,
    after: &std::collections::BTreeMap<String, u64>,
    calls: u64,
) -> std::collections::BTreeMap<String, f64> {
    after
        .iter()
        .map(|(name, n)| (name.clone(), (n - before.get(name).copied().unwrap_or(0)) as f64 / calls as f64))
        .filter(|(_, n)| *n > 0.0)
        .collect()
}

/// A reply as Redis sent it (RESP2).
fn resp(value: &redis::Value) -> String {
    use redis::Value;
    match value {
        Value::Nil => "$-1\r\n".into(),
        Value::Int(i) => format!(":{i}\r\n"),
        Value::BulkString(bytes) => format!("${}\r\n{}\r\n", bytes.len(), String::from_utf8_lossy(bytes)),
        Value::Array(items) => items.iter().fold(format!("*{}\r\n", items.len()), |out, item| out + &resp(item)),
        Value::SimpleString(s) => format!("+{s}\r\n"),
        Value::Okay => "+OK\r\n".into(),
        Value::ServerError(e) => format!("-{} {}\r\n", e.code(), e.details().unwrap_or_default()),
        other => panic!("a RESP3 reply on a RESP2 connection: {other:?}"),
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `per_thread` requests on each of `threads` threads at once.
pub fn concurrently<T: Send + 'static>(
    threads: usize,
    per_thread: usize,
    f: impl Fn(usize) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let f = Arc::new(f);
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let f = f.clone();
            std::thread::spawn(move || (0..per_thread).map(|i| f(t * per_thread + i)).collect::<Vec<T>>())
        })
        .collect();
    handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
}

/// A minimal MCP client over Streamable HTTP, as SDKs speak it.
pub struct Mcp<'a> {
    pub host: &'a Host,
    pub session: Option<String>,
    pub protocol_version: Option<String>,
    next_id: i64,
}

impl<'a> Mcp<'a> {
    pub fn new(host: &'a Host) -> Self {
        Mcp { host, session: None, protocol_version: None, next_id: 1 }
    }

    /// `initialize` + `notifications/initialized`; returns the initialize reply.
    pub fn connect(host: &'a Host) -> (Self, Reply) {
        let mut mcp = Mcp::new(host);
        let reply = mcp.request(
            "initialize",
            serde_json::json!({
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "e2e", "version": "1"}
            }),
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
        mcp.session = Some(reply.header("mcp-session-id").expect("session id").to_string());
        mcp.protocol_version = Some(reply.json()["result"]["protocolVersion"].as_str().unwrap().to_string());
        let ack = mcp.notify("notifications/initialized");
        assert_eq!(ack.status, 202, "{}", ack.body);
        (mcp, reply)
    }

    pub fn headers(&self) -> Vec<(String, String)> {
        let mut h = vec![
            ("content-type".to_string(), "application/json".to_string()),
            ("accept".to_string(), "application/json, text/event-stream".to_string()),
        ];
        if let Some(s) = &self.session {
            h.push(("mcp-session-id".into(), s.clone()));
        }
        if let Some(v) = &self.protocol_version {
            h.push(("mcp-protocol-version".into(), v.clone()));
        }
        h
    }

    pub fn post_raw(&self, body: &str, extra: &[(&str, &str)]) -> Reply {
        let owned = self.headers();
        let mut headers: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        headers.extend_from_slice(extra);
        self.host.post("/mcp", &headers, body)
    }

    pub fn request(&mut self, method: &str, params: serde_json::Value) -> Reply {
        let id = self.next_id;
        self.next_id += 1;
        let body = serde_json::json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.post_raw(&body.to_string(), &[])
    }

    pub fn notify(&self, method: &str) -> Reply {
        self.post_raw(&serde_json::json!({"jsonrpc": "2.0", "method": method}).to_string(), &[])
    }

    /// `tools/call`, asserting a JSON-RPC result; returns the CallToolResult.
    pub fn call_tool(&mut self, name: &str, arguments: serde_json::Value) -> serde_json::Value {
        let reply = self.request("tools/call", serde_json::json!({"name": name, "arguments": arguments}));
        assert_eq!(reply.status, 200, "{}", reply.body);
        let json = reply.json();
        assert!(json.get("error").is_none(), "{json}");
        json["result"].clone()
    }
}

/// The text of a CallToolResult's first text item.
pub fn result_text(result: &serde_json::Value) -> String {
    result["content"][0]["text"].as_str().unwrap_or_default().to_string()
}

/// A state directory whose default SQLite store (Spin's file and schema)
/// already holds `entries`, for tests that start a host on prepared data.
pub fn state_with_store(entries: &[(String, Vec<u8>)]) -> PathBuf {
    let state = temp_dir("state");
    let db = rusqlite::Connection::open(state.join(spinscope_sqlite::FILE_NAME)).unwrap();
    db.execute_batch(spinscope_sqlite::SPIN_SCHEMA).unwrap();
    for (key, value) in entries {
        db.execute(
            "INSERT INTO spin_key_value (store, key, value) VALUES ('default', ?1, ?2)",
            rusqlite::params![key, value],
        )
        .unwrap();
    }
    state
}
