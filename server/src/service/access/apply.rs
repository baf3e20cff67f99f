//! Applying an access change: refuse if anything changed since the preview, then write the
//! policies (with OpenBao's check-and-set) and the groups (each re-read just before its write,
//! since Vault has no check-and-set on groups), audited as one action listing its steps.
//!
//! Order and repeatability: policies first (a policy no group holds grants nothing), then
//! groups; every step converges, so after a failure midway applying the same change again
//! finishes it, and the answer lists what was already written. That is why a conflict is
//! only what changed in a policy or group this apply still writes: one already as the change
//! wants it is not written again, so nothing anyone else did to it is lost.

use keyway_app::dto::{AccessApplied, AccessPlan, GroupTarget};
use keyway_app::error::AppError;
use keyway_store::{Action, ClaimKey, NewEvent, Outcome};
use keyway_vault::{GroupCreated, GroupType, NewGroup, PolicyCas, PolicyWriteError, VaultError};

use super::super::audit::Classify;
use super::super::{vault_error, Caller, Core};
use super::plan::{self, GroupWrite, PolicyWrite, Writes};
use super::state::VaultState;

/// How long a claim on the groups of one apply holds at most (it is given back when done).
const CLAIM_HOLD: std::time::Duration = std::time::Duration::from_secs(60);

/// The claim keys of the groups a plan writes.
fn claim_keys(request: &AccessPlan) -> Vec<ClaimKey> {
    request
        .changes
        .iter()
        .map(|c| match &c.target {
            GroupTarget::Existing { id, .. } => ClaimKey {
                namespace: String::new(),
                kind: "VaultGroup".into(),
                name: id.clone(),
            },
            GroupTarget::New { name, .. } => ClaimKey {
                namespace: String::new(),
                kind: "VaultGroupName".into(),
                // Vault's group names are case-insensitive.
                name: name.to_lowercase(),
            },
        })
        .collect()
}

/// Why an apply stopped, with the steps it had done.
pub(super) struct Stopped {
    pub done: Vec<String>,
    pub why: StopReason,
}

pub(super) enum StopReason {
    /// Someone changed this (a sentence) since it was read.
    Changed(String),
    /// Vault refused or failed the step named.
    Vault { step: String, error: VaultError },
}

impl Classify for Stopped {
    fn classify(&self) -> (Outcome, String) {
        let done = if self.done.is_empty() {
            String::new()
        } else {
            format!(" (done before: {})", self.done.join("; "))
        };
        match &self.why {
            StopReason::Changed(what) => (Outcome::Conflict, format!("{what}{done}")),
            StopReason::Vault { step, error } => {
                let (outcome, note) = error.classify();
                (outcome, format!("{step}: {note}{done}"))
            }
        }
    }
}

/// The first 12 hex digits of a policy text's SHA-256, to tie an audit row to the text.
fn short_hash(text: &str) -> String {
    super::state::text_sha(text)[..12].to_owned()
}

fn policy_step(w: &PolicyWrite) -> String {
    let verb = if w.before.is_none() {
        "create"
    } else {
        "rewrite"
    };
    format!("{verb} policy {} (sha256 {})", w.name, short_hash(&w.text))
}

fn group_step(w: &GroupWrite) -> String {
    let d = &w.diff;
    let mut parts = Vec::new();
    if d.created {
        parts.push("create".to_owned());
    }
    parts.extend(d.policies_added.iter().map(|p| format!("+{p}")));
    parts.extend(d.policies_removed.iter().map(|p| format!("-{p}")));
    if !d.members_added.is_empty() {
        parts.push(format!("+members {}", d.members_added.join(", ")));
    }
    if !d.members_removed.is_empty() {
        parts.push(format!("-members {}", d.members_removed.join(", ")));
    }
    if let Some(a) = &d.alias {
        parts.push(format!("linked to {} on {}", a.name, a.mount));
    }
    format!("group {}: {}", w.name, parts.join(" "))
}

/// What the audit row of a refused apply says: which groups changed, by Vault's counters, and
/// which policies differ from what the request says it read.
fn conflict_note(
    state: &VaultState,
    request: &AccessPlan,
    still_written: &dyn Fn(&str) -> bool,
    policies: Vec<String>,
) -> String {
    let mut out = Vec::new();
    for change in &request.changes {
        match &change.target {
            GroupTarget::Existing { id, seen, .. } if still_written(id) => match state.group(id) {
                None => out.push(format!("group {id} is gone")),
                Some(g) if g.modify_index != *seen => out.push(format!(
                    "group {} changed (modify_index {} now)",
                    g.name, g.modify_index
                )),
                Some(_) => {}
            },
            GroupTarget::Existing { .. } => {}
            GroupTarget::New { name, .. } => {
                if let Some(g) = state.group_named(name) {
                    out.push(format!("group {} exists now", g.name));
                }
            }
        }
    }
    out.extend(policies);
    out.join("; ")
}

