//! The cluster suite: runs against `end2end/cluster/up` (a real kube-apiserver, a real OpenBao,
//! the VSO and Reloader stand-ins) and checks the behaviour Keyway's "Live in cluster" and
//! "Running pods" rely on: the world is there, kv writes reach the Secret within `refreshAfter`,
//! the status and events say so, Reloader and `rolloutRestartTargets` roll the workloads, the
//! failing app fails the way VSO fails, and a force sync by annotation is honoured.
//!
//! Built only with `--features cluster-tests` (`end2end/run test` does that after `up`), and it
//! fails, never skips, when the cluster's environment is missing. Tests that change a kv secret
//! hold one lock and put the seed's values back, so they can share the cluster.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Event, Secret};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use keyway_k8s::vso::{VaultAuth, VaultConnection, VaultStaticSecret};
use keyway_testkit::eventually;
use kube::api::{ListParams, Patch, PatchParams};
use kube::{Api, Client, ResourceExt};
use tokio::sync::{Mutex, OnceCell};
use tokio::time::Instant;

/// One writer of kv secrets at a time.
static KV: Mutex<()> = Mutex::const_new(());

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run this suite through `end2end/run test`, or after `eval \"$(end2end/cluster/up)\"`")
    })
}

async fn client() -> Client {
    env("KUBECONFIG");
    Client::try_default()
        .await
        .expect("a client from KUBECONFIG")
}

/// `bao kv put -mount=M PATH k=v ...`, as a person would; returns the new version.
fn kv_put(mount: &str, path: &str, pairs: &[(&str, &str)]) -> u64 {
    let mut cmd = Command::new("bao");
    cmd.args([
        "kv",
        "put",
        "-format=json",
        &format!("-mount={mount}"),
        path,
    ]);
    for (k, v) in pairs {
        cmd.arg(format!("{k}={v}"));
    }
    let out = cmd.output().expect("the bao CLI on PATH");
    assert!(
        out.status.success(),
        "bao kv put failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON from bao");
    v["data"]["version"]
        .as_u64()
        .expect("a version in the answer")
}

fn secret_str(s: &Secret, key: &str) -> Option<String> {
    s.data
        .as_ref()?
        .get(key)
        .map(|b| String::from_utf8_lossy(&b.0).into_owned())
}

/// kv version the Secret holds, from VSO's `_raw`.
fn raw_version(s: &Secret) -> Option<u64> {
    let raw: serde_json::Value = serde_json::from_str(&secret_str(s, "_raw")?).ok()?;
    raw["metadata"]["version"].as_u64()
}

async fn events_of(c: &Client, ns: &str, name: &str) -> Vec<Event> {
    Api::<Event>::namespaced(c.clone(), ns)
        .list(&ListParams::default().fields(&format!("involvedObject.name={name}")))
        .await
        .expect("list events")
        .items
}

fn condition<'a>(
    vss: &'a VaultStaticSecret,
    type_: &str,
) -> Option<&'a k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition> {
    vss.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)
}

/// The Deployment's current ReplicaSet (the one with its revision), once it is fully available.
async fn available_rs(c: &Client, ns: &str, deploy: &str) -> Option<ReplicaSet> {
    let d = Api::<Deployment>::namespaced(c.clone(), ns)
        .get(deploy)
        .await
        .ok()?;
    let rev = d
        .metadata
        .annotations
        .as_ref()?
        .get("deployment.kubernetes.io/revision")?
        .clone();
    let st = d.status.as_ref()?;
    let want = d.spec.replicas.unwrap_or(1);
    let done = d.metadata.generation <= st.observed_generation
        && st.updated_replicas.unwrap_or(0) == want
        && st.replicas.unwrap_or(0) == want
        && st.available_replicas.unwrap_or(0) == want;
    if !done {
        return None;
    }
    Api::<ReplicaSet>::namespaced(c.clone(), ns)
        .list(&ListParams::default())
        .await
        .ok()?
        .items
        .into_iter()
        .find(|rs| {
            rs.owner_references().iter().any(|o| o.name == deploy)
                && rs.annotations().get("deployment.kubernetes.io/revision") == Some(&rev)
        })
}

