//! kv-v2 reads, writes, versions and deletes against a real OpenBao dev server, as the
//! dev-only user.

mod common;

use keyway_testkit::Bao;
use keyway_vault::{KvData, VaultError};
use serde_json::json;

fn data(pairs: &[(&str, &str)]) -> KvData {
    pairs.iter().copied().collect()
}

#[tokio::test]
async fn a_secret_is_written_read_back_and_keeps_its_versions() {
    let bao = Bao::start().await;
    common::dev_and_staging(&bao).await;
    let vault = common::client(&bao);
    let token = common::alice(&vault).await;
    let v1 = data(&[("user", "app"), ("password", "first")]);
    let v2 = data(&[("user", "app"), ("password", "second")]);

    let written = vault
        .kv_write(&token, "dev", "apps/db", &v1, 0)
        .await
        .unwrap();
    assert_eq!(written.version, 1);
    assert_eq!(written.deletion_time, None);
    assert!(!written.destroyed);
    let written = vault
        .kv_write(&token, "dev", "apps/db", &v2, 1)
        .await
        .unwrap();
    assert_eq!(written.version, 2);

    let latest = vault
        .kv_read(&token, "dev", "apps/db", None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.data, Some(v2));
    assert_eq!(latest.meta.version, 2);
    let first = vault
        .kv_read(&token, "dev", "apps/db", Some(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.data, Some(v1));
    assert_eq!(first.meta.version, 1);

    let meta = vault
        .kv_metadata(&token, "dev", "apps/db")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(meta.current_version, 2);
    assert_eq!(
        meta.versions.keys().copied().collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert!(!meta.cas_required);
    assert_eq!(
        meta.oldest_version, 0,
        "OpenBao 2.7.2 reports 0 until pruning"
    );

    let (keys, meta) = vault
        .kv_subkeys(&token, "dev", "apps/db", None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(keys, vec!["password", "user"]);
    assert_eq!(meta.version, 2);
}

#[tokio::test]
async fn absent_secrets_versions_and_folders_are_none_or_empty_not_errors() {
    let bao = Bao::start().await;
    common::dev_and_staging(&bao).await;
    bao.kv_put("dev", "apps/db", json!({"k": "v"})).await;
    let vault = common::client(&bao);
    let token = common::alice(&vault).await;

    assert_eq!(
        vault.kv_read(&token, "dev", "nothing", None).await.unwrap(),
        None
    );
    assert_eq!(
        vault
            .kv_read(&token, "dev", "apps/db", Some(7))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        vault
            .kv_subkeys(&token, "dev", "nothing", None)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        vault.kv_metadata(&token, "dev", "nothing").await.unwrap(),
        None
    );
    assert_eq!(
        vault
            .kv_list(&token, "dev", "no/such/folder")
            .await
            .unwrap(),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn folders_list_their_secrets_and_subfolders() {
    let bao = Bao::start().await;
    common::dev_and_staging(&bao).await;
    bao.kv_put("dev", "apps/db", json!({"k": "v"})).await;
    bao.kv_put("dev", "apps/payments/api", json!({"k": "v"}))
        .await;
    bao.kv_put("dev", "top", json!({"k": "v"})).await;
    let vault = common::client(&bao);
    let token = common::alice(&vault).await;

    assert_eq!(
        vault.kv_list(&token, "dev", "").await.unwrap(),
        vec!["apps/", "top"]
    );
    assert_eq!(
        vault.kv_list(&token, "dev", "apps").await.unwrap(),
        vec!["db", "payments/"]
    );
    assert_eq!(
        vault
            .kv_list(&token, "dev", "/apps/payments/")
            .await
            .unwrap(),
        vec!["api"]
    );
}

#[tokio::test]
async fn a_stale_check_and_set_version_is_a_cas_mismatch() {
    let bao = Bao::start().await;
    common::dev_and_staging(&bao).await;
    let vault = common::client(&bao);
    let token = common::alice(&vault).await;
    let value = data(&[("k", "v")]);
    vault
        .kv_write(&token, "dev", "app", &value, 0)
        .await
        .unwrap();
    vault
        .kv_write(&token, "dev", "app", &value, 1)
        .await
        .unwrap();

    let stale = vault
        .kv_write(&token, "dev", "app", &value, 1)
        .await
        .unwrap_err();

    assert_eq!(stale, VaultError::CasMismatch);
    assert_eq!(
        stale.to_string(),
        "Someone saved a newer version while you were editing."
    );
}

#[tokio::test]
async fn creating_a_secret_that_already_exists_is_a_cas_mismatch() {
    let bao = Bao::start().await;
    common::dev_and_staging(&bao).await;
    bao.kv_put("dev", "app", json!({"k": "v"})).await;
    let vault = common::client(&bao);
    let token = common::alice(&vault).await;

    assert_eq!(
        vault
            .kv_write(&token, "dev", "app", &data(&[("k", "new")]), 0)
            .await
            .unwrap_err(),
        VaultError::CasMismatch
    );
}

#[tokio::test]
async fn a_deleted_latest_version_reads_as_no_data_with_its_deletion_time_until_undeleted() {
    let bao = Bao::start().await;
    common::dev_and_staging(&bao).await;
    let vault = common::client(&bao);
    let token = common::alice(&vault).await;
    let v1 = data(&[("k", "one")]);
    let v2 = data(&[("k", "two")]);
    vault.kv_write(&token, "dev", "app", &v1, 0).await.unwrap();
    vault.kv_write(&token, "dev", "app", &v2, 1).await.unwrap();

    vault.kv_delete_latest(&token, "dev", "app").await.unwrap();

    let deleted = vault
        .kv_read(&token, "dev", "app", None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(deleted.data, None, "no fallback to version 1");
    assert_eq!(deleted.meta.version, 2);
    assert!(deleted.meta.deletion_time.is_some());
    let (keys, meta) = vault
        .kv_subkeys(&token, "dev", "app", None)
        .await
        .unwrap()
        .unwrap();
    assert!(keys.is_empty());
    assert!(meta.deletion_time.is_some());
    let meta = vault
        .kv_metadata(&token, "dev", "app")
        .await
        .unwrap()
        .unwrap();
    assert!(meta.versions[&2].deletion_time.is_some());
    assert_eq!(meta.versions[&1].deletion_time, None);
    assert_eq!(
        vault
            .kv_write(&token, "dev", "app", &v2, 1)
            .await
            .unwrap_err(),
        VaultError::CasMismatch,
        "a deleted current version still counts for check-and-set"
    );

    vault.kv_undelete(&token, "dev", "app", &[2]).await.unwrap();

    let restored = vault
        .kv_read(&token, "dev", "app", None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(restored.data, Some(v2));
    assert_eq!(restored.meta.deletion_time, None);
}

#[tokio::test]
async fn chosen_versions_can_be_deleted_and_a_destroyed_version_says_so() {
    let bao = Bao::start().await;
    common::dev_and_staging(&bao).await;
    let vault = common::client(&bao);
    let token = common::alice(&vault).await;
    for (cas, value) in ["one", "two", "three"].into_iter().enumerate() {
        vault
            .kv_write(&token, "dev", "app", &data(&[("k", value)]), cas as u64)
            .await
            .unwrap();
    }

    vault
        .kv_delete_versions(&token, "dev", "app", &[1, 2])
        .await
        .unwrap();

    for version in [1, 2] {
        let read = vault
            .kv_read(&token, "dev", "app", Some(version))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(read.data, None);
        assert!(read.meta.deletion_time.is_some());
    }
    let latest = vault
        .kv_read(&token, "dev", "app", None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.data, Some(data(&[("k", "three")])));

    // Destroy is an admin action Keyway does not offer; done here with root to see the shape.
    bao.root_request("POST", "dev/destroy/app", Some(json!({"versions": [3]})))
        .await;
    let destroyed = vault
        .kv_read(&token, "dev", "app", None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(destroyed.data, None);
    assert!(destroyed.meta.destroyed);
}

#[tokio::test]
async fn values_vault_holds_as_other_json_types_are_read_as_compact_json_text() {
    let bao = Bao::start().await;
    common::dev_and_staging(&bao).await;
    bao.kv_put(
        "dev",
        "typed",
        json!({"port": 5432, "tls": true, "hosts": ["a", "b"], "name": "db"}),
    )
    .await;
    let vault = common::client(&bao);
    let token = common::alice(&vault).await;

    let read = vault
        .kv_read(&token, "dev", "typed", None)
        .await
        .unwrap()
        .unwrap();

    assert_eq!(
        read.data
            .unwrap()
            .into_inner()
            .into_iter()
            .collect::<Vec<_>>(),
        vec![
            ("hosts".to_owned(), r#"["a","b"]"#.to_owned()),
            ("name".to_owned(), "db".to_owned()),
            ("port".to_owned(), "5432".to_owned()),
            ("tls".to_owned(), "true".to_owned()),
        ]
    );
}

#[tokio::test]
async fn paths_with_spaces_and_url_characters_reach_the_right_secret() {
    let bao = Bao::start().await;
    common::dev_and_staging(&bao).await;
    let vault = common::client(&bao);
    let token = common::alice(&vault).await;
    let value = data(&[("k", "v")]);

    vault
        .kv_write(&token, "dev", "team a/key?x=1#frag%20", &value, 0)
        .await
        .unwrap();

    assert_eq!(
        vault.kv_list(&token, "dev", "team a").await.unwrap(),
        vec!["key?x=1#frag%20"]
    );
    let read = vault
        .kv_read(&token, "dev", "team a/key?x=1#frag%20", None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.data, Some(value));
    assert_eq!(
        vault
            .kv_read(&token, "dev", "team a/key", None)
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn dot_segments_and_empty_paths_are_refused_before_reaching_vault() {
    let bao = Bao::start().await;
    common::dev_and_staging(&bao).await;
    let vault = common::client(&bao);
    let token = common::alice(&vault).await;

    assert!(matches!(
        vault
            .kv_read(&token, "dev", "../staging/data/app", None)
            .await,
        Err(VaultError::InvalidPath(_))
    ));
    assert!(matches!(
        vault.kv_read(&token, "dev", "", None).await,
        Err(VaultError::InvalidPath(_))
    ));
    assert!(matches!(
        vault.kv_list(&token, "dev", "a/./b").await,
        Err(VaultError::InvalidPath(_))
    ));
}
