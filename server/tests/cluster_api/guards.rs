//! The guards in front of Restart and Sync now (issue 9, points 1, 4, 12, 13): a name no
//! cluster could hold is refused as malformed without an audit row; a copy that reads kv-v1 or
//! another Vault namespace is not taken for the kv-v2 secret of the same mount and path; and two
//! Keyway replicas on one database restart a workload once when two clicks land at the same
//! moment, one on each.

use super::*;

fn restart_args(path: &str, namespace: &str, app: &str, workload: Value) -> Value {
    json!({"secret": {"mount": "dev", "path": path}, "app": {"namespace": namespace, "name": app},
           "workload": workload, "sync_first": false})
}

#[tokio::test]
async fn names_no_cluster_can_hold_are_refused_without_an_audit_row() {
    let app = TestApp::on_cluster().await;
    let mut alice = app.login("alice", "alice-pass").await;
    let rows_before = app.audit_rows().await.len();
    let long = "a".repeat(300);
    for (namespace, name, workload, says) in [
        (
            "Dev_1",
            "vault-kv-app",
            Value::Null,
            "not a valid environment name",
        ),
        (
            "dev",
            long.as_str(),
            Value::Null,
            "Kubernetes allows at most 253",
        ),
        (
            "dev",
            "../staging/webapp",
            Value::Null,
            "not a valid app name",
        ),
        (
            "dev",
            "vault-kv-app",
            json!({"kind": "Deployment", "name": "x/../../y"}),
            "not a valid workload name",
        ),
    ] {
        let (code, body) = alice
            .call(
                "restart",
                restart_args("webapp/config", namespace, name, workload),
            )
            .await;
        assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.to_string().contains(says), "{says}: {body}");
    }
    let (code, body) = alice
        .call(
            "sync_now",
            json!({"secret": {"mount": "dev", "path": "webapp/config"},
                   "app": {"namespace": "dev", "name": "Vault KV App"}}),
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        app.audit_rows().await.len(),
        rows_before,
        "a malformed request leaves no row"
    );
}

#[tokio::test]
async fn a_kv_v1_copy_or_one_of_another_vault_namespace_is_not_this_secret() {
    let app = TestApp::on_cluster().await;
    let s = stage(&app, "lookalike", json!({})).await;
    let api: Api<VaultStaticSecret> = Api::namespaced(admin().await, "dev");
    // Same mount and path as the staged kv-v2 app, but another secret: a kv-v1 mount, another
    // Vault namespace. Then a kv-v2 twin, created last: once Keyway shows it, its watch has
    // delivered the two before it too (a watch delivers in order).
    let lookalikes = [
        ("kwt-lookalike-v1", json!({"type": "kv-v1"})),
        ("kwt-lookalike-ns", json!({"namespace": "team-b"})),
        ("kwt-lookalike-twin", json!({})),
    ];
    for (name, extra) in &lookalikes {
        let _ = api.delete(name, &DeleteParams::default()).await;
        let mut vss = json!({
            "apiVersion": "secrets.hashicorp.com/v1beta1", "kind": "VaultStaticSecret",
            "metadata": {"name": name, "namespace": "dev"},
            "spec": {"type": "kv-v2", "mount": "dev", "path": s.path, "vaultAuthRef": "static-auth",
                      "refreshAfter": "1h", "destination": {"name": name, "create": true}}
        });
        merge(&mut vss["spec"], extra.clone());
        eventually("old lookalike gone", Duration::from_secs(20), || async {
            api.get_opt(name).await.unwrap().is_none().then_some(())
        })
        .await;
        api.create(
            &PostParams::default(),
            &serde_json::from_value(vss).unwrap(),
        )
        .await
        .unwrap();
    }
    let mut alice = app.login("alice", "alice-pass").await;
    let answer = eventually("the twin is listed", Duration::from_secs(20), async || {
        let v = status_answer(&mut alice, &s).await;
        let listed = v["apps"]
            .as_array()?
            .iter()
            .any(|x| x["name"] == "kwt-lookalike-twin");
        listed.then_some(v)
    })
    .await;
    let names: Vec<&str> = answer["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&s.app().as_str()), "{names:?}");
    assert!(!names.contains(&"kwt-lookalike-v1"), "{names:?}");
    assert!(!names.contains(&"kwt-lookalike-ns"), "{names:?}");
    for name in ["kwt-lookalike-v1", "kwt-lookalike-ns"] {
        let (code, body) = alice
            .call("restart", restart_args(&s.path, "dev", name, Value::Null))
            .await;
        assert_eq!(code, StatusCode::NOT_FOUND, "{name}: {body}");
    }
    for (name, _) in &lookalikes {
        let _ = api.delete(name, &DeleteParams::default()).await;
    }
}

#[tokio::test]
async fn two_replicas_restart_a_workload_once_when_clicked_at_the_same_moment() {
    let one = TestApp::on_cluster().await;
    let two = one.another_replica().await;
    let s = stage(&one, "replicas", json!({})).await;
    create_deployment(deployment(&s.app(), &s.app(), json!({}))).await;
    let mut alice_one = one.login("alice", "alice-pass").await;
    let mut alice_two = two.login("alice", "alice-pass").await;
    for alice in [&mut alice_one, &mut alice_two] {
        status_until(
            alice,
            &s,
            "live and up to date",
            Duration::from_secs(40),
            |v| live(v) == "live" && pods(v, &s.app()) == "up_to_date",
        )
        .await;
    }
    let args = restart_args(&s.path, "dev", &s.app(), Value::Null);
    let (a, b) = tokio::join!(
        alice_one.call("restart", args.clone()),
        alice_two.call("restart", args.clone()),
    );
    let mut codes = [a.0, b.0];
    codes.sort();
    assert_eq!(
        codes,
        [StatusCode::OK, StatusCode::UNPROCESSABLE_ENTITY],
        "one restart, one refusal: {a:?} {b:?}"
    );
    let refused = if a.0 == StatusCode::OK { &b.1 } else { &a.1 };
    // "was just restarted" (the claim), or "is already restarting" when the other replica's
    // watch already shows the first patch.
    assert!(
        refused.to_string().contains("restart"),
        "the refusal says why: {refused}"
    );
    let restarts = one
        .audit_rows()
        .await
        .iter()
        .filter(|r| r.action == "restart" && r.outcome == Outcome::Ok)
        .count();
    assert_eq!(restarts, 1, "the shared log holds one restart");
}
