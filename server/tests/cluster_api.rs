//! Keyway's cluster side, end to end through `/api/…`, against `end2end/cluster/up`: the real
//! apiserver, the real OpenBao, the VSO and Reloader stand-ins, and Keyway running with its own
//! Kubernetes account bound to `deploy/base/rbac.yaml` only (never cluster-admin).
//!
//! Each test builds its own app in namespace `dev` (a kv path under `dev/kwtest/`, a
//! VaultStaticSecret with a long `refreshAfter` so "Pending" lasts until "Sync now", and its
//! workloads), using the admin kubeconfig only to set the stage and to break things the way the
//! issue asks (a paused Deployment, an unschedulable one with a short progress deadline).
//!
//! Keyway serves `KEYWAY_SA_NAMESPACES` (dev, payments, staging: where its account has a Role).
//! What that account can and cannot do is in [`least_privilege`].
//!
//! Built only with `--features cluster-tests`; fails, never skips, without the cluster's env.

mod common;
#[path = "cluster_api/fleet.rs"]
mod fleet;
#[path = "cluster_api/guards.rs"]
mod guards;
#[path = "cluster_api/least_privilege.rs"]
mod least_privilege;
#[path = "cluster_api/onboard.rs"]
mod onboard;
#[path = "cluster_api/operations.rs"]
mod operations;
#[path = "cluster_api/timeline.rs"]
mod timeline;

use std::time::Duration;

use axum::http::StatusCode;
use common::TestApp;
use k8s_openapi::api::apps::v1::Deployment;
use keyway_k8s::reloader;
use keyway_k8s::status::live::{CLUSTER_LOADING, CLUSTER_UNREACHABLE};
use keyway_k8s::vso::VaultStaticSecret;
use keyway_store::Outcome;
use keyway_testkit::{eventually, until};
use kube::api::{DeleteParams, PostParams};
use kube::{Api, Client};
use serde_json::{json, Value};

async fn admin() -> Client {
    std::env::var("KUBECONFIG").expect("KUBECONFIG (admin) is set by end2end/cluster/up");
    Client::try_default().await.expect("admin client")
}

/// One test's app: kv `dev/kwtest/<name>`, VSS `kwt-<name>` → Secret `kwt-<name>`.
struct Stage {
    name: String,
    path: String,
}

impl Stage {
    fn app(&self) -> String {
        format!("kwt-{}", self.name)
    }
}

fn deployment(name: &str, secret: &str, extra: Value) -> Deployment {
    let mut d = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "dev"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "app:1", "envFrom": [{"secretRef": {"name": secret}}]}]}
            }
        }
    });
    merge(&mut d, extra);
    serde_json::from_value(d).unwrap()
}

fn merge(a: &mut Value, b: Value) {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k).or_insert(Value::Null), v);
            }
        }
        (a, b) => *a = b,
    }
}

/// Writes kv v1, creates the VSS (extra spec merged in) and waits for its Secret.
async fn stage(app: &TestApp, name: &str, vss_extra: Value) -> Stage {
    let s = Stage {
        name: name.into(),
        path: format!("kwtest/{name}"),
    };
    app.bao
        .kv_put("dev", &s.path, json!({"token": format!("{name}-1")}))
        .await;
    let mut vss = json!({
        "apiVersion": "secrets.hashicorp.com/v1beta1", "kind": "VaultStaticSecret",
        "metadata": {"name": s.app(), "namespace": "dev"},
        "spec": {"type": "kv-v2", "mount": "dev", "path": s.path, "vaultAuthRef": "static-auth",
                  "refreshAfter": "1h", "destination": {"name": s.app(), "create": true}}
    });
    merge(&mut vss["spec"], vss_extra);
    let c = admin().await;
    let api: Api<VaultStaticSecret> = Api::namespaced(c.clone(), "dev");
    let _ = api.delete(&s.app(), &DeleteParams::default()).await;
    eventually("old VSS gone", Duration::from_secs(20), || async {
        api.get_opt(&s.app()).await.unwrap().is_none().then_some(())
    })
    .await;
    api.create(
        &PostParams::default(),
        &serde_json::from_value(vss).unwrap(),
    )
    .await
    .unwrap();
    let secrets: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(c, "dev");
    eventually(
        "the stand-in wrote the Secret",
        Duration::from_secs(30),
        || async { secrets.get_opt(&s.app()).await.unwrap().map(|_| ()) },
    )
    .await;
    s
}

