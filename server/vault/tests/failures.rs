//! When Vault is sealed, throttling, unreachable or silent, how TLS is configured, and how many
//! requests Keyway keeps open at once.
//!
//! Sealed and rate-limited are produced by the real OpenBao dev server (`PUT sys/seal`, a
//! rate-limit quota). Only the hung server and the counting server are test doubles: a real
//! Vault cannot be made to accept a connection and then never answer, nor to report how many
//! requests it holds.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use keyway_testkit::Bao;
use keyway_vault::{KvData, Vault, VaultConfig, VaultError};
use serde_json::json;

#[tokio::test]
async fn a_sealed_vault_is_reported_as_sealed_for_logins_and_reads() {
    let bao = Bao::start().await;
    common::dev_and_staging(&bao).await;
    let vault = common::client(&bao);
    let token = common::alice(&vault).await;

    bao.seal().await;

    let read = vault.kv_read(&token, "dev", "app", None).await.unwrap_err();
    assert_eq!(read, VaultError::Sealed);
    assert_eq!(
        read.to_string(),
        "Vault is sealed, so nothing can be read or saved. Try again once it is unsealed."
    );
    assert_eq!(
        vault
            .login_userpass("userpass", "alice", "alice-password")
            .await
            .unwrap_err(),
        VaultError::Sealed
    );
    assert_eq!(vault.login_methods().await.unwrap_err(), VaultError::Sealed);
    assert_eq!(
        vault.lookup_self(&token).await.unwrap_err(),
        VaultError::Sealed
    );

    bao.unseal().await;
    assert_eq!(
        vault.kv_read(&token, "dev", "app", None).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn a_rate_limit_quota_is_reported_as_try_again_later() {
    let bao = Bao::start().await;
    common::dev_and_staging(&bao).await;
    let vault = common::client(&bao);
    let token = common::alice(&vault).await;
    bao.root_request(
        "POST",
        "sys/quotas/rate-limit/dev",
        Some(json!({"path": "dev/", "rate": 1, "interval": "1m"})),
    )
    .await;

    let mut errors = Vec::new();
    for _ in 0..3 {
        if let Err(e) = vault.kv_read(&token, "dev", "app", None).await {
            errors.push(e);
        }
    }

    assert!(
        errors.contains(&VaultError::RateLimited),
        "expected a 429 within 3 reads, got {errors:?}"
    );
}

#[tokio::test]
async fn a_closed_port_is_unreachable() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let vault = Vault::new(&VaultConfig::new(
        format!("http://127.0.0.1:{port}").parse().unwrap(),
    ))
    .unwrap();

    let error = vault.login_methods().await.unwrap_err();

    assert!(matches!(error, VaultError::Unreachable(_)), "{error:?}");
    assert_eq!(
        error.to_string(),
        "Vault cannot be reached right now. Try again in a moment."
    );
}

/// Test double: a real Vault cannot be made to accept a connection and never answer, which is
/// what a hung server or a black-holing proxy does. The listener accepts and holds sockets open.
#[tokio::test]
async fn a_server_that_never_answers_is_unreachable_after_the_timeout() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let mut config = VaultConfig::new(format!("http://{addr}").parse().unwrap());
    config.timeout = Duration::from_millis(300);
    let vault = Vault::new(&config).unwrap();
    let token = keyway_vault::SecretString::from("s.whatever".to_owned());
    let data: KvData = [("k", "v")].into_iter().collect();

    let started = Instant::now();
    let error = vault
        .kv_write(&token, "dev", "app", &data, 0)
        .await
        .unwrap_err();

    assert!(
        matches!(error, VaultError::Unreachable(ref d) if d.contains("timed out")),
        "{error:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    silent.abort();
}

#[tokio::test]
async fn a_private_ca_and_a_client_certificate_from_pem_files_connect_over_tls() {
    let bao = Bao::start_tls().await;
    let (ca, cert, key) = bao.tls_files().unwrap();
    let addr: url::Url = bao.addr.parse().unwrap();

    let mut config = VaultConfig::new(addr.clone());
    config.ca_cert = Some(ca);
    config.client_cert = Some(cert);
    config.client_key = Some(key);
    let vault = Vault::new(&config).unwrap();
    let info = vault.lookup_self(&common::root(&bao)).await.unwrap();
    assert_eq!(info.policies, vec!["root"]);

    let untrusting = Vault::new(&VaultConfig::new(addr)).unwrap();
    assert!(matches!(
        untrusting.lookup_self(&common::root(&bao)).await,
        Err(VaultError::Unreachable(_))
    ));
}

#[test]
fn missing_or_invalid_certificate_files_are_configuration_errors() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a certificate").unwrap();
    let base = VaultConfig::new("https://vault.example:8200".parse().unwrap());

    let missing = Vault::new(&VaultConfig {
        ca_cert: Some(PathBuf::from("/nonexistent/ca.pem")),
        ..base.clone()
    })
    .unwrap_err();
    assert!(
        matches!(&missing, VaultError::Config(m) if m.contains("/nonexistent/ca.pem")),
        "{missing}"
    );

    let invalid = Vault::new(&VaultConfig {
        ca_cert: Some(garbage.clone()),
        ..base.clone()
    })
    .unwrap_err();
    assert!(
        matches!(&invalid, VaultError::Config(m) if m.contains("valid PEM")),
        "{invalid}"
    );

    let half = Vault::new(&VaultConfig {
        client_cert: Some(garbage.clone()),
        ..base.clone()
    })
    .unwrap_err();
    assert!(matches!(half, VaultError::Config(_)));

    let bad_identity = Vault::new(&VaultConfig {
        client_cert: Some(garbage.clone()),
        client_key: Some(garbage),
        ..base.clone()
    })
    .unwrap_err();
    assert!(matches!(bad_identity, VaultError::Config(_)));

    let not_http =
        Vault::new(&VaultConfig::new("ftp://vault.example".parse().unwrap())).unwrap_err();
    assert!(matches!(not_http, VaultError::Config(_)));
}

