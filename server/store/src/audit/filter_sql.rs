//! The one place a [`Filter`] becomes SQL: every condition the audit page can ask for, how a time
//! range becomes a `seq` range, and the visibility pre-filter ([`Reach`]).
//!
//! A page is `ORDER BY seq DESC LIMIT n`, continued below the last `seq` seen (keyset paging), so
//! each condition is written so that an index ending in `seq` can serve it in that order (see
//! `migrations/*/0006_audit_page.sql`), and a key filter walks the key index `audit_key`. Two
//! shapes would defeat that, and are written otherwise:
//!
//! * A list of values (`action IN (a, b)`) reads as several ranges of an index, which no database
//!   here merges in `seq` order: it would collect and sort every match. On SQLite such a list is
//!   kept off the indexes (`+action IN …`), so the page walks another index or `seq` itself and
//!   checks the list row by row; lists of actions and outcomes are short and their rows many.
//! * A [`Reach`] is an OR of parts. Each part (one environment, one mount, the rest, one's own
//!   logins) becomes its own branch, newest first off its own index and at most a page long, and
//!   the page is the newest of their union. A part listing more than [`BRANCHES_MAX`] names stays
//!   one branch that checks them row by row.
//!
//! A time range is the one condition no such index serves: time order is not `seq` order, not
//! exactly, since the database's clock can step back. So [`seq_range`] first turns the range into
//! a `seq` range that holds every row of it (read off a day-by-day index, see there), and the
//! page then walks `seq` within it, keeping the `at` conditions for exactness: within the range,
//! rows stamped outside the time range are still passed over.

use super::action::Action;
use super::filter::{Filter, Reach};
use super::keys::index_name;
use super::outcome::Outcome;
use super::query::Bind;
use super::row::COLUMNS;
use crate::db::Backend;

/// Most names of one [`Reach`] list that get a branch each.
pub(crate) const BRANCHES_MAX: usize = 16;

/// A query and what to bind to its placeholders, in order.
pub(crate) struct Sql {
    pub text: String,
    pub binds: Vec<Bind>,
}

impl Sql {
    fn new() -> Sql {
        Sql {
            text: String::new(),
            binds: Vec::new(),
        }
    }

    /// Adds `bind` and returns its placeholder. Each use gets its own, in order of appearance.
    fn bind(&mut self, bind: Bind) -> String {
        self.binds.push(bind);
        format!("${}", self.binds.len())
    }

    fn text(&mut self, s: &str) -> String {
        self.bind(Bind::Text(s.to_owned()))
    }
}

/// Where a page lies in time: `since` and `until` as stored (fixed width, so text order is time
/// order) and the `seq` range [`seq_range`] read them as.
#[derive(Clone, Debug, Default)]
pub(crate) struct Window {
    pub since: Option<String>,
    pub until: Option<String>,
    /// The smallest `seq` a row of the range can have, and the largest.
    pub lowest: Option<i64>,
    pub highest: Option<i64>,
}

/// `SELECT lowest, highest`: a `seq` range holding every row at or after `since` and before
/// `until` (NULL for an end not asked for), from the day index (`audit_log_day`: the date part of
/// `at` with `seq`). The lower end is the smallest `seq` of any day from `since`'s on, the upper
/// end the largest of any day up to `until`'s, each read by skipping from day to day along the
/// index, one seek per day the log has (a skip scan; SQL has no such operator, so a recursive
/// query steps it). Loose by at most a day's rows at either end, never missing one.
pub(crate) fn seq_range(since: Option<&str>, until: Option<&str>) -> Sql {
    const DAY: &str = "substr(at, 1, 10)";
    let next_day = |after: &str| {
        format!("(SELECT {DAY} FROM audit_log WHERE {DAY} > {after} ORDER BY {DAY} LIMIT 1)")
    };
    let mut q = Sql::new();
    let mut days = Vec::new();
    let mut lowest = "CAST(NULL AS BIGINT)".to_owned();
    let mut highest = "CAST(NULL AS BIGINT)".to_owned();
    if let Some(since) = since {
        let from = q.text(&since[..10.min(since.len())]);
        days.push(format!(
            "since_days(d) AS (\
             SELECT (SELECT {DAY} FROM audit_log WHERE {DAY} >= {from} ORDER BY {DAY} LIMIT 1) \
             UNION ALL SELECT {} FROM since_days WHERE since_days.d IS NOT NULL)",
            next_day("since_days.d")
        ));
        // No day from `since`'s on: no row can match, and the range is empty.
        lowest = format!(
            "COALESCE((SELECT min((SELECT min(seq) FROM audit_log WHERE {DAY} = since_days.d)) \
             FROM since_days WHERE since_days.d IS NOT NULL), {})",
            i64::MAX
        );
    }
    if let Some(until) = until {
        let to = &until[..10.min(until.len())];
        let step_to = q.text(to);
        days.push(format!(
            "until_days(d) AS (\
             SELECT (SELECT {DAY} FROM audit_log ORDER BY {DAY} LIMIT 1) \
             UNION ALL SELECT {} FROM until_days \
             WHERE until_days.d IS NOT NULL AND until_days.d < {step_to})",
            next_day("until_days.d")
        ));
        let upto = q.text(to);
        highest = format!(
            "COALESCE((SELECT max((SELECT max(seq) FROM audit_log WHERE {DAY} = until_days.d)) \
             FROM until_days WHERE until_days.d IS NOT NULL AND until_days.d <= {upto}), 0)"
        );
    }
    let with = if days.is_empty() {
        String::new()
    } else {
        format!("WITH RECURSIVE {} ", days.join(", "))
    };
    q.text = format!("{with}SELECT {lowest} AS lowest, {highest} AS highest");
    q
}

