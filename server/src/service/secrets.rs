//! Environments, apps, and one secret: view (masked), reveal, save with check-and-set, export.

use std::collections::BTreeMap;

use keyway_app::dto::{
    AppSummary, Caps, Changes, ConflictInfo, Environment, RevealPurpose, Revealed, Saved,
    SecretView,
};
use keyway_app::error::AppError;
use keyway_app::logic::{diff, dotenv, keys};
use keyway_store::{action, Outcome};
use keyway_vault::{KvData, VaultError};

use super::{audit_error, check_target, vault_error, Caller, Core};

/// How deep Keyway looks for apps under an environment, and how many it lists at most.
const MAX_DEPTH: usize = 4;
const MAX_APPS: usize = 500;

impl Core {
    pub async fn environments(&self, caller: &Caller) -> Result<Vec<Environment>, AppError> {
        let mounts = self
            .vault
            .kv2_mounts(&caller.token)
            .await
            .map_err(|e| vault_error(e, "list environments"))?;
        let mut out = Vec::new();
        for mount in mounts {
            let (apps, note) = match self.list_apps(caller, &mount.path).await {
                Ok(apps) => (apps, None),
                Err(VaultError::PermissionDenied) => (
                    Vec::new(),
                    Some("Your Vault policies do not let you list the apps here.".to_string()),
                ),
                Err(e) => return Err(vault_error(e, "list apps")),
            };
            let apps = self.visible_apps(caller, &mount.path, apps).await?;
            out.push(Environment {
                name: mount.path,
                description: mount.description,
                apps,
                note,
            });
        }
        Ok(out)
    }

    /// Every secret path under a mount, breadth first, bounded.
    async fn list_apps(&self, caller: &Caller, mount: &str) -> Result<Vec<String>, VaultError> {
        let mut apps = Vec::new();
        let mut folders = vec![(String::new(), 0usize)];
        while let Some((folder, depth)) = folders.pop() {
            let names = match self.vault.kv_list(&caller.token, mount, &folder).await {
                Ok(n) => n,
                // A sub-folder we may not list is skipped; the top level decides the note.
                Err(VaultError::PermissionDenied) if !folder.is_empty() => continue,
                Err(e) => return Err(e),
            };
            for name in names {
                if let Some(sub) = name.strip_suffix('/') {
                    if depth + 1 < MAX_DEPTH {
                        folders.push((format!("{folder}{sub}/"), depth + 1));
                    }
                } else {
                    apps.push(format!("{folder}{name}"));
                }
                if apps.len() >= MAX_APPS {
                    break;
                }
            }
        }
        apps.sort();
        Ok(apps)
    }

    /// Keeps the apps the user may read or write, asking Vault in one call.
    async fn visible_apps(
        &self,
        caller: &Caller,
        mount: &str,
        apps: Vec<String>,
    ) -> Result<Vec<AppSummary>, AppError> {
        if apps.is_empty() {
            return Ok(Vec::new());
        }
        let paths: Vec<String> = apps.iter().map(|a| format!("{mount}/data/{a}")).collect();
        let caps = self
            .vault
            .capabilities_self(&caller.token, &paths)
            .await
            .map_err(|e| vault_error(e, "check your permissions"))?;
        Ok(apps
            .into_iter()
            .zip(paths)
            .filter_map(|(app, path)| {
                let c = caps.get(&path).cloned().unwrap_or_default();
                let has = |x: &str| c.iter().any(|v| v == x || v == "root");
                let visible = has("read") || has("update") || has("create");
                visible.then(|| AppSummary {
                    env: mount.to_string(),
                    app,
                    can_edit: has("update") || has("create"),
                })
            })
            .collect())
    }

    /// What the user may do with one secret, from `sys/capabilities-self`.
    pub async fn caps(&self, caller: &Caller, env: &str, app: &str) -> Result<Caps, AppError> {
        let ops = ["data", "metadata", "subkeys", "delete", "undelete"];
        let paths: Vec<String> = ops.iter().map(|op| format!("{env}/{op}/{app}")).collect();
        let caps = self
            .vault
            .capabilities_self(&caller.token, &paths)
            .await
            .map_err(|e| vault_error(e, "check your permissions"))?;
        let has = |op: usize, cap: &str| {
            caps.get(&paths[op])
                .is_some_and(|c| c.iter().any(|v| v == cap || v == "root"))
        };
        Ok(Caps {
            read: has(0, "read"),
            create: has(0, "create"),
            update: has(0, "update"),
            // Keyway deletes exactly the version the user saw, through `delete/`.
            delete: has(3, "update"),
            undelete: has(4, "update"),
            history: has(1, "read"),
            subkeys: has(2, "read"),
        })
    }

