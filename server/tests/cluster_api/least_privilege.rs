//! Least privilege, on the real apiserver: what a stolen Keyway token can and cannot do.
//!
//! - RBAC (`deploy/base/rbac.yaml`): Keyway's account lists Secrets only in the namespaces it serves,
//!   not cluster-wide nor in kube-system; it cannot patch outside them, and cannot get, create or
//!   delete anything.
//! - The admission policy (`deploy/base/admission-policy.yaml`): inside a served namespace, a patch by
//!   that account may change only the restart annotation of a pod template and the sync
//!   annotation of a VaultStaticSecret. Each refusal is checked to carry the policy's own
//!   message, so it is the policy refusing and not RBAC. Patches are server-side dry runs: the
//!   apiserver authorises and admits them exactly as real ones, and the world stays as it was.
//! - Keyway serving `dev,payments,staging` shows their apps and not an app elsewhere, even one
//!   its account may read.

use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Event, Namespace, Secret};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use keyway_k8s::actions::{RESTARTED_AT, SYNC_REQUESTED_AT};
use keyway_k8s::vso::VaultStaticSecret;
use keyway_testkit::until;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::{json, Value};

use super::{admin, TestApp};
use crate::common::cluster_env;

/// A client with Keyway's own account (`KEYWAY_SA_KUBECONFIG`), as Keyway itself connects.
pub(super) async fn keyway_account() -> Client {
    let path = cluster_env("KEYWAY_SA_KUBECONFIG");
    let kc = kube::config::Kubeconfig::read_from(&path).expect("Keyway's kubeconfig");
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .expect("Keyway's kubeconfig is usable");
    Client::try_from(cfg).expect("client")
}

/// The HTTP status and message of a refused call (panics when it was accepted).
fn refusal<T: std::fmt::Debug>(what: &str, r: Result<T, kube::Error>) -> (u16, String) {
    match r {
        Err(kube::Error::Api(s)) => (s.code, s.message),
        other => panic!("{what}: expected a refusal, got {other:?}"),
    }
}

fn forbidden<T: std::fmt::Debug>(what: &str, r: Result<T, kube::Error>) {
    let (code, msg) = refusal(what, r);
    assert_eq!(code, 403, "{what}: {msg}");
    assert!(msg.contains("forbidden"), "{what}: refused by RBAC: {msg}");
}

fn dry_run() -> PatchParams {
    PatchParams {
        dry_run: true,
        field_manager: Some("keyway".into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn keyways_account_reads_only_served_namespaces_and_cannot_create_or_delete() {
    let sa = keyway_account().await;
    // Served: reads through list (what its watches do).
    Api::<Secret>::namespaced(sa.clone(), "dev")
        .list(&ListParams::default())
        .await
        .expect("Keyway lists Secrets in a namespace it serves");
    // Not served, or cluster-wide: refused by RBAC.
    let lp = ListParams::default();
    forbidden(
        "list Secrets cluster-wide",
        Api::<Secret>::all(sa.clone()).list(&lp).await,
    );
    forbidden(
        "list Secrets in kube-system",
        Api::<Secret>::namespaced(sa.clone(), "kube-system")
            .list(&lp)
            .await,
    );
    forbidden(
        "list Pods cluster-wide",
        Api::<k8s_openapi::api::core::v1::Pod>::all(sa.clone())
            .list(&lp)
            .await,
    );
    forbidden(
        "list Events cluster-wide",
        Api::<Event>::all(sa.clone()).list(&lp).await,
    );
    // No `get` even where it lists: a Secret is never fetched one by one.
    forbidden(
        "get a Secret",
        Api::<Secret>::namespaced(sa.clone(), "dev")
            .get("dev-secret")
            .await,
    );

    // A real Deployment in a namespace Keyway does not serve: its restart patch is refused.
    let outside: Api<Deployment> = Api::namespaced(admin().await, "default");
    let d: Deployment = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "kwt-outside", "namespace": "default"},
        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "kwt-outside"}},
                 "template": {"metadata": {"labels": {"app": "kwt-outside"}},
                              "spec": {"containers": [{"name": "app", "image": "app:1"}]}}}
    }))
    .unwrap();
    outside
        .patch(
            "kwt-outside",
            &PatchParams::apply("kwtest").force(),
            &Patch::Apply(&d),
        )
        .await
        .unwrap();
    let restart = json!({"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: "2030-01-01T00:00:00Z"}}}}});
    forbidden(
        "restart a Deployment in default",
        Api::<Deployment>::namespaced(sa.clone(), "default")
            .patch("kwt-outside", &dry_run(), &Patch::Strategic(&restart))
            .await,
    );

    // Nothing is created or deleted, even in a served namespace.
    let dev_deployments: Api<Deployment> = Api::namespaced(sa.clone(), "dev");
    let mut copy = d.clone();
    copy.metadata.namespace = Some("dev".into());
    let pp = PostParams {
        dry_run: true,
        ..Default::default()
    };
    forbidden(
        "create a Deployment",
        dev_deployments.create(&pp, &copy).await,
    );
    let dp = DeleteParams {
        dry_run: true,
        ..Default::default()
    };
    forbidden(
        "delete a Deployment",
        dev_deployments.delete("ubuntu", &dp).await,
    );
    forbidden(
        "delete a VaultStaticSecret",
        Api::<VaultStaticSecret>::namespaced(sa.clone(), "dev")
            .delete("vault-kv-app", &dp)
            .await,
    );
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": "kwt-planted", "namespace": "dev"}, "stringData": {"k": "v"}
    }))
    .unwrap();
    forbidden(
        "create a Secret",
        Api::<Secret>::namespaced(sa.clone(), "dev")
            .create(&pp, &secret)
            .await,
    );
    forbidden(
        "patch a Secret",
        Api::<Secret>::namespaced(sa, "dev")
            .patch(
                "dev-secret",
                &dry_run(),
                &Patch::Merge(json!({"stringData": {"username": "x"}})),
            )
            .await,
    );
}

