//! Bounded fan-out (issue 9, point 3): with thousands of app folders the environments page
//! answers, says its list is cut, and search finds what is past the cut; capability checks go
//! to Vault in batches it accepts. Real OpenBao, real SQLite, Keyway's real router.

mod common;

use std::time::Instant;

use axum::http::StatusCode;
use common::TestApp;
use futures::{stream, StreamExt};
use serde_json::{json, Value};

/// Writes `dev/app-0000/config` … as root, a few at a time.
async fn seed_app_folders(app: &TestApp, n: usize) {
    stream::iter(0..n)
        .for_each_concurrent(16, |i| async move {
            app.bao
                .kv_put("dev", &format!("app-{i:04}/config"), json!({"K": "v"}))
                .await;
        })
        .await;
}

fn dev_mount(mounts: &Value) -> &Value {
    mounts
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "dev")
        .expect("the dev mount is listed")
}

#[tokio::test]
async fn with_2000_app_folders_the_page_answers_says_it_is_cut_and_search_finds_the_rest() {
    let app = TestApp::spawn().await;
    seed_app_folders(&app, 2000).await;
    let mut alice = app.login("alice", "alice-pass").await;

    let t0 = Instant::now();
    let (status, mounts) = alice.call("mounts", json!({})).await;
    let took = t0.elapsed();
    assert_eq!(status, StatusCode::OK, "{mounts}");
    let dev = dev_mount(&mounts);
    let listed = dev["secrets"].as_array().unwrap();
    assert_eq!(listed.len(), 500, "stops at the cap");
    assert_eq!(dev["cut"], true, "and says so");
    println!("environments page with 2,000 app folders: {took:?} (debug build), 500 listed, cut");

    // Past the cut: a search lists the folders that match first.
    let found = alice.ok("mounts", json!({"query": "APP-1999"})).await;
    let dev = dev_mount(&found);
    assert_eq!(dev["secrets"][0]["secret"]["path"], "app-1999/config");
    assert_eq!(dev["secrets"].as_array().unwrap().len(), 1);
    // Other folders may hold a match deeper down; it looked through as many as it may.
    assert_eq!(dev["cut"], true);
    // A search that matches nothing answers with nothing, within the same bounds.
    let none = alice.ok("mounts", json!({"query": "no-such-app"})).await;
    assert!(dev_mount(&none)["secrets"].as_array().unwrap().is_empty());
    // The search text is bounded like every field.
    let (status, body) = alice
        .call("mounts", json!({"query": "x".repeat(300)}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}

#[tokio::test]
async fn capabilities_for_more_paths_than_openbao_takes_in_one_call_are_asked_in_batches() {
    let app = TestApp::spawn().await;
    let token = keyway_vault::SecretString::from(app.bao.root_token.clone());
    let paths: Vec<String> = (0..1200).map(|i| format!("dev/data/app-{i}")).collect();
    // One call with all of them is what OpenBao refuses (its JSON string limit is 1,000).
    let refused = app
        .bao
        .root_request_status("POST", "sys/capabilities-self", json!({ "paths": paths }))
        .await;
    assert_eq!(refused, 400, "OpenBao refuses 1,200 paths in one call");
    let caps = app
        .state
        .core
        .vault
        .capabilities_self(&token, &paths)
        .await
        .expect("asked in batches of 500");
    assert_eq!(caps.len(), 1200);
    assert!(caps.has("dev/data/app-1199", keyway_vault::Capability::Read));
}
