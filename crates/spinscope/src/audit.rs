//! The audit trail (docs/audit.md): who called which tool, when, with what
//! result, in a hash chain that shows any edit.
//!
//! * [`event`]: one event as the gateway writes it (and its MAC under
//!   `audit_key`), the argument digest.
//! * [`chain`]: sealing events into the chain, and verifying one.
//! * [`check`]: the bounded check of a few segments at every scrape.
//! * [`state`]: the chain's bookkeeping (head, segments, retention).
//! * [`query`]: `GET /audit`'s filters and paging.
//!
//! The store adapter (`spinscope_spin::audit`) decides where pending
//! events wait and who seals them; nothing here touches a store.

pub mod chain;
pub mod check;
pub mod event;
pub mod query;
pub mod state;

#[cfg(test)]
mod tests;

pub use chain::{verify, Broken, Head, Sealed, Verified, Verifier};
pub use event::{arguments_digest, Event, Kind};
pub use state::AuditState;
