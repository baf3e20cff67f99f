//! One onboarding, checked and rendered without I/O: the form becomes the Vault side
//! ([`AppVault`]) and the cluster side ([`AppCluster`]) from the same values, so the policy, the
//! login role and the manifests cannot name different things; then the ordered steps an apply
//! makes. The preview shows exactly this, and the apply runs exactly this.
//!
//! Keyway's own rule on top of Vault's: an app's secret lies inside its environment's home
//! (`KEYWAY_ENVIRONMENT_KV`), so onboarding into `dev` can never hand `dev`'s operator a login
//! that reads another environment's secrets.

use keyway_app::dto::{
    ClusterSide, KvHome, OnboardFile, OnboardForm, OnboardPreview, OnboardRestart, SecretRef,
    DEFAULT_REFRESH_AFTER,
};
use keyway_app::error::AppError;
use keyway_app::logic::keys;
use keyway_app::logic::limits::{check_chars, MOUNT_MAX_BYTES, NAME_MAX_CHARS, PATH_MAX_BYTES};
use keyway_k8s::onboard::apply::object_of;
use keyway_k8s::onboard::{AppCluster, AuthChoice, Rendered, Restart, Workload};
use keyway_k8s::scope::Namespace;

use crate::homes::Homes;
use keyway_policy::AppVault;
use kube::api::{ApiResource, DynamicObject};

use super::super::cluster::kind_to_k8s;

/// The most workloads one app's restart may name.
pub const MAX_RESTART_TARGETS: usize = 20;

/// One step of an apply, in order.
#[derive(Debug, Clone)]
pub(super) enum Step {
    /// The read-only Vault policy.
    Policy,
    /// The kubernetes auth login role.
    Role,
    /// The kv secret's first version, when it has none.
    FirstVersion,
    /// One object of the rendered folder (an index into [`Onboarding::objects`]).
    Object(usize),
    /// Reloader's annotation on the workload.
    Reloader(Workload),
}

/// One checked onboarding.
pub(super) struct Onboarding {
    pub environment: Namespace,
    pub vault: AppVault,
    pub cluster: AppCluster,
    pub rendered: Rendered,
    /// The rendered objects, parsed back from the files' text (what the direct path writes).
    pub objects: Vec<(ApiResource, DynamicObject)>,
    pub secret: SecretRef,
    pub keys: std::collections::BTreeMap<String, String>,
    pub side: ClusterSide,
    pub auth_mount: String,
}

/// The path a new app's secret gets by default: `<folder><app>/config` in the home's mount.
pub fn default_path(home: &KvHome, app: &str) -> String {
    format!("{}{app}/config", home.prefix)
}

/// Longest app name: a Kubernetes label value.
pub const APP_NAME_MAX: usize = 63;

fn invalid(why: String) -> AppError {
    AppError::Invalid(why)
}

