//! The fixtures themselves: a dev server comes up ready and goes away with its handle; a
//! missing database URL fails loudly in CI and skips with a reason elsewhere; a throwaway
//! database goes away with its handle; `eventually` polls until.

use std::time::Duration;

use keyway_testkit::{eventually, postgres_url, postgres_url_or_skip, Bao, TempDatabase};
use serde_json::json;

const VAR: &str = "KEYWAY_TEST_POSTGRES_URL";

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

    let addr = format!("127.0.0.1:{port}");
    eventually(
        "the dev server stops listening once its Bao is dropped",
        Duration::from_secs(10),
        || async {
            tokio::net::TcpStream::connect(&addr)
                .await
                .is_err()
                .then_some(())
        },
    )
    .await;
}

fn panic_message(panic: Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// One test for everything that reads the environment, so no two threads change it at once:
/// without a database URL, `postgres_url` panics with instructions, `postgres_url_or_skip`
/// skips outside CI and panics in CI; with one, a `TempDatabase` exists until it is dropped.
#[tokio::test]
async fn postgres_is_required_in_ci_skipped_elsewhere_and_temp_databases_are_dropped() {
    // Edition 2021: set/remove_var are safe; no other test of this binary reads these.
    let configured = std::env::var(VAR).ok();
    let ci = std::env::var("CI").ok();
    std::env::remove_var(VAR);
    std::env::remove_var("CI");

    let message = panic_message(std::panic::catch_unwind(postgres_url).unwrap_err());
    assert!(message.contains("./end2end/run test"), "{message}");
    assert_eq!(postgres_url_or_skip("a test"), None, "skipped outside CI");
    std::env::set_var("CI", "true");
    let in_ci = std::panic::catch_unwind(|| postgres_url_or_skip("a test")).unwrap_err();
    let message = panic_message(in_ci);
    assert!(message.contains("CI=true"), "{message}");

    match ci {
        Some(v) => std::env::set_var("CI", v),
        None => std::env::remove_var("CI"),
    }
    let Some(admin) = configured else {
        eprintln!("SKIPPED the TempDatabase half: {VAR} is unset");
        return;
    };
    std::env::set_var(VAR, &admin);
    let db = TempDatabase::create(&admin).await;
    let name = db.name.clone();
    assert!(db.url.ends_with(&format!("/{name}")), "{}", db.url);
    assert!(TempDatabase::exists(&admin, &name).await);
    drop(db);
    assert!(
        !TempDatabase::exists(&admin, &name).await,
        "dropped with its handle"
    );
}

#[tokio::test]
async fn eventually_returns_the_first_some_and_fails_with_what_it_waited_for() {
    let mut calls = 0;
    let got = eventually("the third call", Duration::from_secs(5), async || {
        calls += 1;
        (calls == 3).then_some(calls)
    })
    .await;
    assert_eq!(got, 3);
    let never = std::thread::spawn(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(eventually(
            "never",
            Duration::from_millis(300),
            async || None::<()>,
        ))
    });
    let message = panic_message(never.join().unwrap_err());
    assert!(message.contains("never"), "{message}");
}
