//! Onboarding's GitOps path against `end2end/cluster/up`'s apiserver, OpenBao and VSO stand-in:
//! the Vault side written from [`keyway_policy::AppVault`] (policy, kubernetes auth role, the kv
//! secret's first version with cas 0), the cluster side from the rendered Kustomize folder applied
//! with `kubectl apply -k`, exactly as a team's Argo CD would. The app counts as working when the
//! stand-in, logging in with the new role as the new ServiceAccount, has filled the Secret.
//!
//! Run: `cargo test -p keyway-k8s --features cluster-tests --test onboard_gitops` with the
//! cluster's env (`eval "$(end2end/cluster/up)"`).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use keyway_k8s::onboard::{AppCluster, AuthChoice, Restart};
use keyway_k8s::vso::VaultStaticSecret;
use keyway_policy::AppVault;
use keyway_testkit::{until, Bao};
use kube::{Api, Client};
use serde_json::json;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is set by end2end/cluster/up"))
}

fn kubectl() -> PathBuf {
    PathBuf::from(env("KEYWAY_K8S_BIN")).join("kubectl")
}

#[tokio::test]
async fn the_rendered_folder_applied_with_kubectl_gives_a_synced_app() {
    let bao = Bao::attach(&env("VAULT_ADDR"), &env("VAULT_TOKEN"));
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let app = format!("ob-gitops-{nanos}");
    let path = format!("kwtest/{app}");
    let vault = AppVault::new("dev", &app, "dev", &path, &app).expect("valid names");

    // Vault, in the order onboarding writes it.
    bao.put_policy(&vault.policy_name(), &vault.policy_hcl())
        .await;
    bao.root_request(
        "POST",
        &format!("auth/dev-auth-mount/role/{}", vault.role_name()),
        Some(serde_json::to_value(vault.role()).unwrap()),
    )
    .await;
    bao.root_request(
        "POST",
        &format!("dev/data/{}", vault.path()),
        Some(json!({"options": {"cas": 0}, "data": {"GREETING": "hello"}})),
    )
    .await;

    // The cluster, from the rendered folder.
    let cluster = AppCluster {
        namespace: "dev".into(),
        app: app.clone(),
        service_account: app.clone(),
        new_service_account: true,
        auth: AuthChoice::New {
            name: format!("{app}-auth"),
            mount: "dev-auth-mount".into(),
            role: vault.role_name(),
        },
        mount: vault.mount().to_owned(),
        path: vault.path().to_owned(),
        destination: app.clone(),
        refresh_after: "30s".into(),
        restart: Restart::None,
    };
    let dir = tempfile::tempdir().unwrap();
    for f in cluster.render().expect("valid names").files {
        std::fs::write(dir.path().join(f.name), f.text).unwrap();
    }
    let out = Command::new(kubectl())
        .arg("apply")
        .arg("-k")
        .arg(dir.path())
        .output()
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "kubectl apply -k: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let client = Client::try_default().await.expect("admin client");
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "dev");
    let value = until(
        "the VSO stand-in fills the new app's Secret",
        Duration::from_secs(60),
        async || {
            let s = secrets.get_opt(&app).await.map_err(|e| e.to_string())?;
            let s = s.ok_or("no Secret yet")?;
            let v = s
                .data
                .and_then(|d| d.get("GREETING").cloned())
                .ok_or("no GREETING key")?;
            Ok(String::from_utf8(v.0).unwrap())
        },
    )
    .await;
    assert_eq!(value, "hello");
    let vss: Api<VaultStaticSecret> = Api::namespaced(client, "dev");
    let vss = vss.get(&app).await.unwrap();
    assert!(vss.status.is_some(), "the stand-in reports its sync");

    // Leave the world as found.
    let out = Command::new(kubectl())
        .args(["delete", "--wait=false", "-k"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    bao.root_request("DELETE", &format!("dev/metadata/{}", vault.path()), None)
        .await;
    bao.root_request(
        "DELETE",
        &format!("auth/dev-auth-mount/role/{}", vault.role_name()),
        None,
    )
    .await;
    bao.root_request(
        "DELETE",
        &format!("sys/policies/acl/{}", vault.policy_name()),
        None,
    )
    .await;
}