/// The message every refusal of the policy starts with.
const POLICY_SAYS: &str = "Keyway's account may";

#[tokio::test]
async fn the_admission_policy_lets_keyway_change_only_its_two_annotations() {
    let sa = keyway_account().await;
    let ubuntu: Api<Deployment> = Api::namespaced(sa.clone(), "dev");
    let ledger: Api<StatefulSet> = Api::namespaced(sa.clone(), "payments");
    let vss: Api<VaultStaticSecret> = Api::namespaced(sa.clone(), "dev");
    // Strategic merge patches: containers merge by name (`ubuntu`, `ledger` in workloads.yaml).
    let container = |name: &str, set: Value| {
        let mut c = json!({"name": name});
        super::merge(&mut c, set);
        Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [c]}}}}))
    };

    // Allowed: exactly Keyway's two writes (actions.rs), on a Deployment, a StatefulSet, a VSS.
    let restart = json!({"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: "2030-01-01T00:00:00Z"}}}}});
    ubuntu
        .patch("ubuntu", &dry_run(), &Patch::Strategic(&restart))
        .await
        .expect("a restart of a Deployment is allowed");
    ledger
        .patch("ledger", &dry_run(), &Patch::Strategic(&restart))
        .await
        .expect("a restart of a StatefulSet is allowed");
    let sync = json!({"metadata": {"annotations": {SYNC_REQUESTED_AT: "2030-01-01T00:00:00Z"}}});
    vss.patch("vault-kv-app", &dry_run(), &Patch::Merge(&sync))
        .await
        .expect("a sync request on a VaultStaticSecret is allowed");

    // Refused by the policy, each with the words that say which part it guards.
    let image = container("ubuntu", json!({"image": "evil:latest"}));
    let command = container(
        "ubuntu",
        json!({"command": ["sh", "-c", "cat /proc/1/environ"]}),
    );
    let replicas = Patch::Merge(json!({"spec": {"replicas": 9}}));
    let other_ann = Patch::Strategic(
        json!({"spec": {"template": {"metadata": {"annotations": {"sidecar.istio.io/inject": "true"}}}}}),
    );
    let owner = Patch::Merge(json!({"metadata": {"ownerReferences": [{
        "apiVersion": "v1", "kind": "ConfigMap", "name": "gone", "uid": "00000000-0000-0000-0000-000000000000"}]}}));
    for (what, r, says) in [
        (
            "Deployment image",
            ubuntu.patch("ubuntu", &dry_run(), &image).await.map(drop),
            "pod spec",
        ),
        (
            "Deployment command",
            ubuntu.patch("ubuntu", &dry_run(), &command).await.map(drop),
            "pod spec",
        ),
        (
            "Deployment replicas",
            ubuntu
                .patch("ubuntu", &dry_run(), &replicas)
                .await
                .map(drop),
            "outside the pod template",
        ),
        (
            "another pod-template annotation",
            ubuntu
                .patch("ubuntu", &dry_run(), &other_ann)
                .await
                .map(drop),
            "other labels, annotations",
        ),
        (
            "a pod-template finalizer (its pods would hang when deleted)",
            ubuntu
                .patch(
                    "ubuntu",
                    &dry_run(),
                    &Patch::Merge(
                        json!({"spec": {"template": {"metadata": {"finalizers": ["example.com/stuck"]}}}}),
                    ),
                )
                .await
                .map(drop),
            "finalizers",
        ),
        (
            "an owner (the garbage collector would delete it)",
            ubuntu.patch("ubuntu", &dry_run(), &owner).await.map(drop),
            "owners",
        ),
        (
            "StatefulSet image",
            ledger
                .patch(
                    "ledger",
                    &dry_run(),
                    &container("ledger", json!({"image": "evil:latest"})),
                )
                .await
                .map(drop),
            "pod spec",
        ),
    ] {
        let (code, msg) = refusal(what, r);
        assert!(
            msg.contains(POLICY_SAYS) && msg.contains(says),
            "{what}: refused by the policy ({code}): {msg}"
        );
        assert_ne!(code, 403, "{what}: refused by admission, not RBAC: {msg}");
    }
    for (what, patch, says) in [
        (
            "VSS spec.path",
            Patch::Merge(json!({"spec": {"path": "payments/api"}})),
            "spec.path",
        ),
        (
            "VSS another annotation",
            Patch::Merge(json!({"metadata": {"annotations": {"evil": "1"}}})),
            "sync annotation",
        ),
    ] {
        let (code, msg) = refusal(
            what,
            vss.patch("vault-kv-app", &dry_run(), &patch)
                .await
                .map(|_| ()),
        );
        assert!(
            msg.contains(POLICY_SAYS) && msg.contains(says),
            "{what}: refused by the policy ({code}): {msg}"
        );
    }
    // The dry runs changed nothing.
    let now = Api::<Deployment>::namespaced(admin().await, "dev")
        .get("ubuntu")
        .await
        .unwrap();
    let ann = now
        .spec
        .template
        .metadata
        .and_then(|m| m.annotations)
        .unwrap_or_default();
    assert_ne!(
        ann.get(RESTARTED_AT).map(String::as_str),
        Some("2030-01-01T00:00:00Z")
    );
}

/// A namespace of its own for one run, with an app that copies `dev/webapp/config` (which
/// alice reads), created as admin; deleted when dropped.
struct Elsewhere {
    name: String,
}

impl Elsewhere {
    async fn create() -> Elsewhere {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!("kwt-elsewhere-{nanos}");
        let c = admin().await;
        let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
        Api::<Namespace>::all(c.clone())
            .create(&PostParams::default(), &ns)
            .await
            .unwrap();
        let vss: VaultStaticSecret = serde_json::from_value(json!({
            "apiVersion": "secrets.hashicorp.com/v1beta1", "kind": "VaultStaticSecret",
            "metadata": {"name": "stray", "namespace": name},
            "spec": {"type": "kv-v2", "mount": "dev", "path": "webapp/config", "vaultAuthRef": "none",
                     "refreshAfter": "1h", "destination": {"name": "stray", "create": true}}
        }))
        .unwrap();
        Api::<VaultStaticSecret>::namespaced(c, &name)
            .create(&PostParams::default(), &vss)
            .await
            .unwrap();
        Elsewhere { name }
    }

    /// Grants Keyway's account there exactly what deploy/base/rbac.yaml grants in dev (the way
    /// deploy/README.md says to add a namespace).
    async fn grant_keyway(&self) {
        let c = admin().await;
        let mut role = Api::<Role>::namespaced(c.clone(), "dev")
            .get("keyway")
            .await
            .unwrap();
        let mut binding = Api::<RoleBinding>::namespaced(c.clone(), "dev")
            .get("keyway")
            .await
            .unwrap();
        for m in [&mut role.metadata, &mut binding.metadata] {
            *m = serde_json::from_value(json!({"name": "keyway", "namespace": self.name})).unwrap();
        }
        let pp = PostParams::default();
        Api::<Role>::namespaced(c.clone(), &self.name)
            .create(&pp, &role)
            .await
            .unwrap();
        Api::<RoleBinding>::namespaced(c, &self.name)
            .create(&pp, &binding)
            .await
            .unwrap();
    }
}

impl Drop for Elsewhere {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Namespace deletion finishes in the background (the namespace controller).
        let _ = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(async {
                    let c = admin().await;
                    let _ = Api::<Namespace>::all(c)
                        .delete(&name, &DeleteParams::default())
                        .await;
                })
        })
        .join();
    }
}

