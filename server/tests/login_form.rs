//! The login form as a browser posts it: a same-origin post logs in and a forged one is
//! refused; a failed attempt goes back to the form with a code from a closed list, never with
//! text from the URL; a script calling the API gets the status instead.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::TestApp;

#[tokio::test]
async fn the_login_form_post_is_accepted_but_a_forged_one_is_not() {
    let app = TestApp::spawn().await;
    let form = "method=userpass&mount=userpass&username=alice&secret=alice-pass";
    // A same-origin form post as a browser may send it (`Origin: null` where the referrer policy
    // withholds the origin), with `Sec-Fetch-Site: same-origin`, which pages cannot set.
    let post = |site: &str| {
        Request::post("/api/login")
            .header(header::ORIGIN, "null")
            .header("sec-fetch-site", site)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form))
            .unwrap()
    };
    let client = app.anonymous();
    let (status, headers, _) = client.send(post("same-origin")).await;
    assert!(status.is_redirection() || status.is_success(), "{status}");
    assert!(headers.get(header::SET_COOKIE).is_some(), "logged in");
    let (status, _, _) = client.send(post("cross-site")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let bare = Request::post("/api/login")
        .header(header::ORIGIN, "null")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form))
        .unwrap();
    let (status, _, _) = client.send(bare).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "an opaque origin without fetch metadata is refused"
    );
}

#[tokio::test]
async fn a_failed_form_login_goes_back_to_the_form_with_a_code_never_the_text() {
    let app = TestApp::spawn().await;
    let post = |form: &'static str, accept: &'static str| {
        Request::post("/api/login")
            .header(header::ORIGIN, common::ORIGIN)
            .header(header::ACCEPT, accept)
            .header(header::REFERER, format!("{}/login", common::ORIGIN))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form))
            .unwrap()
    };
    let client = app.anonymous();
    let browser = "text/html,application/xhtml+xml,*/*;q=0.8";
    let (status, headers, _) = client
        .send(post(
            "method=userpass&mount=userpass&username=alice&secret=wrong",
            browser,
        ))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "a browser follows it");
    assert_eq!(
        headers[header::LOCATION],
        "/login?method=userpass&mount=userpass&problem=bad-credentials"
    );
    assert!(headers.get(header::SET_COOKIE).is_none());
    let (status, headers, _) = client
        .send(post(
            "method=nonsense&mount=ldap%2Fcorp&username=alice&secret=x",
            browser,
        ))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers[header::LOCATION],
        "/login?mount=ldap%2Fcorp&problem=unknown-method"
    );
    // A script calling the API gets the status and JSON, no redirect.
    let (status, headers, body) = client
        .send(post(
            "method=userpass&mount=userpass&username=alice&secret=wrong",
            "application/json",
        ))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(headers.get(header::LOCATION).is_none(), "{headers:?}");
    // The form says only what a code stands for: text in the URL is never shown.
    let page = |uri: &'static str| client.send(Request::get(uri).body(Body::empty()).unwrap());
    // `__err` is what server_fn itself would put in the URL (an AppError, base64).
    let (status, _, page_text) = page(
        "/login?mount=userpass&problem=bad-credentials&__path=/api/login&__err=eyJEZW5pZWQiOiJLZXl3YXkgaGFzIG1vdmVkIn0=",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page_text.contains("Those credentials were not accepted")
            && page_text.contains(r#"data-testid="login-form""#)
            && !page_text.contains("Keyway has moved"),
        "{page_text}"
    );
    let (_, _, page) = page("/login?problem=Keyway%20has%20moved").await;
    assert!(
        !page.contains("Keyway has moved") && !page.contains(r#"role="alert""#),
        "{page}"
    );
}
