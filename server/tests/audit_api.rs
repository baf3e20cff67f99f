//! The audit history through its public endpoints (`/api/audit`, `/audit/export.*`), against a
//! real OpenBao seeded like the demo and a real database: who sees which rows is decided by
//! Vault, the filters and paging, the exports, and the link from a row to Vault's own audit log.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{Client, TestApp};
use serde_json::{json, Value};

fn save(mount: &str, path: &str, base: u64, set: Value) -> Value {
    json!({"secret": {"mount": mount, "path": path}, "base_version": base,
           "changes": {"set": set, "remove": [], "rename": []}})
}

/// The rows `query` shows this client (the first page).
async fn page(c: &mut Client<'_>, query: Value) -> Value {
    c.ok("audit", json!({ "query": query })).await
}

fn rows(page: &Value) -> Vec<Value> {
    page["rows"].as_array().cloned().unwrap_or_default()
}

fn actions(page: &Value) -> Vec<String> {
    rows(page)
        .iter()
        .map(|r| r["action"].as_str().unwrap().to_owned())
        .collect()
}

/// Logs in with the token method.
async fn token_client<'a>(app: &'a TestApp, token: &str) -> Client<'a> {
    let mut c = app.anonymous();
    let (status, body) = c
        .login_with(&format!("method=token&mount=token&secret={token}"))
        .await;
    assert!(status.is_success(), "token login: {status} {body}");
    c
}

/// A token whose only grant is `hcl` (besides `default`).
async fn token_with(app: &TestApp, name: &str, hcl: &str) -> String {
    app.bao.put_policy(name, hcl).await;
    app.create_token(json!({ "policies": [name], "ttl": "1h" }))
        .await
}

async fn get(c: &Client<'_>, uri: &str) -> (StatusCode, axum::http::HeaderMap, String) {
    let mut b = Request::get(uri).header(header::ORIGIN, common::ORIGIN);
    if let Some(cookie) = &c.cookie {
        b = b.header(header::COOKIE, cookie);
    }
    c.send(b.body(Body::empty()).unwrap()).await
}

#[tokio::test]
async fn each_caller_sees_the_rows_vault_lets_them_and_nothing_else() {
    let app = TestApp::demo(&[]).await;
    let mut alice = app.login("alice", "alice-pass").await;
    let mut bob = app.login("bob", "bob-pass").await;
    let v = alice
        .ok(
            "secret",
            json!({"secret": {"mount": "dev", "path": "webapp/config"}}),
        )
        .await;
    let base = v["version"].as_u64().unwrap();
    alice
        .ok(
            "save",
            save("dev", "webapp/config", base, json!({"ALICE_KEY": "a"})),
        )
        .await;
    let v = bob
        .ok(
            "secret",
            json!({"secret": {"mount": "staging", "path": "webapp/config"}}),
        )
        .await;
    let base = v["version"].as_u64().unwrap();
    bob.ok(
        "save",
        save("staging", "webapp/config", base, json!({"BOB_KEY": "b"})),
    )
    .await;

    // alice reads dev only: her save, her own login, never bob's staging save or login.
    let seen = page(&mut alice, json!({})).await;
    let all = rows(&seen);
    assert!(all.iter().any(|r| r["action"] == "secret.save"
        && r["keys_added"] == json!(["ALICE_KEY"])
        && r["environment"] == "dev"));
    assert!(
        !all.iter().any(|r| r["keys_added"] == json!(["BOB_KEY"])),
        "{all:?}"
    );
    assert!(
        all.iter()
            .filter(|r| r["action"] == "login")
            .all(|r| r["actor"] == "userpass-alice"),
        "{all:?}"
    );
    assert!(seen["reach"]
        .as_str()
        .unwrap()
        .contains("secrets your Vault policies let you read"));

    // A grant on keyway/audit/staging shows staging's rows, not dev's.
    let staging = token_with(
        &app,
        "audit-staging",
        r#"path "keyway/audit/staging" { capabilities = ["read"] }"#,
    )
    .await;
    let mut auditor = token_client(&app, &staging).await;
    let seen = page(&mut auditor, json!({})).await;
    let all = rows(&seen);
    assert!(
        all.iter().any(|r| r["keys_added"] == json!(["BOB_KEY"])),
        "{all:?}"
    );
    assert!(
        !all.iter().any(|r| r["keys_added"] == json!(["ALICE_KEY"])),
        "{all:?}"
    );
    assert!(!all
        .iter()
        .any(|r| r["action"] == "login" && r["actor"] != "token"));
    assert!(seen["reach"]
        .as_str()
        .unwrap()
        .contains("every row of staging"));

    // The platform team's keyway/audit/* shows everything, logins included.
    let mut platform = app.login("platform", "platform-pass").await;
    let seen = page(&mut platform, json!({"actions": ["login"]})).await;
    let all = rows(&seen);
    let actors: Vec<&str> = all.iter().map(|r| r["actor"].as_str().unwrap()).collect();
    for who in ["alice", "bob", "platform"] {
        assert!(
            actors.iter().any(|a| a.contains(who)),
            "{who} in {actors:?}"
        );
    }

    // dave may read nothing: only his own rows.
    let mut dave = app.login("dave", "dave-pass").await;
    let seen = page(&mut dave, json!({"range": "All"})).await;
    assert!(
        rows(&seen)
            .iter()
            .all(|r| r["actor"].as_str().unwrap().contains("dave")),
        "{seen}"
    );
    assert!(!rows(&seen).is_empty(), "dave sees his own login");
}