/// The form, checked (every field bounded before anything else) and rendered.
pub(super) fn build(
    form: &OnboardForm,
    environment: Namespace,
    homes: &Homes,
    environments: &[Namespace],
    auth_mount: &str,
) -> Result<Onboarding, AppError> {
    let home = &homes.home(&environment);
    for (what, value, max) in [
        ("app name", &form.app, NAME_MAX_CHARS),
        ("kv mount", &form.mount, MOUNT_MAX_BYTES),
        ("secret path", &form.path, PATH_MAX_BYTES),
        ("service account", &form.service_account, NAME_MAX_CHARS),
        ("refresh interval", &form.refresh_after, 16),
    ] {
        check_chars(what, value, max).map_err(invalid)?;
    }
    let targets: Vec<&keyway_app::dto::WorkloadRef> = match &form.restart {
        OnboardRestart::None => Vec::new(),
        OnboardRestart::Reloader(w) => vec![w],
        OnboardRestart::Operator(ws) => ws.iter().collect(),
    };
    if targets.len() > MAX_RESTART_TARGETS {
        return Err(invalid(format!(
            "At most {MAX_RESTART_TARGETS} workloads can be restarted by the operator."
        )));
    }
    if matches!(&form.restart, OnboardRestart::Operator(ws) if ws.is_empty()) {
        return Err(invalid(
            "Pick at least one workload for the operator to restart, or choose another way.".into(),
        ));
    }
    for w in &targets {
        check_chars("workload", &w.name, NAME_MAX_CHARS).map_err(invalid)?;
    }
    if let Err(errors) = keys::check_all(&form.keys.0) {
        return Err(invalid(errors.join(" ")));
    }
    let app = form.app.trim();
    // The app's name is also a label value on its objects, which Kubernetes caps at 63: checked
    // here, before anything is written, not by the apiserver after the Vault side is.
    if app.len() > APP_NAME_MAX {
        return Err(invalid(format!(
            "An app name has at most {APP_NAME_MAX} characters."
        )));
    }
    let mount = match form.mount.trim().trim_matches('/') {
        "" => home.mount.clone(),
        m => m.to_owned(),
    };
    let path = match form.path.trim().trim_matches('/') {
        "" => default_path(home, app),
        p => p.to_owned(),
    };
    let service_account = match form.service_account.trim() {
        "" => app.to_owned(),
        s => s.to_owned(),
    };
    let refresh_after = match form.refresh_after.trim() {
        "" => DEFAULT_REFRESH_AFTER.to_owned(),
        r => r.to_owned(),
    };
    let vault = AppVault::new(environment.as_str(), app, &mount, &path, &service_account)
        .map_err(invalid)?;
    let owner = homes.owner(environments, &mount, &path);
    if let Some(other) = owner.filter(|o| **o != environment) {
        return Err(invalid(format!(
            "{mount}/{path} belongs to the environment {other} (its place in Vault sits inside {}'s): an app of {} may read only its own environment's secrets.",
            environment.as_str(),
            environment.as_str()
        )));
    }
    if owner.is_none() {
        let folder = if home.prefix.is_empty() {
            String::new()
        } else {
            format!(", folder {}", home.prefix)
        };
        return Err(invalid(format!(
            "The secret must lie in {}'s place in Vault (mount {}{folder}): an app of {} may read only its own environment's secrets.",
            environment.as_str(),
            home.mount,
            environment.as_str()
        )));
    }
    let workload = |w: &keyway_app::dto::WorkloadRef| Workload {
        kind: kind_to_k8s(w.kind),
        name: w.name.trim().to_owned(),
    };
    let restart = match &form.restart {
        OnboardRestart::None => Restart::None,
        OnboardRestart::Reloader(w) => Restart::Reloader(workload(w)),
        OnboardRestart::Operator(ws) => Restart::RolloutTargets(ws.iter().map(workload).collect()),
    };
    let cluster = AppCluster {
        namespace: environment.as_str().to_owned(),
        app: app.to_owned(),
        service_account,
        new_service_account: form.new_service_account,
        auth: AuthChoice::New {
            name: app.to_owned(),
            mount: auth_mount.to_owned(),
            role: vault.role_name(),
        },
        mount: mount.clone(),
        path: path.clone(),
        destination: app.to_owned(),
        refresh_after,
        restart,
    };
    let rendered = cluster.render().map_err(invalid)?;
    let mut objects = Vec::new();
    for file in &rendered.files {
        match object_of(file) {
            Ok(Some(o)) => objects.push(o),
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %e, "a rendered onboarding file does not parse");
                return Err(AppError::Internal);
            }
        }
    }
    Ok(Onboarding {
        environment,
        vault,
        cluster,
        rendered,
        objects,
        secret: SecretRef::new(mount, path),
        keys: form.keys.0.clone(),
        side: form.cluster_side,
        auth_mount: auth_mount.to_owned(),
    })
}

impl Onboarding {
    /// The steps in the order an apply makes them: Vault first (a policy nobody logs in with
    /// grants nothing; the secret exists before the operator first reads it), then the cluster.
    pub fn steps(&self) -> Vec<Step> {
        let mut steps = vec![Step::Policy, Step::Role, Step::FirstVersion];
        steps.extend((0..self.objects.len()).map(Step::Object));
        if let Restart::Reloader(w) = &self.cluster.restart {
            steps.push(Step::Reloader(w.clone()));
        }
        steps
    }

    /// The role's Vault path, `auth/<mount>/role/<name>`.
    pub fn role_path(&self) -> String {
        format!("auth/{}/role/{}", self.auth_mount, self.vault.role_name())
    }

    /// What the page and the audit row call `step`.
    pub fn label(&self, step: &Step) -> String {
        match step {
            Step::Policy => format!("Vault policy {}", self.vault.policy_name()),
            Step::Role => format!("Login role {}", self.role_path()),
            Step::FirstVersion => format!(
                "First version of {}/{}",
                self.secret.mount, self.secret.path
            ),
            Step::Object(i) => {
                let (api, object) = &self.objects[*i];
                format!(
                    "{} {}",
                    api.kind,
                    object.metadata.name.as_deref().unwrap_or("")
                )
            }
            Step::Reloader(w) => format!("Reloader on {} {}", w.kind.as_str(), w.name),
        }
    }

    /// Whether `step` is the cluster's side, left to the GitOps repository on that path.
    pub fn by_gitops(&self, step: &Step) -> bool {
        self.side == ClusterSide::GitOps && matches!(step, Step::Object(_) | Step::Reloader(_))
    }

    pub fn preview(&self) -> OnboardPreview {
        let role = serde_json::to_string_pretty(&self.vault.role()).unwrap_or_default();
        OnboardPreview {
            policy: OnboardFile {
                name: self.vault.policy_name(),
                text: self.vault.policy_hcl(),
            },
            role: OnboardFile {
                name: self.role_path(),
                text: role,
            },
            secret: self.secret.clone(),
            keys: self.keys.keys().cloned().collect(),
            files: self
                .rendered
                .files
                .iter()
                .map(|f| OnboardFile {
                    name: f.name.clone(),
                    text: f.text.clone(),
                })
                .collect(),
            notes: match self.side {
                ClusterSide::GitOps => self.rendered.notes.clone(),
                ClusterSide::Keyway => Vec::new(),
            },
            steps: self.steps().iter().map(|s| self.label(s)).collect(),
        }
    }
}