/// What changed since the caller read them in the groups the plan names and `still_written`
/// keeps (all of them when the plan cannot be made), in sentences.
fn changed_since(
    state: &VaultState,
    request: &AccessPlan,
    still_written: &dyn Fn(&str) -> bool,
) -> Vec<String> {
    let mut out = Vec::new();
    for change in &request.changes {
        match &change.target {
            GroupTarget::Existing {
                id,
                seen,
                seen_policies,
                seen_members,
            } if still_written(id) => match state.group(id) {
                None => out.push("A group you changed was deleted from Vault.".to_owned()),
                Some(g) if g.modify_index != *seen => {
                    let diff = |a: &[String], b: &[String]| -> Vec<String> {
                        b.iter().filter(|x| !a.contains(x)).cloned().collect()
                    };
                    let mut what = Vec::new();
                    let (added, removed) = (
                        diff(seen_policies, &g.policies),
                        diff(&g.policies, seen_policies),
                    );
                    if !added.is_empty() {
                        what.push(format!("added the policies {}", added.join(", ")));
                    }
                    if !removed.is_empty() {
                        what.push(format!("removed the policies {}", removed.join(", ")));
                    }
                    let label = |ids: Vec<String>| -> Vec<String> {
                        ids.iter().map(|i| state.entity_label(i)).collect()
                    };
                    let (joined, left) = (
                        label(diff(seen_members, &g.member_entity_ids)),
                        label(diff(&g.member_entity_ids, seen_members)),
                    );
                    if !joined.is_empty() {
                        what.push(format!("added the members {}", joined.join(", ")));
                    }
                    if !left.is_empty() {
                        what.push(format!("removed the members {}", left.join(", ")));
                    }
                    if what.is_empty() {
                        what.push("changed its other settings".to_owned());
                    }
                    out.push(format!(
                        "Someone changed the group {} since you opened this page: they {}.",
                        g.name,
                        what.join(" and ")
                    ));
                }
                Some(_) => {}
            },
            GroupTarget::Existing { .. } => {}
            GroupTarget::New { name, .. } => {
                if state.group_named(name).is_some() {
                    out.push(format!(
                        "A group named {name} exists in Vault now (group names ignore case): reload the page and pick it from the list of groups."
                    ));
                }
            }
        }
    }
    out
}

impl Core {
    pub async fn apply_access(
        &self,
        caller: Caller,
        request: AccessPlan,
    ) -> Result<AccessApplied, AppError> {
        let event = NewEvent::new(&caller.display_name, Action::AccessChange)
            .entity(&caller.entity_id)
            .request(&caller.meta.request_id, &caller.meta.client_addr);
        let environment = match self
            .managed_environment(&caller, &request.environment)
            .await
        {
            Ok(e) => e,
            Err(AppError::Denied(why)) => {
                self.refused(
                    event.detail(format!("environment {}", request.environment)),
                    why.clone(),
                )
                .await?;
                return Err(AppError::Denied(why));
            }
            Err(e) => return Err(e),
        };
        let home = self.home(&environment);
        plan::check_bounds(&request)?;
        // One edit of a group at a time, across replicas: claimed before the fresh read below,
        // given back when done, so no two read-modify-writes of a group interleave.
        let keys = claim_keys(&request);
        let claim = match self.claims.claim(&keys, CLAIM_HOLD).await {
            Ok(Ok(id)) => id,
            Ok(Err(held)) => {
                let name = match held.kind.as_str() {
                    "VaultGroup" => match self.vault.group(&caller.token, &held.name).await {
                        Ok(Some(g)) => g.name,
                        _ => held.name,
                    },
                    _ => held.name,
                };
                return Ok(AccessApplied::Conflict {
                    changes: vec![format!("Another change to the group {name} is being applied right now. Reload in a moment to see it, then make yours.")],
                    done: Vec::new(),
                });
            }
            Err(e) => return Err(AppError::Unavailable(e.to_string())),
        };
        let outcome = self
            .apply_claimed(&caller, &environment, &home, event, &request)
            .await;
        if let Err(e) = self.claims.release(&claim, &keys).await {
            tracing::warn!(error = %e, "could not give back an access claim; it lapses by itself");
        }
        outcome
    }

