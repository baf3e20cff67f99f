//! Onboarding an app in one form, for the platform team: the form's defaults, the preview of
//! everything it creates, the apply (one audited action, `app.onboard`, listing its steps), and
//! the follow-up until the new app is live in the cluster.
//!
//! Split by job: [`plan`] checks the form and renders both sides from one value without I/O;
//! [`apply`] runs the steps. Who may: `update` on `keyway/onboard/<environment>` (the platform
//! menu, [`super::menu`]); an environment Keyway does not serve is refused in the same words.

mod apply;
mod plan;

use async_trait::async_trait;
use jiff::Timestamp;
use keyway_app::backend::OnboardApi;
use keyway_app::dto::{
    OnboardDefaults, OnboardFollow, OnboardForm, OnboardPreview, OnboardReport, WorkloadRef,
};
use keyway_app::error::AppError;
use keyway_k8s::scope::Namespace;
use keyway_k8s::{apps, snapshot, status};
use keyway_store::{Action, ClaimKey, NewEvent};

use super::cluster::{app_dto, kind_from_k8s};
use super::menu::Menu;
use super::{Caller, Core, RequestBackend};

/// The most workloads the form offers to pick from.
const MAX_WORKLOADS: usize = 500;
/// How long one onboarding of an app holds its claim at most (given back when done).
const CLAIM_HOLD: std::time::Duration = std::time::Duration::from_secs(120);

#[async_trait]
impl OnboardApi for RequestBackend {
    async fn onboard_defaults(&self, environment: &str) -> Result<OnboardDefaults, AppError> {
        self.with_caller(|c| self.core.onboard_defaults(c, environment))
            .await
    }

    async fn onboard_preview(&self, form: OnboardForm) -> Result<OnboardPreview, AppError> {
        self.with_caller(|c| self.core.onboard_preview(c, form))
            .await
    }

    async fn onboard_apply(&self, form: OnboardForm) -> Result<OnboardReport, AppError> {
        self.with_caller(|c| self.core.onboard_apply(c, form)).await
    }

    async fn onboard_follow(
        &self,
        environment: &str,
        app: &str,
    ) -> Result<OnboardFollow, AppError> {
        self.with_caller(|c| self.core.onboard_follow(c, environment, app))
            .await
    }
}

/// The refusal for a caller whose policies do not open onboarding in `environment`.
fn denied(environment: &str) -> AppError {
    AppError::Denied(format!(
        "Onboarding apps into {environment} is for the platform team: your Vault policies do not give you update on keyway/onboard/{environment}."
    ))
}

impl Core {
    /// The environment, once the caller's policies are seen to let them onboard into it.
    async fn onboard_environment(
        &self,
        caller: &Caller,
        name: &str,
    ) -> Result<Namespace, AppError> {
        self.platform_environment(caller, name, Menu::may_onboard, denied)
            .await
    }

    async fn onboarding(
        &self,
        caller: &Caller,
        form: &OnboardForm,
    ) -> Result<plan::Onboarding, AppError> {
        let environment = self.onboard_environment(caller, &form.environment).await?;
        let environments = self.environments().await;
        plan::build(
            form,
            environment,
            &self.envs.homes,
            &environments,
            &self.envs.kube_auth_mount,
        )
    }

    pub async fn onboard_defaults(
        &self,
        caller: Caller,
        name: &str,
    ) -> Result<OnboardDefaults, AppError> {
        let environment = self.onboard_environment(&caller, name).await?;
        let mut workloads = Vec::new();
        if let Some(k) = self.cluster.as_deref() {
            let snap = snapshot::snapshot(&k.caches).await;
            workloads = snap
                .workloads_in(environment.as_str())
                .map(|w| WorkloadRef::new(kind_from_k8s(w.kind()), w.name()))
                .collect();
            workloads.sort_by(|a, b| a.name.cmp(&b.name));
            workloads.truncate(MAX_WORKLOADS);
        }
        Ok(OnboardDefaults {
            environment: environment.as_str().to_owned(),
            home: self.home(&environment),
            auth_mount: self.envs.kube_auth_mount.clone(),
            workloads,
            cluster: self.cluster.is_some(),
        })
    }

