//! ACL policies (`sys/policies/acl`): list, read, and write with check-and-set, always with the
//! platform user's own token, so Vault decides and Vault's audit sees the real person.
//!
//! OpenBao (2.3+) keeps a `version` per policy and honours `cas` on write (`-1`: create only);
//! HashiCorp Vault has neither, so [`AclPolicy::version`] is `None` there and a write cannot be
//! made conditional: callers re-read and compare the text instead, and say so.

use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;

use crate::client::decode;
use crate::error::errors_of;
use crate::ops::Operation;
use crate::{Vault, VaultError};

/// One ACL policy as Vault holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclPolicy {
    pub name: String,
    /// The HCL text, as written.
    pub text: String,
    /// OpenBao's version counter (1 on create, +1 per write); `None` on a server without
    /// policy check-and-set.
    pub version: Option<u64>,
}

/// What a policy write may replace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyCas {
    /// Only create: refused when the policy exists.
    Create,
    /// Only replace this version (OpenBao's `cas`).
    Version(u64),
    /// No condition (a server without policy check-and-set).
    None,
}

/// Why a policy write was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyWriteError {
    /// The policy changed since it was read (or exists, for [`PolicyCas::Create`]).
    #[error("The policy was changed by someone else since it was read.")]
    Changed,
    #[error(transparent)]
    Vault(#[from] VaultError),
}

/// OpenBao's text for a policy check-and-set refusal ("check-and-set parameter 5 did not match
/// the current version 1", "check-and-set parameter set to -1 on existing entry"): the kv-v2
/// text differs, so this is matched on its common start.
const POLICY_CAS_REFUSED: &str = "check-and-set parameter";

impl Vault {
    /// The names of every ACL policy.
    #[tracing::instrument(skip_all)]
    pub async fn acl_policy_names(&self, token: &SecretString) -> Result<Vec<String>, VaultError> {
        let Some(answer) = self
            .list(Operation::PolicyRead, token, &["sys/policies/acl"])
            .await?
        else {
            return Ok(Vec::new());
        };
        #[derive(Deserialize)]
        struct Keys {
            #[serde(default)]
            keys: Vec<String>,
        }
        let keys: Keys = decode(answer.status, answer.data(), "the policy list")?;
        Ok(keys.keys)
    }

    /// One policy; `None` when there is none of that name.
    #[tracing::instrument(skip_all, fields(policy = %name))]
    pub async fn acl_policy(
        &self,
        token: &SecretString,
        name: &str,
    ) -> Result<Option<AclPolicy>, VaultError> {
        let Some(answer) = self
            .read_one(Operation::PolicyRead, token, &["sys/policies/acl", name])
            .await?
        else {
            return Ok(None);
        };
        #[derive(Deserialize)]
        struct Read {
            name: String,
            policy: String,
            version: Option<u64>,
        }
        let read: Read = decode(answer.status, answer.data(), "a policy")?;
        Ok(Some(AclPolicy {
            name: read.name,
            text: read.policy,
            version: read.version,
        }))
    }

    /// Writes a policy's text, on condition `cas`.
    #[tracing::instrument(skip_all, fields(policy = %name, cas = ?cas))]
    pub async fn write_acl_policy(
        &self,
        token: &SecretString,
        name: &str,
        text: &str,
        cas: PolicyCas,
    ) -> Result<(), PolicyWriteError> {
        let url = self.url(&["sys/policies/acl", name], false)?;
        let body = match cas {
            PolicyCas::Create => json!({ "policy": text, "cas": -1 }),
            PolicyCas::Version(v) => json!({ "policy": text, "cas": v }),
            PolicyCas::None => json!({ "policy": text }),
        };
        let answer = self
            .send(
                Operation::PolicyWrite,
                Method::PUT,
                url,
                Some(token),
                Some(&body),
            )
            .await?;
        if answer.status.is_success() {
            return Ok(());
        }
        if answer.status == StatusCode::BAD_REQUEST
            && errors_of(&answer.body)
                .iter()
                .any(|m| m.contains(POLICY_CAS_REFUSED))
        {
            return Err(PolicyWriteError::Changed);
        }
        Err(self.user_error(&answer, token).await.into())
    }
}
