//! The secrets editor through its public endpoints, against a real OpenBao and a real database:
//! login, scoping, masked views, reveal, save with check-and-set, conflicts, history, audit.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{DbKind, TestApp, ORIGIN};
use keyway_store::Outcome;
use serde_json::{json, Value};

fn secret(mount: &str, path: &str) -> Value {
    json!({"secret": {"mount": mount, "path": path}})
}

/// A save that only sets values.
fn set_args(mount: &str, path: &str, base: u64, set: Value) -> Value {
    save_args(mount, path, base, set, json!([]), json!([]))
}

fn save_args(
    mount: &str,
    path: &str,
    base: u64,
    set: Value,
    remove: Value,
    rename: Value,
) -> Value {
    json!({"secret": {"mount": mount, "path": path}, "base_version": base,
           "changes": {"set": set, "remove": remove, "rename": rename}})
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_answer_and_are_audited() {
    let app = TestApp::spawn().await;
    let (s1, b1) = app.anonymous().login("alice", "nope").await;
    let (s2, b2) = app.anonymous().login("mallory", "nope").await;
    assert_eq!(s1, StatusCode::UNAUTHORIZED);
    assert_eq!(
        (s1, &b1),
        (s2, &b2),
        "answers must not reveal whether a user exists"
    );
    assert!(b1.contains("BadCredentials"), "{b1}");
    let rows = app.audit_rows().await;
    let failed: Vec<_> = rows.iter().filter(|r| r.action == "login_failed").collect();
    assert_eq!(failed.len(), 2);
    assert!(failed.iter().all(|r| r.outcome == Outcome::Denied));
    assert_eq!(failed[1].actor_name, "mallory");
}

#[tokio::test]
async fn a_login_is_audited_and_whoami_names_the_vault_identity() {
    let app = TestApp::spawn().await;
    let mut alice = app.login("alice", "alice-pass").await;
    let me = alice.ok("whoami", json!({})).await;
    assert_eq!(me["display_name"], "userpass-alice");
    assert!(me["policies"]
        .as_array()
        .unwrap()
        .contains(&json!("dev-editor")));
    let rows = app.audit_rows().await;
    assert!(rows
        .iter()
        .any(|r| r.action == "login" && r.actor_name == "userpass-alice"));
}

#[tokio::test]
async fn without_a_session_every_endpoint_answers_unauthenticated() {
    let app = TestApp::spawn().await;
    let mut anon = app.anonymous();
    for (ep, args) in [
        ("mounts", json!({})),
        ("secret", secret("dev", "webapp/config")),
        (
            "reveal",
            json!({"secret": {"mount": "dev", "path": "webapp/config"},"version":1,"keys":[],"purpose":"Show"}),
        ),
        (
            "save",
            set_args("dev", "webapp/config", 1, json!({"x":"1"})),
        ),
        ("versions", secret("dev", "webapp/config")),
    ] {
        let (status, body) = anon.call(ep, args).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{ep}: {body}");
        assert_eq!(body, json!("Unauthenticated"), "{ep}");
    }
}

#[tokio::test]
async fn developers_see_only_the_mounts_and_secrets_their_policies_allow() {
    let app = TestApp::spawn().await;
    let mounts = |v: Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap().to_string())
            .collect()
    };
    let mut alice = app.login("alice", "alice-pass").await;
    let a = alice.ok("mounts", json!({})).await;
    assert_eq!(mounts(a.clone()), vec!["dev"]);
    assert_eq!(a[0]["secrets"][0]["secret"]["path"], "webapp/config");
    assert_eq!(a[0]["secrets"][0]["can_edit"], true);
    let mut bob = app.login("bob", "bob-pass").await;
    assert_eq!(
        mounts(bob.ok("mounts", json!({})).await),
        vec!["dev", "staging"]
    );
    let mut carol = app.login("carol", "carol-pass").await;
    let c = carol.ok("mounts", json!({})).await;
    assert_eq!(mounts(c.clone()), vec!["dev", "staging"]);
    assert_eq!(c[0]["secrets"][0]["can_edit"], false);
}

