//! The one write path into the audit log, serialised by the database.
//!
//! Each append reads the chain tip and inserts the next row inside one transaction that only one
//! writer can hold at a time, across every task, pool and replica:
//!
//! * SQLite: `BEGIN IMMEDIATE` takes the database's write lock up front (writers in other
//!   processes wait in the 5 s busy handler), so the tip cannot move between the read and the
//!   insert. Writers in this process first queue on an in-process mutex, which is fairer and far
//!   faster than all of them polling SQLite's lock.
//! * PostgreSQL: `SELECT pg_advisory_xact_lock(AUDIT_LOCK_KEY)` inside the transaction; the lock is
//!   released at commit, after the new row is visible to the next holder.
//!
//! The row's key names go into the key index (`audit_key`, see [`super::keys`]) in the same
//! transaction, so the index never lacks a committed row.
//!
//! `at` comes from the database's clock inside that transaction, so with one database every
//! replica stamps rows from the same clock. Backstops, should a writer ever skip the lock:
//! `UNIQUE(seq)`, `UNIQUE(prev_hash)` and a trigger refusing any insert that does not extend the
//! tip. Busy, serialisation, lost-race and I/O errors are retried a bounded number of times; the
//! row's id is fixed across attempts and looked up first on a retry, so a commit whose
//! acknowledgement was lost is never appended twice.

use std::time::Duration;

use super::event::Recorded;
use super::hash::{row_hash, GENESIS_PREV_HASH};
use super::keys::index_names;
use super::row::StoredRow;
use crate::db::{with_pool, Backend};
use crate::Db;

/// The PostgreSQL advisory lock that serialises audit appends: the ASCII bytes of "keyway", then
/// 0x0a0d.
/// Anything else taking this key would stall audit writes; nothing else in Keyway does.
pub const AUDIT_LOCK_KEY: i64 = 0x6b65_7977_6179_0a0d;

/// Attempts per append before the error is returned (and the action refused).
const MAX_ATTEMPTS: u32 = 5;

const INSERT: &str = "INSERT INTO audit_log (seq, id, at, actor_name, actor_entity, action, \
     mount, path, version_before, version_after, keys_added, keys_changed, keys_removed, outcome, \
     detail, intent_seq, request_id, client_addr, prev_hash, hash, environment, app, \
     vault_request_id, format) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
     $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)";

/// Key-index entries per INSERT statement (two binds each), well under both databases' limits.
const KEYS_PER_INSERT: usize = 500;

/// The database's clock (UTC, ms, fixed width) and the current tip, in one round trip.
const TIP_SQLITE: &str = "SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now') AS now, t.seq, t.hash \
     FROM (SELECT 1) AS d LEFT JOIN \
     (SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1) AS t ON 1 = 1";
const TIP_POSTGRES: &str = "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', \
     'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS now, t.seq, t.hash \
     FROM (SELECT 1) AS d LEFT JOIN \
     (SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1) AS t ON 1 = 1";

/// Appends `row` (everything but `seq`, `at`, `prev_hash` and `hash` filled in) as the new tip.
pub(crate) async fn append(db: &Db, mut row: StoredRow) -> Result<Recorded, sqlx::Error> {
    let mut attempt = 1;
    loop {
        match try_append(db, &mut row, attempt > 1).await {
            Ok(recorded) => {
                tracing::debug!(seq = recorded.seq, action = %row.action, "audit row appended");
                return Ok(recorded);
            }
            Err(err) if attempt < MAX_ATTEMPTS && is_transient(&err) => {
                tracing::warn!(attempt, action = %row.action, error = %err, "audit append retried");
                tokio::time::sleep(Duration::from_millis(5 << attempt)).await;
                attempt += 1;
            }
            Err(err) => {
                tracing::error!(attempt, action = %row.action, error = %err, "audit append failed");
                return Err(err);
            }
        }
    }
}

