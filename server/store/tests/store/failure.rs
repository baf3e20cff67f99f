//! When the audit log cannot be written, the store says so, so that the caller refuses the
//! action ("if the audit store cannot record it, the action is refused").

use keyway_store::{Action, NewEvent, Outcome, StoreError};

use crate::common::{on_both_backends, postgres_url, save_by, TestDb};

on_both_backends!(a_closed_pool_makes_begin_fail_so_the_write_is_refused);

async fn a_closed_pool_makes_begin_fail_so_the_write_is_refused(t: TestDb) {
    let log = t.log();
    let open_intent = log.begin(save_by("alice")).await.unwrap();
    t.db.close().await;

    let err = log.begin(save_by("alice")).await.unwrap_err();
    assert!(matches!(err, StoreError::AuditWrite(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "The audit log could not be written, so the change was not made."
    );
    let err = log
        .record(NewEvent::new("alice", Action::SecretReveal))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::AuditWrite(_)), "{err:?}");

    let err = log
        .finish(&open_intent, Outcome::Ok, Some(2), None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::AuditOutcome(_)), "{err:?}");
    assert!(err.to_string().contains("listed there as pending"));

    let err = log.list(Default::default()).await.unwrap_err();
    assert_eq!(err.to_string(), "The audit log could not be read.");
    assert!(t.db.ping().await.is_err());
}

/// The realistic break: the database goes away under a running pool.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_database_that_disappears_makes_begin_fail() {
    let test = "a_postgres_database_that_disappears_makes_begin_fail";
    let Some(t) = TestDb::postgres_or_skip(test).await else {
        return;
    };
    let log = t.log();
    log.record(NewEvent::new("alice", Action::Login))
        .await
        .unwrap();
    let name = t.url.rsplit('/').next().unwrap().to_owned();
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&postgres_url())
        .await
        .unwrap();
    sqlx::Executor::execute(
        &mut admin,
        format!("DROP DATABASE \"{name}\" WITH (FORCE)").as_str(),
    )
    .await
    .unwrap();

    let err = log.begin(save_by("alice")).await.unwrap_err();
    assert!(matches!(err, StoreError::AuditWrite(_)), "{err:?}");
}