#[tokio::test]
async fn a_dev_developer_cannot_touch_staging_even_with_forged_calls() {
    let app = TestApp::spawn().await;
    let before = app.vault_read("staging", "webapp/config").await;
    let mut alice = app.login("alice", "alice-pass").await;
    let calls = [
        ("secret", secret("staging", "webapp/config")),
        (
            "reveal",
            json!({"secret": {"mount": "staging", "path": "webapp/config"},"version":1,"keys":[],"purpose":"Show"}),
        ),
        (
            "export_env",
            json!({"secret": {"mount": "staging", "path": "webapp/config"},"version":1}),
        ),
        (
            "save",
            set_args("staging", "webapp/config", 1, json!({"password":"pwned"})),
        ),
        ("save", set_args("staging", "new/app", 0, json!({"a":"b"}))),
        ("versions", secret("staging", "webapp/config")),
        (
            "diff",
            json!({"secret": {"mount": "staging", "path": "webapp/config"},"from":0,"to":1}),
        ),
        (
            "rollback",
            json!({"secret": {"mount": "staging", "path": "webapp/config"},"to_version":1,"base_version":1}),
        ),
        (
            "undelete",
            json!({"secret": {"mount": "staging", "path": "webapp/config"},"version":1}),
        ),
        (
            "delete_latest",
            json!({"secret": {"mount": "staging", "path": "webapp/config"},"version":1,"confirm":"webapp/config"}),
        ),
    ];
    for (ep, args) in calls {
        let (status, body) = alice.call(ep, args).await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "{ep} must be refused: {body}"
        );
        let text = body.to_string();
        assert!(
            !text.contains("staging-password"),
            "{ep} leaked a value: {text}"
        );
    }
    assert_eq!(
        app.vault_read("staging", "webapp/config").await,
        before,
        "staging changed"
    );
    let listed = app.bao.root_request("LIST", "staging/metadata", None).await;
    assert_eq!(
        listed["data"]["keys"],
        json!(["webapp/"]),
        "no secret was created in staging"
    );
}

#[tokio::test]
async fn an_export_a_shell_would_misread_is_refused_by_key_and_not_audited_as_done() {
    let app = TestApp::spawn().await;
    // Keys and values from Vault that Keyway never wrote: a hostile or careless writer.
    let version = app
        .bao
        .kv_put(
            "dev",
            "e2e/hostile-export",
            json!({"CMD": "$(touch pwned)", "MIXED": "it's \"x\"", "A\nB": "y"}),
        )
        .await;
    let mut alice = app.login("alice", "alice-pass").await;
    let args =
        json!({"secret": {"mount": "dev", "path": "e2e/hostile-export"}, "version": version});
    let (status, body) = alice.call("export_env", args).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let message = body.to_string();
    assert!(
        message.contains("MIXED\\\" (a ' together with"),
        "{message}"
    );
    assert!(
        message.contains("a name a shell cannot assign"),
        "{message}"
    );
    assert!(
        !message.contains("it's"),
        "a value reached the answer: {message}"
    );
    let rows = app.audit_rows().await;
    assert!(
        !rows.iter().any(|r| r.action == "secret.export"),
        "a refused export was audited as an export"
    );

    // Once the value a shell cannot be given safely is gone, the rest exports single-quoted.
    let version = app
        .bao
        .kv_put(
            "dev",
            "e2e/hostile-export",
            json!({"CMD": "$(touch pwned)"}),
        )
        .await;
    let exported = alice
        .ok(
            "export_env",
            json!({"secret": {"mount": "dev", "path": "e2e/hostile-export"}, "version": version}),
        )
        .await;
    assert_eq!(exported, json!("CMD='$(touch pwned)'\n"));
}

#[tokio::test]
async fn version_0_reveals_and_exports_nothing_and_writes_no_audit_row() {
    let app = TestApp::spawn().await;
    let mut alice = app.login("alice", "alice-pass").await;
    // staging/webapp/config: a secret alice may not read at all.
    for (endpoint, args) in [
        (
            "reveal",
            json!({"secret": {"mount": "staging", "path": "webapp/config"},"version":0,"keys":[],"purpose":"Show"}),
        ),
        (
            "export_env",
            json!({"secret": {"mount": "staging", "path": "webapp/config"},"version":0}),
        ),
    ] {
        let (status, body) = alice.call(endpoint, args).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{endpoint}: {body}"
        );
        assert!(
            body.to_string().contains("Version 0 holds no values"),
            "{endpoint}: {body}"
        );
    }
    let rows = app.audit_rows().await;
    assert!(
        !rows
            .iter()
            .any(|r| r.action == "secret.reveal" || r.action == "secret.export"),
        "{rows:?}"
    );
}

