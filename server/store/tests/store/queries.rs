//! The history page's filters, and "who made version N" for the versions list.

use keyway_store::{Action, AuditLog, Filter, NewEvent, Outcome, Row};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::common::{event, on_both_backends, save_by, TestDb};

on_both_backends!(
    version_authors_name_who_made_each_version_of_one_secret,
    list_filters_by_actor_action_secret_and_time_newest_first_in_pages,
);

async fn version_authors_name_who_made_each_version_of_one_secret(t: TestDb) {
    let log = t.log();
    let two_step = |actor: &'static str, act: Action, outcome, version: Option<i64>| {
        let log = log.clone();
        async move {
            let intent = log.begin(event(actor, act)).await.unwrap();
            log.finish(&intent, outcome, version, None).await.unwrap()
        }
    };
    let v1 = two_step("alice", Action::SecretSave, Outcome::Ok, Some(1)).await;
    two_step("bob", Action::SecretSave, Outcome::Conflict, None).await;
    two_step("mallory", Action::SecretSave, Outcome::Denied, None).await;
    two_step("bob", Action::SecretSave, Outcome::Ok, Some(2)).await;
    two_step("carol", Action::SecretRollback, Outcome::Ok, Some(3)).await;
    for one_shot in [
        save_by("dave").versions(Some(3), Some(4)),
        event("erin", Action::SecretImport).versions(None, Some(5)),
        // Not version-making, not ok, another secret, or still pending: none of these count.
        event("frank", Action::SecretReveal).versions(Some(5), Some(5)),
        save_by("gina")
            .outcome(Outcome::Error)
            .versions(Some(5), Some(6)),
        save_by("hank")
            .secret("dev", "other/app")
            .versions(None, Some(6)),
    ] {
        log.record(one_shot).await.unwrap();
    }
    log.begin(save_by("ivan").versions(Some(5), Some(6)))
        .await
        .unwrap();

    let authors = log.version_authors("dev", "webapp/config").await.unwrap();
    let names: Vec<(i64, &str)> = authors
        .iter()
        .map(|(v, (who, _))| (*v, who.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            (1, "alice"),
            (2, "bob"),
            (3, "carol"),
            (4, "dave"),
            (5, "erin")
        ]
    );

    let v1_row = rows_where(&log, |f| f.before_seq = Some(v1.seq + 1)).await;
    assert_eq!(authors[&1].1, v1_row[0].at, "the time is the outcome row's");
    assert!(log
        .version_authors("dev", "nothing/here")
        .await
        .unwrap()
        .is_empty());
}

fn seqs(rows: &[Row]) -> Vec<i64> {
    rows.iter().map(|r| r.seq).collect()
}

/// The rows `list()` returns for the default filter narrowed by `narrow`.
async fn rows_where(log: &AuditLog, narrow: impl FnOnce(&mut Filter)) -> Vec<Row> {
    let mut filter = Filter::default();
    narrow(&mut filter);
    log.list(filter).await.unwrap()
}

async fn seqs_where(log: &AuditLog, narrow: impl FnOnce(&mut Filter)) -> Vec<i64> {
    seqs(&rows_where(log, narrow).await)
}

fn text(s: &str) -> Option<String> {
    Some(s.to_owned())
}

async fn list_filters_by_actor_action_secret_and_time_newest_first_in_pages(t: TestDb) {
    let log = t.log();
    for event in [
        NewEvent::new("alice", Action::Login),
        save_by("alice"),
        save_by("bob").secret("dev", "api/keys"),
        NewEvent::new("bob", Action::SecretReveal).secret("prod", "webapp/config"),
        NewEvent::new("carol", Action::SecretDelete).secret("dev", "webapp/config"),
    ] {
        log.record(event).await.unwrap();
    }

    assert_eq!(seqs_where(&log, |_| ()).await, [5, 4, 3, 2, 1]);
    assert_eq!(seqs_where(&log, |f| f.actor = text("alice")).await, [2, 1]);
    assert_eq!(
        seqs_where(&log, |f| f.actions = vec![Action::SecretSave]).await,
        [3, 2]
    );
    assert_eq!(seqs_where(&log, |f| f.mount = text("dev")).await, [5, 3, 2]);
    assert_eq!(
        seqs_where(&log, |f| f.path = text("webapp/config")).await,
        [5, 4, 2]
    );
    let dev_webapp = |f: &mut Filter| {
        f.mount = text("dev");
        f.path = text("webapp/config");
    };
    assert_eq!(seqs_where(&log, dev_webapp).await, [5, 2]);
    let bob_reveals = |f: &mut Filter| {
        f.actor = text("bob");
        f.actions = vec![Action::SecretReveal];
    };
    assert_eq!(seqs_where(&log, bob_reveals).await, [4]);
    assert!(seqs_where(&log, |f| f.actor = text("nobody"))
        .await
        .is_empty());

    // Pages: newest first, then continue below the last seq seen.
    assert_eq!(seqs_where(&log, |f| f.limit = Some(2)).await, [5, 4]);
    let page = |before| {
        move |f: &mut Filter| {
            f.limit = Some(2);
            f.before_seq = Some(before);
        }
    };
    assert_eq!(seqs_where(&log, page(4)).await, [3, 2]);
    assert_eq!(seqs_where(&log, page(2)).await, [1]);
    assert_eq!(
        seqs_where(&log, |f| f.limit = Some(0)).await,
        [5],
        "at least one row"
    );

    // Time: `since` is inclusive, `until` exclusive. Rows may share a millisecond, so compare by
    // the stored times rather than by position.
    let third = rows_where(&log, |f| f.before_seq = Some(4)).await.remove(0);
    assert_eq!(third.seq, 3);
    let third_at = OffsetDateTime::parse(&third.at, &Rfc3339).unwrap();
    let since = rows_where(&log, |f| f.since = Some(third_at)).await;
    assert!(seqs(&since).starts_with(&[5, 4, 3]));
    assert!(since.iter().all(|r| r.at >= third.at));
    let until = rows_where(&log, |f| f.until = Some(third_at)).await;
    assert!(until.iter().all(|r| r.at < third.at && r.seq < 3));
    let hour = time::Duration::hours(1);
    let now = OffsetDateTime::now_utc();
    assert!(seqs_where(&log, |f| f.since = Some(now + hour))
        .await
        .is_empty());
    assert!(seqs_where(&log, |f| f.until = Some(now - hour))
        .await
        .is_empty());
    // A time given in another offset means the same instant.
    let in_paris = third_at.to_offset(time::UtcOffset::from_hms(1, 0, 0).unwrap());
    assert_eq!(rows_where(&log, |f| f.since = Some(in_paris)).await, since);
}
