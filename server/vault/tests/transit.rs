//! Transit signing against a real OpenBao: an `ed25519` key's public keys, a signature Vault makes
//! over the exact input bytes, and the answers for a missing key and a token without the grant.

mod common;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use keyway_testkit::Bao;
use keyway_vault::VaultError;
use serde_json::json;

#[tokio::test]
async fn an_ed25519_key_signs_the_input_itself_and_shows_its_public_key() {
    let bao = Bao::start().await;
    bao.root_request(
        "POST",
        "sys/mounts/transit",
        Some(json!({"type": "transit"})),
    )
    .await;
    bao.root_request(
        "POST",
        "transit/keys/signer",
        Some(json!({"type": "ed25519"})),
    )
    .await;
    bao.root_request("POST", "transit/keys/symmetric", Some(json!({})))
        .await;
    let vault = common::client(&bao);
    let root = common::root(&bao);

    let key = vault
        .transit_key(&root, "transit", "signer")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (key.name.as_str(), key.key_type.as_str()),
        ("signer", "ed25519")
    );
    assert_eq!(key.latest_version, 1);
    assert_eq!(key.public_keys[&1].len(), 32);

    let signed = vault
        .transit_sign(&root, "transit", "signer", b"keyway\n1\n")
        .await
        .unwrap();
    assert_eq!((signed.key_version, signed.signature.len()), (1, 64));
    // Vault's own verify agrees that the signature covers exactly these bytes.
    let check = bao
        .root_request(
            "POST",
            "transit/verify/signer",
            Some(json!({
                "input": BASE64.encode(b"keyway\n1\n"),
                "signature": format!("vault:v1:{}", BASE64.encode(&signed.signature)),
            })),
        )
        .await;
    assert_eq!(check["data"]["valid"], json!(true), "{check}");

    let symmetric = vault
        .transit_key(&root, "transit", "symmetric")
        .await
        .unwrap()
        .unwrap();
    assert!(symmetric.public_keys.is_empty());
    assert_eq!(
        vault.transit_key(&root, "transit", "nope").await.unwrap(),
        None
    );

    bao.enable_userpass().await;
    bao.put_policy("nothing", "path \"dev/*\" { capabilities = [\"read\"] }")
        .await;
    bao.add_user("alice", "alice-password", &["nothing"]).await;
    let alice = common::alice(&vault).await;
    assert_eq!(
        vault
            .transit_sign(&alice, "transit", "signer", b"x")
            .await
            .unwrap_err(),
        VaultError::PermissionDenied
    );
}
