//! Onboarding, end to end on the real apiserver and OpenBao: the platform user fills the form,
//! Keyway writes the Vault side with that user's token and creates the cluster objects with its
//! own account (deploy/rbac-onboarding.yaml, narrowed by deploy/base/admission-policy.yaml), the VSO
//! stand-in logs in with the new role and copies the secret, and a developer of the environment
//! opens and edits it. A step that fails midway is reported with its reason and finished by a
//! retry; what Keyway's account may create is checked against the admission policy itself.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::StatusCode;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ServiceAccount;
use keyway_k8s::reloader;
use keyway_k8s::vso::{VaultAuth, VaultStaticSecret};
use keyway_store::Outcome;
use keyway_testkit::until;
use kube::api::{DeleteParams, Patch, PostParams};
use kube::Api;
use serde_json::{json, Value};

use super::least_privilege::keyway_account;
use super::{admin, create_deployment, deployment, live, state, TestApp};

/// A name no earlier run on the same cluster used.
fn fresh(prefix: &str) -> String {
    let n = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_micros()
        % 10_000_000_000;
    format!("{prefix}-{n}")
}

fn form(app: &str, restart: Value, keys: Value) -> Value {
    json!({"form": {
        "environment": "dev", "app": app, "mount": "", "path": "",
        "service_account": "", "new_service_account": true,
        "restart": restart, "refresh_after": "30s", "keys": keys, "cluster_side": "Keyway"
    }})
}

/// Each step's label and state word (`Done`, `AlreadyThere`, `Failed` ...).
fn steps(report: &Value) -> Vec<(String, String)> {
    report["steps"]
        .as_array()
        .unwrap_or_else(|| panic!("a report: {report}"))
        .iter()
        .map(|s| {
            (
                s["label"].as_str().unwrap().to_owned(),
                state(&s["state"]).to_owned(),
            )
        })
        .collect()
}

/// Removes what an onboarding made in the cluster (Vault keeps its policy, role and secret:
/// the names are unique per run).
async fn clean(app: &str) {
    let dp = DeleteParams::default();
    let client = admin().await;
    let _ = Api::<VaultStaticSecret>::namespaced(client.clone(), "dev")
        .delete(app, &dp)
        .await;
    let _ = Api::<VaultAuth>::namespaced(client.clone(), "dev")
        .delete(app, &dp)
        .await;
    let _ = Api::<ServiceAccount>::namespaced(client.clone(), "dev")
        .delete(app, &dp)
        .await;
}

/// The follow answer's live state word, once the app is there.
async fn follow_until_live(platform: &mut crate::common::Client<'_>, app: &str) -> Value {
    until(
        "the onboarded app live in the cluster",
        Duration::from_secs(90),
        async || {
            let v = platform
                .ok(
                    "onboard_follow",
                    json!({"environment": "dev", "app": app, "background": true}),
                )
                .await;
            match v["app"].as_object() {
                Some(_) if live(&v["app"]) == "live" => Ok(v["app"].clone()),
                _ => Err(v.to_string()),
            }
        },
    )
    .await
}

