//! The tool components as the gateway and readiness reach them (FTL's
//! contract): `GET /` on `http://<component>.spin.internal` lists a
//! component's tools, `POST /<tool>` calls one. One place builds the URLs
//! and asks every component for its list, all at once under one deadline.

use crate::outbound::{self, Outgoing, Reply, SendFailure};
use spinscope::gateway::tool_map::{component_url, MAX_METADATA_BYTES};
use spinscope::gateway::tool_result::ToolAnswer;
use std::time::Duration;

/// The transport's account of one call as plain data, for the library's
/// decisions (`spinscope::gateway::tool_result`, `tool_map`).
pub fn answer(reply: Result<Reply, SendFailure>) -> ToolAnswer {
    match reply {
        Ok(r) => ToolAnswer::Answered { status: r.status, body: r.body, truncated: r.truncated },
        Err(SendFailure::Timeout) => ToolAnswer::Timeout,
        Err(SendFailure::Http(code)) => ToolAnswer::HttpError(code),
        Err(e) => ToolAnswer::Unreachable(e.to_string()),
    }
}

/// Every component's answer to `GET /`, in the order given, asked
/// concurrently; none waits longer than `timeout`.
pub fn list_tools(components: &[String], timeout: Duration) -> Vec<Result<Reply, SendFailure>> {
    let requests =
        components.iter().map(|c| Outgoing::get(component_url(c, "/")).header("accept", "application/json")).collect();
    outbound::send_all(requests, timeout, MAX_METADATA_BYTES)
}

/// The header of the gateway's `GET /` that asks a component for its whole
/// catalog (tools, prompts, resources, templates, completions; docs/tools.md).
pub const CATALOG_HEADER: &str = "spinscope-catalog";

/// Like [`list_tools`], asking for each component's whole catalog: a
/// component that knows only FTL's contract answers its tool array.
pub fn list_catalog(components: &[String], timeout: Duration) -> Vec<Result<Reply, SendFailure>> {
    let requests = components
        .iter()
        .map(|c| Outgoing::get(component_url(c, "/")).header("accept", "application/json").header(CATALOG_HEADER, "1"))
        .collect();
    outbound::send_all(requests, timeout, MAX_METADATA_BYTES)
}
