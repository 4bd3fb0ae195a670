//! The configuration as a component loads it: every variable of its set
//! read and parsed, every problem kept (not just the first), the others at
//! their defaults. The probes turn the problems into the `config` check
//! (`crate::health::config_check`).

use super::{Config, VarSet};

/// A variable that could not be read or does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("variable '{variable}': {message}")]
pub struct VariableProblem {
    /// The variable name.
    pub variable: String,
    /// What is wrong with it.
    pub message: String,
}

/// The configuration as a component loaded it.
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
/// [`super::reads`]) through `lookup` (which fails when the variable
/// provider does), keeping every problem, not just the first. `lookup` is
/// never asked for a variable outside `reads`: those keep their defaults.
pub fn load_config(reads: VarSet, lookup: impl Fn(&str) -> Result<Option<String>, String>) -> LoadedConfig {
    let read = std::cell::Cell::new(VarSet::EMPTY);
    let mut problems: Vec<VariableProblem> = Vec::new();
    let unreadable = std::cell::RefCell::new(Vec::<VariableProblem>::new());
    let first = Config::from_var_lookup(|var| {
        if !reads.contains(var) {
            return None;
        }
        read.set(read.get().with(&[var]));
        match lookup(var.name()) {
            Ok(value) => value,
            Err(message) => {
                unreadable.borrow_mut().push(VariableProblem { variable: var.name().to_string(), message });
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
            Config::from_var_lookup(|var| match bad.contains(&var.name()) || !reads.contains(var) {
                true => None,
                false => lookup(var.name()).ok().flatten(),
            })
            .or_else(|_| Config::from_lookup(|_| None))
            .expect("the defaults parse")
        }
    };
    LoadedConfig { config, problems, variables_read: read.get().len() }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::config::Var;
    use std::time::Duration;

    /// A variable provider for tests: `"!"` is a provider error.
    pub(crate) fn lookup(
        pairs: &'static [(&'static str, &'static str)],
    ) -> impl Fn(&str) -> Result<Option<String>, String> {
        move |name| match pairs.iter().find(|(k, _)| *k == name) {
            Some((_, "!")) => Err("provider down".to_string()),
            Some((_, v)) => Ok(Some(v.to_string())),
            None => Ok(None),
        }
    }

    #[test]
    fn every_problem_is_kept_and_the_rest_still_parses() {
        let loaded = load_config(VarSet::ALL, lookup(&[("tool_components", "a,b")]));
        assert!(loaded.problems.is_empty());
        assert_eq!(loaded.variables_read, VarSet::ALL.len());
        assert_eq!(loaded.config.tool_components, ["a", "b"]);

        let loaded = load_config(
            VarSet::ALL,
            lookup(&[
                ("tool_timeout_ms", "soon"),
                ("tool_components", "calc,Bad,Worse"),
                ("ready_cache_ttl_ms", "!"),
                ("metrics_max_series_per_metric", "4"),
            ]),
        );
        // The good variables still count; the bad ones fall back to defaults.
        assert_eq!(loaded.config.metrics_max_series_per_metric, 4);
        assert_eq!(loaded.config.tool_timeout, Duration::from_secs(30));
        assert_eq!(loaded.config.ready_cache_ttl, Duration::from_millis(2000));
        // Unreadable first, then those that do not parse, in parse order.
        let wrong: Vec<&str> = loaded.problems.iter().map(|p| p.variable.as_str()).collect();
        assert_eq!(wrong, ["ready_cache_ttl_ms", "tool_timeout_ms", "tool_components", "tool_components"]);
        assert_eq!(loaded.problems[0].to_string(), "variable 'ready_cache_ttl_ms': provider down");
        assert_eq!(loaded.problems[1].to_string(), "variable 'tool_timeout_ms': \"soon\" is not a whole number");
    }

    #[test]
    fn only_the_declared_variables_are_read() {
        let asked = std::cell::RefCell::new(Vec::<String>::new());
        let reads = VarSet::of(&[Var::ToolTimeoutMs, Var::ApiKeys]);
        let loaded = load_config(reads, |name| {
            asked.borrow_mut().push(name.to_string());
            Ok(Some(match name {
                "tool_timeout_ms" => "5000".to_string(),
                _ => "not valid anywhere".to_string(),
            }))
        });
        let wrong: Vec<&str> = loaded.problems.iter().map(|p| p.variable.as_str()).collect();
        assert_eq!(wrong, ["api_keys"], "only the declared variables are parsed");
        assert_eq!(loaded.variables_read, 2);
        assert_eq!(loaded.config.tool_timeout, Duration::from_secs(5));
        // Undeclared: the default, never asked for.
        assert_eq!(loaded.config.metrics_max_series_per_metric, 1000);
        let mut asked = asked.into_inner();
        asked.sort();
        asked.dedup();
        assert_eq!(asked, ["api_keys", "tool_timeout_ms"]);
        let unset = load_config(reads, |_| Ok(None));
        assert!(unset.problems.is_empty());
        assert_eq!(unset.variables_read, 2);
    }
}
