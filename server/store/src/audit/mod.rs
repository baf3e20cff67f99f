//! The audit log: append-only, hash-chained, and the gate for every mutating action.
//!
//! The protocol for a change to Vault:
//!
//! 1. `begin(event)` writes an intent row with outcome `pending`. Only if it returns `Ok` may the
//!    Vault call be made; an `Err` means the action is refused.
//! 2. Make the call.
//! 3. `finish(&intent, outcome, version_after, detail)` appends the outcome row, pointing back at
//!    the intent through `intent_seq` (`finish_linked` also records Vault's `request_id` of the
//!    call, so the row can be found in Vault's own audit device).
//!
//! If Keyway dies between 2 and 3, the intent stays visible in `pending_intents()`: the log never
//! claims less than may have happened. One-shot events (login, reveal, export) use `record()`.
//!
//! Every row carries `prev_hash` (the previous row's `hash`) and `hash` (see [`hash`] for the
//! exact serialisations, chosen by the row's `format`), so `verify_chain()` finds any row altered behind the code's back, and
//! `verify_against()` checks chain heads published outside the database ([`Checkpoint`]). The
//! database itself refuses UPDATE, DELETE (and on PostgreSQL TRUNCATE) on the table, and an insert
//! that would replace a row; in production on PostgreSQL Keyway serves as a role with only SELECT
//! and INSERT on it, so it cannot switch those triggers off (`deploy/postgres-grants.sql`).

mod action;
mod append;
#[cfg(feature = "bench")]
pub mod bulk;
mod event;
mod filter;
mod filter_sql;
pub mod hash;
mod keys;
mod outcome;
mod query;
mod row;
mod verify;

use std::collections::BTreeMap;

pub use action::Action;
pub use append::AUDIT_LOCK_KEY;
pub use event::{Intent, NewEvent, Recorded, DETAIL_MAX_CHARS};
pub use filter::{Filter, Reach, DEFAULT_LIMIT, FILTER_LIST_MAX, MAX_LIMIT};
pub use hash::GENESIS_PREV_HASH;
pub use outcome::Outcome;
pub use row::Row;
pub use verify::{ChainBreak, ChainReport, Checkpoint, Problem};

use event::{clip, clip_detail, clip_name, keys_json, NAME_MAX_CHARS, PATH_MAX_CHARS};
use hash::CURRENT_FORMAT;
use row::StoredRow;

use crate::{Db, StoreError};

