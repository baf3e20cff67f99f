//! Rows written before the audit page (format 1) and since (format 2) live in one chain: the old
//! ones keep verifying after migration 0006, their key names become searchable, and a row's format
//! cannot be changed, nor an environment pinned on an old row, unseen.

use keyway_store::{Action, Filter, NewEvent, Outcome, Problem};

use crate::canonical::{canonical_hash, inserts, read_all, rechain, RawRow};
use crate::common::{on_both_backends, save_by, switch_off_triggers, Backend, TestDb};

/// The migration that adds formats.
const AUDIT_PAGE_MIGRATION: i64 = 6;

/// Three rows an older Keyway wrote: two logins and a save whose key names need JSON escapes.
fn v1_rows() -> Vec<RawRow> {
    let mut save = RawRow::v1_login(2, "alice", "2025-01-31T12:00:01.000Z");
    save.action = "secret.save".into();
    save.mount = "dev".into();
    save.path = "webapp/config".into();
    save.version_before = Some(1);
    save.version_after = Some(2);
    save.keys_added = serde_json::to_string(&["quo\"te", "DB_URL"]).unwrap();
    save.keys_changed = serde_json::to_string(&["back\\slash"]).unwrap();
    save.keys_removed = serde_json::to_string(&["DB_URL", "ÖLD"]).unwrap();
    let mut rows = vec![
        RawRow::v1_login(1, "alice", "2025-01-31T12:00:00.000Z"),
        save,
        RawRow::v1_login(3, "bob", "2025-01-31T12:00:02.000Z"),
    ];
    rechain(&mut rows, 0);
    rows
}

