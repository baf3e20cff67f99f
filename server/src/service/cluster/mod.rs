//! The cluster side of a secret: is the change live, do the pods use it, "Sync now" and
//! "Restart".
//!
//! Reads come from the shared watch caches (`keyway_k8s::cache`), never from the apiserver per
//! request. Writes are made by Keyway's own Kubernetes account, so Vault decides first
//! ([`authorize`]). Every attempt is audited (intent before, outcome after, through
//! `Core::audited`), refusals too. Split by job: [`wording`] maps the cluster's state to the UI's
//! DTOs, [`authorize`] asks Vault, [`restart`] plans restarts and makes the writes; [`observer`]
//! notes what happens in the cluster and [`timeline`] joins it with Vault and the audit log.

mod authorize;
pub mod observer;
mod restart;
mod timeline;
mod wording;

use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use keyway_app::backend::ClusterApi;
use keyway_app::dto::{ActionDone, AppRef, AppsPage, ClusterStatus, SecretRef, WorkloadRef};
use keyway_app::error::AppError;
use keyway_k8s::apps;
use keyway_k8s::cache::Caches;
use keyway_k8s::snapshot;
use keyway_k8s::status::{self, VaultVersion};
use keyway_store::observations::Observations;
use keyway_store::{ClaimId, ClaimKey, RestartClaims};

use super::{check_secret, Caller, Core, RequestBackend};

use authorize::AppId;
pub(super) use wording::{app_dto, kind_from_k8s, kind_to_k8s};

/// How long a restart is refused after the previous one, so a double click or two people at
/// once do not roll an app twice.
pub const RESTART_COOLDOWN_SECS: i64 = 30;
/// How long "Sync now, then restart" waits for the operator to copy the version.
pub const SYNC_WAIT: Duration = Duration::from_secs(45);

/// Keyway's connection to the cluster: its client, the shared caches, and the restart claims
/// every replica shares.
pub struct ClusterCtx {
    pub client: kube::Client,
    pub caches: Caches,
    /// Workloads claimed for a restart, in the database: closes the window between a patch and
    /// the watch event that shows it, so two clicks at the same moment, on this replica or on
    /// another, restart once.
    claims: RestartClaims,
    /// Fleet health's classification of the last snapshot.
    pub fleet: super::fleet::FleetCache,
    /// What [`observer`] saw happen, for the timeline.
    pub observations: Observations,
}

impl ClusterCtx {
    pub fn new(
        client: kube::Client,
        caches: Caches,
        claims: RestartClaims,
        observations: Observations,
    ) -> Self {
        Self {
            client,
            caches,
            claims,
            fleet: Default::default(),
            observations,
        }
    }

    /// Claims the right to restart these workloads now, for the cooldown; refuses if one of them
    /// is claimed already.
    async fn claim(&self, namespace: &str, targets: &[WorkloadRef]) -> Result<ClaimId, AppError> {
        let keys = claim_keys(namespace, targets);
        let cooldown = Duration::from_secs(RESTART_COOLDOWN_SECS as u64);
        match self.claims.claim(&keys, cooldown).await {
            Ok(Ok(id)) => Ok(id),
            Ok(Err(held)) => Err(AppError::Invalid(format!(
                "{} was just restarted; wait a moment before restarting it again.",
                held.name
            ))),
            Err(e) => Err(AppError::Unavailable(e.to_string())),
        }
    }

    /// Gives back claim `id`'s hold on workloads that were not patched after all. Best effort: a
    /// claim that cannot be given back only makes the next click wait out the cooldown.
    async fn release(&self, id: &ClaimId, namespace: &str, targets: &[WorkloadRef]) {
        if targets.is_empty() {
            return;
        }
        if let Err(e) = self
            .claims
            .release(id, &claim_keys(namespace, targets))
            .await
        {
            tracing::warn!(error = %e, "restart claims could not be given back; they run out with the cooldown");
        }
    }
}

