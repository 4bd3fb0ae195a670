//! The official MCP conformance suite (npm `@modelcontextprotocol/conformance`,
//! pinned in `tests/e2e/conformance/`) against the gateway on the host under
//! test, with the `conformance` test component behind it: every scenario a
//! revision requires, for `--requirements 2026-07-28` and `2025-11-25`
//! (`scripts/conformance.sh`). A scenario may fail only when
//! `tests/e2e/conformance/expected-failures.yaml` lists it, with its reason
//! (docs/protocol.md, "Conformance"); one listed that passes fails the run
//! too, so the file stays true. The suite and its Node are what
//! `make deps` (scripts/install-deps.sh) installs under `target/conformance`:
//! when they are missing the test fails and says so, it never skips.

use spinscope_e2e::*;
use std::process::Command;

#[test]
fn the_official_conformance_suite_passes_but_for_documented_exceptions() {
    let host = HostBuilder::app(Some(&["gateway", "metrics"]))
        .component("conformance", "conformance.wasm")
        .var("tool_components", "conformance")
        .start();
    let out = Command::new("bash")
        .arg(workspace_root().join("scripts/conformance.sh"))
        .arg(host.url("/mcp"))
        .output()
        .expect("run scripts/conformance.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The table, for `make conformance` (run with --nocapture) and for a failure.
    println!("{stdout}");
    assert!(out.status.success(), "the conformance suite failed on {:?}:\n{stdout}\n{stderr}", host_kind());
    for revision in ["2026-07-28", "2025-11-25"] {
        assert!(stdout.contains(&format!("--requirements {revision}: exit 0")), "{revision} did not run:\n{stdout}");
    }
}
