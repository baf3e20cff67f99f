//! Operating Keyway (issue 12, part 5), against a real OpenBao and real SQLite:
//! - `/metrics` on its own listener, after a login, a save and a conflict: the names and labels
//!   Prometheus alerts on, and no user name, secret path, key or value anywhere in it;
//! - `/readyz` 503 with the reason while Vault is sealed, 200 again once it is unsealed; a flood
//!   of `/readyz` asks Vault once (its answer is kept 2 s);
//! - `/readyz` answers 503 within its bound while Vault accepts connections and never answers;
//! - SIGTERM to the real binary while a save waits on Vault (`operations/shutdown.rs`).

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use common::{sample, TestApp};
use serde_json::{json, Value};

fn save(path: &str, base: u64, set: Value) -> Value {
    json!({"secret": {"mount": "dev", "path": path}, "base_version": base,
           "changes": {"set": set, "remove": [], "rename": []}})
}

#[tokio::test]
async fn metrics_count_a_login_a_save_and_a_conflict_and_name_no_user_path_or_key() {
    let app = TestApp::spawn().await;
    let mut alice = app.login("alice", "alice-pass").await;
    let secret = "webapp/config";
    let saved = alice
        .ok("save", save(secret, 1, json!({"ZEBRA_MARKER_KEY": "v1"})))
        .await;
    assert_eq!(saved["version"], 2);
    let (status, body) = alice
        .call("save", save(secret, 1, json!({"ZEBRA_MARKER_KEY": "v2"})))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, _) = alice.call("no_such_function_path_x9", json!({})).await;
    assert!(status.is_client_error());

    let text = app.scrape().await;
    assert!(
        text.ends_with("# EOF\n"),
        "OpenMetrics text ends with # EOF"
    );
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        text.contains(&format!(
            "keyway_build_info{{version=\"{version}\",revision=\""
        )),
        "{text}"
    );
    let expect = |series: &str, want: f64| {
        assert_eq!(sample(&text, series), Some(want), "{series} in:\n{text}");
    };
    expect(
        "keyway_vault_requests_total{operation=\"login\",outcome=\"ok\"}",
        1.0,
    );
    expect(
        "keyway_vault_requests_total{operation=\"kv_write\",outcome=\"ok\"}",
        1.0,
    );
    expect(
        "keyway_vault_requests_total{operation=\"kv_write\",outcome=\"conflict\"}",
        1.0,
    );
    expect("keyway_secret_writes_total{outcome=\"ok\"}", 1.0);
    expect("keyway_secret_writes_total{outcome=\"conflict\"}", 1.0);
    expect(
        "keyway_http_requests_total{route=\"/api/save\",method=\"POST\",status_class=\"2xx\"}",
        1.0,
    );
    expect(
        "keyway_http_requests_total{route=\"/api/save\",method=\"POST\",status_class=\"4xx\"}",
        1.0,
    );
    expect(
        "keyway_http_requests_total{route=\"other\",method=\"POST\",status_class=\"4xx\"}",
        1.0,
    );
    assert!(
        sample(
            &text,
            "keyway_http_request_duration_seconds_count{route=\"/api/save\"}"
        ) == Some(2.0),
        "{text}"
    );
    assert!(
        sample(
            &text,
            "keyway_vault_request_duration_seconds_count{operation=\"kv_write\"}"
        ) == Some(2.0)
    );
    expect("keyway_sessions_active", 1.0);
    // login (1 row), two saves (intent + outcome each).
    let rows = app.audit_rows().await.len() as f64;
    expect("keyway_audit_appends_total", rows);
    assert!(rows >= 5.0, "{rows}");
    // No checkpoints configured: no age to report, rather than a made-up one.
    assert!(
        !text.contains("keyway_audit_checkpoint_age_seconds "),
        "{text}"
    );
    for type_line in [
        "# TYPE keyway_http_requests counter",
        "# TYPE keyway_http_request_duration_seconds histogram",
        "# UNIT keyway_http_request_duration_seconds seconds",
        "# TYPE keyway_vault_up gauge",
        "# TYPE keyway_restart_duration_seconds histogram",
        "# TYPE keyway_sessions_active gauge",
        "# TYPE keyway_audit_appends counter",
    ] {
        assert!(text.contains(type_line), "{type_line} in:\n{text}");
    }
    // Nobody and nothing named: not the user, the secret's path, a key, a value, a token.
    for private in [
        "alice",
        "userpass-alice",
        "webapp",
        "config",
        "ZEBRA_MARKER_KEY",
        "static-password",
        "no_such_function_path_x9",
        &app.bao.root_token,
    ] {
        assert!(!text.contains(private), "{private} appears in:\n{text}");
    }
}

