//! The closed-loop load: requests sent back to back by `CLIENTS` threads in
//! short slices, their samples, and the rows they print.

use super::*;

pub(crate) const CLIENTS: usize = 32;

/// One request of a load: URL, headers, optional POST body.
#[derive(Clone)]
pub(crate) struct Req {
    pub(crate) url: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Option<String>,
    /// The CPU time of the host that serves it.
    pub(crate) cpu: CpuMeter,
    /// What its work moves in the host's store, when the bench counts it.
    pub(crate) committed: Option<Committed>,
}

/// Sends `req` on this thread's connection; the status, or why there was none.
pub(crate) fn send(req: &Req) -> Result<u16, String> {
    thread_local!(static AGENT: ureq::Agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(60)).build());
    let mut r = AGENT.with(|a| a.request(if req.body.is_some() { "POST" } else { "GET" }, &req.url));
    for (k, v) in &req.headers {
        r = r.set(k, v);
    }
    let result = match &req.body {
        Some(b) => r.send_string(b),
        None => r.call(),
    };
    let resp = match result {
        Ok(resp) => resp,
        Err(ureq::Error::Status(_, resp)) => resp,
        Err(e) => return Err(e.to_string()),
    };
    let status = resp.status();
    let mut sink = Vec::new();
    resp.into_reader().take(16 << 20).read_to_end(&mut sink).map_err(|e| e.to_string())?;
    Ok(status)
}

#[derive(Clone, Copy)]
pub(crate) struct Run {
    pub(crate) per_sec: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
}

pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

pub(crate) fn run_of(times_ms: &[f64], seconds: f64) -> Run {
    let mut t = times_ms.to_vec();
    t.sort_by(|a, b| a.partial_cmp(b).unwrap());
    Run { per_sec: t.len() as f64 / seconds.max(1e-9), p50_ms: percentile(&t, 0.5), p99_ms: percentile(&t, 0.99) }
}

/// What the slices of one configuration added up to.
#[derive(Default, Clone)]
pub(crate) struct Samples {
    pub(crate) times_ms: Vec<f64>,
    pub(crate) seconds: f64,
    /// Each slice on its own, in round order.
    pub(crate) slices: Vec<Run>,
    /// Non-2xx answers and transport errors, with one example.
    pub(crate) failures: usize,
    pub(crate) example_failure: Option<String>,
    /// The host's CPU time over the slices (and the pause after each, when
    /// the recordings of the last answers finish), and the requests it served
    /// meanwhile, those answered after a slice's end included.
    pub(crate) cpu: Duration,
    pub(crate) served: usize,
    /// What the store committed over the slices (`Req::committed`), and
    /// the time between the reads before and after each slice.
    pub(crate) committed: u64,
    pub(crate) committed_seconds: f64,
}

impl Samples {
    pub(crate) fn run(&self) -> Run {
        run_of(&self.times_ms, self.seconds)
    }
    /// The host's CPU time per request, in ms.
    pub(crate) fn cpu_ms(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e3 / self.served.max(1) as f64
    }
    /// What the store committed per second, when it was counted.
    pub(crate) fn committed_per_sec(&self) -> Option<f64> {
        (self.committed_seconds > 0.0).then(|| self.committed as f64 / self.committed_seconds)
    }
}

/// `CLIENTS` threads send `req` back to back for `length`. Only answers
/// that come within the slice count (throughput over the slice's length,
/// latencies); the requests still in flight at its end are waited for and
/// dropped, so a slow tail neither stretches nor shortens the slice.
pub(crate) fn slice(req: &Req, length: Duration, settle: Duration, into: &mut Samples) {
    let cpu_before = req.cpu.read();

    let deadline = Instant::now() + length;
    let req = Arc::new(req.clone());
    let threads: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let req = req.clone();
            std::thread::spawn(move || {
                let mut times = Vec::new();
                let mut failures = Vec::new();
                let mut served = 0;
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let outcome = send(&req);
                    served += 1;
                    if Instant::now() > deadline {
                        break;
                    }
                    times.push(t.elapsed().as_secs_f64() * 1e3);
                    match outcome {
                        Ok(status) if (200..300).contains(&status) => {}
                        Ok(status) => failures.push(format!("status {status}")),
                        Err(e) => failures.push(e),
                    }
                }
                (times, failures, served)
            })
        })
        .collect();
    // The store's count over the slice's last three quarters, when the
    // calls' pipeline is full (a call is answered, then recorded, a call's
    // latency after it starts), read as the slice ends, before its last
    // answers are waited for.
    let committed_before = req.committed.as_ref().and_then(|c| {
        std::thread::sleep(length / 4);
        quick_read(c)
    });
    std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
    if let (Some(c), Some((before, at))) = (&req.committed, committed_before) {
        if let Some((after, now)) = quick_read(c) {
            into.committed += after.saturating_sub(before);
            into.committed_seconds += now.duration_since(at).as_secs_f64();
        }
    }
    let mut times = Vec::new();
    for t in threads {
        let (mine, failures, served) = t.join().unwrap();
        into.served += served;
        times.extend(mine);
        into.failures += failures.len();
        if into.example_failure.is_none() {
            into.example_failure = failures.into_iter().next();
        }
    }
    into.slices.push(run_of(&times, length.as_secs_f64()));
    into.times_ms.extend(times);
    into.seconds += length.as_secs_f64();
    std::thread::sleep(settle);
    into.cpu += req.cpu.read().saturating_sub(cpu_before);
}

