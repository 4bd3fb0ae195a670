//! `spin.toml`, the README and the code agree on the variables (no host is
//! started for these): the table in `crates/spinscope/src/config/vars.rs` has every
//! `[variables]` entry with the same default, `required` and `secret`; each
//! `[component.X.variables]` maps exactly the set X declares in
//! `crates/spinscope/src/config/reads.rs` (nothing read but unmapped, which
//! would silently read the default, nothing mapped but unread); and each
//! component's source uses only the `Config` fields of its own set. Then,
//! on a host, the static provider `make up` writes: asked before the
//! environment, and keeping every value.

use spinscope::config::reads::{self, COMPONENTS, HELPERS};
use spinscope::config::vars::{Variable, MANIFEST_ONLY};
use spinscope::config::{Var, VarSet};
use spinscope_e2e::{request, workspace_root, HostBuilder, Mcp};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn read(path: &str) -> String {
    std::fs::read_to_string(workspace_root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn manifest() -> toml::Table {
    read("spin.toml").parse().expect("spin.toml parses")
}

/// Every variable of the code's table, the manifest-only ones included.
fn code_table() -> BTreeMap<&'static str, Variable> {
    Var::ALL.iter().map(|v| *v.spec()).chain(MANIFEST_ONLY.iter().copied()).map(|v| (v.name, v)).collect()
}

#[test]
fn the_variables_of_spin_toml_are_the_code_table() {
    let doc = manifest();
    let declared = doc["variables"].as_table().expect("[variables]");
    let code = code_table();
    let mut wrong = Vec::new();
    for (name, decl) in declared {
        let decl = decl.as_table().unwrap_or_else(|| panic!("[variables] {name} is not a table"));
        let Some(spec) = code.get(name.as_str()) else {
            wrong.push(format!("{name}: in spin.toml, not in crates/spinscope/src/config/vars.rs"));
            continue;
        };
        let default =
            decl.get("default").map(|d| d.as_str().unwrap_or_else(|| panic!("{name}: default is not a string")));
        if default != spec.default {
            wrong.push(format!("{name}: default {default:?} in spin.toml, {:?} in the code", spec.default));
        }
        let required = decl.get("required").and_then(toml::Value::as_bool).unwrap_or(false);
        if required != spec.default.is_none() {
            wrong.push(format!("{name}: required = {required} in spin.toml, default {:?} in the code", spec.default));
        }
        let secret = decl.get("secret").and_then(toml::Value::as_bool).unwrap_or(false);
        if secret != spec.secret {
            wrong.push(format!("{name}: secret = {secret} in spin.toml, {} in the code", spec.secret));
        }
    }
    for (name, spec) in &code {
        if !declared.contains_key(*name) {
            let default = spec.default.map(|d| format!("default = {d:?}")).unwrap_or("required = true".into());
            let secret = if spec.secret { ", secret = true" } else { "" };
            wrong.push(format!("{name}: missing from spin.toml's [variables]: {name} = {{ {default}{secret} }}"));
        }
    }
    assert!(wrong.is_empty(), "spin.toml and the code disagree:\n{}", wrong.join("\n"));
}

/// The variable a template such as `"{{ log_level }}"` is exactly.
fn template_of(template: &str) -> Option<&str> {
    let inner = template.trim().strip_prefix("{{")?.strip_suffix("}}")?.trim();
    (!inner.contains("{{")).then_some(inner)
}

#[test]
fn each_component_maps_exactly_the_variables_it_reads() {
    let doc = manifest();
    let components = doc["component"].as_table().expect("[component]");
    let mut wrong = Vec::new();
    for (id, component) in components {
        let Some(reads) = reads::component(id) else {
            wrong.push(format!("component '{id}' has no entry in spinscope::config::reads::COMPONENTS (VarSet::EMPTY if it reads none)"));
            continue;
        };
        let mapped = component.get("variables").and_then(toml::Value::as_table).cloned().unwrap_or_default();
        let mut seen = BTreeSet::new();
        for (key, template) in &mapped {
            let template = template.as_str().unwrap_or_default();
            match Var::from_name(key) {
                Some(var) if reads.contains(var) => {
                    seen.insert(key.as_str());
                    if template_of(template) != Some(key.as_str()) {
                        wrong.push(format!(
                            "[component.{id}.variables] {key} = {template:?}: should be \"{{{{ {key} }}}}\""
                        ));
                    }
                }
                _ => wrong.push(format!("[component.{id}.variables] {key}: mapped but never read; remove it")),
            }
        }
        for name in reads.names() {
            if !seen.contains(name) {
                wrong.push(format!("[component.{id}.variables]: {id} reads {name} but does not map it; add {name} = \"{{{{ {name} }}}}\""));
            }
        }
    }
    for (id, _) in COMPONENTS {
        if !components.contains_key(*id) {
            wrong.push(format!("component '{id}' is declared in reads::COMPONENTS but not in spin.toml"));
        }
    }
    assert!(wrong.is_empty(), "spin.toml's component variables and the code disagree:\n{}", wrong.join("\n"));
}

/// Every string in `value`, with the path to it.
fn strings<'a>(path: String, value: &'a toml::Value, out: &mut Vec<(String, &'a str)>) {
    match value {
        toml::Value::String(s) => out.push((path, s)),
        toml::Value::Array(items) => items.iter().for_each(|v| strings(path.clone(), v, out)),
        toml::Value::Table(t) => t.iter().for_each(|(k, v)| strings(format!("{path}.{k}"), v, out)),
        _ => {}
    }
}

#[test]
fn manifest_only_variables_fill_a_template_and_nothing_else() {
    let doc = manifest();
    let mut found = Vec::new();
    strings("component".into(), &doc["component"], &mut found);
    for spec in MANIFEST_ONLY {
        let uses: Vec<&String> = found
            .iter()
            .filter(|(_, s)| {
                s.split("{{").skip(1).any(|rest| rest.split("}}").next().map(str::trim) == Some(spec.name))
            })
            .map(|(path, _)| path)
            .collect();
        assert!(!uses.is_empty(), "{}: no template in spin.toml uses it; remove it", spec.name);
        assert!(
            uses.iter().all(|path| !path.contains(".variables.")),
            "{}: a component maps it, so it reads it: move it to Var ({uses:?})",
            spec.name
        );
    }
}

#[test]
fn the_readme_table_lists_every_variable_with_its_default() {
    let readme = read("README.md");
    let section = readme.split("## Configuration").nth(1).expect("README has ## Configuration");
    let section = section.split("\n## ").next().unwrap();
    let mut rows = BTreeMap::new();
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let name = cells[1].split('`').nth(1).unwrap();
        let default = if cells[2].starts_with('`') { cells[2].split('`').nth(1).unwrap() } else { "" };
        rows.insert(name, (default, cells[1].contains("(secret)")));
    }
    let code = code_table();
    let mut wrong = Vec::new();
    for (name, spec) in &code {
        match rows.get(name) {
            None => wrong.push(format!("{name}: not in the README's variables table")),
            Some((default, secret)) => {
                if *default != spec.default.unwrap_or("") {
                    wrong.push(format!("{name}: README default `{default}`, code {:?}", spec.default));
                }
                if *secret != spec.secret {
                    wrong.push(format!("{name}: README says secret {secret}, code {}", spec.secret));
                }
            }
        }
    }
    for name in rows.keys().filter(|n| !code.contains_key(*n)) {
        wrong.push(format!("{name}: in the README's variables table, not in the code"));
    }
    assert!(wrong.is_empty(), "README.md and the code disagree:\n{}", wrong.join("\n"));
}

