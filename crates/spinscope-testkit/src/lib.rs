//! Test-only helpers that read spinscope's output back: a strict parser of
//! the Prometheus and OpenMetrics text formats ([`exposition`]) and a logfmt
//! parser ([`logfmt`]).
//!
//! Used as a dev-dependency by `crates/spinscope` (its unit tests) and by the
//! end-to-end tests (`tests/e2e`); never by a component. It depends on
//! nothing, so the library's tests can use it without a cycle.

#![warn(missing_docs)]

pub mod exposition;
pub mod logfmt;
