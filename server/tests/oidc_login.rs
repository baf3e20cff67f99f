//! Single sign-on through Vault, against real servers: a second OpenBao dev server is the OIDC
//! provider (`keyway_testkit::OidcProvider`), the Keyway-side OpenBao's `oidc` auth method is
//! configured against it, and each test drives Keyway's own routes the way a browser does
//! (the "Sign in with" form post, the provider's authorize step, the callback), keeping
//! Keyway's session cookie. The provider's authorize step is its API with the user's provider
//! token, which is what its own UI sends once the user logged in there.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::oidc::{approved, callback_answer, location, login_page, start, state_of, CALLBACK};
use common::{Client, TestApp};
use keyway_app::links::OIDC_START;
use keyway_testkit::OidcProvider;
use serde_json::{json, Value};

/// Keyway (seeded like the demo: `dev-editor` edits `dev`) whose OpenBao offers "Corporate SSO"
/// at `oidc/`, and a provider where alice is in `payments-devs`, which the external group
/// `payments` maps to `dev-editor`.
async fn world(extra: &[&str]) -> (TestApp, OidcProvider) {
    let app = if extra.is_empty() {
        TestApp::spawn().await
    } else {
        TestApp::spawn_with(extra).await
    };
    let idp = OidcProvider::start(CALLBACK).await;
    idp.add_user("alice", "alice-sso", &["payments-devs"]).await;
    idp.add_user("mallory", "mallory-sso", &["outsiders"]).await;
    idp.configure_relying_party(&app.bao, "oidc", "Corporate SSO", "dev", CALLBACK)
        .await;
    app.bao
        .map_external_group("payments", &["dev-editor"], "oidc", "payments-devs")
        .await;
    (app, idp)
}

#[tokio::test]
async fn a_provider_group_member_signs_in_and_edits_the_environment_her_group_maps_to() {
    let started = std::time::Instant::now();
    let (app, idp) = world(&[]).await;
    let mut browser = app.anonymous();

    // The login page offers the method by its description.
    assert!(login_page(&browser)
        .await
        .contains("Sign in with Corporate SSO"));

    let back = approved(&mut browser, &idp, "oidc", "alice", "alice-sso").await;
    let (status, headers) = callback_answer(&mut browser, &back).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location(&headers), "/", "a clean URL, no code or state");
    assert_eq!(headers["cache-control"], "no-store");

    // Her own Vault token: the external group's policy through the provider's groups claim.
    let me = browser.ok("whoami", json!({})).await;
    assert!(
        me["display_name"].as_str().unwrap().starts_with("oidc-"),
        "{me}"
    );
    let saved = browser
        .ok(
            "save",
            json!({"secret": {"mount": "dev", "path": "webapp/config"}, "base_version": 1,
                   "changes": {"set": {"feature": "on"}, "remove": [], "rename": []}}),
        )
        .await;
    assert_eq!(saved["version"], 2);
    assert_eq!(
        app.vault_read("dev", "webapp/config").await["data"]["feature"],
        "on"
    );
    let (status, _) = browser
        .call(
            "save",
            json!({"secret": {"mount": "staging", "path": "webapp/config"}, "base_version": 1,
                   "changes": {"set": {"feature": "on"}, "remove": [], "rename": []}}),
        )
        .await;
    assert!(status.is_client_error(), "staging is not hers: {status}");
    let rows = app.audit_rows().await;
    assert!(
        rows.iter()
            .any(|r| r.action == "login" && r.detail.as_deref() == Some("oidc at oidc")),
        "the login is audited like the others"
    );

    // The same answer again: used once.
    let mut replay = app.anonymous();
    replay.cookie = browser.cookie.clone();
    let (status, headers) = callback_answer(&mut replay, &back).await;
    assert_eq!(
        (status, location(&headers).as_str()),
        (StatusCode::SEE_OTHER, "/login")
    );

    // Someone outside the mapped group gets in with `default` only: no environment to edit.
    let mut other = app.anonymous();
    let back = approved(&mut other, &idp, "oidc", "mallory", "mallory-sso").await;
    callback_answer(&mut other, &back).await;
    let (status, _) = other
        .call(
            "save",
            json!({"secret": {"mount": "dev", "path": "webapp/config"}, "base_version": 2,
                   "changes": {"set": {"x": "y"}, "remove": [], "rename": []}}),
        )
        .await;
    assert!(status.is_client_error(), "{status}");
    eprintln!("full sign-in test took {:?}", started.elapsed());
}

