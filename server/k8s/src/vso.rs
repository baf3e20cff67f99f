//! VaultConnection, VaultAuth and VaultStaticSecret, as VSO v1.x defines them (the fields in
//! `shared/reference/vso-vault.md` §1.1, 1.2, 1.8, 1.9).
//!
//! Optional fields are `Option`s that are left out when absent, so an object read from a real
//! cluster round-trips. VaultAuth carries the kubernetes, jwt and appRole methods; the cloud
//! methods (aws, gcp) and the global-auth reference are not modelled yet.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where Vault is.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "secrets.hashicorp.com",
    version = "v1beta1",
    kind = "VaultConnection",
    namespaced,
    status = "VaultConnectionStatus"
)]
#[serde(rename_all = "camelCase")]
pub struct VaultConnectionSpec {
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_server_name: Option<String>,
    /// A Secret in the same namespace holding `ca.crt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert_secret_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert_path: Option<String>,
    #[serde(
        default,
        rename = "skipTLSVerify",
        skip_serializing_if = "Option::is_none"
    )]
    pub skip_tls_verify: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VaultConnectionStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
}

/// How VSO logs in to Vault.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "secrets.hashicorp.com",
    version = "v1beta1",
    kind = "VaultAuth",
    namespaced,
    status = "VaultAuthStatus"
)]
#[serde(rename_all = "camelCase")]
pub struct VaultAuthSpec {
    /// `name` or `namespace/name`; empty = the operator's default connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_connection_ref: Option<String>,
    /// Vault namespace to log in to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Kubernetes namespaces that may reference this VaultAuth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_namespaces: Option<Vec<String>>,
    /// `kubernetes`, `jwt`, `appRole`, `aws` or `gcp`.
    pub method: String,
    /// The auth method's mount path.
    pub mount: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes: Option<KubernetesAuth>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt: Option<JwtAuth>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_role: Option<AppRoleAuth>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KubernetesAuth {
    pub role: String,
    /// A service account in the namespace of the resource that uses this VaultAuth.
    pub service_account: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audiences: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_expiration_seconds: Option<i64>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JwtAuth {
    pub role: String,
    /// A Secret holding the token under `jwt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audiences: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_expiration_seconds: Option<i64>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppRoleAuth {
    pub role_id: String,
    /// A Secret holding the secret id under `id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VaultAuthStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
}

/// One kv secret copied into one Kubernetes Secret: what Keyway calls an app.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "secrets.hashicorp.com",
    version = "v1beta1",
    kind = "VaultStaticSecret",
    namespaced,
    status = "VaultStaticSecretStatus",
    shortname = "vss",
    printcolumn = r#"{"name":"Synced","type":"string","jsonPath":".status.conditions[?(@.type==\"SecretSynced\")].status"}"#,
    printcolumn = r#"{"name":"Healthy","type":"string","jsonPath":".status.conditions[?(@.type==\"Healthy\")].status"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct VaultStaticSecretSpec {
    /// `name` or `namespace/name`; empty = the operator's default VaultAuth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_auth_ref: Option<String>,
    /// Vault namespace of the mount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub mount: String,
    /// The secret's path in the mount (no `data/`).
    pub path: String,
    #[serde(rename = "type")]
    pub kv_type: KvType,
    /// kv-v2 only: a pinned version; 0 or absent follows the latest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub version: Option<i64>,
    /// How often VSO re-reads the secret, e.g. `30s`, `1h`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(s|m|h))$"))]
    pub refresh_after: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hmac_secret_data: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_config: Option<SyncConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout_restart_targets: Option<Vec<RolloutRestartTarget>>,
    pub destination: Destination,
}

impl VaultStaticSecretSpec {
    /// Whether this copies a kv-v2 secret of the Vault namespace Keyway talks to (the root one:
    /// Keyway sends no `X-Vault-Namespace`). A kv-v1 copy, or one of another Vault namespace, names
    /// a different secret even when its mount and path read the same, so it is never taken for
    /// the kv-v2 secret a user edits in Keyway (issue 9, point 12).
    ///
    /// A VaultStaticSecret without `namespace` takes its VaultAuth's; Keyway does not read
    /// VaultAuths, so such a copy counts as the root namespace's (what VSO does too when the
    /// VaultAuth names none).
    pub fn copies_keyways_kv_v2(&self) -> bool {
        let root = matches!(
            self.namespace.as_deref().map(|n| n.trim_matches('/')),
            None | Some("") | Some("root")
        );
        self.kv_type == KvType::KvV2 && root
    }
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum KvType {
    #[serde(rename = "kv-v1")]
    KvV1,
    #[serde(rename = "kv-v2")]
    KvV2,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instant_updates: Option<bool>,
}

/// A workload VSO restarts after a sync.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
pub struct RolloutRestartTarget {
    /// `Deployment`, `DaemonSet`, `StatefulSet` or `argo.Rollout`.
    pub kind: String,
    pub name: String,
}

/// The Kubernetes Secret VSO writes.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Destination {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overwrite: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub secret_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transformation: Option<Transformation>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Transformation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub templates: Option<BTreeMap<String, Template>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transformation_refs: Option<Vec<TransformationRef>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub includes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excludes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_raw: Option<bool>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
pub struct Template {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub text: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransformationRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_refs: Option<Vec<TemplateRef>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_includes: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_excludes: Option<bool>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TemplateRef {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_override: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VaultStaticSecretStatus {
    /// `metadata.generation` last reconciled (errors included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_generation: Option<i64>,
    /// HMAC of the synced data; present when `hmacSecretData` is on.
    #[serde(default, rename = "secretMAC", skip_serializing_if = "Option::is_none")]
    pub secret_mac: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_client_meta: Option<VaultClientMeta>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VaultClientMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}