fn claim_keys(namespace: &str, targets: &[WorkloadRef]) -> Vec<ClaimKey> {
    targets
        .iter()
        .map(|w| ClaimKey {
            namespace: namespace.to_string(),
            kind: w.kind.as_str().to_string(),
            name: w.name.clone(),
        })
        .collect()
}

#[async_trait]
impl ClusterApi for RequestBackend {
    async fn cluster_apps(&self, query: &str, page: u32) -> Result<AppsPage, AppError> {
        self.with_caller(|c| async move { self.core.cluster_apps(&c, query, page).await })
            .await
    }

    async fn cluster_status(&self, s: &SecretRef) -> Result<ClusterStatus, AppError> {
        self.with_caller(|c| async move { self.core.cluster_status(&c, s).await })
            .await
    }

    async fn sync_now(&self, s: &SecretRef, app: &AppRef) -> Result<ActionDone, AppError> {
        self.with_caller(|c| async move { self.core.sync_now(&c, s, app).await })
            .await
    }

    async fn restart(
        &self,
        s: &SecretRef,
        app: &AppRef,
        workload: Option<WorkloadRef>,
        sync_first: bool,
    ) -> Result<ActionDone, AppError> {
        self.with_caller(
            |c| async move { self.core.restart(&c, s, app, workload, sync_first).await },
        )
        .await
    }
}

impl Core {
    fn cluster(&self) -> Result<&ClusterCtx, AppError> {
        self.cluster.as_deref().ok_or_else(|| {
            AppError::Unavailable("This Keyway is not connected to a cluster.".into())
        })
    }

    /// The latest version of the secret as the caller may see it: from metadata, else from
    /// subkeys (which carry the version's metadata without values); None if neither is allowed.
    pub(in crate::service) async fn vault_version(
        &self,
        caller: &Caller,
        s: &SecretRef,
    ) -> Option<VaultVersion> {
        let parse = |t: &str| t.parse::<Timestamp>().ok();
        let (token, mount, path) = (&caller.token, s.mount.as_str(), s.path.as_str());
        if let Ok(Some(m)) = self.vault.kv_metadata(token, mount, path).await {
            let created = m
                .versions
                .get(&m.current_version)
                .and_then(|v| parse(&v.created_time))?;
            return Some(VaultVersion {
                version: m.current_version,
                created,
            });
        }
        match self.vault.kv_subkeys(token, mount, path, None).await {
            Ok(Some((_, meta))) => Some(VaultVersion {
                version: meta.version,
                created: parse(&meta.created_time)?,
            }),
            _ => None,
        }
    }

    pub async fn cluster_status(
        &self,
        caller: &Caller,
        s: &SecretRef,
    ) -> Result<ClusterStatus, AppError> {
        check_secret(s)?;
        let Some(k) = self.cluster.as_deref() else {
            return Ok(ClusterStatus {
                configured: false,
                problem: None,
                apps: vec![],
            });
        };
        let snap = snapshot::snapshot(&k.caches).await;
        let refs = snap.apps_for(&s.mount, &s.path);
        let grants = self.grants(caller, s, refs.iter().map(AppId::from)).await?;
        if !grants.read {
            return Err(AppError::Denied(
                "You may not see this app's status: your Vault policies do not allow reading it."
                    .into(),
            ));
        }
        let vault = self.vault_version(caller, s).await;
        let now = Timestamp::now();
        let apps = refs
            .iter()
            .filter_map(|r| apps::view(&snap, r, vault, now).map(|v| app_dto(v, grants.may_act(r))))
            .collect();
        Ok(ClusterStatus {
            configured: true,
            problem: (!snap.health_ok).then(|| {
                tracing::warn!(problems = ?k.caches.health().problems, "cluster watches not in sync");
                status::ClusterSync::sentence(snap.cluster).to_string()
            }),
            apps,
        })
    }
}
