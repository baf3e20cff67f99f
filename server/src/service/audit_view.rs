//! Reading the audit log back: the history page and its exports, with what each caller may see
//! decided by Vault, for the caller's own token.
//!
//! The rule ([`Visibility`]), in one place for the page and both exports:
//! - `read` on `keyway/audit/*` ([`AUDIT_EVERYTHING`]): every row;
//! - `read` on `keyway/audit/<environment>` ([`audit_grant`]): every row of that environment,
//!   logins aside (they belong to no environment), access changes and onboarding included;
//! - otherwise a row about a secret is shown when the token may read that secret's values
//!   (`read` on `<mount>/data/<path>`: the overview's rule for "an app you can see");
//! - and everyone sees their own rows that concern no secret (their logins and logouts).
//!
//! The store narrows the rows first with the same rule ([`Reach`]), so a developer's page does
//! not read the whole log to find their few rows; the secrets are then asked about in one
//! `sys/capabilities-self` call per batch of rows. A page stops after [`SCAN_MAX`] rows read and
//! offers to go on from there, so a page always answers quickly however rare the matches are.

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use keyway_app::backend::AuditApi;
use keyway_app::dto::{
    AuditChoice, AuditPage, AuditQuery, AuditRange, AuditRow, AuditVerified, SecretRef,
};
use keyway_app::error::AppError;
use keyway_app::logic::limits::{check_chars, KEY_REF_MAX_CHARS, NAME_MAX_CHARS};
use keyway_policy::paths::{audit_grant, kv, KvApi, AUDIT_EVERYTHING};
use keyway_store::{Action, Filter, NewEvent, Outcome, Reach, Row};
use keyway_vault::{Capability, CAPABILITIES_BATCH};
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

use super::{audit_error, Caller, Core, RequestBackend};

/// Rows on a page.
pub const PAGE_ROWS: usize = 50;
/// Rows read from the store at a time.
const BATCH: u32 = 200;
/// Most rows a page reads before it stops and offers to go on from there.
pub const SCAN_MAX: usize = 5000;
/// Most actions or outcomes one filter names (there are fewer of each).
const CHOICES_MAX: usize = 32;

#[async_trait]
impl AuditApi for RequestBackend {
    async fn audit_page(&self, query: AuditQuery) -> Result<AuditPage, AppError> {
        self.with_caller(|c| async move { self.core.audit_page(&c, query).await })
            .await
    }
}

/// What one caller may see of the log, learnt from Vault as rows come (see the module doc).
pub struct Visibility {
    everything: bool,
    environments: BTreeSet<String>,
    entity: String,
    /// Secrets asked about so far: may the caller read them?
    readable: HashMap<(String, String), bool>,
}

impl Visibility {
    /// The store's pre-filter for this visibility (`None`: every row).
    fn reach(&self, mounts: Vec<String>) -> Option<Reach> {
        (!self.everything).then(|| Reach {
            environments: self.environments.iter().cloned().collect(),
            mounts,
            everything_else: false,
            own_entity: (!self.entity.is_empty()).then(|| self.entity.clone()),
        })
    }

    /// Whether the caller sees `row`; a secret not asked about yet counts as unreadable, so
    /// call [`Core::learn`] on a batch first.
    fn sees(&self, row: &Row) -> bool {
        if self.everything {
            return true;
        }
        if row
            .environment
            .as_ref()
            .is_some_and(|e| self.environments.contains(e))
        {
            return true;
        }
        if row.mount.is_empty() && row.path.is_empty() {
            // About no secret: one's own (a login); the store's `OwnEntity` part is the same.
            return !self.entity.is_empty() && row.actor_entity == self.entity;
        }
        self.readable
            .get(&(row.mount.clone(), row.path.clone()))
            .copied()
            .unwrap_or(false)
    }

