//! The gateway as a [`Source`]: `GET <URL>/audit` over HTTP(S), with the
//! API key as a bearer token.

use crate::remote::{Page, Source};
use crate::{parse_head, Failure};
use std::io::BufRead;
use std::time::Duration;

/// How long one request may take before the check gives up (a page is at
/// most a thousand events; a gateway that takes longer is not answering).
const TIMEOUT: Duration = Duration::from_secs(60);

/// A gateway's `GET /audit`.
pub struct Server {
    agent: ureq::Agent,
    url: String,
    api_key: Option<String>,
}

impl Server {
    /// The gateway at `base` (`https://gw.example.com`, or its `/audit`
    /// URL itself), asked with `api_key` when it has API keys.
    pub fn new(base: &str, api_key: Option<String>) -> Server {
        let base = base.trim_end_matches('/');
        let url = if base.ends_with("/audit") { base.to_string() } else { format!("{base}/audit") };
        let agent = ureq::AgentBuilder::new().timeout(TIMEOUT).build();
        Server { agent, url, api_key }
    }

    fn failure(&self, why: String) -> Failure {
        Failure::Http { url: self.url.clone(), why }
    }
}

impl Source for Server {
    fn page(&mut self, cursor: Option<u64>, limit: usize) -> Result<Page, Failure> {
        let mut request = self.agent.get(&self.url).query("limit", &limit.to_string());
        if let Some(cursor) = cursor {
            request = request.query("cursor", &cursor.to_string());
        }
        if let Some(key) = &self.api_key {
            request = request.set("authorization", &format!("Bearer {key}"));
        }
        let response = match request.call() {
            Ok(response) => response,
            Err(ureq::Error::Status(status, response)) => {
                let body = response.into_string().unwrap_or_default();
                return Err(self.failure(refusal(status, &body)));
            }
            Err(e) => return Err(self.failure(e.to_string())),
        };
        let head = response
            .header("audit-head")
            .ok_or_else(|| self.failure("no audit-head header: is this a spinscope gateway's /audit?".into()))?;
        let head = parse_head(head).map_err(|why| self.failure(format!("audit-head: {why}")))?;
        let next_cursor = match response.header("audit-next-cursor") {
            Some(c) => {
                Some(c.trim().parse().map_err(|_| self.failure(format!("audit-next-cursor `{c}` is no number")))?)
            }
            None => None,
        };
        let mut lines = Vec::new();
        for line in std::io::BufReader::new(response.into_reader()).lines() {
            let line = line.map_err(|e| self.failure(format!("reading the page: {e}")))?;
            if !line.trim().is_empty() {
                lines.push(line);
            }
        }
        Ok(Page { lines, next_cursor, head })
    }

    fn name(&self) -> String {
        self.url.clone()
    }
}

/// What a refused request says: the gateway's own message (its error body
/// is `{"status":"error","message":…}`) and what to do about the usual
/// refusals.
fn refusal(status: u16, body: &str) -> String {
    let message = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_string))
        .unwrap_or_else(|| body.chars().take(200).collect());
    let hint = match status {
        401 => " (give an API key: --api-key or SPINSCOPE_API_KEY)",
        403 => " (a key with the admin role reads the whole trail)",
        _ => "",
    };
    format!("HTTP {status}: {}{hint}", message.trim())
}
