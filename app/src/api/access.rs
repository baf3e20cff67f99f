//! Server functions of the platform team's access pages: which platform pages the caller may
//! open, one environment's access, and a change to it (preview, then apply).
//!
//! Every call acts with the caller's own Vault token: the page is shown only when Vault grants
//! what it needs, and each write is Vault's decision, so a developer's token gets nothing here
//! even by calling these endpoints directly.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::dto::{
    AccessApplied, AccessPlan, AccessPreview, EntityChoice, EnvironmentAccess, PlatformMenu,
};
use crate::error::AppError;

#[cfg(feature = "ssr")]
use super::respond;

/// The platform side (implemented by the server's access service).
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait AccessApi: Send + Sync {
    /// The platform pages the caller's policies open; empty for a developer.
    async fn platform_menu(&self) -> Result<PlatformMenu, AppError>;
    /// Who may view, edit and restart in `environment`.
    async fn environment_access(&self, environment: &str) -> Result<EnvironmentAccess, AppError>;
    /// What `plan` would write, and the access it would give.
    async fn preview_access(&self, plan: AccessPlan) -> Result<AccessPreview, AppError>;
    /// Writes `plan`, refusing if a group or policy changed since it was read.
    async fn apply_access(&self, plan: AccessPlan) -> Result<AccessApplied, AppError>;
    /// Entities whose name or login name contains `query`, for an internal group's members.
    async fn find_entities(&self, query: &str) -> Result<Vec<EntityChoice>, AppError>;
}

#[server(prefix = "/api", endpoint = "platform_menu", input = Json)]
pub async fn platform_pages() -> Result<PlatformMenu, AppError> {
    respond(async move { crate::backend::backend()?.platform_menu().await }.await)
}

#[server(prefix = "/api", endpoint = "environment_access", input = Json)]
pub async fn access_to(environment: String) -> Result<EnvironmentAccess, AppError> {
    respond(
        async move {
            crate::backend::backend()?
                .environment_access(&environment)
                .await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "preview_access", input = Json)]
pub async fn preview_access(plan: AccessPlan) -> Result<AccessPreview, AppError> {
    respond(async move { crate::backend::backend()?.preview_access(plan).await }.await)
}

#[server(prefix = "/api", endpoint = "apply_access", input = Json)]
pub async fn apply_access(plan: AccessPlan) -> Result<AccessApplied, AppError> {
    respond(async move { crate::backend::backend()?.apply_access(plan).await }.await)
}

#[server(prefix = "/api", endpoint = "find_entities", input = Json)]
pub async fn find_entities(query: String) -> Result<Vec<EntityChoice>, AppError> {
    respond(async move { crate::backend::backend()?.find_entities(&query).await }.await)
}