/// The store's count and when it was read, if the read was quick enough to
/// date it. With SQLite's rollback journal a reader waits for a moment
/// when no write is pending, which under load can take seconds (or fail
/// after the 5 s busy timeout): such a slice is not counted.
pub(crate) fn quick_read(committed: &Committed) -> Option<(u64, Instant)> {
    let started = Instant::now();
    let count = committed.read().ok()?;
    let now = Instant::now();
    (now - started < Duration::from_millis(50)).then_some((count, now))
}

/// One configuration under load: its row name, host, request, samples.
pub(crate) struct Config {
    pub(crate) name: String,
    pub(crate) kind: HostKind,
    pub(crate) req: Req,
    pub(crate) samples: Samples,
    pub(crate) host: Option<Host>,
}

impl Config {
    pub(crate) fn new(name: impl Into<String>, kind: HostKind, req: Req, host: Host) -> Config {
        Config { name: name.into(), kind, req, samples: Samples::default(), host: Some(host) }
    }
}

impl Drop for Config {
    fn drop(&mut self) {
        if let Some(host) = self.host.take() {
            stop(host);
        }
    }
}

/// Warms every configuration up, then measures them in turn, round after
/// round; every other round runs in reverse order.
pub(crate) fn measure(configs: &mut [Config], plan: &Plan) {
    for c in configs.iter() {
        slice(&c.req, plan.warmup, plan.settle, &mut Samples::default());
    }
    for round in 0..plan.rounds {
        let mut order: Vec<usize> = (0..configs.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for i in order {
            let c = &mut configs[i];
            slice(&c.req, plan.slice, plan.settle, &mut c.samples);
        }
    }
}

/// Every measured row, by (row name, host).
pub(crate) type Results = BTreeMap<(String, &'static str), Samples>;

pub(crate) fn report(configs: &[Config], results: &mut Results) {
    for c in configs {
        let r = c.samples.run();
        let failures = match c.samples.failures {
            0 => String::new(),
            n => format!("   {n} failed, e.g. {}", c.samples.example_failure.as_deref().unwrap_or("?")),
        };
        println!(
            "  {:<36} {:<5} {:>6.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms   host CPU {:.2} ms/req{failures}",
            c.name,
            label(c.kind),
            r.per_sec,
            r.p50_ms,
            r.p99_ms,
            c.samples.cpu_ms()
        );
        results.insert((c.name.clone(), label(c.kind)), c.samples.clone());
    }
}

pub(crate) fn get(host: &Host, path: &str) -> Req {
    Req { url: host.url(path), headers: vec![], body: None, cpu: host.cpu_meter(), committed: None }
}

/// An MCP `tools/call` on a session of `host`.
pub(crate) fn tool_call(host: &Host) -> Req {
    tool_call_of(host, "word_count", json!({"text":"the quick brown fox"}))
}

/// A 2026-07-28 `tools/call` of `word_count` (no session) with `extra` headers.
pub(crate) fn modern_call(host: &Host, extra: &[(&str, &str)]) -> Req {
    let request = ModernRequest::call("word_count", json!({"text":"the quick brown fox"}));
    let mut headers = request.headers.clone();
    headers.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Req {
        url: host.url("/mcp"),
        headers,
        body: Some(request.body().to_string()),
        cpu: host.cpu_meter(),
        committed: None,
    }
}

/// A `tools/call` of `tool` with `arguments`, in a session of its own.
pub(crate) fn tool_call_of(host: &Host, tool: &str, arguments: serde_json::Value) -> Req {
    let (mcp, _) = Mcp::connect(host);
    let body = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":tool,"arguments":arguments}});
    Req {
        url: host.url("/mcp"),
        headers: mcp.headers(),
        body: Some(body.to_string()),
        cpu: host.cpu_meter(),
        committed: None,
    }
}
