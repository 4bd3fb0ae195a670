//! The configuration, read once per request: the component's variables
//! through `wasi:config`, every problem kept. A variable that cannot be
//! read (the provider failed) is a problem like a malformed one, never a
//! silent default, so a component that authenticates fails closed.

use crate::vars;
use spinscope::config::{self, LoadedConfig, VarSet};

/// Reads and parses the variables in `reads`, the calling component's set
/// from `spinscope::config::reads` (which `spin.toml` maps exactly; the
/// others keep their defaults); `problems` names each one that is
/// unreadable or invalid (the config then holds its default).
///
/// All are read in one host call (`get-all`); only if that fails (one
/// variable's provider failing fails them all) is each read on its own,
/// so that the problem names the variable.
pub fn load(reads: VarSet) -> LoadedConfig {
    match vars::get_all() {
        Ok(mut all) => {
            all.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            config::load_config(reads, |name| {
                Ok(all.binary_search_by(|(k, _)| k.as_str().cmp(name)).ok().map(|i| all[i].1.clone()))
            })
        }
        Err(_) => config::load_config(reads, |name| vars::get(name).map_err(|e| e.to_string())),
    }
}

/// The problems as one message, `variable 'x': why; …`, for the log:
/// it may quote a value, so it never goes into an answer.
pub fn problems_message(loaded: &LoadedConfig) -> String {
    loaded.problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

/// What an answer may say of the problems: the variables' names, never
/// their values (the caller may not even be authenticated yet).
pub fn problems_public(loaded: &LoadedConfig) -> String {
    let mut names: Vec<&str> = loaded.problems.iter().map(|p| p.variable.as_str()).collect();
    names.dedup();
    format!("check the variable(s) {} (details in the component's log)", names.join(", "))
}
