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

/// One app's Vault objects: where its secret lives and who logs in for it. Built only by
/// [`AppVault::new`], which refuses any name Vault would read as more than itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppVault {
    namespace: String,
    app: String,
    /// kv-v2 mount, without slashes at either end.
    mount: String,
    /// The secret's path inside the mount, e.g. `billing/config`.
    path: String,
    /// The ServiceAccount VSO logs in as.
    service_account: String,
}

/// Why `value` cannot be the `what` of an app's Vault objects, if it cannot: Vault reads `*`
/// and `+` in a policy path, and a glob in a role's bound names, as patterns, so a path of
/// `billing/*` would grant other apps' secrets and a service account of `*` any pod's login.
/// Names (`slashes` false) are plain lowercase words of letters, digits, `-` and `.`; a mount
/// or path is such segments (any case, also `_`) between single slashes, none of them `.` or `..`.
fn problem(what: &str, value: &str, slashes: bool) -> Option<String> {
    const MAX: usize = 253;
    if value.is_empty() || value.len() > MAX {
        return Some(format!("The {what} must be 1 to {MAX} characters long."));
    }
    let segment_ok = |seg: &str| {
        !seg.is_empty()
            && seg != "."
            && seg != ".."
            && seg.bytes().all(|b| {
                b.is_ascii_digit()
                    || b == b'-'
                    || b == b'.'
                    || if slashes {
                        b.is_ascii_alphabetic() || b == b'_'
                    } else {
                        b.is_ascii_lowercase()
                    }
            })
    };
    let ok = if slashes {
        value.split('/').all(segment_ok)
    } else {
        segment_ok(value)
    };
    (!ok).then(|| {
        if slashes {
            format!("The {what} may hold only letters, digits, '-', '_' and '.', in parts between single slashes (no '*' or '+', no '..', no slash at either end).")
        } else {
            format!("The {what} may hold only lowercase letters, digits, '-' and '.'.")
        }
    })
}

impl AppVault {
    /// The app's Vault side, or why one of the names cannot be used.
    pub fn new(
        namespace: &str,
        app: &str,
        mount: &str,
        path: &str,
        service_account: &str,
    ) -> Result<AppVault, String> {
        for (what, value, slashes) in [
            ("environment", namespace, false),
            ("app name", app, false),
            ("service account", service_account, false),
            ("kv mount", mount, true),
            ("secret path", path, true),
        ] {
            if let Some(why) = problem(what, value, slashes) {
                return Err(why);
            }
        }
        if namespace.contains('.') {
            return Err("The environment is a namespace name: it has no '.'.".to_owned());
        }
        Ok(AppVault {
            namespace: namespace.to_owned(),
            app: app.to_owned(),
            mount: mount.to_owned(),
            path: path.to_owned(),
            service_account: service_account.to_owned(),
        })
    }

    pub fn mount(&self) -> &str {
        &self.mount
    }

    pub fn path(&self) -> &str {
        &self.path
    }
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
