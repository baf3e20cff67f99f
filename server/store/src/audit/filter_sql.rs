//! The one place a [`Filter`] becomes SQL: every condition the audit page can ask for, how a time
//! range becomes a `seq` range, and the visibility pre-filter ([`Reach`]) as one OR.
//!
//! A page is `ORDER BY seq DESC LIMIT n`, continued below the last `seq` seen (keyset paging), so
//! each condition is written so that an index ending in `seq` can serve it (see
//! `migrations/*/0006_audit_page.sql`), and a key filter reads the key index `audit_key` first.
//!
//! A time range is the one condition no such index serves: `at` has its own index, in time
//! order. Since `at` is the database's clock at append, time order is nearly `seq` order, so the
//! range is first turned into a `seq` range read off the `at` index, and the page then walks
//! `seq` within it. The `seq` range is exact, not a guess from the clock being monotonic: the
//! lower end is the smallest `seq` of any row at or after `since` (so a row written while the
//! clock stood behind is not skipped), and the upper end the largest of any row before `until`.
//! The `at` conditions stay as well, because within that range a clock that stepped back can
//! still have stamped a row outside it. Working out an end reads at most [`TIME_SCAN_CAP`] index
//! entries; past that the end is left open (a looser range, the same rows), so a query over
//! months costs no more to plan than one over a day.

use super::action::Action;
use super::filter::{Filter, Reach};
use super::keys::index_name;
use super::outcome::Outcome;
use super::query::Bind;
use super::row::COLUMNS;

/// Most `at` index entries read to turn one end of a time range into a `seq`.
pub(crate) const TIME_SCAN_CAP: i64 = 20_000;

/// A query and what to bind to its `$1`, `$2`, … in order.
pub(crate) struct Sql {
    pub text: String,
    pub binds: Vec<Bind>,
}

impl Sql {
    /// Adds `bind` and returns its placeholder. Each use gets its own, in order of appearance.
    fn bind(&mut self, bind: Bind) -> String {
        self.binds.push(bind);
        format!("${}", self.binds.len())
    }

    fn text(&mut self, s: &str) -> String {
        self.bind(Bind::Text(s.to_owned()))
    }

    /// `column IN ($…)` over `values`, each once; `column = $n` for one.
    fn any_of<'a>(&mut self, column: &str, values: impl IntoIterator<Item = &'a str>) -> String {
        let mut seen = Vec::new();
        for v in values {
            if !seen.contains(&v) {
                seen.push(v);
            }
        }
        let placeholders: Vec<String> = seen.into_iter().map(|v| self.text(v)).collect();
        match placeholders.as_slice() {
            [one] => format!("{column} = {one}"),
            many => format!("{column} IN ({})", many.join(", ")),
        }
    }
}

/// The SQL of one page of `filter`: at most `limit` rows, newest first. `since` and `until` are
/// given as stored text (fixed width, so text order is time order). A key filter's rows are
/// candidates: the caller keeps those whose parsed key lists hold the name.
pub(crate) fn page(filter: &Filter, since: Option<&str>, until: Option<&str>, limit: u32) -> Sql {
    let mut q = Sql {
        text: String::new(),
        binds: Vec::new(),
    };
    let mut conds = Vec::new();
    // With a key, the page walks the key index and joins each entry to its row.
    let (from, seq) = match &filter.key {
        Some(key) => {
            conds.push(format!("audit_key.name = {}", q.text(&index_name(key))));
            (
                "audit_key JOIN audit_log ON audit_log.seq = audit_key.seq",
                "audit_key.seq",
            )
        }
        None => ("audit_log", "audit_log.seq"),
    };
    if let Some(actor) = &filter.actor {
        conds.push(format!("audit_log.actor_name = {}", q.text(actor)));
    }
    if !filter.actions.is_empty() {
        let actions = filter.actions.iter().map(|a| Action::as_str(*a));
        conds.push(q.any_of("audit_log.action", actions));
    }
    if !filter.outcomes.is_empty() {
        let outcomes = filter.outcomes.iter().map(|o| Outcome::as_str(*o));
        conds.push(q.any_of("audit_log.outcome", outcomes));
    }
    if let Some(environment) = &filter.environment {
        conds.push(format!("audit_log.environment = {}", q.text(environment)));
    }
    if let Some(app) = &filter.app {
        conds.push(format!("audit_log.app = {}", q.text(app)));
    }
    if let Some(mount) = &filter.mount {
        conds.push(format!("audit_log.mount = {}", q.text(mount)));
    }
    if let Some(path) = &filter.path {
        conds.push(format!("audit_log.path = {}", q.text(path)));
    }
    if let Some(since) = since {
        conds.push(format!("{seq} >= {}", since_seq(&mut q, since)));
        conds.push(format!("audit_log.at >= {}", q.text(since)));
    }
    if let Some(until) = until {
        conds.push(format!("{seq} <= {}", until_seq(&mut q, until)));
        conds.push(format!("audit_log.at < {}", q.text(until)));
    }
    if let Some(before) = filter.before_seq {
        conds.push(format!("{seq} < {}", q.bind(Bind::Int(before))));
    }
    if let Some(reach) = &filter.reach {
        conds.push(reach_sql(&mut q, reach));
    }
    let columns: Vec<String> = COLUMNS
        .split(',')
        .map(|c| format!("audit_log.{}", c.trim()))
        .collect();
    let conds = if conds.is_empty() {
        "1 = 1".to_owned()
    } else {
        conds.join(" AND ")
    };
    q.text = format!(
        "SELECT {} FROM {from} WHERE {conds} ORDER BY {seq} DESC LIMIT {limit}",
        columns.join(", ")
    );
    q
}

