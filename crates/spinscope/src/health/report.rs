//! The readiness report (checks, verdict, JSON), its cache record in the
//! store, the `fresh` query, and the recorded start time.

use super::{Check, Status};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// A readiness report: the checks of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Random id of the run, so a cached copy can be told from a new run.
    pub id: String,
    /// Unix milliseconds when the run started.
    pub checked_at_ms: u64,
    /// The checks by name ([`CHECK_CONFIG`], [`CHECK_KV`], [`CHECK_TOOLS`]).
    pub checks: BTreeMap<String, Check>,
}

/// Version of the cache record layout.
const CACHE_VERSION: u64 = 1;

impl Report {
    /// An empty report of run `id`, started at `checked_at_ms`.
    pub fn new(id: impl Into<String>, checked_at_ms: u64) -> Report {
        Report { id: id.into(), checked_at_ms, checks: BTreeMap::new() }
    }

    /// Adds (or replaces) the check `name`.
    pub fn add(&mut self, name: &str, check: Check) {
        self.checks.insert(name.to_string(), check);
    }

    /// The worst status of the checks (`ok` when there are none).
    pub fn status(&self) -> Status {
        self.checks.values().map(|c| c.status).max().unwrap_or(Status::Ok)
    }

    /// Names of the checks that are not `ok`, in name order.
    pub fn failing(&self) -> Vec<&str> {
        self.checks.iter().filter(|(_, c)| c.status != Status::Ok).map(|(n, _)| n.as_str()).collect()
    }

    /// 200 or 503: `error` always fails; `degraded` fails only when the
    /// degraded check is in `required` (e.g. `tools` with `tools_required`).
    pub fn http_status(&self, required: &[&str]) -> u16 {
        let fails = self.checks.iter().any(|(name, c)| match c.status {
            Status::Ok => false,
            Status::Error => true,
            Status::Degraded => required.contains(&name.as_str()),
        });
        if fails {
            503
        } else {
            200
        }
    }

    /// `{name: check JSON}`.
    pub fn checks_json(&self) -> Value {
        Value::Object(self.checks.iter().map(|(n, c)| (n.clone(), c.to_json())).collect())
    }

    /// `{name: status}`, for the `/health` summary.
    pub fn statuses_json(&self) -> Value {
        Value::Object(self.checks.iter().map(|(n, c)| (n.clone(), c.status.as_str().into())).collect())
    }

    /// The readiness body: `{"status","timestamp","checked_at","cached",
    /// "check_id","failing","checks"}` (`now_ms` is the time of the answer).
    pub fn to_json(&self, now_ms: u64, cached: bool) -> Value {
        json!({
            "status": self.status().as_str(),
            "timestamp": crate::log::rfc3339_ms(now_ms),
            "checked_at": crate::log::rfc3339_ms(self.checked_at_ms),
            "cached": cached,
            "check_id": self.id,
            "failing": self.failing(),
            "checks": self.checks_json(),
        })
    }

    /// Whether a report checked at `checked_at_ms` may still be served at
    /// `now_ms`. Clocks of several hosts sharing a store may disagree a
    /// little, so the distance counts either way. A TTL of 0 disables it.
    pub fn fresh(&self, now_ms: u64, ttl_ms: u64) -> bool {
        ttl_ms > 0 && now_ms.abs_diff(self.checked_at_ms) < ttl_ms
    }

    /// The cache record (`keys::READY_CACHE`): `{"v":1,"id","checked_at_ms","checks"}`.
    pub fn encode_cache(&self) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "v": CACHE_VERSION,
            "id": self.id,
            "checked_at_ms": self.checked_at_ms,
            "checks": self.checks_json(),
        }))
        .expect("report serializes")
    }

    /// Reads a cache record; anything unreadable or of another version is
    /// `None` (a cache miss).
    pub fn decode_cache(bytes: &[u8]) -> Option<Report> {
        let doc: Value = serde_json::from_slice(bytes).ok()?;
        if doc.get("v")?.as_u64()? != CACHE_VERSION {
            return None;
        }
        let id = doc.get("id")?.as_str()?.to_string();
        let checked_at_ms = doc.get("checked_at_ms")?.as_u64()?;
        let checks = doc
            .get("checks")?
            .as_object()?
            .iter()
            .map(|(n, c)| Some((n.clone(), Check::from_json(c)?)))
            .collect::<Option<BTreeMap<_, _>>>()?;
        Some(Report { id, checked_at_ms, checks })
    }
}

/// Whether the query string asks to bypass the readiness cache:
/// `fresh`, `fresh=1`, `fresh=true` or `fresh=yes`.
pub fn wants_fresh(query: &str) -> bool {
    query.split('&').any(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        name == "fresh" && matches!(value, "" | "1" | "true" | "yes")
    })
}

/// The start-time record (`keys::STARTED_AT`): unix ms as decimal text.
pub fn encode_started_at(unix_ms: u64) -> Vec<u8> {
    unix_ms.to_string().into_bytes()
}

/// Reads a start-time record written by [`encode_started_at`].
pub fn decode_started_at(bytes: &[u8]) -> Option<u64> {
    std::str::from_utf8(bytes).ok()?.trim().parse().ok()
}
