//! Reading the trail from a gateway: every page of `GET /audit`
//! ([`export`]), or the new events as they are sealed ([`follow`]). Both
//! work over a [`Source`], so that the paging and following logic is
//! tested without a server ([`crate::http::Server`] is the real one).
//!
//! Export with a key of the `admin` role: a tenant's key reads its own
//! tenant's events only, and a chain with other tenants' events left out
//! does not verify.

use crate::{parse_line, start_of, Failure};
use spinscope::audit::{Broken, Head, Verifier};
use std::io::Write;

/// The largest page `GET /audit` serves: the fewest requests.
pub const PAGE: usize = 1000;

/// One page of `GET /audit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Its lines (sealed events as JSON, oldest first), as the server wrote
    /// them: an export keeps the server's bytes.
    pub lines: Vec<String>,
    /// `audit-next-cursor`: present when there is another page.
    pub next_cursor: Option<u64>,
    /// `audit-head`: the chain's head when the page was read.
    pub head: Head,
}

/// Where pages come from: a gateway, or a test's chain.
pub trait Source {
    /// The page of at most `limit` events after sequence number `cursor`
    /// (from the start when `None`).
    fn page(&mut self, cursor: Option<u64>, limit: usize) -> Result<Page, Failure>;

    /// What to name in an error (the gateway's URL).
    fn name(&self) -> String;
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    /// Lines written.
    pub events: u64,
    /// The head the last page stated: what `verify --head` checks the
    /// export's tail against.
    pub head: Head,
}

/// Writes every page of `source` to `out`, one event a line, from the
/// start of the retained chain to the head.
pub fn export(source: &mut impl Source, out: &mut impl Write) -> Result<Exported, Failure> {
    let mut cursor = None;
    let mut events = 0;
    loop {
        let page = source.page(cursor, PAGE)?;
        for line in &page.lines {
            writeln!(out, "{line}").map_err(|source| Failure::Io { what: "writing the export".into(), source })?;
            events += 1;
        }
        match page.next_cursor {
            // A cursor that does not move on would page forever.
            Some(next) if cursor.is_some_and(|c| next <= c) => {
                let why = format!("the next cursor {next} does not move on from {}", cursor.unwrap_or_default());
                return Err(Failure::Http { url: source.name(), why });
            }
            Some(next) => cursor = Some(next),
            None => {
                out.flush().map_err(|source| Failure::Io { what: "writing the export".into(), source })?;
                return Ok(Exported { events, head: page.head });
            }
        }
    }
}

/// How [`follow`] follows.
#[derive(Debug, Clone, Default)]
pub struct FollowOptions<'k> {
    /// Start with this sequence number (the events after the current head
    /// when `None`: only new ones, like `tail -f`).
    pub since: Option<u64>,
    /// Verify each event against the one before it, and stop at the first
    /// that does not link: a trail being rewritten while watched shows at
    /// once, not at the next full export.
    pub verify: bool,
    /// `audit_key`, for a keyed chain (with `verify`).
    pub key: Option<&'k [u8]>,
}

/// Prints the new events of `source` to `out` as they are sealed; calls
/// `wait` whenever it has caught up with the head (it sleeps, and returns
/// whether to go on). Returns the number of events printed when `wait`
/// says stop; with `verify`, [`Failure::Broken`] at the first event that
/// does not verify, or when the server's head goes back before events
/// already seen.
pub fn follow(
    source: &mut impl Source,
    out: &mut impl Write,
    options: &FollowOptions,
    mut wait: impl FnMut() -> bool,
) -> Result<u64, Failure> {
    let mut verifier: Option<Verifier> = None;
    let mut cursor = match options.since {
        Some(since) => since.saturating_sub(1),
        None => {
            // One event's page, for the head it states.
            let head = source.page(None, 1)?.head;
            if options.verify {
                verifier = Some(Verifier::new(head.clone(), options.key));
            }
            head.seq
        }
    };
    let mut printed = 0u64;
    loop {
        let page = source.page(Some(cursor), PAGE)?;
        if options.verify && page.head.seq < cursor {
            let why = format!("the server's head went back to {} after events up to {cursor} were seen", page.head.seq);
            return Err(Failure::Broken(Broken { seq: page.head.seq + 1, why }));
        }
        for line in &page.lines {
            let event = parse_line(line.as_bytes()).map_err(|why| Failure::Damaged { line: printed + 1, why })?;
            let Some(event) = event else { continue };
            if options.verify {
                let verifier = verifier.get_or_insert_with(|| Verifier::new(start_of(&event), options.key));
                verifier.next(&event).map_err(Failure::Broken)?;
            }
            writeln!(out, "{line}").map_err(|source| Failure::Io { what: "writing".into(), source })?;
            printed += 1;
            cursor = cursor.max(event.seq);
        }
        out.flush().map_err(|source| Failure::Io { what: "writing".into(), source })?;
        let caught_up = page.next_cursor.is_none() || page.lines.is_empty();
        if caught_up && !wait() {
            return Ok(printed);
        }
    }
}
