//! A chain head published outside the database shows what the chain alone cannot: rows cut off
//! its end, and a log rewritten from some row on with every hash recomputed.

use keyway_store::{Action, Checkpoint, NewEvent, Problem};

use crate::common::{on_both_backends, Backend, TestDb};

on_both_backends!(
    a_whole_chain_matches_its_published_head,
    rows_cut_off_the_end_pass_the_chain_check_but_not_the_published_head,
    a_log_rewritten_with_fresh_hashes_differs_from_its_published_head,
);

async fn logins(t: &TestDb, actors: &[&str]) -> Checkpoint {
    let log = t.log();
    let mut last = None;
    for actor in actors {
        last = Some(
            log.record(NewEvent::new(*actor, Action::Login))
                .await
                .unwrap(),
        );
    }
    last.expect("at least one actor").into()
}

/// As the database owner would: switch the no-delete trigger off and cut rows `from..`.
async fn cut_from(t: &TestDb, from: i64) {
    let disable = match t.backend {
        Backend::Sqlite => "DROP TRIGGER audit_log_no_delete",
        Backend::Postgres => "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete",
    };
    t.raw(disable).await.unwrap();
    t.raw(&format!("DELETE FROM audit_log WHERE seq >= {from}"))
        .await
        .unwrap();
}

async fn a_whole_chain_matches_its_published_head(t: TestDb) {
    let earlier = logins(&t, &["alice", "bob"]).await;
    let head = logins(&t, &["carol"]).await;
    let report = t
        .log()
        .verify_against(&[earlier, head.clone()])
        .await
        .unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!((report.rows, report.heads_checked), (3, 2));
    assert_eq!(report.head, Some(head.clone()));
    assert_eq!(
        t.log().head().await.unwrap().map(Checkpoint::from),
        Some(head)
    );
}

async fn rows_cut_off_the_end_pass_the_chain_check_but_not_the_published_head(t: TestDb) {
    let head = logins(&t, &["alice", "bob", "carol", "dave"]).await;
    cut_from(&t, 3).await;

    assert!(
        t.log().verify_chain().await.unwrap().ok,
        "a shorter chain is still whole"
    );
    let report = t.log().verify_against(&[head]).await.unwrap();
    assert!(!report.ok);
    let found = report.first_break.expect("a break");
    assert_eq!((found.seq, found.problem), (4, Problem::HeadMissing));
    assert_eq!(report.head.map(|h| h.seq), Some(2));
}

async fn a_log_rewritten_with_fresh_hashes_differs_from_its_published_head(t: TestDb) {
    let head = logins(&t, &["alice", "bob", "carol"]).await;
    cut_from(&t, 2).await;
    // Appended through the store: every hash and link is valid again.
    logins(&t, &["mallory", "mallory"]).await;

    assert!(t.log().verify_chain().await.unwrap().ok);
    let report = t
        .log()
        .verify_against(std::slice::from_ref(&head))
        .await
        .unwrap();
    let found = report.first_break.expect("a break");
    assert_eq!(found.seq, 3);
    assert_eq!(
        found.problem,
        Problem::DiffersFromHead {
            published: head.hash
        }
    );
    let row = found.row.expect("the row as it reads now");
    assert!(row.contains("mallory login ok"), "{row}");
}
