//! The schema is made on a fresh database, and connecting again changes nothing.

use keyway_store::{Action, Backend as DbBackend, Filter, NewEvent};

use crate::common::{on_both_backends, Backend, TestDb};

on_both_backends!(
    a_fresh_database_is_migrated_and_reconnecting_migrates_nothing_twice,
    a_migration_that_does_not_match_the_database_stops_connect,
);

async fn a_fresh_database_is_migrated_and_reconnecting_migrates_nothing_twice(t: TestDb) {
    let expected = match t.backend {
        Backend::Sqlite => DbBackend::Sqlite,
        Backend::Postgres => DbBackend::Postgres,
    };
    assert_eq!(t.db.backend(), expected);
    t.db.ping().await.expect("the database answers");

    let applied = "SELECT count(*) FROM _sqlx_migrations WHERE success";
    let migrations = t.raw_count(applied).await;
    assert!(migrations >= 1, "the audit log migration was applied");
    assert!(t.log().list(Filter::default()).await.unwrap().is_empty());
    t.log()
        .record(NewEvent::new("alice", Action::Login))
        .await
        .unwrap();

    let again = t.another_replica().await;
    let third = t.another_replica().await;
    assert_eq!(
        t.raw_count(applied).await,
        migrations,
        "no migration ran twice"
    );
    let rows = keyway_store::AuditLog::new(again.clone())
        .list(Filter::default())
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "the data survived reconnecting");
    again.close().await;
    third.close().await;
}

async fn a_migration_that_does_not_match_the_database_stops_connect(t: TestDb) {
    // As if a released migration had been edited: sqlx refuses, and so must boot.
    let tamper = match t.backend {
        Backend::Sqlite => "UPDATE _sqlx_migrations SET checksum = X'00'",
        Backend::Postgres => "UPDATE _sqlx_migrations SET checksum = '\\x00'::bytea",
    };
    t.raw(tamper).await.unwrap();
    let err = keyway_store::Db::connect(&t.url).await.unwrap_err();
    assert!(
        matches!(err, keyway_store::StoreError::Migrate(_)),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "The database schema could not be brought up to date, so Keyway will not start."
    );
}

#[tokio::test]
async fn an_in_memory_sqlite_database_keeps_its_rows_across_calls() {
    let db = keyway_store::Db::connect("sqlite::memory:").await.unwrap();
    let log = keyway_store::AuditLog::new(db);
    for _ in 0..3 {
        log.record(NewEvent::new("alice", Action::Login))
            .await
            .unwrap();
    }
    let report = log.verify_chain().await.unwrap();
    assert!(report.ok);
    assert_eq!(report.rows, 3);
}

#[tokio::test]
async fn a_url_for_another_database_is_refused_with_a_plain_sentence() {
    let err = keyway_store::Db::connect("mysql://localhost/keyway")
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "The database URL must start with sqlite: or postgres://."
    );
}
