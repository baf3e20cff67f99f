//! Login, logout and "who am I".

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[cfg(feature = "ssr")]
use super::respond;
use crate::dto::*;
use crate::error::AppError;

/// Logging in and out (implemented by the server's session layer).
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait AuthApi: Send + Sync {
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
}

#[server(prefix = "/api", endpoint = "login_options", input = Json)]
pub async fn login_options() -> Result<LoginChoices, AppError> {
    respond(async move { crate::backend::backend()?.login_options().await }.await)
}

/// Logs in with a Vault auth method. Works as a plain HTML form too (no JavaScript needed).
#[server(prefix = "/api", endpoint = "login")]
pub async fn login(
    method: String,
    mount: String,
    username: Option<String>,
    secret: String,
) -> Result<UserInfo, AppError> {
    respond(
        async move {
            let kind = LoginKind::parse(&method)
                .ok_or_else(|| AppError::Invalid(format!("Unknown login method \"{method}\".")))?;
            let mount = mount.trim().trim_matches('/').to_string();
            let mount = if mount.is_empty() {
                kind.as_str().to_string()
            } else {
                mount
            };
            let user = crate::backend::backend()?
                .login(kind, mount, username.unwrap_or_default(), secret)
                .await?;
            leptos_axum::redirect("/");
            Ok(user)
        }
        .await,
    )
}

/// Posted by the header's plain `<form>` (a full page load that ends on `/login`).
#[server(prefix = "/api", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    respond(
        async move {
            crate::backend::backend()?.logout().await?;
            leptos_axum::redirect("/login");
            Ok(())
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "whoami", input = Json)]
pub async fn whoami() -> Result<Option<UserInfo>, AppError> {
    respond(async move { crate::backend::backend()?.whoami().await }.await)
}