    /// Key names with values masked. Names come from `subkeys` where allowed, so Vault's own audit
    /// shows no value read; otherwise from a data read whose values stay here.
    pub async fn secret_view(
        &self,
        caller: &Caller,
        env: &str,
        app: &str,
    ) -> Result<SecretView, AppError> {
        check_target(env, app)?;
        let caps = self.caps(caller, env, app).await?;
        if !(caps.read || caps.subkeys || caps.history || caps.update || caps.create) {
            return Err(AppError::Denied(format!(
                "You may not open {env}/{app}: your Vault policies do not allow it."
            )));
        }
        let mut view = SecretView {
            env: env.into(),
            app: app.into(),
            version: 0,
            created_time: None,
            deleted: false,
            destroyed: false,
            keys: Vec::new(),
            caps: caps.clone(),
        };
        if caps.history {
            let meta = self
                .vault
                .kv_metadata(&caller.token, env, app)
                .await
                .map_err(|e| vault_error(e, "read this secret's history"))?;
            if let Some(m) = meta {
                view.version = m.current_version;
                if let Some(v) = m.versions.get(&m.current_version) {
                    view.created_time = Some(v.created_time.clone());
                    view.deleted = v.deletion_time.is_some();
                    view.destroyed = v.destroyed;
                }
            }
            if view.version == 0 || view.deleted || view.destroyed {
                return Ok(view);
            }
        }
        if caps.subkeys {
            match self.vault.kv_subkeys(&caller.token, env, app, None).await {
                Ok(Some((names, meta))) => {
                    view.keys = names;
                    self.apply_meta(&mut view, &meta);
                    return Ok(view);
                }
                Ok(None) => return Ok(view),
                Err(VaultError::PermissionDenied) => {}
                Err(e) => return Err(vault_error(e, "read this secret's keys")),
            }
        }
        if caps.read {
            let read = self
                .vault
                .kv_read(&caller.token, env, app, None)
                .await
                .map_err(|e| vault_error(e, "read this secret"))?;
            if let Some(v) = read {
                self.apply_meta(&mut view, &v.meta);
                if let Some(data) = v.data {
                    view.keys = data.keys().map(str::to_string).collect();
                }
            }
        }
        Ok(view)
    }

    fn apply_meta(&self, view: &mut SecretView, meta: &keyway_vault::VersionMeta) {
        view.version = meta.version;
        view.created_time = Some(meta.created_time.clone());
        view.deleted = meta.deletion_time.is_some();
        view.destroyed = meta.destroyed;
    }

    /// The data of a version that is about to be written back (a save's base, a rollback's
    /// target). Refuses data with non-text values the write would turn into text, unless the
    /// draft replaces all of them.
    pub(super) async fn read_for_write(
        &self,
        caller: &Caller,
        env: &str,
        app: &str,
        version: u64,
        replaced: &[String],
    ) -> Result<BTreeMap<String, String>, AppError> {
        let (data, non_string) = self.read_version(caller, env, app, version).await?;
        let kept: Vec<String> = non_string
            .into_iter()
            .filter(|k| !replaced.contains(k))
            .collect();
        if !kept.is_empty() {
            return Err(AppError::Invalid(format!(
                "Version {version} holds values that are not text ({}). Keyway edits text values only and would change their type; give them new values in your draft, or edit this secret with the Vault CLI.",
                kept.join(", ")
            )));
        }
        Ok(data)
    }

    /// The data of one version; `Ok(empty)` for version 0 (nothing yet).
    pub(super) async fn read_data(
        &self,
        caller: &Caller,
        env: &str,
        app: &str,
        version: u64,
    ) -> Result<BTreeMap<String, String>, AppError> {
        Ok(self.read_version(caller, env, app, version).await?.0)
    }

    /// One version's data and the keys Vault holds as non-text values.
    async fn read_version(
        &self,
        caller: &Caller,
        env: &str,
        app: &str,
        version: u64,
    ) -> Result<(BTreeMap<String, String>, Vec<String>), AppError> {
        if version == 0 {
            return Ok(Default::default());
        }
        let read = self
            .vault
            .kv_read(&caller.token, env, app, Some(version))
            .await
            .map_err(|e| vault_error(e, "read this secret"))?
            .ok_or_else(|| AppError::NotFound(format!("{env}/{app} has no version {version}.")))?;
        match read.data {
            Some(d) => Ok((d.into_inner(), read.non_string_keys)),
            None if read.meta.destroyed => Err(AppError::Invalid(format!(
                "Version {version} was destroyed; its values are gone."
            ))),
            None => Err(AppError::Invalid(format!(
                "Version {version} is deleted. Undelete it first."
            ))),
        }
    }

    /// Reveals values; the reveal is audited before any value leaves the server.
    pub async fn reveal(
        &self,
        caller: &Caller,
        env: &str,
        app: &str,
        version: u64,
        wanted: Vec<String>,
        purpose: RevealPurpose,
    ) -> Result<Revealed, AppError> {
        check_target(env, app)?;
        let data = match self.read_data(caller, env, app, version).await {
            Ok(d) => d,
            Err(e) => {
                if matches!(e, AppError::Denied(_)) {
                    let event = caller
                        .event(action::SECRET_REVEAL, env, app)
                        .outcome(Outcome::Denied)
                        .detail("reveal refused by Vault");
                    let _ = self.audit.record(event).await;
                }
                return Err(e);
            }
        };
        let values: BTreeMap<String, String> = if wanted.is_empty() {
            data
        } else {
            let mut out = BTreeMap::new();
            for k in &wanted {
                let v = data.get(k).ok_or_else(|| {
                    AppError::NotFound(format!("Version {version} has no key \"{k}\"."))
                })?;
                out.insert(k.clone(), v.clone());
            }
            out
        };
        let how = match purpose {
            RevealPurpose::Show => "shown",
            RevealPurpose::Copy => "copied",
            RevealPurpose::Edit => "loaded for editing",
        };
        let names: Vec<&str> = values.keys().map(String::as_str).collect();
        let event = caller
            .event(action::SECRET_REVEAL, env, app)
            .versions(Some(version as i64), None)
            .detail(format!("{how}: {}", names.join(", ")));
        self.audit.record(event).await.map_err(audit_error)?;
        Ok(Revealed { version, values })
    }

