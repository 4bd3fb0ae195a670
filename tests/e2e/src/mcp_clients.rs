//! The official MCP client SDKs as subprocesses: Python and node from what
//! `make deps` (scripts/install-deps.sh) installs under
//! `target/mcp-clients`; when that is missing the test fails and says so,
//! it never skips.

use crate::workspace_root;
use serde_json::Value;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A client run that takes longer is killed and the test fails.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(120);

/// Where scripts/install-deps.sh put the client SDKs.
pub fn installed(relative: &str) -> PathBuf {
    let path = workspace_root().join("target/mcp-clients").join(relative);
    assert!(
        path.exists(),
        "{} is missing: the MCP client SDKs are installed by `make deps` (bash scripts/install-deps.sh)",
        path.display()
    );
    path
}

pub fn client_script(name: &str) -> PathBuf {
    workspace_root().join("tests/e2e/clients").join(name)
}

/// Runs a client program to its end (at most [`CLIENT_TIMEOUT`]) and parses
/// the one JSON object it prints; fails with its output otherwise.
pub fn run_client(mut cmd: Command) -> Value {
    let what = format!("{cmd:?}");
    // Loopback only: no proxy from the environment may get in between.
    cmd.env("NO_PROXY", "127.0.0.1,localhost").env("no_proxy", "127.0.0.1,localhost");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + CLIENT_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (stdout, stderr) = (out.join().unwrap(), err.join().unwrap());
    match status {
        Some(s) if s.success() => serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("{what} printed no JSON ({e}):\n{stdout}\nstderr:\n{stderr}")),
        Some(s) => panic!("{what} failed ({s}):\nstdout:\n{stdout}\nstderr:\n{stderr}"),
        None => panic!("{what} still running after {CLIENT_TIMEOUT:?}, killed:\nstdout:\n{stdout}\nstderr:\n{stderr}"),
    }
}