/// The `namespace/name` of every app `cluster_status` lists for `dev/webapp/config`, once the
/// status is in sync.
async fn apps_of_webapp_config(app: &TestApp) -> Vec<String> {
    let mut alice = app.login("alice", "alice-pass").await;
    until(
        "cluster status in sync",
        Duration::from_secs(30),
        async || {
            let v = alice
                .ok(
                    "cluster_status",
                    json!({"secret": {"mount": "dev", "path": "webapp/config"}}),
                )
                .await;
            let names: Vec<String> = v["apps"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| {
                    format!(
                        "{}/{}",
                        a["namespace"].as_str().unwrap(),
                        a["name"].as_str().unwrap()
                    )
                })
                .collect();
            if v["problem"].is_null() && names.contains(&"dev/vault-kv-app".to_string()) {
                Ok(names)
            } else {
                Err(format!("{v}"))
            }
        },
    )
    .await
}

#[tokio::test]
async fn keyway_shows_the_apps_of_the_namespaces_it_serves_and_no_other() {
    let elsewhere = Elsewhere::create().await;
    let stray = format!("{}/stray", elsewhere.name);
    // Its account may even read there: Keyway still shows only what it serves.
    elsewhere.grant_keyway().await;
    let sa = cluster_env("KEYWAY_SA_KUBECONFIG");
    let served = TestApp::on_cluster().await;
    let names = apps_of_webapp_config(&served).await;
    assert_eq!(
        names,
        ["dev/vault-kv-app"],
        "only served namespaces: {names:?}"
    );

    // Once the namespace is added to KEYWAY_NAMESPACES, its app shows: the app was there to see.
    let list = format!("{},{}", cluster_env("KEYWAY_SA_NAMESPACES"), elsewhere.name);
    let added = TestApp::on_cluster_serving(&sa, Some(&list)).await;
    let names = until("the stray app shown", Duration::from_secs(30), async || {
        let names = apps_of_webapp_config(&added).await;
        if names.contains(&stray) {
            Ok(names)
        } else {
            Err(format!("{names:?}"))
        }
    })
    .await;
    assert!(names.contains(&"dev/vault-kv-app".to_string()), "{names:?}");
}

