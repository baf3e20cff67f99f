//! The one place that spells Vault API paths Keyway asks about or grants: kv-v2's API paths
//! (`<mount>/data/<path>` and its siblings; policies and `sys/capabilities` use these, never the
//! logical `<mount>/<path>`), and Keyway's synthetic paths, which no engine serves and which
//! policies grant like any other path so that Vault decides what Keyway's own accounts do.

/// One of kv-v2's API path families.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KvApi {
    /// Versions' values: read, write (create/update), patch, soft-delete the latest.
    Data,
    /// Versions, settings, listing folders; `delete` here removes every version for good.
    Metadata,
    /// Key names without values.
    Subkeys,
    /// Soft-delete chosen versions (`update`).
    Delete,
    /// Restore soft-deleted versions (`update`).
    Undelete,
    /// Destroy versions for good (`update`); Keyway never grants it.
    Destroy,
}

impl KvApi {
    /// Every family, in kv-v2's documentation order.
    pub const ALL: [KvApi; 6] = [
        KvApi::Data,
        KvApi::Metadata,
        KvApi::Subkeys,
        KvApi::Delete,
        KvApi::Undelete,
        KvApi::Destroy,
    ];

    /// The path segment after the mount.
    pub fn as_str(self) -> &'static str {
        match self {
            KvApi::Data => "data",
            KvApi::Metadata => "metadata",
            KvApi::Subkeys => "subkeys",
            KvApi::Delete => "delete",
            KvApi::Undelete => "undelete",
            KvApi::Destroy => "destroy",
        }
    }
}

/// The kv-v2 API path `<mount>/<api>/<path>` (`path` may be empty or end in `*` in a policy).
pub fn kv(mount: &str, api: KvApi, path: &str) -> String {
    format!("{mount}/{}/{path}", api.as_str())
}

/// `update` here allows restarting and syncing the app `app` of environment `namespace`.
pub fn restart_grant(namespace: &str, app: &str) -> String {
    format!("keyway/restart/{namespace}/{app}")
}

/// The policy pattern covering [`restart_grant`] for every app of `namespace`.
pub fn restart_grants(namespace: &str) -> String {
    format!("keyway/restart/{namespace}/*")
}

/// `read` here allows seeing the fleet health of environment `namespace`.
pub fn fleet_grant(namespace: &str) -> String {
    format!("keyway/fleet/{namespace}")
}

/// `update` here allows Keyway's own account to create an app's cluster objects in `namespace`.
pub fn onboard_grant(namespace: &str) -> String {
    format!("keyway/onboard/{namespace}")
}

/// `read` here allows seeing every row of environment `namespace`'s audit history, including
/// access changes and onboarding there.
pub fn audit_grant(namespace: &str) -> String {
    format!("keyway/audit/{namespace}")
}

/// `read` here (a policy on `keyway/audit/*` grants it, and every [`audit_grant`] with it) allows
/// seeing the whole audit history: also the rows about no environment (logins, logouts).
pub const AUDIT_EVERYTHING: &str = "keyway/audit/*";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_spelled_as_vault_and_the_design_name_them() {
        assert_eq!(
            kv("dev", KvApi::Data, "payments/api"),
            "dev/data/payments/api"
        );
        assert_eq!(kv("teams/a", KvApi::Undelete, "x"), "teams/a/undelete/x");
        assert_eq!(
            restart_grant("payments", "api"),
            "keyway/restart/payments/api"
        );
        assert_eq!(restart_grants("payments"), "keyway/restart/payments/*");
        assert_eq!(fleet_grant("payments"), "keyway/fleet/payments");
        assert_eq!(onboard_grant("payments"), "keyway/onboard/payments");
    }
}
