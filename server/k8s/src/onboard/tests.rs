use super::*;
use crate::status::pods::WorkloadKind;
use crate::vso::{VaultAuth, VaultStaticSecret};
use k8s_openapi::api::core::v1::ServiceAccount;

fn billing() -> AppCluster {
    AppCluster {
        namespace: "dev".into(),
        app: "billing".into(),
        service_account: "billing".into(),
        new_service_account: true,
        auth: AuthChoice::New {
            name: "billing-auth".into(),
            mount: "dev-auth-mount".into(),
            role: "keyway-app.dev.billing".into(),
        },
        mount: "dev".into(),
        path: "billing/config".into(),
        destination: "billing".into(),
        refresh_after: "30s".into(),
        restart: Restart::RolloutTargets(vec![Workload {
            kind: WorkloadKind::Deployment,
            name: "billing".into(),
        }]),
    }
}

fn file<'a>(r: &'a Rendered, name: &str) -> &'a str {
    &r.files.iter().find(|f| f.name == name).unwrap().text
}

#[test]
fn the_folder_is_pinned() {
    let r = billing().render().unwrap();
    let names: Vec<&str> = r.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "serviceaccount.yaml",
            "vaultauth.yaml",
            "vaultstaticsecret.yaml",
            "kustomization.yaml"
        ]
    );
    let meta = |name: &str| {
        format!(
            "metadata:\n  name: \"{name}\"\n  namespace: \"dev\"\n  labels:\n    app.kubernetes.io/managed-by: keyway\n    app.kubernetes.io/name: \"billing\"\n"
        )
    };
    assert_eq!(
        file(&r, "serviceaccount.yaml"),
        format!("apiVersion: v1\nkind: ServiceAccount\n{}", meta("billing"))
    );
    assert_eq!(
        file(&r, "vaultauth.yaml"),
        format!(
            "apiVersion: secrets.hashicorp.com/v1beta1\nkind: VaultAuth\n{}spec:\n  method: kubernetes\n  mount: \"dev-auth-mount\"\n  kubernetes:\n    role: \"keyway-app.dev.billing\"\n    serviceAccount: \"billing\"\n    audiences:\n      - \"vault\"\n",
            meta("billing-auth")
        )
    );
    assert_eq!(
        file(&r, "vaultstaticsecret.yaml"),
        format!(
            "apiVersion: secrets.hashicorp.com/v1beta1\nkind: VaultStaticSecret\n{}spec:\n  vaultAuthRef: \"billing-auth\"\n  type: kv-v2\n  mount: \"dev\"\n  path: \"billing/config\"\n  refreshAfter: \"30s\"\n  destination:\n    name: \"billing\"\n    create: true\n  rolloutRestartTargets:\n    - kind: \"Deployment\"\n      name: \"billing\"\n",
            meta("billing")
        )
    );
    assert_eq!(
        file(&r, "kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - serviceaccount.yaml\n  - vaultauth.yaml\n  - vaultstaticsecret.yaml\n"
    );
    assert!(r.notes.is_empty());
}

#[test]
fn every_file_reads_back_as_the_typed_object_it_means() {
    let r = billing().render().unwrap();
    let sa: ServiceAccount = serde_yaml::from_str(file(&r, "serviceaccount.yaml")).unwrap();
    assert_eq!(sa.metadata.name.as_deref(), Some("billing"));
    let auth: VaultAuth = serde_yaml::from_str(file(&r, "vaultauth.yaml")).unwrap();
    let k = auth.spec.kubernetes.unwrap();
    assert_eq!(
        (k.role.as_str(), k.service_account.as_str()),
        ("keyway-app.dev.billing", "billing")
    );
    assert_eq!(k.audiences, Some(vec!["vault".to_string()]));
    let vss: VaultStaticSecret = serde_yaml::from_str(file(&r, "vaultstaticsecret.yaml")).unwrap();
    assert_eq!(vss.metadata.namespace.as_deref(), Some("dev"));
    assert_eq!(
        vss.metadata
            .labels
            .unwrap()
            .get(MANAGED_BY.0)
            .map(String::as_str),
        Some(MANAGED_BY.1)
    );
    assert_eq!(vss.spec.vault_auth_ref.as_deref(), Some("billing-auth"));
    assert_eq!(
        (vss.spec.mount.as_str(), vss.spec.path.as_str()),
        ("dev", "billing/config")
    );
    assert!(vss.spec.copies_keyways_kv_v2());
    assert_eq!(vss.spec.rollout_restart_targets.unwrap().len(), 1);
}

#[test]
fn reusing_a_service_account_and_a_vault_auth_renders_only_the_static_secret() {
    let mut app = billing();
    app.new_service_account = false;
    app.auth = AuthChoice::Existing("static-auth".into());
    app.restart = Restart::Reloader(Workload {
        kind: WorkloadKind::Deployment,
        name: "billing".into(),
    });
    let r = app.render().unwrap();
    let names: Vec<&str> = r.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["vaultstaticsecret.yaml", "kustomization.yaml"]);
    assert!(file(&r, "vaultstaticsecret.yaml").contains("vaultAuthRef: \"static-auth\"\n"));
    assert!(!file(&r, "vaultstaticsecret.yaml").contains("rolloutRestartTargets"));
    assert_eq!(r.notes.len(), 1);
    assert!(r.notes[0].contains("reloader.stakater.com/auto: \"true\""));
}

#[test]
fn a_name_cannot_add_a_field() {
    let mut app = billing();
    app.path = "x\"\n  mount: \"other".into();
    let vss: VaultStaticSecret = serde_yaml::from_str(&app.static_secret_yaml()).unwrap();
    assert_eq!(vss.spec.mount, "dev");
    assert_eq!(vss.spec.path, "x\"\n  mount: \"other");
}

#[test]
fn names_kubernetes_could_not_hold_and_odd_intervals_are_refused() {
    let mut bad = billing();
    bad.namespace = "Dev".into();
    assert!(bad.render().is_err());
    let mut bad = billing();
    bad.service_account = "*".into();
    assert!(bad.render().unwrap_err().contains("service account"));
    let mut bad = billing();
    bad.refresh_after = "30 s".into();
    assert!(bad.render().unwrap_err().contains("refresh interval"));
    let mut bad = billing();
    bad.restart = Restart::Reloader(Workload {
        kind: WorkloadKind::Deployment,
        name: "web/../x".into(),
    });
    assert!(bad.render().is_err());
}

#[test]
fn the_vault_auth_asks_for_the_audience_the_role_requires() {
    let auth = file(&billing().render().unwrap(), "vaultauth.yaml").to_owned();
    let auth: VaultAuth = serde_yaml::from_str(&auth).unwrap();
    let audiences = serde_json::to_value(&auth.spec).unwrap()["kubernetes"]["audiences"].clone();
    assert_eq!(
        audiences,
        serde_json::json!([keyway_policy::onboard::AUDIENCE])
    );
}
