//! The configuration as the probes see it: every variable of a component's
//! set read and parsed, every problem kept, and the `config` check.

use super::{Check, Status};
use crate::config::{Config, Var, VarSet};
use serde_json::json;

/// A variable that could not be read or does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariableProblem {
    /// The variable name.
    pub variable: String,
    /// What is wrong with it.
    pub message: String,
}

impl std::fmt::Display for VariableProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "variable '{}': {}", self.variable, self.message)
    }
}

/// The configuration as the probes see it.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// Parsed; when some variables are wrong, those take their defaults so
    /// the other checks can still run.
    pub config: Config,
    /// Every variable that could not be read or parsed, in the order read.
    pub problems: Vec<VariableProblem>,
    /// How many distinct variables were read (the component's set).
    pub variables_read: usize,
}

/// Reads and parses the variables in `reads` (a component's set, see
/// [`crate::config::reads`]) through `lookup` (which fails when the
/// variable provider does), keeping every problem, not just the first.
/// `lookup` is never asked for a variable outside `reads`: those keep their
/// defaults.
pub fn load_config(reads: VarSet, lookup: impl Fn(&str) -> Result<Option<String>, String>) -> LoadedConfig {
    let lookup = |name: &str| match Var::from_name(name) {
        Some(var) if reads.contains(var) => lookup(name),
        _ => Ok(None),
    };
    let read = std::cell::RefCell::new(Vec::<String>::new());
    let mut problems: Vec<VariableProblem> = Vec::new();
    let unreadable = std::cell::RefCell::new(Vec::<VariableProblem>::new());
    let first = Config::from_lookup(|name| {
        if Var::from_name(name).is_none_or(|var| !reads.contains(var)) {
            return None;
        }
        if !read.borrow().iter().any(|n| n == name) {
            read.borrow_mut().push(name.to_string());
        }
        match lookup(name) {
            Ok(value) => value,
            Err(message) => {
                unreadable.borrow_mut().push(VariableProblem { variable: name.to_string(), message });
                None
            }
        }
    });
    problems.extend(unreadable.into_inner());
    let config = match first {
        Ok(config) => config,
        Err(errors) => {
            problems.extend(
                errors.iter().map(|e| VariableProblem { variable: e.variable.to_string(), message: e.message.clone() }),
            );
            let bad: Vec<&str> = errors.iter().map(|e| e.variable).collect();
            Config::from_lookup(|name| if bad.contains(&name) { None } else { lookup(name).ok().flatten() })
                .or_else(|_| Config::from_lookup(|_| None))
                .expect("the defaults parse")
        }
    };
    LoadedConfig { config, problems, variables_read: read.into_inner().len() }
}

/// The `config` check: an error naming every variable that is wrong.
pub fn config_check(loaded: &LoadedConfig, latency_ms: f64) -> Check {
    if loaded.problems.is_empty() {
        return Check::new(Status::Ok, latency_ms, format!("all {} variables parse", loaded.variables_read));
    }
    let mut names: Vec<&str> = Vec::new();
    for p in &loaded.problems {
        if !names.contains(&p.variable.as_str()) {
            names.push(&p.variable);
        }
    }
    let message = loaded.problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
    Check::new(Status::Error, latency_ms, message).with("variables", json!(names))
}
