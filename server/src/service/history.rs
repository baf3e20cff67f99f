//! Version history: list with authors from the audit log, masked diffs, rollback, undelete,
//! delete of the latest version. The timeline (each version's way into the cluster) is the
//! cluster side's (`cluster/timeline.rs`); its endpoint is this area's.

use async_trait::async_trait;
use keyway_app::backend::VersionsApi;
use keyway_app::dto::{KeyDiff, Saved, SecretRef, SecretTimeline, VersionRow};
use keyway_app::error::AppError;
use keyway_app::logic::diff;
use keyway_policy::paths::{kv, KvApi};
use keyway_store::Action;

use super::write::NewVersion;
use super::{check_secret, vault_error, Caller, Core, RequestBackend};

#[async_trait]
impl VersionsApi for RequestBackend {
    async fn versions(&self, s: &SecretRef) -> Result<Vec<VersionRow>, AppError> {
        self.with_caller(|c| async move { self.core.versions(&c, s).await })
            .await
    }

    async fn diff(&self, s: &SecretRef, from: u64, to: u64) -> Result<Vec<KeyDiff>, AppError> {
        self.with_caller(|c| async move { self.core.diff(&c, s, from, to).await })
            .await
    }

    async fn rollback(&self, s: &SecretRef, to: u64, base: u64) -> Result<Saved, AppError> {
        self.with_caller(|c| async move { self.core.rollback(&c, s, to, base).await })
            .await
    }

    async fn undelete(&self, s: &SecretRef, version: u64) -> Result<(), AppError> {
        self.with_caller(|c| async move { self.core.undelete(&c, s, version).await })
            .await
    }

    async fn delete_latest(&self, s: &SecretRef, version: u64) -> Result<(), AppError> {
        self.with_caller(|c| async move { self.core.delete_latest(&c, s, version).await })
            .await
    }

    async fn timeline(&self, s: &SecretRef) -> Result<SecretTimeline, AppError> {
        self.with_caller(|c| async move { self.core.timeline(&c, s).await })
            .await
    }
}

