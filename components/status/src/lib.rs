//! The status page (`GET /status`) and the redirect of `/` to it.
//!
//! The page is static (`page.html`, embedded at build time): it reads no
//! variable and no store, and shows nothing by itself. Its script polls
//! `/metrics?format=json` and `/health/detailed`, and once a minute
//! `/audit/verify`, with the key the person typed, so it shows exactly
//! what those endpoints show to that key (see
//! docs/status-page.md). Strict headers: the Content-Security-Policy allows
//! only the page's own inline script and style (by hash) and `fetch` to
//! this origin.

use serde_json::json;
use spin_sdk::http::{IncomingRequest, IntoResponse, Response};
use spin_sdk::http_component;
use spinscope::status_page::content_security_policy;
use spinscope_spin::respond::{self, json_response};

const PAGE: &str = include_str!("page.html");

#[http_component]
fn handle(req: IncomingRequest) -> anyhow::Result<impl IntoResponse> {
    let (req, head) = match respond::read_only(&req) {
        Ok(read) => read,
        Err(refused) => return Ok(refused),
    };
    Ok(match req.path() {
        // Relative, so that the redirect also works behind a proxy that
        // serves the app under a path prefix. 302, not permanent: `/` may
        // serve something else one day, and browsers keep 301s forever.
        "/" => Response::builder()
            .status(302)
            .header("location", "status")
            .header("cache-control", "no-store")
            .body(())
            .build(),
        "/status" => page(head),
        other => json_response(404, &json!({"status": "error", "message": format!("no page at {other}")}), head),
    })
}

fn page(head: bool) -> Response {
    Response::builder()
        .status(200)
        .header("content-type", "text/html; charset=utf-8")
        // The hashes are of the embedded page: computed per request (a few
        // microseconds for 30 kB) rather than kept in a second file that
        // could fall out of step with it.
        .header("content-security-policy", content_security_policy(PAGE))
        .header("x-content-type-options", "nosniff")
        // The page's URL may carry `#key=` only until its script removes
        // it; a fragment is never sent, and no referrer goes anywhere.
        .header("referrer-policy", "no-referrer")
        // Revalidated on each load, so a new version of the app is seen at once.
        .header("cache-control", "no-cache")
        .body(if head { String::new() } else { PAGE.to_string() })
        .build()
}
