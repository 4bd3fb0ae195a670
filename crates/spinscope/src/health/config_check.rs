//! The `config` check: the problems of the configuration as a probe loaded
//! it ([`crate::config::load_config`]), as a health check.

use super::{Check, Status};
use crate::config::LoadedConfig;
use serde_json::json;

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
