//! The tool components as the gateway and readiness reach them (FTL's
//! contract): `GET /` on `http://<component>.spin.internal` lists a
//! component's tools, `POST /<tool>` calls one. One place builds the URLs
//! and asks every component for its list, all at once under one deadline.

use crate::outbound::{self, Outgoing, Reply, SendFailure};
use std::time::Duration;

/// The largest tool list read from a component.
pub const MAX_METADATA_BYTES: usize = 4 << 20;

/// `path` on `component`, reached by Spin service chaining.
pub fn component_url(component: &str, path: &str) -> String {
    format!("http://{component}.spin.internal{path}")
}

/// Every component's answer to `GET /`, in the order given, asked
/// concurrently; none waits longer than `timeout`.
pub fn list_tools(components: &[String], timeout: Duration) -> Vec<Result<Reply, SendFailure>> {
    let requests =
        components.iter().map(|c| Outgoing::get(component_url(c, "/")).header("accept", "application/json")).collect();
    outbound::send_all(requests, timeout, MAX_METADATA_BYTES)
}
