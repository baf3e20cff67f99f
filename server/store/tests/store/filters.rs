//! The audit page's filters: each alone and every pair of them combined return exactly what the
//! yardstick ([`crate::oracle`]) says, newest first, and keyset paging walks them without a row
//! twice or a row missed.

use keyway_store::{Action, AuditLog, Filter, NewEvent, Outcome, Reach, Row, StoreError};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::common::{on_both_backends, TestDb};
use crate::oracle::{all_rows, expected, seqs};

on_both_backends!(
    every_filter_alone_and_every_pair_combined_return_exactly_the_matching_rows,
    keyset_pages_walk_every_matching_row_once_newest_first,
    a_filter_out_of_bounds_is_refused_before_any_query,
);

/// A small, varied log: logins and failures, saves (two-step, with outcomes of each kind, one
/// left pending), reveals, a restart, an access change, an onboarding, in four environments, with
/// key names, over a few rounds.
pub async fn world(log: &AuditLog) {
    let on = |actor: &str, action: Action, env: &str, app: &str, mount: &str, path: &str| {
        NewEvent::new(actor, action)
            .entity(format!("entity-{actor}"))
            .environment(env)
            .app(app)
            .secret(mount, path)
    };
    for round in 0..3 {
        let (a, b) = if round == 1 {
            ("bob", "alice")
        } else {
            ("alice", "bob")
        };
        log.record(NewEvent::new(a, Action::Login).entity(format!("entity-{a}")))
            .await
            .unwrap();
        log.record(NewEvent::new("mallory", Action::LoginFailed).outcome(Outcome::Denied))
            .await
            .unwrap();
        let save = on(
            a,
            Action::SecretSave,
            "dev",
            "webapp",
            "dev",
            "webapp/config",
        )
        .keys(["DB_URL"], ["API_KEY"], Vec::<String>::new());
        let intent = log.begin(save).await.unwrap();
        let outcome = [Outcome::Ok, Outcome::Conflict, Outcome::Error][round];
        log.finish_linked(&intent, outcome, Some(round as i64 + 2), None, Some("req"))
            .await
            .unwrap();
        log.record(on(
            b,
            Action::SecretReveal,
            "prod",
            "api",
            "prod",
            "api/keys",
        ))
        .await
        .unwrap();
        let worker = on(
            b,
            Action::SecretSave,
            "dev",
            "worker",
            "dev",
            "worker/queue",
        )
        .keys(Vec::<String>::new(), ["PASSWORD"], ["DB_URL"]);
        let intent = log.begin(worker).await.unwrap();
        if round != 2 {
            log.finish(&intent, Outcome::Denied, None, Some("permission denied"))
                .await
                .unwrap();
        }
        log.record(
            on(a, Action::Restart, "dev", "webapp", "dev", "webapp/config").outcome(
                if round == 0 {
                    Outcome::Ok
                } else {
                    Outcome::Denied
                },
            ),
        )
        .await
        .unwrap();
        log.record(on("dave", Action::AccessChange, "prod", "", "", ""))
            .await
            .unwrap();
        log.record(
            on(
                "carol",
                Action::AppOnboard,
                "staging",
                "billing",
                "staging",
                "billing/config",
            )
            .keys(["STRIPE_KEY"], Vec::<String>::new(), Vec::<String>::new()),
        )
        .await
        .unwrap();
        // A secret in a mount no environment's home holds.
        log.record(
            on("erin", Action::SecretImport, "", "", "shared", "certs").keys(
                ["TLS_CERT"],
                Vec::<String>::new(),
                Vec::<String>::new(),
            ),
        )
        .await
        .unwrap();
        log.record(NewEvent::new(a, Action::Logout).entity(format!("entity-{a}")))
            .await
            .unwrap();
    }
}

fn text(s: &str) -> Option<String> {
    Some(s.to_owned())
}