    /// The secret as `.env` text, audited as a read of every value.
    pub async fn export_env(
        &self,
        caller: &Caller,
        env: &str,
        app: &str,
        version: u64,
    ) -> Result<String, AppError> {
        check_target(env, app)?;
        let data = self.read_data(caller, env, app, version).await?;
        let names: Vec<&str> = data.keys().map(String::as_str).collect();
        let event = caller
            .event(action::SECRET_EXPORT, env, app)
            .versions(Some(version as i64), None)
            .detail(format!("exported as .env: {}", names.join(", ")));
        self.audit.record(event).await.map_err(audit_error)?;
        Ok(dotenv::export(&data))
    }

    /// Applies a draft onto `base_version` and writes it as one new version with check-and-set.
    pub async fn save(
        &self,
        caller: &Caller,
        env: &str,
        app: &str,
        base_version: u64,
        changes: Changes,
    ) -> Result<Saved, AppError> {
        check_target(env, app)?;
        for key in changes
            .set
            .keys()
            .chain(changes.rename.iter().map(|(_, to)| to))
        {
            keys::check_key(key).map_err(AppError::Invalid)?;
        }
        let replaced: Vec<String> = changes
            .set
            .keys()
            .chain(changes.remove.iter())
            .chain(changes.rename.iter().map(|(from, _)| from))
            .cloned()
            .collect();
        let base = self
            .read_for_write(caller, env, app, base_version, &replaced)
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
        self.write_version(
            caller,
            env,
            app,
            action::SECRET_SAVE,
            base_version,
            &base,
            new,
            Some(&changes),
            None,
        )
        .await
    }

    /// Audits the intent, writes `new` with CAS against `base_version` (whose data is `base`),
    /// audits the outcome. On a CAS conflict, explains what changed meanwhile.
    #[allow(clippy::too_many_arguments)] // one call site per action; a struct would only rename them
    pub(super) async fn write_version(
        &self,
        caller: &Caller,
        env: &str,
        app: &str,
        act: &str,
        base_version: u64,
        base: &BTreeMap<String, String>,
        new: BTreeMap<String, String>,
        draft: Option<&Changes>,
        detail: Option<String>,
    ) -> Result<Saved, AppError> {
        let summary = diff::key_changes(base, &new);
        let mut event = caller
            .event(act, env, app)
            .versions(Some(base_version as i64), None)
            .keys(
                summary.added.clone(),
                summary.changed.clone(),
                summary.removed.clone(),
            );
        if let Some(d) = detail {
            event = event.detail(d);
        }
        let intent = self.audit.begin(event).await.map_err(audit_error)?;
        let data = KvData::from(new);
        let result = self
            .vault
            .kv_write(&caller.token, env, app, &data, base_version)
            .await;
        let (outcome, after, note) = match &result {
            Ok(meta) => (Outcome::Ok, Some(meta.version as i64), None),
            Err(VaultError::CasMismatch) => {
                (Outcome::Conflict, None, Some("check-and-set conflict"))
            }
            Err(VaultError::PermissionDenied) => {
                (Outcome::Denied, None, Some("Vault denied the write"))
            }
            Err(VaultError::Unreachable(_)) => (
                Outcome::Error,
                None,
                Some("Vault did not answer: the write may or may not have landed"),
            ),
            Err(_) => (Outcome::Error, None, Some("Vault write failed")),
        };
        if let Err(e) = self.audit.finish(&intent, outcome, after, note).await {
            // The intent row stays pending and visible; the write itself already happened.
            tracing::error!(error = %e, intent = intent.seq(), "could not record an outcome");
        }
        match result {
            Ok(meta) => Ok(Saved {
                version: meta.version,
                changes: summary,
            }),
            Err(VaultError::CasMismatch) => Err(self
                .conflict(caller, env, app, base_version, base, draft)
                .await),
            Err(e) => Err(vault_error(e, &format!("change {env}/{app}"))),
        }
    }

    /// Builds the conflict explanation: what changed between the user's base and the newest.
    async fn conflict(
        &self,
        caller: &Caller,
        env: &str,
        app: &str,
        base_version: u64,
        base: &BTreeMap<String, String>,
        draft: Option<&Changes>,
    ) -> AppError {
        let latest = match self.vault.kv_read(&caller.token, env, app, None).await {
            Ok(Some(v)) => v,
            Ok(None) => return AppError::NotFound(format!("{env}/{app} no longer exists.")),
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