    /// Whether seeing `row` depends on reading its secret.
    fn needs_secret_check(&self, row: &Row) -> bool {
        !self.everything
            && !row.mount.is_empty()
            && !row
                .environment
                .as_ref()
                .is_some_and(|e| self.environments.contains(e))
            && !self
                .readable
                .contains_key(&(row.mount.clone(), row.path.clone()))
    }

    /// The page's sentence about it.
    fn sentence(&self) -> String {
        if self.everything {
            return "You see the whole audit log: your Vault policies allow reading keyway/audit/*."
                .into();
        }
        let own = "the rows of the secrets your Vault policies let you read, and your own logins";
        if self.environments.is_empty() {
            format!("You see {own}.")
        } else {
            let envs: Vec<&str> = self.environments.iter().map(String::as_str).collect();
            format!("You see every row of {}, and {own}.", envs.join(", "))
        }
    }
}

/// A page query turned into the store's filter, checked and bounded.
pub struct Checked {
    pub filter: Filter,
    /// The range shown, in words.
    pub range: String,
    /// The filters in a few words, for the audit row of a view or an export (names, never
    /// values).
    pub summary: String,
}

/// `2026-12-04T10:00`, `2026-12-04T10:00:30` (a browser's `datetime-local`, read as UTC) or RFC
/// 3339.
fn parse_time(field: &str, s: &str) -> Result<OffsetDateTime, AppError> {
    use time::format_description::well_known::Rfc3339;
    use time::macros::format_description;
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(t);
    }
    let minutes = format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let seconds = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    PrimitiveDateTime::parse(s, &minutes)
        .or_else(|_| PrimitiveDateTime::parse(s, &seconds))
        .map(|t| t.assume_offset(UtcOffset::UTC))
        .map_err(|_| {
            AppError::Invalid(format!(
                "The {field} time is not a date and time: write it as 2026-12-04T10:00 (UTC)."
            ))
        })
}

fn words(t: OffsetDateTime) -> String {
    use time::macros::format_description;
    t.format(format_description!(
        "[year]-[month]-[day] [hour]:[minute] UTC"
    ))
    .unwrap_or_default()
}