#[test]
fn docs_count_the_variables_the_probes_check() {
    let probes = read("docs/probes.md");
    let counts: Vec<&str> = probes
        .split("\"all ")
        .skip(1)
        .filter_map(|rest| rest.split_once(" variables parse\"").map(|(n, _)| n))
        .collect();
    assert!(!counts.is_empty(), "docs/probes.md shows no config check message");
    for n in counts {
        assert_eq!(n, reads::READY.len().to_string(), "docs/probes.md: \"all {n} variables parse\"");
    }
}

/// The variables whose `Config` fields `source` uses (`config.<field>`, or a
/// `Config` method named in `METHODS`).
fn fields_used(source: &str) -> VarSet {
    const METHODS: &[(&str, Var)] = &[("origin_allowed", Var::AllowedOrigins)];
    let uses = |needle: &str| {
        source.match_indices(needle).any(|(at, _)| {
            let next = source[at + needle.len()..].chars().next();
            !next.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        })
    };
    let fields = Var::ALL.iter().copied().filter(|v| uses(&format!("config.{}", v.spec().field)));
    let methods = METHODS.iter().filter(|(m, _)| uses(&format!("config.{m}"))).map(|(_, v)| *v);
    fields.chain(methods).fold(VarSet::EMPTY, |set, v| set.with(&[v]))
}

/// The helpers of `spinscope_spin` that `source` calls (`gate::...`).
fn helpers_used(source: &str) -> VarSet {
    HELPERS
        .iter()
        .filter(|(name, _)| source.contains(&format!("{name}::")))
        .fold(VarSet::EMPTY, |set, (_, reads)| set.union(*reads))
}