/// The SQL of one page of `filter` in `window`: at most `limit` rows, newest first. A key
/// filter's rows are candidates: the caller keeps those whose parsed key lists hold the name.
pub(crate) fn page(filter: &Filter, window: &Window, backend: Backend, limit: u32) -> Sql {
    let mut q = Sql::new();
    let shape = Shape::of(filter, backend);
    let columns: Vec<String> = COLUMNS
        .split(',')
        .map(|c| format!("audit_log.{}", c.trim()))
        .collect();
    let columns = columns.join(", ");
    let parts = filter.reach.as_ref().map(parts);
    q.text = match parts.as_deref() {
        None => {
            let conds = shape.conds(&mut q, filter, window, None);
            format!(
                "SELECT {columns} FROM {} WHERE {conds} ORDER BY {} DESC LIMIT {limit}",
                shape.from, shape.seq
            )
        }
        Some([]) => format!("SELECT {columns} FROM audit_log WHERE 1 = 0"),
        Some([part]) => {
            let conds = shape.conds(&mut q, filter, window, Some(part));
            format!(
                "SELECT {columns} FROM {} WHERE {conds} ORDER BY {} DESC LIMIT {limit}",
                shape.from, shape.seq
            )
        }
        Some(parts) => {
            let branches: Vec<String> = parts
                .iter()
                .enumerate()
                .map(|(i, part)| {
                    let conds = shape.conds(&mut q, filter, window, Some(part));
                    format!(
                        "SELECT seq FROM (SELECT {seq} AS seq FROM {from} WHERE {conds} \
                         ORDER BY {seq} DESC LIMIT {limit}) AS b{i}",
                        seq = shape.seq,
                        from = shape.from,
                    )
                })
                .collect();
            format!(
                "SELECT {columns} FROM audit_log WHERE audit_log.seq IN (SELECT u.seq FROM ({}) \
                 AS u ORDER BY u.seq DESC LIMIT {limit}) ORDER BY audit_log.seq DESC",
                // UNION, not UNION ALL: a row in two parts (its environment's and its mount's)
                // must count once against the limit, or a full page would read as the log's end.
                branches.join(" UNION ")
            )
        }
    };
    q
}

/// What every branch of a page reads from, and how lists are written on this backend.
struct Shape {
    from: &'static str,
    seq: &'static str,
    backend: Backend,
}

impl Shape {
    fn of(filter: &Filter, backend: Backend) -> Shape {
        // With a key, the page walks the key index and joins each entry to its row.
        let (from, seq) = match filter.key {
            Some(_) => (
                "audit_key JOIN audit_log ON audit_log.seq = audit_key.seq",
                "audit_key.seq",
            ),
            None => ("audit_log", "audit_log.seq"),
        };
        Shape { from, seq, backend }
    }

