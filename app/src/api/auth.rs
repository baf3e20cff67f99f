//! Login, logout and "who am I".

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[cfg(feature = "ssr")]
use super::respond;
use crate::dto::*;
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::{
    error::LoginProblem,
    links::{login_href, LOGIN},
};

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

/// Logs in with a Vault auth method. Posted by the login page's plain HTML form (the browser is
/// then sent on to `/`, or back to the form with the reason in the URL); callers of the API get
/// JSON and the error's status.
#[server(prefix = "/api", endpoint = "login")]
pub async fn login(
    method: String,
    mount: String,
    username: Option<String>,
    secret: String,
) -> Result<UserInfo, AppError> {
    let mount = mount.trim().trim_matches('/').to_string();
    let result = respond(
        async {
            let kind = LoginKind::parse(&method)
                .ok_or_else(|| AppError::Invalid(format!("Unknown login method \"{method}\".")))?;
            let mount = if mount.is_empty() {
                kind.as_str().to_string()
            } else {
                mount.clone()
            };
            crate::backend::backend()?
                .login(kind, mount, username.unwrap_or_default(), secret)
                .await
        }
        .await,
    );
    match &result {
        Ok(_) => leptos_axum::redirect("/"),
        // A browser's form post: back to the form, which says why from a closed list of codes
        // (server_fn would send the browser back with the error's own text in the URL, and the
        // error's status would keep it from following the redirect at all).
        Err(e) if from_a_browser_form() => {
            leptos_axum::redirect(&login_href(&mount, Some(LoginProblem::of(e))));
            if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
                res.set_status(http::StatusCode::SEE_OTHER);
            }
        }
        Err(_) => {}
    }
    result
}

/// Whether the request is a plain HTML form post (it accepts HTML), not an API call.
#[cfg(feature = "ssr")]
fn from_a_browser_form() -> bool {
    use_context::<http::request::Parts>().is_some_and(|p| {
        p.headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"))
    })
}

/// Posted by the header's plain `<form>` (a full page load that ends on `/login`).
#[server(prefix = "/api", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    respond(
        async move {
            crate::backend::backend()?.logout().await?;
            leptos_axum::redirect(LOGIN);
            Ok(())
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "whoami", input = Json)]
pub async fn whoami() -> Result<Option<UserInfo>, AppError> {
    respond(async move { crate::backend::backend()?.whoami().await }.await)
}