#[tokio::test]
async fn a_platform_user_onboards_an_app_and_a_developer_of_its_environment_edits_it() {
    let app = TestApp::on_cluster().await;
    app.cluster_loaded().await;
    let name = fresh("kwo-direct");
    let mut platform = app.login("platform", "platform-pass").await;

    // The form starts from the environment's home and the auth mount the operator uses.
    let defaults = platform
        .ok("onboard_defaults", json!({"environment": "dev"}))
        .await;
    assert_eq!(defaults["home"]["mount"], "dev");
    assert_eq!(defaults["auth_mount"], "dev-auth-mount");
    assert!(
        defaults["workloads"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["name"] == "ubuntu"),
        "the environment's workloads are offered: {defaults}"
    );

    // The preview shows everything in full; values never appear in it.
    let body = form(&name, json!("None"), json!({"GREETING": "hello-onboard"}));
    let preview = platform.ok("onboard_preview", body.clone()).await;
    let text = preview.to_string();
    assert!(!text.contains("hello-onboard"), "no value in the preview");
    assert_eq!(preview["policy"]["name"], format!("keyway-app.dev.{name}"));
    assert!(preview["policy"]["text"]
        .as_str()
        .unwrap()
        .contains(&format!("path \"dev/data/{name}/config\"")));
    assert_eq!(
        preview["role"]["name"],
        format!("auth/dev-auth-mount/role/keyway-app.dev.{name}")
    );
    let files: Vec<&str> = preview["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        [
            "serviceaccount.yaml",
            "vaultauth.yaml",
            "vaultstaticsecret.yaml",
            "kustomization.yaml"
        ]
    );
    assert_eq!(preview["keys"], json!(["GREETING"]));

    // Apply: every step done, in order.
    let report = platform.ok("onboard_apply", body.clone()).await;
    let done = steps(&report);
    assert_eq!(
        done.iter().map(|(_, s)| s.as_str()).collect::<Vec<_>>(),
        ["Done"; 6],
        "{report}"
    );
    assert_eq!(done[0].0, format!("Vault policy keyway-app.dev.{name}"));
    assert_eq!(done[5].0, format!("VaultStaticSecret {name}"));

    // The operator (stand-in) logs in with the new role and copies version 1.
    let live_app = follow_until_live(&mut platform, &name).await;
    assert_eq!(live_app["live"]["live"]["version"], 1, "{live_app}");

    // A developer of dev opens and edits it, and the edit goes live too.
    let mut alice = app.login("alice", "alice-pass").await;
    let secret = json!({"mount": "dev", "path": format!("{name}/config")});
    let view = alice.ok("secret", json!({"secret": secret})).await;
    assert!(view.to_string().contains("GREETING"), "{view}");
    alice
        .ok(
            "save",
            json!({"secret": secret, "base_version": 1,
                   "changes": {"set": {"GREETING": "hello-again"}, "remove": [], "rename": []}}),
        )
        .await;
    until("version 2 live", Duration::from_secs(90), async || {
        let v = alice
            .ok(
                "cluster_status",
                json!({"secret": secret, "background": true}),
            )
            .await;
        let a = &v["apps"][0];
        (live(a) == "live" && a["live"]["live"]["version"] == 2)
            .then_some(())
            .ok_or_else(|| v.to_string())
    })
    .await;

    // Sending it again changes nothing: every step says it was there already.
    let again = platform.ok("onboard_apply", body.clone()).await;
    assert_eq!(
        steps(&again)
            .iter()
            .map(|(_, s)| s.as_str())
            .collect::<Vec<_>>(),
        ["AlreadyThere"; 6],
        "{again}"
    );
    // The first version was not overwritten by the retry.
    let data = app.vault_read("dev", &format!("{name}/config")).await;
    assert_eq!(data["data"]["GREETING"], "hello-again", "{data}");

    // The same app name with another secret is refused at the first step: rewriting its policy
    // would cut the running app's operator off its secret.
    let mut other = form(&name, json!("None"), json!({}));
    other["form"]["path"] = json!(format!("{name}/other"));
    let refused = platform.ok("onboard_apply", other).await;
    let refused_steps = steps(&refused);
    assert_eq!(refused_steps[0].1, "Failed", "{refused}");
    assert!(
        refused.to_string().contains("already onboarded"),
        "{refused}"
    );
    let policy = app
        .vault_root_get(&format!("sys/policies/acl/keyway-app.dev.{name}"))
        .await;
    assert!(
        policy
            .to_string()
            .contains(&format!("dev/data/{name}/config")),
        "the app's policy is untouched: {policy}"
    );

    // A path in payments' home (dev/payments/…, inside dev's mount) is payments', not dev's.
    let mut nested = form(&fresh("kwo-nested"), json!("None"), json!({}));
    nested["form"]["path"] = json!("payments/billing/config");
    let (code, why) = platform.call("onboard_preview", nested).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{why}");
    assert!(
        why.to_string()
            .contains("belongs to the environment payments"),
        "{why}"
    );

    // A developer is refused, even calling the endpoint directly, and the refusal is audited.
    let (code, _) = alice
        .call(
            "onboard_apply",
            form(&fresh("kwo-alice"), json!("None"), json!({})),
        )
        .await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    let (code, _) = alice
        .call("onboard_preview", form(&name, json!("None"), json!({})))
        .await;
    assert_eq!(code, StatusCode::FORBIDDEN);

    // One audit action per apply, with its steps; key names only, never a value.
    let rows = app.audit_rows().await;
    let onboarded: Vec<_> = rows
        .iter()
        .filter(|r| r.action == "app.onboard" && r.path == format!("{name}/config"))
        .collect();
    assert!(
        onboarded
            .iter()
            .filter(|r| r.intent_seq.is_some())
            .all(|r| r.outcome == Outcome::Ok),
        "{onboarded:?}"
    );
    let intent = onboarded.iter().find(|r| r.intent_seq.is_none()).unwrap();
    assert_eq!(intent.keys_added, ["GREETING"]);
    assert!(intent
        .detail
        .as_deref()
        .unwrap()
        .contains(&format!("VaultStaticSecret {name}")));
    assert!(rows
        .iter()
        .all(|r| !format!("{r:?}").contains("hello-onboard")));
    assert!(rows.iter().any(|r| r.action == "app.onboard"
        && r.outcome == Outcome::Denied
        && r.actor_name.contains("alice")));
    clean(&name).await;
}