fn sources(dir: &Path) -> String {
    let mut out = String::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.push_str(&sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
    out
}

fn missing(what: &str, declared: VarSet, used: VarSet, wrong: &mut Vec<String>) {
    for var in used.iter().filter(|v| !declared.contains(*v)) {
        wrong.push(format!("{what} uses {} but does not declare it in spinscope::config::reads", var.name()));
    }
}

#[test]
fn code_uses_only_the_variables_its_component_declares() {
    let root = workspace_root();
    let mut wrong = Vec::new();
    for (id, declared) in COMPONENTS {
        let source = sources(&root.join("components").join(id).join("src"));
        missing(&format!("component {id}"), *declared, fields_used(&source).union(helpers_used(&source)), &mut wrong);
    }
    let adapter = root.join("crates/spinscope-spin/src");
    for entry in std::fs::read_dir(&adapter).unwrap() {
        let path = entry.unwrap().path();
        let module = path.file_stem().unwrap().to_str().unwrap().to_string();
        let source = if path.is_dir() { sources(&path) } else { std::fs::read_to_string(&path).unwrap() };
        let declared =
            HELPERS.iter().find(|(name, _)| *name == module).map(|(_, reads)| *reads).unwrap_or(VarSet::EMPTY);
        let used = fields_used(&source).union(helpers_used(&source));
        missing(&format!("spinscope_spin::{module}"), declared, used, &mut wrong);
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_table_names_every_config_field() {
    let source = read("crates/spinscope/src/config/mod.rs");
    let body = source.split("pub struct Config {").nth(1).unwrap().split("\n}").next().unwrap();
    let fields: BTreeSet<&str> =
        body.lines().filter_map(|l| l.trim().strip_prefix("pub ")?.split_once(':').map(|(f, _)| f.trim())).collect();
    let table: BTreeSet<&str> = Var::ALL.iter().map(|v| v.spec().field).collect();
    assert_eq!(fields, table, "Config's fields and the `field` column of config/vars.rs differ");
    // The scan above finds what it should.
    assert_eq!(
        fields_used("if cx.config.tool_timeout.is_zero() && loaded.config.origin_allowed(o)").names(),
        ["tool_timeout_ms", "allowed_origins"]
    );
    assert!(fields_used("config.tool_timeouts").is_empty());
}

/// `make up` gives Spin the variables in a static provider
/// (`spinscope-variables`, docs/deployment.md). On both hosts that
/// provider is asked before the environment: a key it holds is the one
/// in force, whatever `SPIN_VARIABLE_API_KEYS` says.
#[test]
fn a_static_provider_is_asked_before_the_environment() {
    use spinscope::auth::hash_key;
    let (in_file, in_env) = ("key-in-the-static-provider-0123", "key-in-the-environment-456789");
    let manifest = HostBuilder::app(Some(&["gateway", "text-tools"])).var("tool_components", "text-tools");
    let section = format!(
        "[[variables_provider]]\ntype = \"static\"\nvalues = {{ api_keys = \"file:{}\", tool_components = \"text-tools\" }}\n",
        hash_key(in_file)
    );
    let host = manifest.runtime_config_section(&section).var("api_keys", &format!("env:{}", hash_key(in_env))).start();
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
    let post = |key: &str| {
        let auth = format!("Bearer {key}");
        let headers = [
            ("content-type", "application/json"),
            ("accept", "application/json, text/event-stream"),
            ("authorization", auth.as_str()),
        ];
        host.post("/mcp", &headers, init)
    };
    assert_eq!(post(in_file).status, 200, "the static provider's key");
    assert_eq!(post(in_env).status, 401, "the environment's key is shadowed");
}

/// The builder's `static_variables` (what `make up` does) keeps every
/// variable's value: a key set in the environment is in force.
#[test]
fn variables_resolved_into_a_static_provider_keep_their_values() {
    use spinscope::auth::hash_key;
    let key = "key-through-make-up-0123456789";
    let host = HostBuilder::app(Some(&["gateway", "text-tools"]))
        .static_variables()
        .var("tool_components", "text-tools")
        .var("api_keys", &format!("t:{}", hash_key(key)))
        .start();
    let mcp = Mcp::new(&host);
    let refused = mcp.post_raw(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#, &[]);
    assert_eq!(refused.status, 401, "{}", refused.body);
    let auth = format!("Bearer {key}");
    let reply = request(
        "POST",
        &host.url("/mcp"),
        &[
            ("content-type", "application/json"),
            ("accept", "application/json, text/event-stream"),
            ("authorization", &auth),
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", "word_count"),
        ],
        Some(
            serde_json::json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
            "name": "word_count", "arguments": {"text": "a b c"},
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
                "io.modelcontextprotocol/clientCapabilities": {},
            }}})
            .to_string()
            .as_bytes(),
        ),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["result"]["structuredContent"]["words"], 3, "{}", reply.body);
}
