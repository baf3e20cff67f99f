//! Logging in against a real OpenBao dev server.

mod common;

use keyway_testkit::Bao;
use keyway_vault::{AuthMount, VaultError};
use secrecy::ExposeSecret;
use serde_json::json;

#[tokio::test]
async fn a_user_logs_in_with_username_and_password() {
    let bao = Bao::start().await;
    common::dev_and_staging(&bao).await;
    let vault = common::client(&bao);

    let login = vault
        .login_userpass("userpass", "alice", "alice-password")
        .await
        .unwrap();

    assert!(!login.token.expose_secret().is_empty());
    assert_eq!(login.display_name, "userpass-alice");
    assert!(login.policies.contains(&"dev-only".to_owned()));
    assert!(login.policies.contains(&"default".to_owned()));
    assert!(!login.entity_id.is_empty());
    assert!(!login.accessor.is_empty());
    assert!(login.renewable);
    assert!(login.lease_duration > 0);
    let me = vault.lookup_self(&login.token).await.unwrap();
    assert_eq!(me.accessor, login.accessor);
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_fail_the_same_way() {
    let bao = Bao::start().await;
    common::dev_and_staging(&bao).await;
    let vault = common::client(&bao);

    let wrong_password = vault
        .login_userpass("userpass", "alice", "not-her-password")
        .await
        .unwrap_err();
    let unknown_user = vault
        .login_userpass("userpass", "mallory", "whatever")
        .await
        .unwrap_err();
    let unknown_mount = vault
        .login_userpass("no-such-mount", "alice", "alice-password")
        .await
        .unwrap_err();

    assert_eq!(wrong_password, VaultError::InvalidCredentials);
    assert_eq!(unknown_user, VaultError::InvalidCredentials);
    assert_eq!(unknown_mount, VaultError::InvalidCredentials);
    assert_eq!(wrong_password.to_string(), unknown_user.to_string());
}

#[tokio::test]
async fn the_login_page_lists_only_auth_mounts_tuned_visible_to_unauthenticated_users() {
    let bao = Bao::start().await;
    common::dev_and_staging(&bao).await;
    bao.root_request(
        "POST",
        "sys/auth/corp",
        Some(json!({"type": "userpass", "description": "Corporate accounts"})),
    )
    .await;
    let vault = common::client(&bao);

    assert_eq!(vault.login_methods().await.unwrap(), vec![]);

    bao.root_request(
        "POST",
        "sys/auth/corp/tune",
        Some(json!({"listing_visibility": "unauth"})),
    )
    .await;
    bao.root_request(
        "POST",
        "sys/auth/token/tune",
        Some(json!({"listing_visibility": "unauth"})),
    )
    .await;

    assert_eq!(
        vault.login_methods().await.unwrap(),
        vec![
            AuthMount {
                path: "corp".into(),
                kind: "userpass".into(),
                description: "Corporate accounts".into(),
            },
            AuthMount {
                path: "token".into(),
                kind: "token".into(),
                description: "token based credentials".into(),
            },
        ],
        "userpass/ is not tuned, so it stays hidden"
    );
}

/// This OpenBao build has no `ldap` plugin in its catalog, so the LDAP call is checked on a
/// userpass mount: both use `POST auth/<mount>/login/<username> {"password"}`.
#[tokio::test]
async fn an_ldap_login_uses_the_same_request_shape_as_userpass() {
    let bao = Bao::start().await;
    bao.root_request("POST", "sys/auth/ldap", Some(json!({"type": "userpass"})))
        .await;
    bao.root_request(
        "POST",
        "auth/ldap/users/bob",
        Some(json!({"password": "bob-password"})),
    )
    .await;
    let vault = common::client(&bao);

    let login = vault
        .login_ldap("ldap", "bob", "bob-password")
        .await
        .unwrap();
    assert_eq!(login.display_name, "ldap-bob");
    assert_eq!(
        vault.login_ldap("ldap", "bob", "nope").await.unwrap_err(),
        VaultError::InvalidCredentials
    );
}
