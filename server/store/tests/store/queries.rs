//! The history page's filters, and "who made version N" for the versions list.

use keyway_store::{action, Filter, NewEvent, Outcome};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::common::{on_both_backends, save_by, TestDb};

on_both_backends!(
    version_authors_name_who_made_each_version_of_one_secret,
    list_filters_by_actor_action_secret_and_time_newest_first_in_pages,
);

async fn version_authors_name_who_made_each_version_of_one_secret(t: TestDb) {
    let log = t.log();
    let finish = |actor: &'static str, act: &'static str, outcome, version: Option<i64>| {
        let log = log.clone();
        async move {
            let event = save_by(actor);
            let intent = log
                .begin(NewEvent {
                    action: act.into(),
                    ..event
                })
                .await
                .unwrap();
            log.finish(&intent, outcome, version, None).await.unwrap()
        }
    };
    let v1 = finish("alice", action::SECRET_SAVE, Outcome::Ok, Some(1)).await;
    finish("bob", action::SECRET_SAVE, Outcome::Conflict, None).await;
    finish("mallory", action::SECRET_SAVE, Outcome::Denied, None).await;
    finish("bob", action::SECRET_SAVE, Outcome::Ok, Some(2)).await;
    finish("carol", action::SECRET_ROLLBACK, Outcome::Ok, Some(3)).await;
    log.record(
        save_by("dave")
            .outcome(Outcome::Ok)
            .versions(Some(3), Some(4)),
    )
    .await
    .unwrap();
    log.record(
        NewEvent {
            action: action::SECRET_IMPORT.into(),
            ..save_by("erin")
        }
        .versions(None, Some(5)),
    )
    .await
    .unwrap();
    // Not version-making, not ok, or another secret: none of these count.
    log.record(
        NewEvent {
            action: action::SECRET_REVEAL.into(),
            ..save_by("frank")
        }
        .versions(Some(5), Some(5)),
    )
    .await
    .unwrap();
    log.record(
        save_by("gina")
            .outcome(Outcome::Error)
            .versions(Some(5), Some(6)),
    )
    .await
    .unwrap();
    log.record(
        save_by("hank")
            .secret("dev", "other/app")
            .versions(None, Some(6)),
    )
    .await
    .unwrap();
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

    let v1_row = log
        .list(Filter {
            before_seq: Some(v1.seq + 1),
            limit: Some(1),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(authors[&1].1, v1_row[0].at, "the time is the outcome row's");
    assert!(log
        .version_authors("dev", "nothing/here")
        .await
        .unwrap()
        .is_empty());
}

fn seqs(rows: &[keyway_store::Row]) -> Vec<i64> {
    rows.iter().map(|r| r.seq).collect()
}

async fn list_filters_by_actor_action_secret_and_time_newest_first_in_pages(t: TestDb) {
    let log = t.log();
    for event in [
        NewEvent::new("alice", action::LOGIN),
        save_by("alice"),
        save_by("bob").secret("dev", "api/keys"),
        NewEvent::new("bob", action::SECRET_REVEAL).secret("prod", "webapp/config"),
        NewEvent::new("carol", action::SECRET_DELETE).secret("dev", "webapp/config"),
    ] {
        log.record(event).await.unwrap();
    }
    let list = |filter: Filter| {
        let log = log.clone();
        async move { seqs(&log.list(filter).await.unwrap()) }
    };
    let text = |s: &str| Some(s.to_owned());

    assert_eq!(list(Filter::default()).await, [5, 4, 3, 2, 1]);
    assert_eq!(
        list(Filter {
            actor: text("alice"),
            ..Default::default()
        })
        .await,
        [2, 1]
    );
    assert_eq!(
        list(Filter {
            action: text(action::SECRET_SAVE),
            ..Default::default()
        })
        .await,
        [3, 2]
    );
    assert_eq!(
        list(Filter {
            mount: text("dev"),
            ..Default::default()
        })
        .await,
        [5, 3, 2]
    );
    assert_eq!(
        list(Filter {
            mount: text("dev"),
            path: text("webapp/config"),
            ..Default::default()
        })
        .await,
        [5, 2]
    );
    assert_eq!(
        list(Filter {
            path: text("webapp/config"),
            ..Default::default()
        })
        .await,
        [5, 4, 2]
    );
    assert_eq!(
        list(Filter {
            actor: text("bob"),
            action: text(action::SECRET_REVEAL),
            ..Default::default()
        })
        .await,
        [4]
    );
    assert!(list(Filter {
        actor: text("nobody"),
        ..Default::default()
    })
    .await
    .is_empty());

    // Pages: newest first, then continue below the last seq seen.
    assert_eq!(
        list(Filter {
            limit: Some(2),
            ..Default::default()
        })
        .await,
        [5, 4]
    );
    assert_eq!(
        list(Filter {
            limit: Some(2),
            before_seq: Some(4),
            ..Default::default()
        })
        .await,
        [3, 2]
    );
    assert_eq!(
        list(Filter {
            limit: Some(2),
            before_seq: Some(2),
            ..Default::default()
        })
        .await,
        [1]
    );
    assert_eq!(
        list(Filter {
            limit: Some(0),
            ..Default::default()
        })
        .await,
        [5],
        "at least one row"
    );

    // Time: `since` is inclusive, `until` exclusive; rows may share a millisecond, so compare by
    // the stored times rather than by position.
    let all = log.list(Filter::default()).await.unwrap();
    let third = all.iter().find(|r| r.seq == 3).unwrap();
    let third_at = OffsetDateTime::parse(&third.at, &Rfc3339).unwrap();
    let since = log
        .list(Filter {
            since: Some(third_at),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(seqs(&since).starts_with(&[5, 4, 3]));
    assert!(since.iter().all(|r| r.at >= third.at));
    let until = log
        .list(Filter {
            until: Some(third_at),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(until.iter().all(|r| r.at < third.at && r.seq < 3));
    let hour = time::Duration::hours(1);
    let now = OffsetDateTime::now_utc();
    assert!(list(Filter {
        since: Some(now + hour),
        ..Default::default()
    })
    .await
    .is_empty());
    assert!(list(Filter {
        until: Some(now - hour),
        ..Default::default()
    })
    .await
    .is_empty());
    // A time in another offset means the same instant.
    let in_paris = third_at.to_offset(time::UtcOffset::from_hms(1, 0, 0).unwrap());
    assert_eq!(
        log.list(Filter {
            since: Some(in_paris),
            ..Default::default()
        })
        .await
        .unwrap(),
        since
    );
}
