//! The kv mounts a user may see and one secret: view (masked), reveal, export. Saving is in
//! [`super::write`].

use std::collections::BTreeMap;

use async_trait::async_trait;
use keyway_app::backend::SecretsApi;
use keyway_app::dto::{
    Caps, Changes, Mount, RevealPurpose, Revealed, Saved, SecretRef, SecretSummary, SecretView,
};
use keyway_app::error::AppError;
use keyway_app::logic::{dotenv, limits};
use keyway_policy::paths::{kv, KvApi};
use keyway_policy::rights::{SecretPaths, SecretRights};
use keyway_store::Action;
use keyway_vault::{Capability, VaultError};

use super::{audit_error, check_secret, vault_error, Caller, Core, RequestBackend};

/// How deep Keyway looks for secrets under a mount, how many it lists at most, and how many
/// folders it lists (one Vault call each) and for how long, per mount and request: with
/// thousands of app folders the page stops at the bounds and says so, and search finds the rest.
const MAX_DEPTH: usize = 4;
const MAX_SECRETS: usize = 500;
const MAX_FOLDERS: usize = 1000;
const LIST_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// The secret paths found under a mount, and whether the walk stopped at a bound.
struct Listing {
    paths: Vec<String>,
    cut: bool,
}

#[async_trait]
impl SecretsApi for RequestBackend {
    async fn mounts(&self, query: &str) -> Result<Vec<Mount>, AppError> {
        self.with_caller(|c| async move { self.core.mounts(&c, query).await })
            .await
    }

    async fn secret(&self, s: &SecretRef) -> Result<SecretView, AppError> {
        self.with_caller(|c| async move { self.core.secret_view(&c, s).await })
            .await
    }

    async fn reveal(
        &self,
        s: &SecretRef,
        version: u64,
        keys: Vec<String>,
        purpose: RevealPurpose,
    ) -> Result<Revealed, AppError> {
        self.with_caller(|c| async move { self.core.reveal(&c, s, version, keys, purpose).await })
            .await
    }

    async fn save(&self, s: &SecretRef, base: u64, changes: Changes) -> Result<Saved, AppError> {
        self.with_caller(|c| async move { self.core.save(&c, s, base, changes).await })
            .await
    }

    async fn export_env(&self, s: &SecretRef, version: u64) -> Result<String, AppError> {
        self.with_caller(|c| async move { self.core.export_env(&c, s, version).await })
            .await
    }
}

impl Core {
    /// The mounts and the secrets in them the caller may open; with `query`, only the secrets
    /// whose path contains it (any case).
    pub async fn mounts(&self, caller: &Caller, query: &str) -> Result<Vec<Mount>, AppError> {
        let query = query.trim().to_lowercase();
        limits::check_chars("search text", &query, limits::NAME_MAX_CHARS)
            .map_err(AppError::Invalid)?;
        let mounts = self
            .vault
            .kv2_mounts(&caller.token)
            .await
            .map_err(|e| vault_error(e, "list mounts"))?;
        let mut out = Vec::new();
        for mount in mounts {
            let (listing, note) = match self.list_secrets(caller, &mount.path, &query).await {
                Ok(listing) => (listing, None),
                Err(VaultError::PermissionDenied) => (
                    Listing {
                        paths: Vec::new(),
                        cut: false,
                    },
                    Some("Your Vault policies do not let you list the secrets here.".to_string()),
                ),
                Err(e) => return Err(vault_error(e, "list secrets")),
            };
            let secrets = self
                .visible_secrets(caller, &mount.path, listing.paths)
                .await?;
            out.push(Mount {
                name: mount.path,
                description: mount.description,
                secrets,
                note,
                cut: listing.cut,
            });
        }
        Ok(out)
    }