#[tokio::test]
async fn a_step_that_fails_midway_says_why_and_sending_it_again_finishes_it() {
    let app = TestApp::on_cluster().await;
    app.cluster_loaded().await;
    let name = fresh("kwo-retry");
    let mut platform = app.login("platform", "platform-pass").await;
    let restart = json!({"Reloader": {"kind": "Deployment", "name": name}});
    let body = form(&name, restart, json!({}));

    // The workload Reloader is to restart does not exist yet: that step fails, with the reason,
    // and everything before it is done.
    let report = platform.ok("onboard_apply", body.clone()).await;
    let first = steps(&report);
    assert_eq!(
        first.iter().map(|(_, s)| s.as_str()).collect::<Vec<_>>(),
        ["Done", "Done", "Done", "Done", "Done", "Done", "Failed"],
        "{report}"
    );
    let reason = report["steps"][6]["state"]["Failed"].as_str().unwrap();
    assert!(
        reason.contains(&format!("There is no Deployment {name} in namespace dev")),
        "{reason}"
    );

    // Deployed now (as the team would); the same form again finishes the job.
    create_deployment(deployment(&name, &name, json!({}))).await;
    let report = platform.ok("onboard_apply", body.clone()).await;
    assert_eq!(
        steps(&report)
            .iter()
            .map(|(_, s)| s.as_str())
            .collect::<Vec<_>>(),
        [
            "AlreadyThere",
            "AlreadyThere",
            "AlreadyThere",
            "AlreadyThere",
            "AlreadyThere",
            "AlreadyThere",
            "Done"
        ],
        "{report}"
    );
    let d = Api::<Deployment>::namespaced(admin().await, "dev")
        .get(&name)
        .await
        .unwrap();
    assert_eq!(
        d.metadata
            .annotations
            .unwrap_or_default()
            .get(reloader::AUTO),
        Some(&"true".to_owned())
    );

    // Audited: the failed attempt names the step and what was done before; the retry is ok.
    let rows = app.audit_rows().await;
    let outcomes: Vec<_> = rows
        .iter()
        .filter(|r| {
            r.action == "app.onboard" && r.intent_seq.is_some() && r.path.starts_with(&name)
        })
        .collect();
    assert_eq!(outcomes.len(), 2, "{outcomes:?}");
    let failed = outcomes[0].detail.as_deref().unwrap_or_default();
    assert!(
        failed.starts_with(&format!("Reloader on Deployment {name}")),
        "{failed}"
    );
    assert!(failed.contains("done before: Vault policy"), "{failed}");
    assert_eq!(outcomes[1].outcome, Outcome::Ok);

    let _ = Api::<Deployment>::namespaced(admin().await, "dev")
        .delete(&name, &DeleteParams::default())
        .await;
    clean(&name).await;
}

