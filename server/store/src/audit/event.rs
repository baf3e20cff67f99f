//! What callers hand to the audit log, and what they get back.
//!
//! `NewEvent` has no field for a secret value, so no value can reach a row: that is the whole of
//! "values never appear in the audit log" on the writing side.

use std::collections::BTreeSet;

use serde::Serialize;

use super::action::Action;
use super::outcome::Outcome;
use super::row::Row;

/// One event to append. Build with [`NewEvent::new`] and the chained setters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEvent {
    /// Vault display name of the person acting (what they typed, for `login_failed`).
    pub actor_name: String,
    /// Vault entity id; empty when unknown.
    pub actor_entity: String,
    pub action: Action,
    /// kv-v2 mount; empty for actions not about a secret (login, logout).
    pub mount: String,
    /// Secret path inside the mount; empty with `mount`.
    pub path: String,
    pub version_before: Option<i64>,
    pub version_after: Option<i64>,
    /// Key NAMES only. Stored sorted and without duplicates.
    pub keys_added: Vec<String>,
    pub keys_changed: Vec<String>,
    pub keys_removed: Vec<String>,
    /// Used by `record()`; `begin()` always writes `pending`, `finish()` takes its own.
    pub outcome: Outcome,
    /// Short plain text (why it was denied, which conflict); never a value. Cut at 500 chars.
    pub detail: Option<String>,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
    /// The Kubernetes namespace the event concerns; `None` for none (a login). An outcome row
    /// copies its intent's.
    pub environment: Option<String>,
    /// The app (a VaultStaticSecret name in `environment`) the event concerns.
    pub app: Option<String>,
    /// Vault's `request_id` of the call a one-shot event records (used by `record()`; `begin()`
    /// refuses one, as an intent comes before the call, and an outcome row takes its own in
    /// `finish_linked()`).
    pub vault_request_id: Option<String>,
}

/// Longest `detail` kept, in characters; the rest is cut so a stray error body cannot bloat a row.
pub const DETAIL_MAX_CHARS: usize = 500;

impl NewEvent {
    pub fn new(actor_name: impl Into<String>, action: Action) -> Self {
        NewEvent {
            actor_name: actor_name.into(),
            actor_entity: String::new(),
            action,
            mount: String::new(),
            path: String::new(),
            version_before: None,
            version_after: None,
            keys_added: Vec::new(),
            keys_changed: Vec::new(),
            keys_removed: Vec::new(),
            outcome: Outcome::default(),
            detail: None,
            request_id: None,
            client_addr: None,
            environment: None,
            app: None,
            vault_request_id: None,
        }
    }

    pub fn entity(mut self, entity_id: impl Into<String>) -> Self {
        self.actor_entity = entity_id.into();
        self
    }

    /// The secret this event is about.
    pub fn secret(mut self, mount: impl Into<String>, path: impl Into<String>) -> Self {
        self.mount = mount.into();
        self.path = path.into();
        self
    }

    pub fn versions(mut self, before: Option<i64>, after: Option<i64>) -> Self {
        self.version_before = before;
        self.version_after = after;
        self
    }

    /// The key names added, changed and removed.
    pub fn keys<A, C, R>(mut self, added: A, changed: C, removed: R) -> Self
    where
        A: IntoIterator,
        A::Item: Into<String>,
        C: IntoIterator,
        C::Item: Into<String>,
        R: IntoIterator,
        R::Item: Into<String>,
    {
        self.keys_added = added.into_iter().map(Into::into).collect();
        self.keys_changed = changed.into_iter().map(Into::into).collect();
        self.keys_removed = removed.into_iter().map(Into::into).collect();
        self
    }

    pub fn outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = outcome;
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// The HTTP request this event came from.
    pub fn request(
        mut self,
        request_id: impl Into<String>,
        client_addr: impl Into<String>,
    ) -> Self {
        self.request_id = Some(request_id.into());
        self.client_addr = Some(client_addr.into());
        self
    }

    /// The Kubernetes namespace (environment) this event concerns. An empty name means none.
    pub fn environment(mut self, environment: impl Into<String>) -> Self {
        self.environment = Some(environment.into());
        self
    }

    /// The app (a VaultStaticSecret name in the environment) this event concerns. An empty name
    /// means none.
    pub fn app(mut self, app: impl Into<String>) -> Self {
        self.app = Some(app.into());
        self
    }

    /// Vault's `request_id` of the call this one-shot event records (`record()` only).
    pub fn vault_request(mut self, vault_request_id: impl Into<String>) -> Self {
        self.vault_request_id = Some(vault_request_id.into());
        self
    }
}

/// Longest name-like column kept (actor, entity, mount, request id, address), in characters.
/// Callers bound their input well below these (`keyway_app::logic::limits`); the cut is the
/// store's own backstop, so no caller can make a row large and the append-only table cannot
/// be filled by a few requests.
pub(crate) const NAME_MAX_CHARS: usize = 256;
/// Longest secret path kept, in characters.
pub(crate) const PATH_MAX_CHARS: usize = 1024;
/// Most key names kept per list, and the longest name kept.
pub(crate) const KEYS_MAX: usize = 1000;
pub(crate) const KEY_MAX_CHARS: usize = 1024;

