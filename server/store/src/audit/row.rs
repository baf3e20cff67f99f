//! A row as stored (`StoredRow`, exactly the bytes that were hashed) and as handed out (`Row`,
//! with key lists and outcome parsed).

use serde::Serialize;

use super::outcome::Outcome;
use crate::StoreError;

/// Every column, in table order; all queries select this list so one `FromRow` fits them all.
pub(crate) const COLUMNS: &str = "seq, id, at, actor_name, actor_entity, action, mount, path, \
     version_before, version_after, keys_added, keys_changed, keys_removed, outcome, detail, \
     intent_seq, request_id, client_addr, prev_hash, hash, environment, app, vault_request_id, \
     format";

/// A row exactly as stored. The hash is computed over these fields, so verification never
/// re-serialises anything.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub(crate) struct StoredRow {
    pub seq: i64,
    pub id: String,
    pub at: String,
    pub actor_name: String,
    pub actor_entity: String,
    pub action: String,
    pub mount: String,
    pub path: String,
    pub version_before: Option<i64>,
    pub version_after: Option<i64>,
    pub keys_added: String,
    pub keys_changed: String,
    pub keys_removed: String,
    pub outcome: String,
    pub detail: Option<String>,
    pub intent_seq: Option<i64>,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
    pub prev_hash: String,
    pub hash: String,
    pub environment: Option<String>,
    pub app: Option<String>,
    pub vault_request_id: Option<String>,
    /// Which canonical serialisation `hash` covers ([`super::hash`]).
    pub format: i32,
}

/// One audit log row. `prev_hash` and `hash` are included so an export can be verified elsewhere.
/// (`Default` is an empty row, for tests that build one.)
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Row {
    pub seq: i64,
    pub id: String,
    /// UTC, RFC 3339 with milliseconds: `2025-01-31T12:00:00.123Z` (the exact hashed text).
    pub at: String,
    pub actor_name: String,
    pub actor_entity: String,
    /// The stored spelling of an [`Action`](super::Action) (text, so a row written by a newer
    /// Keyway still reads; [`Row::action`] parses it).
    pub action: String,
    pub mount: String,
    pub path: String,
    pub version_before: Option<i64>,
    pub version_after: Option<i64>,
    pub keys_added: Vec<String>,
    pub keys_changed: Vec<String>,
    pub keys_removed: Vec<String>,
    pub outcome: Outcome,
    pub detail: Option<String>,
    /// On an outcome row: the `seq` of the intent it completes.
    pub intent_seq: Option<i64>,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
    pub prev_hash: String,
    pub hash: String,
    /// The Kubernetes namespace the row concerns (`None` on rows older than the audit page, and
    /// on rows about no environment: logins, logouts).
    pub environment: Option<String>,
    /// The app (a VaultStaticSecret name in `environment`) the row concerns.
    pub app: Option<String>,
    /// On an outcome row: Vault's `request_id` of the call it records, to find the call in
    /// Vault's own audit device.
    pub vault_request_id: Option<String>,
    /// The canonical serialisation its hash covers: 1 (rows written before the audit page) or 2.
    pub format: i32,
}

impl Row {
    /// The row's action, if this Keyway knows it.
    pub fn action(&self) -> Option<super::Action> {
        self.action.parse().ok()
    }
}

impl TryFrom<StoredRow> for Row {
    type Error = StoreError;

    fn try_from(r: StoredRow) -> Result<Row, StoreError> {
        let seq = r.seq;
        let keys = |json: &str| {
            serde_json::from_str::<Vec<String>>(json).map_err(|_| StoreError::Corrupt {
                seq,
                reason: "a key list is not a JSON array of names",
            })
        };
        Ok(Row {
            keys_added: keys(&r.keys_added)?,
            keys_changed: keys(&r.keys_changed)?,
            keys_removed: keys(&r.keys_removed)?,
            outcome: r.outcome.parse().map_err(|()| StoreError::Corrupt {
                seq,
                reason: "the outcome is not one Keyway knows",
            })?,
            seq,
            id: r.id,
            at: r.at,
            actor_name: r.actor_name,
            actor_entity: r.actor_entity,
            action: r.action,
            mount: r.mount,
            path: r.path,
            version_before: r.version_before,
            version_after: r.version_after,
            detail: r.detail,
            intent_seq: r.intent_seq,
            request_id: r.request_id,
            client_addr: r.client_addr,
            prev_hash: r.prev_hash,
            hash: r.hash,
            environment: r.environment,
            app: r.app,
            vault_request_id: r.vault_request_id,
            format: r.format,
        })
    }
}