/// A named narrowing of a filter.
type Atom = (&'static str, Box<dyn Fn(&mut Filter)>);

/// One narrowing each, by name: the page's filters and the reach's parts.
fn atoms(all: &[Row]) -> Vec<Atom> {
    // Rows share milliseconds, so times are taken from rows a third and two thirds of the way.
    let at = |i: usize| OffsetDateTime::parse(&all[i].at, &Rfc3339).unwrap();
    let (later, earlier) = (at(all.len() / 3), at(2 * all.len() / 3));
    vec![
        ("actor", Box::new(|f| f.actor = text("alice"))),
        ("no such actor", Box::new(|f| f.actor = text("nobody"))),
        (
            "one action",
            Box::new(|f| f.actions = vec![Action::SecretSave]),
        ),
        (
            "three actions",
            Box::new(|f| {
                f.actions = vec![Action::SecretSave, Action::Restart, Action::AccessChange]
            }),
        ),
        (
            "a repeated action",
            Box::new(|f| f.actions = vec![Action::Login, Action::Login]),
        ),
        ("one outcome", Box::new(|f| f.outcomes = vec![Outcome::Ok])),
        (
            "three outcomes",
            Box::new(|f| f.outcomes = vec![Outcome::Denied, Outcome::Conflict, Outcome::Pending]),
        ),
        ("environment", Box::new(|f| f.environment = text("dev"))),
        (
            "other environment",
            Box::new(|f| f.environment = text("prod")),
        ),
        ("app", Box::new(|f| f.app = text("webapp"))),
        ("key", Box::new(|f| f.key = text("DB_URL"))),
        ("other key", Box::new(|f| f.key = text("PASSWORD"))),
        ("mount", Box::new(|f| f.mount = text("dev"))),
        ("path", Box::new(|f| f.path = text("webapp/config"))),
        ("since", Box::new(move |f| f.since = Some(earlier))),
        ("until", Box::new(move |f| f.until = Some(later))),
        ("before", Box::new(|f| f.before_seq = Some(20))),
        (
            "reach: environment",
            Box::new(|f| {
                f.reach = Some(Reach {
                    environments: vec!["dev".into()],
                    ..Reach::default()
                })
            }),
        ),
        (
            "reach: mounts",
            Box::new(|f| {
                f.reach = Some(Reach {
                    mounts: vec!["prod".into(), "shared".into()],
                    ..Reach::default()
                })
            }),
        ),
        (
            "reach: the rest and one's own",
            Box::new(|f| {
                f.reach = Some(Reach {
                    everything_else: true,
                    own_entity: text("entity-dave"),
                    ..Reach::default()
                })
            }),
        ),
    ]
}

async fn every_filter_alone_and_every_pair_combined_return_exactly_the_matching_rows(t: TestDb) {
    let log = t.log();
    world(&log).await;
    let all = all_rows(&log).await;
    assert_eq!(all.len(), 3 * 12 - 1, "one intent is left pending");
    let atoms = atoms(&all);
    let mut nonempty = 0;
    for (i, (name, narrow)) in atoms.iter().enumerate() {
        for (other, also) in atoms.iter().skip(i) {
            let mut filter = Filter::default();
            narrow(&mut filter);
            if other != name {
                also(&mut filter);
            }
            let want = expected(&all, &filter);
            nonempty += usize::from(!want.is_empty());
            let got = seqs(&log.list(filter.clone()).await.unwrap());
            assert_eq!(got, want, "{name} + {other}: {filter:?}");
        }
    }
    assert!(
        nonempty > 100,
        "most combinations match something ({nonempty})"
    );
}

async fn keyset_pages_walk_every_matching_row_once_newest_first(t: TestDb) {
    let log = t.log();
    world(&log).await;
    let all = all_rows(&log).await;
    let atoms = atoms(&all);
    for (name, narrow) in atoms.iter().filter(|(n, _)| *n != "before") {
        let mut filter = Filter::default();
        narrow(&mut filter);
        let want = expected(
            &all,
            &Filter {
                limit: Some(1000),
                ..filter.clone()
            },
        );
        for size in [1, 2, 5] {
            let mut walked = Vec::new();
            let mut page = Filter {
                limit: Some(size),
                ..filter.clone()
            };
            loop {
                let rows = log.list(page.clone()).await.unwrap();
                assert!(rows.len() <= size as usize);
                walked.extend(seqs(&rows));
                match rows.last() {
                    Some(last) if rows.len() == size as usize => page.before_seq = Some(last.seq),
                    _ => break,
                }
            }
            assert_eq!(walked, want, "{name} in pages of {size}");
        }
    }
}

async fn a_filter_out_of_bounds_is_refused_before_any_query(t: TestDb) {
    let log = t.log();
    let refused = |filter: Filter| {
        let log = log.clone();
        async move {
            let err = log.list(filter).await.unwrap_err();
            assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
        }
    };
    refused(Filter {
        actor: Some("a".repeat(257)),
        ..Filter::default()
    })
    .await;
    refused(Filter {
        key: Some("k".repeat(1025)),
        ..Filter::default()
    })
    .await;
    refused(Filter {
        reach: Some(Reach {
            environments: (0..1001).map(|i| format!("ns-{i}")).collect(),
            ..Reach::default()
        }),
        ..Filter::default()
    })
    .await;
    refused(Filter {
        reach: Some(Reach {
            environments: vec![String::new()],
            ..Reach::default()
        }),
        ..Filter::default()
    })
    .await;
    refused(Filter {
        actions: vec![Action::Login; 1001],
        ..Filter::default()
    })
    .await;
}
