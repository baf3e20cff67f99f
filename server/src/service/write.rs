//! Writing a new version of a secret: a save applies a draft, a rollback (in [`super::history`])
//! writes an old version's data; both go through [`Core::write_version`], check-and-set against
//! the version the user saw, with the conflict explained.

use std::collections::BTreeMap;

use keyway_app::dto::{Changes, ConflictInfo, KeyChanges, Saved, SecretRef};
use keyway_app::error::AppError;
use keyway_app::logic::{diff, keys, limits};
use keyway_policy::paths::{kv, KvApi};
use keyway_store::{Action, Filter, Outcome};
use keyway_vault::{Capability, KvData, VaultError, VersionMeta};

use super::{audit, check_secret, vault_error, Caller, Core};
use crate::metrics::Counted;

/// How many of a secret's newest audit rows of one action are searched for an earlier attempt
/// of the same save ([`Core::tried_before`]): retries follow within moments, so they are there.
const RECENT_ROWS: u32 = 50;

/// One version to write: what it replaces and why.
pub(super) struct NewVersion<'a> {
    pub action: Action,
    /// The version the user saw (check-and-set against it) and its data.
    pub base_version: u64,
    pub base: &'a BTreeMap<String, String>,
    pub data: BTreeMap<String, String>,
    /// The user's draft, to tell which keys both sides touched on a conflict.
    pub draft: Option<&'a Changes>,
    pub detail: Option<String>,
}

impl Core {
    /// Applies a draft onto `base_version` and writes it as one new version with check-and-set.
    pub async fn save(
        &self,
        caller: &Caller,
        s: &SecretRef,
        base_version: u64,
        changes: Changes,
    ) -> Result<Saved, AppError> {
        check_secret(s)?;
        let refs = changes
            .remove
            .iter()
            .chain(changes.rename.iter().map(|(from, _)| from));
        limits::check_key_count(
            changes.set.len() + changes.remove.len() + changes.rename.len(),
            "Your draft changes",
        )
        .and_then(|()| {
            limits::check_key_refs(refs.collect::<Vec<_>>().into_iter(), "Your draft names")
        })
        .map_err(AppError::Invalid)?;
        for key in changes
            .set
            .keys()
            .chain(changes.rename.iter().map(|(_, to)| to))
        {
            keys::check_key(key).map_err(AppError::Invalid)?;
        }
        // Keys whose stored value the save does not carry over. A renamed key's value moves as it
        // is (so it must be text, like any other carried value) unless `set` gives its new name
        // a new value; a `set` on the old name does not replace the value that moves.
        let renamed_from: Vec<&String> = changes.rename.iter().map(|(from, _)| from).collect();
        let replaced: Vec<String> = changes
            .set
            .keys()
            .filter(|k| !renamed_from.contains(k))
            .chain(changes.remove.iter())
            .chain(
                changes
                    .rename
                    .iter()
                    .filter(|(_, to)| changes.set.contains_key(to))
                    .map(|(from, _)| from),
            )
            .cloned()
            .collect();
        let base = self
            .read_for_write(caller, s, base_version, &replaced)
            .await?;
        let new = diff::apply(&base, &changes).map_err(AppError::Invalid)?;
        if let Err(errors) = keys::check_all(&new) {
            return Err(AppError::Invalid(errors.join(" ")));
        }
        if new == base && base_version > 0 {
            return Err(AppError::Invalid(
                "Your draft changes nothing, so there is nothing to save.".into(),
            ));
        }
        let version = NewVersion {
            action: Action::SecretSave,
            base_version,
            base: &base,
            data: new,
            draft: Some(&changes),
            detail: None,
        };
        self.write_version(caller, s, version).await
    }

    /// Writes `v.data` with CAS against `v.base_version`, audited (see [`Core::audited`]). On a
    /// CAS conflict, explains what changed meanwhile.
    pub(super) async fn write_version(
        &self,
        caller: &Caller,
        s: &SecretRef,
        v: NewVersion<'_>,
    ) -> Result<Saved, AppError> {
        self.may_write(caller, s, v.action, v.base_version).await?;
        let summary = diff::key_changes(v.base, &v.data);
        let mut event = caller
            .event(v.action, s)
            .versions(Some(v.base_version as i64), None)
            .keys(
                summary.added.clone(),
                summary.changed.clone(),
                summary.removed.clone(),
            );
        if let Some(d) = v.detail {
            event = event.detail(d);
        }
        let data = KvData::from(v.data);
        let base_version = v.base_version;
        let write = || async {
            match self
                .vault
                .kv_write(&caller.token, &s.mount, &s.path, &data, base_version)
                .await
            {
                Err(VaultError::CasMismatch) => {
                    self.landed_before(caller, s, &data, &summary, v.action, base_version)
                        .await
                }
                other => other,
            }
        };
        let result = self
            .audited_as(Counted::SecretWrite, event, write, |meta| {
                Some(meta.version as i64)
            })
            .await?;
        match result {
            Ok(meta) => Ok(Saved {
                version: meta.version,
                changes: summary,
            }),
            Err(VaultError::CasMismatch) => Err(self
                .conflict(caller, s, v.base_version, v.base, v.draft)
                .await),
            Err(e) => Err(vault_error(e, &format!("change {s}"))),
        }
    }

