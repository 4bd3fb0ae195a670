//! Per-tool authorization: who may list and call which tool.
//!
//! The `tool_policy` variable is a list of rules separated by `;`, each
//! `<tools> = <grantees>`: tool names or globs (`*` any run of characters)
//! separated by `,`, then grantees separated by `,`:
//!
//! * `scope:<scope>`: a token carrying that scope;
//! * `tenant:<tenant>`: a caller of that tenant (API key or token);
//! * `role:<role>`: an API key with that role (`admin`);
//! * `*`: every caller the gateway let in.
//!
//! For example `word_count,sha256 = scope:tools.read, tenant:acme; delete_* = role:admin`.
//!
//! A tool is allowed when some rule that names it grants the caller; with
//! a policy set, a tool no rule names is allowed to nobody (fail closed).
//! An empty policy allows every tool to every caller the gateway let in.

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Tool names or globs.
    pub tools: Vec<String>,
    /// Who they are granted to.
    pub grantees: Vec<Grantee>,
}

/// Who a rule grants its tools to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grantee {
    /// A token with this scope.
    Scope(String),
    /// A caller of this tenant.
    Tenant(String),
    /// An API key with this role.
    Role(String),
    /// Anyone let in.
    Anyone,
}

/// The policy: no rules means no restriction.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Policy {
    /// The rules, in order.
    pub rules: Vec<Rule>,
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Caller {
    /// The tenant (API key's, or the token's tenant claim).
    pub tenant: Option<String>,
    /// A token's scopes.
    pub scopes: Vec<String>,
    /// An API key's roles.
    pub roles: Vec<String>,
}

/// A decision, with the rule that made it (its 1-based number), and the
/// scopes that would grant the tool when none the caller holds does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Whether the caller may list and call the tool.
    pub allowed: bool,
    /// The rule that allowed it (`None`: no policy, or denied).
    pub rule: Option<usize>,
    /// Scopes that some rule naming the tool grants it to.
    pub scopes_that_grant: Vec<String>,
}

impl Policy {
    /// Parses the `tool_policy` syntax; an error names the rule and what
    /// is wrong with it.
    pub fn parse(spec: &str) -> Result<Policy, String> {
        let mut rules = Vec::new();
        for (n, text) in spec.split(';').map(str::trim).filter(|r| !r.is_empty()).enumerate() {
            let (tools, grantees) =
                text.split_once('=').ok_or_else(|| format!("rule {}: not `<tools> = <grantees>`", n + 1))?;
            let tools: Vec<String> =
                tools.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_string).collect();
            if tools.is_empty() {
                return Err(format!("rule {}: no tool", n + 1));
            }
            let mut parsed = Vec::new();
            for g in grantees.split(',').map(str::trim).filter(|g| !g.is_empty()) {
                parsed.push(match g.split_once(':') {
                    _ if g == "*" => Grantee::Anyone,
                    Some(("scope", s)) if !s.is_empty() => Grantee::Scope(s.to_string()),
                    Some(("tenant", t)) if !t.is_empty() => Grantee::Tenant(t.to_string()),
                    Some(("role", r)) if !r.is_empty() => Grantee::Role(r.to_string()),
                    _ => return Err(format!("rule {}: `{g}` is not scope:…, tenant:…, role:… or *", n + 1)),
                });
            }
            if parsed.is_empty() {
                return Err(format!("rule {}: grants its tools to nobody", n + 1));
            }
            rules.push(Rule { tools, grantees: parsed });
        }
        Ok(Policy { rules })
    }

    /// Whether there is a policy at all.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// May `caller` list and call `tool`?
    pub fn decide(&self, caller: &Caller, tool: &str) -> Decision {
        if self.is_empty() {
            return Decision { allowed: true, rule: None, scopes_that_grant: Vec::new() };
        }
        let mut scopes_that_grant = Vec::new();
        for (i, rule) in self.rules.iter().enumerate() {
            if !rule.tools.iter().any(|glob| matches(glob, tool)) {
                continue;
            }
            for grantee in &rule.grantees {
                let granted = match grantee {
                    Grantee::Anyone => true,
                    Grantee::Scope(s) => {
                        scopes_that_grant.push(s.clone());
                        caller.scopes.contains(s)
                    }
                    Grantee::Tenant(t) => caller.tenant.as_deref() == Some(t),
                    Grantee::Role(r) => caller.roles.contains(r),
                };
                if granted {
                    return Decision { allowed: true, rule: Some(i + 1), scopes_that_grant: Vec::new() };
                }
            }
        }
        scopes_that_grant.dedup();
        Decision { allowed: false, rule: None, scopes_that_grant }
    }
}

/// Whether `name` matches `glob` (`*` any run of characters, nothing else
/// special).
pub fn matches(glob: &str, name: &str) -> bool {
    let mut parts = glob.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = name.strip_prefix(first) else { return false };
    let pieces: Vec<&str> = parts.collect();
    let Some((last, middle)) = pieces.split_last() else { return rest.is_empty() };
    for piece in middle {
        match rest.find(piece) {
            Some(i) => rest = &rest[i + piece.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}
