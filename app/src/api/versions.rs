//! Version history: list, diff, roll back, undelete, delete the latest version.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[cfg(feature = "ssr")]
use super::respond;
use crate::dto::*;
use crate::error::AppError;

#[server(prefix = "/api", endpoint = "versions", input = Json)]
pub async fn versions(env: String, app: String) -> Result<Vec<VersionRow>, AppError> {
    respond(async move { crate::backend::backend()?.versions(&env, &app).await }.await)
}

/// Masked diff: which keys differ between two versions (0 = empty).
#[server(prefix = "/api", endpoint = "diff", input = Json)]
pub async fn diff(env: String, app: String, from: u64, to: u64) -> Result<Vec<KeyDiff>, AppError> {
    respond(async move { crate::backend::backend()?.diff(&env, &app, from, to).await }.await)
}

/// Writes `to_version`'s data as a new version, with check-and-set against `base_version`.
#[server(prefix = "/api", endpoint = "rollback", input = Json)]
pub async fn rollback(
    env: String,
    app: String,
    to_version: u64,
    base_version: u64,
) -> Result<Saved, AppError> {
    respond(
        async move {
            crate::backend::backend()?
                .rollback(&env, &app, to_version, base_version)
                .await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "undelete", input = Json)]
pub async fn undelete(env: String, app: String, version: u64) -> Result<(), AppError> {
    respond(
        async move {
            crate::backend::backend()?
                .undelete(&env, &app, version)
                .await
        }
        .await,
    )
}

/// Soft-deletes the latest version. `confirm` must be the app's name, typed by the user.
#[server(prefix = "/api", endpoint = "delete_latest", input = Json)]
pub async fn delete_latest(
    env: String,
    app: String,
    version: u64,
    confirm: String,
) -> Result<(), AppError> {
    respond(
        async move {
            if confirm.trim() != app {
                return Err(AppError::Invalid(format!(
                    "Type the app's name \"{app}\" exactly to confirm the deletion."
                )));
            }
            crate::backend::backend()?
                .delete_latest(&env, &app, version)
                .await
        }
        .await,
    )
}
