//! A chain head published outside the database shows what the chain alone cannot: rows cut off
//! its end, and a log rewritten from some row on with every hash recomputed.

use keyway_store::{Action, Checkpoint, NewEvent, Problem};

use crate::canonical::{read_all, rechain, replace_all, RawRow};
use crate::common::{on_both_backends, switch_off_triggers, Backend, TestDb};

on_both_backends!(
    a_whole_chain_matches_its_published_head,
    rows_cut_off_the_end_pass_the_chain_check_but_not_the_published_head,
    a_log_rewritten_with_fresh_hashes_differs_from_its_published_head,
    a_tail_cut_off_and_the_rest_rehashed_is_shown_only_by_a_published_head,
    a_row_inserted_in_the_middle_and_the_rest_rehashed_is_shown_only_by_a_published_head,
    a_row_deleted_from_the_middle_and_the_rest_rehashed_is_shown_only_by_a_published_head,
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

/// As the database owner would, with the triggers off: the log replaced by `edit` of its rows,
/// every row from `from` (0-based) on renumbered, relinked and rehashed, so that the chain alone
/// is whole again.
async fn rewrite(t: &TestDb, from: usize, edit: impl FnOnce(&mut Vec<RawRow>)) {
    switch_off_triggers(t).await;
    let mut rows = read_all(t).await;
    edit(&mut rows);
    rechain(&mut rows, from);
    replace_all(t, &rows).await;
    let report = t.log().verify_chain().await.unwrap();
    assert!(
        report.ok,
        "the rewritten chain is whole by itself: {report:?}"
    );
}

async fn first_break(t: &TestDb, heads: &[Checkpoint]) -> (i64, Problem) {
    let report = t.log().verify_against(heads).await.unwrap();
    let found = report.first_break.expect("a break");
    (found.seq, found.problem)
}

async fn a_tail_cut_off_and_the_rest_rehashed_is_shown_only_by_a_published_head(t: TestDb) {
    let early = logins(&t, &["alice", "bob"]).await;
    let head = logins(&t, &["carol", "dave", "erin"]).await;
    // Rows 4 and 5 go, and row 2 now says mallory: rows 2 and 3 rehashed.
    rewrite(&t, 1, |rows| {
        rows.truncate(3);
        rows[1].actor_name = "mallory".into();
    })
    .await;
    assert_eq!(
        first_break(&t, std::slice::from_ref(&head)).await,
        (5, Problem::HeadMissing)
    );
    let published = early.hash.clone();
    assert_eq!(
        first_break(&t, &[early]).await,
        (2, Problem::DiffersFromHead { published })
    );
}

async fn a_row_inserted_in_the_middle_and_the_rest_rehashed_is_shown_only_by_a_published_head(
    t: TestDb,
) {
    let first = logins(&t, &["alice"]).await;
    let head = logins(&t, &["bob", "carol", "dave"]).await;
    rewrite(&t, 1, |rows| {
        let mut forged = rows[0].clone();
        forged.id = "forged".into();
        forged.actor_name = "mallory".into();
        forged.environment = Some("prod".into());
        forged.format = 2;
        rows.insert(1, forged);
    })
    .await;
    let rows = read_all(&t).await;
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[1].actor_name, "mallory");
    assert!(
        t.log().verify_against(&[first]).await.unwrap().ok,
        "row 1 is untouched"
    );
    let published = head.hash.clone();
    assert_eq!(
        first_break(&t, &[head]).await,
        (4, Problem::DiffersFromHead { published })
    );
}

async fn a_row_deleted_from_the_middle_and_the_rest_rehashed_is_shown_only_by_a_published_head(
    t: TestDb,
) {
    let third = logins(&t, &["alice", "bob", "carol"]).await;
    let head = logins(&t, &["dave"]).await;
    rewrite(&t, 1, |rows| {
        rows.remove(1);
    })
    .await;
    assert_eq!(
        first_break(&t, std::slice::from_ref(&head)).await,
        (4, Problem::HeadMissing)
    );
    let published = third.hash.clone();
    assert_eq!(
        first_break(&t, &[third]).await,
        (3, Problem::DiffersFromHead { published })
    );
}
