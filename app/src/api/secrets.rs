//! Environments, apps and one app's secret: view, reveal, save, export.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[cfg(feature = "ssr")]
use super::respond;
use crate::dto::*;
use crate::error::AppError;

#[server(prefix = "/api", endpoint = "environments", input = Json)]
pub async fn environments() -> Result<Vec<Environment>, AppError> {
    respond(async move { crate::backend::backend()?.environments().await }.await)
}

#[server(prefix = "/api", endpoint = "secret", input = Json)]
pub async fn secret(env: String, app: String) -> Result<SecretView, AppError> {
    respond(async move { crate::backend::backend()?.secret(&env, &app).await }.await)
}

/// Reveals the values of `keys` (all keys when empty) at `version`. Audited.
#[server(prefix = "/api", endpoint = "reveal", input = Json)]
pub async fn reveal(
    env: String,
    app: String,
    version: u64,
    keys: Vec<String>,
    purpose: RevealPurpose,
) -> Result<Revealed, AppError> {
    respond(
        async move {
            crate::backend::backend()?
                .reveal(&env, &app, version, keys, purpose)
                .await
        }
        .await,
    )
}

/// Writes the draft as one new version, with check-and-set against `base_version`.
#[server(prefix = "/api", endpoint = "save", input = Json)]
pub async fn save(
    env: String,
    app: String,
    base_version: u64,
    changes: Changes,
) -> Result<Saved, AppError> {
    respond(
        async move {
            crate::backend::backend()?
                .save(&env, &app, base_version, changes)
                .await
        }
        .await,
    )
}

/// The secret as `.env` text. Audited as a read of every value.
#[server(prefix = "/api", endpoint = "export_env", input = Json)]
pub async fn export_env(env: String, app: String, version: u64) -> Result<String, AppError> {
    respond(
        async move {
            crate::backend::backend()?
                .export_env(&env, &app, version)
                .await
        }
        .await,
    )
}
