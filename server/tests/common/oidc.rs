//! A browser's single sign-on through Keyway, as the login page drives it: the "Sign in with"
//! form post, the provider's authorize step (its API with the user's provider token, which is
//! what its own UI sends), the callback, and the login page showing a failed sign-in's sentence.
//! The one copy of these steps, for `oidc_login.rs` and the tests that sign in along the way.

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use keyway_app::links::{OIDC_CALLBACK, OIDC_START};
use keyway_testkit::OidcProvider;
use serde_json::json;

use super::Client;

/// Keyway's callback, as `--public-url` [`super::ORIGIN`] makes it.
pub const CALLBACK: &str = "http://127.0.0.1:3999/auth/oidc/callback";

/// `req` carrying this browser's session cookie, if it has one.
pub fn with_cookie(
    req: axum::http::request::Builder,
    client: &Client<'_>,
) -> axum::http::request::Builder {
    match &client.cookie {
        Some(c) => req.header(header::COOKIE, c),
        None => req,
    }
}

/// A browser's cookie jar of one: the session cookie Keyway last set.
pub fn keep_cookie(client: &mut Client<'_>, headers: &HeaderMap) {
    if let Some(v) = headers.get(header::SET_COOKIE) {
        client.cookie = Some(v.to_str().unwrap().split(';').next().unwrap().to_string());
    }
}

/// Where an answer sends the browser (its `Location`), or "".
pub fn location(headers: &HeaderMap) -> String {
    headers
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// The `state` parameter of a provider URL.
pub fn state_of(url: &str) -> String {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

/// Posts the login page's "Sign in with" form for `mount`; returns the status and where it
/// sends the browser (the provider, through a page refreshing to it, or `/login` after a
/// failure).
pub async fn start(client: &mut Client<'_>, mount: &str) -> (StatusCode, String) {
    let req = Request::post(OIDC_START)
        .header("sec-fetch-site", "same-origin")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    let req = with_cookie(req, client)
        .body(Body::from(format!("mount={mount}")))
        .unwrap();
    let (status, headers, _) = client.send(req).await;
    keep_cookie(client, &headers);
    let to = match headers.get("refresh") {
        Some(v) => v.to_str().unwrap().trim_start_matches("0;url=").to_string(),
        None => location(&headers),
    };
    (status, to)
}

/// Starts a sign-in at `mount` and has `user` approve it at the provider: the callback query
/// (`code=…&state=…`) the provider sends the browser back with.
pub async fn approved(
    client: &mut Client<'_>,
    idp: &OidcProvider,
    mount: &str,
    user: &str,
    password: &str,
) -> String {
    let (status, auth_url) = start(client, mount).await;
    assert!(
        status == StatusCode::OK && auth_url.starts_with(&idp.bao.addr),
        "the sign-in did not start: {status} {auth_url}"
    );
    let token = idp.login(user, password).await;
    let (status, answer) = idp.authorize(&auth_url, &token).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["state"], json!(state_of(&auth_url)));
    format!(
        "code={}&state={}",
        answer["code"].as_str().unwrap(),
        answer["state"].as_str().unwrap()
    )
}

/// The browser arriving back at Keyway from the provider with `query`: the status and headers.
pub async fn callback_answer(client: &mut Client<'_>, query: &str) -> (StatusCode, HeaderMap) {
    let req = with_cookie(Request::get(format!("{OIDC_CALLBACK}?{query}")), client)
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = client.send(req).await;
    keep_cookie(client, &headers);
    (status, headers)
}

/// The browser arriving back at Keyway with `query`: where Keyway sends it (`/` signed in, or
/// `/login` with a sentence).
pub async fn callback(client: &mut Client<'_>, query: &str) -> String {
    location(&callback_answer(client, query).await.1)
}

/// The login page as this browser sees it next (a failed sign-in's sentence shows once).
pub async fn login_page(client: &Client<'_>) -> String {
    let req = with_cookie(
        Request::get("/login").header(header::ACCEPT, "text/html"),
        client,
    )
    .body(Body::empty())
    .unwrap();
    let (_, _, body) = client.send(req).await;
    body.replace("&#x27;", "'").replace("&#39;", "'")
}
