//! Keyway under a hostile client, at the API: bounded input, plain answers to malformed
//! requests, rate limits, and refusals that cannot flood the audit log (issue 9, points 1–2).
//! Real OpenBao, real SQLite, Keyway's real router.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{Client, TestApp, ORIGIN};
use keyway_store::Outcome;
use serde_json::{json, Value};

fn secret(mount: &str, path: &str) -> Value {
    json!({"mount": mount, "path": path})
}

fn reveal_args(mount: &str, path: &str) -> Value {
    json!({"secret": secret(mount, path), "version": 1, "keys": [], "purpose": "Show"})
}

/// Posts `body` as it is to `/api/<endpoint>`, with the client's session.
async fn post_raw(
    c: &Client<'_>,
    endpoint: &str,
    body: impl Into<Body>,
    content_length: Option<usize>,
) -> (StatusCode, String) {
    let mut req = Request::post(format!("/api/{endpoint}"))
        .header(header::ORIGIN, ORIGIN)
        .header(header::ACCEPT, "application/json")
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(cookie) = &c.cookie {
        req = req.header(header::COOKIE, cookie);
    }
    if let Some(n) = content_length {
        req = req.header(header::CONTENT_LENGTH, n);
    }
    let (status, _, body) = c.send(req.body(body.into()).unwrap()).await;
    (status, body)
}

/// The audit rows but logins.
async fn rows_but_logins(app: &TestApp) -> Vec<keyway_store::Row> {
    app.audit_rows()
        .await
        .into_iter()
        .filter(|r| r.action != "login")
        .collect()
}

#[tokio::test]
async fn a_malformed_request_is_a_400_with_a_plain_sentence_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let alice = app.login("alice", "alice-pass").await;
    let cases = [
        ("reveal", "{".to_string(), "invalid JSON"),
        ("reveal", "{}".to_string(), "a missing field"),
        (
            "reveal",
            r#"{"secret":{"mount":"dev","path":"webapp/config"},"version":"one","keys":[],"purpose":"Show"}"#.to_string(),
            "a wrong type",
        ),
        ("save", r#"{"secret":1}"#.to_string(), "a wrong type"),
    ];
    for (endpoint, body, what) in cases {
        let (status, text) = post_raw(&alice, endpoint, body, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {text}");
        let e: keyway_app::error::AppError = serde_json::from_str(&text).unwrap();
        let said = e.to_string();
        assert!(
            said.starts_with("Keyway could not read this request"),
            "{what}: {said}"
        );
        assert!(
            !text.contains("deserializ") && !text.contains("line 1"),
            "{what}: {text}"
        );
    }
    assert!(rows_but_logins(&app).await.is_empty());
}

#[tokio::test]
async fn a_body_over_1_mib_is_refused_whether_announced_or_not_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let mut alice = app.login("alice", "alice-pass").await;
    let big = format!(
        r#"{{"secret":{{"mount":"dev","path":"{}"}},"version":1,"keys":[],"purpose":"Show"}}"#,
        "a".repeat(2 << 20)
    );
    // Announced: refused before a byte of it is read.
    let (status, text) = post_raw(&alice, "reveal", big.clone(), Some(big.len())).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{text}");
    assert!(
        text.contains("larger than Keyway accepts (at most 1024 KiB)"),
        "{text}"
    );
    // Not announced (a streamed body): cut at the limit, the same answer.
    let (status, text) = post_raw(&alice, "reveal", big, None).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{text}");
    // Just under the limit still reaches the rules, which refuse the path by its length.
    let path = "a".repeat(900 * 1024);
    let (status, body) = alice.call("reveal", reveal_args("dev", &path)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["Invalid"],
        "The secret path is 921600 bytes long; at most 512 are allowed."
    );
    assert!(rows_but_logins(&app).await.is_empty());
}