/// What RBAC does not grant today, the policy refuses anyway: should Keyway's account ever be
/// bound more widely, it still changes nothing but its two annotations. Checked as a cluster
/// admin impersonating Keyway's account name, with `system:masters` so that RBAC lets the
/// request through to admission (dry runs: nothing is written).
#[tokio::test]
async fn the_admission_policy_refuses_every_other_kind_and_subresource_to_keyways_name() {
    let path = cluster_env("KUBECONFIG");
    let kc = kube::config::Kubeconfig::read_from(&path).expect("the admin kubeconfig");
    let mut cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .expect("usable");
    cfg.auth_info.impersonate = Some("system:serviceaccount:keyway-system:keyway".into());
    cfg.auth_info.impersonate_groups = Some(vec!["system:masters".into()]);
    let as_keyway = Client::try_from(cfg).expect("client");
    let config_maps: Api<k8s_openapi::api::core::v1::ConfigMap> =
        Api::namespaced(as_keyway.clone(), "dev");
    let cm: k8s_openapi::api::core::v1::ConfigMap = serde_json::from_value(
        json!({"metadata": {"name": "keyway-would-not", "namespace": "dev"}}),
    )
    .unwrap();
    let created = config_maps
        .create(
            &PostParams {
                dry_run: true,
                ..Default::default()
            },
            &cm,
        )
        .await
        .map(drop);
    let deployments: Api<Deployment> = Api::namespaced(as_keyway, "dev");
    let scaled = deployments
        .patch_scale(
            "ubuntu",
            &dry_run(),
            &Patch::Merge(json!({"spec": {"replicas": 9}})),
        )
        .await
        .map(drop);
    for (what, r) in [("a ConfigMap", created), ("deployments/scale", scaled)] {
        let (code, msg) = refusal(what, r);
        assert!(
            msg.contains("Keyway's account may change nothing but"),
            "{what}: refused by the catch-all policy ({code}): {msg}"
        );
    }
}