async fn create_deployment(d: Deployment) {
    let api: Api<Deployment> = Api::namespaced(admin().await, "dev");
    let name = d.metadata.name.clone().unwrap();
    let _ = api.delete(&name, &DeleteParams::default()).await;
    eventually("old Deployment gone", Duration::from_secs(20), || async {
        api.get_opt(&name).await.unwrap().is_none().then_some(())
    })
    .await;
    api.create(&PostParams::default(), &d).await.unwrap();
}

/// The whole `cluster_status` answer for `dev/<path>`.
async fn status_answer(c: &mut common::Client<'_>, s: &Stage) -> Value {
    let v = c
        .ok(
            "cluster_status",
            json!({"secret": {"mount": "dev", "path": s.path}}),
        )
        .await;
    assert_eq!(v["configured"], true);
    v
}

/// The app's entry in a `cluster_status` answer, if Keyway's cache has seen it yet.
fn app_entry(v: &Value, s: &Stage) -> Option<Value> {
    v["apps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == s.app())
        .cloned()
}

/// The app's entry in `cluster_status` for `dev/<path>`; it must be there already.
async fn status_of(c: &mut common::Client<'_>, s: &Stage) -> Value {
    let v = status_answer(c, s).await;
    app_entry(&v, s).unwrap_or_else(|| panic!("{} not in {v}", s.app()))
}

/// Polls the app's status until `pred` holds. An app Keyway's cache has not seen yet (its
/// VaultStaticSecret was created a moment ago) is "not yet", not a failure.
async fn status_until(
    c: &mut common::Client<'_>,
    s: &Stage,
    what: &str,
    within: Duration,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    until(what, within, async || {
        let whole = status_answer(c, s).await;
        match app_entry(&whole, s) {
            Some(v) if pred(&v) => Ok(v),
            Some(v) => Err(format!("{v:#}")),
            None => Err(format!("{} not listed yet: {whole}", s.app())),
        }
    })
    .await
}

/// The variant of a state (`LiveState`, `PodsState`): serde's external tagging writes a variant
/// without fields as its name and one with fields as `{ "<name>": { … } }`.
fn state(v: &Value) -> &str {
    match v {
        Value::String(s) => s,
        Value::Object(o) if o.len() == 1 => o.keys().next().unwrap(),
        other => panic!("not a state: {other}"),
    }
}
fn live(v: &Value) -> &str {
    state(&v["live"])
}
/// The fields of a state, whichever its variant (`Null` for a variant without fields).
fn fields(state: &Value) -> &Value {
    static NONE: Value = Value::Null;
    state
        .as_object()
        .and_then(|o| o.values().next())
        .unwrap_or(&NONE)
}
/// The fields of `v`'s live state.
fn live_fields(v: &Value) -> &Value {
    fields(&v["live"])
}
fn pods<'a>(v: &'a Value, workload: &str) -> &'a str {
    v["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == workload)
        .map(|w| state(&w["pods"]))
        .unwrap_or("absent")
}