/// Test double: a real Vault cannot say how many requests it holds at once, nor hold them until
/// told. This one counts requests received and not yet answered, and answers only when the test
/// lets it.
#[tokio::test]
async fn no_more_requests_are_in_flight_than_the_limit() {
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (open, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let answers = Arc::new(tokio::sync::Semaphore::new(0));
    let server = {
        let (open, most, answers) = (open.clone(), most.clone(), answers.clone());
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let (open, most, answers) = (open.clone(), most.clone(), answers.clone());
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    loop {
                        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                            match socket.read(&mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => head.extend_from_slice(&buf[..n]),
                            }
                        }
                        head.clear();
                        let now = open.fetch_add(1, SeqCst) + 1;
                        most.fetch_max(now, SeqCst);
                        answers.acquire().await.unwrap().forget();
                        open.fetch_sub(1, SeqCst);
                        let reply = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}";
                        if socket.write_all(reply).await.is_err() {
                            return;
                        }
                    }
                });
            }
        })
    };
    let mut config = VaultConfig::new(format!("http://{addr}").parse().unwrap());
    config.max_in_flight = 2;
    let vault = Vault::new(&config).unwrap();
    let calls: Vec<_> = (0..6)
        .map(|_| {
            let vault = vault.clone();
            tokio::spawn(async move { vault.login_methods().await })
        })
        .collect();
    keyway_testkit::eventually(
        "two requests reach the server",
        Duration::from_secs(5),
        async || (open.load(SeqCst) == 2).then_some(()),
    )
    .await;
    answers.add_permits(6);
    for call in calls {
        let _ = call.await.unwrap();
    }
    assert_eq!(
        most.load(SeqCst),
        2,
        "at most two requests were open at once"
    );
    server.abort();
}

#[tokio::test]
async fn the_health_check_passes_a_sealed_node_by_for_the_next_one() {
    // Two dev servers stand in for two nodes of one cluster: only the node choice is tested.
    let (sealed, serving) = tokio::join!(Bao::start(), Bao::start());
    sealed.seal().await;
    let mut config = VaultConfig::new(sealed.addr.parse().unwrap());
    config.more_addrs = vec![serving.addr.parse().unwrap()];
    let vault = Vault::new(&config).unwrap();
    assert_eq!(vault.health().await.unwrap(), keyway_vault::Health::Serving);

    // With one address there is no other node: sealed is the answer.
    assert_eq!(
        common::client(&sealed).health().await.unwrap(),
        keyway_vault::Health::Sealed
    );
}
