//! Application variables, which Spin serves to components over `wasi:config/store`.

use std::fmt;

use crate::bindings::wasi::config::store;

/// The value of the application variable `name`, or `None` if it is not set.
///
/// Names are lowercase snake_case, as in the `[variables]` of `spin.toml`.
pub fn get(name: &str) -> Result<Option<String>, VarError> {
    store::get(name).map_err(|e| match e {
        store::Error::Upstream(msg) => VarError::Upstream(msg),
        store::Error::Io(msg) => VarError::Io(msg),
    })
}

/// Why a variable could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VarError {
    /// The variable provider failed (or rejected the name).
    Upstream(String),
    /// An I/O error on the host.
    Io(String),
}

impl fmt::Display for VarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VarError::Upstream(msg) => write!(f, "variable provider error: {msg}"),
            VarError::Io(msg) => write!(f, "I/O error reading variable: {msg}"),
        }
    }
}

impl std::error::Error for VarError {}
