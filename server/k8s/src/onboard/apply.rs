//! The direct path of onboarding: Keyway's own account creates the objects of the rendered
//! folder ([`super::AppCluster::render`]), parsed back from the very text the page showed, so
//! the GitOps folder and the direct path cannot differ. Each object is created, or, when it
//! exists, applied again with server-side apply (field manager `keyway`), which changes nothing
//! when it is already as rendered: that is what makes a retried onboarding finish instead of
//! failing on "exists".
//!
//! What the account may do is deploy/rbac-onboarding.yaml (create and patch of these kinds in
//! the served namespaces) narrowed by deploy/base/admission-policy.yaml (only objects labelled
//! `app.kubernetes.io/managed-by: keyway`, and on a workload only Reloader's annotation).

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::api::{ApiResource, DynamicObject, Patch, PatchParams, PostParams};
use kube::{Api, Client};

use super::{RenderedFile, Workload};
use crate::reloader;
use crate::status::WorkloadKind;
use crate::vso::{VaultAuth, VaultStaticSecret};

/// Why one object could not be written, in words for the onboarding page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    #[error("Keyway's own cluster account may not do this in namespace {0}; the platform team must apply deploy/rbac-onboarding.yaml there.")]
    Forbidden(String),
    #[error("{0}")]
    Missing(String),
    #[error("The cluster cannot be reached right now.")]
    Unreachable,
    #[error("The cluster refused it: {0}")]
    Refused(String),
    #[error("Keyway rendered an object it cannot read back ({0}); this is a bug.")]
    Unreadable(String),
}

fn refused(e: kube::Error, namespace: &str, missing: String) -> ApplyError {
    match e {
        kube::Error::Api(s) if s.code == 403 => ApplyError::Forbidden(namespace.to_owned()),
        kube::Error::Api(s) if s.code == 404 => ApplyError::Missing(missing),
        kube::Error::Api(s) => ApplyError::Refused(s.message),
        _ => ApplyError::Unreachable,
    }
}

/// The API of a rendered object's kind (only the kinds the renderer writes).
fn resource(kind: &str) -> Option<ApiResource> {
    match kind {
        "ServiceAccount" => Some(ApiResource::erase::<ServiceAccount>(&())),
        "VaultAuth" => Some(ApiResource::erase::<VaultAuth>(&())),
        "VaultStaticSecret" => Some(ApiResource::erase::<VaultStaticSecret>(&())),
        _ => None,
    }
}

/// The object a rendered file holds, with its kind; `None` for `kustomization.yaml`.
pub fn object_of(file: &RenderedFile) -> Result<Option<(ApiResource, DynamicObject)>, ApplyError> {
    if file.name == "kustomization.yaml" {
        return Ok(None);
    }
    let unreadable = || ApplyError::Unreadable(file.name.clone());
    let object: DynamicObject = serde_yaml::from_str(&file.text).map_err(|_| unreadable())?;
    let kind = object.types.as_ref().map(|t| t.kind.as_str()).unwrap_or("");
    let api = resource(kind).ok_or_else(unreadable)?;
    Ok(Some((api, object)))
}

/// Whether [`apply_object`] made the object or found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Created,
    /// It was there already; applying it again made it as rendered (no change when it was).
    AlreadyThere,
}

/// Creates `object` in `namespace`; when it exists already, applies it again (server-side
/// apply, field manager `keyway`), which changes nothing when it is as rendered.
pub async fn apply_object(
    client: &Client,
    namespace: &str,
    api: &ApiResource,
    object: &DynamicObject,
) -> Result<Applied, ApplyError> {
    let name = object.metadata.name.clone().unwrap_or_default();
    let objects = Api::<DynamicObject>::namespaced_with(client.clone(), namespace, api);
    let missing = || {
        format!(
            "The cluster has no namespace {namespace}, or does not know the kind {} (is the Vault Secrets Operator installed?).",
            api.kind
        )
    };
    let params = PostParams {
        field_manager: Some("keyway".into()),
        ..Default::default()
    };
    match objects.create(&params, object).await {
        Ok(_) => return Ok(Applied::Created),
        Err(kube::Error::Api(s)) if s.code == 409 => {}
        Err(e) => return Err(refused(e, namespace, missing())),
    }
    objects
        .patch(&name, &PatchParams::apply("keyway"), &Patch::Apply(object))
        .await
        .map_err(|e| refused(e, namespace, missing()))?;
    Ok(Applied::AlreadyThere)
}

/// Adds Reloader's `reloader.stakater.com/auto: "true"` to the workload's own annotations
/// (a merge patch of that one key; the admission policy allows no other change).
pub async fn annotate_for_reloader(
    client: &Client,
    namespace: &str,
    workload: &Workload,
) -> Result<(), ApplyError> {
    let patch = serde_json::json!({"metadata": {"annotations": {reloader::AUTO: "true"}}});
    let p = Patch::Merge(&patch);
    let params = PatchParams {
        field_manager: Some("keyway".into()),
        ..Default::default()
    };
    let name = workload.name.as_str();
    let result = match workload.kind {
        WorkloadKind::Deployment => Api::<Deployment>::namespaced(client.clone(), namespace)
            .patch(name, &params, &p)
            .await
            .map(drop),
        WorkloadKind::StatefulSet => Api::<StatefulSet>::namespaced(client.clone(), namespace)
            .patch(name, &params, &p)
            .await
            .map(drop),
        WorkloadKind::DaemonSet => Api::<DaemonSet>::namespaced(client.clone(), namespace)
            .patch(name, &params, &p)
            .await
            .map(drop),
    };
    result.map_err(|e| {
        refused(
            e,
            namespace,
            format!(
                "There is no {} {name} in namespace {namespace}; deploy it first, then retry.",
                workload.kind.as_str()
            ),
        )
    })
}