impl Core {
    pub async fn versions(
        &self,
        caller: &Caller,
        s: &SecretRef,
    ) -> Result<Vec<VersionRow>, AppError> {
        check_secret(s)?;
        let meta = self
            .vault
            .kv_metadata(&caller.token, &s.mount, &s.path)
            .await
            .map_err(|e| vault_error(e, "see this secret's history"))?;
        let Some(meta) = meta else {
            return Ok(Vec::new());
        };
        let authors = self
            .audit
            .version_authors(&s.mount, &s.path)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "audit read failed");
                AppError::Unavailable("The audit log cannot be read right now.".into())
            })?;
        let mut last_readable = 0;
        let mut rows: Vec<VersionRow> = meta
            .versions
            .iter()
            .map(|(v, info)| {
                let row = VersionRow {
                    version: *v,
                    created_time: info.created_time.clone(),
                    deleted: info.deletion_time.is_some(),
                    destroyed: info.destroyed,
                    author: authors.get(&(*v as i64)).map(|(who, _)| who.clone()),
                    current: *v == meta.current_version,
                    compare_with: last_readable,
                };
                if !row.deleted && !row.destroyed {
                    last_readable = *v;
                }
                row
            })
            .collect();
        rows.reverse();
        Ok(rows)
    }

    pub async fn diff(
        &self,
        caller: &Caller,
        s: &SecretRef,
        from: u64,
        to: u64,
    ) -> Result<Vec<KeyDiff>, AppError> {
        check_secret(s)?;
        let old = self.read_data(caller, s, from).await?;
        let new = self.read_data(caller, s, to).await?;
        Ok(diff::key_diff(&old, &new))
    }

    /// Writes an old version's data as a new version, with CAS against what the user saw.
    pub async fn rollback(
        &self,
        caller: &Caller,
        s: &SecretRef,
        to_version: u64,
        base_version: u64,
    ) -> Result<Saved, AppError> {
        check_secret(s)?;
        if to_version == 0 {
            return Err(AppError::Invalid("Pick a version to roll back to.".into()));
        }
        let target = self.read_for_write(caller, s, to_version, &[]).await?;
        // A version written outside Keyway may break the rules a save enforces.
        if let Err(errors) = keyway_app::logic::keys::check_all(&target) {
            return Err(AppError::Invalid(format!(
                "Version {to_version} cannot be restored as it is: {}",
                errors.join(" ")
            )));
        }
        let base = match self.read_data(caller, s, base_version).await {
            Ok(b) => b,
            // Rolling back over a deleted latest version is the usual way out of it.
            Err(AppError::Invalid(_)) => Default::default(),
            Err(e) => return Err(e),
        };
        let version = NewVersion {
            action: Action::SecretRollback,
            base_version,
            base: &base,
            data: target,
            draft: None,
            detail: Some(format!("rollback to version {to_version}")),
        };
        self.write_version(caller, s, version).await
    }

    pub async fn undelete(
        &self,
        caller: &Caller,
        s: &SecretRef,
        version: u64,
    ) -> Result<(), AppError> {
        check_secret(s)?;
        if version == 0 {
            return Err(AppError::Invalid("Name the version to undelete.".into()));
        }
        let v = Some(version as i64);
        let event = caller.event(Action::SecretUndelete, s).versions(v, v);
        self.may_update(
            caller,
            s,
            KvApi::Undelete,
            event.clone(),
            "undelete versions of",
        )
        .await?;
        let versions = [version];
        let call = || {
            self.vault
                .kv_undelete(&caller.token, &s.mount, &s.path, &versions)
        };
        self.audited(event, call, |_| v)
            .await?
            .map_err(|e| vault_error(e, &format!("undelete {s}")))
    }

    /// Vault first: `update` on `<mount>/<op>/<path>` (kv-v2's undelete and delete endpoints),
    /// before an intent row is written. A user who may not gets one (collapsed) refusal row as
    /// `event`, and a sentence saying they may not `doing` the secret.
    async fn may_update(
        &self,
        caller: &Caller,
        s: &SecretRef,
        op: KvApi,
        event: keyway_store::NewEvent,
        doing: &str,
    ) -> Result<(), AppError> {
        let api = kv(&s.mount, op, &s.path);
        let caps = self
            .capabilities(caller, std::slice::from_ref(&api), "check your permissions")
            .await?;
        if caps.has(&api, keyway_vault::Capability::Update) {
            return Ok(());
        }
        self.refused(event, "refused by Vault policy").await?;
        Err(AppError::Denied(format!(
            "You may not {doing} {s}: your Vault policies do not allow it."
        )))
    }

    /// Soft-deletes exactly the version the user saw as latest (not whatever is latest by now).
    pub async fn delete_latest(
        &self,
        caller: &Caller,
        s: &SecretRef,
        version: u64,
    ) -> Result<(), AppError> {
        check_secret(s)?;
        let meta = self
            .vault
            .kv_metadata(&caller.token, &s.mount, &s.path)
            .await
            .map_err(|e| vault_error(e, "see this secret's history"))?
            .ok_or_else(|| AppError::NotFound(format!("{s} does not exist.")))?;
        if meta.current_version != version {
            return Err(AppError::Invalid(format!(
                "Version {version} is no longer the latest (version {} is). Reload and check before deleting.",
                meta.current_version
            )));
        }
        let event = caller
            .event(Action::SecretDelete, s)
            .versions(Some(version as i64), None);
        self.may_update(
            caller,
            s,
            KvApi::Delete,
            event.clone(),
            "delete versions of",
        )
        .await?;
        let versions = [version];
        let call = || {
            self.vault
                .kv_delete_versions(&caller.token, &s.mount, &s.path, &versions)
        };
        self.audited(event, call, |_| None)
            .await?
            .map_err(|e| vault_error(e, &format!("delete versions of {s}")))
    }
}
