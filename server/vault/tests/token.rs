//! Token self-service against a real OpenBao dev server.

mod common;

use keyway_testkit::Bao;
use keyway_vault::VaultError;

#[tokio::test]
async fn a_user_token_can_be_looked_up_renewed_and_revoked() {
    let bao = Bao::start().await;
    common::dev_and_staging(&bao).await;
    let vault = common::client(&bao);
    let token = common::alice(&vault).await;

    let info = vault.lookup_self(&token).await.unwrap();
    assert_eq!(info.display_name, "userpass-alice");
    assert_eq!(info.policies, vec!["default", "dev-only"]);
    assert!(info.ttl > 0 && info.renewable);
    assert!(info.expire_time.is_some());

    let renewal = vault.renew_self(&token, 3600).await.unwrap();
    assert_eq!(renewal.lease_duration, 3600);
    assert!(renewal.renewable);
    let after = vault.lookup_self(&token).await.unwrap();
    assert!(
        after.ttl <= 3600,
        "renewing to 1h shortened the ttl: {}",
        after.ttl
    );

    vault.revoke_self(&token).await.unwrap();

    assert_eq!(
        vault.lookup_self(&token).await.unwrap_err(),
        VaultError::InvalidToken
    );
    assert_eq!(
        vault.kv_read(&token, "dev", "app", None).await.unwrap_err(),
        VaultError::InvalidToken
    );
    assert_eq!(
        vault.renew_self(&token, 60).await.unwrap_err(),
        VaultError::InvalidToken
    );
    assert_eq!(
        vault.kv2_mounts(&token).await.unwrap_err(),
        VaultError::InvalidToken
    );
}

#[tokio::test]
async fn the_root_token_never_expires() {
    let bao = Bao::start().await;
    let vault = common::client(&bao);

    let info = vault.lookup_self(&common::root(&bao)).await.unwrap();

    assert_eq!(info.ttl, 0);
    assert_eq!(info.expire_time, None);
    assert_eq!(info.policies, vec!["root"]);
}

#[tokio::test]
async fn a_made_up_token_is_an_expired_session() {
    let bao = Bao::start().await;
    let vault = common::client(&bao);
    let made_up = keyway_vault::SecretString::from("s.thisisnotarealtoken".to_owned());

    assert_eq!(
        vault.lookup_self(&made_up).await.unwrap_err(),
        VaultError::InvalidToken
    );
    assert_eq!(
        vault
            .capabilities_self(&made_up, &["dev/data/x".to_owned()])
            .await
            .unwrap_err(),
        VaultError::InvalidToken
    );
}