#[tokio::test]
async fn the_apiserver_is_real_and_the_world_is_loaded() {
    let c = client().await;
    let v = c.apiserver_version().await.expect("/version");
    assert_eq!(
        v.git_version, "v1.37.2",
        "the apiserver built from k8s.io/kubernetes v1.37.2"
    );

    let crds: Api<CustomResourceDefinition> = Api::all(c.clone());
    for name in ["vaultconnections", "vaultauths", "vaultstaticsecrets"] {
        let crd = crds
            .get(&format!("{name}.secrets.hashicorp.com"))
            .await
            .expect("CRD installed");
        let established = crd
            .status
            .and_then(|s| s.conditions)
            .unwrap_or_default()
            .iter()
            .any(|c| c.type_ == "Established" && c.status == "True");
        assert!(established, "{name} is established");
    }

    let conn = Api::<VaultConnection>::namespaced(c.clone(), "vault-secrets-operator-system")
        .get("default")
        .await
        .expect("the default VaultConnection");
    assert_eq!(conn.spec.address, env("VAULT_ADDR"));
    let auth = Api::<VaultAuth>::namespaced(c.clone(), "dev")
        .get("static-auth")
        .await
        .expect("VaultAuth static-auth");
    assert_eq!(auth.spec.mount, "dev-auth-mount");
    let k = auth.spec.kubernetes.expect("kubernetes method");
    assert_eq!(
        (k.role.as_str(), k.service_account.as_str()),
        ("dev", "default")
    );
    assert_eq!(k.audiences.as_deref(), Some(&["vault".to_string()][..]));

    let vss = Api::<VaultStaticSecret>::namespaced(c.clone(), "dev")
        .get("vault-kv-app")
        .await
        .expect("VSS vault-kv-app");
    assert_eq!(
        (vss.spec.mount.as_str(), vss.spec.path.as_str()),
        ("dev", "webapp/config")
    );
    assert_eq!(vss.spec.destination.name, "dev-secret");
    assert_eq!(vss.spec.destination.create, Some(true));
    assert_eq!(vss.spec.refresh_after.as_deref(), Some("30s"));

    let ubuntu = Api::<Deployment>::namespaced(c.clone(), "dev")
        .get("ubuntu")
        .await
        .expect("Deployment ubuntu");
    assert_eq!(
        ubuntu
            .annotations()
            .get("reloader.stakater.com/auto")
            .map(String::as_str),
        Some("true")
    );
    let env_from = ubuntu.spec.template.spec.as_ref().unwrap().containers[0]
        .env_from
        .clone()
        .unwrap();
    assert_eq!(env_from[0].secret_ref.as_ref().unwrap().name, "dev-secret");

    // Every app of the three namespaces, and the platform objects.
    let all: Vec<String> = Api::<VaultStaticSecret>::all(c.clone())
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .iter()
        .map(|v| format!("{}/{}", v.namespace().unwrap(), v.name_any()))
        .collect();
    for want in [
        "dev/vault-kv-app",
        "payments/payments-api",
        "staging/webapp",
        "staging/worker",
    ] {
        assert!(all.contains(&want.to_string()), "{want} in {all:?}");
    }
}

/// The seed's value must be in `dev-secret` within 30 s of `up` finishing: checked once, before
/// any test changes a kv secret (those await this first).
async fn seed_synced(c: &Client) {
    static SEED: OnceCell<()> = OnceCell::const_new();
    SEED.get_or_init(|| async {
        let up_at: u64 = env("KEYWAY_CLUSTER_UP_AT").parse().expect("epoch seconds");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let left = Duration::from_secs((up_at + 30).saturating_sub(now).max(1));
        let secrets: Api<Secret> = Api::namespaced(c.clone(), "dev");
        eventually(
            "dev-secret holds username=static-user within 30 s of up",
            left,
            || async {
                let s = secrets.get_opt("dev-secret").await.ok()??;
                (secret_str(&s, "username").as_deref() == Some("static-user")).then_some(())
            },
        )
        .await;
    })
    .await;
}

#[tokio::test]
async fn the_seed_secret_reaches_the_cluster_with_owner_labels_and_status() {
    let c = client().await;
    seed_synced(&c).await;
    let _kv = KV.lock().await;
    let s = Api::<Secret>::namespaced(c.clone(), "dev")
        .get("dev-secret")
        .await
        .unwrap();
    assert!(
        secret_str(&s, "_raw").is_some(),
        "VSO's _raw key is written"
    );
    assert!(raw_version(&s).is_some(), "_raw carries the kv version");
    let vss = Api::<VaultStaticSecret>::namespaced(c.clone(), "dev")
        .get("vault-kv-app")
        .await
        .unwrap();
    let labels = s.labels();
    assert_eq!(
        labels
            .get("app.kubernetes.io/managed-by")
            .map(String::as_str),
        Some("hashicorp-vso")
    );
    assert_eq!(
        labels.get("secrets.hashicorp.com/vso-ownerRefUID"),
        vss.metadata.uid.as_ref()
    );
    let owners = s.owner_references();
    assert_eq!(owners.len(), 1);
    assert_eq!(
        (owners[0].kind.as_str(), owners[0].name.as_str()),
        ("VaultStaticSecret", "vault-kv-app")
    );
    let status = vss.status.clone().expect("status written");
    assert_eq!(status.last_generation, vss.metadata.generation);
    assert!(
        status.secret_mac.is_some(),
        "secretMAC kept (hmacSecretData defaults to true)"
    );
    for t in ["SecretSynced", "Healthy", "Ready"] {
        assert_eq!(
            condition(&vss, t).map(|c| c.status.as_str()),
            Some("True"),
            "{t}"
        );
    }
}

