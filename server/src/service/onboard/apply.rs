//! Applying an onboarding: the steps of [`super::plan::Onboarding::steps`] in order, each one
//! converging (it writes only what is not already as shown), so sending the same form again
//! after a failure finishes the job and lists what was there already. The first failure stops
//! the rest with a plain reason. Vault's steps use the caller's own token; the cluster's use
//! Keyway's own account, after Vault said the caller may (`update` on `keyway/onboard/<env>`).
//!
//! A policy or login role of the app's name that Keyway did not make is never overwritten: a
//! policy must carry Keyway's marker, a role must hand out only the app's own policy.

use keyway_app::dto::{OnboardStep, StepState};
use keyway_k8s::onboard::apply::{annotate_for_reloader, apply_object, Applied, ApplyError};
use keyway_k8s::reloader;
use keyway_policy::is_managed;
use keyway_store::Outcome;
use keyway_vault::{KvData, PolicyCas, PolicyWriteError, VaultError};

use super::super::audit::Classify;
use super::super::{vault_error, Caller, Core};
use super::plan::{Onboarding, Step};

/// A step that did not go through: what the page says, and how the audit row classes it.
pub(super) struct Failed {
    pub reason: String,
    pub outcome: Outcome,
}

impl Failed {
    fn vault(e: VaultError, doing: &str) -> Failed {
        let (outcome, _) = e.classify();
        Failed {
            reason: vault_error(e, doing).to_string(),
            outcome,
        }
    }

    fn refused(reason: String) -> Failed {
        Failed {
            reason,
            outcome: Outcome::Denied,
        }
    }

    fn cluster(e: ApplyError) -> Failed {
        let outcome = match e {
            ApplyError::Forbidden(_) | ApplyError::Refused(_) => Outcome::Denied,
            _ => Outcome::Error,
        };
        Failed {
            reason: e.to_string(),
            outcome,
        }
    }
}

type StepResult = Result<StepState, Failed>;

/// The steps as they went, and the kv version the apply created (if it did).
pub(super) struct Run {
    pub steps: Vec<OnboardStep>,
    pub version: Option<u64>,
}

/// A run that stopped at a failed step, for the audit row.
pub(super) struct Stopped(pub Run, pub Outcome, pub String);

impl Classify for Stopped {
    fn classify(&self) -> (Outcome, String) {
        (self.1, self.2.clone())
    }
}

impl Core {
    /// Runs every step of `ob` in order, stopping at the first failure.
    pub(super) async fn run_onboarding(
        &self,
        caller: &Caller,
        ob: &Onboarding,
    ) -> Result<Run, Stopped> {
        let mut run = Run {
            steps: Vec::new(),
            version: None,
        };
        let mut failure: Option<(Outcome, String)> = None;
        for step in ob.steps() {
            let label = ob.label(&step);
            if failure.is_some() {
                run.steps.push(OnboardStep {
                    label,
                    state: StepState::NotRun,
                });
                continue;
            }
            let result = if ob.by_gitops(&step) {
                Ok(StepState::ByGitOps)
            } else {
                self.onboard_step(caller, ob, &step, &mut run.version).await
            };
            let state = match result {
                Ok(state) => state,
                Err(f) => {
                    let done: Vec<&str> = run
                        .steps
                        .iter()
                        .filter(|s| matches!(s.state, StepState::Done))
                        .map(|s| s.label.as_str())
                        .collect();
                    let done = if done.is_empty() {
                        String::new()
                    } else {
                        format!(" (done before: {})", done.join("; "))
                    };
                    failure = Some((f.outcome, format!("{label}: {}{done}", f.reason)));
                    StepState::Failed(f.reason)
                }
            };
            run.steps.push(OnboardStep { label, state });
        }
        match failure {
            None => Ok(run),
            Some((outcome, note)) => Err(Stopped(run, outcome, note)),
        }
    }

    async fn onboard_step(
        &self,
        caller: &Caller,
        ob: &Onboarding,
        step: &Step,
        version: &mut Option<u64>,
    ) -> StepResult {
        match step {
            Step::Policy => self.policy_step(caller, ob).await,
            Step::Role => self.role_step(caller, ob).await,
            Step::FirstVersion => self.first_version_step(caller, ob, version).await,
            Step::Object(i) => {
                let k = self.cluster_for_onboarding()?;
                let (api, object) = &ob.objects[*i];
                let namespace = ob.environment.as_str();
                Ok(
                    match apply_object(&k.client, namespace, api, object)
                        .await
                        .map_err(Failed::cluster)?
                    {
                        Applied::Created => StepState::Done,
                        Applied::AlreadyThere => StepState::AlreadyThere(
                            "It was there already; it is now as shown.".into(),
                        ),
                    },
                )
            }
            Step::Reloader(w) => {
                let k = self.cluster_for_onboarding()?;
                let namespace = ob.environment.as_str();
                let snap = keyway_k8s::snapshot::snapshot(&k.caches).await;
                let marked = snap
                    .workload(w.kind, namespace, &w.name)
                    .and_then(|wl| wl.meta().annotations.as_ref())
                    .and_then(|a| a.get(reloader::AUTO))
                    .is_some_and(|v| v == "true");
                if marked {
                    return Ok(StepState::AlreadyThere(
                        "The workload has Reloader's annotation already.".into(),
                    ));
                }
                annotate_for_reloader(&k.client, namespace, w)
                    .await
                    .map_err(Failed::cluster)?;
                Ok(StepState::Done)
            }
        }
    }

