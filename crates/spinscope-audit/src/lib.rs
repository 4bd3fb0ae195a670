//! Checks spinscope's audit trail (docs/audit.md) on the auditor's side,
//! without trusting the running server: the server's `GET /audit/verify`
//! is the server vouching for itself, while an export verified here with
//! the chain's own code ([`spinscope::audit::Verifier`]) is evidence that
//! holds whatever the server says.
//!
//! * [`verify_lines`]: an export (JSON lines, as `GET /audit` and
//!   `spinscope-audit export` write them), read as a stream.
//! * [`remote`]: paging through `GET /audit` ([`remote::export`]) and
//!   following it ([`remote::follow`]), over any [`remote::Source`].
//! * [`http`]: the [`remote::Source`] of a real gateway.
//!
//! The binary (`src/main.rs`) only parses arguments and maps a
//! [`Failure`] to its exit code ([`Failure::exit_code`]).

#![warn(missing_docs)]

pub mod http;
pub mod remote;

#[cfg(test)]
mod tests;

use spinscope::audit::{Broken, Head, Sealed, Verifier};
use std::io::{self, BufRead};
use std::path::Path;

/// Why a command did not succeed. The two kinds of outcome an auditor must
/// tell apart are kept apart: the trail is *broken* (exit 1: evidence of
/// tampering or loss) or the check could not be made at all (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The chain does not verify, at a sequence number.
    #[error("broken at sequence {}: {}", .0.seq, .0.why)]
    Broken(Broken),
    /// A line of the export is not a sealed event: the export is damaged,
    /// which is as much a failed check as a broken link (an event that
    /// cannot be read cannot be vouched for).
    #[error("broken at line {line}: {why}")]
    Damaged {
        /// The line's number, from 1.
        line: u64,
        /// What is wrong with it.
        why: String,
    },
    /// Reading or writing a file (or a stream) failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being read or written.
        what: String,
        /// The error.
        source: io::Error,
    },
    /// The server could not be asked, or answered something else than
    /// `GET /audit`'s pages.
    #[error("{url}: {why}")]
    Http {
        /// The URL asked.
        url: String,
        /// What went wrong.
        why: String,
    },
    /// An argument that cannot be used (a bad `--head`, an empty key file).
    #[error("{0}")]
    Usage(String),
}

impl Failure {
    /// The process's exit code: 1 when the trail is broken or damaged, 2
    /// when it could not be checked (so that a script never takes "could
    /// not read the file" for "the file was tampered with", or the reverse).
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Broken(_) | Failure::Damaged { .. } => 1,
            Failure::Io { .. } | Failure::Http { .. } | Failure::Usage(_) => 2,
        }
    }

    /// Whether it is a write to a closed pipe (`spinscope-audit tail | head`):
    /// the reader has stopped, which is no failure of ours.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Failure::Io { source, .. } if source.kind() == io::ErrorKind::BrokenPipe)
    }
}

/// What a verified export holds, for the one-line summary an auditor
/// records next to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Events verified.
    pub events: u64,
    /// The first sequence number (1, or the one after a retention
    /// checkpoint).
    pub first: u64,
    /// Where the chain ends: what to compare with the server's published
    /// head (`audit-head`) later, to show nothing was dropped since.
    pub head: Head,
    /// Whether the chain was verified under `audit_key` (only then is it
    /// proof against someone who could rewrite the whole chain).
    pub keyed: bool,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keyed = if self.keyed { "keyed" } else { "unkeyed" };
        match self.events {
            0 => write!(f, "ok: 0 events, head {}:{}, {keyed}", self.head.seq, self.head.hash),
            n => write!(
                f,
                "ok: {n} events, seq {}..{}, head {}:{}, {keyed}",
                self.first, self.head.seq, self.head.seq, self.head.hash
            ),
        }
    }
}

