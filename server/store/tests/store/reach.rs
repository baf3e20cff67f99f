//! The visibility pre-filter: a person sees the rows of the environments they may read the audit
//! of, the rows about secrets in mounts they may read (the server checks each secret further),
//! the rows about nothing in particular when allowed, and their own logins; nothing else.

use keyway_store::{Action, Filter, Reach};

use crate::common::{on_both_backends, TestDb};
use crate::filters::world;
use crate::oracle::{all_rows, expected, seqs};

on_both_backends!(
    a_reach_shows_the_rows_of_its_parts_and_nothing_else,
    an_empty_reach_shows_nothing_and_no_reach_shows_everything,
);

fn reach(environments: &[&str], mounts: &[&str], rest: bool, own: Option<&str>) -> Filter {
    let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect();
    Filter {
        reach: Some(Reach {
            environments: names(environments),
            mounts: names(mounts),
            everything_else: rest,
            own_entity: own.map(str::to_owned),
        }),
        limit: Some(1000),
        ..Filter::default()
    }
}

async fn a_reach_shows_the_rows_of_its_parts_and_nothing_else(t: TestDb) {
    let log = t.log();
    world(&log).await;
    let all = all_rows(&log).await;
    let sees = |filter: Filter| {
        let log = log.clone();
        async move { log.list(filter).await.unwrap() }
    };

    // A developer of dev: every dev row, and their own logins and logouts, not bob's.
    let dev = sees(reach(&["dev"], &[], false, Some("entity-alice"))).await;
    assert!(!dev.is_empty());
    for row in &dev {
        let own = row.actor_entity == "entity-alice" && row.mount.is_empty();
        assert!(row.environment.as_deref() == Some("dev") || own, "{row:?}");
    }
    let actions = |rows: &[keyway_store::Row], actor: &str| -> Vec<String> {
        let mut a: Vec<String> = rows
            .iter()
            .filter(|r| r.actor_name == actor && r.environment.is_none())
            .map(|r| r.action.clone())
            .collect();
        a.sort();
        a.dedup();
        a
    };
    assert_eq!(actions(&dev, "alice"), ["login", "logout"]);
    assert!(actions(&dev, "bob").is_empty(), "not another user's logins");
    assert!(actions(&dev, "mallory").is_empty(), "nor failed logins");

    // A reader of the prod mount: rows about its secrets, not prod's access changes (no secret).
    let prod_mount = sees(reach(&[], &["prod"], false, None)).await;
    assert!(prod_mount.iter().all(|r| r.mount == "prod"));
    assert!(prod_mount
        .iter()
        .all(|r| r.action() != Some(Action::AccessChange)));
    assert_eq!(prod_mount.len(), 3, "the three reveals");

    // The platform team: the rest too (logins, failures, the import outside any environment's
    // rows is a secret's, so it needs its mount).
    let rest = sees(reach(&[], &[], true, None)).await;
    assert!(rest
        .iter()
        .all(|r| r.environment.is_none() && r.mount.is_empty()));
    assert!(rest.iter().any(|r| r.action() == Some(Action::LoginFailed)));
    assert!(rest
        .iter()
        .all(|r| r.action() != Some(Action::SecretImport)));

    // Every part and mixture agrees with the yardstick.
    for filter in [
        reach(&["dev", "staging"], &["shared"], false, None),
        reach(&["prod"], &["dev"], true, Some("entity-bob")),
        reach(&[], &[], false, Some("entity-mallory")),
        reach(&["nowhere"], &["nothing"], false, Some("entity-nobody")),
    ] {
        let got = seqs(&sees(filter.clone()).await);
        assert_eq!(got, expected(&all, &filter), "{filter:?}");
    }
    // And it narrows whatever else is asked.
    let mut saves = reach(&["dev"], &["prod"], true, None);
    saves.actions = vec![Action::SecretSave, Action::SecretReveal];
    saves.actor = Some("bob".into());
    assert_eq!(seqs(&sees(saves.clone()).await), expected(&all, &saves));
}

async fn an_empty_reach_shows_nothing_and_no_reach_shows_everything(t: TestDb) {
    let log = t.log();
    world(&log).await;
    let all = all_rows(&log).await;
    let empty = log.list(reach(&[], &[], false, None)).await.unwrap();
    assert!(empty.is_empty());
    // An entity id that is empty would be everyone whose entity is unknown (failed logins).
    let unknown = log.list(reach(&[], &[], false, Some(""))).await.unwrap();
    assert!(unknown.is_empty(), "{unknown:?}");
    let everything = log
        .list(Filter {
            limit: Some(1000),
            ..Filter::default()
        })
        .await
        .unwrap();
    assert_eq!(everything.len(), all.len());
}
