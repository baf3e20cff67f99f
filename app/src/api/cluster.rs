//! Server functions for the cluster side of a secret: status, "Sync now", "Restart".
//!
//! The backend checks the caller's Vault policy before Keyway's own cluster account acts, and
//! checks that the app really copies the secret: a forged call cannot reach another team's app.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::dto::{ActionDone, AppRef, AppsPage, ClusterStatus, SecretRef, WorkloadRef};
use crate::error::AppError;

#[cfg(feature = "ssr")]
use super::respond;

/// The cluster side (implemented by the server's cluster service).
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait ClusterApi: Send + Sync {
    /// One page (`page` from 0) of the cluster's apps this user may read, filtered by `query`
    /// (a substring of the namespace, app, mount or path).
    async fn cluster_apps(&self, query: &str, page: u32) -> Result<AppsPage, AppError>;
    /// The apps in the cluster that copy `secret`, their sync state and running pods.
    async fn cluster_status(&self, secret: &SecretRef) -> Result<ClusterStatus, AppError>;
    /// Asks the operator to copy the current version of `secret` into `app` now.
    async fn sync_now(&self, secret: &SecretRef, app: &AppRef) -> Result<ActionDone, AppError>;
    /// Restarts one workload, or all of the app's workloads when `workload` is None.
    /// `sync_first`: when the cluster does not have the current version yet, sync it, wait for
    /// it, then restart (otherwise such a restart is refused).
    async fn restart(
        &self,
        secret: &SecretRef,
        app: &AppRef,
        workload: Option<WorkloadRef>,
        sync_first: bool,
    ) -> Result<ActionDone, AppError>;
}

/// `background`: the page's clock asked, not the user (see [`crate::backend::backend_for`]).
#[server(prefix = "/api", endpoint = "cluster_status", input = Json)]
pub async fn cluster_view(
    secret: SecretRef,
    #[server(default)] background: bool,
) -> Result<ClusterStatus, AppError> {
    respond(
        async move {
            crate::backend::backend_for(background)?
                .cluster_status(&secret)
                .await
        }
        .await,
    )
}

/// The apps overview: every app in the cluster this user may read, paged and searchable.
/// `background` as for [`cluster_view`].
#[server(prefix = "/api", endpoint = "cluster_apps", input = Json)]
pub async fn cluster_apps(
    query: String,
    page: u32,
    #[server(default)] background: bool,
) -> Result<AppsPage, AppError> {
    respond(
        async move {
            crate::backend::backend_for(background)?
                .cluster_apps(&query, page)
                .await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "sync_now", input = Json)]
pub async fn sync_now(secret: SecretRef, app: AppRef) -> Result<ActionDone, AppError> {
    respond(async move { crate::backend::backend()?.sync_now(&secret, &app).await }.await)
}

/// `workload` None: every workload of the app.
#[server(prefix = "/api", endpoint = "restart", input = Json)]
pub async fn restart(
    secret: SecretRef,
    app: AppRef,
    workload: Option<WorkloadRef>,
    sync_first: bool,
) -> Result<ActionDone, AppError> {
    respond(
        async move {
            crate::backend::backend()?
                .restart(&secret, &app, workload, sync_first)
                .await
        }
        .await,
    )
}
