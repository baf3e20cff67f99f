//! Version history: list, diff, roll back, undelete, delete the latest version, and the
//! timeline (each version's way into the cluster).

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[cfg(feature = "ssr")]
use super::respond;
use crate::dto::*;
use crate::error::AppError;

/// A secret's versions (implemented by the server's history service).
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait VersionsApi: Send + Sync {
    async fn versions(&self, secret: &SecretRef) -> Result<Vec<VersionRow>, AppError>;
    async fn diff(&self, secret: &SecretRef, from: u64, to: u64) -> Result<Vec<KeyDiff>, AppError>;
    async fn rollback(
        &self,
        secret: &SecretRef,
        to_version: u64,
        base_version: u64,
    ) -> Result<Saved, AppError>;
    async fn undelete(&self, secret: &SecretRef, version: u64) -> Result<(), AppError>;
    async fn delete_latest(&self, secret: &SecretRef, version: u64) -> Result<(), AppError>;
    async fn timeline(&self, secret: &SecretRef) -> Result<SecretTimeline, AppError>;
}

#[server(prefix = "/api", endpoint = "versions", input = Json)]
pub async fn versions(secret: SecretRef) -> Result<Vec<VersionRow>, AppError> {
    respond(async move { crate::backend::backend()?.versions(&secret).await }.await)
}

/// Masked diff: which keys differ between two versions (0 = empty).
#[server(prefix = "/api", endpoint = "diff", input = Json)]
pub async fn diff(secret: SecretRef, from: u64, to: u64) -> Result<Vec<KeyDiff>, AppError> {
    respond(async move { crate::backend::backend()?.diff(&secret, from, to).await }.await)
}

/// Writes `to_version`'s data as a new version, with check-and-set against `base_version`.
#[server(prefix = "/api", endpoint = "rollback", input = Json)]
pub async fn rollback(
    secret: SecretRef,
    to_version: u64,
    base_version: u64,
) -> Result<Saved, AppError> {
    respond(
        async move {
            crate::backend::backend()?
                .rollback(&secret, to_version, base_version)
                .await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "undelete", input = Json)]
pub async fn undelete(secret: SecretRef, version: u64) -> Result<(), AppError> {
    respond(async move { crate::backend::backend()?.undelete(&secret, version).await }.await)
}

/// Soft-deletes the latest version. `confirm` must be the secret's path, typed by the user.
#[server(prefix = "/api", endpoint = "delete_latest", input = Json)]
pub async fn delete_latest(
    secret: SecretRef,
    version: u64,
    confirm: String,
) -> Result<(), AppError> {
    respond(
        async move {
            if confirm.trim() != secret.path {
                return Err(AppError::Invalid(format!(
                    "Type the secret's path \"{}\" exactly to confirm the deletion.",
                    secret.path
                )));
            }
            crate::backend::backend()?
                .delete_latest(&secret, version)
                .await
        }
        .await,
    )
}

/// Per app, the secret's last versions with their steps: written (by whom, in Keyway or outside),
/// live in the cluster, restarted (by whom), pods up to date, and the time between them. Needs
/// what the History tab needs: the right to read the secret's metadata.
#[server(prefix = "/api", endpoint = "timeline", input = Json)]
pub async fn timeline(secret: SecretRef) -> Result<SecretTimeline, AppError> {
    respond(async move { crate::backend::backend()?.timeline(&secret).await }.await)
}
