//! Shared setup for the integration tests: a real OpenBao dev server with two kv-v2 mounts
//! (`dev`, `staging`) and a user who may work in `dev` only.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::time::Duration;

use keyway_testkit::Bao;
use keyway_vault::{SecretString, Vault, VaultConfig};

pub const DEV_ONLY: &str = r#"
path "dev/*" { capabilities = ["create", "read", "update", "patch", "delete", "list"] }
"#;

pub fn client(bao: &Bao) -> Vault {
    let mut config = VaultConfig::new(bao.addr.parse().expect("testkit gives a valid URL"));
    config.timeout = Duration::from_secs(10);
    Vault::new(&config).expect("client for the test server")
}

pub fn root(bao: &Bao) -> SecretString {
    SecretString::from(bao.root_token.clone())
}

/// `dev` and `staging` kv-v2 mounts, userpass with `alice` (policy `dev-only`).
pub async fn dev_and_staging(bao: &Bao) {
    bao.enable_kv2("dev").await;
    bao.enable_kv2("staging").await;
    bao.put_policy("dev-only", DEV_ONLY).await;
    bao.enable_userpass().await;
    bao.add_user("alice", "alice-password", &["dev-only"]).await;
}

/// Alice's token, logged in through the client under test.
pub async fn alice(vault: &Vault) -> SecretString {
    vault
        .login_userpass("userpass", "alice", "alice-password")
        .await
        .expect("alice can log in")
        .token
}
