//! Server functions of the onboarding page: the form's defaults for an environment, the preview
//! of everything an apply creates, the apply itself (ordered, idempotent, one audited action),
//! and the follow-up until the new app is live.
//!
//! Allowed only to a token with `update` on `keyway/onboard/<environment>` (the platform menu);
//! every Vault write is made with that token, so Vault decides each one.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::dto::{OnboardDefaults, OnboardFollow, OnboardForm, OnboardPreview, OnboardReport};
use crate::error::AppError;

#[cfg(feature = "ssr")]
use super::respond;

/// Onboarding (implemented by the server's onboard service).
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait OnboardApi: Send + Sync {
    /// What the form starts from in `environment`.
    async fn onboard_defaults(&self, environment: &str) -> Result<OnboardDefaults, AppError>;
    /// Everything `form` would create, in full.
    async fn onboard_preview(&self, form: OnboardForm) -> Result<OnboardPreview, AppError>;
    /// Creates it, step by step; a failed step stops the rest and can be retried.
    async fn onboard_apply(&self, form: OnboardForm) -> Result<OnboardReport, AppError>;
    /// Where the app `app` of `environment` stands in the cluster.
    async fn onboard_follow(&self, environment: &str, app: &str)
        -> Result<OnboardFollow, AppError>;
}

#[server(prefix = "/api", endpoint = "onboard_defaults", input = Json)]
pub async fn onboarding_defaults(environment: String) -> Result<OnboardDefaults, AppError> {
    respond(
        async move {
            crate::backend::backend()?
                .onboard_defaults(&environment)
                .await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "onboard_preview", input = Json)]
pub async fn preview_onboarding(form: OnboardForm) -> Result<OnboardPreview, AppError> {
    respond(async move { crate::backend::backend()?.onboard_preview(form).await }.await)
}

#[server(prefix = "/api", endpoint = "onboard_apply", input = Json)]
pub async fn apply_onboarding(form: OnboardForm) -> Result<OnboardReport, AppError> {
    respond(async move { crate::backend::backend()?.onboard_apply(form).await }.await)
}

/// `background` as for [`super::cluster::cluster_view`]: the page's clock asked.
#[server(prefix = "/api", endpoint = "onboard_follow", input = Json)]
pub async fn follow_onboarding(
    environment: String,
    app: String,
    #[server(default)] background: bool,
) -> Result<OnboardFollow, AppError> {
    respond(
        async move {
            crate::backend::backend_for(background)?
                .onboard_follow(&environment, &app)
                .await
        }
        .await,
    )
}
