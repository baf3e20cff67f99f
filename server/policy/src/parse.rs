//! Reads the ACL policies that already exist in Vault, with a real HCL parser (`hcl-rs`).
//!
//! A policy is a list of `path "<pattern>" { capabilities = [...] }` blocks. This module keeps
//! what the evaluator needs (the pattern and its capabilities) and marks what it cannot judge:
//! identity templates (`{{identity...}}`, filled per entity at request time) and conditions on
//! the request (parameters, wrapping TTLs, MFA, expiry, control groups). It follows OpenBao's
//! `internal/vault/policy/policy.go`: the same keys are allowed, the legacy `policy = "..."`
//! words map to the same capabilities, `deny` anywhere makes the rule a deny, and one leading
//! `/` is stripped from a path. Vault parses HCL 1; this is an HCL 2 parser, which reads every
//! policy written in the documented block syntax. JSON policies are refused with a sentence.

use hcl::{BlockLabel, Body, Expression, Structure};

use crate::capability::{CapSet, Capability};

/// One parsed ACL policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// The `path` blocks, in the order written.
    pub rules: Vec<Rule>,
}

/// One `path "<pattern>" { ... }` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The pattern as written, without a leading `/`: an exact path, a prefix (`*` last), or
    /// with `+` segment wildcards.
    pub path: String,
    /// What the rule grants (a deny set if `deny` is among its words).
    pub caps: CapSet,
    /// The path holds an identity template (`{{...}}`); it cannot be evaluated without an
    /// entity, so the evaluator skips it.
    pub templated: bool,
    /// The rule also constrains requests (allowed/denied/required parameters, wrapping TTLs,
    /// MFA, pagination, expiration, response filter, control group): its capabilities hold
    /// only for requests that meet them, which a path alone cannot show.
    pub has_parameters: bool,
}

/// Why a policy text could not be read, as a plain sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("The policy is not valid HCL, at {0}")]
    Syntax(String),
    #[error("JSON policies are not supported; write the policy in HCL")]
    Json,
    #[error("Top-level `{0}` is not allowed: a policy holds only `path \"...\" {{ ... }}` blocks")]
    TopLevel(String),
    #[error(
        "A `path` block needs exactly one quoted path, like `path \"secret/data/*\" {{ ... }}`"
    )]
    PathLabel,
    #[error("path \"{path}\": {problem}")]
    Rule { path: String, problem: String },
}

/// Keys OpenBao accepts inside a `path` block besides `capabilities` and `policy`, all of
/// which constrain requests rather than paths.
const CONDITIONS: [&str; 11] = [
    "allowed_parameters",
    "denied_parameters",
    "required_parameters",
    "min_wrapping_ttl",
    "max_wrapping_ttl",
    "mfa_methods",
    "pagination_limit",
    "expiration",
    "list_scan_response_keys_filter_path",
    "control_group",
    // Not a condition, but allowed and meaningless to the evaluator.
    "comment",
];

/// Parses one ACL policy's HCL text.
pub fn parse(hcl_text: &str) -> Result<Policy, ParseError> {
    if hcl_text.trim_start().starts_with('{') {
        return Err(ParseError::Json);
    }
    let body: Body = hcl::parse(hcl_text).map_err(syntax)?;
    let mut rules = Vec::new();
    for item in body.into_iter() {
        match item {
            Structure::Block(block) if block.identifier() == "path" => {
                let path = match block.labels.as_slice() {
                    [BlockLabel::String(p)] => p.clone(),
                    [BlockLabel::Identifier(p)] => p.to_string(),
                    _ => return Err(ParseError::PathLabel),
                };
                rules.push(rule(path, &block.body)?);
            }
            // OpenBao allows (and ignores) a top-level `name`.
            Structure::Attribute(attr) if attr.key() == "name" => {}
            Structure::Attribute(attr) => return Err(ParseError::TopLevel(attr.key().into())),
            Structure::Block(block) => return Err(ParseError::TopLevel(block.identifier().into())),
        }
    }
    Ok(Policy { rules })
}

/// hcl-rs's error as one sentence: where, then what.
fn syntax(e: hcl::Error) -> ParseError {
    ParseError::Syntax(match e {
        hcl::Error::Parse(e) => {
            let at = e.location();
            format!(
                "line {}, column {}: {}",
                at.line(),
                at.column(),
                e.message()
            )
        }
        other => other.to_string(),
    })
}

fn rule(written: String, body: &Body) -> Result<Rule, ParseError> {
    let fail = |problem: String| ParseError::Rule {
        path: written.clone(),
        problem,
    };
    let mut caps = CapSet::empty();
    let mut has_parameters = false;
    for item in body.iter() {
        let (key, expr) = match item {
            Structure::Attribute(a) => (a.key(), Some(a.expr())),
            Structure::Block(b) => (b.identifier(), None),
        };
        match (key, expr) {
            ("capabilities", Some(expr)) => {
                let words = string_list(expr).ok_or_else(|| {
                    fail("`capabilities` must be a list of quoted words, like [\"read\"]".into())
                })?;
                caps = caps.union(CapSet::from_words(words).map_err(|e| fail(e.to_string()))?);
            }
            ("policy", Some(Expression::String(word))) => {
                caps = caps.union(legacy(word).ok_or_else(|| {
                    fail(format!(
                        "invalid policy \"{word}\" (use \"read\", \"write\", \"sudo\" or \"deny\")"
                    ))
                })?);
            }
            ("policy", _) => return Err(fail("`policy` must be a quoted word".into())),
            (key, _) if CONDITIONS.contains(&key) => has_parameters |= key != "comment",
            (key, _) => return Err(fail(format!("unknown key `{key}`"))),
        }
    }
    // OpenBao strips one leading '/' ("paths in Vault start after the / in the API path").
    let path = written.strip_prefix('/').unwrap_or(&written).to_string();
    if path.contains("+*") {
        return Err(fail("invalid use of wildcards ('+*' is forbidden)".into()));
    }
    Ok(Rule {
        templated: path.contains("{{"),
        path,
        caps,
        has_parameters,
    })
}

/// The legacy `policy = "..."` words, mapped as OpenBao maps them. `write` does not include
/// `patch` (OpenBao's `OldWritePathPolicy` predates it), so neither does this.
fn legacy(word: &str) -> Option<CapSet> {
    use Capability::*;
    let rw = [Create, Read, Update, Delete, List];
    Some(match word {
        "deny" => CapSet::deny(),
        "read" => CapSet::of(&[Read, List]),
        "write" => CapSet::of(&rw),
        "sudo" => CapSet::of(&rw).union(CapSet::of(&[Sudo])),
        _ => return None,
    })
}

fn string_list(expr: &Expression) -> Option<Vec<&str>> {
    match expr {
        Expression::Array(items) => items
            .iter()
            .map(|e| match e {
                Expression::String(s) => Some(s.as_str()),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
