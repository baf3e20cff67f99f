//! Version history: list with authors from the audit log, masked diffs, rollback, undelete,
//! delete of the latest version.

use keyway_app::dto::{KeyDiff, Saved, VersionRow};
use keyway_app::error::AppError;
use keyway_app::logic::diff;
use keyway_store::{action, Outcome};

use super::{audit_error, check_target, vault_error, Caller, Core};

impl Core {
    pub async fn versions(
        &self,
        caller: &Caller,
        env: &str,
        app: &str,
    ) -> Result<Vec<VersionRow>, AppError> {
        check_target(env, app)?;
        let meta = self
            .vault
            .kv_metadata(&caller.token, env, app)
            .await
            .map_err(|e| vault_error(e, "see this secret's history"))?;
        let Some(meta) = meta else {
            return Ok(Vec::new());
        };
        let authors = self.audit.version_authors(env, app).await.map_err(|e| {
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
        env: &str,
        app: &str,
        from: u64,
        to: u64,
    ) -> Result<Vec<KeyDiff>, AppError> {
        check_target(env, app)?;
        let old = self.read_data(caller, env, app, from).await?;
        let new = self.read_data(caller, env, app, to).await?;
        Ok(diff::key_diff(&old, &new))
    }

    /// Writes an old version's data as a new version, with CAS against what the user saw.
    pub async fn rollback(
        &self,
        caller: &Caller,
        env: &str,
        app: &str,
        to_version: u64,
        base_version: u64,
    ) -> Result<Saved, AppError> {
        check_target(env, app)?;
        if to_version == 0 {
            return Err(AppError::Invalid("Pick a version to roll back to.".into()));
        }
        let target = self
            .read_for_write(caller, env, app, to_version, &[])
            .await?;
        // A version written outside Keyway may break the rules a save enforces.
        if let Err(errors) = keyway_app::logic::keys::check_all(&target) {
            return Err(AppError::Invalid(format!(
                "Version {to_version} cannot be restored as it is: {}",
                errors.join(" ")
            )));
        }
        let base = match self.read_data(caller, env, app, base_version).await {
            Ok(b) => b,
            // Rolling back over a deleted latest version is the usual way out of it.
            Err(AppError::Invalid(_)) => Default::default(),
            Err(e) => return Err(e),
        };
        self.write_version(
            caller,
            env,
            app,
            action::SECRET_ROLLBACK,
            base_version,
            &base,
            target,
            None,
            Some(format!("rollback to version {to_version}")),
        )
        .await
    }

    pub async fn undelete(
        &self,
        caller: &Caller,
        env: &str,
        app: &str,
        version: u64,
    ) -> Result<(), AppError> {
        check_target(env, app)?;
        let v = Some(version as i64);
        let event = caller
            .event(action::SECRET_UNDELETE, env, app)
            .versions(v, v);
        let intent = self.audit.begin(event).await.map_err(audit_error)?;
        let result = self
            .vault
            .kv_undelete(&caller.token, env, app, &[version])
            .await;
        self.finish(&intent, &result, v).await;
        result.map_err(|e| vault_error(e, &format!("undelete {env}/{app}")))
    }

    /// Soft-deletes exactly the version the user saw as latest (not whatever is latest by now).
    pub async fn delete_latest(
        &self,
        caller: &Caller,
        env: &str,
        app: &str,
        version: u64,
    ) -> Result<(), AppError> {
        check_target(env, app)?;
        let meta = self
            .vault
            .kv_metadata(&caller.token, env, app)
            .await
            .map_err(|e| vault_error(e, "see this secret's history"))?
            .ok_or_else(|| AppError::NotFound(format!("{env}/{app} does not exist.")))?;
        if meta.current_version != version {
            return Err(AppError::Invalid(format!(
                "Version {version} is no longer the latest (version {} is). Reload and check before deleting.",
                meta.current_version
            )));
        }
        let v = Some(version as i64);
        let event = caller
            .event(action::SECRET_DELETE, env, app)
            .versions(v, None);
        let intent = self.audit.begin(event).await.map_err(audit_error)?;
        let result = self
            .vault
            .kv_delete_versions(&caller.token, env, app, &[version])
            .await;
        self.finish(&intent, &result, None).await;
        result.map_err(|e| vault_error(e, &format!("delete versions of {env}/{app}")))
    }

    async fn finish<T>(
        &self,
        intent: &keyway_store::Intent,
        result: &Result<T, keyway_vault::VaultError>,
        after: Option<i64>,
    ) {
        let outcome = match result {
            Ok(_) => Outcome::Ok,
            Err(keyway_vault::VaultError::PermissionDenied) => Outcome::Denied,
            Err(_) => Outcome::Error,
        };
        if let Err(e) = self
            .audit
            .finish(
                intent,
                outcome,
                if result.is_ok() { after } else { None },
                None,
            )
            .await
        {
            tracing::error!(error = %e, intent = intent.seq(), "could not record an outcome");
        }
    }
}
