//! kv-v2 operations on one secret or folder, always with the user's token.
//!
//! A mount and a path are passed separately (both may contain `/`); each `/`-separated piece is
//! percent-encoded as one URL segment, so a key named `a b?c` reaches Vault intact. Absence is
//! normal here and is `Ok(None)` / an empty list rather than an error: Vault answers 404 both for
//! a path that never existed (`{"errors":[]}`) and for a deleted or destroyed version, the latter
//! with the usual body carrying that version's metadata and `data: null`.

use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::client::{decode, Answer, NotFound};
use crate::error::{errors_of, from_status};
use crate::ops::Operation;
use crate::{KvData, KvMetadata, KvVersion, Vault, VaultError, VersionMeta};

impl Vault {
    /// Names in a folder (`""` = the mount's root); sub-folders end in `/`. An empty or
    /// missing folder is an empty list.
    #[tracing::instrument(skip_all, fields(mount = %mount, path = %folder))]
    pub async fn kv_list(
        &self,
        token: &SecretString,
        mount: &str,
        folder: &str,
    ) -> Result<Vec<String>, VaultError> {
        if mount.trim_matches('/').is_empty() {
            return Err(VaultError::InvalidPath(mount.to_owned()));
        }
        let mut url = self.url(&[mount, "metadata", folder], true)?;
        url.query_pairs_mut().append_pair("list", "true");
        let answer = self
            .for_user(
                Operation::KvList,
                Method::GET,
                url,
                token,
                None,
                NotFound::IsAnswer,
            )
            .await?;
        if answer.status == StatusCode::NOT_FOUND {
            return absent(&answer).map(|()| Vec::new());
        }
        #[derive(Deserialize)]
        struct Keys {
            #[serde(default)]
            keys: Vec<String>,
        }
        let keys: Keys = decode(answer.status, answer.data(), "a kv list")?;
        Ok(keys.keys)
    }

    /// One version (`None` = latest). `Ok(None)` if the path or that version never existed;
    /// `data: None` if the version is deleted or destroyed.
    #[tracing::instrument(skip_all, fields(mount = %mount, path = %path, version = ?version))]
    pub async fn kv_read(
        &self,
        token: &SecretString,
        mount: &str,
        path: &str,
        version: Option<u64>,
    ) -> Result<Option<KvVersion>, VaultError> {
        let url = self.versioned(mount, "data", path, version, None)?;
        let answer = self
            .for_user(
                Operation::KvRead,
                Method::GET,
                url,
                token,
                None,
                NotFound::IsAnswer,
            )
            .await?;
        let Some(meta) = version_meta(&answer)? else {
            return Ok(None);
        };
        let (data, non_string_keys) = match answer.data().get("data") {
            Some(Value::Object(object)) => (
                Some(KvData::from_json(object)),
                object
                    .iter()
                    .filter(|(_, v)| !v.is_string())
                    .map(|(k, _)| k.clone())
                    .collect(),
            ),
            Some(Value::Null) | None => (None, Vec::new()),
            Some(_) => return Err(VaultError::unexpected(answer.status.as_u16(), "a kv read")),
        };
        Ok(Some(KvVersion {
            data,
            meta,
            non_string_keys,
        }))
    }

    /// The key names of a version without their values (`depth=1`; needs `read` on
    /// `<mount>/subkeys/<path>`). For a deleted or destroyed version the list is empty and the
    /// metadata says why.
    #[tracing::instrument(skip_all, fields(mount = %mount, path = %path, version = ?version))]
    pub async fn kv_subkeys(
        &self,
        token: &SecretString,
        mount: &str,
        path: &str,
        version: Option<u64>,
    ) -> Result<Option<(Vec<String>, VersionMeta)>, VaultError> {
        let url = self.versioned(mount, "subkeys", path, version, Some(1))?;
        let answer = self
            .for_user(
                Operation::KvRead,
                Method::GET,
                url,
                token,
                None,
                NotFound::IsAnswer,
            )
            .await?;
        let Some(meta) = version_meta(&answer)? else {
            return Ok(None);
        };
        let keys = match answer.data().get("subkeys") {
            Some(Value::Object(object)) => object.keys().cloned().collect(),
            _ => Vec::new(),
        };
        Ok(Some((keys, meta)))
    }

    /// The secret's metadata and version list; `Ok(None)` if it does not exist.
    #[tracing::instrument(skip_all, fields(mount = %mount, path = %path))]
    pub async fn kv_metadata(
        &self,
        token: &SecretString,
        mount: &str,
        path: &str,
    ) -> Result<Option<KvMetadata>, VaultError> {
        let url = self.secret_url(mount, "metadata", path)?;
        let answer = self
            .for_user(
                Operation::KvRead,
                Method::GET,
                url,
                token,
                None,
                NotFound::IsAnswer,
            )
            .await?;
        if answer.status == StatusCode::NOT_FOUND {
            return absent(&answer).map(|()| None);
        }
        decode(answer.status, answer.data(), "kv metadata").map(Some)
    }

