//! The audit trail's reader (docs/audit.md).
//!
//! * `GET /audit`: sealed events as JSON lines, oldest first, filtered and
//!   paged by [`spinscope::audit::query::Query`]; the next page's cursor in
//!   `audit-next-cursor`, the chain's head in `audit-head`.
//! * `GET /audit/verify`: every retained event checked
//!   ([`spinscope::audit::Verifier`]): 200 with the counts and the head, or
//!   409 naming the first broken sequence number; what it finds is kept
//!   for `audit_chain_broken_sequence` (`spinscope_spin::audit::check`).
//!
//! Both seal what is pending first, so a call answered a moment ago is
//! there. Under API keys a key reads its own tenant's events; a key with
//! the `admin` role reads every tenant's and verifies. In open mode both
//! are open, like every other endpoint.

use serde_json::json;
use spin_sdk::http::{IncomingRequest, IntoResponse, Response};
use spin_sdk::http_component;
use spinscope::audit::query::Query;
use spinscope::audit::{AuditState, Broken, Sealed, Verified, Verifier};
use spinscope::config::{reads, Config};
use spinscope_spin::head::Head as Request;
use spinscope_spin::respond::{self, json_response};
use spinscope_spin::{audit, diag, gate, kv, settings, time};

#[http_component]
fn handle(req: IncomingRequest) -> anyhow::Result<impl IntoResponse> {
    let (req, head) = match respond::read_only(&req) {
        Ok(read) => read,
        Err(refused) => return Ok(refused),
    };
    let loaded = settings::load(reads::AUDIT);
    if !loaded.problems.is_empty() {
        diag::warn(loaded.config.log_format, "Audit reader misconfigured", &settings::problems_message(&loaded));
        return Ok(respond::misconfigured(&settings::problems_public(&loaded)));
    }
    let config = loaded.config;
    let caller = match gate::require_key(&config, &req) {
        Ok(caller) => caller,
        Err(refused) => return Ok(refused),
    };
    if !config.audit_enabled {
        return Ok(error(404, "the audit trail is off (audit_enabled = false)", head));
    }
    let store = match kv::Store::open_default() {
        Ok(store) => store,
        Err(e) => return Ok(error(503, &format!("store unavailable: {e}"), head)),
    };
    if let Err(e) = audit::seal_now(&store, &config, time::now_unix_ms()) {
        diag::warn(config.log_format, "Audit events not sealed", &e);
    }
    let state = match audit::state(&store, &config) {
        Ok(state) => state,
        Err(e) => return Ok(error(503, &format!("audit state unreadable: {e}"), head)),
    };
    // Open mode (no keys, no OAuth) reads everything; else the admin role.
    let open = config.is_open();
    let admin = open || caller.caller.roles.iter().any(|r| r == "admin");
    Ok(match req.path() {
        "/audit" => list(&store, &state, caller.tenant, &req, admin, head),
        "/audit/verify" if admin => verify(&store, &state, &config, head),
        "/audit/verify" => error(403, "verifying the chain takes a key with the admin role", head),
        other => error(404, &format!("nothing at {other}"), head),
    })
}

fn error(status: u16, message: &str, head: bool) -> Response {
    json_response(status, &json!({"status": "error", "message": message}), head)
}

/// `GET /audit`: one page of events.
fn list(
    store: &kv::Store,
    state: &AuditState,
    own: Option<String>,
    req: &Request,
    admin: bool,
    head: bool,
) -> Response {
    let mut query = match Query::parse(req.query()) {
        Ok(query) => query,
        Err(problem) => return error(400, &problem, head),
    };
    if !admin {
        // A tenant's key or token reads its own tenant's events only.
        if query.tenant.is_some() && query.tenant != own {
            return error(403, "a tenant's key reads only its own tenant's events", head);
        }
        query.tenant = own;
    }
    let mut page: Vec<Sealed> = Vec::new();
    let mut more = false;
    'segments: for segment in state.segments.iter().filter(|s| s.last >= query.first_seq()) {
        let events = match read_segment(store, &segment.id) {
            Ok(events) => events,
            Err(e) => return error(500, &e, head),
        };
        for event in events.into_iter().filter(|e| query.matches(e)) {
            if page.len() == query.limit {
                more = true;
                break 'segments;
            }
            page.push(event);
        }
    }
    let mut body = Vec::with_capacity(page.len() * 400);
    for event in &page {
        serde_json::to_writer(&mut body, event).expect("an event serializes");
        body.push(b'\n');
    }
    let mut response = Response::builder()
        .status(200)
        .header("content-type", "application/x-ndjson")
        .header("cache-control", "no-store")
        .header("audit-head", format!("{}:{}", state.head.seq, state.head.hash))
        .body(if head { Vec::new() } else { body })
        .build();
    if let (true, Some(last)) = (more, page.last()) {
        response.set_header("audit-next-cursor", last.seq.to_string());
    }
    response
}

fn read_segment(store: &kv::Store, id: &str) -> Result<Vec<Sealed>, String> {
    audit::check::read_segment(store, id).map_err(|e| format!("audit segment {id}: {e}"))?
}

/// `GET /audit/verify`: the retained chain from its checkpoint to the
/// head. What it finds is kept for `audit_chain_broken_sequence` (a break until a
/// pass; a pass writes nothing when nothing was kept).
fn verify(store: &kv::Store, state: &AuditState, config: &Config, head: bool) -> Response {
    let key = config.audit_key.as_ref().map(|k| k.bytes());
    let verified = match verify_all(store, state, key) {
        Ok(verified) => verified,
        Err(e) => return error(503, &format!("the chain could not be read: {e}"), head),
    };
    if let Err(e) = audit::check::verified(store, verified.as_ref().err(), time::now_unix_ms()) {
        diag::warn(config.log_format, "Audit verification not kept", &e.to_string());
    }
    match verified {
        Ok(verified) => {
            let body = json!({
                "status": "ok",
                "events": verified.events,
                "from": verified.from,
                "head": verified.head,
                "keyed": key.is_some(),
                "dropped": state.dropped,
            });
            json_response(200, &body, head)
        }
        Err(b) => {
            let body = json!({"status": "broken", "broken_seq": b.seq, "why": b.why, "head": state.head});
            json_response(409, &body, head)
        }
    }
}

/// Every retained event checked: `Err` only when the store failed.
fn verify_all(
    store: &kv::Store,
    state: &AuditState,
    key: Option<&[u8]>,
) -> Result<Result<Verified, Broken>, kv::KvError> {
    let mut verifier = Verifier::new(state.checkpoint.clone(), key);
    for segment in &state.segments {
        let events = match audit::check::read_segment(store, &segment.id)? {
            Ok(events) => events,
            Err(why) => return Ok(Err(Broken { seq: segment.first, why })),
        };
        for event in &events {
            if let Err(b) = verifier.next(event) {
                return Ok(Err(b));
            }
        }
    }
    Ok(verifier.finish(Some(&state.head)))
}
