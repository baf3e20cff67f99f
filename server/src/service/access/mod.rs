//! The platform team's access pages: who may view, edit and restart in each environment, as
//! Vault identity groups holding Keyway's policies `keyway-<environment>-<level>`.
//!
//! Split by job: `super::menu` asks Vault which platform pages the caller may open, [`state`] reads
//! Vault's groups and policies, [`plan`] turns a requested change into writes (pure),
//! [`effective`] evaluates who can do what before and after, [`apply`] writes with
//! check-and-set and conflict checks, audited as one action. Every Vault call uses the caller's
//! own token: Vault decides, and its audit log sees the real person.

mod apply;
mod effective;
mod lines;
mod plan;
mod state;

use async_trait::async_trait;
use keyway_app::backend::AccessApi;
use keyway_app::dto::{
    AccessApplied, AccessPlan, AccessPreview, EntityChoice, EnvironmentAccess, GroupAccess,
    GroupKind, GroupTarget, KvHome, Level, Levels, Member, OutsideGrant, PlatformMenu, PolicyDiff,
    PolicyState, Reach, Subject,
};
use keyway_app::error::AppError;
use keyway_k8s::scope::Namespace;
use keyway_k8s::snapshot;
use keyway_vault::{GroupType, PolicyCas};

use super::{vault_error, Caller, Core, RequestBackend};
use effective::{Holder, Place, Probe};
use state::VaultState;

/// Keyway's policy level for a level of the UI (the same three, named once each side).
pub(super) fn policy_level(level: Level) -> keyway_policy::Level {
    match level {
        Level::View => keyway_policy::Level::View,
        Level::Edit => keyway_policy::Level::Edit,
        Level::Restart => keyway_policy::Level::Restart,
    }
}

/// `keyway-<environment>-<level>`.
pub(super) fn policy_name(environment: &str, level: Level) -> String {
    keyway_policy::policy_name(environment, policy_level(level))
}

/// The names of the environment's Keyway policies, one per level.
pub(super) fn own_policies(environment: &Namespace) -> Vec<String> {
    Level::ALL
        .iter()
        .map(|l| policy_name(environment.as_str(), *l))
        .collect()
}

/// An environment's kv home as the policy generator takes it.
pub(super) fn scope_of(environment: &Namespace, home: &KvHome) -> keyway_policy::Scope {
    keyway_policy::Scope {
        namespace: environment.as_str().to_owned(),
        mount: home.mount.clone(),
        prefix: home.prefix.clone(),
    }
}

/// Longest member search text.
const SEARCH_MAX: usize = 128;
/// Most entities a member search returns.
const FOUND_MAX: usize = 20;

#[async_trait]
impl AccessApi for RequestBackend {
    async fn platform_menu(&self) -> Result<PlatformMenu, AppError> {
        self.with_caller(|c| async move { Ok(self.core.menu(&c).await?.dto()) })
            .await
    }

    async fn environment_access(&self, environment: &str) -> Result<EnvironmentAccess, AppError> {
        self.with_caller(|c| self.core.environment_access(c, environment))
            .await
    }

    async fn preview_access(&self, plan: AccessPlan) -> Result<AccessPreview, AppError> {
        self.with_caller(|c| self.core.preview_access(c, plan))
            .await
    }

    async fn apply_access(&self, plan: AccessPlan) -> Result<AccessApplied, AppError> {
        self.with_caller(|c| self.core.apply_access(c, plan)).await
    }

    async fn find_entities(&self, query: &str) -> Result<Vec<EntityChoice>, AppError> {
        self.with_caller(|c| self.core.find_entities(c, query))
            .await
    }
}

impl Core {
    /// The environment, once the caller's policies are seen to let them manage its access.
    async fn managed_environment(
        &self,
        caller: &Caller,
        name: &str,
    ) -> Result<Namespace, AppError> {
        self.platform_environment(caller, name, super::menu::Menu::may_manage, denied)
            .await
    }