    /// Every condition of `filter` (and `part` of its reach), ANDed, with fresh binds.
    fn conds(&self, q: &mut Sql, filter: &Filter, window: &Window, part: Option<&Part>) -> String {
        let seq = self.seq;
        let mut conds = Vec::new();
        if let Some(key) = &filter.key {
            conds.push(format!("audit_key.name = {}", q.text(&index_name(key))));
        }
        let equal = [
            ("actor_name", &filter.actor),
            ("environment", &filter.environment),
            ("app", &filter.app),
            ("mount", &filter.mount),
            ("path", &filter.path),
        ];
        for (column, value) in equal {
            if let Some(value) = value {
                conds.push(format!("audit_log.{column} = {}", q.text(value)));
            }
        }
        let actions: Vec<&str> = filter.actions.iter().map(|a| Action::as_str(*a)).collect();
        if let Some(cond) = self.any_of(q, "audit_log.action", &actions) {
            conds.push(cond);
        }
        let outcomes: Vec<&str> = filter
            .outcomes
            .iter()
            .map(|o| Outcome::as_str(*o))
            .collect();
        if let Some(cond) = self.any_of(q, "audit_log.outcome", &outcomes) {
            conds.push(cond);
        }
        if let Some(lowest) = window.lowest {
            conds.push(format!("{seq} >= {}", q.bind(Bind::Int(lowest))));
        }
        if let Some(highest) = window.highest {
            conds.push(format!("{seq} <= {}", q.bind(Bind::Int(highest))));
        }
        // The `at` conditions only make the range exact, and are kept off the `at` index: off it,
        // a page walks `seq` and stops at a page's worth, where a database reading both (as
        // PostgreSQL would, taking `at` and `seq` for independent) collects and sorts the range.
        let at = match self.backend {
            Backend::Sqlite => "+audit_log.at",
            Backend::Postgres => "(audit_log.at COLLATE \"C\")",
        };
        if let Some(since) = &window.since {
            conds.push(format!("{at} >= {}", q.text(since)));
        }
        if let Some(until) = &window.until {
            conds.push(format!("{at} < {}", q.text(until)));
        }
        if let Some(before) = filter.before_seq {
            conds.push(format!("{seq} < {}", q.bind(Bind::Int(before))));
        }
        if let Some(part) = part {
            conds.push(part.cond(q, self));
        }
        if filter.hide_finished_intents {
            // `intent_seq` is UNIQUE, so this is one index lookup per pending row.
            conds.push(
                "NOT (audit_log.outcome = 'pending' AND EXISTS \
                 (SELECT 1 FROM audit_log AS done WHERE done.intent_seq = audit_log.seq))"
                    .to_owned(),
            );
        }
        if conds.is_empty() {
            "1 = 1".to_owned()
        } else {
            conds.join(" AND ")
        }
    }

    /// `column = $n` for one value; for several, `column IN (…)` checked row by row ([module
    /// doc](self)); `None` for none.
    fn any_of(&self, q: &mut Sql, column: &str, values: &[&str]) -> Option<String> {
        let mut distinct: Vec<&str> = Vec::new();
        for v in values {
            if !distinct.contains(v) {
                distinct.push(v);
            }
        }
        let placeholders: Vec<String> = distinct.into_iter().map(|v| q.text(v)).collect();
        match placeholders.as_slice() {
            [] => None,
            [one] => Some(format!("{column} = {one}")),
            many => {
                let unindexed = match self.backend {
                    Backend::Sqlite => "+",
                    Backend::Postgres => "",
                };
                Some(format!("{unindexed}{column} IN ({})", many.join(", ")))
            }
        }
    }
}

/// One part of a [`Reach`], as one branch of a page.
enum Part {
    Environments(Vec<String>),
    Mounts(Vec<String>),
    EverythingElse,
    OwnEntity(String),
}

/// The parts of `reach`: a branch per environment and per mount while the lists are short.
fn parts(reach: &Reach) -> Vec<Part> {
    let mut parts = Vec::new();
    let split = |names: &[String], part: fn(Vec<String>) -> Part, parts: &mut Vec<Part>| match names
        .len()
    {
        0 => {}
        n if n <= BRANCHES_MAX => parts.extend(names.iter().map(|n| part(vec![n.clone()]))),
        _ => parts.push(part(names.to_vec())),
    };
    split(&reach.environments, Part::Environments, &mut parts);
    split(&reach.mounts, Part::Mounts, &mut parts);
    if reach.everything_else {
        parts.push(Part::EverythingElse);
    }
    if let Some(entity) = reach.own_entity.as_deref().filter(|e| !e.is_empty()) {
        parts.push(Part::OwnEntity(entity.to_owned()));
    }
    parts
}

impl Part {
    fn cond(&self, q: &mut Sql, shape: &Shape) -> String {
        let no_secret = "audit_log.mount = '' AND audit_log.path = ''";
        fn names(names: &[String]) -> Vec<&str> {
            names.iter().map(String::as_str).collect()
        }
        match self {
            Part::Environments(envs) => shape
                .any_of(q, "audit_log.environment", &names(envs))
                .expect("a part names something"),
            // Mount names are never empty here (checked), so these rows are about a secret.
            Part::Mounts(mounts) => shape
                .any_of(q, "audit_log.mount", &names(mounts))
                .expect("a part names something"),
            Part::EverythingElse => format!("audit_log.environment IS NULL AND {no_secret}"),
            Part::OwnEntity(entity) => {
                // Walked off the entity's index (its rows about no secret): one person's logins,
                // not everyone's.
                let no_secret = match shape.backend {
                    Backend::Sqlite => "audit_log.mount = '' AND +audit_log.path = ''",
                    Backend::Postgres => no_secret,
                };
                let entity = q.text(entity);
                format!("audit_log.actor_entity = {entity} AND {no_secret}")
            }
        }
    }
}