async fn with_v1_rows(backend: Backend, test: &str) -> Option<TestDb> {
    let setup = inserts(&v1_rows(), true);
    TestDb::from_older_schema(backend, test, AUDIT_PAGE_MIGRATION, &setup).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_of_both_formats_verify_together_and_old_key_names_are_found_on_sqlite() {
    let t = with_v1_rows(Backend::Sqlite, "").await.unwrap();
    rows_of_both_formats_verify_together_and_old_key_names_are_found(t).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_of_both_formats_verify_together_and_old_key_names_are_found_on_postgres() {
    let test = "rows_of_both_formats_verify_together_and_old_key_names_are_found_on_postgres";
    let Some(t) = with_v1_rows(Backend::Postgres, test).await else {
        return;
    };
    rows_of_both_formats_verify_together_and_old_key_names_are_found(t).await;
}

async fn rows_of_both_formats_verify_together_and_old_key_names_are_found(t: TestDb) {
    let log = t.log();
    let report = log.verify_chain().await.unwrap();
    assert!(
        report.ok,
        "format 1 rows verify after the migration: {report:?}"
    );
    assert_eq!(report.rows, 3);

    let intent = log
        .begin(save_by("carol").environment("dev").app("webapp").keys(
            ["quo\"te"],
            Vec::<String>::new(),
            Vec::<String>::new(),
        ))
        .await
        .unwrap();
    log.finish_linked(&intent, Outcome::Ok, Some(3), None, Some("vault-req-9"))
        .await
        .unwrap();
    log.record(NewEvent::new("dave", Action::Login))
        .await
        .unwrap();

    let report = log.verify_chain().await.unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.rows, 6);
    let raw = read_all(&t).await;
    let formats: Vec<i32> = raw.iter().map(|r| r.format).collect();
    assert_eq!(formats, [1, 1, 1, 2, 2, 2]);
    for row in &raw {
        assert_eq!(
            canonical_hash(row),
            row.hash,
            "row {} hashes as documented",
            row.seq
        );
    }

    let rows = log.list(Filter::default()).await.unwrap();
    let old_save = rows.iter().find(|r| r.seq == 2).unwrap();
    assert_eq!(
        (old_save.format, &old_save.environment, &old_save.app),
        (1, &None, &None)
    );
    let outcome = &rows[1];
    assert_eq!(outcome.format, 2);
    assert_eq!(outcome.environment.as_deref(), Some("dev"));
    assert_eq!(outcome.vault_request_id.as_deref(), Some("vault-req-9"));

    // The migration indexed the old rows' key names, escapes and all.
    let by_key = |key: &str| {
        let log = log.clone();
        let key = key.to_owned();
        async move {
            let filter = Filter {
                key: Some(key),
                ..Filter::default()
            };
            let rows = log.list(filter).await.unwrap();
            rows.into_iter().map(|r| r.seq).collect::<Vec<_>>()
        }
    };
    assert_eq!(by_key("quo\"te").await, [5, 4, 2]);
    assert_eq!(by_key("back\\slash").await, [2]);
    assert_eq!(by_key("ÖLD").await, [2]);
    assert_eq!(by_key("DB_URL").await, [2], "once, though listed twice");
    assert!(by_key("quo").await.is_empty());
    assert!(
        by_key("\"quo\\\"te\"").await.is_empty(),
        "not its JSON spelling"
    );
    let entries = t.raw_count("SELECT count(*) FROM audit_key").await;
    assert_eq!(
        entries,
        4 + 2,
        "four names in row 2, one in each of rows 4 and 5"
    );
}

on_both_backends!(
    a_rows_format_cannot_change_and_an_old_row_cannot_gain_an_environment_unseen,
    the_new_fields_are_recorded_bounded_and_kept_by_a_resumed_intent,
);

async fn a_rows_format_cannot_change_and_an_old_row_cannot_gain_an_environment_unseen(t: TestDb) {
    let log = t.log();
    for i in 0..4 {
        log.record(save_by("alice").environment("dev").app(format!("app-{i}")))
            .await
            .unwrap();
    }
    log.record(NewEvent::new("bob", Action::Login))
        .await
        .unwrap();
    switch_off_triggers(&t).await;

    // Format 1 rows keep the new columns empty: the database refuses one that does not.
    let refused = t
        .raw("UPDATE audit_log SET format = 1 WHERE seq = 1")
        .await
        .unwrap_err();
    assert!(refused.to_lowercase().contains("check"), "{refused}");

    let altered = |seq: i64| {
        let log = log.clone();
        async move {
            let report = log.verify_chain().await.unwrap();
            let found = report.first_break.expect("a break");
            assert_eq!((found.seq, found.problem), (seq, Problem::Altered));
        }
    };
    // The same row claiming a format this Keyway does not know.
    t.raw("UPDATE audit_log SET format = 3 WHERE seq = 4")
        .await
        .unwrap();
    altered(4).await;
    // A format 2 row without context passed off as format 1: hashed as v1, it does not match.
    t.raw("UPDATE audit_log SET format = 1 WHERE seq = 5")
        .await
        .unwrap();
    // The environment of a format 2 row is covered by its hash.
    t.raw("UPDATE audit_log SET environment = 'prod' WHERE seq = 2")
        .await
        .unwrap();
    altered(2).await;
    t.raw("UPDATE audit_log SET environment = 'dev', format = 2 WHERE seq IN (2, 4)")
        .await
        .unwrap();
    altered(5).await;
}

async fn the_new_fields_are_recorded_bounded_and_kept_by_a_resumed_intent(t: TestDb) {
    let log = t.log();
    let long = "é".repeat(300);
    log.record(
        NewEvent::new("alice", Action::SecretReveal)
            .secret("dev", "webapp/config")
            .environment(long.clone())
            .app("")
            .vault_request(long.clone()),
    )
    .await
    .unwrap();
    let err = log
        .begin(save_by("alice").vault_request("too-early"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, keyway_store::StoreError::Invalid(_)),
        "{err:?}"
    );

    let interrupted = log
        .begin(save_by("bob").environment("dev").app("webapp"))
        .await
        .unwrap();
    let done = log
        .begin(save_by("carol").environment("prod").app("api"))
        .await
        .unwrap();
    log.finish(&done, Outcome::Denied, None, None)
        .await
        .unwrap();
    let pending = log.pending_intents().await.unwrap();
    assert_eq!(pending.len(), 1);
    let resumed = keyway_store::Intent::from_pending(&pending[0]).unwrap();
    assert_eq!(resumed.seq(), interrupted.seq());
    log.finish_linked(
        &resumed,
        Outcome::Error,
        None,
        Some("Keyway stopped"),
        Some("req-x"),
    )
    .await
    .unwrap();

    let rows = log.list(Filter::default()).await.unwrap();
    let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, [5, 4, 3, 2, 1]);
    let (resumed_outcome, denied, reveal) = (&rows[0], &rows[1], &rows[4]);
    assert_eq!(reveal.environment.as_ref().unwrap().chars().count(), 256);
    assert_eq!(reveal.app, None, "an empty app is none");
    assert_eq!(
        reveal.vault_request_id.as_ref().unwrap().chars().count(),
        256
    );
    assert_eq!(
        (denied.environment.as_deref(), denied.app.as_deref()),
        (Some("prod"), Some("api")),
        "an outcome row copies its intent's environment and app"
    );
    assert_eq!(
        denied.vault_request_id, None,
        "finish() records no Vault request"
    );
    assert_eq!(
        (
            resumed_outcome.environment.as_deref(),
            resumed_outcome.app.as_deref(),
            resumed_outcome.vault_request_id.as_deref(),
            resumed_outcome.intent_seq,
        ),
        (Some("dev"), Some("webapp"), Some("req-x"), Some(2))
    );
    assert!(rows.iter().all(|r| r.format == 2));
    assert!(log.verify_chain().await.unwrap().ok);
}
