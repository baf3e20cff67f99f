//! The fixtures themselves: a dev server comes up ready and goes away with its handle; a
//! missing database URL fails loudly.

use std::time::Duration;

use keyway_testkit::{postgres_url, Bao};
use serde_json::json;

#[tokio::test]
async fn a_dev_server_is_ready_when_start_returns_and_stops_when_dropped() {
    let bao = Bao::start().await;
    let port = bao.addr.rsplit(':').next().unwrap().to_owned();

    let health = bao.root_request("GET", "sys/health", None).await;
    assert_eq!(health["sealed"], json!(false));
    bao.enable_kv2("kv").await;
    assert_eq!(bao.kv_put("kv", "a/b", json!({"k": "v"})).await, 1);
    assert_eq!(bao.kv_put("kv", "a/b", json!({"k": "w"})).await, 2);
    drop(bao);

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(format!("127.0.0.1:{port}"))
        .await
        .is_ok()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the dev server still listens after its Bao was dropped"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[test]
fn postgres_url_without_the_variable_panics_with_instructions() {
    // Edition 2021: set/remove_var are safe; this test binary has no other test reading it.
    std::env::remove_var("KEYWAY_TEST_POSTGRES_URL");

    let panic = std::panic::catch_unwind(postgres_url).unwrap_err();

    let message = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    assert!(message.contains("./end2end/run test"), "{message}");
}
