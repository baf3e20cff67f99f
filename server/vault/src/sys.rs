//! What may this user do, and where: capabilities on API paths and the kv-v2 mounts the token
//! can see. Both are read with the user's token and allowed by Vault's `default` policy.
//! [`Capabilities::has`] is the one place that reads a capabilities answer.

use std::collections::BTreeMap;

use reqwest::Method;
use secrecy::SecretString;
use serde_json::{json, Value};

use crate::client::NotFound;
use crate::ops::Operation;
use crate::{Vault, VaultError};

/// One capability a Vault policy grants on a path: the one type, defined with the policy
/// language in keyway-policy and re-exported here for every existing user.
pub use keyway_policy::Capability;

/// The answer of `sys/capabilities-self`: what the token may do on each asked path. The one
/// rule for reading it is [`Capabilities::has`]: `root` grants everything, `deny` nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities(BTreeMap<String, Vec<String>>);

/// Most paths in one `sys/capabilities-self` call. OpenBao 2.7 refuses a body of 1,000 strings
/// or more (400 "refused JSON input due to high complexity: exceeded maximum number of
/// strings"); the paths and the key make 501.
pub const CAPABILITIES_BATCH: usize = 500;

impl Capabilities {
    /// Whether the token has `cap` on the API path `path` (false for a path not asked about).
    pub fn has(&self, path: &str, cap: Capability) -> bool {
        self.0.get(path).is_some_and(|list| {
            !list.iter().any(|c| c == "deny")
                && list.iter().any(|c| c == "root" || c == cap.as_str())
        })
    }

    /// Whether the token has any of `caps` on `path`.
    pub fn has_any(&self, path: &str, caps: &[Capability]) -> bool {
        caps.iter().any(|c| self.has(path, *c))
    }

    /// Vault's words for one path, as answered (`["deny"]`, `["read", "update"]`, …).
    pub fn get(&self, path: &str) -> Option<&[String]> {
        self.0.get(path).map(Vec::as_slice)
    }

    /// The paths answered, sorted.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<(String, Vec<String>)> for Capabilities {
    fn from_iter<I: IntoIterator<Item = (String, Vec<String>)>>(iter: I) -> Self {
        Capabilities(iter.into_iter().collect())
    }
}

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
    ///
    /// Asked in calls of at most [`CAPABILITIES_BATCH`] paths, one after the other: OpenBao
    /// refuses a request body of 1,000 strings or more.
    pub async fn capabilities_self(
        &self,
        token: &SecretString,
        paths: &[String],
    ) -> Result<Capabilities, VaultError> {
        let mut all = BTreeMap::new();
        for batch in paths.chunks(CAPABILITIES_BATCH) {
            let url = self.url(&["sys/capabilities-self"], false)?;
            let body = json!({ "paths": batch });
            let answer = self
                .for_user(
                    Operation::Capabilities,
                    Method::POST,
                    url,
                    token,
                    Some(&body),
                    NotFound::IsError,
                )
                .await?;
            let data = answer.data();
            all.extend(batch.iter().filter_map(|path| {
                let list = data.get(path)?.as_array()?;
                let caps = list
                    .iter()
                    .filter_map(|c| c.as_str().map(str::to_owned))
                    .collect();
                Some((path.clone(), caps))
            }));
        }
        Ok(Capabilities(all))
    }

    /// The kv-v2 mounts this token can see, sorted by path. With a token,
    /// `sys/internal/ui/mounts` lists only mounts on which the token's policies grant some
    /// capability, so a user with rights under `dev/` alone sees `dev` and not `staging`.
    #[tracing::instrument(skip_all)]
    pub async fn kv2_mounts(&self, token: &SecretString) -> Result<Vec<KvMount>, VaultError> {
        let url = self.url(&["sys/internal/ui/mounts"], false)?;
        let answer = self
            .for_user(
                Operation::Mounts,
                Method::GET,
                url,
                token,
                None,
                NotFound::IsError,
            )
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

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(list: &[&str]) -> Capabilities {
        [(
            "p".to_string(),
            list.iter().map(|c| c.to_string()).collect(),
        )]
        .into_iter()
        .collect()
    }

    #[test]
    fn root_grants_everything_deny_nothing_and_unknown_paths_nothing() {
        assert!(caps(&["root"]).has("p", Capability::Update));
        assert!(caps(&["read", "list"]).has("p", Capability::Read));
        assert!(!caps(&["read", "list"]).has("p", Capability::Update));
        assert!(!caps(&["deny"]).has("p", Capability::Read));
        assert!(!caps(&["read"]).has("other", Capability::Read));
        assert!(caps(&["create"]).has_any("p", &[Capability::Update, Capability::Create]));
    }
}

/// What `sys/health` says about the node Keyway reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// Initialised, unsealed, and serving: the active node, or a standby (which forwards
    /// requests to the active one, so Keyway's calls still work).
    Serving,
    Sealed,
    NotInitialized,
    /// Any other answer (a DR secondary, a proxy's error page), with its status.
    Other(u16),
}

impl Health {
    /// Why this is not serving, in plain words (None when it is).
    pub fn problem(&self) -> Option<String> {
        match self {
            Health::Serving => None,
            Health::Sealed => Some("Vault is sealed".into()),
            Health::NotInitialized => Some("Vault is not initialised".into()),
            Health::Other(status) => Some(format!("Vault's health check answered {status}")),
        }
    }
}

impl Vault {
    /// `sys/health`, without a token, standbys counted as serving (`standbyok`,
    /// `perfstandbyok`: they answer 200). `Err(Unreachable)` when nothing answers.
    pub async fn health(&self) -> Result<Health, VaultError> {
        let mut url = self.url(&["sys/health"], false)?;
        url.set_query(Some("standbyok=true&perfstandbyok=true"));
        let answer = self
            .send(Operation::Health, Method::GET, url, None, None)
            .await?;
        Ok(match answer.status.as_u16() {
            200 => Health::Serving,
            503 => Health::Sealed,
            501 => Health::NotInitialized,
            other => Health::Other(other),
        })
    }
}