    /// Each environment (or only `only`) with its home and its apps in the cluster.
    async fn places(&self, only: Option<&Namespace>) -> Vec<Place> {
        let snap = match self.cluster.as_deref() {
            Some(k) => Some(snapshot::snapshot(&k.caches).await),
            None => None,
        };
        let environments = match only {
            Some(e) => vec![e.clone()],
            None => self.environments().await,
        };
        environments
            .into_iter()
            .map(|environment| {
                let apps = snap
                    .iter()
                    .flat_map(|s| s.apps.iter())
                    .filter(|a| a.namespace == environment.as_str())
                    .map(|a| Probe {
                        app: a.name.clone(),
                        mount: a.mount.clone(),
                        path: a.path.clone(),
                    })
                    .collect();
                Place {
                    home: self.home(&environment),
                    environment,
                    apps,
                }
            })
            .collect()
    }

    pub async fn environment_access(
        &self,
        caller: Caller,
        name: &str,
    ) -> Result<EnvironmentAccess, AppError> {
        let environment = self.managed_environment(&caller, name).await?;
        let home = self.home(&environment);
        let state = self
            .vault_state(&caller, &own_policies(&environment))
            .await?;
        let env = environment.as_str();
        let mut groups = Vec::new();
        let mut other_groups = Vec::new();
        for g in &state.groups {
            let levels = plan::levels_of(env, &g.policies);
            if levels.is_empty() {
                other_groups.push(group_access(&state, g, levels));
            } else {
                groups.push(group_access(&state, g, levels));
            }
        }
        groups.sort_by(|a, b| a.name.cmp(&b.name));
        other_groups.sort_by(|a, b| a.name.cmp(&b.name));
        let places = self.places(Some(&environment)).await;
        let outside = outside_grants(&state, &places[0]);
        let policies = Level::ALL
            .iter()
            .map(|l| PolicyState {
                name: policy_name(env, *l),
                level: *l,
                state: plan::policy_status(&state, &environment, &home, *l),
                seen: state.seen(&policy_name(env, *l)),
            })
            .collect();
        Ok(EnvironmentAccess {
            environment: env.to_owned(),
            home,
            also_reaches: self.also_reaches(&environment).await,
            groups,
            other_groups,
            outside,
            policies,
            auth_mounts: state
                .auth
                .iter()
                .filter(|m| m.kind != "token")
                .map(|m| m.path.clone())
                .collect(),
            cut: state.cut,
        })
    }

    /// The environments whose homes lie inside `environment`'s ([`crate::homes::Homes::nested`]).
    async fn also_reaches(&self, environment: &Namespace) -> Vec<String> {
        let environments = self.environments().await;
        self.envs
            .homes
            .nested(environment, &environments)
            .iter()
            .map(|e| e.as_str().to_owned())
            .collect()
    }

