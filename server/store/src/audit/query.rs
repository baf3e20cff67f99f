//! Reading the audit log: the audit page's filtered list (its SQL made in
//! [`super::filter_sql`]), who made each secret version, the intents that never got an outcome,
//! and the chain head.

use std::collections::BTreeMap;

use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

use super::action::Action;
use super::event::Recorded;
use super::filter::Filter;
use super::filter_sql::{self, Window};
use super::keys::row_has_key;
use super::row::{Row, StoredRow, COLUMNS};
use crate::db::with_pool;
use crate::{Db, StoreError};

pub(crate) enum Bind {
    Text(String),
    Int(i64),
}

pub(crate) async fn fetch(
    db: &Db,
    sql: &str,
    binds: &[Bind],
) -> Result<Vec<StoredRow>, StoreError> {
    with_pool!(db, |pool| {
        let mut query = sqlx::query_as::<_, StoredRow>(sql);
        for bind in binds {
            query = match bind {
                Bind::Text(text) => query.bind(text.as_str()),
                Bind::Int(int) => query.bind(*int),
            };
        }
        query.fetch_all(pool).await
    })
    .map_err(StoreError::AuditRead)
}

fn parse_all(rows: Vec<StoredRow>) -> Result<Vec<Row>, StoreError> {
    rows.into_iter().map(Row::try_from).collect()
}

/// `at` as stored, for comparisons: fixed width, so text order is time order.
pub(crate) fn stored_time(t: OffsetDateTime) -> Result<String, StoreError> {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    t.to_offset(UtcOffset::UTC)
        .format(format)
        .map_err(|_| StoreError::Invalid("a time filter is out of range"))
}

/// Where `filter` lies in time: its times as stored and, when it has any, the `seq` range they
/// read as ([`filter_sql::seq_range`], one round trip before the page).
pub(crate) async fn window(db: &Db, filter: &Filter) -> Result<Window, StoreError> {
    let since = filter.since.map(stored_time).transpose()?;
    let until = filter.until.map(stored_time).transpose()?;
    if since.is_none() && until.is_none() {
        return Ok(Window::default());
    }
    let sql = filter_sql::seq_range(since.as_deref(), until.as_deref());
    let (lowest, highest): (Option<i64>, Option<i64>) = with_pool!(db, |pool| {
        let mut query = sqlx::query_as(&sql.text);
        for bind in &sql.binds {
            query = match bind {
                Bind::Text(text) => query.bind(text.as_str()),
                Bind::Int(int) => query.bind(*int),
            };
        }
        query.fetch_one(pool).await
    })
    .map_err(StoreError::AuditRead)?;
    Ok(Window {
        since,
        until,
        lowest,
        highest,
    })
}

/// Rows matching `filter`, newest first. With a key filter, the key index only names candidates:
/// a row is kept if its own key lists hold the name exactly, and the page is read on until it is
/// full or the log ends (an index entry names a row that lacks it only if someone forged it).
pub(crate) async fn list(db: &Db, filter: Filter) -> Result<Vec<Row>, StoreError> {
    filter.check()?;
    let window = window(db, &filter).await?;
    let limit = filter.page_size();
    let mut rows = Vec::new();
    let mut page = filter;
    loop {
        let sql = filter_sql::page(&page, &window, db.backend(), limit);
        let fetched = parse_all(fetch(db, &sql.text, &sql.binds).await?)?;
        let full = fetched.len() == limit as usize;
        page.before_seq = fetched.last().map(|r| r.seq);
        match &page.key {
            Some(key) => rows.extend(fetched.into_iter().filter(|r| row_has_key(r, key))),
            None => rows.extend(fetched),
        }
        if rows.len() >= limit as usize || !full {
            break;
        }
    }
    rows.truncate(limit as usize);
    Ok(rows)
}

pub(crate) async fn pending_intents(db: &Db) -> Result<Vec<Row>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_log WHERE outcome = 'pending' AND seq NOT IN \
         (SELECT intent_seq FROM audit_log WHERE intent_seq IS NOT NULL) ORDER BY seq"
    );
    parse_all(fetch(db, &sql, &[]).await?)
}

pub(crate) async fn version_authors(
    db: &Db,
    mount: &str,
    path: &str,
) -> Result<BTreeMap<i64, (String, String)>, StoreError> {
    let mut binds = vec![Bind::Text(mount.to_owned()), Bind::Text(path.to_owned())];
    let mut placeholders = Vec::new();
    for action in Action::ALL.into_iter().filter(|a| a.creates_version()) {
        binds.push(Bind::Text(action.as_str().to_owned()));
        placeholders.push(format!("${}", binds.len()));
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_log WHERE mount = $1 AND path = $2 AND outcome = 'ok' \
         AND version_after IS NOT NULL AND action IN ({}) ORDER BY seq",
        placeholders.join(", ")
    );
    // In seq order, so if the secret was destroyed and recreated (versions restart at 1), the
    // newest author of a version number wins.
    Ok(fetch(db, &sql, &binds)
        .await?
        .into_iter()
        .filter_map(|r| Some((r.version_after?, (r.actor_name, r.at))))
        .collect())
}

pub(crate) async fn head(db: &Db) -> Result<Option<Recorded>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM audit_log ORDER BY seq DESC LIMIT 1");
    Ok(fetch(db, &sql, &[]).await?.pop().map(|r| Recorded {
        seq: r.seq,
        id: r.id,
        hash: r.hash,
    }))
}