#[tokio::test]
async fn keys_are_listed_masked_and_each_reveal_is_audited() {
    let app = TestApp::spawn().await;
    let mut alice = app.login("alice", "alice-pass").await;
    let view = alice.ok("secret", secret("dev", "webapp/config")).await;
    assert_eq!(view["keys"], json!(["password", "username"]));
    assert_eq!(view["version"], 1);
    assert!(!view.to_string().contains("static-password"), "{view}");
    assert_eq!(view["caps"]["update"], true);

    let one = alice
        .ok("reveal", json!({"secret": {"mount": "dev", "path": "webapp/config"},"version":1,"keys":["password"],"purpose":"Show"}))
        .await;
    assert_eq!(one["values"], json!({"password": "static-password"}));
    let all = alice
        .ok(
            "reveal",
            json!({"secret": {"mount": "dev", "path": "webapp/config"},"version":1,"keys":[],"purpose":"Copy"}),
        )
        .await;
    assert_eq!(all["values"]["username"], "static-user");
    let exported = alice
        .ok(
            "export_env",
            json!({"secret": {"mount": "dev", "path": "webapp/config"},"version":1}),
        )
        .await;
    assert_eq!(
        exported,
        json!("password=static-password\nusername=static-user\n")
    );

    let rows = app.audit_rows().await;
    let reveals: Vec<_> = rows
        .iter()
        .filter(|r| r.action == "secret.reveal")
        .collect();
    assert_eq!(reveals.len(), 2);
    assert_eq!(reveals[0].detail.as_deref(), Some("shown: password"));
    assert_eq!(
        reveals[1].detail.as_deref(),
        Some("copied: password, username")
    );
    assert!(rows.iter().any(|r| r.action == "secret.export"));
    for r in &rows {
        let text = format!("{r:?}");
        assert!(
            !text.contains("static-password"),
            "a value reached the audit log: {text}"
        );
    }
}

#[tokio::test]
async fn revealing_responses_are_never_cached() {
    let app = TestApp::spawn().await;
    let alice = app.login("alice", "alice-pass").await;
    let req = Request::post("/api/reveal")
        .header(header::ORIGIN, ORIGIN)
        .header(header::COOKIE, alice.cookie.clone().unwrap())
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"secret": {"mount": "dev", "path": "webapp/config"},"version":1,"keys":[],"purpose":"Show"})
                .to_string(),
        ))
        .unwrap();
    let (status, headers, _) = alice.send(req).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
}

#[tokio::test]
async fn a_cross_site_post_is_refused_before_it_reaches_vault() {
    let app = TestApp::spawn().await;
    let alice = app.login("alice", "alice-pass").await;
    for origin in [Some("https://evil.example"), None] {
        let mut req = Request::post("/api/save")
            .header(header::COOKIE, alice.cookie.clone().unwrap())
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(o) = origin {
            req = req.header(header::ORIGIN, o);
        }
        let body = set_args("dev", "webapp/config", 1, json!({"password":"x"}));
        let (status, _, _) = alice
            .send(req.body(Body::from(body.to_string())).unwrap())
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "origin {origin:?}");
    }
    assert_eq!(
        app.vault_read("dev", "webapp/config").await["metadata"]["version"],
        1
    );
}

