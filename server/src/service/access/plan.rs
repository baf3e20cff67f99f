//! From a requested change to what Keyway will write: which Keyway policies of the environment
//! to create or rewrite, and each group's new policy list and members. Pure (Vault's state is
//! an argument), so the preview and the apply compute the same writes, and tests need no server.
//!
//! The rules, once:
//! - a group holds level `L` in environment `E` exactly when its policies include
//!   `keyway-E-L` ([`levels_of`]); a change replaces only those names in its list, every other
//!   policy it holds stays;
//! - Keyway writes only policies named `keyway-E-L` whose text it generates, never one that
//!   exists without Keyway's header ([`PolicyStatus::Foreign`]), and never names `root` or
//!   `default` on a group;
//! - every input is bounded and checked before anything is written.

use std::collections::BTreeSet;

use keyway_app::dto::{
    AccessPlan, ExternalAlias, GroupDiff, GroupTarget, KvHome, Level, Levels, NewGroupKind,
    PolicyStatus,
};
use keyway_app::error::AppError;
use keyway_app::logic::limits::check_chars;
use keyway_k8s::scope::Namespace;
use keyway_vault::{GroupType, PolicyCas};

use super::state::VaultState;
use super::{policy_level, policy_name, scope_of};

/// Most group changes in one plan.
pub const MAX_CHANGES: usize = 50;
/// Most members of one internal group set in one plan.
pub const MAX_MEMBERS: usize = 500;
/// Longest group name, alias name and probe user name, in characters.
pub const NAME_MAX: usize = 128;

/// A Keyway policy to write.
#[derive(Debug, Clone)]
pub(super) struct PolicyWrite {
    pub name: String,
    pub text: String,
    /// Its text now, when it exists.
    pub before: Option<String>,
    pub cas: PolicyCas,
}

/// A group to create or change.
#[derive(Debug, Clone)]
pub(super) struct GroupWrite {
    pub target: GroupTarget,
    pub name: String,
    /// Its whole policy list after the change.
    pub policies: Vec<String>,
    /// An internal group's members after the change, when they change.
    pub members: Option<Vec<String>>,
    /// A new external group's alias: (auth mount accessor, name at the identity provider).
    pub alias: Option<(String, String)>,
    pub diff: GroupDiff,
}

/// Everything one plan writes.
#[derive(Debug, Clone)]
pub(super) struct Writes {
    pub policies: Vec<PolicyWrite>,
    pub groups: Vec<GroupWrite>,
}

impl Writes {
    pub fn is_empty(&self) -> bool {
        self.policies.is_empty() && self.groups.is_empty()
    }
}

/// The levels a policy list gives in `environment`.
pub(super) fn levels_of(environment: &str, policies: &[String]) -> Levels {
    let mut levels = Levels::default();
    for level in Level::ALL {
        levels.set(
            level,
            policies
                .iter()
                .any(|p| *p == policy_name(environment, level)),
        );
    }
    levels
}

/// A policy list with its levels in `environment` replaced by `levels`; other names keep
/// their order.
fn with_levels(environment: &str, policies: &[String], levels: Levels) -> Vec<String> {
    let ours: Vec<String> = Level::ALL
        .iter()
        .map(|l| policy_name(environment, *l))
        .collect();
    let mut out: Vec<String> = policies
        .iter()
        .filter(|p| !ours.contains(p))
        .cloned()
        .collect();
    out.extend(levels.iter().map(|l| policy_name(environment, l)));
    out
}

/// The state of Keyway's policy for `level` in the environment.
pub(super) fn policy_status(
    state: &VaultState,
    environment: &Namespace,
    home: &KvHome,
    level: Level,
) -> PolicyStatus {
    match state
        .policies
        .get(&policy_name(environment.as_str(), level))
    {
        None => PolicyStatus::Missing,
        Some(p) if !p.managed => PolicyStatus::Foreign,
        Some(p) if p.stored.text == generated(environment, home, level) => PolicyStatus::Current,
        Some(_) => PolicyStatus::Drifted,
    }
}

/// The text Keyway writes for `level` in the environment.
pub(super) fn generated(environment: &Namespace, home: &KvHome, level: Level) -> String {
    keyway_policy::generate(&scope_of(environment, home), policy_level(level))
}

fn name_problem(what: &str, value: &str) -> Result<(), AppError> {
    check_chars(what, value, NAME_MAX).map_err(AppError::Invalid)?;
    if value.trim().is_empty() || value.chars().any(char::is_control) {
        return Err(AppError::Invalid(format!(
            "The {what} cannot be empty or hold control characters."
        )));
    }
    Ok(())
}