#[tokio::test]
async fn a_kv_write_reaches_the_secret_within_refresh_after_and_reloader_rolls_the_app() {
    let c = client().await;
    seed_synced(&c).await;
    let _kv = KV.lock().await;
    let ns = "dev";
    // Settled state first: the seed synced and the first ReplicaSet available.
    let before = eventually("ubuntu available", Duration::from_secs(60), || {
        available_rs(&c, ns, "ubuntu")
    })
    .await;
    let secrets: Api<Secret> = Api::namespaced(c.clone(), ns);
    eventually("dev-secret synced", Duration::from_secs(30), || async {
        secrets.get_opt("dev-secret").await.ok()?.map(|_| ())
    })
    .await;
    let vsss: Api<VaultStaticSecret> = Api::namespaced(c.clone(), ns);
    let synced_before = condition(&vsss.get("vault-kv-app").await.unwrap(), "SecretSynced")
        .unwrap()
        .last_transition_time
        .clone();

    let written = Instant::now();
    let version = kv_put(
        "dev",
        "webapp/config",
        &[
            ("username", "static-user3"),
            ("password", "static-password3"),
        ],
    );
    // refreshAfter is 30s (the stand-in re-reads after 24–27s); 15s margin for a loaded machine.
    let s = eventually(
        "dev-secret holds static-user3",
        Duration::from_secs(45),
        || async {
            let s = secrets.get_opt("dev-secret").await.ok()??;
            (secret_str(&s, "username").as_deref() == Some("static-user3")).then_some(s)
        },
    )
    .await;
    let took = written.elapsed();
    assert_eq!(
        raw_version(&s),
        Some(version),
        "_raw says which kv version the cluster holds"
    );
    println!("kv write -> dev-secret: {took:?}");

    let vss = eventually(
        "status says the new sync",
        Duration::from_secs(10),
        || async {
            let v = vsss.get("vault-kv-app").await.ok()?;
            let c = condition(&v, "SecretSynced")?;
            (c.status == "True" && c.last_transition_time.0 > synced_before.0).then_some(v)
        },
    )
    .await;
    assert_eq!(condition(&vss, "Healthy").unwrap().status, "True");
    let events = events_of(&c, ns, "vault-kv-app").await;
    assert!(
        events
            .iter()
            .any(|e| e.reason.as_deref() == Some("SecretSynced")
                && e.type_.as_deref() == Some("Normal")),
        "a SecretSynced event: {events:?}"
    );

    // Reloader's doing: a new ReplicaSet, fully available, carrying the new hash.
    let after = eventually(
        "ubuntu rolled out a new ReplicaSet",
        Duration::from_secs(60),
        || async {
            let rs = available_rs(&c, ns, "ubuntu").await?;
            (rs.name_any() != before.name_any()).then_some(rs)
        },
    )
    .await;
    let env = after.spec.template.unwrap().spec.unwrap().containers[0]
        .env
        .clone()
        .unwrap_or_default();
    assert!(
        env.iter().any(|e| e.name == "STAKATER_DEV_SECRET_SECRET"),
        "Reloader's env var: {env:?}"
    );
    let reloaded = events_of(&c, ns, "ubuntu").await;
    assert!(
        reloaded
            .iter()
            .any(|e| e.reason.as_deref() == Some("Reloaded")),
        "{reloaded:?}"
    );

    // Put the seed's values back (a new version), so other suites see the seed.
    kv_put(
        "dev",
        "webapp/config",
        &[("username", "static-user"), ("password", "static-password")],
    );
}