#[tokio::test]
async fn a_save_writes_one_version_applying_the_draft_and_audits_intent_and_outcome() {
    let app = TestApp::spawn().await;
    let mut alice = app.login("alice", "alice-pass").await;
    let saved = alice
        .ok(
            "save",
            save_args(
                "dev",
                "webapp/config",
                1,
                json!({"API_KEY": "k-1", "PEM": "-----BEGIN-----\nabc\n-----END-----"}),
                json!(["username"]),
                json!([["password", "DB_PASSWORD"]]),
            ),
        )
        .await;
    assert_eq!(saved["version"], 2);
    assert_eq!(
        saved["changes"]["added"],
        json!(["API_KEY", "DB_PASSWORD", "PEM"])
    );
    assert_eq!(saved["changes"]["removed"], json!(["password", "username"]));
    let data = app.vault_read("dev", "webapp/config").await;
    assert_eq!(
        data["data"],
        json!({"API_KEY": "k-1", "DB_PASSWORD": "static-password", "PEM": "-----BEGIN-----\nabc\n-----END-----"})
    );
    let rows = app.audit_rows().await;
    let intent = rows
        .iter()
        .find(|r| r.action == "secret.save" && r.outcome == Outcome::Pending)
        .unwrap();
    let outcome = rows
        .iter()
        .find(|r| r.intent_seq == Some(intent.seq))
        .unwrap();
    assert_eq!(outcome.outcome, Outcome::Ok);
    assert_eq!(outcome.version_before, Some(1));
    assert_eq!(outcome.version_after, Some(2));
    assert!(intent.seq < outcome.seq);
    let report = app.state.core.audit.verify_chain().await.unwrap();
    assert!(report.ok, "{report:?}");
    let versions = alice.ok("versions", secret("dev", "webapp/config")).await;
    assert_eq!(versions[0]["version"], 2);
    assert_eq!(versions[0]["author"], "userpass-alice");
    assert_eq!(
        versions[1]["author"],
        Value::Null,
        "version 1 was written outside Keyway"
    );
}