#[tokio::test]
async fn every_field_is_bounded_before_vault_or_the_audit_log_is_asked() {
    let app = TestApp::spawn().await;
    let mut alice = app.login("alice", "alice-pass").await;
    let many: Vec<String> = (0..501).map(|i| format!("K{i}")).collect();
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "reveal",
            reveal_args(&"m".repeat(129), "webapp/config"),
            "The mount name is 129 bytes long; at most 128 are allowed.",
        ),
        (
            "reveal",
            json!({"secret": secret("dev", "webapp/config"), "version": 1, "keys": many, "purpose": "Show"}),
            "The request names 501 keys; at most 500 are allowed.",
        ),
        (
            "reveal",
            json!({"secret": secret("dev", "webapp/config"), "version": 1, "keys": ["k".repeat(1025)], "purpose": "Show"}),
            "The key name is 1025 characters long; at most 1024 are allowed.",
        ),
        (
            "save",
            json!({"secret": secret("dev", "webapp/config"), "base_version": 1,
                   "changes": {"set": {}, "remove": many, "rename": []}}),
            "Your draft changes 501 keys; at most 500 are allowed.",
        ),
        (
            "undelete",
            json!({"secret": secret("dev", "webapp/config"), "version": 0}),
            "Name the version to undelete.",
        ),
    ];
    for (endpoint, args, said) in cases {
        let (status, body) = alice.call(endpoint, args).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{endpoint}: {body}"
        );
        assert_eq!(body["Invalid"], said, "{endpoint}");
    }
    // The login form's fields too, before Vault is asked.
    let (status, body) = app
        .anonymous()
        .login_with(&format!(
            "method=userpass&mount=userpass&username={}&secret=x",
            "u".repeat(300)
        ))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body.contains("The username is 300 characters long"),
        "{body}"
    );
    assert!(
        rows_but_logins(&app).await.is_empty(),
        "validation alone writes no row"
    );
}

#[tokio::test]
async fn a_user_who_may_not_write_gets_one_refusal_row_and_no_intent_before_vault_is_asked() {
    let app = TestApp::spawn().await;
    let mut carol = app.login("carol", "carol-pass").await;
    let save = |base: u64, path: &str| {
        json!({"secret": secret("dev", path), "base_version": base,
               "changes": {"set": {"password": "x"}, "remove": [], "rename": []}})
    };
    for _ in 0..3 {
        let (status, body) = carol.call("save", save(1, "webapp/config")).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        let (status, body) = carol.call("save", save(0, "brand/new")).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        let (status, body) = carol
            .call(
                "undelete",
                json!({"secret": secret("dev", "webapp/config"), "version": 1}),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    }
    let rows = rows_but_logins(&app).await;
    assert!(
        rows.iter()
            .all(|r| r.outcome == Outcome::Denied && r.intent_seq.is_none()),
        "no intent or outcome rows: {rows:?}"
    );
    let kinds: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r.action.as_str(), r.path.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("secret.save", "webapp/config"),
            ("secret.save", "brand/new"),
            ("secret.undelete", "webapp/config")
        ],
        "one row per kind of refusal; its repeats are counted when the minute ends"
    );
    app.state.core.flush_refusals(true).await;
    let counted: Vec<String> = rows_but_logins(&app)
        .await
        .into_iter()
        .skip(3)
        .filter_map(|r| r.detail)
        .collect();
    assert_eq!(counted.len(), 3, "{counted:?}");
    assert!(
        counted
            .iter()
            .all(|d| d.contains("(and 2 more times in the minute from ")),
        "{counted:?}"
    );
    assert_eq!(
        app.vault_read("dev", "webapp/config").await["metadata"]["version"],
        1
    );
}

