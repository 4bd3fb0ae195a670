//! Application variables, which Spin serves to components over `wasi:config/store`.

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

/// Every variable of the component (those its manifest maps), in one host
/// call: Spin resolves them all at once (one `wasi_config.get_all` span
/// where a `get` each would make one span each).
pub fn get_all() -> Result<Vec<(String, String)>, VarError> {
    store::get_all().map_err(|e| match e {
        store::Error::Upstream(msg) => VarError::Upstream(msg),
        store::Error::Io(msg) => VarError::Io(msg),
    })
}

/// Why a variable could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VarError {
    /// The variable provider failed (or rejected the name).
    #[error("variable provider error: {0}")]
    Upstream(String),
    /// An I/O error on the host.
    #[error("I/O error reading variable: {0}")]
    Io(String),
}
