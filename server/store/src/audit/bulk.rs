//! Building a large audit log fast, for the audit page's bench (`end2end/bench/audit`): rows are
//! hashed and chained in memory and inserted many to a statement in big transactions, instead of
//! one append (one transaction, one lock, one fsync) per row; and the plan a database picks for a
//! filter, to check that a page is not a scan of the whole table.
//!
//! Behind the `bench` feature: Keyway itself only ever writes through `append`. The rows are what
//! `append` would have written (same bounds, same format, same key index), except that `at` is
//! given instead of read off the database's clock, so that a log can span months; the triggers
//! stay on and check every row.

use time::OffsetDateTime;

use super::event::NewEvent;
use super::filter::Filter;
use super::filter_sql;
use super::hash::{row_hash, GENESIS_PREV_HASH};
use super::keys::index_names;
use super::outcome::Outcome;
use super::query::{stored_time, Bind};
use super::row::StoredRow;
use super::{stored, AUDIT_LOCK_KEY};
use crate::db::{with_pool, Backend};
use crate::{Db, StoreError};

/// One row to load.
#[derive(Clone, Debug)]
pub struct Generated {
    pub event: NewEvent,
    pub outcome: Outcome,
    pub at: OffsetDateTime,
    /// For an outcome row: its intent's `seq`.
    pub intent_seq: Option<i64>,
    pub vault_request_id: Option<String>,
}

/// Rows per transaction, and per INSERT statement (24 binds each, under SQLite's 32,766).
const ROWS_PER_TX: usize = 10_000;
const ROWS_PER_INSERT: usize = 500;
const KEYS_PER_INSERT: usize = 2_000;

const INSERT_HEAD: &str = "INSERT INTO audit_log (seq, id, at, actor_name, actor_entity, action, \
     mount, path, version_before, version_after, keys_added, keys_changed, keys_removed, outcome, \
     detail, intent_seq, request_id, client_addr, prev_hash, hash, environment, app, \
     vault_request_id, format) VALUES ";

/// Appends `rows` after the current tip, `ROWS_PER_TX` to a transaction. Returns the new tip's
/// seq.
pub async fn load(db: &Db, rows: impl IntoIterator<Item = Generated>) -> Result<i64, StoreError> {
    let mut rows = rows.into_iter().peekable();
    let mut tip = super::query::head(db).await?;
    while rows.peek().is_some() {
        let (mut seq, mut prev) = match &tip {
            Some(t) => (t.seq, t.hash.clone()),
            None => (0, GENESIS_PREV_HASH.to_owned()),
        };
        let mut batch = Vec::with_capacity(ROWS_PER_TX);
        for g in rows.by_ref().take(ROWS_PER_TX) {
            let mut row = stored(
                &g.event,
                g.outcome,
                g.event.version_after,
                g.event.detail.as_deref(),
                g.intent_seq,
                g.vault_request_id.as_deref(),
            );
            seq += 1;
            row.seq = seq;
            row.at = stored_time(g.at)?;
            row.prev_hash = prev;
            row.hash = row_hash(&row).expect("the current format hashes");
            prev = row.hash.clone();
            batch.push(row);
        }
        insert(db, &batch).await.map_err(StoreError::AuditWrite)?;
        tip = batch.last().map(|r| super::event::Recorded {
            seq: r.seq,
            id: r.id.clone(),
            hash: r.hash.clone(),
        });
    }
    Ok(tip.map_or(0, |t| t.seq))
}

