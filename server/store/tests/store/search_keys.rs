//! A key filter finds exactly the rows that list that name, whatever characters the name holds
//! (quotes and backslashes are spelled otherwise in the stored JSON), however long it is (the key
//! index holds a prefix), and whatever someone slipped into the key index.

use keyway_store::{Action, Filter, NewEvent};

use crate::common::{on_both_backends, switch_off_triggers, TestDb};
use crate::oracle::{all_rows, has_key, seqs};

on_both_backends!(
    a_key_filter_matches_exactly_the_rows_listing_that_name,
    a_forged_key_index_entry_neither_matches_nor_shortens_a_page,
    the_key_index_is_append_only,
);

/// Names that a naive search of the JSON text would confuse with one another.
fn tricky_names() -> Vec<String> {
    let long = "x".repeat(256);
    vec![
        "a\"b".into(),
        "a\\b".into(),
        "a\\\"b".into(),
        "\"".into(),
        "\\".into(),
        "\\\"".into(),
        "a".into(),
        "b".into(),
        "\"a\"".into(),
        "a,b".into(),
        "[\"a\"]".into(),
        "é\u{1F511}".into(),
        "\\u0041".into(),
        "A".into(),
        String::new(),
        format!("{long}1"),
        format!("{long}2"),
        long,
    ]
}

async fn a_key_filter_matches_exactly_the_rows_listing_that_name(t: TestDb) {
    let log = t.log();
    let names = tricky_names();
    // Each row lists one name in one of the three lists, and a neighbour in another.
    for (i, name) in names.iter().enumerate() {
        let neighbour = names[(i + 1) % names.len()].clone();
        let none = Vec::<String>::new;
        let event = NewEvent::new("alice", Action::SecretSave).secret("dev", "app");
        let event = match i % 3 {
            0 => event.keys([name.clone()], [neighbour], none()),
            1 => event.keys(none(), [name.clone()], none()),
            _ => event.keys(none(), [neighbour], [name.clone()]),
        };
        log.record(event).await.unwrap();
    }
    let all = all_rows(&log).await;
    for name in names.iter().chain(&["ab".to_owned(), "x".repeat(257)]) {
        let got = log
            .list(Filter {
                key: Some(name.clone()),
                ..Filter::default()
            })
            .await
            .unwrap();
        let want: Vec<i64> = all
            .iter()
            .filter(|r| has_key(r, name))
            .map(|r| r.seq)
            .collect();
        assert_eq!(seqs(&got), want, "key {name:?}");
        if !["ab".to_owned(), "x".repeat(257)].contains(name) {
            assert!(!want.is_empty(), "key {name:?} is listed somewhere");
        }
    }
}

async fn a_forged_key_index_entry_neither_matches_nor_shortens_a_page(t: TestDb) {
    let log = t.log();
    let with_key = NewEvent::new("alice", Action::SecretSave).keys(
        ["DB_URL"],
        Vec::<String>::new(),
        Vec::<String>::new(),
    );
    log.record(with_key.clone()).await.unwrap();
    log.record(with_key).await.unwrap();
    for _ in 0..5 {
        log.record(NewEvent::new("bob", Action::Login))
            .await
            .unwrap();
    }
    // Someone with the database claims that the five logins touched DB_URL.
    t.raw("INSERT INTO audit_key (name, seq) VALUES ('DB_URL', 3), ('DB_URL', 4), ('DB_URL', 5), ('DB_URL', 6), ('DB_URL', 7)")
        .await
        .unwrap();
    for limit in [1, 2, 3, 100] {
        let got = log
            .list(Filter {
                key: Some("DB_URL".into()),
                limit: Some(limit),
                ..Filter::default()
            })
            .await
            .unwrap();
        let want: Vec<i64> = [2, 1].into_iter().take(limit as usize).collect();
        assert_eq!(seqs(&got), want, "limit {limit}");
    }
}

async fn the_key_index_is_append_only(t: TestDb) {
    let log = t.log();
    log.record(NewEvent::new("alice", Action::SecretSave).keys(
        ["DB_URL"],
        Vec::<String>::new(),
        Vec::<String>::new(),
    ))
    .await
    .unwrap();
    for sql in [
        "UPDATE audit_key SET name = 'OTHER'",
        "DELETE FROM audit_key",
    ] {
        let refused = t.raw(sql).await.unwrap_err();
        assert!(
            refused.contains("audit log is append-only"),
            "{sql}: {refused}"
        );
    }
    if t.backend == crate::common::Backend::Postgres {
        let refused = t.raw("TRUNCATE audit_key").await.unwrap_err();
        assert!(refused.contains("audit log is append-only"), "{refused}");
    }
    // Only with its triggers off can an entry go, and then the row is no longer found by key:
    // an index, not the record (the row itself still verifies and still lists the name).
    switch_off_triggers(&t).await;
    t.raw("DELETE FROM audit_key").await.unwrap();
    let by_key = Filter {
        key: Some("DB_URL".into()),
        ..Filter::default()
    };
    assert!(log.list(by_key).await.unwrap().is_empty());
    assert!(log.verify_chain().await.unwrap().ok);
}
