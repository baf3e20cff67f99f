//! Sessions end as the user expects, against real OpenBao and SQLite: background polls do not
//! keep a session alive, a session ends at its maximum lifetime and at its idle timeout with its
//! token revoked (a pasted token is kept), logout cannot be undone by a request in flight, and the
//! database holds no session id a browser could present. Time moves through the app's session
//! clock (`SessionRules::clock`), never by sleeping.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use common::{Client, DbKind, TestApp, ORIGIN};
use keyway_server::sessions::{sweep, USER_KEY};
use serde_json::{json, Value};

/// The token accessors OpenBao holds: one per live token.
async fn live_tokens(app: &TestApp) -> usize {
    let listed = app
        .bao
        .root_request("LIST", "auth/token/accessors", None)
        .await;
    listed["data"]["keys"].as_array().map_or(0, Vec::len)
}

async fn token_lookup(app: &TestApp, token: &str) -> Value {
    app.bao
        .root_request("POST", "auth/token/lookup", Some(json!({ "token": token })))
        .await
}

/// Calls an endpoint with the client's cookie; returns the status, headers and body, without
/// taking a new cookie.
async fn raw_call(c: &Client<'_>, endpoint: &str, args: Value) -> (StatusCode, HeaderMap, Value) {
    let mut req = Request::post(format!("/api/{endpoint}"))
        .header(header::ORIGIN, ORIGIN)
        .header(header::ACCEPT, "application/json")
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(cookie) = &c.cookie {
        req = req.header(header::COOKIE, cookie);
    }
    let (status, headers, body) = c
        .send(req.body(Body::from(args.to_string())).unwrap())
        .await;
    (
        status,
        headers,
        serde_json::from_str(&body).unwrap_or(Value::String(body)),
    )
}

/// One run of the session sweeper (it runs every minute in Keyway), by the app's clock.
async fn sweep_now(app: &TestApp) -> usize {
    sweep(
        &app.state.store,
        &app.state.core,
        &app.state.sealer,
        &app.state.sessions,
    )
    .await
}

fn status_args(background: bool) -> Value {
    json!({"secret": {"mount": "dev", "path": "webapp/config"}, "background": background})
}

