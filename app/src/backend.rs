//! What the UI needs from the server, as one narrow trait.
//!
//! The `app` crate is compiled for the browser too, so it cannot depend on the Vault client, the
//! database or the session store. Server functions call this trait through Leptos context; the
//! `server` crate implements it with the real clients and provides it per request. Every method
//! acts for the caller of the current request: implementations read the session themselves and
//! answer [`AppError::Unauthenticated`] when there is none, so no server function can forget the
//! check.

use std::sync::Arc;

use async_trait::async_trait;
use leptos::prelude::use_context;

use crate::dto::*;
use crate::error::AppError;

#[async_trait]
pub trait Backend: Send + Sync + 'static {
    async fn login_options(&self) -> Result<LoginChoices, AppError>;
    async fn login(
        &self,
        kind: LoginKind,
        mount: String,
        username: String,
        secret: String,
    ) -> Result<UserInfo, AppError>;
    async fn logout(&self) -> Result<(), AppError>;
    async fn whoami(&self) -> Result<Option<UserInfo>, AppError>;

    async fn environments(&self) -> Result<Vec<Environment>, AppError>;
    async fn secret(&self, env: &str, app: &str) -> Result<SecretView, AppError>;
    async fn reveal(
        &self,
        env: &str,
        app: &str,
        version: u64,
        keys: Vec<String>,
        purpose: RevealPurpose,
    ) -> Result<Revealed, AppError>;
    async fn save(
        &self,
        env: &str,
        app: &str,
        base_version: u64,
        changes: Changes,
    ) -> Result<Saved, AppError>;
    async fn export_env(&self, env: &str, app: &str, version: u64) -> Result<String, AppError>;

    async fn versions(&self, env: &str, app: &str) -> Result<Vec<VersionRow>, AppError>;
    async fn diff(
        &self,
        env: &str,
        app: &str,
        from: u64,
        to: u64,
    ) -> Result<Vec<KeyDiff>, AppError>;
    async fn rollback(
        &self,
        env: &str,
        app: &str,
        to_version: u64,
        base_version: u64,
    ) -> Result<Saved, AppError>;
    async fn undelete(&self, env: &str, app: &str, version: u64) -> Result<(), AppError>;
    async fn delete_latest(&self, env: &str, app: &str, version: u64) -> Result<(), AppError>;

    /// One page (`page` from 0) of the cluster's apps this user may read, filtered by `query`
    /// (a substring of the environment, app, mount or path).
    async fn cluster_apps(&self, query: &str, page: u32) -> Result<AppsPage, AppError>;
    /// The apps in the cluster that copy `env/app`, their sync state and running pods.
    async fn cluster_status(&self, env: &str, app: &str) -> Result<ClusterStatus, AppError>;
    /// Asks the operator to copy the current version of `env/app` into `namespace/name` now.
    async fn sync_now(
        &self,
        env: &str,
        app: &str,
        namespace: &str,
        name: &str,
    ) -> Result<ActionDone, AppError>;
    /// Restarts one workload (`workload` = Some((kind, name))) or all of an app's workloads.
    /// `sync_first`: when the cluster does not have the current version yet, sync it, wait for
    /// it, then restart (otherwise such a restart is refused).
    async fn restart(
        &self,
        env: &str,
        app: &str,
        namespace: &str,
        name: &str,
        workload: Option<(String, String)>,
        sync_first: bool,
    ) -> Result<ActionDone, AppError>;
}

/// The backend for the current request, provided as context by the server.
#[derive(Clone)]
pub struct BackendHandle(pub Arc<dyn Backend>);

/// Reads the backend from context; a missing one is a wiring bug, logged as internal.
pub fn backend() -> Result<Arc<dyn Backend>, AppError> {
    use_context::<BackendHandle>()
        .map(|h| h.0)
        .ok_or(AppError::Internal)
}
