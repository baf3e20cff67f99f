//! What every answer tells the browser: the security headers (the same-origin guard's refusal
//! included), HSTS when Keyway is served over https, and a session cookie that only this host
//! over https can set or read (`__Host-`, Secure, Path=/, no Domain) outside dev mode.

mod common;

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use common::TestApp;

fn assert_security_headers(h: &HeaderMap, what: &str) {
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("cache-control", "no-store"),
        ("referrer-policy", "same-origin"),
    ] {
        assert_eq!(
            h.get(name).and_then(|v| v.to_str().ok()),
            Some(value),
            "{what}: {name}"
        );
    }
    assert!(
        h.get("content-security-policy").is_some(),
        "{what}: content-security-policy"
    );
}

#[tokio::test]
async fn the_guards_refusal_carries_the_security_headers() {
    let app = TestApp::spawn_with(&[]).await;
    let forged = Request::post("/api/whoami")
        .header(header::ORIGIN, "https://evil.example")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{}"))
        .unwrap();
    let (status, headers, body) = app.anonymous().send(forged).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_security_headers(&headers, "the refusal");
    assert!(
        headers.get("strict-transport-security").is_none(),
        "no HSTS over plain http"
    );
}

#[tokio::test]
async fn over_https_every_answer_carries_hsts_and_the_cookie_is_host_only() {
    let app = TestApp::spawn_with(&["--public-url", "https://keyway.test"]).await;
    let get = |path: &str| Request::get(path).body(Body::empty()).unwrap();
    let client = app.anonymous();
    for path in ["/healthz", "/login", "/pkg/missing.js"] {
        let (_, headers, _) = client.send(get(path)).await;
        assert_eq!(
            headers
                .get("strict-transport-security")
                .and_then(|v| v.to_str().ok()),
            Some("max-age=31536000"),
            "{path}"
        );
    }
    let forged = Request::post("/api/whoami")
        .header(header::ORIGIN, "https://evil.example")
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = client.send(forged).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(headers.get("strict-transport-security").is_some());
    assert_security_headers(&headers, "the refusal over https");

    // A login (a token pasted: this OpenBao has no userpass) sets the `__Host-` cookie.
    let login = Request::post("/api/login")
        .header(header::ORIGIN, "https://keyway.test")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!(
            "method=token&mount=token&secret={}",
            app.bao.root_token
        )))
        .unwrap();
    let (status, headers, body) = client.send(login).await;
    assert!(
        status.is_redirection() || status.is_success(),
        "{status} {body}"
    );
    let cookie = headers[header::SET_COOKIE].to_str().unwrap();
    let attrs: Vec<&str> = cookie.split(';').map(str::trim).collect();
    assert!(attrs[0].starts_with("__Host-keyway_session="), "{cookie}");
    for wanted in ["Secure", "HttpOnly", "Path=/"] {
        assert!(attrs.contains(&wanted), "{cookie} lacks {wanted}");
    }
    assert!(
        !attrs.iter().any(|a| a.starts_with("Domain")),
        "{cookie} names a domain"
    );
}
