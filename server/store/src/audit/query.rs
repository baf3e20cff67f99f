//! Reading the audit log: the history page's filtered list, who made each secret version, the
//! intents that never got an outcome, and the chain head.

use std::collections::BTreeMap;

use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

use super::action::Action;
use super::event::Recorded;
use super::row::{Row, StoredRow, COLUMNS};
use crate::db::with_pool;
use crate::{Db, StoreError};

/// Rows returned by [`Filter`] when no limit is given.
pub const DEFAULT_LIMIT: u32 = 100;
/// Most rows one [`Filter`] query returns.
pub const MAX_LIMIT: u32 = 1000;

/// Which rows `list()` returns; every field narrows, `None` means "any". Rows come newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// Exact Vault display name.
    pub actor: Option<String>,
    pub action: Option<Action>,
    pub mount: Option<String>,
    /// Exact secret path (within `mount`, when given).
    pub path: Option<String>,
    /// Rows at or after this instant.
    pub since: Option<OffsetDateTime>,
    /// Rows strictly before this instant.
    pub until: Option<OffsetDateTime>,
    /// At most this many rows (default [`DEFAULT_LIMIT`], capped at [`MAX_LIMIT`]).
    pub limit: Option<u32>,
    /// Paging: only rows older than this `seq` (pass the last `seq` of the previous page).
    pub before_seq: Option<i64>,
}

pub(super) enum Bind {
    Text(String),
    Int(i64),
}

pub(super) async fn fetch(
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
fn stored_time(t: OffsetDateTime) -> Result<String, StoreError> {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    t.to_offset(UtcOffset::UTC)
        .format(format)
        .map_err(|_| StoreError::Invalid("a time filter is out of range"))
}

pub(crate) async fn list(db: &Db, filter: Filter) -> Result<Vec<Row>, StoreError> {
    let mut sql = format!("SELECT {COLUMNS} FROM audit_log WHERE 1 = 1");
    let mut binds = Vec::new();
    let mut push = |sql: &mut String, condition: &str, bind: Bind| {
        binds.push(bind);
        sql.push_str(&format!(" AND {condition} ${}", binds.len()));
    };
    if let Some(actor) = filter.actor {
        push(&mut sql, "actor_name =", Bind::Text(actor));
    }
    if let Some(action) = filter.action {
        push(&mut sql, "action =", Bind::Text(action.as_str().to_owned()));
    }
    if let Some(mount) = filter.mount {
        push(&mut sql, "mount =", Bind::Text(mount));
    }
    if let Some(path) = filter.path {
        push(&mut sql, "path =", Bind::Text(path));
    }
    if let Some(since) = filter.since {
        push(&mut sql, "at >=", Bind::Text(stored_time(since)?));
    }
    if let Some(until) = filter.until {
        push(&mut sql, "at <", Bind::Text(stored_time(until)?));
    }
    if let Some(before) = filter.before_seq {
        push(&mut sql, "seq <", Bind::Int(before));
    }
    let limit = filter.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    sql.push_str(&format!(" ORDER BY seq DESC LIMIT {limit}"));
    parse_all(fetch(db, &sql, &binds).await?)
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