/// Verifies an export read from `reader`, one line at a time (an export of
/// millions of events never sits in memory), with `key` when the chain is
/// keyed, against `published` (the head the server states) when given: a
/// dropped tail is only caught against it. The export may run past
/// `published` (events sealed since it was stated); its event at that
/// sequence number must then have that hash.
///
/// The export may start after a retention checkpoint (its first event's
/// `seq` above 1): the chain is then verified from that checkpoint, and a
/// retention event in the export must record it. Blank lines are skipped;
/// any other line that is not exactly a sealed event is [`Failure::Damaged`].
pub fn verify_lines(
    mut reader: impl BufRead,
    key: Option<&[u8]>,
    published: Option<&Head>,
) -> Result<Summary, Failure> {
    let mut verifier: Option<Verifier> = None;
    let mut buf = Vec::new();
    let mut line = 0u64;
    loop {
        buf.clear();
        let read = reader
            .read_until(b'\n', &mut buf)
            .map_err(|source| Failure::Io { what: format!("reading line {}", line + 1), source })?;
        if read == 0 {
            break;
        }
        line += 1;
        let Some(event) = parse_line(&buf).map_err(|why| Failure::Damaged { line, why })? else { continue };
        let verifier = verifier.get_or_insert_with(|| Verifier::new(start_of(&event), key));
        verifier.next(&event).map_err(Failure::Broken)?;
        // An export that runs past the published head (events sealed since)
        // must pass through it: the verifier only compares the head with
        // the export's end.
        if let Some(p) = published.filter(|p| p.seq == event.seq && p.hash != event.hash) {
            let why = "the event at the published head's sequence number is not the published head".to_string();
            return Err(Failure::Broken(Broken { seq: p.seq, why }));
        }
    }
    let verifier = verifier.unwrap_or_else(|| Verifier::new(Head::default(), key));
    let verified = verifier.finish(published).map_err(Failure::Broken)?;
    Ok(Summary { events: verified.events, first: verified.from.seq + 1, head: verified.head, keyed: key.is_some() })
}

/// Where a chain whose first event is `first` starts: the genesis, or the
/// retention checkpoint just before it (which the verifier then requires a
/// retention event to record).
pub fn start_of(first: &Sealed) -> Head {
    match first.seq {
        0 | 1 => Head::default(),
        seq => Head { seq: seq - 1, hash: first.prev.clone() },
    }
}

/// One line of an export: `None` when blank, the sealed event when it is
/// one and holds nothing else. A field the event does not have (or a
/// `null` where the server writes nothing) is refused: it is not covered
/// by the chain's hash, so a reader of the export could be misled by it
/// while every link still verifies.
pub fn parse_line(bytes: &[u8]) -> Result<Option<Sealed>, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let event: Sealed = serde_json::from_value(value.clone()).map_err(|e| format!("not a sealed event: {e}"))?;
    let covered = serde_json::to_value(&event).map_err(|e| format!("not a sealed event: {e}"))?;
    if covered != value {
        let extra = value
            .as_object()
            .and_then(|fields| fields.iter().find(|(name, v)| covered.get(name.as_str()) != Some(v)))
            .map_or_else(String::new, |(name, _)| format!(" (`{name}`)"));
        return Err(format!("sequence {} holds what its hash does not cover{extra}", event.seq));
    }
    Ok(Some(event))
}

/// A head as the server publishes it (`audit-head: SEQ:HASH`) and as an
/// auditor passes it (`--head SEQ:HASH`): the hash is 64 hex digits,
/// compared in lower case as the server writes it.
pub fn parse_head(s: &str) -> Result<Head, String> {
    let (seq, hash) = s.trim().split_once(':').ok_or_else(|| format!("`{s}` is not SEQ:HASH"))?;
    let seq = seq.parse::<u64>().map_err(|_| format!("`{seq}` in `{s}` is not a sequence number"))?;
    let hash = hash.to_ascii_lowercase();
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("`{hash}` in `{s}` is not a hash (64 hex digits)"));
    }
    Ok(Head { seq, hash })
}

/// The `audit_key` in a key file: its contents less one trailing newline
/// (as `echo` and editors leave one; the key itself may hold any other
/// byte, spaces included, so nothing else is trimmed).
pub fn read_key(path: &Path) -> Result<Vec<u8>, Failure> {
    let mut key = std::fs::read(path).map_err(|source| Failure::Io { what: path.display().to_string(), source })?;
    if key.ends_with(b"\n") {
        key.pop();
        if key.ends_with(b"\r") {
            key.pop();
        }
    }
    if key.is_empty() {
        return Err(Failure::Usage(format!("{}: the key file is empty", path.display())));
    }
    Ok(key)
}
