//! An insert cannot take an existing row's place: SQLite's `INSERT OR REPLACE` deletes the row it
//! collides with without firing the no-delete trigger (REPLACE does not fire delete triggers unless
//! `recursive_triggers` is on, and whoever holds the file chooses their own pragmas); PostgreSQL's
//! `INSERT … ON CONFLICT DO UPDATE` is an update. Each forgery here extends the chain tip
//! correctly, so only the replace rule stands in its way.

use keyway_store::{Outcome, Recorded};

use crate::common::{on_both_backends, save_by, Backend, TestDb};

on_both_backends!(an_insert_that_would_replace_an_existing_row_is_refused);

/// An insert of a row that extends `tip` (right seq and prev_hash) with the given id, hash and
/// intent_seq, using `verb` (`INSERT`, `INSERT OR REPLACE`, `REPLACE`) and a trailing `clause`.
fn forged(
    verb: &str,
    tip: &Recorded,
    id: &str,
    hash: &str,
    intent_seq: &str,
    clause: &str,
) -> String {
    format!(
        "{verb} INTO audit_log (seq, id, at, actor_name, action, outcome, intent_seq, prev_hash, \
         hash) VALUES ({seq}, '{id}', '2025-01-01T00:00:00.000Z', 'mallory', 'secret.save', \
         'ok', {intent_seq}, '{prev}', '{hash}') {clause}",
        seq = tip.seq + 1,
        prev = tip.hash,
    )
}

async fn an_insert_that_would_replace_an_existing_row_is_refused(t: TestDb) {
    let log = t.log();
    let intent = log.begin(save_by("alice")).await.unwrap();
    let outcome = log
        .finish(&intent, Outcome::Denied, None, None)
        .await
        .unwrap();
    let tip = log.record(save_by("bob")).await.unwrap();
    let fresh_hash = "f".repeat(64);
    let new_id = "forged-id";

    let upsert_on_id = forged(
        "INSERT",
        &tip,
        &intent.recorded().id,
        &fresh_hash,
        "NULL",
        "ON CONFLICT (id) DO UPDATE SET actor_name = 'mallory'",
    );
    let forgeries = match t.backend {
        Backend::Sqlite => vec![
            (
                "colliding id",
                forged(
                    "INSERT OR REPLACE",
                    &tip,
                    &intent.recorded().id,
                    &fresh_hash,
                    "NULL",
                    "",
                ),
            ),
            (
                "colliding hash",
                forged("REPLACE", &tip, new_id, &outcome.hash, "NULL", ""),
            ),
            (
                "a second outcome for the intent",
                forged(
                    "INSERT OR REPLACE",
                    &tip,
                    new_id,
                    &fresh_hash,
                    &intent.seq().to_string(),
                    "",
                ),
            ),
            ("an upsert on the id", upsert_on_id),
        ],
        Backend::Postgres => vec![
            ("an upsert on the id", upsert_on_id),
            (
                "an upsert on the intent",
                forged(
                    "INSERT",
                    &tip,
                    new_id,
                    &fresh_hash,
                    &intent.seq().to_string(),
                    "ON CONFLICT (intent_seq) DO UPDATE SET outcome = 'ok'",
                ),
            ),
        ],
    };
    for (what, sql) in forgeries {
        let refused = t.raw(&sql).await.unwrap_err();
        assert!(
            refused.contains("audit log rows cannot be replaced")
                || refused.contains("audit log is append-only"),
            "{what}: {refused}"
        );
    }
    // Doing nothing on a conflict changes nothing (SQLite refuses it outright).
    let nothing = forged(
        "INSERT",
        &tip,
        &intent.recorded().id,
        &fresh_hash,
        "NULL",
        "ON CONFLICT DO NOTHING",
    );
    match t.raw(&nothing).await {
        Ok(rows) => assert_eq!(rows, 0),
        Err(refused) => assert!(refused.contains("cannot be replaced"), "{refused}"),
    }

    assert_eq!(t.raw_count("SELECT count(*) FROM audit_log").await, 3);
    assert_eq!(
        t.raw_count("SELECT count(*) FROM audit_log WHERE actor_name = 'mallory'")
            .await,
        0
    );
    let report = log.verify_chain().await.unwrap();
    assert!(report.ok && report.rows == 3, "{report:?}");
}
