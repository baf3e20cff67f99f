//! Onboarding one app, as the platform page sends and shows it: the form, the preview of
//! everything it will create (policy HCL, login role, Kustomize files), the per-step report of
//! an apply, and the follow-up until the app is live.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::{ClusterApp, KvHome, SecretRef, WorkloadRef};

/// How the app's pods pick up a change of its Secret.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum OnboardRestart {
    /// Nobody restarts them (someone restarts by hand, or the app reads a mounted file live).
    #[default]
    None,
    /// Reloader restarts this workload (Keyway adds its annotation).
    Reloader(WorkloadRef),
    /// The operator restarts these workloads itself (`rolloutRestartTargets`).
    Operator(Vec<WorkloadRef>),
}

/// Who creates the cluster objects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClusterSide {
    /// Keyway's own cluster account, now.
    #[default]
    Keyway,
    /// The team commits the rendered folder to its GitOps repository; Keyway waits for it.
    GitOps,
}

/// The first keys of the secret, with their values. Its `Debug` shows the names only, so a
/// value cannot reach a log line through a form.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitialKeys(pub BTreeMap<String, String>);

impl fmt::Debug for InitialKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

/// The operator's refresh interval the form starts with, and the one used when it is left empty.
pub const DEFAULT_REFRESH_AFTER: &str = "60s";

/// The onboarding form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnboardForm {
    /// The environment (namespace).
    pub environment: String,
    /// The app's name: its VaultStaticSecret, VaultAuth and Secret are named so.
    pub app: String,
    /// kv-v2 mount of its secret.
    pub mount: String,
    /// The secret's path inside the mount.
    pub path: String,
    /// The service account the operator logs in as.
    pub service_account: String,
    /// Whether Keyway creates that service account.
    pub new_service_account: bool,
    pub restart: OnboardRestart,
    /// The operator's refresh interval, e.g. `60s` ([`DEFAULT_REFRESH_AFTER`] when empty).
    pub refresh_after: String,
    pub keys: InitialKeys,
    pub cluster_side: ClusterSide,
}

/// What the form starts from in one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnboardDefaults {
    pub environment: String,
    /// Where the environment's secrets live (a new app's path is `<prefix><app>/config`).
    pub home: KvHome,
    /// The kubernetes auth mount the login role is written under.
    pub auth_mount: String,
    /// The workloads of the environment, to pick what restarts.
    pub workloads: Vec<WorkloadRef>,
    /// Whether Keyway is connected to the cluster (without, only the GitOps way is offered).
    pub cluster: bool,
}

/// One file shown in full before apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnboardFile {
    pub name: String,
    pub text: String,
}

/// Everything an apply would create, in full.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnboardPreview {
    /// The Vault policy (name and HCL).
    pub policy: OnboardFile,
    /// The kubernetes auth role: its Vault path and the JSON written there.
    pub role: OnboardFile,
    /// The secret and the names of the keys its first version gets.
    pub secret: SecretRef,
    pub keys: Vec<String>,
    /// The cluster objects, as a Kustomize folder (`kustomization.yaml` last).
    pub files: Vec<OnboardFile>,
    /// What the team does by hand besides (GitOps: the Reloader annotation).
    pub notes: Vec<String>,
    /// The steps an apply makes, in order.
    pub steps: Vec<String>,
}

/// How one step of an apply went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StepState {
    /// Written now.
    Done,
    /// Already as wanted; nothing written (a retry, or made by someone before).
    AlreadyThere(String),
    /// Refused or failed, with a plain reason; later steps were not run.
    Failed(String),
    /// Not run because a step before it failed.
    NotRun,
    /// Left to the GitOps repository; the page waits for it.
    ByGitOps,
}

/// One step of an apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnboardStep {
    pub label: String,
    pub state: StepState,
}

/// The report of an apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnboardReport {
    pub steps: Vec<OnboardStep>,
    /// The app's secret, for the link to its page.
    pub secret: SecretRef,
}

impl OnboardReport {
    /// Whether a step failed (the apply can be sent again to finish it).
    pub fn failed(&self) -> bool {
        self.steps
            .iter()
            .any(|s| matches!(s.state, StepState::Failed(_)))
    }
}

/// Where an onboarded app stands in the cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OnboardFollow {
    /// Its VaultStaticSecret, once Keyway sees it (None: not in the cluster yet).
    pub app: Option<ClusterApp>,
    /// Why Keyway's view of the cluster may be stale.
    pub problem: Option<String>,
}