/// A new group's name: what Vault accepts and Keyway can show plainly.
fn check_group_name(name: &str) -> Result<(), AppError> {
    name_problem("group name", name)?;
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(AppError::Invalid(format!(
            "\"{name}\" is not a usable group name: use letters, digits, '-', '_' and '.'."
        )));
    }
    Ok(())
}

/// Refuses a plan over its bounds (number of groups, members, names' lengths), before
/// anything else reads it: the apply claims its groups, and must not claim a thousand.
pub(super) fn check_bounds(request: &AccessPlan) -> Result<(), AppError> {
    if request.changes.len() > MAX_CHANGES {
        return Err(AppError::Invalid(format!(
            "A change can name at most {MAX_CHANGES} groups; this one names {}.",
            request.changes.len()
        )));
    }
    if let Some(user) = &request.probe_user {
        name_problem("user name", user)?;
    }
    if request.policies_seen.len() > Level::ALL.len() {
        return Err(AppError::Invalid(
            "A change names at most one policy per level as seen.".into(),
        ));
    }
    for seen in &request.policies_seen {
        name_problem("policy name", &seen.name)?;
        if let Some(sha) = &seen.sha256 {
            name_problem("policy fingerprint", sha)?;
        }
    }
    for change in &request.changes {
        let lists: [&[String]; 3] = match &change.target {
            GroupTarget::Existing {
                id,
                seen_policies,
                seen_members,
                ..
            } => {
                name_problem("group id", id)?;
                [
                    seen_policies,
                    seen_members,
                    change.members.as_deref().unwrap_or_default(),
                ]
            }
            GroupTarget::New { name, kind } => {
                name_problem("group name", name)?;
                if let NewGroupKind::External { mount, alias } = kind {
                    name_problem("auth method", mount)?;
                    name_problem("group name at the identity provider", alias)?;
                }
                [&[], &[], change.members.as_deref().unwrap_or_default()]
            }
        };
        for list in lists {
            if list.len() > MAX_MEMBERS {
                return Err(AppError::Invalid(format!(
                    "A group can be given at most {MAX_MEMBERS} members (or be read with at most {MAX_MEMBERS} policies) at once."
                )));
            }
            for item in list {
                name_problem("name", item)?;
            }
        }
    }
    Ok(())
}