    async fn apply_claimed(
        &self,
        caller: &Caller,
        environment: &keyway_k8s::scope::Namespace,
        home: &keyway_app::dto::KvHome,
        event: NewEvent,
        request: &AccessPlan,
    ) -> Result<AccessApplied, AppError> {
        let state = self
            .vault_state(caller, &super::own_policies(environment))
            .await?;
        // What the change still needs, given Vault now; an error (a group gone, a name
        // taken) is told after the conflicts, which say more.
        let planned = plan::plan(environment, home, &state, request);
        let still_written = |id: &str| match &planned {
            Ok(w) => w
                .groups
                .iter()
                .any(|g| matches!(&g.target, GroupTarget::Existing { id: i, .. } if i == id)),
            Err(_) => true,
        };
        let policy_written = |name: &str| match &planned {
            Ok(w) => w.policies.iter().any(|p| p.name == name),
            Err(_) => true,
        };
        let mut changes = changed_since(&state, request, &still_written);
        let mut policy_notes = Vec::new();
        // Keyway's policies of the environment, as the page read them: every request says,
        // and one this apply writes must not have changed since.
        for level in keyway_app::dto::Level::ALL {
            let name = super::policy_name(environment.as_str(), level);
            let now = state.seen(&name);
            match request.policies_seen.iter().find(|s| s.name == name) {
                Some(seen) if *seen == now || !policy_written(&name) => {}
                Some(_) => {
                    changes.push(format!(
                        "Someone changed the policy {name} since you opened this page."
                    ));
                    policy_notes.push(format!("policy {name} differs from the one read"));
                }
                None => {
                    changes.push(format!(
                        "The change does not say how the policy {name} read when it was made: reload the page."
                    ));
                    policy_notes.push(format!("policy {name} not in the request"));
                }
            }
        }
        let event = event
            .environment(environment.as_str())
            .detail(format!("environment {environment}"));
        if !changes.is_empty() {
            // The audit row says only what the server knows (the sentences above quote the
            // page's own view of the groups, which the caller sent).
            let note = conflict_note(&state, request, &still_written, policy_notes);
            if let Err(e) = self
                .audit
                .record(event.outcome(Outcome::Conflict).detail(format!(
                    "environment {environment}: nothing written; {note}"
                )))
                .await
            {
                tracing::error!(error = %e, "could not record an access conflict");
            }
            return Ok(AccessApplied::Conflict {
                changes,
                done: Vec::new(),
            });
        }
        let writes = planned?;
        if let Err(e) = super::refuse_foreign_members(
            &self.menu(caller).await?,
            &self.envs.homes,
            &state,
            &writes,
        ) {
            if let AppError::Denied(why) = &e {
                self.refused(event.clone(), why.clone()).await?;
            }
            return Err(e);
        }
        if writes.is_empty() {
            return Ok(AccessApplied::Done { steps: Vec::new() });
        }
        let planned: Vec<String> = writes
            .policies
            .iter()
            .map(policy_step)
            .chain(writes.groups.iter().map(group_step))
            .collect();
        let detail = format!("environment {environment}: {}", planned.join("; "));
        // Every step is on the intent row, whole: a change too large for it is refused rather
        // than audited in part.
        if detail.chars().count() > keyway_store::DETAIL_MAX_CHARS {
            return Err(AppError::Invalid(format!(
                "This change is too large to record as one action ({} characters of steps, at most {}): apply it in parts, with fewer groups or members at a time.",
                detail.chars().count(),
                keyway_store::DETAIL_MAX_CHARS
            )));
        }
        let event = event.detail(detail);
        let result = self
            .audited(event, || self.write_all(caller, &state, &writes), |_| None)
            .await?;
        match result {
            Ok(steps) => Ok(AccessApplied::Done { steps }),
            Err(Stopped {
                done,
                why: StopReason::Changed(what),
            }) => Ok(AccessApplied::Conflict {
                changes: vec![what],
                done,
            }),
            Err(Stopped {
                done,
                why: StopReason::Vault { step, error },
            }) => {
                let suffix = if done.is_empty() {
                    format!(" (at: {step}; nothing was written)")
                } else {
                    format!(
                        " (at: {step}). Already written: {}. Applying the same change again finishes it: each step is safe to repeat.",
                        done.join("; ")
                    )
                };
                Err(match vault_error(error, "change this access") {
                    AppError::Denied(m) => AppError::Denied(m + &suffix),
                    AppError::Unavailable(m) => AppError::Unavailable(m + &suffix),
                    AppError::Invalid(m) => AppError::Invalid(m + &suffix),
                    other => other,
                })
            }
        }
    }

