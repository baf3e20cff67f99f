//! record, begin and finish append rows that link into one valid chain.

use keyway_store::{Action, Intent, NewEvent, Outcome, StoreError, GENESIS_PREV_HASH};

use crate::common::{on_both_backends, save_by, TestDb};

on_both_backends!(
    record_begin_and_finish_build_a_valid_chain,
    an_intent_without_an_outcome_is_listed_as_pending,
    an_outcome_cannot_be_pending_and_a_one_shot_event_cannot_be_an_intent,
);

async fn record_begin_and_finish_build_a_valid_chain(t: TestDb) {
    let log = t.log();
    let login = log
        .record(NewEvent::new("alice", Action::Login).request("req-1", "127.0.0.1"))
        .await
        .unwrap();
    assert_eq!(login.seq, 1);

    let intent = log
        .begin(
            save_by("alice")
                .versions(Some(6), None)
                .keys(["NEW", "B_NEW"], ["CHANGED"], ["GONE"])
                .request("req-2", "127.0.0.1"),
        )
        .await
        .unwrap();
    assert_eq!(intent.seq(), 2);
    let outcome = log
        .finish(&intent, Outcome::Ok, Some(7), Some("saved"))
        .await
        .unwrap();
    assert_eq!(outcome.seq, 3);

    let rows = log.list(Default::default()).await.unwrap();
    assert_eq!(rows.iter().map(|r| r.seq).collect::<Vec<_>>(), [3, 2, 1]);
    let (finished, pending, first) = (&rows[0], &rows[1], &rows[2]);

    assert_eq!(first.prev_hash, GENESIS_PREV_HASH);
    assert_eq!(pending.prev_hash, first.hash);
    assert_eq!(finished.prev_hash, pending.hash);
    assert_eq!(finished.hash, outcome.hash);
    assert_eq!(first.outcome, Outcome::Ok);
    assert_eq!(first.mount, "");

    assert_eq!(pending.outcome, Outcome::Pending);
    assert_eq!(pending.intent_seq, None);
    assert_eq!(pending.keys_added, ["B_NEW", "NEW"], "key names are sorted");
    assert_eq!(pending.version_after, None);

    assert_eq!(finished.outcome, Outcome::Ok);
    assert_eq!(finished.intent_seq, Some(2));
    assert_eq!(finished.actor_name, "alice");
    assert_eq!(finished.actor_entity, "entity-alice");
    assert_eq!(finished.action(), Some(Action::SecretSave));
    assert_eq!(
        (finished.mount.as_str(), finished.path.as_str()),
        ("dev", "webapp/config")
    );
    assert_eq!(finished.keys_added, pending.keys_added);
    assert_eq!(finished.keys_changed, ["CHANGED"]);
    assert_eq!(finished.keys_removed, ["GONE"]);
    assert_eq!(
        (finished.version_before, finished.version_after),
        (Some(6), Some(7))
    );
    assert_eq!(finished.detail.as_deref(), Some("saved"));
    assert_eq!(finished.request_id.as_deref(), Some("req-2"));

    for row in &rows {
        let at =
            time::OffsetDateTime::parse(&row.at, &time::format_description::well_known::Rfc3339)
                .expect("at is RFC 3339");
        assert_eq!(at.offset(), time::UtcOffset::UTC);
        assert_eq!(
            row.at.len(),
            "2025-01-31T12:00:00.123Z".len(),
            "at has milliseconds"
        );
    }
    assert!(
        rows[0].at >= rows[2].at,
        "the database clock stamps rows in order"
    );

    let report = log.verify_chain().await.unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!((report.rows, report.first_bad_seq), (3, None));
    assert_eq!(log.head().await.unwrap(), Some(outcome));
}

async fn an_intent_without_an_outcome_is_listed_as_pending(t: TestDb) {
    let log = t.log();
    let finished = log.begin(save_by("alice")).await.unwrap();
    let interrupted = log
        .begin(NewEvent::new("bob", Action::SecretDelete).secret("dev", "api/keys"))
        .await
        .unwrap();
    log.finish(
        &finished,
        Outcome::Conflict,
        None,
        Some("version 7 was saved meanwhile"),
    )
    .await
    .unwrap();

    let pending = log.pending_intents().await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].seq, interrupted.seq());
    assert_eq!(pending[0].actor_name, "bob");

    // A reconciler can still close it after a restart, from the row alone.
    let resumed = Intent::from_pending(&pending[0]).expect("a pending row is an intent");
    log.finish(
        &resumed,
        Outcome::Error,
        None,
        Some("Keyway stopped before the outcome was known"),
    )
    .await
    .unwrap();
    assert!(log.pending_intents().await.unwrap().is_empty());

    // An intent has at most one outcome: the database refuses a second.
    let err = log
        .finish(&resumed, Outcome::Ok, None, None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::AuditOutcome(_)), "{err:?}");
    assert!(log.verify_chain().await.unwrap().ok);
}

async fn an_outcome_cannot_be_pending_and_a_one_shot_event_cannot_be_an_intent(t: TestDb) {
    let log = t.log();
    let err = log
        .record(NewEvent::new("alice", Action::Login).outcome(Outcome::Pending))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)));
    let intent = log.begin(save_by("alice")).await.unwrap();
    let err = log
        .finish(&intent, Outcome::Pending, None, None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)));
    assert_eq!(log.list(Default::default()).await.unwrap().len(), 1);
}
