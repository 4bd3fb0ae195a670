//! The local host's guest profiler (`--profile-component`, `make profile`):
//! the profile is written after the requests asked for, in the Firefox
//! profiler's format, with samples of the component's own functions. No
//! timing here. The flag is the local host's alone: on Spin there is
//! nothing to test.

use serde_json::{json, Value};
use spinscope_e2e::*;
use std::time::{Duration, Instant};

#[test]
fn a_guest_profile_is_written_after_the_requests_asked_for() {
    if host_kind() == HostKind::Spin {
        return;
    }
    let out = temp_dir("profile").join("gateway.profile.json");
    let host = HostBuilder::app(Some(&["gateway", "text-tools"]))
        .var("tool_components", "text-tools")
        .args(&[
            "--profile-component",
            "gateway",
            "--profile-out",
            &out.display().to_string(),
            "--profile-requests",
            "100",
            "--profile-interval",
            "100us",
        ])
        .start();
    assert!(host.stdout.text().contains("Profiling component 'gateway'"), "{}", host.stdout.text());
    let mut mcp = Mcp::connect(&host).0;
    // initialize and its notification were two requests; a few spare calls
    // cover whatever else the gateway served.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !out.exists() && Instant::now() < deadline {
        mcp.call_tool("word_count", json!({"text": "the quick brown fox jumps"}));
    }
    let line = host.wait_for_log(|l| l.starts_with("Profile of component 'gateway' over 100 requests"));
    let profile: Value = serde_json::from_slice(&std::fs::read(&out).expect("the profile file")).expect("JSON");
    let samples: u64 = profile["threads"]
        .as_array()
        .expect("threads")
        .iter()
        .map(|t| t["samples"]["length"].as_u64().unwrap_or(0))
        .sum();
    assert!(samples > 0, "{line}");
    assert!(profile["meta"]["product"].as_str().is_some_and(|p| p.contains("gateway")), "{}", profile["meta"]);
    // The gateway's own functions are named in it (every sample is under
    // its `handle`).
    assert!(profile.to_string().contains("gateway::"), "no function names of the gateway's");
    let _ = std::fs::remove_dir_all(host.stop());
}