#[tokio::test]
async fn filters_combine_and_pages_go_back_in_time_without_gaps() {
    let app = TestApp::demo(&[]).await;
    let mut bob = app.login("bob", "bob-pass").await;
    let mut version = bob
        .ok(
            "secret",
            json!({"secret": {"mount": "dev", "path": "webapp/config"}}),
        )
        .await["version"]
        .as_u64()
        .unwrap();
    for i in 0..60 {
        let saved = bob
            .ok(
                "save",
                save(
                    "dev",
                    "webapp/config",
                    version,
                    json!({ format!("K{i}"): "v" }),
                ),
            )
            .await;
        version = saved["version"].as_u64().unwrap();
    }
    // A denied attempt: carol reads dev but may not write it.
    let mut carol = app.login("carol", "carol-pass").await;
    let (status, _) = carol
        .call(
            "save",
            save("dev", "webapp/config", version, json!({"X": "1"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let mut platform = app.login("platform", "platform-pass").await;
    let by_key = page(&mut platform, json!({"key": "K7"})).await;
    let found = rows(&by_key);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["keys_added"], json!(["K7"]));
    assert_eq!(found[0]["actor"], "userpass-bob");
    assert_eq!(found[0]["outcome"], "ok");
    assert!(found[0]["request_id"].is_string());

    let denied = page(
        &mut platform,
        json!({"outcomes": ["denied"], "actor": "userpass-carol"}),
    )
    .await;
    assert!(!rows(&denied).is_empty());
    assert!(rows(&denied)
        .iter()
        .all(|r| r["outcome"] == "denied" && r["actor"] == "userpass-carol"));

    // Sixty saves by bob: two pages of 50 and the rest, newest first, no row twice, none missed.
    let q = json!({"actor": "userpass-bob", "actions": ["secret.save"], "environment": "dev"});
    let first = page(&mut platform, q.clone()).await;
    assert_eq!(rows(&first).len(), 50);
    let before = first["older"].as_i64().expect("an older page");
    let mut q2 = q.clone();
    q2["before"] = json!(before);
    let second = page(&mut platform, q2).await;
    let seqs: Vec<i64> = rows(&first)
        .iter()
        .chain(rows(&second).iter())
        .map(|r| r["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs.len(), 60, "{seqs:?}");
    assert!(
        seqs.windows(2).all(|w| w[0] > w[1]),
        "newest first, no repeat: {seqs:?}"
    );
    assert!(second["older"].is_null());
    // An intent row whose outcome is recorded is not shown twice.
    assert!(actions(&first).iter().all(|a| a == "secret.save"));
    assert!(rows(&first).iter().all(|r| r["outcome"] == "ok"));

    // Bad input gets a plain refusal, never a 500.
    for bad in [
        json!({"actions": ["secret.frobnicate"]}),
        json!({"range": "Custom", "from": "yesterday"}),
        json!({"key": "k".repeat(5000)}),
    ] {
        let (status, body) = platform.call("audit", json!({ "query": bad })).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(
            body["Invalid"].is_string(),
            "a sentence saying what is wrong: {body}"
        );
    }

    // Opening the page is itself on the log.
    let views = page(
        &mut platform,
        json!({"actions": ["audit.view"], "actor": "userpass-platform"}),
    )
    .await;
    assert!(rows(&views).len() >= 3, "{views}");
    assert!(rows(&views)[0]["detail"]
        .as_str()
        .unwrap()
        .contains("action=audit.view"));
}

#[tokio::test]
async fn exports_stream_the_same_rows_as_csv_and_json_lines_and_are_audited() {
    let app = TestApp::demo(&[]).await;
    let mut alice = app.login("alice", "alice-pass").await;
    let base = alice
        .ok(
            "secret",
            json!({"secret": {"mount": "dev", "path": "webapp/config"}}),
        )
        .await["version"]
        .as_u64()
        .unwrap();
    alice
        .ok(
            "save",
            save(
                "dev",
                "webapp/config",
                base,
                json!({"EXPORTED": "top-secret-value"}),
            ),
        )
        .await;
    let mut bob = app.login("bob", "bob-pass").await;
    let base = bob
        .ok(
            "secret",
            json!({"secret": {"mount": "staging", "path": "webapp/config"}}),
        )
        .await["version"]
        .as_u64()
        .unwrap();
    bob.ok(
        "save",
        save("staging", "webapp/config", base, json!({"HIDDEN": "x"})),
    )
    .await;

    let (status, headers, csv) = get(&alice, "/audit/export.csv?range=all").await;
    assert_eq!(status, StatusCode::OK, "{csv}");
    assert!(headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    assert!(headers[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .contains("attachment"));
    let mut lines = csv.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("\"seq\",\"time\",\"actor\""));
    assert!(csv.contains("\"EXPORTED\""), "{csv}");
    assert!(
        !csv.contains("HIDDEN"),
        "alice's export holds no staging row: {csv}"
    );
    assert!(!csv.contains("top-secret-value"), "values never");

    let (status, headers, jsonl) = get(&alice, "/audit/export.jsonl?range=all&key=EXPORTED").await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("application/x-ndjson"));
    let parsed: Vec<Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!parsed.is_empty());
    assert!(
        parsed
            .iter()
            .all(|r| r["keys_added"] == json!(["EXPORTED"])
                && r["hash"].as_str().unwrap().len() == 64)
    );

    // Nobody logged in: refused. A cross-site navigation: refused.
    let (status, _, _) = get(&app.anonymous(), "/audit/export.csv").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let req = Request::get("/audit/export.csv")
        .header(header::COOKIE, alice.cookie.clone().unwrap())
        .header(header::ORIGIN, common::ORIGIN)
        .header("sec-fetch-site", "cross-site")
        .body(Body::empty())
        .unwrap();
    let (status, _, _) = alice.send(req).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let no_origin = Request::get("/audit/export.csv")
        .header(header::COOKIE, alice.cookie.clone().unwrap())
        .body(Body::empty())
        .unwrap();
    let (status, _, _) = alice.send(no_origin).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "neither Origin nor Referer: refused"
    );
    let (status, _, _) = get(&alice, "/audit/export.xlsx").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Both exports are on the log, with their filters.
    let exports: Vec<_> = app
        .audit_rows()
        .await
        .into_iter()
        .filter(|r| r.action == "audit.export")
        .collect();
    assert_eq!(exports.len(), 2, "{exports:?}");
    assert!(exports[1]
        .detail
        .as_deref()
        .unwrap()
        .contains("key=EXPORTED"));
}

#[tokio::test]
async fn a_save_is_found_in_vaults_audit_log_by_keyways_request_id_and_by_vaults() {
    let app = TestApp::demo_audited(&[]).await;
    let mut alice = app.login("alice", "alice-pass").await;
    let base = alice
        .ok(
            "secret",
            json!({"secret": {"mount": "dev", "path": "webapp/config"}}),
        )
        .await["version"]
        .as_u64()
        .unwrap();
    alice
        .ok(
            "save",
            save("dev", "webapp/config", base, json!({"LINKED": "v"})),
        )
        .await;
    let row = app
        .audit_rows()
        .await
        .into_iter()
        .rfind(|r| r.action == "secret.save" && r.intent_seq.is_some())
        .expect("the save's outcome row");
    let keyway_id = row.request_id.clone().expect("Keyway's request id");
    let vault_id = row
        .vault_request_id
        .clone()
        .expect("Vault's request id of the write");
    // The audit device writes the response entry as the call returns; poll with a deadline.
    let entry = keyway_testkit::eventually(
        "Vault's audit log has the response with the request id Keyway stored",
        std::time::Duration::from_secs(10),
        async || {
            app.bao
                .audit_log()
                .lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .find(|e| e["type"] == "response" && e["request"]["id"] == vault_id.as_str())
        },
    )
    .await;
    assert_eq!(entry["request"]["path"], "dev/data/webapp/config");
    assert_eq!(entry["request"]["operation"], "update");
    assert_eq!(
        entry["request"]["headers"]["x-keyway-request-id"],
        json!([keyway_id]),
        "the seed made the audit device record Keyway's header: {entry}"
    );
}

#[tokio::test]
async fn an_auditor_who_also_reads_the_secrets_gets_every_row_once() {
    // Each save row is in two parts of this auditor's reach (the environment granted, and a
    // mount the token sees): it must count once, or a batch reads as the end of the log.
    let app = TestApp::demo(&[]).await;
    let mut bob = app.login("bob", "bob-pass").await;
    let mut version = bob
        .ok(
            "secret",
            json!({"secret": {"mount": "dev", "path": "webapp/config"}}),
        )
        .await["version"]
        .as_u64()
        .unwrap();
    for i in 0..130 {
        let saved = bob
            .ok(
                "save",
                save(
                    "dev",
                    "webapp/config",
                    version,
                    json!({ format!("S{i}"): "v" }),
                ),
            )
            .await;
        version = saved["version"].as_u64().unwrap();
    }
    app.bao
        .put_policy(
            "audit-dev",
            r#"path "keyway/audit/dev" { capabilities = ["read"] }"#,
        )
        .await;
    let token = app
        .create_token(json!({ "policies": ["audit-dev", "dev-editor"], "ttl": "1h" }))
        .await;
    let auditor = token_client(&app, &token).await;
    let (status, _, jsonl) = get(
        &auditor,
        "/audit/export.jsonl?actor=userpass-bob&action=secret.save",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let seqs: Vec<i64> = jsonl
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["seq"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(seqs.len(), 130, "every save once: {seqs:?}");
    assert!(
        seqs.windows(2).all(|w| w[0] > w[1]),
        "newest first, no repeat"
    );
}
