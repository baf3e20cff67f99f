//! What a set of policies grants on a path, decided exactly as Vault decides it, so a preview
//! ("who gains what") never needs a round trip and never drifts from the server.
//!
//! A port of OpenBao's `internal/vault/policy/acl.go` (`NewACL`, `AllowOperation` as called by
//! `Capabilities`, `CheckAllowedFromNonExactPaths`):
//! - rules are kept in three tables: exact paths, prefixes (`*` as the last character, stripped),
//!   and patterns with `+` segment wildcards (a trailing `*` kept as part of their key). So
//!   `a/b` and `a/b*` are two different rules that never merge.
//! - the same pattern in several policies merges into one rule: union, `deny` wins.
//! - an exact rule for the path wins outright, even one that grants nothing. `sys/capabilities`
//!   asks as a LIST, so an exact rule for the path without its trailing `/` also counts first.
//! - otherwise the longest matching prefix rule and every matching `+` rule compete, and the
//!   highest by Vault's order wins: (1) the first `+` (or, for a prefix rule, the `*`) later in
//!   the pattern, (2) not a prefix, (3) fewer `+` segments, (4) longer, (5) lexicographically
//!   larger. Only the longest prefix rule enters (Vault's radix `LongestPrefix`).
//! - if nothing matched and the path ends in `/`, the same search runs once without it.
//! - `deny` in the winning rule's set, or no capability at all, grants nothing.
//!
//! Templated rules are skipped: without an entity Vault cannot fill them either (a token made
//! for a preview has none). Rules with parameter conditions are counted as Vault's
//! `sys/capabilities` counts them: by path only.

use std::collections::BTreeMap;

use crate::capability::CapSet;
use crate::parse::Policy;

/// The merged rules of a token's policies.
#[derive(Debug, Clone, Default)]
pub struct Acl {
    exact: BTreeMap<String, CapSet>,
    /// Keyed by the prefix, without its `*`.
    prefix: BTreeMap<String, CapSet>,
    /// Keyed by the whole pattern, a trailing `*` included.
    segment: BTreeMap<String, CapSet>,
}

/// Where a rule sits in Vault's priority order; the greatest wins.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Priority<'a> {
    first_wildcard: usize,
    not_prefix: bool,
    fewer_wildcards: std::cmp::Reverse<usize>,
    len: usize,
    text: &'a str,
}

impl Acl {
    /// Merges the rules of `policies`, as Vault does for a token holding all of them.
    pub fn new<'a>(policies: impl IntoIterator<Item = &'a Policy>) -> Acl {
        let mut acl = Acl::default();
        for rule in policies.into_iter().flat_map(|p| &p.rules) {
            if rule.templated {
                continue;
            }
            let path = rule.path.as_str();
            let (table, key) = if has_segment_wildcards(path) {
                (&mut acl.segment, path)
            } else if let Some(prefix) = path.strip_suffix('*') {
                (&mut acl.prefix, prefix)
            } else {
                (&mut acl.exact, path)
            };
            let merged = table.entry(key.to_string()).or_default();
            *merged = merged.union(rule.caps);
        }
        acl
    }

    /// What the policies grant on the API path `path` (what `sys/capabilities` answers; a deny
    /// set or an empty set where Vault answers `["deny"]`).
    pub fn capabilities(&self, path: &str) -> CapSet {
        self.winner(path).map_or(CapSet::empty(), |(_, caps)| caps)
    }

    /// The rule that decides `path`, as written in a policy (`*` included), with its merged
    /// capabilities; `None` when no rule matches.
    pub fn winner(&self, path: &str) -> Option<(String, CapSet)> {
        let path = path.trim_start_matches('/');
        let trimmed = path.strip_suffix('/');
        if let Some(caps) = self.exact.get(path) {
            return Some((path.to_string(), *caps));
        }
        if let Some((p, caps)) = trimmed.and_then(|t| self.exact.get_key_value(t)) {
            return Some((p.clone(), *caps));
        }
        self.non_exact(path)
            .or_else(|| trimmed.and_then(|t| self.non_exact(t)))
    }

    fn non_exact(&self, path: &str) -> Option<(String, CapSet)> {
        let mut candidates: Vec<(Priority<'_>, String, CapSet)> = Vec::new();
        // Vault's radix LongestPrefix: the longest prefix rule that `path` starts with.
        let longest = (0..=path.len())
            .rev()
            .filter(|&i| path.is_char_boundary(i))
            .find_map(|i| self.prefix.get_key_value(&path[..i]));
        if let Some((prefix, caps)) = longest {
            let priority = Priority {
                first_wildcard: prefix.len(),
                not_prefix: false,
                fewer_wildcards: std::cmp::Reverse(0),
                len: prefix.len(),
                text: prefix,
            };
            candidates.push((priority, format!("{prefix}*"), *caps));
        }
        let parts: Vec<&str> = path.split('/').collect();
        for (pattern, caps) in &self.segment {
            if let Some(priority) = segment_match(pattern, &parts) {
                candidates.push((priority, pattern.clone(), *caps));
            }
        }
        candidates
            .into_iter()
            .max_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, pattern, caps)| (pattern, caps))
    }
}

/// OpenBao's test for a pattern with `+` segment wildcards (`policy.go`, `parsePaths`).
fn has_segment_wildcards(path: &str) -> bool {
    path == "+" || path.contains("/+") || path.starts_with("+/")
}

/// Whether the `+` pattern matches the path split at `/`, and if so its priority.
fn segment_match<'a>(pattern: &'a str, parts: &[&str]) -> Option<Priority<'a>> {
    if pattern.is_empty() {
        return None;
    }
    let first_wildcard = pattern.find('+')?;
    let (body, is_prefix) = match pattern.strip_suffix('*') {
        Some(body) => (body, true),
        None => (pattern, false),
    };
    let segments: Vec<&str> = body.split('/').collect();
    if parts.len() < segments.len() || (!is_prefix && parts.len() != segments.len()) {
        return None;
    }
    let mut wildcards = 0;
    for (i, seg) in segments.iter().enumerate() {
        let last = i == segments.len() - 1;
        if *seg == "+" {
            wildcards += 1;
        } else if *seg != parts[i] && !(is_prefix && last && parts[i].starts_with(seg)) {
            return None;
        }
    }
    Some(Priority {
        first_wildcard,
        not_prefix: !is_prefix,
        fewer_wildcards: std::cmp::Reverse(wildcards),
        len: body.len(),
        text: body,
    })
}

#[cfg(test)]
mod tests;
