//! The committed CRDs are exactly what the Rust types generate.

#[test]
fn the_committed_vso_crds_match_the_rust_types() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/crds/vso.yaml");
    let committed = std::fs::read_to_string(path).expect("deploy/crds/vso.yaml exists");
    assert!(
        committed == keyway_k8s::crds_yaml(),
        "deploy/crds/vso.yaml is out of date: run `cargo run -p keyway-k8s --bin crdgen > deploy/crds/vso.yaml`"
    );
}

#[test]
fn a_vault_static_secret_from_the_seed_parses_with_its_status() {
    let vss: keyway_k8s::vso::VaultStaticSecret = serde_json::from_value(serde_json::json!({
        "apiVersion": "secrets.hashicorp.com/v1beta1",
        "kind": "VaultStaticSecret",
        "metadata": {"name": "vault-kv-app", "namespace": "dev"},
        "spec": {
            "vaultAuthRef": "static-auth", "mount": "dev", "path": "webapp/config", "type": "kv-v2",
            "refreshAfter": "30s",
            "destination": {"name": "dev-secret", "create": true},
            "rolloutRestartTargets": [{"kind": "Deployment", "name": "ubuntu"}]
        },
        "status": {
            "lastGeneration": 1, "secretMAC": "abc=",
            "conditions": [{"type": "SecretSynced", "status": "True", "reason": "Synced",
                            "message": "Secret synced", "lastTransitionTime": "2026-11-28T13:00:00Z"}]
        }
    }))
    .unwrap();
    assert_eq!(vss.spec.kv_type, keyway_k8s::vso::KvType::KvV2);
    assert_eq!(vss.spec.destination.name, "dev-secret");
    let status = vss.status.unwrap();
    assert_eq!(status.conditions.unwrap()[0].type_, "SecretSynced");
}
