//! A time range is exact even when the database's clock stepped back, on both sides of the
//! bound-reading cap (`TIME_SCAN_CAP`, 20,000 index entries): the page turns `since` and `until`
//! into a `seq` range first, and that range must hold every row of the time range.

use keyway_store::audit::bulk::{load, Generated};
use keyway_store::{Action, Filter, NewEvent, Outcome, Row};
use time::{Duration, OffsetDateTime};

use crate::common::{on_both_backends, TestDb};
use crate::oracle::{expected, seqs};

on_both_backends!(time_ranges_are_exact_when_the_clock_stepped_back);

const ROWS: i64 = 45_000;

/// Second `i` of the log's clock for row `seq`: one row a second, except rows 20,001 to 21,000,
/// stamped while the clock stood 5,000 s behind, and rows 44,001 to 44,500, 14,000 s behind.
fn second_of(seq: i64) -> i64 {
    match seq {
        20_001..=21_000 => seq - 5_000,
        44_001..=44_500 => seq - 14_000,
        _ => seq,
    }
}

fn t0() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap() // 2026-01-01
}

async fn time_ranges_are_exact_when_the_clock_stepped_back(t: TestDb) {
    let log = t.log();
    let rows = (1..=ROWS).map(|seq| Generated {
        event: NewEvent::new(if seq % 3 == 0 { "alice" } else { "bob" }, Action::Login),
        outcome: Outcome::Ok,
        at: t0() + Duration::seconds(second_of(seq)),
        intent_seq: None,
        vault_request_id: None,
    });
    assert_eq!(load(&t.db, rows).await.unwrap(), ROWS);
    assert!(log.verify_chain().await.unwrap().ok);

    // The yardstick only needs seq, at and actor: rows built the same way, newest first.
    let all: Vec<Row> = {
        let mut page = log
            .list(Filter {
                limit: Some(1),
                ..Filter::default()
            })
            .await
            .unwrap();
        let template = page.pop().unwrap();
        (1..=ROWS)
            .rev()
            .map(|seq| Row {
                seq,
                at: (t0() + Duration::seconds(second_of(seq)))
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap(),
                actor_name: if seq % 3 == 0 { "alice" } else { "bob" }.into(),
                ..template.clone()
            })
            .collect()
    };
    let s = |second: i64| Some(t0() + Duration::seconds(second));
    let cases = [
        // since: under the cap after it (exact lower end), and over it (lower end open).
        (s(40_000), None),
        (s(30_200), None),
        (s(15_500), None),
        (s(1), None),
        (s(ROWS + 10), None),
        // until: few rows before it; many before and few after; many on both sides.
        (None, s(10_000)),
        (None, s(16_000)),
        (None, s(30_000)),
        (None, s(22_000)),
        (None, s(1)),
        // both, around each step back
        (s(15_500), s(16_000)),
        (s(30_100), s(30_300)),
        (s(19_990), s(20_010)),
        (s(15_000), s(40_000)),
    ];
    for (since, until) in cases {
        for actor in [None, Some("alice".to_owned())] {
            for before_seq in [None, Some(44_250), Some(20_500)] {
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
