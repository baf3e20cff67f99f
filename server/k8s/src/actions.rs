//! The two writes Keyway makes in the cluster, with its own service account (after Vault said the
//! user may): restart a workload, and ask the operator to sync an app now.
//!
//! A restart is exactly `kubectl rollout restart`: a strategic-merge patch of the pod template's
//! `kubectl.kubernetes.io/restartedAt` annotation (reference §4.3). "Sync now" changes an
//! annotation on the VaultStaticSecret, which VSO treats as a reason to reconcile at once
//! (reference §1.3).

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use kube::api::{Patch, PatchParams};
use kube::{Api, Client};

use crate::status::WorkloadKind;
use crate::vso::VaultStaticSecret;

/// The pod-template annotation `kubectl rollout restart` sets.
pub const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";
/// The VaultStaticSecret annotation Keyway changes to make VSO sync now.
pub const SYNC_REQUESTED_AT: &str = "keyway.dev/sync-requested-at";

#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error(
        "Keyway's own cluster account is not allowed to do this; the platform team must grant it (see deploy/base/rbac.yaml)."
    )]
    Forbidden,
    #[error("This app is no longer in the cluster.")]
    NotFound,
    #[error("The cluster cannot be reached right now.")]
    Unreachable,
    #[error("The cluster refused the change: {0}")]
    Other(String),
}

impl From<kube::Error> for ActionError {
    fn from(e: kube::Error) -> Self {
        match &e {
            kube::Error::Api(s) if s.code == 403 => ActionError::Forbidden,
            kube::Error::Api(s) if s.code == 404 => ActionError::NotFound,
            kube::Error::Api(s) => ActionError::Other(s.message.clone()),
            _ => ActionError::Unreachable,
        }
    }
}

fn params() -> PatchParams {
    PatchParams {
        field_manager: Some("keyway".into()),
        ..Default::default()
    }
}

/// RFC 3339 to the second, as kubectl writes it.
pub fn stamp(now: jiff::Timestamp) -> String {
    now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `kubectl rollout restart` for one workload.
pub async fn restart(
    client: &Client,
    kind: WorkloadKind,
    namespace: &str,
    name: &str,
    now: jiff::Timestamp,
) -> Result<(), ActionError> {
    let patch = serde_json::json!({
        "spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp(now)}}}}
    });
    let p = Patch::Strategic(&patch);
    match kind {
        WorkloadKind::Deployment => {
            Api::<Deployment>::namespaced(client.clone(), namespace)
                .patch(name, &params(), &p)
                .await?;
        }
        WorkloadKind::StatefulSet => {
            Api::<StatefulSet>::namespaced(client.clone(), namespace)
                .patch(name, &params(), &p)
                .await?;
        }
        WorkloadKind::DaemonSet => {
            Api::<DaemonSet>::namespaced(client.clone(), namespace)
                .patch(name, &params(), &p)
                .await?;
        }
    }
    Ok(())
}

/// Makes the operator sync the app now.
pub async fn sync_now(
    client: &Client,
    namespace: &str,
    app: &str,
    now: jiff::Timestamp,
) -> Result<(), ActionError> {
    // Nanoseconds: two requests in the same second must still change the annotation.
    let patch = serde_json::json!({
        "metadata": {"annotations": {SYNC_REQUESTED_AT: now.to_string()}}
    });
    Api::<VaultStaticSecret>::namespaced(client.clone(), namespace)
        .patch(app, &params(), &Patch::Merge(&patch))
        .await?;
    Ok(())
}