/// The audit log over one database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AuditLog {
    db: Db,
    /// Rows appended through this log and its clones (`keyway_audit_appends_total`).
    appended: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl AuditLog {
    pub fn new(db: Db) -> Self {
        AuditLog {
            db,
            appended: Default::default(),
        }
    }

    /// How many rows this log (and its clones) appended since it was made.
    pub fn appended(&self) -> u64 {
        self.appended.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Appends one row, counted.
    async fn append(&self, row: StoredRow) -> Result<Recorded, sqlx::Error> {
        let recorded = append::append(&self.db, row).await?;
        self.appended
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(recorded)
    }

    /// Appends a one-shot event (login, reveal, export…) with `event.outcome`.
    #[tracing::instrument(skip_all, fields(action = %event.action))]
    pub async fn record(&self, event: NewEvent) -> Result<Recorded, StoreError> {
        if event.outcome == Outcome::Pending {
            return Err(StoreError::Invalid(
                "record() takes a finished event; use begin() for an intent",
            ));
        }
        let row = stored(
            &event,
            event.outcome,
            event.version_after,
            event.detail.as_deref(),
            None,
            event.vault_request_id.as_deref(),
        );
        self.append(row).await.map_err(StoreError::AuditWrite)
    }

    /// Appends an intent row (outcome `pending`). The mutating call may be made only after this
    /// returned `Ok`.
    #[tracing::instrument(skip_all, fields(action = %event.action))]
    pub async fn begin(&self, event: NewEvent) -> Result<Intent, StoreError> {
        if event.vault_request_id.is_some() {
            return Err(StoreError::Invalid(
                "an intent comes before the Vault call, so it has no Vault request id; \
                 give it to finish_linked()",
            ));
        }
        let row = stored(
            &event,
            Outcome::Pending,
            event.version_after,
            event.detail.as_deref(),
            None,
            None,
        );
        let recorded = self.append(row).await.map_err(StoreError::AuditWrite)?;
        Ok(Intent {
            recorded,
            event: NewEvent {
                outcome: Outcome::Pending,
                ..event
            },
        })
    }

    /// Appends the outcome of an intent: same actor, action, secret, environment, app, keys and
    /// request, with `intent_seq` pointing at the intent. [`finish_linked`](Self::finish_linked)
    /// with no Vault request id.
    pub async fn finish(
        &self,
        intent: &Intent,
        outcome: Outcome,
        version_after: Option<i64>,
        detail: Option<&str>,
    ) -> Result<Recorded, StoreError> {
        self.finish_linked(intent, outcome, version_after, detail, None)
            .await
    }

    /// [`finish`](Self::finish), and the outcome row records `vault_request_id`: Vault's
    /// `request_id` of the call made, which finds that call in Vault's own audit device.
    #[tracing::instrument(skip_all, fields(action = %intent.event.action, intent_seq = intent.seq()))]
    pub async fn finish_linked(
        &self,
        intent: &Intent,
        outcome: Outcome,
        version_after: Option<i64>,
        detail: Option<&str>,
        vault_request_id: Option<&str>,
    ) -> Result<Recorded, StoreError> {
        if outcome == Outcome::Pending {
            return Err(StoreError::Invalid("an outcome cannot be pending"));
        }
        let row = stored(
            &intent.event,
            outcome,
            version_after,
            detail,
            Some(intent.seq()),
            vault_request_id,
        );
        self.append(row).await.map_err(StoreError::AuditOutcome)
    }

    /// Intents that have no outcome row (Keyway stopped, or `finish` failed, in between), oldest
    /// first.
    pub async fn pending_intents(&self) -> Result<Vec<Row>, StoreError> {
        query::pending_intents(&self.db).await
    }

    /// Rows matching `filter`, newest first. A filter out of bounds (a list or a name longer
    /// than any stored one, an empty name in a [`Reach`]) is refused with
    /// [`StoreError::Invalid`].
    pub async fn list(&self, filter: Filter) -> Result<Vec<Row>, StoreError> {
        query::list(&self.db, filter).await
    }

    /// For one secret: kv-v2 version → (who made it, when), from the `ok` outcomes of the actions
    /// that create versions (save, rollback, import).
    pub async fn version_authors(
        &self,
        mount: &str,
        path: &str,
    ) -> Result<BTreeMap<i64, (String, String)>, StoreError> {
        query::version_authors(&self.db, mount, path).await
    }

    /// The newest row's seq, id and hash; publish it elsewhere (logs, metrics) as an anchor, since
    /// a chain alone cannot show that rows were cut off its end.
    pub async fn head(&self) -> Result<Option<Recorded>, StoreError> {
        query::head(&self.db).await
    }

    /// Recomputes every hash and link, oldest first.
    pub async fn verify_chain(&self) -> Result<ChainReport, StoreError> {
        verify::verify(&self.db, &[]).await
    }

    /// [`verify_chain`](Self::verify_chain), and each of `heads` (published earlier, held
    /// outside the database) must still name a row with its hash: this is what shows rows cut
    /// off the end, or a log rewritten with recomputed hashes.
    pub async fn verify_against(&self, heads: &[Checkpoint]) -> Result<ChainReport, StoreError> {
        verify::verify(&self.db, heads).await
    }
}

/// The row to append for `event`, in the current format, every field bounded; `seq`, `at`,
/// `prev_hash` and `hash` are filled in by the append.
fn stored(
    event: &NewEvent,
    outcome: Outcome,
    version_after: Option<i64>,
    detail: Option<&str>,
    intent_seq: Option<i64>,
    vault_request_id: Option<&str>,
) -> StoredRow {
    StoredRow {
        seq: 0,
        id: uuid::Uuid::new_v4().to_string(),
        at: String::new(),
        actor_name: clip(&event.actor_name, NAME_MAX_CHARS),
        actor_entity: clip(&event.actor_entity, NAME_MAX_CHARS),
        action: event.action.as_str().to_owned(),
        mount: clip(&event.mount, NAME_MAX_CHARS),
        path: clip(&event.path, PATH_MAX_CHARS),
        version_before: event.version_before,
        version_after,
        keys_added: keys_json(&event.keys_added),
        keys_changed: keys_json(&event.keys_changed),
        keys_removed: keys_json(&event.keys_removed),
        outcome: outcome.as_str().to_owned(),
        detail: clip_detail(detail),
        intent_seq,
        request_id: event.request_id.as_deref().map(|r| clip(r, NAME_MAX_CHARS)),
        client_addr: event
            .client_addr
            .as_deref()
            .map(|a| clip(a, NAME_MAX_CHARS)),
        prev_hash: String::new(),
        hash: String::new(),
        environment: clip_name(event.environment.as_deref()),
        app: clip_name(event.app.as_deref()),
        vault_request_id: clip_name(vault_request_id),
        format: CURRENT_FORMAT,
    }
}
