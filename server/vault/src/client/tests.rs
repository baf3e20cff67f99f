//! Unit tests of the client: URL building and what a transport error says.

use super::*;

fn vault(addr: &str) -> Vault {
    Vault::new(&VaultConfig::new(addr.parse().unwrap())).unwrap()
}

#[test]
fn urls_sit_below_v1_and_keep_an_address_path_prefix() {
    let direct = vault("http://127.0.0.1:8200");
    assert_eq!(
        direct
            .url(&["kv", "data", "apps/db"], false)
            .unwrap()
            .as_str(),
        "http://127.0.0.1:8200/v1/kv/data/apps/db"
    );
    let proxied = vault("https://proxy.example/vault/");
    assert_eq!(
        proxied.url(&["kv", "metadata", ""], true).unwrap().as_str(),
        "https://proxy.example/vault/v1/kv/metadata/"
    );
}

#[test]
fn each_path_piece_is_percent_encoded_as_one_segment() {
    let url = vault("http://vault")
        .url(&["team/kv", "data", "/a b/c?d#e%f/"], false)
        .unwrap();
    assert_eq!(
        url.as_str(),
        "http://vault/v1/team/kv/data/a%20b/c%3Fd%23e%25f"
    );
}

#[test]
fn dot_segments_are_refused() {
    let vault = vault("http://vault");
    assert!(matches!(
        vault.url(&["kv", "data", "a/../b"], false),
        Err(VaultError::InvalidPath(_))
    ));
}

#[tokio::test]
async fn a_failed_request_names_its_address_but_not_its_query() {
    // Nothing listens on a port just released: the connection is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/v1/auth/oidc/oidc/callback?code=ONE-SHOT-CODE");
    let error = reqwest::get(&url).await.unwrap_err();
    let VaultError::Unreachable(detail) = transport_error(error) else {
        panic!("a refused connection is Unreachable");
    };
    assert!(detail.contains("/v1/auth/oidc/oidc/callback"), "{detail}");
    assert!(!detail.contains("ONE-SHOT-CODE"), "{detail}");
}