    fn cluster_for_onboarding(&self) -> Result<&super::super::cluster::ClusterCtx, Failed> {
        self.cluster.as_deref().ok_or_else(|| {
            Failed::refused(
                "Keyway is not connected to a cluster: choose the GitOps way and commit the folder instead."
                    .into(),
            )
        })
    }

    async fn policy_step(&self, caller: &Caller, ob: &Onboarding) -> StepResult {
        let name = ob.vault.policy_name();
        let text = ob.vault.policy_hcl();
        let token = &caller.token;
        let doing = format!("write the policy {name}");
        let cas = match self.vault.acl_policy(token, &name).await {
            Err(e) => return Err(Failed::vault(e, &format!("read the policy {name}"))),
            Ok(None) => PolicyCas::Create,
            Ok(Some(p)) if p.text == text => {
                return Ok(StepState::AlreadyThere(
                    "The policy is already as shown.".into(),
                ))
            }
            // Another app's policy under this name (or one onboarded with other settings):
            // rewriting it would cut that app's operator off its secret, or hand it another.
            Ok(Some(p)) if is_managed(&p.text) => {
                return Err(Failed::refused(format!(
                    "An app {} is already onboarded in {} with other settings (its policy {name} reads another secret): onboard under another name, or remove that app's policy and login role in Vault first.",
                    ob.cluster.app,
                    ob.environment.as_str()
                )))
            }
            Ok(Some(_)) => {
                return Err(Failed::refused(format!(
                    "A policy named {name} exists that Keyway did not write; Keyway does not overwrite it. Rename or remove it in Vault, then retry."
                )))
            }
        };
        match self.vault.write_acl_policy(token, &name, &text, cas).await {
            Ok(()) => Ok(StepState::Done),
            Err(PolicyWriteError::Changed) => Err(Failed {
                reason: format!(
                    "Someone else wrote the policy {name} at the same moment; retry to see it."
                ),
                outcome: Outcome::Conflict,
            }),
            Err(PolicyWriteError::Vault(e)) => Err(Failed::vault(e, &doing)),
        }
    }

    async fn role_step(&self, caller: &Caller, ob: &Onboarding) -> StepResult {
        let role = ob.vault.role();
        let name = ob.vault.role_name();
        let mount = ob.auth_mount.as_str();
        let path = ob.role_path();
        match self.vault.kube_role(&caller.token, mount, &name).await {
            Err(e) => return Err(Failed::vault(e, &format!("read the login role {path}"))),
            Ok(None) => {}
            Ok(Some(r)) if r.token_policies != role.token_policies => {
                return Err(Failed::refused(format!(
                    "A login role {path} exists that hands out other policies ({}); Keyway does not change it. Remove it in Vault, then retry.",
                    r.token_policies.join(", ")
                )))
            }
            Ok(Some(r))
                if r.bound_service_account_names == role.bound_service_account_names
                    && r.bound_service_account_namespaces
                        == role.bound_service_account_namespaces
                    && r.bound_service_account_namespace_selector.is_empty()
                    && r.audience == role.audience =>
            {
                return Ok(StepState::AlreadyThere(
                    "The login role is already as shown.".into(),
                ))
            }
            // A role that lets other pods log in: rewriting it would take the login from them
            // (and Vault keeps the fields a write leaves out, such as a namespace selector).
            Ok(Some(_)) => {
                return Err(Failed::refused(format!(
                    "A login role {path} exists for other pods than the ones shown; Keyway does not change it. Remove it in Vault, or onboard under another name."
                )))
            }
        }
        let body = serde_json::to_value(&role).map_err(|_| Failed {
            reason: "Keyway could not write the role's settings.".into(),
            outcome: Outcome::Error,
        })?;
        self.vault
            .write_kube_role(&caller.token, mount, &name, &body)
            .await
            .map_err(|e| Failed::vault(e, &format!("write the login role {path}")))?;
        Ok(StepState::Done)
    }

    async fn first_version_step(
        &self,
        caller: &Caller,
        ob: &Onboarding,
        version: &mut Option<u64>,
    ) -> StepResult {
        let (mount, path) = (ob.secret.mount.as_str(), ob.secret.path.as_str());
        let doing = format!("create the secret {mount}/{path}");
        let existing = |v: u64| {
            let typed = if ob.keys.is_empty() {
                ""
            } else {
                " The keys typed here were not written; edit the secret to change it."
            };
            StepState::AlreadyThere(format!(
                "The secret exists already (version {v}); it is left as it is.{typed}"
            ))
        };
        match self.vault.kv_metadata(&caller.token, mount, path).await {
            Ok(Some(m)) if m.current_version > 0 => return Ok(existing(m.current_version)),
            Ok(_) => {}
            Err(e) => return Err(Failed::vault(e, &format!("read {mount}/{path}"))),
        }
        let data: KvData = ob.keys.clone().into();
        match self
            .vault
            .kv_write(&caller.token, mount, path, &data, 0)
            .await
        {
            Ok(meta) => {
                *version = Some(meta.version);
                Ok(StepState::Done)
            }
            // Created by someone else since the read above: say which version it has now.
            Err(VaultError::CasMismatch) => {
                match self.vault.kv_metadata(&caller.token, mount, path).await {
                    Ok(Some(m)) => Ok(existing(m.current_version)),
                    _ => Ok(StepState::AlreadyThere(
                        "The secret was created by someone else a moment ago; it is left as it is."
                            .into(),
                    )),
                }
            }
            Err(e) => Err(Failed::vault(e, &doing)),
        }
    }
}