#[tokio::test]
async fn pending_then_sync_now_then_live_then_restart_to_up_to_date() {
    let app = TestApp::on_cluster().await;
    let s = stage(&app, "flow", json!({})).await;
    // 3 replicas and minReadySeconds: the rollout stays in progress long enough to be seen.
    create_deployment(deployment(
        &s.app(),
        &s.app(),
        json!({"spec": {"replicas": 3, "minReadySeconds": 4}}),
    ))
    .await;
    let mut alice = app.login("alice", "alice-pass").await;
    let v = status_until(
        &mut alice,
        &s,
        "live and up to date",
        Duration::from_secs(40),
        |v| live(v) == "live" && pods(v, &s.app()) == "up_to_date",
    )
    .await;
    assert_eq!(v["may_act"], true);
    assert_eq!(v["grant_path"], format!("keyway/restart/dev/{}", s.app()));
    assert_eq!(v["workloads"][0]["kind"], "Deployment");

    let v2 = app
        .bao
        .kv_put("dev", &s.path, json!({"token": "flow-2"}))
        .await;
    let v = status_until(&mut alice, &s, "pending", Duration::from_secs(10), |v| {
        live(v) == "pending"
    })
    .await;
    assert_eq!(live_fields(&v)["vault_version"], v2);
    assert_eq!(live_fields(&v)["cluster_version"], v2 - 1);
    let due = live_fields(&v)["next_refresh_due"]
        .as_i64()
        .expect("a refresh is due");
    let now = jiff::Timestamp::now().as_second();
    assert!(
        due > now + 600,
        "refreshAfter is 1h: next refresh far ahead ({due} vs {now})"
    );

    // A restart now would start the old copy: refused, nothing patched.
    let (code, body) = alice
        .call(
            "restart",
            json!({"secret": {"mount": "dev", "path": s.path}, "app": {"namespace": "dev", "name": s.app()},
                   "workload": null, "sync_first": false}),
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body.to_string().contains("Sync now, then restart"),
        "{body}"
    );

    let done = alice
        .ok(
            "sync_now",
            json!({"secret": {"mount": "dev", "path": s.path}, "app": {"namespace": "dev", "name": s.app()}}),
        )
        .await;
    assert!(done["message"].as_str().unwrap().contains("now"), "{done}");
    let v = status_until(
        &mut alice,
        &s,
        "live after sync now",
        Duration::from_secs(10),
        |v| live(v) == "live",
    )
    .await;
    assert_eq!(live_fields(&v)["version"], v2);
    assert_eq!(pods(&v, &s.app()), "restart_needed", "{v:#}");

    let done = alice
        .ok(
            "restart",
            json!({"secret": {"mount": "dev", "path": s.path}, "app": {"namespace": "dev", "name": s.app()},
                   "workload": {"kind": "Deployment", "name": s.app()}, "sync_first": false}),
        )
        .await;
    assert_eq!(done["message"], format!("Restarting {}.", s.app()));
    let v = status_until(&mut alice, &s, "restarting", Duration::from_secs(10), |v| {
        pods(v, &s.app()) == "restarting"
    })
    .await;
    let w = fields(&v["workloads"][0]["pods"]);
    assert_eq!(w["total"], 3, "{w}");
    // A second click while it rolls does not start another.
    let (code, body) = alice
        .call(
            "restart",
            json!({"secret": {"mount": "dev", "path": s.path}, "app": {"namespace": "dev", "name": s.app()},
                   "workload": null, "sync_first": false}),
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    status_until(
        &mut alice,
        &s,
        "up to date after the restart",
        Duration::from_secs(60),
        |v| pods(v, &s.app()) == "up_to_date",
    )
    .await;
    // Finished, but within the cooldown: still refused.
    let (code, body) = alice
        .call(
            "restart",
            json!({"secret": {"mount": "dev", "path": s.path}, "app": {"namespace": "dev", "name": s.app()},
                   "workload": null, "sync_first": false}),
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("was restarted"), "{body}");
    let refused: Vec<String> = app
        .audit_rows()
        .await
        .iter()
        .filter(|r| r.path == s.path && r.action == "restart" && r.outcome == Outcome::Denied)
        .filter_map(|r| r.detail.clone())
        .collect();
    assert_eq!(
        refused.len(),
        3,
        "pending, rolling and cooldown refusals audited: {refused:?}"
    );

    // Every attempt is audited with its outcome.
    let rows = app.audit_rows().await;
    let mine: Vec<_> = rows
        .iter()
        .filter(|r| r.mount == "dev" && r.path == s.path)
        .map(|r| (r.action.clone(), r.outcome))
        .collect();
    assert!(mine.contains(&("sync_now".into(), Outcome::Ok)), "{mine:?}");
    assert!(mine.contains(&("restart".into(), Outcome::Ok)), "{mine:?}");
}

#[tokio::test]
async fn sync_now_then_restart_does_both_in_that_order() {
    let app = TestApp::on_cluster().await;
    let s = stage(&app, "order", json!({})).await;
    create_deployment(deployment(&s.app(), &s.app(), json!({}))).await;
    let mut bob = app.login("bob", "bob-pass").await;
    status_until(&mut bob, &s, "up to date", Duration::from_secs(40), |v| {
        pods(v, &s.app()) == "up_to_date"
    })
    .await;
    let v2 = app
        .bao
        .kv_put("dev", &s.path, json!({"token": "order-2"}))
        .await;
    status_until(&mut bob, &s, "pending", Duration::from_secs(10), |v| {
        live(v) == "pending"
    })
    .await;
    bob.ok(
        "restart",
        json!({"secret": {"mount": "dev", "path": s.path}, "app": {"namespace": "dev", "name": s.app()},
               "workload": null, "sync_first": true}),
    )
    .await;
    // By the time the restart was patched the copy was live: the new pods run version 2.
    let v = status_of(&mut bob, &s).await;
    assert_eq!(live(&v), "live", "{v:#}");
    assert_eq!(live_fields(&v)["version"], v2);
    status_until(&mut bob, &s, "up to date", Duration::from_secs(60), |v| {
        pods(v, &s.app()) == "up_to_date"
    })
    .await;
    let actions: Vec<String> = app
        .audit_rows()
        .await
        .iter()
        .filter(|r| r.path == s.path)
        .map(|r| r.action.clone())
        .collect();
    let sync = actions
        .iter()
        .position(|a| a == "sync_now")
        .expect("sync audited");
    let restart = actions
        .iter()
        .position(|a| a == "restart")
        .expect("restart audited");
    assert!(sync < restart, "{actions:?}");
}

#[tokio::test]
async fn the_failing_app_reads_as_a_plain_sentence() {
    let app = TestApp::on_cluster().await;
    app.cluster_loaded().await;
    let mut bob = app.login("bob", "bob-pass").await;
    let v = bob
        .ok(
            "cluster_status",
            json!({"secret": {"mount": "staging", "path": "worker/queue"}}),
        )
        .await;
    let worker = &v["apps"][0];
    assert_eq!(worker["name"], "worker");
    assert_eq!(state(&worker["live"]), "failing", "{worker:#}");
    assert_eq!(
        live_fields(worker)["sentence"],
        "The cluster is not allowed to read this secret in Vault."
    );
    assert!(live_fields(worker)["detail"]
        .as_str()
        .unwrap()
        .contains("403"));
}

#[tokio::test]
async fn pinned_not_set_up_and_volume_reads_live() {
    let app = TestApp::on_cluster().await;
    let s = stage(&app, "pinned", json!({"version": 1})).await;
    let mut alice = app.login("alice", "alice-pass").await;
    let newest = app
        .bao
        .kv_put("dev", &s.path, json!({"token": "pinned-2"}))
        .await;
    let v = status_until(&mut alice, &s, "pinned", Duration::from_secs(10), |v| {
        live(v) == "pinned"
    })
    .await;
    assert_eq!(
        (
            live_fields(&v)["version"].as_u64(),
            live_fields(&v)["current"].as_u64()
        ),
        (Some(1), Some(newest))
    );

    app.bao
        .kv_put("dev", "kwtest/nobody-uses-this", json!({"a": "b"}))
        .await;
    let v = alice
        .ok(
            "cluster_status",
            json!({"secret": {"mount": "dev", "path": "kwtest/nobody-uses-this"}}),
        )
        .await;
    assert_eq!(v["apps"], json!([]), "not set up: no app uses it");

    // The seed's StatefulSet `ledger` mounts payments-api as a volume: it reads changes live.
    let v = alice
        .ok(
            "cluster_status",
            json!({"secret": {"mount": "dev", "path": "payments/api"}}),
        )
        .await;
    let ledger = v["apps"][0]["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == "ledger")
        .cloned()
        .expect("ledger listed");
    assert_eq!(ledger["kind"], "StatefulSet");
    assert_eq!(state(&ledger["pods"]), "up_to_date");
}

#[tokio::test]
async fn paused_refused_and_a_rollout_past_its_deadline_fails() {
    let app = TestApp::on_cluster().await;
    let s = stage(&app, "broken", json!({})).await;
    let paused = format!("{}-paused", s.app());
    let stuck = format!("{}-stuck", s.app());
    create_deployment(deployment(
        &paused,
        &s.app(),
        json!({"spec": {"paused": true}}),
    ))
    .await;
    // No node has this label: pods never schedule, and after 3 s the rollout is past its deadline.
    create_deployment(deployment(
        &stuck,
        &s.app(),
        json!({"spec": {"progressDeadlineSeconds": 3,
                        "template": {"spec": {"nodeSelector": {"keyway.dev/nowhere": "true"}}}}}),
    ))
    .await;
    let mut alice = app.login("alice", "alice-pass").await;
    let v = status_until(
        &mut alice,
        &s,
        "the stuck rollout failed",
        Duration::from_secs(40),
        |v| pods(v, &stuck) == "restart_failed",
    )
    .await;
    let w = v["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == stuck)
        .unwrap()
        .clone();
    assert!(
        fields(&w["pods"])["reason"]
            .as_str()
            .unwrap()
            .starts_with("The new version did not start within its deadline"),
        "{w:#}"
    );
    let p = v["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == paused)
        .unwrap()
        .clone();
    assert!(
        p["restart_refusal"].as_str().unwrap().contains("paused"),
        "{p:#}"
    );
    let (code, body) = alice
        .call(
            "restart",
            json!({"secret": {"mount": "dev", "path": s.path}, "app": {"namespace": "dev", "name": s.app()},
                   "workload": {"kind": "Deployment", "name": paused}, "sync_first": false}),
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("paused"), "{body}");
    let d = Api::<Deployment>::namespaced(admin().await, "dev")
        .get(&paused)
        .await
        .unwrap();
    let ann = d
        .spec
        .template
        .metadata
        .and_then(|m| m.annotations)
        .unwrap_or_default();
    assert!(
        !ann.contains_key("kubectl.kubernetes.io/restartedAt"),
        "nothing patched"
    );
}

/// Creates the Deployment `name` (reading the Secret `name`, `extra` merged in) before its app's
/// first sync, waits until its pod runs and lets the clock leave that second: the Secret's first
/// write is then strictly newer than the pods (cluster times have whole seconds), and neither
/// VSO nor Reloader restarts anything for a Secret's creation.
async fn deployment_before_its_secret(name: &str, extra: Value) {
    create_deployment(deployment(name, name, extra)).await;
    let started = eventually("pods started", Duration::from_secs(30), || async {
        let d = Api::<Deployment>::namespaced(admin().await, "dev")
            .get(name)
            .await
            .ok()?;
        (d.status?.available_replicas? == 1).then(jiff::Timestamp::now)
    })
    .await;
    eventually("the next second", Duration::from_secs(3), || async {
        (jiff::Timestamp::now().as_second() > started.as_second()).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_first_sync_with_restart_targets_will_restart_automatically() {
    let app = TestApp::on_cluster().await;
    let name = "kwt-auto";
    // The workload exists before the app's first sync; VSO never restarts on a first sync.
    deployment_before_its_secret(name, json!({})).await;
    let s = stage(
        &app,
        "auto",
        json!({"rolloutRestartTargets": [{"kind": "Deployment", "name": name}]}),
    )
    .await;
    assert_eq!(s.app(), name);
    let mut alice = app.login("alice", "alice-pass").await;
    let v = status_until(
        &mut alice,
        &s,
        "will restart automatically",
        Duration::from_secs(20),
        |v| pods(v, name) == "will_restart_automatically",
    )
    .await;
    let w = &v["workloads"][0];
    assert!(
        w["auto_restart"]
            .as_str()
            .unwrap()
            .contains("sync settings"),
        "{w}"
    );
}

/// Reloader's `search` mode (the workload opts in, its Secret carries `match`) and an `ignore`d
/// Secret: Keyway follows the same rule as the Reloader stand-in ([`reloader::reloads`]), so
/// it promises an automatic restart exactly when Reloader will do one.
#[tokio::test]
async fn reloader_search_and_match_restarts_automatically_and_an_ignored_secret_does_not() {
    let app = TestApp::on_cluster().await;
    let mut alice = app.login("alice", "alice-pass").await;
    let cases = [
        (
            "rlsearch",
            (reloader::SEARCH, reloader::MATCH),
            "will_restart_automatically",
        ),
        (
            "rlignore",
            (reloader::AUTO, reloader::IGNORE),
            "restart_needed",
        ),
    ];
    for (name, (on_workload, on_secret), want) in cases {
        let app_name = format!("kwt-{name}");
        // On the pod template for one, on the Deployment for the other: both count.
        let annotations = json!({ on_workload: "true" });
        let extra = if name == "rlsearch" {
            json!({"spec": {"template": {"metadata": {"annotations": annotations}}}})
        } else {
            json!({"metadata": {"annotations": annotations}})
        };
        deployment_before_its_secret(&app_name, extra).await;
        let s = stage(
            &app,
            name,
            json!({"destination": {"annotations": { on_secret: "true" }}}),
        )
        .await;
        let v = status_until(&mut alice, &s, want, Duration::from_secs(20), |v| {
            pods(v, &app_name) == want
        })
        .await;
        let w = &v["workloads"][0];
        if want == "will_restart_automatically" {
            assert!(
                w["auto_restart"].as_str().unwrap().contains("Reloader"),
                "{w}"
            );
        } else {
            assert!(w["auto_restart"].is_null(), "{w}");
        }
    }
}

#[tokio::test]
async fn no_restart_or_sync_without_the_vault_grant_even_called_directly() {
    let app = TestApp::on_cluster().await;
    app.cluster_loaded().await;
    // carol may read dev but has no keyway/restart grant.
    let mut carol = app.login("carol", "carol-pass").await;
    let v = carol
        .ok(
            "cluster_status",
            json!({"secret": {"mount": "dev", "path": "webapp/config"}}),
        )
        .await;
    assert_eq!(v["apps"][0]["may_act"], false);
    for (endpoint, extra) in [
        ("sync_now", json!({})),
        ("restart", json!({"workload": null, "sync_first": false})),
    ] {
        let mut args = json!({"secret": {"mount": "dev", "path": "webapp/config"}, "app": {"namespace": "dev", "name": "vault-kv-app"}});
        merge(&mut args, extra);
        let (code, body) = carol.call(endpoint, args).await;
        assert_eq!(code, StatusCode::FORBIDDEN, "{endpoint}: {body}");
        assert!(
            body.to_string().contains("keyway/restart/dev/vault-kv-app"),
            "{body}"
        );
    }
    let denied = app
        .audit_rows()
        .await
        .iter()
        .filter(|r| r.actor_name.contains("carol") && r.outcome == Outcome::Denied)
        .count();
    assert!(denied >= 2, "refusals are audited");

    // alice edits dev only: staging's apps are not hers, whichever way she asks.
    let mut alice = app.login("alice", "alice-pass").await;
    let (code, _) = alice
        .call(
            "cluster_status",
            json!({"secret": {"mount": "staging", "path": "webapp/config"}}),
        )
        .await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    let (code, body) = alice
        .call(
            "restart",
            json!({"secret": {"mount": "staging", "path": "webapp/config"}, "app": {"namespace": "staging", "name": "webapp"},
                   "workload": null, "sync_first": false}),
        )
        .await;
    assert_eq!(code, StatusCode::FORBIDDEN, "{body}");
    // Naming her own path with another team's app: Vault is asked first, and says no.
    let (code, body) = alice
        .call(
            "restart",
            json!({"secret": {"mount": "dev", "path": "webapp/config"}, "app": {"namespace": "staging", "name": "webapp"},
                   "workload": null, "sync_first": false}),
        )
        .await;
    assert_eq!(code, StatusCode::FORBIDDEN, "{body}");
    // Her own environment, but an app that does not copy this secret.
    let (code, body) = alice
        .call(
            "restart",
            json!({"secret": {"mount": "dev", "path": "webapp/config"}, "app": {"namespace": "dev", "name": "no-such-app"},
                   "workload": null, "sync_first": false}),
        )
        .await;
    assert_eq!(code, StatusCode::NOT_FOUND, "{body}");
    let alice_refusals = app
        .audit_rows()
        .await
        .iter()
        .filter(|r| {
            r.actor_name.contains("alice") && r.action == "restart" && r.outcome == Outcome::Denied
        })
        .count();
    assert_eq!(
        alice_refusals, 3,
        "each of alice's refused restarts is audited"
    );
    let d = Api::<Deployment>::namespaced(admin().await, "staging")
        .get("webapp")
        .await
        .unwrap();
    let ann = d
        .spec
        .template
        .metadata
        .and_then(|m| m.annotations)
        .unwrap_or_default();
    assert!(
        !ann.contains_key("kubectl.kubernetes.io/restartedAt"),
        "staging/webapp untouched"
    );
}

/// Keyway's account's kubeconfig with the apiserver's address replaced by `server`.
fn kubeconfig_with_server(dir: &std::path::Path, server: &str) -> String {
    let env = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("{k} is set by cluster/up"));
    let sa = std::fs::read_to_string(env("KEYWAY_SA_KUBECONFIG")).unwrap();
    let api = env("KEYWAY_K8S_SERVER");
    assert!(sa.contains(&api), "the kubeconfig names {api}");
    let path = dir.join("kubeconfig");
    std::fs::write(&path, sa.replace(&api, server)).unwrap();
    path.to_str().unwrap().to_string()
}

/// The `problem` of `cluster_status` for `dev/webapp/config`.
async fn problem(alice: &mut common::Client<'_>) -> Value {
    let v = alice
        .ok(
            "cluster_status",
            json!({"secret": {"mount": "dev", "path": "webapp/config"}}),
        )
        .await;
    assert_eq!(v["configured"], true);
    v["problem"].clone()
}

#[tokio::test]
async fn an_unreachable_cluster_is_said_and_the_editor_keeps_working() {
    // A kubeconfig whose server refuses connections: a real failure, no double.
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let kcfg = kubeconfig_with_server(dir.path(), &format!("https://127.0.0.1:{port}"));
    let app = TestApp::on_cluster_with(&kcfg).await;
    let mut alice = app.login("alice", "alice-pass").await;
    // Right after start it may still say "loading"; once the first connection failed, it says
    // "unreachable", and nothing else.
    let said = eventually("said unreachable", Duration::from_secs(20), async || {
        let p = problem(&mut alice).await;
        assert!(p == CLUSTER_UNREACHABLE || p == CLUSTER_LOADING, "{p}");
        (p == CLUSTER_UNREACHABLE).then_some(p)
    })
    .await;
    assert_eq!(said, "The cluster cannot be reached right now.");
    // The editor does not depend on the cluster.
    let secret = alice
        .ok(
            "secret",
            json!({"secret": {"mount": "dev", "path": "webapp/config"}}),
        )
        .await;
    assert!(secret.to_string().contains("username"));
}

/// A reachable cluster whose first lists have not arrived yet is "still loading", never
/// "unreachable": Keyway reaches the real apiserver through a relay that holds every answer
/// until the test lets them through.
#[tokio::test]
async fn a_reachable_cluster_still_listing_is_said_loading_not_unreachable() {
    let api = std::env::var("KEYWAY_K8S_SERVER").expect("KEYWAY_K8S_SERVER is set by cluster/up");
    let upstream = api.trim_start_matches("https://").to_string();
    let relay = common::HeldRelay::start(&upstream).await;
    let dir = tempfile::tempdir().unwrap();
    let kcfg = kubeconfig_with_server(dir.path(), &format!("https://127.0.0.1:{}", relay.port));
    let app = TestApp::on_cluster_with(&kcfg).await;
    let mut alice = app.login("alice", "alice-pass").await;
    // Connected, nothing answered yet: each ask says "loading".
    eventually(
        "the relay has a connection",
        Duration::from_secs(10),
        || async { relay.connections().gt(&0).then_some(()) },
    )
    .await;
    for _ in 0..5 {
        assert_eq!(problem(&mut alice).await, CLUSTER_LOADING);
    }
    relay.release();
    eventually(
        "in sync once the lists arrive",
        Duration::from_secs(30),
        async || {
            let p = problem(&mut alice).await;
            assert_ne!(
                p, CLUSTER_UNREACHABLE,
                "a reachable cluster called unreachable"
            );
            p.is_null().then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn the_overview_lists_only_readable_apps_and_searches() {
    let app = TestApp::on_cluster().await;
    // Every watch listed (the failing app's events too): before that its state is "unknown",
    // which a loaded machine showed once.
    app.cluster_loaded().await;
    let names = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                format!(
                    "{}/{}",
                    i["namespace"].as_str().unwrap(),
                    i["name"].as_str().unwrap()
                )
            })
            .collect()
    };
    let mut alice = app.login("alice", "alice-pass").await;
    // Keyway's cluster cache may not have listed the apps yet in its first moments.
    let v = until(
        "the overview lists alice's apps",
        Duration::from_secs(30),
        async || {
            let v = alice
                .ok("cluster_apps", json!({"query": "", "page": 0}))
                .await;
            let seen = names(&v);
            if seen.contains(&"dev/vault-kv-app".to_string()) {
                Ok(v)
            } else {
                Err(format!("{seen:?}"))
            }
        },
    )
    .await;
    let seen = names(&v);
    assert!(seen.contains(&"dev/vault-kv-app".to_string()), "{seen:?}");
    assert!(
        seen.contains(&"payments/payments-api".to_string()),
        "{seen:?}"
    );
    assert!(
        !seen.iter().any(|n| n.starts_with("staging/")),
        "alice reads no staging secret: {seen:?}"
    );
    let kv = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "vault-kv-app")
        .unwrap()
        .clone();
    assert_eq!(
        (
            kv["secret"]["mount"].as_str(),
            kv["secret"]["path"].as_str()
        ),
        (Some("dev"), Some("webapp/config"))
    );
    assert!(
        [
            "live",
            "pending",
            "failing",
            "pinned",
            "not_set_up",
            "unknown"
        ]
        .contains(&state(&kv["live"])),
        "{kv}"
    );

    let v = alice
        .ok("cluster_apps", json!({"query": "PAYMENTS", "page": 0}))
        .await;
    assert_eq!(names(&v), vec!["payments/payments-api".to_string()]);
    assert_eq!(v["has_more"], false);

    let mut carol = app.login("carol", "carol-pass").await;
    let v = carol
        .ok("cluster_apps", json!({"query": "staging", "page": 0}))
        .await;
    let seen = names(&v);
    assert!(
        seen.contains(&"staging/webapp".to_string())
            && seen.contains(&"staging/worker".to_string()),
        "{seen:?}"
    );
    let worker = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "worker")
        .unwrap()
        .clone();
    assert_eq!(state(&worker["live"]), "failing");
}

#[tokio::test]
async fn two_clicks_at_the_same_moment_restart_once() {
    let app = TestApp::on_cluster().await;
    let s = stage(&app, "twice", json!({})).await;
    create_deployment(deployment(&s.app(), &s.app(), json!({}))).await;
    let mut a = app.login("alice", "alice-pass").await;
    let mut b = app.login("bob", "bob-pass").await;
    status_until(&mut a, &s, "up to date", Duration::from_secs(40), |v| {
        pods(v, &s.app()) == "up_to_date"
    })
    .await;
    let args = json!({"secret": {"mount": "dev", "path": s.path}, "app": {"namespace": "dev", "name": s.app()},
                      "workload": null, "sync_first": false});
    let (ra, rb) = tokio::join!(a.call("restart", args.clone()), b.call("restart", args));
    let mut codes = [ra.0, rb.0];
    codes.sort();
    assert_eq!(
        codes,
        [StatusCode::OK, StatusCode::UNPROCESSABLE_ENTITY],
        "{ra:?} {rb:?}"
    );
    // One restart made, one refused before anything was tried: the metrics count the one.
    let text = app.state.core.metrics.encode();
    assert!(
        text.contains("\nkeyway_restarts_total{outcome=\"ok\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("\nkeyway_restart_duration_seconds_count 1\n"),
        "{text}"
    );
}