#[tokio::test]
async fn an_expired_reused_or_unknown_sign_in_says_start_again() {
    let (app, idp) = world(&[]).await;
    const AGAIN: &str = "This sign-in expired or was already used; start again.";

    // Unknown state from a browser without a session (a crafted link, or a flood of them): to
    // the login page, nothing asked, and no session row made for a sentence.
    let mut browser = app.anonymous();
    for _ in 0..20 {
        let (_, headers) = callback_answer(&mut browser, "code=x&state=st_made_up").await;
        assert_eq!(location(&headers), "/login");
        assert!(browser.cookie.is_none(), "no session cookie");
    }
    assert!(app.session_rows().await.is_empty(), "no session rows");

    // Unknown state in a browser that started a sign-in: start again, said once.
    start(&mut browser, "oidc").await;
    callback_answer(&mut browser, "code=x&state=st_made_up").await;
    assert!(login_page(&browser).await.contains(AGAIN));
    assert!(!login_page(&browser).await.contains(AGAIN), "shown once");

    // Older than Vault keeps a state (10 minutes).
    let back = approved(&mut browser, &idp, "oidc", "alice", "alice-sso").await;
    app.state
        .sessions
        .clock
        .advance(Duration::from_secs(11 * 60));
    callback_answer(&mut browser, &back).await;
    assert!(login_page(&browser).await.contains(AGAIN));

    // Vault lost the state (used already; the same as a Vault leader change or restart).
    let back = approved(&mut browser, &idp, "oidc", "alice", "alice-sso").await;
    let vault_callback = format!("{}/v1/auth/oidc/oidc/callback?{back}", app.bao.addr);
    reqwest::get(vault_callback).await.unwrap();
    callback_answer(&mut browser, &back).await;
    assert!(login_page(&browser).await.contains(AGAIN));
    let whoami = browser.call("whoami", json!({})).await.1;
    assert_eq!(whoami, Value::Null, "not signed in");

    // Vault sealed between the provider's answer and the callback (for real): what is wrong,
    // as every page says it, and start again, since this sign-in cannot be finished any more.
    let back = approved(&mut browser, &idp, "oidc", "alice", "alice-sso").await;
    app.bao.seal().await;
    callback_answer(&mut browser, &back).await;
    let page = login_page(&browser).await;
    assert!(
        page.contains(
            ">Vault is sealed, so nothing can be read or saved. Try again once it is unsealed. \
             Start the sign-in again.<"
        ),
        "{page}"
    );
}

#[tokio::test]
async fn declined_consent_and_other_provider_errors_are_said_plainly() {
    let (app, _idp) = world(&[]).await;
    let mut browser = app.anonymous();
    let (_, auth_url) = start(&mut browser, "oidc").await;
    let state = state_of(&auth_url);
    callback_answer(&mut browser, &format!("error=access_denied&state={state}")).await;
    assert!(login_page(&browser).await.contains("You declined consent"));

    let (_, auth_url) = start(&mut browser, "oidc").await;
    let state = state_of(&auth_url);
    let long = "x".repeat(900);
    callback_answer(
        &mut browser,
        &format!("error=temporarily_unavailable&error_description=Try+later+{long}&state={state}"),
    )
    .await;
    let page = login_page(&browser).await;
    assert!(page.contains("did not sign you in (temporarily_unavailable): Try later"));
    assert!(!page.contains(&"x".repeat(300)), "the description is cut");

    // Out of bounds: a code longer than any provider's.
    let (_, auth_url) = start(&mut browser, "oidc").await;
    let code = "c".repeat(5000);
    callback_answer(
        &mut browser,
        &format!("code={code}&state={}", state_of(&auth_url)),
    )
    .await;
    assert!(login_page(&browser)
        .await
        .contains("incomplete or too long"));
}

/// A start from a browser without a session that Keyway refuses: its page (no session is made
/// to carry the sentence to the login page).
async fn refused_start(client: &Client<'_>, mount: &str) -> String {
    let req = Request::post(OIDC_START)
        .header("sec-fetch-site", "same-origin")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("mount={mount}")))
        .unwrap();
    let (status, headers, body) = client.send(req).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(headers.get(header::SET_COOKIE).is_none(), "no session");
    body
}

#[tokio::test]
async fn a_redirect_uri_the_role_does_not_allow_is_logged_not_shown() {
    let (app, idp) = world(&["--oidc-roles", "oidc=narrow"]).await;
    idp.add_role(&app.bao, "oidc", "narrow", "https://elsewhere.example/cb")
        .await;
    let browser = app.anonymous();
    // The page is anonymous: a generic sentence, the URI and role only in the log.
    let page = refused_start(&browser, "oidc").await;
    assert!(
        page.contains(
            "Single sign-on is not set up correctly for this portal; tell the platform team."
        ),
        "{page}"
    );
    assert!(
        !page.contains(CALLBACK) && !page.contains("narrow"),
        "{page}"
    );

    // A mount Vault does not list as single sign-on.
    let page = refused_start(&browser, "userpass").await;
    assert!(page.contains("That single sign-on method is not offered here."));
    assert!(app.session_rows().await.is_empty(), "no session rows");

    // From another site: refused before anything is asked.
    let req = Request::post(OIDC_START)
        .header("sec-fetch-site", "cross-site")
        .header(header::ORIGIN, "https://evil.example")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("mount=oidc"))
        .unwrap();
    let (status, _, _) = browser.send(req).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn sign_ins_count_against_the_login_limit_per_address() {
    let (app, _idp) = world(&["--login-limit-per-address", "2"]).await;
    let mut browser = app.anonymous();
    let (status, to) = start(&mut browser, "oidc").await;
    assert_eq!(status, StatusCode::OK, "{to}");
    // A made-up mount counts too, before Vault is asked which mounts it has.
    start(&mut browser, "made-up").await;
    assert!(login_page(&browser).await.contains("not offered here"));
    let (_, to) = start(&mut browser, "oidc").await;
    assert_eq!(to, "/login", "the third is not sent to the provider");
    assert!(login_page(&browser)
        .await
        .contains("Too many login attempts"));
    // Over the limit, a spray of made-up mounts is one refusal row, not one per name (the
    // repeats are counted into it).
    for n in 0..5 {
        start(&mut browser, &format!("made-up-{n}")).await;
    }
    let rows = app.audit_rows().await;
    let refused = rows
        .iter()
        .filter(|r| {
            r.action == "login_failed"
                && r.detail.as_deref()
                    == Some("oidc: too many attempts from this address, not asked")
        })
        .count();
    assert_eq!(
        refused, 1,
        "the refusal is audited like a password login's, once"
    );
}