async fn try_append(db: &Db, row: &mut StoredRow, retrying: bool) -> Result<Recorded, sqlx::Error> {
    let backend = db.backend();
    let (begin, tip) = match backend {
        Backend::Sqlite => ("BEGIN IMMEDIATE", TIP_SQLITE),
        Backend::Postgres => ("BEGIN", TIP_POSTGRES),
    };
    let _queued = match backend {
        Backend::Sqlite => Some(db.write_gate().lock().await),
        Backend::Postgres => None,
    };
    with_pool!(db, |pool| {
        let mut tx = pool.begin_with(begin).await?;
        if backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(AUDIT_LOCK_KEY)
                .execute(&mut *tx)
                .await?;
        }
        if retrying {
            let existing: Option<(i64, String)> =
                sqlx::query_as("SELECT seq, hash FROM audit_log WHERE id = $1")
                    .bind(&row.id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some((seq, hash)) = existing {
                let id = row.id.clone();
                return Ok(Recorded { seq, id, hash });
            }
        }
        let (now, tip_seq, tip_hash): (String, Option<i64>, Option<String>) =
            sqlx::query_as(tip).fetch_one(&mut *tx).await?;
        row.seq = tip_seq.unwrap_or(0) + 1;
        row.prev_hash = tip_hash.unwrap_or_else(|| GENESIS_PREV_HASH.to_owned());
        row.at = now;
        row.hash = row_hash(row).expect("rows are appended in a format this Keyway hashes");
        sqlx::query(INSERT)
            .bind(row.seq)
            .bind(&row.id)
            .bind(&row.at)
            .bind(&row.actor_name)
            .bind(&row.actor_entity)
            .bind(&row.action)
            .bind(&row.mount)
            .bind(&row.path)
            .bind(row.version_before)
            .bind(row.version_after)
            .bind(&row.keys_added)
            .bind(&row.keys_changed)
            .bind(&row.keys_removed)
            .bind(&row.outcome)
            .bind(&row.detail)
            .bind(row.intent_seq)
            .bind(&row.request_id)
            .bind(&row.client_addr)
            .bind(&row.prev_hash)
            .bind(&row.hash)
            .bind(&row.environment)
            .bind(&row.app)
            .bind(&row.vault_request_id)
            .bind(row.format)
            .execute(&mut *tx)
            .await?;
        let names: Vec<String> = index_names(row).into_iter().collect();
        for chunk in names.chunks(KEYS_PER_INSERT) {
            let sql = key_insert(chunk.len());
            let mut insert = sqlx::query(&sql);
            for name in chunk {
                insert = insert.bind(name).bind(row.seq);
            }
            insert.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(Recorded {
            seq: row.seq,
            id: row.id.clone(),
            hash: row.hash.clone(),
        })
    })
}

/// `INSERT INTO audit_key` of `entries` (name, seq) pairs.
fn key_insert(entries: usize) -> String {
    let values: Vec<String> = (0..entries)
        .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
        .collect();
    format!(
        "INSERT INTO audit_key (name, seq) VALUES {}",
        values.join(", ")
    )
}

/// Errors worth another attempt: a busy or locked SQLite, a PostgreSQL serialisation failure or
/// deadlock, a lost race caught by `UNIQUE(seq)`, `UNIQUE(prev_hash)` or the tip trigger, a
/// dropped connection. Other constraint failures (a second outcome for one intent) are final.
fn is_transient(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => match db.code().as_deref() {
            // SQLite extended codes: BUSY, LOCKED, BUSY_RECOVERY, LOCKED_SHAREDCACHE,
            // BUSY_SNAPSHOT, BUSY_TIMEOUT. PostgreSQL: serialization_failure, deadlock_detected.
            Some("5" | "6" | "261" | "262" | "517" | "773" | "40001" | "40P01") => true,
            // SQLite CONSTRAINT_PRIMARYKEY, CONSTRAINT_UNIQUE; PostgreSQL unique_violation.
            Some("1555" | "2067" | "23505") => {
                matches!(
                    db.constraint(),
                    Some("audit_log_pkey" | "audit_log_prev_hash_key")
                ) || ["audit_log.seq", "audit_log.prev_hash"]
                    .iter()
                    .any(|column| db.message().contains(column))
            }
            _ => db.message().contains("extend the chain tip"),
        },
        sqlx::Error::Io(_) => true,
        _ => false,
    }
}
