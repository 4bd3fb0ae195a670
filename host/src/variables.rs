//! Application variables as Spin resolves them (`crates/factor-variables`):
//! `[variables]` declares them, `[component.X.variables]` maps a component's
//! config keys to templates such as `"{{ log_level }}"`, and values come from
//! `SPIN_VARIABLE_<NAME>` environment variables, else the declared default.
//! A `required` variable with no value fails start-up with a clear message.
//! A runtime configuration's `static` variables providers are asked first,
//! as Spin asks the providers it declares before its environment provider.
//! Each component sees only its own keys (through `wasi:config/store`).

use crate::manifest::VariableDecl;
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;

/// The resolved `[variables]` of an application.
#[derive(Debug, Clone, Default)]
pub struct Variables {
    values: BTreeMap<String, String>,
}

impl Variables {
    /// Resolves every declared variable: the values of `statics` (the
    /// runtime configuration's static providers) first, then
    /// `SPIN_VARIABLE_*` read through `env`, then the default.
    pub fn resolve(
        decls: &BTreeMap<String, VariableDecl>,
        statics: &BTreeMap<String, String>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self> {
        let mut values = BTreeMap::new();
        let mut missing = Vec::new();
        for (name, decl) in decls {
            check_name(name)?;
            if decl.required && decl.default.is_some() {
                bail!("variable '{name}' is both required and has a default");
            }
            let from_env = || env(&format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase()));
            match statics.get(name).cloned().or_else(from_env).or_else(|| decl.default.clone()) {
                Some(value) => {
                    values.insert(name.clone(), value);
                }
                None if decl.required => missing.push(name.clone()),
                None => {}
            }
        }
        if !missing.is_empty() {
            // Spin's wording (`crates/factor-variables`), plus how to set them.
            let keys: Vec<String> = missing.iter().map(|n| format!("Key({n:?})")).collect();
            let env: Vec<String> =
                missing.iter().map(|n| format!("SPIN_VARIABLE_{}", n.to_ascii_uppercase())).collect();
            bail!(
                "provider error: no provider resolved required variable(s): [{}] (set {})",
                keys.join(", "),
                env.join(", ")
            );
        }
        Ok(Self { values })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Expands `{{ name }}` references in `template`.
    pub fn expand(&self, template: &str) -> Result<String> {
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after.find("}}").with_context(|| format!("unterminated '{{{{' in template {template:?}"))?;
            let name = after[..end].trim();
            let value = self
                .get(name)
                .with_context(|| format!("template {template:?} refers to undefined variable '{name}'"))?;
            out.push_str(value);
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// Resolves a component's `[component.X.variables]` into its config map.
    pub fn component_config(
        &self,
        component: &str,
        templates: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>> {
        templates
            .iter()
            .map(|(key, template)| {
                check_name(key)?;
                let value =
                    self.expand(template).with_context(|| format!("component '{component}' variable '{key}'"))?;
                Ok((key.clone(), value))
            })
            .collect()
    }
}

/// Spin's rule: lowercase ASCII letters, digits and underscores, starting with a letter.
fn check_name(name: &str) -> Result<()> {
    let ok = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok {
        bail!("invalid variable name '{name}': use lowercase letters, digits and '_', starting with a letter");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decl(default: Option<&str>, required: bool) -> VariableDecl {
        VariableDecl { default: default.map(str::to_string), required, secret: false, description: None }
    }

    #[test]
    fn env_overrides_default_and_required_fails() {
        let mut decls = BTreeMap::new();
        decls.insert("log_level".to_string(), decl(Some("info"), false));
        decls.insert("api_key".to_string(), decl(None, true));
        let err = Variables::resolve(&decls, &BTreeMap::new(), |_| None).unwrap_err().to_string();
        assert!(err.contains("SPIN_VARIABLE_API_KEY"), "{err}");
        assert!(err.contains("no provider resolved required variable(s): [Key(\"api_key\")]"), "{err}");
        let vars = Variables::resolve(&decls, &BTreeMap::new(), |k| match k {
            "SPIN_VARIABLE_API_KEY" => Some("k".into()),
            "SPIN_VARIABLE_LOG_LEVEL" => Some("debug".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(vars.get("log_level"), Some("debug"));
        assert_eq!(vars.expand("a={{ log_level }}/{{api_key}}!").unwrap(), "a=debug/k!");
        assert!(vars.expand("{{ nope }}").is_err());
        assert!(vars.expand("{{ log_level").is_err());
    }

    #[test]
    fn a_static_provider_comes_before_the_environment() {
        let decls =
            BTreeMap::from([("a".to_string(), decl(Some("d"), false)), ("b".to_string(), decl(Some("d"), false))]);
        let statics = BTreeMap::from([("a".to_string(), "static".to_string())]);
        let vars = Variables::resolve(&decls, &statics, |_| Some("env".to_string())).unwrap();
        assert_eq!(vars.get("a"), Some("static"));
        assert_eq!(vars.get("b"), Some("env"));
    }

    #[test]
    fn names_are_checked() {
        let mut decls = BTreeMap::new();
        decls.insert("Bad-Name".to_string(), decl(Some("x"), false));
        assert!(Variables::resolve(&decls, &BTreeMap::new(), |_| None).is_err());
    }
}