    /// Sets how many versions of the secret Vault keeps (`POST <mount>/metadata/<path>` with
    /// `max_versions`; other metadata settings are left as they are). `0` means the mount's
    /// setting, whose own `0` means 10 (observed on OpenBao 2.7): it never means "all". On a
    /// secret that does not exist yet this needs `create` on the metadata path, otherwise
    /// `update`.
    #[tracing::instrument(skip_all, fields(mount = %mount, path = %path, max_versions))]
    pub async fn kv_set_max_versions(
        &self,
        token: &SecretString,
        mount: &str,
        path: &str,
        max_versions: u64,
    ) -> Result<(), VaultError> {
        let url = self.secret_url(mount, "metadata", path)?;
        let body = json!({ "max_versions": max_versions });
        self.for_user(
            Operation::KvWrite,
            Method::POST,
            url,
            token,
            Some(&body),
            NotFound::IsError,
        )
        .await
        .map(drop)
    }

    /// Writes a new version with check-and-set: `cas` must equal the current version (a
    /// soft-deleted current version still counts), and `cas = 0` only creates. A lost race is
    /// [`VaultError::CasMismatch`].
    #[tracing::instrument(skip_all, fields(mount = %mount, path = %path, cas = cas))]
    pub async fn kv_write(
        &self,
        token: &SecretString,
        mount: &str,
        path: &str,
        data: &KvData,
        cas: u64,
    ) -> Result<VersionMeta, VaultError> {
        let url = self.secret_url(mount, "data", path)?;
        let body = json!({ "options": { "cas": cas }, "data": data.to_json() });
        let answer = self
            .for_user(
                Operation::KvWrite,
                Method::POST,
                url,
                token,
                Some(&body),
                NotFound::IsError,
            )
            .await?;
        decode(answer.status, answer.data(), "a kv write")
    }

    /// Soft-deletes the latest version (`DELETE <mount>/data/<path>`). Reads of the latest
    /// version then give `data: None`; earlier versions are not served in its place.
    #[tracing::instrument(skip_all, fields(mount = %mount, path = %path))]
    pub async fn kv_delete_latest(
        &self,
        token: &SecretString,
        mount: &str,
        path: &str,
    ) -> Result<(), VaultError> {
        let url = self.secret_url(mount, "data", path)?;
        self.for_user(
            Operation::KvDelete,
            Method::DELETE,
            url,
            token,
            None,
            NotFound::IsError,
        )
        .await
        .map(drop)
    }

    /// Soft-deletes these versions (`POST <mount>/delete/<path>`).
    #[tracing::instrument(skip_all, fields(mount = %mount, path = %path, versions = ?versions))]
    pub async fn kv_delete_versions(
        &self,
        token: &SecretString,
        mount: &str,
        path: &str,
        versions: &[u64],
    ) -> Result<(), VaultError> {
        self.versions_op(token, mount, "delete", path, versions)
            .await
    }

    /// Restores soft-deleted versions (`POST <mount>/undelete/<path>`).
    #[tracing::instrument(skip_all, fields(mount = %mount, path = %path, versions = ?versions))]
    pub async fn kv_undelete(
        &self,
        token: &SecretString,
        mount: &str,
        path: &str,
        versions: &[u64],
    ) -> Result<(), VaultError> {
        self.versions_op(token, mount, "undelete", path, versions)
            .await
    }

    async fn versions_op(
        &self,
        token: &SecretString,
        mount: &str,
        op: &str,
        path: &str,
        versions: &[u64],
    ) -> Result<(), VaultError> {
        let url = self.secret_url(mount, op, path)?;
        let body = json!({ "versions": versions });
        self.for_user(
            Operation::KvDelete,
            Method::POST,
            url,
            token,
            Some(&body),
            NotFound::IsError,
        )
        .await
        .map(drop)
    }

    /// `v1/<mount>/<op>/<path>`; a secret needs a non-empty mount and path.
    fn secret_url(&self, mount: &str, op: &str, path: &str) -> Result<url::Url, VaultError> {
        for part in [mount, path] {
            if part.trim_matches('/').is_empty() {
                return Err(VaultError::InvalidPath(part.to_owned()));
            }
        }
        self.url(&[mount, op, path], false)
    }

    fn versioned(
        &self,
        mount: &str,
        op: &str,
        path: &str,
        version: Option<u64>,
        depth: Option<u32>,
    ) -> Result<url::Url, VaultError> {
        let mut url = self.secret_url(mount, op, path)?;
        let mut query = Vec::new();
        if let Some(version) = version {
            query.push(("version", version.to_string()));
        }
        if let Some(depth) = depth {
            query.push(("depth", depth.to_string()));
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }
}

/// The `metadata` of a data/subkeys answer. `None` for a 404 without metadata (never existed);
/// a 404 with metadata is a deleted or destroyed version.
fn version_meta(answer: &Answer) -> Result<Option<VersionMeta>, VaultError> {
    match answer.data().get("metadata") {
        Some(meta @ Value::Object(_)) => {
            decode(answer.status, meta, "kv version metadata").map(Some)
        }
        _ if answer.status == StatusCode::NOT_FOUND => absent(answer).map(|()| None),
        _ => Err(VaultError::unexpected(answer.status.as_u16(), "a kv read")),
    }
}

/// A 404 means "absent" only with an empty error list; with a message (e.g. "no handler for
/// route" when the mount does not exist) it is an error.
fn absent(answer: &Answer) -> Result<(), VaultError> {
    let errors = errors_of(&answer.body);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(from_status(answer.status.as_u16(), &errors))
    }
}