#[tokio::test]
async fn the_app_whose_role_cannot_read_its_path_fails_like_vso() {
    let c = client().await;
    let vsss: Api<VaultStaticSecret> = Api::namespaced(c.clone(), "staging");
    let vss = eventually(
        "worker shows SecretSynced=False",
        Duration::from_secs(30),
        || async {
            let v = vsss.get("worker").await.ok()?;
            (condition(&v, "SecretSynced")?.status == "False").then_some(v)
        },
    )
    .await;
    let synced = condition(&vss, "SecretSynced").unwrap();
    assert!(
        synced.message.starts_with("Failed to sync the secret"),
        "{}",
        synced.message
    );
    assert!(synced.message.contains("Code: 403"), "{}", synced.message);
    assert_eq!(condition(&vss, "Healthy").unwrap().status, "False");
    let events = events_of(&c, "staging", "worker").await;
    let warn = events
        .iter()
        .find(|e| e.reason.as_deref() == Some("VaultClientError"))
        .unwrap_or_else(|| panic!("a VaultClientError event: {events:?}"));
    assert_eq!(warn.type_.as_deref(), Some("Warning"));
    assert!(warn
        .message
        .as_deref()
        .unwrap_or("")
        .contains("permission denied"));
    assert!(
        Api::<Secret>::namespaced(c.clone(), "staging")
            .get_opt("worker-secret")
            .await
            .unwrap()
            .is_none(),
        "nothing written for a failing app"
    );
}

#[tokio::test]
async fn rollout_restart_targets_and_force_sync_by_annotation() {
    let c = client().await;
    seed_synced(&c).await;
    let _kv = KV.lock().await;
    let ns = "payments";
    let before = eventually("payments-api available", Duration::from_secs(60), || {
        available_rs(&c, ns, "payments-api")
    })
    .await;
    let secrets: Api<Secret> = Api::namespaced(c.clone(), ns);
    eventually(
        "payments-api Secret synced",
        Duration::from_secs(30),
        || async { secrets.get_opt("payments-api").await.ok()?.map(|_| ()) },
    )
    .await;
    let vsss: Api<VaultStaticSecret> = Api::namespaced(c.clone(), ns);

    // Read the seed's values back through Vault, to restore them after.
    let out = Command::new("bao")
        .args(["kv", "get", "-format=json", "-mount=dev", "payments/api"])
        .output()
        .expect("bao");
    let seed: BTreeMap<String, String> = serde_json::from_value(
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["data"]["data"].clone(),
    )
    .unwrap();

    let mut changed: Vec<(&str, &str)> =
        seed.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    changed.retain(|(k, _)| *k != "api_key");
    changed.push(("api_key", "pk-dev-payments-rotated"));
    let version = kv_put("dev", "payments/api", &changed);
    // Sync now: any annotation change makes VSO reconcile at once (well before refreshAfter).
    let asked = Instant::now();
    let patch = serde_json::json!({"metadata": {"annotations": {"keyway.dev/sync-requested-at": keyway_standins::now_rfc3339()}}});
    vsss.patch(
        "payments-api",
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await
    .unwrap();
    eventually(
        "payments-api holds the new version",
        Duration::from_secs(10),
        || async {
            let s = secrets.get_opt("payments-api").await.ok()??;
            (raw_version(&s) == Some(version)).then_some(())
        },
    )
    .await;
    println!("force sync -> Secret: {:?}", asked.elapsed());

    // rolloutRestartTargets: VSO patched the Deployment's template, which rolled.
    let after = eventually(
        "payments-api rolled out",
        Duration::from_secs(60),
        || async {
            let rs = available_rs(&c, ns, "payments-api").await?;
            (rs.name_any() != before.name_any()).then_some(rs)
        },
    )
    .await;
    let ann = after
        .spec
        .template
        .unwrap()
        .metadata
        .unwrap()
        .annotations
        .unwrap_or_default();
    assert!(
        ann.contains_key("vso.secrets.hashicorp.com/restartedAt"),
        "{ann:?}"
    );
    let vss = vsss.get("payments-api").await.unwrap();
    assert_eq!(
        condition(&vss, "RolloutRestart").map(|c| c.reason.as_str()),
        Some("RolloutRestartTriggered")
    );
    let events = events_of(&c, ns, "payments-api").await;
    assert!(
        events
            .iter()
            .any(|e| e.reason.as_deref() == Some("RolloutRestartTriggered")
                && e.message.as_deref()
                    == Some("Rollout restart triggered for Deployment payments-api")),
        "{events:?}"
    );

    let pairs: Vec<(&str, &str)> = seed.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    kv_put("dev", "payments/api", &pairs);
}

#[tokio::test]
async fn a_deleted_secret_is_written_again() {
    let c = client().await;
    let secrets: Api<Secret> = Api::namespaced(c.clone(), "staging");
    let first = eventually("webapp-secret exists", Duration::from_secs(30), || async {
        secrets.get_opt("webapp-secret").await.ok()?
    })
    .await;
    secrets
        .delete("webapp-secret", &Default::default())
        .await
        .unwrap();
    eventually("webapp-secret is back", Duration::from_secs(15), || async {
        let s = secrets.get_opt("webapp-secret").await.ok()??;
        (s.metadata.uid != first.metadata.uid
            && secret_str(&s, "username").as_deref() == Some("staging-user"))
        .then_some(())
    })
    .await;
}