    /// Secret paths under a mount (those containing `query`, lower case, when it is not empty),
    /// breadth first, sorted; the walk stops at [`MAX_SECRETS`] found, [`MAX_FOLDERS`] listed,
    /// or after [`LIST_DEADLINE`], and then says it was cut. With a query, folders whose path
    /// contains it are listed first, so "payments" finds `payments/api` among thousands.
    async fn list_secrets(
        &self,
        caller: &Caller,
        mount: &str,
        query: &str,
    ) -> Result<Listing, VaultError> {
        let deadline = tokio::time::Instant::now() + LIST_DEADLINE;
        let matches = |path: &str| query.is_empty() || path.to_lowercase().contains(query);
        let mut paths = Vec::new();
        let mut folders = std::collections::VecDeque::from([(String::new(), 0usize)]);
        let mut listed = 0;
        let mut dropped = false;
        let stopped = loop {
            let Some((folder, depth)) = folders.pop_front() else {
                break false;
            };
            if paths.len() >= MAX_SECRETS
                || listed >= MAX_FOLDERS
                || tokio::time::Instant::now() >= deadline
            {
                break true;
            }
            listed += 1;
            let names = match self.vault.kv_list(&caller.token, mount, &folder).await {
                Ok(n) => n,
                // A sub-folder we may not list is skipped; the top level decides the note.
                Err(VaultError::PermissionDenied) if !folder.is_empty() => continue,
                Err(e) => return Err(e),
            };
            for name in names {
                let path = format!("{folder}{name}");
                match path.strip_suffix('/') {
                    Some(_) if depth + 1 >= MAX_DEPTH => {}
                    Some(_) if !query.is_empty() && matches(&path) => {
                        folders.push_front((path, depth + 1))
                    }
                    Some(_) => folders.push_back((path, depth + 1)),
                    None if !matches(&path) => {}
                    None if paths.len() < MAX_SECRETS => paths.push(path),
                    None => dropped = true,
                }
            }
        };
        paths.sort();
        Ok(Listing {
            paths,
            cut: stopped || dropped,
        })
    }

    /// Keeps the secrets the user may read or write, asking Vault in one call.
    async fn visible_secrets(
        &self,
        caller: &Caller,
        mount: &str,
        paths: Vec<String>,
    ) -> Result<Vec<SecretSummary>, AppError> {
        if paths.is_empty() {
            return Ok(Vec::new());
        }
        let api: Vec<String> = paths.iter().map(|p| kv(mount, KvApi::Data, p)).collect();
        let caps = self
            .capabilities(caller, &api, "check your permissions")
            .await?;
        use Capability::{Create, Read, Update};
        Ok(paths
            .into_iter()
            .zip(api)
            .filter(|(_, api)| caps.has_any(api, &[Read, Update, Create]))
            .map(|(path, api)| SecretSummary {
                secret: SecretRef::new(mount, path),
                can_edit: caps.has_any(&api, &[Update, Create]),
            })
            .collect())
    }

    /// What the user may do with one secret, from `sys/capabilities-self`.
    pub async fn caps(&self, caller: &Caller, s: &SecretRef) -> Result<Caps, AppError> {
        let paths = SecretPaths::new(&s.mount, &s.path);
        let caps = self
            .capabilities(caller, &paths.all(), "check your permissions")
            .await?;
        // The one rule for what each answer means, shared with the access page's preview.
        let r = SecretRights::from_caps(&paths, |path, cap| caps.has(path, cap));
        Ok(Caps {
            read: r.read,
            create: r.create,
            update: r.update,
            delete: r.delete,
            undelete: r.undelete,
            history: r.history,
            subkeys: r.subkeys,
        })
    }