#[tokio::test]
async fn a_stale_save_gets_a_conflict_naming_what_changed_and_nothing_is_overwritten() {
    let app = TestApp::spawn().await;
    let mut alice = app.login("alice", "alice-pass").await;
    let mut bob = app.login("bob", "bob-pass").await;
    bob.ok(
        "save",
        set_args(
            "dev",
            "webapp/config",
            1,
            json!({"password": "bobs", "NEW": "n"}),
        ),
    )
    .await;
    let (status, body) = alice
        .call(
            "save",
            set_args(
                "dev",
                "webapp/config",
                1,
                json!({"password": "alices", "OTHER": "o"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let c = &body["Conflict"];
    assert_eq!(c["base_version"], 1);
    assert_eq!(c["current_version"], 2);
    assert_eq!(c["theirs"]["added"], json!(["NEW"]));
    assert_eq!(c["theirs"]["changed"], json!(["password"]));
    assert_eq!(c["overlapping"], json!(["password"]));
    assert_eq!(
        app.vault_read("dev", "webapp/config").await["data"]["password"],
        "bobs"
    );
    // The merge: the same draft onto version 2, keeping Bob's password.
    let merged = alice
        .ok(
            "save",
            set_args("dev", "webapp/config", 2, json!({"OTHER": "o"})),
        )
        .await;
    assert_eq!(merged["version"], 3);
    let data = app.vault_read("dev", "webapp/config").await["data"].clone();
    assert_eq!(
        data,
        json!({"NEW": "n", "OTHER": "o", "password": "bobs", "username": "static-user"})
    );
    let rows = app.audit_rows().await;
    assert!(rows
        .iter()
        .any(|r| r.action == "secret.save" && r.outcome == Outcome::Conflict));
}

#[tokio::test]
async fn concurrent_saves_each_land_as_their_own_version_or_get_a_conflict() {
    let app = TestApp::spawn().await;
    let writers = 6;
    let mut clients = Vec::new();
    for _ in 0..writers {
        clients.push(app.login("alice", "alice-pass").await);
    }
    // Everyone starts from version 1 at once; then each retries on conflict from the version the
    // conflict names, as the merge button does.
    let tasks = clients
        .into_iter()
        .enumerate()
        .map(|(i, mut c)| async move {
            let mut base = 1u64;
            let mut conflicts = 0;
            loop {
                let (status, body) = c
                    .call(
                        "save",
                        save_args(
                            "dev",
                            "webapp/config",
                            base,
                            json!({format!("K{i}"): format!("v{i}")}),
                            json!([]),
                            json!([]),
                        ),
                    )
                    .await;
                match status {
                    StatusCode::OK => return (body["version"].as_u64().unwrap(), conflicts),
                    StatusCode::CONFLICT => {
                        conflicts += 1;
                        base = body["Conflict"]["current_version"].as_u64().unwrap();
                    }
                    other => panic!("writer {i}: {other} {body}"),
                }
            }
        });
    let results = futures_join_all(tasks).await;
    let mut versions: Vec<u64> = results.iter().map(|r| r.0).collect();
    versions.sort();
    assert_eq!(
        versions,
        (2..2 + writers as u64).collect::<Vec<_>>(),
        "each save is its own version"
    );
    assert!(
        results.iter().map(|r| r.1).sum::<u32>() > 0,
        "the race produced no conflict at all"
    );
    let data = app.vault_read("dev", "webapp/config").await["data"].clone();
    for i in 0..writers {
        assert_eq!(
            data[format!("K{i}")],
            format!("v{i}"),
            "update of writer {i} was lost"
        );
    }
    assert!(app.state.core.audit.verify_chain().await.unwrap().ok);
}

async fn futures_join_all<F: std::future::Future>(
    tasks: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let mut set = Vec::new();
    for t in tasks {
        set.push(t);
    }
    let mut out = Vec::new();
    // Poll all futures concurrently on this task.
    let mut pinned: Vec<_> = set.into_iter().map(Box::pin).collect();
    let mut results: Vec<Option<F::Output>> = (0..pinned.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in pinned.iter_mut().enumerate() {
            if results[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => results[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    for r in results {
        out.push(r.unwrap());
    }
    out
}

#[tokio::test]
async fn bad_keys_and_oversized_secrets_are_refused_before_any_write() {
    let app = TestApp::spawn().await;
    let mut alice = app.login("alice", "alice-pass").await;
    let cases = [
        (json!({"_raw": "x"}), json!([]), "reserved"),
        (json!({"bad key": "x"}), json!([]), "a space"),
        (json!({}), json!([["username", "a/b"]]), "'/'"),
        (json!({"BIG": "x".repeat(700 * 1024)}), json!([]), "KiB"),
        (json!({}), json!([]), "nothing to save"),
    ];
    for (set, rename, why) in cases {
        let (status, body) = alice
            .call(
                "save",
                save_args("dev", "webapp/config", 1, set, json!([]), rename),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{why}: {body}");
        assert!(
            body["Invalid"].as_str().unwrap().contains(why),
            "{why}: {body}"
        );
    }
    assert_eq!(
        app.vault_read("dev", "webapp/config").await["metadata"]["version"],
        1
    );
    assert!(app
        .audit_rows()
        .await
        .iter()
        .all(|r| r.action != "secret.save"));
}

#[tokio::test]
async fn a_read_only_user_sees_keys_but_cannot_save() {
    let app = TestApp::spawn().await;
    let mut carol = app.login("carol", "carol-pass").await;
    let view = carol.ok("secret", secret("dev", "webapp/config")).await;
    assert_eq!(view["caps"]["read"], true);
    assert_eq!(view["caps"]["update"], false);
    let (status, body) = carol
        .call(
            "save",
            set_args("dev", "webapp/config", 1, json!({"password": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body["Denied"]
        .as_str()
        .unwrap()
        .starts_with("You may not change dev/webapp/config"));
    let rows = app.audit_rows().await;
    let denied = rows
        .iter()
        .find(|r| r.action == "secret.save" && r.outcome == Outcome::Denied);
    assert!(denied.is_some(), "a denied attempt is audited");
}

#[tokio::test]
async fn rollback_writes_the_old_data_as_a_new_version() {
    let app = TestApp::spawn().await;
    let mut alice = app.login("alice", "alice-pass").await;
    alice
        .ok(
            "save",
            set_args("dev", "webapp/config", 1, json!({"password": "p2"})),
        )
        .await;
    let diff = alice
        .ok(
            "diff",
            json!({"secret": {"mount": "dev", "path": "webapp/config"},"from":1,"to":2}),
        )
        .await;
    assert_eq!(
        diff,
        json!([{"key":"password","kind":"Changed"},{"key":"username","kind":"Same"}])
    );
    let (status, _) = alice
        .call(
            "rollback",
            json!({"secret": {"mount": "dev", "path": "webapp/config"},"to_version":1,"base_version":1}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "rollback from a stale base must conflict"
    );
    let r = alice
        .ok(
            "rollback",
            json!({"secret": {"mount": "dev", "path": "webapp/config"},"to_version":1,"base_version":2}),
        )
        .await;
    assert_eq!(r["version"], 3);
    let data = app.vault_read("dev", "webapp/config").await;
    assert_eq!(data["data"]["password"], "static-password");
    let rows = app.audit_rows().await;
    let ok = rows
        .iter()
        .find(|r| r.action == "secret.rollback" && r.outcome == Outcome::Ok)
        .unwrap();
    assert_eq!(ok.version_after, Some(3));
    assert_eq!(ok.keys_changed, vec!["password"]);
}

#[tokio::test]
async fn deleting_the_latest_version_needs_the_typed_name_and_undelete_restores_it() {
    let app = TestApp::spawn().await;
    let mut alice = app.login("alice", "alice-pass").await;
    let (status, body) = alice
        .call(
            "delete_latest",
            json!({"secret": {"mount": "dev", "path": "webapp/config"},"version":1,"confirm":"webapp"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _) = alice
        .call(
            "delete_latest",
            json!({"secret": {"mount": "dev", "path": "webapp/config"},"version":7,"confirm":"webapp/config"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "only the version the user saw is deleted"
    );
    alice
        .ok(
            "delete_latest",
            json!({"secret": {"mount": "dev", "path": "webapp/config"},"version":1,"confirm":"webapp/config"}),
        )
        .await;
    let view = alice.ok("secret", secret("dev", "webapp/config")).await;
    assert_eq!(view["deleted"], true);
    assert_eq!(view["keys"], json!([]));
    let (status, body) = alice
        .call(
            "reveal",
            json!({"secret": {"mount": "dev", "path": "webapp/config"},"version":1,"keys":[],"purpose":"Show"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    alice
        .ok(
            "undelete",
            json!({"secret": {"mount": "dev", "path": "webapp/config"},"version":1}),
        )
        .await;
    let view = alice.ok("secret", secret("dev", "webapp/config")).await;
    assert_eq!(view["deleted"], false);
    assert_eq!(view["keys"], json!(["password", "username"]));
    let actions: Vec<(String, Outcome)> = app
        .audit_rows()
        .await
        .into_iter()
        .filter(|r| r.action == "secret.delete" || r.action == "secret.undelete")
        .map(|r| (r.action, r.outcome))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("secret.delete".into(), Outcome::Pending),
            ("secret.delete".into(), Outcome::Ok),
            ("secret.undelete".into(), Outcome::Pending),
            ("secret.undelete".into(), Outcome::Ok),
        ]
    );
}

#[tokio::test]
async fn when_the_audit_log_cannot_be_written_the_save_is_refused() {
    let app = TestApp::spawn().await;
    let mut alice = app.login("alice", "alice-pass").await;
    // A real database failure, produced by the real database: every audit insert now aborts.
    let pool = app.state.db.sqlite().unwrap();
    sqlx::query("CREATE TRIGGER audit_down BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk full'); END;")
        .execute(pool)
        .await
        .unwrap();
    let (status, body) = alice
        .call(
            "save",
            set_args("dev", "webapp/config", 1, json!({"password": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body["Unavailable"]
        .as_str()
        .unwrap()
        .contains("audit log could not be written"));
    assert_eq!(
        app.vault_read("dev", "webapp/config").await["metadata"]["version"],
        1,
        "nothing written"
    );
    let (status, _) = alice
        .call(
            "reveal",
            json!({"secret": {"mount": "dev", "path": "webapp/config"},"version":1,"keys":[],"purpose":"Show"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "no unaudited reveal either"
    );
}

#[tokio::test]
async fn logout_revokes_the_vault_token_and_ends_the_session() {
    let app = TestApp::spawn().await;
    let mut alice = app.login("alice", "alice-pass").await;
    let before = app
        .bao
        .root_request("LIST", "auth/token/accessors", None)
        .await;
    let count = |v: &Value| v["data"]["keys"].as_array().map(|a| a.len()).unwrap_or(0);
    alice.ok("logout", json!({})).await;
    let after = app
        .bao
        .root_request("LIST", "auth/token/accessors", None)
        .await;
    assert_eq!(
        count(&after),
        count(&before) - 1,
        "the user's token was revoked"
    );
    let (status, _) = alice.call("mounts", json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(app.audit_rows().await.iter().any(|r| r.action == "logout"));
}

#[tokio::test]
async fn a_token_revoked_behind_keyways_back_ends_the_session() {
    let app = TestApp::spawn().await;
    let mut alice = app.login("alice", "alice-pass").await;
    app.bao
        .root_request(
            "POST",
            "auth/userpass/users/alice",
            Some(json!({"password": "changed", "token_policies": "dev-editor"})),
        )
        .await;
    // Revoke every token issued by userpass (as an admin would after an incident).
    app.bao
        .root_request("PUT", "sys/leases/revoke-prefix/auth/userpass", None)
        .await;
    let (status, body) = alice.call("mounts", json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

#[tokio::test]
async fn the_whole_flow_works_on_postgres() {
    let test = "the_whole_flow_works_on_postgres";
    let Some(db) = keyway_testkit::TempDatabase::create_or_skip(test).await else {
        return;
    };
    let app = TestApp::spawn_on(DbKind::Postgres(db)).await;
    let mut alice = app.login("alice", "alice-pass").await;
    let saved = alice
        .ok(
            "save",
            set_args("dev", "webapp/config", 1, json!({"password": "pg"})),
        )
        .await;
    assert_eq!(saved["version"], 2);
    let versions = alice.ok("versions", secret("dev", "webapp/config")).await;
    assert_eq!(versions[0]["author"], "userpass-alice");
    assert!(app.state.core.audit.verify_chain().await.unwrap().ok);
    assert!(app.db_url.starts_with("postgres://"));
}

#[tokio::test]
async fn a_sealed_vault_is_explained_in_one_plain_sentence() {
    let app = TestApp::spawn().await;
    let mut alice = app.login("alice", "alice-pass").await;
    app.bao.seal().await;
    let (status, body) = alice.call("mounts", json!({})).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(
        body["Unavailable"],
        "Vault is sealed, so nothing can be read or saved. Try again once it is unsealed."
    );
    let (status, body) = app.anonymous().login("alice", "alice-pass").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    app.bao.unseal().await;
    let mounts = alice.ok("mounts", json!({})).await;
    assert_eq!(
        mounts[0]["name"], "dev",
        "the session survives a seal and unseal"
    );
}

#[tokio::test]
async fn an_unreachable_vault_is_explained_and_the_login_page_still_renders() {
    // A Keyway pointed at a port where nothing listens.
    let dir = tempfile::tempdir().unwrap();
    let cfg = <keyway_server::config::Config as clap::Parser>::try_parse_from([
        "keyway",
        "--vault-addr",
        "http://127.0.0.1:9",
        "--database-url",
        &format!("sqlite://{}/k.db?mode=rwc", dir.path().display()),
        "--public-url",
        ORIGIN,
        "--session-key",
        &"cd".repeat(32),
    ])
    .unwrap();
    let (router, _) = keyway_server::build(&cfg).await.unwrap();
    let req = Request::post("/api/login_options")
        .header(header::ORIGIN, ORIGIN)
        .header(header::ACCEPT, "application/json")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{}"))
        .unwrap();
    let res = tower::ServiceExt::oneshot(router.clone(), req)
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let bytes = http_body_util::BodyExt::collect(res.into_body())
        .await
        .unwrap()
        .to_bytes();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        body["Unavailable"],
        "Vault cannot be reached right now. Try again in a moment."
    );
    let page =
        tower::ServiceExt::oneshot(router, Request::get("/login").body(Body::empty()).unwrap())
            .await
            .unwrap();
    assert_eq!(
        page.status(),
        StatusCode::OK,
        "the page itself renders and shows the error"
    );
}

/// A value written outside Keyway as a JSON number is carried over only as it is: renaming its key
/// without a new value is refused (it would turn into a string), renaming it with one is fine.
#[tokio::test]
async fn a_non_text_value_is_never_turned_into_text_not_even_by_a_rename() {
    let app = TestApp::spawn().await;
    let v = app
        .bao
        .kv_put("dev", "typed/db", json!({"PORT": 5432, "HOST": "db"}))
        .await;
    let mut alice = app.login("alice", "alice-pass").await;
    let rename = json!([["PORT", "DB_PORT"]]);
    let (status, body) = alice
        .call(
            "save",
            save_args("dev", "typed/db", v, json!({}), json!([]), rename.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("not text"), "{body}");
    // A new value under the old name does not stop the old value from moving.
    let (status, body) = alice
        .call(
            "save",
            save_args(
                "dev",
                "typed/db",
                v,
                json!({"PORT": "1"}),
                json!([]),
                rename.clone(),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let saved = alice
        .ok(
            "save",
            save_args(
                "dev",
                "typed/db",
                v,
                json!({"DB_PORT": "6432"}),
                json!([]),
                rename,
            ),
        )
        .await;
    assert_eq!(saved["version"], v + 1);
}

/// Secret pages moved from `/env/<mount>/app/<path>` to `/secrets/<mount>/<path>` (the glossary's
/// words); a bookmark of the old address still lands on the page.
#[tokio::test]
async fn an_old_secret_page_address_redirects_to_the_new_one() {
    let app = TestApp::spawn().await;
    let res = tower::ServiceExt::oneshot(
        app.router.clone(),
        Request::get("/env/teams%2Fpayments/app/svc/api")
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(
        res.headers()[header::LOCATION],
        "/secrets/teams%2Fpayments/svc/api"
    );
}

/// Logs in with the token method; returns the status and the client.
async fn token_login<'a>(app: &'a TestApp, token: &str) -> (StatusCode, common::Client<'a>) {
    let mut c = app.anonymous();
    let (status, _) = c
        .login_with(&format!("method=token&mount=token&secret={token}"))
        .await;
    (status, c)
}

#[tokio::test]
async fn a_vault_token_logs_in_with_its_own_policies_and_a_bad_one_is_refused() {
    let app = TestApp::spawn().await;
    let token = &app
        .create_token(json!({"policies": ["dev-editor"], "ttl": "1h", "display_name": "ci-bot"}))
        .await;
    let (status, mut c) = token_login(&app, token).await;
    assert!(status.is_success() || status.is_redirection(), "{status}");
    let mounts = c.ok("mounts", json!({})).await;
    assert_eq!(mounts.as_array().unwrap().len(), 1);
    assert_eq!(mounts[0]["name"], "dev");
    let (status, _) = token_login(&app, "s.not-a-token").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let failed = app
        .audit_rows()
        .await
        .into_iter()
        .filter(|r| r.action == "login_failed")
        .count();
    assert_eq!(failed, 1);
}

#[tokio::test]
async fn the_session_ends_when_the_vault_token_expires() {
    let app = TestApp::spawn().await;
    let token = &app
        .create_token(json!({"policies": ["dev-editor"], "ttl": "3s", "renewable": false}))
        .await;
    let (_, mut c) = token_login(&app, token).await;
    c.ok("mounts", json!({})).await;
    // Poll until the token's TTL has run out (a deadline, not a fixed sleep).
    let within = std::time::Duration::from_secs(20);
    keyway_testkit::eventually("the session ends with its token", within, async || {
        let (status, body) = c.call("mounts", json!({})).await;
        if status == StatusCode::UNAUTHORIZED {
            assert_eq!(body, json!("Unauthenticated"));
            return Some(());
        }
        assert_eq!(status, StatusCode::OK, "{body}");
        None
    })
    .await;
    let (status, _) = c.call("whoami", json!({})).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "whoami answers, with nobody logged in"
    );
}

#[tokio::test]
async fn values_vault_holds_as_numbers_or_objects_are_never_silently_turned_into_text() {
    let app = TestApp::spawn().await;
    app.bao
        .kv_put(
            "dev",
            "typed/app",
            json!({"PORT": 8080, "FLAGS": {"a": true}, "NAME": "n"}),
        )
        .await;
    let mut alice = app.login("alice", "alice-pass").await;
    let (status, body) = alice
        .call(
            "save",
            set_args("dev", "typed/app", 1, json!({"NAME": "m"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["Invalid"].as_str().unwrap().contains("FLAGS, PORT"),
        "{body}"
    );
    assert_eq!(
        app.vault_read("dev", "typed/app").await["data"]["PORT"],
        8080
    );
    // Giving every such key a new value is an explicit choice, and allowed.
    let saved = alice
        .ok(
            "save",
            save_args(
                "dev",
                "typed/app",
                1,
                json!({"PORT": "8081"}),
                json!(["FLAGS"]),
                json!([]),
            ),
        )
        .await;
    assert_eq!(saved["version"], 2);
    assert_eq!(
        app.vault_read("dev", "typed/app").await["data"],
        json!({"NAME": "n", "PORT": "8081"})
    );
}