#[tokio::test]
async fn a_thousand_refused_requests_write_a_handful_of_rows_and_turn_into_429s() {
    let app = TestApp::spawn().await;
    let mut alice = app.login("alice", "alice-pass").await;
    let (mut denied, mut too_many) = (0, 0);
    for i in 0..1000 {
        // alice (dev only) tries staging, varying the path so no two requests are alike.
        let (status, body) = alice
            .call(
                "reveal",
                reveal_args("staging", &format!("webapp/{}", i % 50)),
            )
            .await;
        match status {
            StatusCode::FORBIDDEN => denied += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                too_many += 1;
                assert!(
                    body["TooMany"].as_str().unwrap().contains("pauses yours"),
                    "{body}"
                );
            }
            other => panic!("request {i}: {other} {body}"),
        }
    }
    assert!(
        denied >= 30 && too_many >= 900,
        "{denied} refused, {too_many} paused"
    );
    app.state.core.flush_refusals(true).await;
    let rows = rows_but_logins(&app).await;
    assert!(rows.len() <= 52, "{} rows for 1,000 refusals", rows.len());
    assert!(rows
        .iter()
        .all(|r| r.outcome == Outcome::Denied && r.action == "secret.reveal"));
    println!(
        "1,000 refused requests: {denied} answered 403, {too_many} 429, {} audit rows",
        rows.len()
    );
    // alice's own work is not paused: the limit counts refusals, not requests.
    let (status, body) = alice
        .call("reveal", reveal_args("dev", "webapp/config"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn login_attempts_per_username_stop_before_vault_would_lock_the_user_out() {
    let app = TestApp::spawn().await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(app.anonymous().login("bob", "wrong").await.0);
    }
    assert_eq!(
        statuses,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    let (_, body) = app.anonymous().login("bob", "bob-pass").await;
    assert!(
        body.contains("Too many login attempts for this username"),
        "{body}"
    );
    // Vault itself still lets bob in: three failures are under its lockout of five.
    let direct = app
        .bao
        .root_request(
            "POST",
            "auth/userpass/login/bob",
            Some(json!({"password": "bob-pass"})),
        )
        .await;
    assert!(direct["auth"]["client_token"].is_string(), "{direct}");
    // Failed logins do not flood the log: one row a kind, the repeats counted.
    app.state.core.flush_refusals(true).await;
    let failed: Vec<_> = app
        .audit_rows()
        .await
        .into_iter()
        .filter(|r| r.action == "login_failed")
        .collect();
    assert!(failed.len() <= 4, "{failed:?}");
}

#[tokio::test]
async fn login_attempts_from_one_address_are_limited_whatever_the_usernames() {
    let app = TestApp::spawn().await;
    let mut first_refused = None;
    let began = std::time::Instant::now();
    for i in 0..25 {
        let (status, body) = app.anonymous().login(&format!("user{i}"), "x").await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert!(body.contains("from your address"), "{body}");
            first_refused = Some(i);
            break;
        }
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    }
    // 20 a minute: the 21st attempt is refused, unless the attempts took long enough for the
    // limit to give one back (one each 3 s; a loaded machine's Vault answers slowly).
    let given_back = (began.elapsed().as_secs_f64() / 3.0) as usize;
    assert!(
        first_refused.is_some_and(|i| (20..=20 + given_back).contains(&i)),
        "KEYWAY_LOGIN_LIMIT_PER_ADDRESS defaults to 20: first refused {first_refused:?} after {:?}",
        began.elapsed()
    );
    // Spraying on: each made-up name is over the address's limit, and all of them together are
    // one row of the minute (its repeats counted), not one row per name.
    let rows = app.audit_rows().await.len();
    for i in 25..75 {
        let (status, _) = app.anonymous().login(&format!("user{i}"), "x").await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    }
    assert_eq!(
        app.audit_rows().await.len(),
        rows,
        "the throttled spray added no row until its minute is counted"
    );
}

#[tokio::test]
async fn the_login_form_says_too_many_attempts_in_a_fixed_sentence() {
    let app = TestApp::spawn().await;
    let client = app.anonymous();
    let post = || {
        Request::post("/api/login")
            .header(header::ORIGIN, ORIGIN)
            .header(header::ACCEPT, "text/html,*/*;q=0.8")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(
                "method=userpass&mount=userpass&username=bob&secret=wrong",
            ))
            .unwrap()
    };
    let mut locations = Vec::new();
    for _ in 0..4 {
        let (status, headers, _) = client.send(post()).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        locations.push(headers[header::LOCATION].to_str().unwrap().to_string());
    }
    assert_eq!(
        locations[3],
        "/login?method=userpass&mount=userpass&problem=too-many"
    );
    let (_, _, page) = client
        .send(Request::get(&locations[3]).body(Body::empty()).unwrap())
        .await;
    assert!(
        page.contains("Too many login attempts. Wait a few minutes, then try again."),
        "{page}"
    );
}