/// The smallest `seq` of any row at or after `since`: the smallest among the first
/// [`TIME_SCAN_CAP`] entries of the `at` index from `since` on, if that is all of them; past
/// the cap, 0 (no lower end). With no such row at all, one past any `seq`.
fn since_seq(q: &mut Sql, since: &str) -> String {
    let cap = TIME_SCAN_CAP;
    format!(
        "COALESCE((SELECT CASE WHEN count(*) < {cap} THEN COALESCE(min(s.seq), {}) END \
         FROM (SELECT seq FROM audit_log WHERE at >= {} ORDER BY at LIMIT {cap}) AS s), 0)",
        i64::MAX,
        q.text(since)
    )
}

/// The largest `seq` of any row before `until`, read off whichever end is near: the `at` index
/// up to `until` (all of it, if it holds fewer than [`TIME_SCAN_CAP`] entries), else the newest
/// [`TIME_SCAN_CAP`] rows (the newest of them before `until`; if none is, every row before
/// `until` is older than all of them).
fn until_seq(q: &mut Sql, until: &str) -> String {
    let cap = TIME_SCAN_CAP;
    let newest = format!("SELECT seq, at FROM audit_log ORDER BY seq DESC LIMIT {cap}");
    format!(
        "COALESCE(\
         (SELECT CASE WHEN count(*) < {cap} THEN COALESCE(max(s.seq), 0) END \
         FROM (SELECT seq FROM audit_log WHERE at < {} ORDER BY at DESC LIMIT {cap}) AS s), \
         (SELECT max(n.seq) FROM ({newest}) AS n WHERE n.at < {}), \
         (SELECT min(n.seq) - 1 FROM ({newest}) AS n), 0)",
        q.text(until),
        q.text(until)
    )
}

/// The rows `reach` lets one see, as one OR of its parts; `1 = 0` when it has none.
fn reach_sql(q: &mut Sql, reach: &Reach) -> String {
    let mut parts = Vec::new();
    if !reach.environments.is_empty() {
        let names = reach.environments.iter().map(String::as_str);
        parts.push(q.any_of("audit_log.environment", names));
    }
    if !reach.mounts.is_empty() {
        // Mount names are never empty here (checked), so these rows are about a secret.
        let names = reach.mounts.iter().map(String::as_str);
        parts.push(q.any_of("audit_log.mount", names));
    }
    let no_secret = "audit_log.mount = '' AND audit_log.path = ''";
    if reach.everything_else {
        parts.push(format!("(audit_log.environment IS NULL AND {no_secret})"));
    }
    if let Some(entity) = reach.own_entity.as_deref().filter(|e| !e.is_empty()) {
        let entity = q.text(entity);
        parts.push(format!(
            "(audit_log.actor_entity = {entity} AND {no_secret})"
        ));
    }
    if parts.is_empty() {
        "1 = 0".to_owned()
    } else {
        format!("({})", parts.join(" OR "))
    }
}
