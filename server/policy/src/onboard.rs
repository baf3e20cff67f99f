//! The Vault side of onboarding one app, pure: the read-only policy VSO logs in with and the
//! kubernetes auth role that hands it out, rendered exactly as they will be written so the
//! onboarding page can show them in full before apply and tests can pin them.
//!
//! Names: the policy and the role are both `keyway-app.<namespace>.<app>`. A namespace has no
//! dot (a DNS label), so the first dot after `keyway-app.` ends it and no two apps share a name,
//! and no per-environment policy (`keyway-<namespace>-<level>`, no dot) is ever one of these; a
//! dash would not do (`keyway-app-dev-view` is also the view policy of a namespace `app-dev`). The policy grants `read` on the one
//! kv-v2 data path the VaultStaticSecret names and nothing else: VSO reads `<mount>/data/<path>`
//! and never lists, writes or reads metadata (reference `platform-audit-deploy.md` §2.1).

use serde::Serialize;

use crate::generate::{one_line, quoted, MANAGED_MARKER};
use crate::paths::{kv, KvApi};

/// The audience VSO's tokens carry and the role requires; the VaultAuth's `kubernetes.audiences`
/// must hold the same word (reference `vso-vault.md` §2.8).
pub const AUDIENCE: &str = "vault";
/// Lifetime of the Vault token VSO gets from the role.
pub const TOKEN_TTL: &str = "1h";
/// Longest lifetime VSO may renew that token to.
pub const TOKEN_MAX_TTL: &str = "24h";

/// One app's Vault objects: where its secret lives and who logs in for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppVault {
    pub namespace: String,
    pub app: String,
    /// kv-v2 mount, without slashes at either end.
    pub mount: String,
    /// The secret's path inside the mount, e.g. `billing/config`.
    pub path: String,
    /// The ServiceAccount VSO logs in as.
    pub service_account: String,
}

/// `keyway-app.<namespace>.<app>`.
pub fn app_policy_name(namespace: &str, app: &str) -> String {
    format!("keyway-app.{namespace}.{app}")
}

/// The kubernetes auth role's name: the policy's, so one name finds both.
pub fn app_role_name(namespace: &str, app: &str) -> String {
    app_policy_name(namespace, app)
}

impl AppVault {
    pub fn policy_name(&self) -> String {
        app_policy_name(&self.namespace, &self.app)
    }

    pub fn role_name(&self) -> String {
        app_role_name(&self.namespace, &self.app)
    }

    /// The kv-v2 API path VSO reads.
    pub fn data_path(&self) -> String {
        kv(&self.mount, KvApi::Data, &self.path)
    }

    /// The policy's HCL: the marker, a line saying what it is for, one read-only rule.
    pub fn policy_hcl(&self) -> String {
        format!(
            "{MANAGED_MARKER}\n# {}: lets the Vault Secrets Operator read the secret of app {} in environment {}.\n\npath \"{}\" {{\n  capabilities = [\"read\"]\n}}\n",
            one_line(&self.policy_name()),
            one_line(&self.app),
            one_line(&self.namespace),
            quoted(&self.data_path()),
        )
    }

    /// The body written to `auth/<mount>/role/<role_name>`.
    pub fn role(&self) -> KubeRole {
        KubeRole {
            bound_service_account_names: vec![self.service_account.clone()],
            bound_service_account_namespaces: vec![self.namespace.clone()],
            audience: AUDIENCE.to_string(),
            token_policies: vec![self.policy_name()],
            token_ttl: TOKEN_TTL.to_string(),
            token_max_ttl: TOKEN_MAX_TTL.to_string(),
        }
    }
}

/// A kubernetes auth role, as written (the JSON body of `POST auth/<mount>/role/<name>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KubeRole {
    pub bound_service_account_names: Vec<String>,
    pub bound_service_account_namespaces: Vec<String>,
    pub audience: String,
    pub token_policies: Vec<String>,
    pub token_ttl: String,
    pub token_max_ttl: String,
}

#[cfg(test)]
mod tests;
