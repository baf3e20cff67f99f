//! The cluster side of a secret: is the change live, do the pods use it, "Sync now" and
//! "Restart".
//!
//! Reads come from the shared watch caches (`keyway_k8s::cache`), never from the apiserver per
//! request. Writes are made by Keyway's own Kubernetes account, so Vault decides first
//! ([`authorize`]). Every attempt is audited (intent before, outcome after, through
//! `Core::audited`), refusals too. Split by job: [`wording`] maps the cluster's state to the UI's
//! DTOs, [`authorize`] asks Vault, [`restart`] plans restarts and makes the writes.

mod authorize;
mod restart;
mod wording;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use jiff::Timestamp;
use keyway_app::backend::ClusterApi;
use keyway_app::dto::{ActionDone, AppRef, AppsPage, ClusterStatus, SecretRef, WorkloadRef};
use keyway_app::error::AppError;
use keyway_k8s::apps;
use keyway_k8s::cache::Caches;
use keyway_k8s::snapshot;
use keyway_k8s::status::{self, VaultVersion};

use super::{check_secret, Caller, Core, RequestBackend};

pub use authorize::grant_path;
pub(super) use wording::app_dto;

/// How long a restart is refused after the previous one, so a double click or two people at
/// once do not roll an app twice.
pub const RESTART_COOLDOWN_SECS: i64 = 30;
/// How long "Sync now, then restart" waits for the operator to copy the version.
pub const SYNC_WAIT: Duration = Duration::from_secs(45);

/// A workload this process restarted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Restarted {
    pub namespace: String,
    pub workload: WorkloadRef,
}

/// Keyway's connection to the cluster: its client and the shared caches.
pub struct ClusterCtx {
    pub client: kube::Client,
    pub caches: Caches,
    /// Workloads this process restarted, and when: closes the window between a patch and the
    /// watch event that shows it, so two clicks at the same moment restart once.
    pub recent: Mutex<HashMap<Restarted, Instant>>,
}

impl ClusterCtx {
    pub fn new(client: kube::Client, caches: Caches) -> Self {
        Self {
            client,
            caches,
            recent: Default::default(),
        }
    }

    /// Claims the right to restart these workloads now; refuses if one was claimed within the
    /// cooldown.
    fn claim(&self, namespace: &str, targets: &[WorkloadRef]) -> Result<(), AppError> {
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        let cooldown = Duration::from_secs(RESTART_COOLDOWN_SECS as u64);
        recent.retain(|_, at| at.elapsed() < cooldown);
        let keys: Vec<Restarted> = targets
            .iter()
            .map(|w| Restarted {
                namespace: namespace.to_string(),
                workload: w.clone(),
            })
            .collect();
        if let Some(k) = keys.iter().find(|k| recent.contains_key(k)) {
            return Err(AppError::Invalid(format!(
                "{} was just restarted; wait a moment before restarting it again.",
                k.workload.name
            )));
        }
        let now = Instant::now();
        recent.extend(keys.into_iter().map(|k| (k, now)));
        Ok(())
    }
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
    pub(super) async fn vault_version(
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
        let snap = snapshot::snapshot(&k.caches);
        let refs = snap.apps_for(&s.mount, &s.path);
        let grants = self.grants(caller, s, &refs).await?;
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
