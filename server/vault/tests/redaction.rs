//! Tokens and secret values must never reach logs: every span and event this crate emits
//! (and those of the HTTP stack below it) is captured at TRACE level during a full session and
//! searched for them.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use keyway_testkit::Bao;
use keyway_vault::KvData;
use secrecy::ExposeSecret;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn traces_and_errors_carry_neither_tokens_nor_secret_values() {
    let bao = Bao::start().await;
    common::dev_and_staging(&bao).await;
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let vault = common::client(&bao);
    let secret_value = "pa55-value-that-must-not-leak";
    let data: KvData = [("password", secret_value)].into_iter().collect();

    let login = vault
        .login_userpass("userpass", "alice", "alice-password")
        .await
        .unwrap();
    let token = login.token.clone();
    vault
        .kv_write(&token, "dev", "app", &data, 0)
        .await
        .unwrap();
    let read = vault.kv_read(&token, "dev", "app", None).await.unwrap();
    let stale = vault.kv_write(&token, "dev", "app", &data, 0).await;
    let denied = vault.kv_write(&token, "staging", "app", &data, 0).await;
    vault.revoke_self(&token).await.unwrap();
    let expired = vault.kv_read(&token, "dev", "app", None).await;

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    let debug = format!("{login:?} {read:?} {stale:?} {denied:?} {expired:?} {data:?}");
    assert!(
        logs.contains("vault answered"),
        "nothing was captured:\n{logs}"
    );
    for (what, text) in [("logs", &logs), ("Debug output", &debug)] {
        assert!(
            !text.contains(token.expose_secret()),
            "token in {what}:\n{text}"
        );
        assert!(
            !text.contains(secret_value),
            "secret value in {what}:\n{text}"
        );
        assert!(
            !text.contains("alice-password"),
            "password in {what}:\n{text}"
        );
    }
}
