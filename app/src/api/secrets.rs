//! The kv mounts a user may see, and one secret: view, reveal, save, export.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[cfg(feature = "ssr")]
use super::respond;
use crate::dto::*;
use crate::error::AppError;

/// Secrets: list, view masked, reveal, save, export (implemented by the server's secrets service).
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait SecretsApi: Send + Sync {
    /// `query`: only the secrets whose path contains it (any case); empty for all.
    async fn mounts(&self, query: &str) -> Result<Vec<Mount>, AppError>;
    async fn secret(&self, secret: &SecretRef) -> Result<SecretView, AppError>;
    async fn reveal(
        &self,
        secret: &SecretRef,
        version: u64,
        keys: Vec<String>,
        purpose: RevealPurpose,
    ) -> Result<Revealed, AppError>;
    async fn save(
        &self,
        secret: &SecretRef,
        base_version: u64,
        changes: Changes,
    ) -> Result<Saved, AppError>;
    async fn export_env(&self, secret: &SecretRef, version: u64) -> Result<String, AppError>;
}

/// The kv-v2 mounts the user can see, each with the secrets in it the user may open.
#[server(prefix = "/api", endpoint = "mounts", input = Json)]
pub async fn mounts(#[server(default)] query: String) -> Result<Vec<Mount>, AppError> {
    respond(async move { crate::backend::backend()?.mounts(&query).await }.await)
}

#[server(prefix = "/api", endpoint = "secret", input = Json)]
pub async fn secret(secret: SecretRef) -> Result<SecretView, AppError> {
    respond(async move { crate::backend::backend()?.secret(&secret).await }.await)
}

/// Reveals the values of `keys` (all keys when empty) at `version`. Audited.
#[server(prefix = "/api", endpoint = "reveal", input = Json)]
pub async fn reveal(
    secret: SecretRef,
    version: u64,
    keys: Vec<String>,
    purpose: RevealPurpose,
) -> Result<Revealed, AppError> {
    respond(
        async move {
            crate::backend::backend()?
                .reveal(&secret, version, keys, purpose)
                .await
        }
        .await,
    )
}

/// Writes the draft as one new version, with check-and-set against `base_version`.
#[server(prefix = "/api", endpoint = "save", input = Json)]
pub async fn save(
    secret: SecretRef,
    base_version: u64,
    changes: Changes,
) -> Result<Saved, AppError> {
    respond(
        async move {
            crate::backend::backend()?
                .save(&secret, base_version, changes)
                .await
        }
        .await,
    )
}

/// The secret as `.env` text. Audited as a read of every value.
#[server(prefix = "/api", endpoint = "export_env", input = Json)]
pub async fn export_env(secret: SecretRef, version: u64) -> Result<String, AppError> {
    respond(
        async move {
            crate::backend::backend()?
                .export_env(&secret, version)
                .await
        }
        .await,
    )
}
