//! What Vault holds now, as far as one environment's access page needs it: every group (with
//! its policies and members), every ACL policy's text (parsed), the entities and auth mounts.
//! Read with the caller's token; a developer's token is refused here by Vault itself.
//!
//! Bounded: at most [`MAX_GROUPS`] groups and [`MAX_POLICIES`] policies are read (concurrently,
//! [`READS`] at a time); past that the page says it stopped, and Keyway never writes on the basis
//! of a partial read of a group it changes (the apply re-reads each group it writes).

use std::collections::BTreeMap;

use futures::{stream, StreamExt};
use keyway_app::error::AppError;
use keyway_vault::{AclPolicy, AuthMethod, EntitySummary, Group};

use super::super::{vault_error, Caller, Core};

/// Most groups read for one page.
pub const MAX_GROUPS: usize = 500;
/// Most policies read for one page.
pub const MAX_POLICIES: usize = 500;
/// Most entities kept for one page (member labels, the member search, a named user).
pub const MAX_ENTITIES: usize = 5000;
/// Concurrent reads.
const READS: usize = 16;

/// One policy as read, with its parsed rules (None when Keyway cannot parse it).
pub(super) struct ReadPolicy {
    pub stored: AclPolicy,
    pub parsed: Option<keyway_policy::Policy>,
    pub managed: bool,
}

/// Vault's current state.
pub(super) struct VaultState {
    pub groups: Vec<Group>,
    pub policies: BTreeMap<String, ReadPolicy>,
    pub entities: Vec<EntitySummary>,
    pub auth: Vec<AuthMethod>,
    /// Why the read stopped short, if it did.
    pub cut: Option<String>,
    /// Whether every group was read (not cut at [`MAX_GROUPS`]): a group's parents, whose
    /// policies its members get too, are known only then.
    pub all_groups: bool,
}

impl VaultState {
    /// Whether this server versions policies (OpenBao's check-and-set); HashiCorp Vault does
    /// not. Told by any policy read (`default` always exists).
    pub fn policy_cas(&self) -> bool {
        self.policies.values().any(|p| p.stored.version.is_some())
    }

    /// The fingerprint of a policy as read now.
    pub fn seen(&self, name: &str) -> keyway_app::dto::SeenPolicy {
        keyway_app::dto::SeenPolicy {
            name: name.to_owned(),
            sha256: self.policies.get(name).map(|p| text_sha(&p.stored.text)),
        }
    }
}

impl VaultState {
    /// The group `id` and every group it is a member of, directly or through others: a
    /// member of `id` gets the policies of all of them.
    pub fn group_and_parents(&self, id: &str) -> Vec<&Group> {
        let mut out: Vec<&Group> = self.group(id).into_iter().collect();
        let mut i = 0;
        while i < out.len() {
            let child = out[i].id.clone();
            for g in &self.groups {
                if g.member_group_ids.contains(&child) && !out.iter().any(|o| o.id == g.id) {
                    out.push(g);
                }
            }
            i += 1;
        }
        out
    }

    pub fn group(&self, id: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.id == id)
    }

    /// The group of this name. Vault matches group names without regard to case (and a write
    /// to `identity/group` with a taken name updates that group), so this does too.
    pub fn group_named(&self, name: &str) -> Option<&Group> {
        self.groups
            .iter()
            .find(|g| g.name.eq_ignore_ascii_case(name))
    }

    /// The entity's label: its name and login names (`bob (userpass: bob)`).
    pub fn entity_label(&self, id: &str) -> String {
        match self.entities.iter().find(|e| e.id == id) {
            Some(e) => entity_label(e),
            None => format!("{id} (no longer in Vault)"),
        }
    }

    /// The auth mount path of an accessor.
    pub fn mount_of(&self, accessor: &str) -> String {
        self.auth
            .iter()
            .find(|m| m.accessor == accessor)
            .map(|m| m.path.clone())
            .unwrap_or_else(|| accessor.to_owned())
    }
}