    pub async fn onboard_preview(
        &self,
        caller: Caller,
        form: OnboardForm,
    ) -> Result<OnboardPreview, AppError> {
        Ok(self.onboarding(&caller, &form).await?.preview())
    }

    pub async fn onboard_apply(
        &self,
        caller: Caller,
        form: OnboardForm,
    ) -> Result<OnboardReport, AppError> {
        let event = NewEvent::new(&caller.display_name, Action::AppOnboard)
            .entity(&caller.entity_id)
            .request(&caller.meta.request_id, &caller.meta.client_addr);
        let ob = match self.onboarding(&caller, &form).await {
            Ok(ob) => ob,
            Err(AppError::Denied(why)) => {
                self.refused(
                    event.detail(format!(
                        "onboard into environment {}",
                        form.environment.chars().take(64).collect::<String>()
                    )),
                    why.clone(),
                )
                .await?;
                return Err(AppError::Denied(why));
            }
            Err(e) => return Err(e),
        };
        let env = ob.environment.as_str();
        let keys = [ClaimKey {
            namespace: env.to_owned(),
            kind: "Onboarding".into(),
            name: ob.cluster.app.clone(),
        }];
        let claim = match self.claims.claim(&keys, CLAIM_HOLD).await {
            Ok(Ok(id)) => id,
            Ok(Err(_)) => {
                return Err(AppError::Invalid(format!(
                "Someone is onboarding {} into {env} right now; wait a moment, then look again.",
                ob.cluster.app
            )))
            }
            Err(e) => return Err(AppError::Unavailable(e.to_string())),
        };
        let side = match ob.side {
            keyway_app::dto::ClusterSide::Keyway => "cluster objects by Keyway's account",
            keyway_app::dto::ClusterSide::GitOps => "cluster objects by GitOps",
        };
        let steps: Vec<String> = ob.steps().iter().map(|s| ob.label(s)).collect();
        let event = event
            .secret(&ob.secret.mount, &ob.secret.path)
            .app(&ob.cluster.app)
            .keys(
                ob.keys.keys().cloned(),
                Vec::<String>::new(),
                Vec::<String>::new(),
            )
            .detail(format!(
                "onboard app {} into {env}, {side}: {}",
                ob.cluster.app,
                steps.join("; ")
            ));
        let result = self
            .audited(
                event,
                || self.run_onboarding(&caller, &ob),
                |run| run.version.map(|v| v as i64),
            )
            .await;
        if let Err(e) = self.claims.release(&claim, &keys).await {
            tracing::warn!(error = %e, "could not give back an onboarding claim; it lapses by itself");
        }
        let run = match result? {
            Ok(run) => run,
            Err(apply::Stopped(run, _, _)) => run,
        };
        Ok(OnboardReport {
            steps: run.steps,
            secret: ob.secret.clone(),
        })
    }

    pub async fn onboard_follow(
        &self,
        caller: Caller,
        name: &str,
        app: &str,
    ) -> Result<OnboardFollow, AppError> {
        let environment = self.onboard_environment(&caller, name).await?;
        if let Some(why) = keyway_k8s::names::object_name_problem("app", app) {
            return Err(AppError::Invalid(why));
        }
        let Some(k) = self.cluster.as_deref() else {
            return Ok(OnboardFollow {
                app: None,
                problem: Some(
                    "Keyway is not connected to a cluster, so it cannot follow the app there."
                        .into(),
                ),
            });
        };
        let snap = snapshot::snapshot(&k.caches).await;
        let problem =
            (!snap.health_ok).then(|| status::ClusterSync::sentence(snap.cluster).to_owned());
        let Some(r) = snap
            .apps
            .iter()
            .find(|a| a.namespace == environment.as_str() && a.name == app)
        else {
            return Ok(OnboardFollow { app: None, problem });
        };
        let secret = keyway_app::dto::SecretRef::new(&r.mount, &r.path);
        let vault = self.vault_version(&caller, &secret).await;
        let view = apps::view(&snap, r, vault, Timestamp::now());
        Ok(OnboardFollow {
            app: view.map(|v| app_dto(v, false)),
            problem,
        })
    }
}
