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
    /// Marks this request as a background poll: it is not the user's activity, so it neither
    /// slides the session's idle expiry nor renews the token (it still fails with
    /// `Unauthenticated` once the session is over). Called through
    /// [`crate::backend::backend_for`] only.
    fn background(&self);
    async fn login_options(&self) -> Result<LoginChoices, AppError>;
    async fn login(
        &self,
        kind: LoginKind,
        mount: String,
        username: String,
        secret: String,
    ) -> Result<UserInfo, AppError>;
    async fn logout(&self) -> Result<(), AppError>;
    /// The sentence a failed single sign-on left in this browser's session for the login page,
    /// taken (shown once). Set by the server's OIDC routes, never from the URL.
    async fn take_login_notice(&self) -> Option<String>;
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
    let kind = LoginKind::parse(&method);
    // The mount tried: the one typed, else the method's default path.
    let mount = match (mount.trim().trim_matches('/'), kind) {
        ("", Some(kind)) => kind.as_str().to_string(),
        (typed, _) => typed.to_string(),
    };
    let result = respond(
        async {
            let kind = kind
                .ok_or_else(|| AppError::Invalid(format!("Unknown login method \"{method}\".")))?;
            crate::backend::backend()?
                .login(kind, mount.clone(), username.unwrap_or_default(), secret)
                .await
        }
        .await,
    );
    match &result {
        Ok(_) => leptos_axum::redirect("/"),
        Err(e) => {
            let problem = match kind {
                None => LoginProblem::UnknownMethod,
                Some(_) => LoginProblem::of(e),
            };
            // Back to the same form, which says why from a closed list of codes.
            send_a_browser_form_to(&login_href(kind, &mount, Some(problem)));
        }
    }
    result
}

/// Posted by the header's plain `<form>` (a full page load that ends on `/login`).
#[server(prefix = "/api", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    let result = respond(async move { crate::backend::backend()?.logout().await }.await);
    match &result {
        Ok(()) => leptos_axum::redirect(LOGIN),
        // The session is over either way; the form says when the token outlived it.
        Err(AppError::Unavailable(_)) => send_a_browser_form_to(&format!(
            "{LOGIN}?problem={}",
            LoginProblem::NotRevoked.code()
        )),
        Err(_) => send_a_browser_form_to(LOGIN),
    }
    result
}

/// For a plain HTML form post (the request accepts HTML), not an API call: answers `303 See
/// Other` to `path`. A failed server function would otherwise send the browser back with the
/// error's own text in the URL, under the error's status, which a browser does not follow.
#[cfg(feature = "ssr")]
fn send_a_browser_form_to(path: &str) {
    let from_a_form = use_context::<http::request::Parts>().is_some_and(|p| {
        p.headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"))
    });
    if from_a_form {
        leptos_axum::redirect(path);
        if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
            res.set_status(http::StatusCode::SEE_OTHER);
        }
    }
}

#[server(prefix = "/api", endpoint = "whoami", input = Json)]
pub async fn whoami() -> Result<Option<UserInfo>, AppError> {
    respond(async move { crate::backend::backend()?.whoami().await }.await)
}
