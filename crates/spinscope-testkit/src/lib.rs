//! Test-only helpers that read spinscope's output back: a strict parser of
//! the Prometheus and OpenMetrics text formats ([`exposition`]) and a logfmt
//! parser ([`logfmt`]); and a test OAuth issuer that signs access tokens
//! with keys made per run ([`issuer`]).
//!
//! Used as a dev-dependency by `crates/spinscope` (its unit tests) and by the
//! end-to-end tests (`tests/e2e`); never by a component. It never depends
//! on spinscope, so the library's tests can use it without a cycle.

#![warn(missing_docs)]

pub mod exposition;
pub mod issuer;
pub mod logfmt;
