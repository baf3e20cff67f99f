//! What may this user do, and where: capabilities on API paths and the kv-v2 mounts the token
//! can see. Both are read with the user's token and allowed by Vault's `default` policy.

use std::collections::BTreeMap;

use reqwest::Method;
use secrecy::SecretString;
use serde_json::{json, Value};

use crate::client::NotFound;
use crate::{Vault, VaultError};

/// A kv version 2 mount visible to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvMount {
    /// Mount path without the trailing slash, e.g. `kv`, `teams/payments`.
    pub path: String,
    pub description: String,
}

impl Vault {
    /// The token's capabilities on each API path (`kv/data/app`, `kv/metadata/app`, …; the API
    /// path, not the logical one). Only the asked paths are returned: Vault adds a
    /// `capabilities` key of its own when asked about a single path.
    #[tracing::instrument(skip_all, fields(paths = paths.len()))]
    pub async fn capabilities_self(
        &self,
        token: &SecretString,
        paths: &[String],
    ) -> Result<BTreeMap<String, Vec<String>>, VaultError> {
        let url = self.url(&["sys/capabilities-self"], false)?;
        let body = json!({ "paths": paths });
        let answer = self
            .for_user(Method::POST, url, token, Some(&body), NotFound::IsError)
            .await?;
        let data = answer.data();
        Ok(paths
            .iter()
            .filter_map(|path| {
                let list = data.get(path)?.as_array()?;
                let caps = list
                    .iter()
                    .filter_map(|c| c.as_str().map(str::to_owned))
                    .collect();
                Some((path.clone(), caps))
            })
            .collect())
    }

    /// The kv-v2 mounts this token can see, sorted by path. With a token,
    /// `sys/internal/ui/mounts` lists only mounts on which the token's policies grant some
    /// capability, so a user with rights under `dev/` alone sees `dev` and not `staging`.
    #[tracing::instrument(skip_all)]
    pub async fn kv2_mounts(&self, token: &SecretString) -> Result<Vec<KvMount>, VaultError> {
        let url = self.url(&["sys/internal/ui/mounts"], false)?;
        let answer = self
            .for_user(Method::GET, url, token, None, NotFound::IsError)
            .await?;
        let mut mounts: Vec<KvMount> = match answer.data().get("secret") {
            Some(Value::Object(secret)) => secret
                .iter()
                .filter(|(_, m)| {
                    m.get("type").and_then(Value::as_str) == Some("kv")
                        && m.pointer("/options/version").and_then(Value::as_str) == Some("2")
                })
                .map(|(path, m)| KvMount {
                    path: path.trim_end_matches('/').to_owned(),
                    description: m
                        .get("description")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                })
                .collect(),
            _ => Vec::new(),
        };
        mounts.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(mounts)
    }
}