/// The SHA-256 of a policy's text, in hex: how a page's read of a policy is compared with a
/// later one, and how an audit row names the text it wrote.
pub(super) fn text_sha(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// `bob (userpass: bob)`.
pub(super) fn entity_label(e: &EntitySummary) -> String {
    let logins: Vec<String> = e
        .aliases
        .iter()
        .map(|a| {
            format!(
                "{}: {}",
                a.mount_path
                    .trim_start_matches("auth/")
                    .trim_end_matches('/'),
                a.name
            )
        })
        .collect();
    if logins.is_empty() {
        e.name.clone()
    } else {
        format!("{} ({})", e.name, logins.join(", "))
    }
}

impl Core {
    /// `read` for each key, [`READS`] at a time, in order; the first error wins. Each future owns
    /// its key and clones of the client and token: a stream of borrowing futures is not `Send`
    /// for every lifetime, which the async trait needs.
    async fn read_each<T, Fut>(
        &self,
        caller: &Caller,
        keys: impl Iterator<Item = String>,
        read: impl Fn(keyway_vault::Vault, keyway_vault::SecretString, String) -> Fut,
    ) -> Result<Vec<T>, keyway_vault::VaultError>
    where
        Fut: std::future::Future<Output = Result<T, keyway_vault::VaultError>>,
    {
        stream::iter(keys)
            .map(|key| read(self.vault.clone(), caller.token.clone(), key))
            .buffered(READS)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect()
    }

    /// Reads every group, policy, entity and auth mount the page needs; the policies named in
    /// `always` (the environment's own) are read even past [`MAX_POLICIES`].
    pub(super) async fn vault_state(
        &self,
        caller: &Caller,
        always: &[String],
    ) -> Result<VaultState, AppError> {
        let doing = "manage access";
        let token = &caller.token;
        let (ids, names, entities, auth) = tokio::join!(
            self.vault.group_ids(token),
            self.vault.acl_policy_names(token),
            self.vault.entities(token),
            self.vault.auth_methods(token),
        );
        let mut cut = Vec::new();
        let ids = ids.map_err(|e| vault_error(e, doing))?;
        let names = names.map_err(|e| vault_error(e, doing))?;
        let mut entities = entities.map_err(|e| vault_error(e, doing))?;
        if entities.len() > MAX_ENTITIES {
            cut.push(format!(
                "the first {MAX_ENTITIES} of {} people",
                entities.len()
            ));
            entities.truncate(MAX_ENTITIES);
        }
        let auth = auth.map_err(|e| vault_error(e, doing))?;
        if ids.len() > MAX_GROUPS {
            cut.push(format!("the first {MAX_GROUPS} of {} groups", ids.len()));
        }
        if names.len() > MAX_POLICIES {
            cut.push(format!(
                "the first {MAX_POLICIES} of {} policies",
                names.len()
            ));
        }
        let group_count = ids.len();
        let ids = ids.into_iter().take(MAX_GROUPS).map(|(id, _)| id);
        let groups: Vec<Option<Group>> = self
            .read_each(
                caller,
                ids,
                |v, t, id| async move { v.group(&t, &id).await },
            )
            .await
            .map_err(|e| vault_error(e, doing))?;
        let mut names: Vec<String> = names.into_iter().take(MAX_POLICIES).collect();
        for name in always {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
        let names = names.into_iter();
        let read: Vec<Option<AclPolicy>> = self
            .read_each(caller, names, |v, t, name| async move {
                v.acl_policy(&t, &name).await
            })
            .await
            .map_err(|e| vault_error(e, doing))?;
        let policies = read
            .into_iter()
            .flatten()
            .map(|p| {
                let parsed = keyway_policy::parse(&p.text).ok();
                let managed = keyway_policy::is_managed(&p.text);
                (
                    p.name.clone(),
                    ReadPolicy {
                        stored: p,
                        parsed,
                        managed,
                    },
                )
            })
            .collect();
        let all_groups = group_count <= MAX_GROUPS;
        Ok(VaultState {
            all_groups,
            groups: groups.into_iter().flatten().collect(),
            policies,
            entities,
            auth,
            cut: (!cut.is_empty()).then(|| {
                format!(
                    "Keyway read only {}; search Vault for the rest.",
                    cut.join(" and ")
                )
            }),
        })
    }
}
