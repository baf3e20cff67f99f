//! The database, not the code's good manners, keeps the log append-only and the chain linked;
//! and when someone with enough power gets round that, `verify_chain` says where.

use keyway_store::{Action, NewEvent, Problem, GENESIS_PREV_HASH};

use crate::common::{on_both_backends, save_by, Backend, TestDb};

on_both_backends!(
    a_row_altered_behind_the_codes_back_breaks_the_chain_at_that_row,
    deleting_audit_rows_is_refused_and_a_forced_delete_is_detected,
    an_insert_that_does_not_extend_the_chain_tip_is_refused,
);

async fn four_rows(t: &TestDb) {
    let log = t.log();
    for actor in ["alice", "bob", "carol", "dave"] {
        log.record(NewEvent::new(actor, Action::Login))
            .await
            .unwrap();
    }
}

async fn a_row_altered_behind_the_codes_back_breaks_the_chain_at_that_row(t: TestDb) {
    four_rows(&t).await;
    let tamper = "UPDATE audit_log SET actor_name = 'mallory' WHERE seq = 2";

    let refused = t.raw(tamper).await.unwrap_err();
    assert!(refused.contains("audit log is append-only"), "{refused}");
    assert!(t.log().verify_chain().await.unwrap().ok);

    // Only by switching the trigger off can the row be changed; the chain then shows it.
    let disable = match t.backend {
        Backend::Sqlite => "DROP TRIGGER audit_log_no_update",
        Backend::Postgres => "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete",
    };
    t.raw(disable).await.unwrap();
    assert_eq!(t.raw(tamper).await.unwrap(), 1);

    let report = t.log().verify_chain().await.unwrap();
    assert!(!report.ok);
    assert_eq!(report.rows, 4);
    assert_eq!(report.first_bad_seq, Some(2));
    assert_eq!(report.first_break.unwrap().problem, Problem::Altered);
}

async fn deleting_audit_rows_is_refused_and_a_forced_delete_is_detected(t: TestDb) {
    four_rows(&t).await;
    for sql in [
        "DELETE FROM audit_log WHERE seq = 2",
        "DELETE FROM audit_log",
    ] {
        let refused = t.raw(sql).await.unwrap_err();
        assert!(
            refused.contains("audit log is append-only"),
            "{sql}: {refused}"
        );
    }
    if t.backend == Backend::Postgres {
        let refused = t.raw("TRUNCATE audit_log").await.unwrap_err();
        assert!(refused.contains("audit log is append-only"), "{refused}");
    }
    assert_eq!(t.raw_count("SELECT count(*) FROM audit_log").await, 4);

    let disable = match t.backend {
        Backend::Sqlite => "DROP TRIGGER audit_log_no_delete",
        Backend::Postgres => "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete",
    };
    t.raw(disable).await.unwrap();
    assert_eq!(
        t.raw("DELETE FROM audit_log WHERE seq = 2").await.unwrap(),
        1
    );
    let report = t.log().verify_chain().await.unwrap();
    assert_eq!(
        (report.ok, report.rows, report.first_bad_seq),
        (false, 3, Some(3))
    );
}

async fn an_insert_that_does_not_extend_the_chain_tip_is_refused(t: TestDb) {
    let log = t.log();
    let first = log.record(save_by("alice")).await.unwrap();
    let insert = |seq: i64, prev_hash: &str| {
        format!(
            "INSERT INTO audit_log (seq, id, at, actor_name, action, outcome, prev_hash, hash) \
             VALUES ({seq}, 'forged-{seq}', '2025-01-01T00:00:00.000Z', 'mallory', 'login', 'ok', \
             '{prev_hash}', '{}')",
            "f".repeat(64)
        )
    };
    for (what, sql) in [
        ("a gap", insert(3, &first.hash)),
        ("a fork from the genesis", insert(2, GENESIS_PREV_HASH)),
        ("a second row 1", insert(1, GENESIS_PREV_HASH)),
    ] {
        let refused = t.raw(&sql).await.unwrap_err();
        assert!(
            refused.contains("extend the chain tip") || refused.to_lowercase().contains("unique"),
            "{what}: {refused}"
        );
    }
    assert_eq!(t.raw_count("SELECT count(*) FROM audit_log").await, 1);
}