#[tokio::test]
async fn readyz_says_why_while_vault_is_sealed_and_recovers_when_it_is_unsealed() {
    let app = TestApp::spawn().await;
    let (status, body) = app.get("/readyz").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ready\n"));
    let (status, body) = app.get("/healthz").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ok"));

    app.bao.seal().await;
    // The last check's answer is kept 2 s (`ready::PROBE_EVERY`): poll until it is the sealed one.
    let body = keyway_testkit::eventually(
        "readyz answers 503 once Vault is sealed",
        Duration::from_secs(30),
        async || {
            let (status, body) = app.get("/readyz").await;
            (status == StatusCode::SERVICE_UNAVAILABLE).then_some(body)
        },
    )
    .await;
    assert_eq!(body, "not ready:\nVault: Vault is sealed.\n");
    // Alive all the same: a sealed Vault is no reason to restart Keyway.
    assert_eq!(app.get("/healthz").await.0, StatusCode::OK);
    let text = app.scrape().await;
    assert_eq!(sample(&text, "keyway_vault_up"), Some(0.0), "{text}");

    app.bao.unseal().await;
    let ready = keyway_testkit::eventually(
        "readyz answers 200 after the unseal",
        Duration::from_secs(30),
        async || {
            let (status, body) = app.get("/readyz").await;
            (status == StatusCode::OK).then_some(body)
        },
    )
    .await;
    assert_eq!(ready, "ready\n");
    let text = app.scrape().await;
    assert_eq!(sample(&text, "keyway_vault_up"), Some(1.0), "{text}");
    assert!(
        sample(
            &text,
            "keyway_vault_requests_total{operation=\"health\",outcome=\"sealed\"}"
        ) >= Some(1.0),
        "{text}"
    );
}

/// Vault health calls so far, whatever their outcome.
fn health_calls(text: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with("keyway_vault_requests_total{operation=\"health\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test]
async fn a_flood_of_readyz_asks_vault_once() {
    let app = TestApp::spawn().await;
    let before = health_calls(&app.scrape().await);
    let answers = futures::future::join_all((0..50).map(|_| app.get("/readyz"))).await;
    assert!(answers
        .iter()
        .all(|(s, b)| *s == StatusCode::OK && b == "ready\n"));
    let after = health_calls(&app.scrape().await);
    // One for the flood; at most one more from the background probe (every 15 s).
    assert!(
        after - before >= 1.0 && after - before <= 2.0,
        "{before} -> {after}"
    );
}

#[path = "operations/shutdown.rs"]
mod shutdown;

#[tokio::test]
async fn readyz_answers_within_its_bound_while_vault_hangs() {
    // A test double: a real Vault cannot be made to accept a connection and never answer.
    let hung = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = format!("http://{}", hung.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((conn, _)) = hung.accept().await {
            held.push(conn);
        }
    });
    let app = TestApp::spawn_with(&["--vault-addr", &addr]).await;
    let asked = std::time::Instant::now();
    let (status, body) = app.get("/readyz").await;
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "{:?}: the kubelet would time out first",
        asked.elapsed()
    );
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(
        body,
        "not ready:\nVault or the database: no answer within 3 s (see Keyway's log).\n"
    );
}