    /// Key names with values masked. Names come from `subkeys` where allowed, so Vault's own audit
    /// shows no value read; otherwise from a data read whose values stay here.
    pub async fn secret_view(
        &self,
        caller: &Caller,
        s: &SecretRef,
    ) -> Result<SecretView, AppError> {
        check_secret(s)?;
        let caps = self.caps(caller, s).await?;
        if !(caps.read || caps.subkeys || caps.history || caps.update || caps.create) {
            return Err(AppError::Denied(format!(
                "You may not open {s}: your Vault policies do not allow it."
            )));
        }
        let mut view = SecretView {
            secret: s.clone(),
            version: 0,
            created_time: None,
            deleted: false,
            destroyed: false,
            keys: Vec::new(),
            caps: caps.clone(),
        };
        let (token, mount, path) = (&caller.token, s.mount.as_str(), s.path.as_str());
        if caps.history {
            let meta = self
                .vault
                .kv_metadata(token, mount, path)
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
            match self.vault.kv_subkeys(token, mount, path, None).await {
                Ok(Some((names, meta))) => {
                    view.keys = names;
                    apply_meta(&mut view, &meta);
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
                .kv_read(token, mount, path, None)
                .await
                .map_err(|e| vault_error(e, "read this secret"))?;
            if let Some(v) = read {
                apply_meta(&mut view, &v.meta);
                if let Some(data) = v.data {
                    view.keys = data.keys().map(str::to_string).collect();
                }
            }
        }
        Ok(view)
    }

    /// The data of a version that is about to be written back (a save's base, a rollback's
    /// target). Refuses data with non-text values the write would turn into text, unless the
    /// draft replaces all of them.
    pub(super) async fn read_for_write(
        &self,
        caller: &Caller,
        s: &SecretRef,
        version: u64,
        replaced: &[String],
    ) -> Result<BTreeMap<String, String>, AppError> {
        let (data, non_string) = self.read_version(caller, s, version).await?;
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
        s: &SecretRef,
        version: u64,
    ) -> Result<BTreeMap<String, String>, AppError> {
        Ok(self.read_version(caller, s, version).await?.0)
    }

    /// One version's data and the keys Vault holds as non-text values.
    async fn read_version(
        &self,
        caller: &Caller,
        s: &SecretRef,
        version: u64,
    ) -> Result<(BTreeMap<String, String>, Vec<String>), AppError> {
        if version == 0 {
            return Ok(Default::default());
        }
        let read = self
            .vault
            .kv_read(&caller.token, &s.mount, &s.path, Some(version))
            .await
            .map_err(|e| vault_error(e, "read this secret"))?
            .ok_or_else(|| AppError::NotFound(format!("{s} has no version {version}.")))?;
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
        s: &SecretRef,
        version: u64,
        wanted: Vec<String>,
        purpose: RevealPurpose,
    ) -> Result<Revealed, AppError> {
        check_secret(s)?;
        check_has_values(version)?;
        limits::check_key_refs(wanted.iter(), "The request names").map_err(AppError::Invalid)?;
        let data = self
            .read_refused_audited(caller, s, version, Action::SecretReveal)
            .await?;
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
            .event(Action::SecretReveal, s)
            .versions(Some(version as i64), None)
            .detail(format!("{how}: {}", names.join(", ")));
        self.audit
            .record(self.placed(event).await)
            .await
            .map_err(audit_error)?;
        Ok(Revealed { version, values })
    }

    /// The secret as `.env` text, audited as a read of every value.
    pub async fn export_env(
        &self,
        caller: &Caller,
        s: &SecretRef,
        version: u64,
    ) -> Result<String, AppError> {
        check_secret(s)?;
        check_has_values(version)?;
        let data = self
            .read_refused_audited(caller, s, version, Action::SecretExport)
            .await?;
        // Refused before the audit row: no value leaves the server then.
        let text = dotenv::export(&data).map_err(|e| AppError::Invalid(e.to_string()))?;
        let names: Vec<&str> = data.keys().map(String::as_str).collect();
        let event = caller
            .event(Action::SecretExport, s)
            .versions(Some(version as i64), None)
            .detail(format!("exported as .env: {}", names.join(", ")));
        self.audit
            .record(self.placed(event).await)
            .await
            .map_err(audit_error)?;
        Ok(text)
    }
}

impl Core {
    /// The data of a version about to leave the server as `action` (a reveal, an export); when
    /// Vault refuses the read, the refusal is audited as that action.
    async fn read_refused_audited(
        &self,
        caller: &Caller,
        s: &SecretRef,
        version: u64,
        action: Action,
    ) -> Result<BTreeMap<String, String>, AppError> {
        match self.read_data(caller, s, version).await {
            Ok(d) => Ok(d),
            Err(e @ AppError::Denied(_)) => {
                let event = caller.event(action, s).versions(Some(version as i64), None);
                self.refused(event, "refused by Vault").await?;
                Err(e)
            }
            Err(e) => Err(e),
        }
    }
}

/// Version 0 ("nothing yet") holds no values: reading it asks Vault nothing, so a reveal or an
/// export of it would be audited as done for any secret, even one the caller may not read.
fn check_has_values(version: u64) -> Result<(), AppError> {
    if version == 0 {
        return Err(AppError::Invalid(
            "Version 0 holds no values: name a version the secret has.".into(),
        ));
    }
    Ok(())
}

fn apply_meta(view: &mut SecretView, meta: &keyway_vault::VersionMeta) {
    view.version = meta.version;
    view.created_time = Some(meta.created_time.clone());
    view.deleted = meta.deletion_time.is_some();
    view.destroyed = meta.destroyed;
}