#[tokio::test]
async fn background_polls_neither_slide_the_idle_expiry_nor_renew_the_token() {
    let app = &TestApp::spawn().await;
    let token = app
        .create_token(json!({"policies": ["dev-editor"], "ttl": "1h"}))
        .await;
    let mut c = app.anonymous();
    let (status, body) = c
        .login_with(&format!("method=token&mount=token&secret={token}"))
        .await;
    assert!(
        status.is_redirection() || status.is_success(),
        "{status} {body}"
    );
    let before = app.session_rows().await;
    // 40 minutes on: past the minute after which a request slides the expiry, and past half the
    // token's TTL, after which a request renews it.
    app.state
        .sessions
        .clock
        .advance(Duration::from_secs(40 * 60));
    for _ in 0..3 {
        let (status, headers, body) = raw_call(&c, "cluster_status", status_args(true)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(
            headers.get(header::SET_COOKIE).is_none(),
            "a background poll must not extend the cookie"
        );
    }
    assert_eq!(
        app.session_rows().await,
        before,
        "a background poll must not slide the row's expiry"
    );
    let looked = token_lookup(app, &token).await;
    assert!(
        looked["data"]["last_renewal_time"].as_i64().unwrap_or(0) == 0,
        "a background poll renewed the token: {looked}"
    );
    // The same call made by the user is activity: it slides the session and renews the token.
    let (status, headers, body) = raw_call(&c, "cluster_status", status_args(false)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        headers.get(header::SET_COOKIE).is_some(),
        "slid: a new cookie"
    );
    assert_ne!(app.session_rows().await, before, "slid: a later expiry");
    let looked = token_lookup(app, &token).await;
    assert!(
        looked["data"]["last_renewal_time"].as_i64().unwrap_or(0) > 0,
        "the user's request renews the token: {looked}"
    );
}

#[tokio::test]
async fn a_background_poll_fails_once_the_session_timed_out() {
    idle_session_swept(&TestApp::spawn().await).await;
}

async fn idle_session_swept(app: &TestApp) {
    let c = app.login("alice", "alice-pass").await;
    let tokens = live_tokens(app).await;
    app.state
        .sessions
        .clock
        .advance(Duration::from_secs(31 * 60));
    let ended = sweep_now(app).await;
    assert_eq!(ended, 1, "the idle session is swept");
    assert_eq!(
        live_tokens(app).await,
        tokens - 1,
        "the swept session's token is revoked"
    );
    let (status, _, body) = raw_call(&c, "cluster_status", status_args(true)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let row = app.audit_rows().await.pop().unwrap();
    assert_eq!(row.actor_name, "userpass-alice");
    assert!(
        format!("{row:?}").contains("session timed out (idle)"),
        "{row:?}"
    );
}

#[tokio::test]
async fn a_session_ends_at_its_maximum_lifetime_and_its_token_is_revoked() {
    let app = &TestApp::spawn().await;
    let mut c = app.login("alice", "alice-pass").await;
    let tokens = live_tokens(app).await;
    // Eleven hours of steady use keep it (each request slides the idle expiry)…
    for _ in 0..11 {
        app.state.sessions.clock.advance(Duration::from_secs(3600));
        let who = c.ok("whoami", json!({})).await;
        assert_eq!(who["display_name"], "userpass-alice", "{who}");
    }
    // …but twelve hours after login it is over, however active.
    app.state.sessions.clock.advance(Duration::from_secs(3600));
    let (status, _, body) = raw_call(&c, "cluster_status", status_args(false)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(live_tokens(app).await, tokens - 1, "its token is revoked");
    assert!(app.session_rows().await.is_empty(), "its row is gone");
    let row = app.audit_rows().await.pop().unwrap();
    assert!(format!("{row:?}").contains("maximum lifetime"), "{row:?}");
}

#[tokio::test]
async fn a_pasted_token_is_not_revoked_by_logout_or_timeout() {
    let app = &TestApp::spawn().await;
    let token = app
        .create_token(json!({"policies": ["dev-editor"], "ttl": "24h"}))
        .await;
    let form = format!("method=token&mount=token&secret={token}");
    let mut c = app.anonymous();
    c.login_with(&form).await;
    c.ok("logout", json!({})).await;
    assert!(
        token_lookup(app, &token).await["data"]["id"] == token.as_str(),
        "logout revoked a pasted token"
    );
    let mut c = app.anonymous();
    c.login_with(&form).await;
    app.state
        .sessions
        .clock
        .advance(Duration::from_secs(31 * 60));
    let swept = sweep_now(app).await;
    assert_eq!(swept, 1);
    assert!(
        token_lookup(app, &token).await["data"]["id"] == token.as_str(),
        "a timeout revoked a pasted token"
    );
    let row = app.audit_rows().await.pop().unwrap();
    assert!(format!("{row:?}").contains("pasted token kept"), "{row:?}");
}

#[tokio::test]
async fn a_session_swept_by_two_replicas_at_once_ends_once() {
    let one = &TestApp::spawn().await;
    let two = &one.another_replica().await;
    let _alice = one.login("alice", "alice-pass").await;
    for app in [one, two] {
        app.state
            .sessions
            .clock
            .advance(Duration::from_secs(31 * 60));
    }
    let (a, b) = tokio::join!(sweep_now(one), sweep_now(two));
    assert_eq!(a + b, 1, "one replica ended it");
    let ends: Vec<String> = one
        .audit_rows()
        .await
        .iter()
        // The outcome rows (each end is an intent row, then its outcome).
        .filter(|r| r.action == "logout" && r.outcome != keyway_store::Outcome::Pending)
        .map(|r| format!("{:?}", r.detail))
        .collect();
    assert_eq!(
        ends.len(),
        1,
        "one end-of-session row, not one per replica: {ends:?}"
    );
}

#[tokio::test]
async fn a_request_in_flight_cannot_bring_a_session_back_after_logout() {
    in_flight_after_logout(&TestApp::spawn().await).await;
}

async fn in_flight_after_logout(app: &TestApp) {
    use tower_sessions::{Expiry, Session};
    let mut c = app.login("alice", "alice-pass").await;
    let cookie = c.cookie.clone().unwrap();
    let id: tower_sessions::session::Id = cookie.split_once('=').unwrap().1.parse().unwrap();
    // A request that loaded the session before the logout and saves it after (as tower-sessions
    // does at the end of a response that modified the session).
    let in_flight = Session::new(
        Some(id),
        std::sync::Arc::new(app.state.store.clone()),
        Some(Expiry::OnInactivity(time::Duration::minutes(30))),
    );
    let mut user: Value = in_flight.get(USER_KEY).await.unwrap().unwrap();
    c.ok("logout", json!({})).await;
    user["last_seen"] = json!(user["last_seen"].as_i64().unwrap() + 60);
    in_flight.insert(USER_KEY, &user).await.unwrap();
    in_flight.save().await.unwrap();
    assert!(app.session_rows().await.is_empty(), "the session came back");
    let mut old = app.anonymous();
    old.cookie = Some(cookie);
    let (status, _, body) = raw_call(&old, "cluster_status", status_args(false)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

#[tokio::test]
async fn the_database_holds_no_session_id_a_browser_could_present() {
    no_presentable_id(&TestApp::spawn().await).await;
}

async fn no_presentable_id(app: &TestApp) {
    let c = app.login("alice", "alice-pass").await;
    let cookie = c.cookie.clone().unwrap();
    let (name, value) = cookie.split_once('=').unwrap();
    let rows = app.session_rows().await;
    assert_eq!(rows.len(), 1);
    assert_ne!(rows[0].0, value, "the row's id is the cookie's value");
    let (status, _, _) = raw_call(&c, "cluster_status", status_args(false)).await;
    assert_eq!(status, StatusCode::OK, "the real cookie works");
    let mut thief = app.anonymous();
    thief.cookie = Some(format!("{name}={}", rows[0].0));
    let (status, _, body) = raw_call(&thief, "cluster_status", status_args(false)).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "an id read from the database opened a session: {body}"
    );
}

/// The store's own queries (hashed ids, update-only save, the sweep) on PostgreSQL, each on a
/// fresh database.
#[tokio::test]
async fn the_session_store_rules_hold_on_postgres() {
    let test = "the_session_store_rules_hold_on_postgres";
    for case in 0..3 {
        let Some(db) = keyway_testkit::TempDatabase::create_or_skip(test).await else {
            return;
        };
        let app = TestApp::spawn_on(DbKind::Postgres(db)).await;
        match case {
            0 => no_presentable_id(&app).await,
            1 => in_flight_after_logout(&app).await,
            _ => idle_session_swept(&app).await,
        }
    }
}

#[tokio::test]
async fn a_logout_whose_token_vault_did_not_revoke_says_so() {
    let app = &TestApp::spawn().await;
    let mut c = app.login("alice", "alice-pass").await;
    let cookie = c.cookie.clone();
    // A sealed OpenBao refuses the revoke, as one that cannot be reached would.
    app.bao.root_request("PUT", "sys/seal", None).await;
    let (status, body) = c.call("logout", json!({})).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(
        body.to_string().contains("stays valid until it expires"),
        "{body}"
    );
    assert!(
        app.session_rows().await.is_empty(),
        "logged out all the same"
    );
    let row = app.audit_rows().await.pop().unwrap();
    assert_eq!(row.outcome, keyway_store::Outcome::Error, "{row:?}");
    let mut old = app.anonymous();
    old.cookie = cookie;
    let (status, _, _) = raw_call(&old, "cluster_status", status_args(false)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The header's logout form lands on the login page, which names the problem by its code.
    let app = &TestApp::spawn().await;
    let c = app.login("alice", "alice-pass").await;
    app.bao.root_request("PUT", "sys/seal", None).await;
    let form = Request::post("/api/logout")
        .header(header::ORIGIN, ORIGIN)
        .header(header::ACCEPT, "text/html")
        .header(header::COOKIE, c.cookie.clone().unwrap())
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = c.send(form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/login?problem=not-revoked");
}
