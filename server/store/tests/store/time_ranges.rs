//! A time range is exact even when the database's clock stepped back: the page turns `since` and
//! `until` into a `seq` range first (day by day), and that range must hold every row of the time
//! range, including rows stamped days behind the rows around them.

use keyway_store::audit::bulk::{load, Generated};
use keyway_store::{Action, Filter, NewEvent, Outcome, Row};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use crate::common::{on_both_backends, TestDb};
use crate::oracle::{expected, seqs};

on_both_backends!(time_ranges_are_exact_when_the_clock_stepped_back);

/// 6,000 rows ten minutes apart: six weeks.
const ROWS: i64 = 6_000;

/// The minute (from 2026-01-01) row `seq` was stamped at: every ten minutes, except rows 2,001 to
/// 2,300, stamped while the clock stood 5 days behind, and rows 5,001 to 5,100, 20 days behind.
fn minute_of(seq: i64) -> i64 {
    match seq {
        2_001..=2_300 => (seq - 720) * 10,
        5_001..=5_100 => (seq - 2_880) * 10,
        _ => seq * 10,
    }
}

fn at(minute: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap() + Duration::minutes(minute)
}

fn actor(seq: i64) -> &'static str {
    if seq % 3 == 0 {
        "alice"
    } else {
        "bob"
    }
}

async fn time_ranges_are_exact_when_the_clock_stepped_back(t: TestDb) {
    let log = t.log();
    let rows = (1..=ROWS).map(|seq| Generated {
        event: NewEvent::new(actor(seq), Action::Login),
        outcome: Outcome::Ok,
        at: at(minute_of(seq)),
        intent_seq: None,
        vault_request_id: None,
    });
    assert_eq!(load(&t.db, rows).await.unwrap(), ROWS);
    assert!(log.verify_chain().await.unwrap().ok);

    // The yardstick needs seq, at and actor only: rows built the same way, newest first.
    let template = log.list(Filter::default()).await.unwrap().remove(0);
    let all: Vec<Row> = (1..=ROWS)
        .rev()
        .map(|seq| Row {
            seq,
            at: at(minute_of(seq)).format(&Rfc3339).unwrap(),
            actor_name: actor(seq).into(),
            ..template.clone()
        })
        .collect();
    let m = |minute: i64| Some(at(minute));
    let cases = [
        (m(59_000), None),
        (m(35_000), None),
        (m(21_500), None),
        (m(14_000), None),
        (m(10), None),
        (m(70_000), None),
        (None, m(12_900)),
        (None, m(15_000)),
        (None, m(22_000)),
        (None, m(30_000)),
        (None, m(10)),
        (m(14_000), m(15_000)),
        (m(21_500), m(22_000)),
        (m(12_000), m(40_000)),
        (m(21_600), m(21_605)),
        (m(30_000), m(20_000)),
    ];
    for (since, until) in cases {
        for actor in [None, Some("alice".to_owned())] {
            for before_seq in [None, Some(5_050), Some(2_200)] {
                let filter = Filter {
                    since,
                    until,
                    actor: actor.clone(),
                    before_seq,
                    limit: Some(300),
                    ..Filter::default()
                };
                let got = seqs(&log.list(filter.clone()).await.unwrap());
                assert_eq!(got, expected(&all, &filter), "{filter:?}");
            }
        }
    }
}