    /// A check-and-set mismatch may be this very save, landed by an earlier attempt whose answer
    /// was lost (a timeout, a leader killed mid-request: the user was told to try again). It is
    /// taken for that only when the audit log holds such an attempt of this caller, of the same
    /// key changes ([`Core::tried_before`]), and the current version is the one right after the base holding
    /// exactly this data: the save is done, once, and reported as saved instead of as a conflict
    /// with oneself. Anything else stays the mismatch it is (another user saving the same draft
    /// on the same base gets the conflict); a failed read is that failure (try again).
    async fn landed_before(
        &self,
        caller: &Caller,
        s: &SecretRef,
        data: &KvData,
        changes: &KeyChanges,
        action: Action,
        base_version: u64,
    ) -> Result<VersionMeta, VaultError> {
        if !self
            .tried_before(caller, s, changes, action, base_version)
            .await
        {
            return Err(VaultError::CasMismatch);
        }
        match self
            .vault
            .kv_read(&caller.token, &s.mount, &s.path, None)
            .await
        {
            Ok(Some(latest))
                if latest.meta.version == base_version + 1
                    && latest.data.as_ref() == Some(data) =>
            {
                Ok(latest.meta)
            }
            Ok(_) => Err(VaultError::CasMismatch),
            // Not known either way (an election again): the user tries again, and finds out then.
            Err(e) => Err(e),
        }
    }

    /// Whether the audit log holds an earlier request of this caller's entity doing `action` on
    /// `s` from `base_version`, with the same key changes (an attempt of another draft that was
    /// lost does not make this one's match its own), that may have landed unseen ([`audit::may_have_landed`]). A caller
    /// without an entity cannot be told from another, and an unreadable log proves nothing:
    /// both answer no (the conflict, which is safe).
    async fn tried_before(
        &self,
        caller: &Caller,
        s: &SecretRef,
        changes: &KeyChanges,
        action: Action,
        base_version: u64,
    ) -> bool {
        if caller.entity_id.is_empty() {
            return false;
        }
        let filter = Filter {
            mount: Some(s.mount.clone()),
            path: Some(s.path.clone()),
            actions: vec![action],
            limit: Some(RECENT_ROWS),
            ..Filter::default()
        };
        let rows = match self.audit.list(filter).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the audit log for an earlier attempt");
                return false;
            }
        };
        let base = i64::try_from(base_version).ok();
        rows.iter()
            .filter(|r| {
                r.outcome == Outcome::Pending
                    && r.actor_entity == caller.entity_id
                    && r.version_before == base
                    && r.keys_added == changes.added
                    && r.keys_changed == changes.changed
                    && r.keys_removed == changes.removed
                    && r.request_id.as_deref() != Some(caller.meta.request_id.as_str())
            })
            .any(|intent| {
                audit::may_have_landed(rows.iter().find(|r| r.intent_seq == Some(intent.seq)))
            })
    }

    /// Asks Vault whether the caller may write `s` at all, before an intent row is written: a
    /// user without the capability gets one (collapsed) refusal row, not an intent and an
    /// outcome per attempt. A new secret (`base_version` 0) needs `create` or `update`, a new
    /// version of an existing one `update` (what Vault itself asks of a write there). Whether
    /// this particular write lands is Vault's answer to it.
    async fn may_write(
        &self,
        caller: &Caller,
        s: &SecretRef,
        action: Action,
        base_version: u64,
    ) -> Result<(), AppError> {
        let data = kv(&s.mount, KvApi::Data, &s.path);
        let caps = self
            .capabilities(
                caller,
                std::slice::from_ref(&data),
                "check your permissions",
            )
            .await?;
        let enough: &[Capability] = if base_version == 0 {
            &[Capability::Create, Capability::Update]
        } else {
            &[Capability::Update]
        };
        if caps.has_any(&data, enough) {
            return Ok(());
        }
        self.refused(caller.event(action, s), "refused by Vault policy")
            .await?;
        Err(AppError::Denied(format!(
            "You may not change {s}: your Vault policies do not allow it."
        )))
    }

    /// Builds the conflict explanation: what changed between the user's base and the newest.
    async fn conflict(
        &self,
        caller: &Caller,
        s: &SecretRef,
        base_version: u64,
        base: &BTreeMap<String, String>,
        draft: Option<&Changes>,
    ) -> AppError {
        let latest = match self
            .vault
            .kv_read(&caller.token, &s.mount, &s.path, None)
            .await
        {
            Ok(Some(v)) => v,
            Ok(None) => return AppError::NotFound(format!("{s} no longer exists.")),
            Err(e) => return vault_error(e, "read the newer version"),
        };
        let current_version = latest.meta.version;
        let current = latest.data.map(KvData::into_inner).unwrap_or_default();
        let theirs = diff::key_changes(base, &current);
        let overlapping = draft
            .map(|d| diff::overlapping(d, &theirs))
            .unwrap_or_default();
        AppError::Conflict(Box::new(ConflictInfo {
            base_version,
            current_version,
            theirs,
            overlapping,
        }))
    }
}
