//! What a filter should return, worked out in plain Rust over every row: the yardstick the SQL
//! is checked against. Written from `Filter`'s and `Reach`'s docs, not from the SQL.

use keyway_store::{AuditLog, Filter, Reach, Row};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Whether `row` belongs in `filter`'s results (ignoring `limit`).
pub fn matches(row: &Row, f: &Filter) -> bool {
    let eq = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
    let opt_eq = |want: &Option<String>, have: &Option<String>| {
        want.is_none() || want.as_deref() == have.as_deref()
    };
    let at = OffsetDateTime::parse(&row.at, &Rfc3339).unwrap();
    eq(&f.actor, &row.actor_name)
        && (f.actions.is_empty() || f.actions.iter().any(|a| a.as_str() == row.action))
        && (f.outcomes.is_empty() || f.outcomes.contains(&row.outcome))
        && opt_eq(&f.environment, &row.environment)
        && opt_eq(&f.app, &row.app)
        && f.key.as_ref().is_none_or(|k| has_key(row, k))
        && eq(&f.mount, &row.mount)
        && eq(&f.path, &row.path)
        && f.since.is_none_or(|s| at >= s)
        && f.until.is_none_or(|u| at < u)
        && f.before_seq.is_none_or(|b| row.seq < b)
        && f.reach.as_ref().is_none_or(|r| reaches(row, r))
}

pub fn has_key(row: &Row, key: &str) -> bool {
    [&row.keys_added, &row.keys_changed, &row.keys_removed]
        .iter()
        .any(|keys| keys.iter().any(|k| k == key))
}

fn reaches(row: &Row, r: &Reach) -> bool {
    let no_secret = row.mount.is_empty() && row.path.is_empty();
    row.environment
        .as_ref()
        .is_some_and(|e| r.environments.contains(e))
        || (!row.mount.is_empty() && r.mounts.contains(&row.mount))
        || (r.everything_else && row.environment.is_none() && no_secret)
        || r.own_entity
            .as_ref()
            .is_some_and(|e| !e.is_empty() && &row.actor_entity == e && no_secret)
}

/// Every row, newest first.
pub async fn all_rows(log: &AuditLog) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut before = None;
    loop {
        let page = log
            .list(Filter {
                limit: Some(keyway_store::audit::MAX_LIMIT),
                before_seq: before,
                ..Filter::default()
            })
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        before = Some(last.seq);
        rows.extend(page);
    }
    rows
}

/// The seqs `filter` should return from `all` (newest first), at most its page size.
pub fn expected(all: &[Row], filter: &Filter) -> Vec<i64> {
    let limit = filter.limit.unwrap_or(100).clamp(1, 1000) as usize;
    all.iter()
        .filter(|r| matches(r, filter))
        .map(|r| r.seq)
        .take(limit)
        .collect()
}

pub fn seqs(rows: &[Row]) -> Vec<i64> {
    rows.iter().map(|r| r.seq).collect()
}