#[tokio::test]
async fn the_admission_policy_lets_keyway_create_only_what_onboarding_renders() {
    let sa = keyway_account().await;
    let dry = PostParams {
        dry_run: true,
        field_manager: Some("keyway".into()),
    };
    let labels = json!({"app.kubernetes.io/managed-by": "keyway"});
    let account = |labels: Value| -> ServiceAccount {
        serde_json::from_value(
            json!({"metadata": {"name": "kwo-probe", "namespace": "dev", "labels": labels}}),
        )
        .unwrap()
    };
    let accounts: Api<ServiceAccount> = Api::namespaced(sa.clone(), "dev");
    accounts
        .create(&dry, &account(labels.clone()))
        .await
        .expect("a labelled ServiceAccount may be created");
    let auth = |role: &str, extra: Value| -> VaultAuth {
        let mut spec = json!({"method": "kubernetes", "mount": "dev-auth-mount",
            "kubernetes": {"role": role, "serviceAccount": "kwo-probe", "audiences": ["vault"]}});
        super::merge(&mut spec, extra);
        serde_json::from_value(
            json!({"apiVersion": "secrets.hashicorp.com/v1beta1", "kind": "VaultAuth",
            "metadata": {"name": "kwo-probe", "namespace": "dev", "labels": labels}, "spec": spec}),
        )
        .unwrap()
    };
    let auths: Api<VaultAuth> = Api::namespaced(sa.clone(), "dev");
    auths
        .create(&dry, &auth("keyway-app.dev.kwo-probe", json!({})))
        .await
        .expect("the app's own VaultAuth may be created");
    let vss_with = |auth_ref: &str, destination: Value| -> VaultStaticSecret {
        serde_json::from_value(json!({"apiVersion": "secrets.hashicorp.com/v1beta1", "kind": "VaultStaticSecret",
            "metadata": {"name": "kwo-probe", "namespace": "dev", "labels": labels},
            "spec": {"vaultAuthRef": auth_ref, "type": "kv-v2", "mount": "dev", "path": "kwo-probe/config",
                     "refreshAfter": "30s", "destination": destination}}))
        .unwrap()
    };
    let vss =
        |auth_ref: &str, dest: &str| vss_with(auth_ref, json!({"name": dest, "create": true}));
    let statics: Api<VaultStaticSecret> = Api::namespaced(sa.clone(), "dev");
    statics
        .create(&dry, &vss("kwo-probe", "kwo-probe"))
        .await
        .expect("the app's own VaultStaticSecret may be created");

    // Refused by the policy, each with its words: a stolen token cannot create a login to a
    // broader role, reuse another VaultAuth, fill another Secret, or create unlabelled objects.
    let refused = |what: &str, r: Result<String, kube::Error>, says: &str| match r {
        Err(kube::Error::Api(s)) => assert!(
            s.message.contains(says),
            "{what}: refused for the wrong reason: {}",
            s.message
        ),
        other => panic!("{what}: expected a refusal, got {other:?}"),
    };
    let name =
        |r: Result<_, kube::Error>| r.map(|o: kube::api::ObjectMeta| o.name.unwrap_or_default());
    refused(
        "an unlabelled ServiceAccount",
        name(
            accounts
                .create(&dry, &account(json!({})))
                .await
                .map(|o| o.metadata),
        ),
        "it may create only an onboarded app's objects",
    );
    refused(
        "a VaultAuth with the environment's broad role",
        name(
            auths
                .create(&dry, &auth("dev", json!({})))
                .await
                .map(|o| o.metadata),
        ),
        "logs in with the app's own role",
    );
    refused(
        "a VaultAuth on another connection",
        name(
            auths
                .create(
                    &dry,
                    &auth(
                        "keyway-app.dev.kwo-probe",
                        json!({"vaultConnectionRef": "vault-secrets-operator-system/evil"}),
                    ),
                )
                .await
                .map(|o| o.metadata),
        ),
        "default connection",
    );
    refused(
        "a VaultStaticSecret using another VaultAuth",
        name(
            statics
                .create(&dry, &vss("default", "kwo-probe"))
                .await
                .map(|o| o.metadata),
        ),
        "VaultAuth of its own name",
    );
    refused(
        "a VaultStaticSecret filling another Secret",
        name(
            statics
                .create(&dry, &vss("kwo-probe", "dev-secret"))
                .await
                .map(|o| o.metadata),
        ),
        "Secret of its own name",
    );

    refused(
        "a VaultStaticSecret filling a service-account token Secret",
        name(
            statics
                .create(
                    &dry,
                    &vss_with(
                        "kwo-probe",
                        json!({"name": "kwo-probe", "create": true,
                               "type": "kubernetes.io/service-account-token",
                               "annotations": {"kubernetes.io/service-account.name": "default"}}),
                    ),
                )
                .await
                .map(|o| o.metadata),
        ),
        "plain Secret of its own name",
    );
    refused(
        "a VaultAuth for another audience",
        name(
            auths
                .create(
                    &dry,
                    &auth(
                        "keyway-app.dev.kwo-probe",
                        json!({"kubernetes": {"audiences": ["https://kubernetes.default.svc"]}}),
                    ),
                )
                .await
                .map(|o| o.metadata),
        ),
        "logs in with the app's own role",
    );

    // On a workload: Reloader's annotation set to "true", and nothing else.
    let ubuntu: Api<Deployment> = Api::namespaced(sa.clone(), "dev");
    let dry_patch = kube::api::PatchParams {
        dry_run: true,
        field_manager: Some("keyway".into()),
        ..Default::default()
    };
    ubuntu
        .patch(
            "ubuntu",
            &dry_patch,
            &Patch::Merge(json!({"metadata": {"annotations": {reloader::AUTO: "true"}}})),
        )
        .await
        .expect("Reloader's annotation may be set");
    for (what, ann) in [
        (
            "Reloader's annotation set to false",
            json!({reloader::AUTO: "false"}),
        ),
        (
            "another annotation",
            json!({"example.com/owner": "mallory"}),
        ),
    ] {
        refused(
            what,
            name(
                ubuntu
                    .patch(
                        "ubuntu",
                        &dry_patch,
                        &Patch::Merge(json!({"metadata": {"annotations": ann}})),
                    )
                    .await
                    .map(|o| o.metadata),
            ),
            "Keyway's account may change only the restart annotation",
        );
    }
}