/// Checks every field of `query` (bounded, known actions and outcomes, times that parse) and
/// turns it into the store's filter; `now` anchors the presets.
pub fn check_query(query: &AuditQuery, now: OffsetDateTime) -> Result<Checked, AppError> {
    let text = |field: &str, v: &Option<String>, max: usize| -> Result<Option<String>, AppError> {
        match v {
            Some(v) => {
                check_chars(field, v, max).map_err(AppError::Invalid)?;
                Ok(Some(v.clone()))
            }
            None => Ok(None),
        }
    };
    let actor = text("name", &query.actor, NAME_MAX_CHARS)?;
    let environment = text("environment", &query.environment, NAME_MAX_CHARS)?;
    let app = text("app", &query.app, NAME_MAX_CHARS)?;
    let key = text("key name", &query.key, KEY_REF_MAX_CHARS)?;
    if query.actions.len() > CHOICES_MAX || query.outcomes.len() > CHOICES_MAX {
        return Err(AppError::Invalid(
            "Too many actions or outcomes chosen.".into(),
        ));
    }
    let actions = query
        .actions
        .iter()
        .map(|a| {
            a.parse::<Action>()
                .map_err(|()| AppError::Invalid(format!("Keyway records no action named {a:.64}.")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let outcomes = query
        .outcomes
        .iter()
        .map(|o| {
            o.parse::<Outcome>()
                .map_err(|()| AppError::Invalid(format!("There is no outcome named {o:.64}.")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (since, until, range) = match query.range {
        AuditRange::All => (None, None, "All time.".to_owned()),
        AuditRange::Custom => {
            let from = query
                .from
                .as_deref()
                .map(|s| parse_time("from", s))
                .transpose()?;
            let to = query
                .to
                .as_deref()
                .map(|s| parse_time("to", s))
                .transpose()?;
            if let (Some(f), Some(t)) = (from, to) {
                if f >= t {
                    return Err(AppError::Invalid(
                        "The “from” time must come before the “to” time.".into(),
                    ));
                }
            }
            let range = match (from, to) {
                (Some(f), Some(t)) => format!("From {} to {}.", words(f), words(t)),
                (Some(f), None) => format!("Since {}.", words(f)),
                (None, Some(t)) => format!("Before {}.", words(t)),
                (None, None) => "All time.".to_owned(),
            };
            (from, to, range)
        }
        preset => {
            let seconds = preset.seconds().unwrap_or(86_400);
            let since = now - time::Duration::seconds(seconds);
            let range = format!("{} (since {}).", preset.label(), words(since));
            (Some(since), None, range)
        }
    };
    let mut summary: Vec<String> = vec![format!("range={}", query.range.as_str())];
    let mut note = |k: &str, v: &Option<String>| {
        if let Some(v) = v {
            summary.push(format!("{k}={v:.64}"));
        }
    };
    note("actor", &actor);
    note("env", &environment);
    note("app", &app);
    note("key", &key);
    for a in &actions {
        summary.push(format!("action={a}"));
    }
    for o in &outcomes {
        summary.push(format!("outcome={o}"));
    }
    Ok(Checked {
        filter: Filter {
            actor,
            actions,
            outcomes,
            environment,
            app,
            key,
            since,
            until,
            before_seq: query.before,
            hide_finished_intents: true,
            ..Filter::default()
        },
        range,
        summary: summary.join(" "),
    })
}

/// A stored row as the page shows it.
pub fn row_view(r: Row) -> AuditRow {
    let action_label = r
        .action()
        .map(|a| a.label().to_owned())
        .unwrap_or_else(|| r.action.clone());
    AuditRow {
        seq: r.seq,
        at: r.at,
        actor: r.actor_name,
        actor_entity: r.actor_entity,
        action: r.action,
        action_label,
        environment: r.environment,
        app: r.app,
        secret: (!r.mount.is_empty()).then(|| SecretRef::new(r.mount, r.path)),
        version_before: r.version_before,
        version_after: r.version_after,
        keys_added: r.keys_added,
        keys_changed: r.keys_changed,
        keys_removed: r.keys_removed,
        outcome: r.outcome.as_str().to_owned(),
        detail: r.detail,
        client_addr: r.client_addr.filter(|a| !a.is_empty()),
        request_id: r.request_id.filter(|a| !a.is_empty()),
        vault_request_id: r.vault_request_id,
    }
}

/// One stretch of visible rows, newest first, and where to go on from.
pub struct Scanned {
    pub rows: Vec<Row>,
    /// The `before` of the next stretch; `None` when the log has no older matching row.
    pub older: Option<i64>,
}

impl Core {
    /// What `caller` may see of the log (one Vault call).
    pub async fn audit_visibility(&self, caller: &Caller) -> Result<Visibility, AppError> {
        let environments: Vec<String> = self
            .environments()
            .await
            .iter()
            .map(|e| e.as_str().to_owned())
            .collect();
        let mut paths = vec![AUDIT_EVERYTHING.to_owned()];
        paths.extend(environments.iter().map(|e| audit_grant(e)));
        let mut granted = BTreeSet::new();
        // In batches Vault accepts (a cluster-wide Keyway may serve hundreds of namespaces).
        for chunk in paths.chunks(CAPABILITIES_BATCH) {
            let caps = self
                .capabilities(caller, chunk, "read the audit log")
                .await?;
            granted.extend(
                chunk
                    .iter()
                    .filter(|p| caps.has(p, Capability::Read))
                    .cloned(),
            );
        }
        Ok(Visibility {
            everything: granted.contains(AUDIT_EVERYTHING),
            environments: environments
                .into_iter()
                .filter(|e| granted.contains(&audit_grant(e)))
                .collect(),
            entity: caller.entity_id.clone(),
            readable: HashMap::new(),
        })
    }

    /// The store's filter for `caller`: `checked` narrowed to what the visibility may show.
    pub(super) async fn reach_of(
        &self,
        caller: &Caller,
        vis: &Visibility,
        mut filter: Filter,
    ) -> Result<Filter, AppError> {
        if !vis.everything {
            let mounts = self
                .vault
                .kv2_mounts(&caller.token)
                .await
                .map_err(|e| super::vault_error(e, "list your kv mounts"))?;
            filter.reach = vis.reach(mounts.into_iter().map(|m| m.path).collect());
        }
        Ok(filter)
    }

    /// Asks Vault about the secrets of `rows` whose visibility depends on them.
    async fn learn(
        &self,
        caller: &Caller,
        vis: &mut Visibility,
        rows: &[Row],
    ) -> Result<(), AppError> {
        let mut wanted: Vec<(String, String)> = rows
            .iter()
            .filter(|r| vis.needs_secret_check(r))
            .map(|r| (r.mount.clone(), r.path.clone()))
            .collect();
        wanted.sort();
        wanted.dedup();
        for chunk in wanted.chunks(CAPABILITIES_BATCH) {
            let paths: Vec<String> = chunk.iter().map(|(m, p)| kv(m, KvApi::Data, p)).collect();
            let caps = self
                .capabilities(caller, &paths, "read the audit log")
                .await?;
            for (secret, path) in chunk.iter().zip(&paths) {
                vis.readable
                    .insert(secret.clone(), caps.has(path, Capability::Read));
            }
        }
        Ok(())
    }

    /// Up to `want` visible rows matching `filter` (already narrowed by [`Core::reach_of`]),
    /// newest first, reading at most `scan_max` rows.
    pub async fn scan_visible(
        &self,
        caller: &Caller,
        vis: &mut Visibility,
        filter: &Filter,
        want: usize,
        scan_max: usize,
    ) -> Result<Scanned, AppError> {
        let mut before = filter.before_seq;
        let mut rows = Vec::new();
        let mut scanned = 0;
        loop {
            let batch = self
                .audit
                .list(Filter {
                    before_seq: before,
                    limit: Some(BATCH),
                    ..filter.clone()
                })
                .await
                .map_err(read_error)?;
            let full = batch.len() == BATCH as usize;
            self.learn(caller, vis, &batch).await?;
            for row in batch {
                scanned += 1;
                before = Some(row.seq);
                if vis.sees(&row) {
                    rows.push(row);
                    if rows.len() == want {
                        return Ok(Scanned {
                            rows,
                            older: before,
                        });
                    }
                }
            }
            if !full {
                return Ok(Scanned { rows, older: None });
            }
            if scanned >= scan_max {
                return Ok(Scanned {
                    rows,
                    older: before,
                });
            }
        }
    }

    /// One page of the history for `caller`. Every page read is itself audited.
    pub async fn audit_page(
        &self,
        caller: &Caller,
        query: AuditQuery,
    ) -> Result<AuditPage, AppError> {
        let checked = check_query(&query, OffsetDateTime::now_utc())?;
        let mut vis = self.audit_visibility(caller).await?;
        // Every page read is on the log, the older pages too: a `before` must not be a way to
        // read unrecorded.
        let mut summary = checked.summary.clone();
        if let Some(before) = query.before {
            summary.push_str(&format!(" before=#{before}"));
        }
        let event = self.audit_event(caller, Action::AuditView).detail(summary);
        self.audit.record(event).await.map_err(audit_error)?;
        let filter = self.reach_of(caller, &vis, checked.filter).await?;
        let scanned = self
            .scan_visible(caller, &mut vis, &filter, PAGE_ROWS, SCAN_MAX)
            .await?;
        let environments = self
            .environments()
            .await
            .iter()
            .map(|e| e.as_str().to_owned())
            .collect();
        Ok(AuditPage {
            rows: scanned.rows.into_iter().map(row_view).collect(),
            older: scanned.older,
            reach: vis.sentence(),
            range: checked.range,
            actions: Action::ALL
                .iter()
                .map(|a| AuditChoice {
                    value: a.as_str().to_owned(),
                    label: a.label().to_owned(),
                })
                .collect(),
            outcomes: Outcome::ALL
                .iter()
                .map(|o| AuditChoice {
                    value: o.as_str().to_owned(),
                    label: o.label().to_owned(),
                })
                .collect(),
            environments,
            verified: self.audit_verified(vis.everything),
            checkpoints: self.checkpoint_sentence(vis.everything),
        })
    }

    /// An audit row by `caller` about the log itself (a view, an export).
    pub fn audit_event(&self, caller: &Caller, action: Action) -> NewEvent {
        NewEvent::new(&caller.display_name, action)
            .entity(&caller.entity_id)
            .request(&caller.meta.request_id, &caller.meta.client_addr)
    }

    /// The last verification of the chain against the signed checkpoints, run in the
    /// background (`checkpoint::Checkpoints::spawn_verifier`), so a page view never waits for a
    /// re-hash of the whole log. Its details (the first bad row's content, a bad checkpoint)
    /// are for those who may read the whole log (`everything`); others learn whether it is
    /// whole, and up to which row.
    fn audit_verified(&self, everything: bool) -> Option<AuditVerified> {
        let outcome = match self.checkpoints.last_verified()? {
            Ok(outcome) => outcome,
            Err((at, why)) => {
                let mut sentence = "The chain could not be verified".to_owned();
                if everything {
                    sentence.push_str(&format!(": {why}"));
                }
                sentence.push('.');
                return Some(AuditVerified {
                    whole: false,
                    sentence,
                    checked_at: at.to_string(),
                });
            }
        };
        let sentence = if everything {
            outcome.summary()
        } else {
            outcome.brief()
        };
        Some(AuditVerified {
            whole: outcome.whole(),
            sentence,
            checked_at: outcome.checked_at.to_string(),
        })
    }

    /// Whether signed checkpoints are on, in one sentence (why the last signing failed only for
    /// those who may read the whole log: it may name a file or quote Vault).
    fn checkpoint_sentence(&self, everything: bool) -> String {
        use crate::checkpoint::CheckpointStatus;
        match self.checkpoints.status() {
            CheckpointStatus::Off => "Signed checkpoints are off: the chain is only as safe as \
                 the database. The README's audit section says how to turn them on."
                .into(),
            CheckpointStatus::On { last, last_error } => {
                let mut s = match last {
                    Some(l) => format!(
                        "Signed checkpoints are on: the newest signs the chain up to #{}{}.",
                        l.seq,
                        l.at.map(|t| format!(", {}", t.strftime("%Y-%m-%d %H:%M UTC")))
                            .unwrap_or_default()
                    ),
                    None => "Signed checkpoints are on; none has been written yet.".into(),
                };
                match last_error {
                    Some(e) if everything => {
                        s.push_str(&format!(" The last attempt to sign failed: {e}"))
                    }
                    Some(_) => s.push_str(" The last attempt to sign failed."),
                    None => {}
                }
                s
            }
        }
    }
}

/// The audit store could not be read.
pub fn read_error(e: keyway_store::StoreError) -> AppError {
    tracing::error!(error = %e, "audit log read failed");
    AppError::Unavailable("The audit log could not be read. Try again in a moment.".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap()
    }

    #[test]
    fn the_default_view_is_the_last_day_and_hides_finished_intents() {
        let c = check_query(&AuditQuery::default(), now()).unwrap();
        assert_eq!(c.filter.since, Some(now() - time::Duration::days(1)));
        assert_eq!(c.filter.until, None);
        assert!(c.filter.hide_finished_intents);
        assert!(c.range.starts_with("Last 24 hours"), "{}", c.range);
    }

    #[test]
    fn a_custom_range_reads_a_browser_time_as_utc_and_refuses_nonsense() {
        let q = AuditQuery {
            range: AuditRange::Custom,
            from: Some("2026-12-01T10:00".into()),
            to: Some("2026-12-02T00:00:00Z".into()),
            ..AuditQuery::default()
        };
        let c = check_query(&q, now()).unwrap();
        assert_eq!(
            c.filter.since.unwrap().unix_timestamp(),
            time::macros::datetime!(2026-12-01 10:00 UTC).unix_timestamp()
        );
        let backwards = AuditQuery {
            from: q.to.clone(),
            to: q.from.clone(),
            ..q.clone()
        };
        assert!(matches!(
            check_query(&backwards, now()),
            Err(AppError::Invalid(_))
        ));
        let bad = AuditQuery {
            from: Some("yesterday".into()),
            ..q
        };
        let Err(AppError::Invalid(why)) = check_query(&bad, now()) else {
            panic!("a time that does not parse is refused");
        };
        assert!(why.contains("2026-12-04T10:00"), "{why}");
    }

    #[test]
    fn unknown_actions_and_outcomes_and_oversized_text_are_refused_by_name() {
        for q in [
            AuditQuery {
                actions: vec!["secret.frobnicate".into()],
                ..AuditQuery::default()
            },
            AuditQuery {
                outcomes: vec!["maybe".into()],
                ..AuditQuery::default()
            },
            AuditQuery {
                key: Some("k".repeat(KEY_REF_MAX_CHARS + 1)),
                ..AuditQuery::default()
            },
            AuditQuery {
                actions: vec!["login".into(); CHOICES_MAX + 1],
                ..AuditQuery::default()
            },
        ] {
            assert!(
                matches!(check_query(&q, now()), Err(AppError::Invalid(_))),
                "{q:?}"
            );
        }
    }

    fn row(seq: i64, env: Option<&str>, mount: &str, path: &str, entity: &str) -> Row {
        Row {
            seq,
            id: format!("id-{seq}"),
            at: "2026-12-04T10:00:00.000Z".into(),
            actor_name: "someone".into(),
            actor_entity: entity.into(),
            action: "secret.save".into(),
            mount: mount.into(),
            path: path.into(),
            environment: env.map(String::from),
            ..Row::default()
        }
    }

    #[test]
    fn visibility_is_the_environment_grant_the_secret_read_or_ones_own_logins() {
        let mut vis = Visibility {
            everything: false,
            environments: ["staging".to_owned()].into(),
            entity: "me".into(),
            readable: HashMap::new(),
        };
        vis.readable
            .insert(("dev".into(), "webapp/config".into()), true);
        vis.readable.insert(("dev".into(), "other".into()), false);
        assert!(vis.sees(&row(1, Some("staging"), "staging", "x", "")));
        assert!(vis.sees(&row(2, Some("dev"), "dev", "webapp/config", "")));
        assert!(!vis.sees(&row(3, Some("dev"), "dev", "other", "")));
        assert!(!vis.sees(&row(4, Some("dev"), "dev", "never-asked", "")));
        assert!(vis.sees(&row(5, None, "", "", "me")), "one's own login");
        assert!(!vis.sees(&row(6, None, "", "", "them")), "another's login");
        assert!(
            !vis.sees(&row(7, Some("dev"), "", "", "them")),
            "dev's access change"
        );
        assert!(vis.needs_secret_check(&row(8, Some("dev"), "dev", "never-asked", "")));
        assert!(!vis.needs_secret_check(&row(9, Some("staging"), "staging", "y", "")));
        let reach = vis.reach(vec!["dev".into()]).unwrap();
        assert_eq!(reach.environments, ["staging"]);
        assert_eq!(reach.mounts, ["dev"]);
        assert_eq!(reach.own_entity.as_deref(), Some("me"));
        vis.everything = true;
        assert!(vis.reach(vec![]).is_none());
        assert!(vis.sees(&row(6, None, "", "", "them")));
    }
}
