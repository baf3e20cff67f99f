//! Kubernetes auth roles (`auth/<mount>/role/<name>`): the login an onboarded app's operator
//! uses. Read and written with the platform user's own token, so Vault decides who may hand out
//! which policy to which service account, and Vault's audit names the person.

use reqwest::Method;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::Value;

use crate::client::{decode, NotFound};
use crate::ops::Operation;
use crate::{Vault, VaultError};

/// The parts of a kubernetes auth role onboarding compares (Vault answers more).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct KubeRoleRead {
    #[serde(default)]
    pub bound_service_account_names: Vec<String>,
    #[serde(default)]
    pub bound_service_account_namespaces: Vec<String>,
    /// A label selector of further namespaces whose pods may log in (Vault 1.16+; absent on
    /// OpenBao 2.7).
    #[serde(default)]
    pub bound_service_account_namespace_selector: String,
    #[serde(default)]
    pub audience: String,
    #[serde(default)]
    pub token_policies: Vec<String>,
}

impl Vault {
    /// The role `name` of the kubernetes auth mounted at `mount`; `None` when there is none.
    #[tracing::instrument(skip_all, fields(mount = %mount, role = %name))]
    pub async fn kube_role(
        &self,
        token: &SecretString,
        mount: &str,
        name: &str,
    ) -> Result<Option<KubeRoleRead>, VaultError> {
        let parts = ["auth", mount, "role", name];
        let Some(answer) = self
            .read_one(Operation::KubeRoleRead, token, &parts)
            .await?
        else {
            return Ok(None);
        };
        decode(answer.status, answer.data(), "a kubernetes auth role").map(Some)
    }

    /// Creates or replaces the role `name` with `body` (the JSON Vault's API takes).
    #[tracing::instrument(skip_all, fields(mount = %mount, role = %name))]
    pub async fn write_kube_role(
        &self,
        token: &SecretString,
        mount: &str,
        name: &str,
        body: &Value,
    ) -> Result<(), VaultError> {
        let url = self.url(&["auth", mount, "role", name], false)?;
        self.for_user(
            Operation::KubeRoleWrite,
            Method::POST,
            url,
            token,
            Some(body),
            NotFound::IsError,
        )
        .await?;
        Ok(())
    }
}