async fn insert(db: &Db, batch: &[StoredRow]) -> Result<(), sqlx::Error> {
    let backend = db.backend();
    with_pool!(db, |pool| {
        let mut tx = match backend {
            Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => pool.begin().await?,
        };
        if backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(AUDIT_LOCK_KEY)
                .execute(&mut *tx)
                .await?;
        }
        for chunk in batch.chunks(ROWS_PER_INSERT) {
            let values: Vec<String> = (0..chunk.len())
                .map(|r| {
                    let p: Vec<String> =
                        (1..=24).map(|c| placeholder(backend, r * 24 + c)).collect();
                    format!("({})", p.join(", "))
                })
                .collect();
            let sql = format!("{INSERT_HEAD}{}", values.join(", "));
            let mut q = sqlx::query(&sql);
            for row in chunk {
                q = q
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
                    .bind(row.format);
            }
            q.execute(&mut *tx).await?;
        }
        let entries: Vec<(String, i64)> = batch
            .iter()
            .flat_map(|r| index_names(r).into_iter().map(|n| (n, r.seq)))
            .collect();
        for chunk in entries.chunks(KEYS_PER_INSERT) {
            let values: Vec<String> = (0..chunk.len())
                .map(|e| {
                    let (name, seq) = (
                        placeholder(backend, 2 * e + 1),
                        placeholder(backend, 2 * e + 2),
                    );
                    format!("({name}, {seq})")
                })
                .collect();
            let sql = format!(
                "INSERT INTO audit_key (name, seq) VALUES {}",
                values.join(", ")
            );
            let mut q = sqlx::query(&sql);
            for (name, seq) in chunk {
                q = q.bind(name).bind(*seq);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await
    })
}

/// The `n`th placeholder. SQLite looks a named one (`$n`) up by scanning every name in the
/// statement, so a statement of thousands of them binds in quadratic time: it gets plain `?`.
fn placeholder(backend: Backend, n: usize) -> String {
    match backend {
        Backend::Sqlite => "?".to_owned(),
        Backend::Postgres => format!("${n}"),
    }
}

/// The plans the database picks for the first page of `filter`, one line per step (SQLite's
/// `EXPLAIN QUERY PLAN`, PostgreSQL's `EXPLAIN`): the time range's `seq` range first, if it has
/// one, then the page.
pub async fn explain(db: &Db, filter: &Filter) -> Result<Vec<String>, StoreError> {
    filter.check()?;
    let window = super::query::window(db, filter).await?;
    let mut lines = Vec::new();
    if window.since.is_some() || window.until.is_some() {
        let range = filter_sql::seq_range(window.since.as_deref(), window.until.as_deref());
        lines.push(format!(
            "seq range: {:?}..={:?}",
            window.lowest, window.highest
        ));
        lines.extend(plan(db, &range).await?);
        lines.push("page:".to_owned());
    }
    let page = filter_sql::page(filter, &window, db.backend(), filter.page_size());
    lines.extend(plan(db, &page).await?);
    Ok(lines)
}

async fn plan(db: &Db, sql: &filter_sql::Sql) -> Result<Vec<String>, StoreError> {
    Ok(match db.backend() {
        Backend::Sqlite => {
            let text = format!("EXPLAIN QUERY PLAN {}", sql.text);
            let mut q = sqlx::query_as::<_, (i64, i64, i64, String)>(&text);
            for b in &sql.binds {
                q = match b {
                    Bind::Text(t) => q.bind(t.as_str()),
                    Bind::Int(i) => q.bind(*i),
                };
            }
            q.fetch_all(db.sqlite().expect("a SQLite pool"))
                .await
                .map_err(StoreError::AuditRead)?
                .into_iter()
                .map(|(id, parent, _, detail)| format!("{parent:>3} {id:>3} {detail}"))
                .collect()
        }
        Backend::Postgres => {
            let text = format!("EXPLAIN {}", sql.text);
            let mut q = sqlx::query_as::<_, (String,)>(&text);
            for b in &sql.binds {
                q = match b {
                    Bind::Text(t) => q.bind(t.as_str()),
                    Bind::Int(i) => q.bind(*i),
                };
            }
            q.fetch_all(db.postgres().expect("a PostgreSQL pool"))
                .await
                .map_err(StoreError::AuditRead)?
                .into_iter()
                .map(|(line,)| line)
                .collect()
        }
    })
}
