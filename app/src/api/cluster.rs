//! Server functions for the cluster side of an app: status, "Sync now", "Restart".
//!
//! The backend checks the caller's Vault policy before Keyway's own cluster account acts, and
//! checks that the app really copies `env/app`: a forged call cannot reach another team's app.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::dto::{ActionDone, AppsPage, ClusterStatus};
use crate::error::AppError;

#[cfg(feature = "ssr")]
use super::respond;

#[server(prefix = "/api", endpoint = "cluster_status", input = Json)]
pub async fn cluster_view(env: String, app: String) -> Result<ClusterStatus, AppError> {
    respond(async move { crate::backend::backend()?.cluster_status(&env, &app).await }.await)
}

/// The apps overview: every app in the cluster this user may read, paged and searchable.
#[server(prefix = "/api", endpoint = "cluster_apps", input = Json)]
pub async fn cluster_apps(query: String, page: u32) -> Result<AppsPage, AppError> {
    respond(async move { crate::backend::backend()?.cluster_apps(&query, page).await }.await)
}

#[server(prefix = "/api", endpoint = "sync_now", input = Json)]
pub async fn sync_now(
    env: String,
    app: String,
    namespace: String,
    name: String,
) -> Result<ActionDone, AppError> {
    respond(
        async move {
            crate::backend::backend()?
                .sync_now(&env, &app, &namespace, &name)
                .await
        }
        .await,
    )
}

/// `workload_kind`/`workload_name` empty: every workload of the app.
#[server(prefix = "/api", endpoint = "restart", input = Json)]
pub async fn restart(
    env: String,
    app: String,
    namespace: String,
    name: String,
    workload_kind: String,
    workload_name: String,
    sync_first: bool,
) -> Result<ActionDone, AppError> {
    respond(
        async move {
            let workload = (!workload_name.is_empty()).then_some((workload_kind, workload_name));
            crate::backend::backend()?
                .restart(&env, &app, &namespace, &name, workload, sync_first)
                .await
        }
        .await,
    )
}