    /// Makes the writes in order; stops at the first refusal or conflict.
    async fn write_all(
        &self,
        caller: &Caller,
        state: &VaultState,
        writes: &Writes,
    ) -> Result<Vec<String>, Stopped> {
        let token = &caller.token;
        let mut done = Vec::new();
        for w in &writes.policies {
            let step = policy_step(w);
            let vault = |error| StopReason::Vault {
                step: step.clone(),
                error,
            };
            if w.cas == PolicyCas::None || (w.cas == PolicyCas::Create && !state.policy_cas()) {
                // No check-and-set on this server (HashiCorp Vault ignores `cas`): compare with
                // a fresh read instead.
                let now = self.vault.acl_policy(token, &w.name).await;
                match now {
                    Ok(now) if now.as_ref().map(|p| &p.text) != w.before.as_ref() => {
                        return Err(Stopped {
                            done,
                            why: StopReason::Changed(format!(
                                "Someone changed the policy {} since you opened this page.",
                                w.name
                            )),
                        })
                    }
                    Ok(_) => {}
                    Err(e) => {
                        return Err(Stopped {
                            done,
                            why: vault(e),
                        })
                    }
                }
            }
            match self
                .vault
                .write_acl_policy(token, &w.name, &w.text, w.cas)
                .await
            {
                Ok(()) => done.push(step),
                Err(PolicyWriteError::Changed) => {
                    return Err(Stopped {
                        done,
                        why: StopReason::Changed(format!(
                            "Someone wrote the policy {} since you opened this page.",
                            w.name
                        )),
                    })
                }
                Err(PolicyWriteError::Vault(e)) => {
                    return Err(Stopped {
                        done,
                        why: vault(e),
                    })
                }
            }
        }
        for w in &writes.groups {
            let step = group_step(w);
            let vault = |error| StopReason::Vault {
                step: step.clone(),
                error,
            };
            match &w.target {
                GroupTarget::Existing { id, .. } => {
                    let read = state.group(id).map(|g| g.modify_index);
                    match self.vault.group(token, id).await {
                        Ok(Some(g)) if Some(g.modify_index) == read => {}
                        Ok(_) => {
                            return Err(Stopped {
                                done,
                                why: StopReason::Changed(format!(
                                "Someone changed the group {} while this change was being applied.",
                                w.name
                            )),
                            })
                        }
                        Err(e) => {
                            return Err(Stopped {
                                done,
                                why: vault(e),
                            })
                        }
                    }
                    if let Err(e) = self
                        .vault
                        .update_group(token, id, &w.policies, w.members.as_deref())
                        .await
                    {
                        return Err(Stopped {
                            done,
                            why: vault(e),
                        });
                    }
                }
                GroupTarget::New { name, .. } => {
                    // A write to identity/group with a name in use updates that group: make sure
                    // none has it, just before (this replica holds the name's claim).
                    match self.vault.group_by_name(token, name).await {
                        Ok(None) => {}
                        Ok(Some(g)) => {
                            return Err(Stopped {
                                done,
                                why: StopReason::Changed(format!(
                                    "A group named {} exists in Vault, so {name} is not created.",
                                    g.name
                                )),
                            })
                        }
                        Err(e) => {
                            return Err(Stopped {
                                done,
                                why: vault(e),
                            })
                        }
                    }
                    let group = NewGroup {
                        name: name.clone(),
                        kind: if w.alias.is_some() {
                            GroupType::External
                        } else {
                            GroupType::Internal
                        },
                        policies: w.policies.clone(),
                        member_entity_ids: w.members.clone().unwrap_or_default(),
                        metadata: [("managed-by".to_owned(), "keyway".to_owned())].into(),
                    };
                    let id = match self.vault.create_group(token, &group).await {
                        Ok(GroupCreated::Created(id)) => id,
                        Ok(GroupCreated::UpdatedExisting) => {
                            done.push(format!("group {name}: written into a group of that name created meanwhile"));
                            return Err(Stopped {
                                done,
                                why: StopReason::Changed(format!(
                                    "Someone created a group named {name} just before this change reached Vault, and Vault applied the change to that group: check its policies and members in Vault."
                                )),
                            });
                        }
                        Err(VaultError::BadRequest(m)) if m.contains("already in use") => {
                            return Err(Stopped {
                                done,
                                why: StopReason::Changed(format!(
                                    "Someone created a group named {name} while this change was being applied."
                                )),
                            })
                        }
                        Err(e) => return Err(Stopped { done, why: vault(e) }),
                    };
                    if let Some((accessor, alias)) = &w.alias {
                        if let Err(e) = self
                            .vault
                            .create_group_alias(token, &id, alias, accessor)
                            .await
                        {
                            done.push(format!("group {name}: create (not yet linked)"));
                            return Err(Stopped {
                                done,
                                why: StopReason::Vault {
                                    step: format!("link group {name} to {alias}"),
                                    error: e,
                                },
                            });
                        }
                    }
                }
            }
            done.push(step);
        }
        Ok(done)
    }
}