/// The writes `request` needs, given Vault's state. Refuses (before anything is written) a plan
/// that is too big, names a group twice or one that is not there, grants a level whose policy
/// name is taken by a policy Keyway did not write, or sets members of an external group.
pub(super) fn plan(
    environment: &Namespace,
    home: &KvHome,
    state: &VaultState,
    request: &AccessPlan,
) -> Result<Writes, AppError> {
    let env = environment.as_str();
    check_bounds(request)?;
    let mut seen_targets = BTreeSet::new();
    let mut groups = Vec::new();
    for change in &request.changes {
        let key = match &change.target {
            GroupTarget::Existing { id, .. } => format!("id:{id}"),
            // Vault's group names ignore case.
            GroupTarget::New { name, .. } => format!("name:{}", name.to_lowercase()),
        };
        if !seen_targets.insert(key) {
            return Err(AppError::Invalid(
                "The change names the same group twice.".into(),
            ));
        }
        if let Some(members) = &change.members {
            for id in members {
                if !state.entities.iter().any(|e| &e.id == id) {
                    return Err(AppError::Invalid(format!(
                        "The member {id} is not an entity in Vault (it may have been deleted): reload the page."
                    )));
                }
            }
        }
        let write = match &change.target {
            GroupTarget::Existing { id, .. } => {
                let group = state.group(id).ok_or_else(|| {
                    AppError::NotFound(
                        "One of the groups is no longer in Vault: reload the page.".into(),
                    )
                })?;
                if group.kind == GroupType::External && change.members.is_some() {
                    return Err(AppError::Invalid(format!(
                        "{} is an external group: its members come from its identity provider at login and cannot be set here.",
                        group.name
                    )));
                }
                let policies = with_levels(env, &group.policies, change.levels.with_view_implied());
                let members = change
                    .members
                    .as_ref()
                    .map(|m| {
                        m.iter()
                            .cloned()
                            .collect::<BTreeSet<_>>()
                            .into_iter()
                            .collect::<Vec<_>>()
                    })
                    .filter(|m| {
                        let before: BTreeSet<&String> = group.member_entity_ids.iter().collect();
                        before != m.iter().collect()
                    });
                let diff = group_diff(
                    state,
                    &group.name,
                    false,
                    &group.policies,
                    &policies,
                    &group.member_entity_ids,
                    members.as_deref(),
                    None,
                );
                GroupWrite {
                    target: change.target.clone(),
                    name: group.name.clone(),
                    policies,
                    members,
                    alias: None,
                    diff,
                }
            }
            GroupTarget::New { name, kind } => {
                check_group_name(name)?;
                if state.group_named(name).is_some() {
                    return Err(AppError::Invalid(format!(
                        "A group named {name} exists already: pick it from the list of groups instead."
                    )));
                }
                if change.levels.is_empty() {
                    return Err(AppError::Invalid(format!(
                        "The new group {name} is given no level here: tick at least one."
                    )));
                }
                let policies = with_levels(env, &[], change.levels.with_view_implied());
                let (members, alias, shown) = match kind {
                    NewGroupKind::Internal => {
                        (Some(change.members.clone().unwrap_or_default()), None, None)
                    }
                    NewGroupKind::External { mount, alias } => {
                        if change.members.is_some() {
                            return Err(AppError::Invalid(format!(
                                "{name} is an external group: its members come from its identity provider at login and cannot be set here."
                            )));
                        }
                        name_problem("group name at the identity provider", alias)?;
                        let method = state
                            .auth
                            .iter()
                            .find(|m| m.path == mount.trim_end_matches('/'))
                            .ok_or_else(|| {
                                AppError::Invalid(format!(
                                    "There is no auth method at {mount} in Vault."
                                ))
                            })?;
                        (
                            None,
                            Some((method.accessor.clone(), alias.clone())),
                            Some(ExternalAlias {
                                name: alias.clone(),
                                mount: method.path.clone(),
                            }),
                        )
                    }
                };
                let diff = group_diff(
                    state,
                    name,
                    true,
                    &[],
                    &policies,
                    &[],
                    members.as_deref(),
                    shown,
                );
                GroupWrite {
                    target: change.target.clone(),
                    name: name.clone(),
                    policies,
                    members,
                    alias,
                    diff,
                }
            }
        };
        let unchanged = !write.diff.created
            && write.diff.policies_added.is_empty()
            && write.diff.policies_removed.is_empty()
            && write.members.is_none();
        if !unchanged {
            groups.push(write);
        }
    }
    // The policies of the levels the written groups will hold: each must exist as Keyway
    // writes it (a level an unchanged group holds is not this change's business).
    let mut granted = Levels::default();
    for g in &groups {
        for level in levels_of(env, &g.policies).iter() {
            granted.set(level, true);
        }
    }
    let mut policies = Vec::new();
    for level in granted.iter() {
        let name = policy_name(env, level);
        let text = generated(environment, home, level);
        match state.policies.get(&name) {
            None => policies.push(PolicyWrite {
                name,
                text,
                before: None,
                cas: PolicyCas::Create,
            }),
            Some(p) if !p.managed => {
                return Err(AppError::Invalid(format!(
                    "Vault already has a policy named {name} that Keyway did not write, so Keyway will not overwrite it. Rename that policy in Vault (or remove it), then try again."
                )))
            }
            Some(p) if p.stored.text == text => {}
            Some(p) => policies.push(PolicyWrite {
                name,
                text,
                before: Some(p.stored.text.clone()),
                cas: p.stored.version.map_or(PolicyCas::None, PolicyCas::Version),
            }),
        }
    }
    Ok(Writes { policies, groups })
}

#[allow(clippy::too_many_arguments)]
fn group_diff(
    state: &VaultState,
    name: &str,
    created: bool,
    before: &[String],
    after: &[String],
    members_before: &[String],
    members_after: Option<&[String]>,
    alias: Option<ExternalAlias>,
) -> GroupDiff {
    let added = |a: &[String], b: &[String]| -> Vec<String> {
        b.iter().filter(|x| !a.contains(x)).cloned().collect()
    };
    let (members_added, members_removed) = match members_after {
        Some(after) => (
            added(members_before, after)
                .iter()
                .map(|id| state.entity_label(id))
                .collect(),
            added(after, members_before)
                .iter()
                .map(|id| state.entity_label(id))
                .collect(),
        ),
        None => (Vec::new(), Vec::new()),
    };
    GroupDiff {
        name: name.to_owned(),
        created,
        policies_added: added(before, after),
        policies_removed: added(after, before),
        members_added,
        members_removed,
        alias,
    }
}

#[cfg(test)]
mod tests;
