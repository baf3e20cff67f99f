//! Who may do what: capabilities, visible mounts, and telling a policy refusal from a dead
//! session, against a real OpenBao dev server.

mod common;

use keyway_testkit::Bao;
use keyway_vault::{Capability, KvData, KvMount, VaultError};
use serde_json::json;

#[tokio::test]
async fn capabilities_show_a_dev_only_user_may_write_dev_but_not_staging() {
    let bao = Bao::start().await;
    common::dev_and_staging(&bao).await;
    let vault = common::client(&bao);
    let token = common::alice(&vault).await;

    let caps = vault
        .capabilities_self(
            &token,
            &[
                "dev/data/app/db".to_owned(),
                "staging/data/app/db".to_owned(),
            ],
        )
        .await
        .unwrap();

    assert_eq!(
        caps.get("dev/data/app/db").unwrap(),
        ["create", "delete", "list", "patch", "read", "update"]
    );
    assert_eq!(caps.get("staging/data/app/db").unwrap(), ["deny"]);
    assert!(caps.has("dev/data/app/db", Capability::Update));
    assert!(!caps.has("staging/data/app/db", Capability::Read));
    assert_eq!(caps.len(), 2);
}

#[tokio::test]
async fn capabilities_for_a_single_path_do_not_include_vaults_extra_key() {
    let bao = Bao::start().await;
    common::dev_and_staging(&bao).await;
    let vault = common::client(&bao);
    let token = common::alice(&vault).await;

    let caps = vault
        .capabilities_self(&token, &["dev/metadata/app".to_owned()])
        .await
        .unwrap();

    assert_eq!(caps.paths().collect::<Vec<_>>(), vec!["dev/metadata/app"]);
}

/// Verified on OpenBao 2.7.2: with a token, `sys/internal/ui/mounts` lists only the mounts the
/// token's policies touch. A `dev/*` policy shows `dev` (plus cubbyhole, identity and sys,
/// which are not kv); a policy on a deep path (`secret/data/team/*`) is enough to show `secret`.
#[tokio::test]
async fn a_user_sees_only_the_kv2_mounts_their_policies_reach() {
    let bao = Bao::start().await;
    common::dev_and_staging(&bao).await;
    bao.root_request(
        "POST",
        "sys/mounts/legacy",
        Some(json!({"type": "kv", "options": {"version": "1"}})),
    )
    .await;
    let vault = common::client(&bao);

    let everything = vault.kv2_mounts(&common::root(&bao)).await.unwrap();
    let paths: Vec<&str> = everything.iter().map(|m| m.path.as_str()).collect();
    assert_eq!(
        paths,
        vec!["dev", "secret", "staging"],
        "root sees every kv-v2 mount, but not the kv-v1 one"
    );

    let alice = common::alice(&vault).await;
    assert_eq!(
        vault.kv2_mounts(&alice).await.unwrap(),
        vec![KvMount {
            path: "dev".into(),
            description: String::new()
        }]
    );

    bao.put_policy(
        "team-only",
        r#"path "secret/data/team/*" { capabilities = ["read"] }"#,
    )
    .await;
    bao.add_user("bob", "bob-password", &["team-only"]).await;
    let bob = vault
        .login_userpass("userpass", "bob", "bob-password")
        .await
        .unwrap()
        .token;
    let bobs: Vec<String> = vault
        .kv2_mounts(&bob)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.path)
        .collect();
    assert_eq!(bobs, vec!["secret"]);
}

#[tokio::test]
async fn a_policy_refusal_is_permission_denied_and_a_revoked_token_is_an_expired_session() {
    let bao = Bao::start().await;
    common::dev_and_staging(&bao).await;
    bao.kv_put("staging", "app", json!({"k": "v"})).await;
    let vault = common::client(&bao);
    let token = common::alice(&vault).await;
    let data: KvData = [("k", "v")].into_iter().collect();

    assert_eq!(
        vault
            .kv_read(&token, "staging", "app", None)
            .await
            .unwrap_err(),
        VaultError::PermissionDenied
    );
    assert_eq!(
        vault
            .kv_write(&token, "staging", "app", &data, 1)
            .await
            .unwrap_err(),
        VaultError::PermissionDenied
    );
    assert_eq!(
        vault.kv_list(&token, "staging", "").await.unwrap_err(),
        VaultError::PermissionDenied
    );

    vault.revoke_self(&token).await.unwrap();

    assert_eq!(
        vault
            .kv_read(&token, "staging", "app", None)
            .await
            .unwrap_err(),
        VaultError::InvalidToken
    );
    assert_eq!(
        vault.kv_read(&token, "dev", "app", None).await.unwrap_err(),
        VaultError::InvalidToken
    );
}

/// Verified on OpenBao 2.7.2: `POST identity/group` with the name of an existing group updates
/// that group (204, no id) rather than refusing, so a create that lost a race must say so.
#[tokio::test]
async fn creating_a_group_whose_name_appeared_meanwhile_is_reported_as_an_update() {
    let bao = Bao::start().await;
    let vault = common::client(&bao);
    let root: secrecy::SecretString = bao.root_token.clone().into();
    let group = keyway_vault::NewGroup {
        name: "ops".into(),
        kind: keyway_vault::GroupType::Internal,
        policies: vec!["keyway-dev-view".into()],
        member_entity_ids: vec![],
        metadata: Default::default(),
    };
    let first = vault.create_group(&root, &group).await.unwrap();
    assert!(matches!(first, keyway_vault::GroupCreated::Created(ref id) if !id.is_empty()));
    let second = keyway_vault::NewGroup {
        policies: vec!["keyway-dev-edit".into()],
        ..group
    };
    assert_eq!(
        vault.create_group(&root, &second).await.unwrap(),
        keyway_vault::GroupCreated::UpdatedExisting
    );
}