    pub async fn preview_access(
        &self,
        caller: Caller,
        request: AccessPlan,
    ) -> Result<AccessPreview, AppError> {
        let environment = self
            .managed_environment(&caller, &request.environment)
            .await?;
        plan::check_bounds(&request)?;
        let home = self.home(&environment);
        let state = self
            .vault_state(&caller, &own_policies(&environment))
            .await?;
        let menu = self.menu(&caller).await?;
        let writes = plan::plan(&environment, &home, &state, &request)?;
        refuse_foreign_members(&menu, &self.envs.homes, &state, &writes)?;
        let mut holders: Vec<Holder> = writes
            .groups
            .iter()
            .map(|w| Holder {
                subject: Subject::Group(w.name.clone()),
                before: match &w.target {
                    GroupTarget::Existing { id, .. } => state
                        .group(id)
                        .map(|g| g.policies.clone())
                        .unwrap_or_default(),
                    GroupTarget::New { .. } => Vec::new(),
                },
                after: w.policies.clone(),
                note: None,
            })
            .collect();
        let mut warnings = Vec::new();
        let also = self.also_reaches(&environment).await;
        if !also.is_empty() && !writes.is_empty() {
            warnings.push(format!(
                "This access also reaches the secrets of {}: their place in Vault lies inside {}'s.",
                also.join(", "),
                environment.as_str()
            ));
        }
        if let Some(cut) = &state.cut {
            warnings.push(cut.clone());
        }
        if let Some(user) = request
            .probe_user
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
        {
            match self.user_holder(&caller, &state, &writes, user).await? {
                Some(h) => holders.push(h),
                None => warnings.push(format!(
                    "Vault has no entity named {user} (nor one logging in as {user}): a user who never logged in has none yet, so their access cannot be shown."
                )),
            }
        }
        if writes.policies.iter().any(|p| p.cas == PolicyCas::None) {
            warnings.push("This Vault does not support check-and-set on policies (HashiCorp Vault does not): Keyway re-reads each policy just before writing it, but a change made in that instant would be overwritten.".into());
        }
        if writes.groups.iter().any(|g| {
            state
                .group(match &g.target {
                    GroupTarget::Existing { id, .. } => id,
                    GroupTarget::New { .. } => "",
                })
                .is_some_and(|g| g.kind == GroupType::External)
                || g.alias.is_some()
        }) {
            warnings.push("Members of an external group get its new access at their next login or token renewal.".into());
        }
        // Only the environments the caller manages: the table tells no app counts of others.
        let places: Vec<Place> = self
            .places(None)
            .await
            .into_iter()
            .filter(|p| menu.may_manage(p.environment.as_str()))
            .collect();
        for w in &writes.groups {
            if w.diff.members_added.is_empty() {
                continue;
            }
            let others: Vec<&String> = w
                .policies
                .iter()
                .filter(|p| !own_policies(&environment).contains(p))
                .collect();
            if !others.is_empty() {
                warnings.push(format!(
                    "New members of {} also get its other policies: {}.",
                    w.name,
                    others
                        .iter()
                        .map(|p| p.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        Ok(AccessPreview {
            policies: writes
                .policies
                .iter()
                .map(|w| PolicyDiff {
                    name: w.name.clone(),
                    created: w.before.is_none(),
                    lines: lines::diff(w.before.as_deref().unwrap_or(""), &w.text),
                })
                .collect(),
            groups: writes.groups.iter().map(|g| g.diff.clone()).collect(),
            effective: effective::table(&state, &writes, &places, &holders),
            unchanged: writes.is_empty(),
            warnings,
        })
    }

    /// The named user's policies before and after the change: their entity's own, its groups'
    /// (as the change leaves them), `default`, and the userpass login's token policies.
    async fn user_holder(
        &self,
        caller: &Caller,
        state: &VaultState,
        writes: &plan::Writes,
        user: &str,
    ) -> Result<Option<Holder>, AppError> {
        let lower = user.to_lowercase();
        let Some(found) = state.entities.iter().find(|e| {
            e.name.to_lowercase() == lower
                || e.aliases.iter().any(|a| a.name.to_lowercase() == lower)
        }) else {
            return Ok(None);
        };
        let entity = self
            .vault
            .entity(&caller.token, &found.id)
            .await
            .map_err(|e| vault_error(e, "read that user"))?;
        let Some(entity) = entity else {
            return Ok(None);
        };
        let mut base = entity.policies.clone();
        base.push("default".into());
        let mut unseen = Vec::new();
        for alias in &entity.aliases {
            let mount = alias
                .mount_path
                .trim_start_matches("auth/")
                .trim_end_matches('/');
            if alias.mount_type == "userpass" {
                match self
                    .vault
                    .userpass_policies(&caller.token, mount, &alias.name)
                    .await
                {
                    Ok(Some(p)) => base.extend(p),
                    Ok(None) => {}
                    Err(_) => unseen.push(mount.to_owned()),
                }
            } else {
                unseen.push(mount.to_owned());
            }
        }
        let (mut before, mut after) = (base.clone(), base);
        for gid in &entity.group_ids {
            if let Some(g) = state.group(gid) {
                before.extend(g.policies.iter().cloned());
            }
        }
        // A group the change writes counts after it when the entity is (still) a member.
        let member_after = |w: &plan::Writes, gid: &str| -> Option<bool> {
            let g = w.groups.iter().find(|g| match &g.target {
                GroupTarget::Existing { id, .. } => id == gid,
                GroupTarget::New { .. } => false,
            })?;
            Some(g.members.as_ref().is_none_or(|m| m.contains(&entity.id)))
        };
        for gid in &entity.group_ids {
            match (member_after(writes, gid), state.group(gid)) {
                (Some(false), _) => {}
                (Some(true), _) => after.extend(
                    writes
                        .groups
                        .iter()
                        .filter(
                            |w| matches!(&w.target, GroupTarget::Existing { id, .. } if id == gid),
                        )
                        .flat_map(|w| w.policies.iter().cloned()),
                ),
                (None, Some(g)) => after.extend(g.policies.iter().cloned()),
                (None, None) => {}
            }
        }
        for w in &writes.groups {
            let already = matches!(&w.target, GroupTarget::Existing { id, .. } if entity.group_ids.contains(id));
            if !already && w.members.as_ref().is_some_and(|m| m.contains(&entity.id)) {
                after.extend(w.policies.iter().cloned());
            }
        }
        Ok(Some(Holder {
            subject: Subject::User(found.name.clone()),
            before,
            after,
            note: (!unseen.is_empty()).then(|| {
                format!(
                    "Policies their login at {} gives are not counted (Keyway cannot read them).",
                    unseen.join(", ")
                )
            }),
        }))
    }

    pub async fn find_entities(
        &self,
        caller: Caller,
        query: &str,
    ) -> Result<Vec<EntityChoice>, AppError> {
        keyway_app::logic::limits::check_chars("search text", query, SEARCH_MAX)
            .map_err(AppError::Invalid)?;
        let q = query.trim().to_lowercase();
        let entities = self
            .vault
            .entities(&caller.token)
            .await
            .map_err(|e| vault_error(e, "list Vault's entities"))?;
        let mut found: Vec<EntityChoice> = entities
            .iter()
            .filter(|e| {
                e.name.to_lowercase().contains(&q)
                    || e.aliases.iter().any(|a| a.name.to_lowercase().contains(&q))
            })
            .map(|e| EntityChoice {
                id: e.id.clone(),
                label: state::entity_label(e),
            })
            .collect();
        found.sort_by(|a, b| a.label.cmp(&b.label));
        found.truncate(FOUND_MAX);
        Ok(found)
    }
}

/// The refusal for a caller whose policies do not open the environment's access page.
fn denied(environment: &str) -> AppError {
    AppError::Denied(format!(
        "Managing access to {environment} is for the platform team: your Vault policies do not let you write Keyway's policies for it (keyway-{environment}-view, -edit, -restart), identity groups and group aliases."
    ))
}

fn group_access(state: &VaultState, g: &keyway_vault::Group, levels: Levels) -> GroupAccess {
    let kind = match g.kind {
        GroupType::Internal => GroupKind::Internal {
            members: g
                .member_entity_ids
                .iter()
                .map(|id| Member {
                    entity_id: id.clone(),
                    label: state.entity_label(id),
                })
                .collect(),
        },
        GroupType::External => GroupKind::External {
            alias: g.alias.as_ref().map(|a| keyway_app::dto::ExternalAlias {
                name: a.name.clone(),
                mount: state.mount_of(&a.mount_accessor),
            }),
        },
    };
    GroupAccess {
        id: g.id.clone(),
        name: g.name.clone(),
        kind,
        policies: g.policies.clone(),
        levels,
        seen: g.modify_index,
    }
}

/// Refuses member changes of a group that holds anything but `default` and Keyway's policies
/// of environments the caller manages: a new member gets all of the group's policies, and
/// Vault's rights on groups cannot be split by environment, so without this a platform user
/// of `dev` could join a group holding `payments` rights (Keyway's, or a hand-written policy
/// whose reach Keyway cannot bound). Keyway's own narrowing: it never widens what Vault allows.
fn refuse_foreign_members(
    menu: &super::menu::Menu,
    homes: &crate::homes::Homes,
    state: &VaultState,
    writes: &plan::Writes,
) -> Result<(), AppError> {
    // A policy's reach is known only when its text is exactly what Keyway writes (or this apply
    // rewrites it so): a hand edit that kept the marker line may grant anything.
    let bounded = |policy: &str, env: &str| {
        let Ok(ns) = env.parse::<Namespace>() else {
            return false;
        };
        writes.policies.iter().any(|w| w.name == policy)
            || Level::ALL.iter().any(|l| {
                policy_name(env, *l) == policy
                    && plan::policy_status(state, &ns, &homes.home(&ns), *l)
                        == keyway_app::dto::PolicyStatus::Current
            })
    };
    for w in writes.groups.iter().filter(|w| w.members.is_some()) {
        let GroupTarget::Existing { id, .. } = &w.target else {
            continue;
        };
        let Some(group) = state.group(id) else {
            continue;
        };
        if !state.all_groups {
            return Err(AppError::Denied(format!(
                "Vault has more groups than Keyway reads at once ({}), so Keyway cannot tell which groups {} is a member of, nor what a new member would get: change its members in Vault itself.",
                state::MAX_GROUPS,
                group.name
            )));
        }
        // A member gets the policies of the group and of every group it is a member of.
        for holder in state.group_and_parents(id) {
            let via = if holder.id == group.id {
                String::new()
            } else {
                format!(
                    " (through the group {}, which it is a member of)",
                    holder.name
                )
            };
            for policy in holder.policies.iter().filter(|p| p.as_str() != "default") {
                let keyways = state.policies.get(policy).is_some_and(|p| p.managed);
                match keyway_policy::generate::environment_of(policy) {
                    Some(env) if keyways && !bounded(policy, &env) => {
                        return Err(AppError::Denied(format!(
                            "{} gives the policy {policy}{via}, which was edited outside Keyway, so Keyway cannot tell its reach and does not change the group's members: rewrite it from its environment's access page, or change the members in Vault itself.",
                            group.name
                        )))
                    }
                    Some(env) if keyways && menu.may_manage(&env) => {}
                    Some(env) if keyways => {
                        return Err(AppError::Denied(format!(
                            "{} also gives access to {env}{via}, which you do not manage, so you cannot change its members here.",
                            group.name
                        )))
                    }
                    _ => {
                        return Err(AppError::Denied(format!(
                            "{} gives the policy {policy}{via}, which is not one of Keyway's access levels, so Keyway cannot tell its reach and does not change the group's members: change them in Vault itself.",
                            group.name
                        )))
                    }
                }
            }
        }
    }
    Ok(())
}

/// Hand-written policies that give some level in the environment, with the groups holding them.
fn outside_grants(state: &VaultState, place: &Place) -> Vec<OutsideGrant> {
    let empty = plan::Writes {
        policies: Vec::new(),
        groups: Vec::new(),
    };
    let mut out = Vec::new();
    for (name, p) in &state.policies {
        if p.managed || name == "root" {
            continue;
        }
        let holder = Holder {
            subject: Subject::Group(String::new()),
            before: vec![name.clone()],
            after: vec![name.clone()],
            note: None,
        };
        let rows = effective::table(state, &empty, std::slice::from_ref(place), &[holder]);
        let Some(row) = rows.first() else { continue };
        let mut levels = Levels::default();
        for l in &row.levels {
            levels.set(l.level, l.after != Reach::None);
        }
        let note = match &p.parsed {
            None => Some("Keyway could not parse this policy.".to_owned()),
            Some(parsed) if parsed.rules.iter().any(|r| r.templated) => {
                Some("It has identity-templated paths, which Keyway does not evaluate.".to_owned())
            }
            Some(parsed) if parsed.rules.iter().any(|r| r.has_parameters) => Some(
                "Some of its paths also restrict parameters, which Keyway does not evaluate."
                    .to_owned(),
            ),
            Some(_) => None,
        };
        out.push(OutsideGrant {
            policy: name.clone(),
            levels,
            groups: state
                .groups
                .iter()
                .filter(|g| g.policies.contains(name))
                .map(|g| g.name.clone())
                .collect(),
            note,
        });
    }
    out
}