/// `s` cut at `max` characters.
pub(crate) fn clip(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// An optional name as stored: cut at [`NAME_MAX_CHARS`], and an empty one is no name at all
/// (so "no environment" is always NULL, never also '').
pub(crate) fn clip_name(s: Option<&str>) -> Option<String> {
    s.filter(|s| !s.is_empty()).map(|s| clip(s, NAME_MAX_CHARS))
}

/// Key names as stored: a JSON array, sorted, without duplicates (so the hashed bytes do not depend
/// on the order a caller happened to list them in), cut at [`KEYS_MAX`] names of at most
/// [`KEY_MAX_CHARS`] characters.
pub(crate) fn keys_json(keys: &[String]) -> String {
    let set: BTreeSet<String> = keys.iter().map(|k| clip(k, KEY_MAX_CHARS)).collect();
    let kept: Vec<&String> = set.iter().take(KEYS_MAX).collect();
    serde_json::to_string(&kept).expect("a list of strings always serialises")
}

/// `detail` as stored: cut at [`DETAIL_MAX_CHARS`] characters.
pub(crate) fn clip_detail(detail: Option<&str>) -> Option<String> {
    detail.map(|d| d.chars().take(DETAIL_MAX_CHARS).collect())
}

/// What an append returns: enough to cite the row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Recorded {
    pub seq: i64,
    pub id: String,
    pub hash: String,
}

/// A written intent row. The mutating call may be made only once you hold one; hand it to
/// `finish()` afterwards, whatever happened.
#[derive(Clone, Debug)]
pub struct Intent {
    pub(crate) recorded: Recorded,
    pub(crate) event: NewEvent,
}

impl Intent {
    /// The intent row's sequence number (what the outcome row's `intent_seq` will be).
    pub fn seq(&self) -> i64 {
        self.recorded.seq
    }

    /// The intent row's id and hash.
    pub fn recorded(&self) -> &Recorded {
        &self.recorded
    }

    /// Rebuilds an intent from a row listed by `pending_intents()`, so a reconciler can record
    /// what became of it (for example `Outcome::Error`, "Keyway stopped before the outcome was
    /// known"). Returns `None` for a row that is not an intent, or whose action this Keyway
    /// does not know.
    pub fn from_pending(row: &Row) -> Option<Intent> {
        if row.outcome != Outcome::Pending || row.intent_seq.is_some() {
            return None;
        }
        let action = row.action.parse().ok()?;
        Some(Intent {
            recorded: Recorded {
                seq: row.seq,
                id: row.id.clone(),
                hash: row.hash.clone(),
            },
            event: NewEvent {
                actor_name: row.actor_name.clone(),
                actor_entity: row.actor_entity.clone(),
                action,
                mount: row.mount.clone(),
                path: row.path.clone(),
                version_before: row.version_before,
                version_after: row.version_after,
                keys_added: row.keys_added.clone(),
                keys_changed: row.keys_changed.clone(),
                keys_removed: row.keys_removed.clone(),
                outcome: Outcome::Pending,
                detail: row.detail.clone(),
                request_id: row.request_id.clone(),
                client_addr: row.client_addr.clone(),
                environment: row.environment.clone(),
                app: row.app.clone(),
                vault_request_id: row.vault_request_id.clone(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names_are_stored_sorted_and_once() {
        let keys = ["b", "a", "b"].map(String::from);
        assert_eq!(keys_json(&keys), r#"["a","b"]"#);
        assert_eq!(keys_json(&[]), "[]");
    }

    #[test]
    fn every_text_column_is_bounded_whatever_the_caller_hands_in() {
        let huge = "é".repeat(2 << 20);
        let keys: Vec<String> = (0..5000).map(|i| format!("{i:05}{huge:.2000}")).collect();
        let json = keys_json(&keys);
        let kept: Vec<String> = serde_json::from_str(&json).unwrap();
        assert_eq!(kept.len(), KEYS_MAX);
        assert!(kept.iter().all(|k| k.chars().count() == KEY_MAX_CHARS));
        assert_eq!(clip(&huge, NAME_MAX_CHARS).chars().count(), NAME_MAX_CHARS);
    }

    #[test]
    fn an_empty_name_is_no_name_and_a_long_one_is_cut() {
        assert_eq!(clip_name(None), None);
        assert_eq!(clip_name(Some("")), None);
        assert_eq!(clip_name(Some("dev")).as_deref(), Some("dev"));
        let long = "é".repeat(NAME_MAX_CHARS + 1);
        let kept = clip_name(Some(&long)).unwrap();
        assert_eq!(kept.chars().count(), NAME_MAX_CHARS);
    }

    #[test]
    fn a_long_detail_is_cut_on_a_character_boundary() {
        let long = "é".repeat(DETAIL_MAX_CHARS + 10);
        let clipped = clip_detail(Some(&long)).unwrap();
        assert_eq!(clipped.chars().count(), DETAIL_MAX_CHARS);
    }
}
