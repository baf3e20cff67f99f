//! The cluster side of an app: is the change live, do the pods use it, "Sync now" and "Restart".
//!
//! Reads come from the shared watch caches (`keyway_k8s::cache`), never from the apiserver per
//! request. Writes are made by Keyway's own Kubernetes account, so Vault decides first: the
//! caller's token must have `update` on `keyway/restart/<namespace>/<app>` (a path no engine
//! serves, which policies can grant per environment and app), and `read` on the kv path the app
//! copies. The app must copy the `env/app` the request names, so a forged call cannot reach
//! another team's app. Every attempt is audited (intent before, outcome after), refusals too.

use std::time::Duration;

use jiff::Timestamp;
use keyway_app::dto::*;
use keyway_app::error::AppError;
use keyway_k8s::actions::{self, ActionError};
use keyway_k8s::apps::{self, AppRef, AppView};
use keyway_k8s::cache::Caches;
use keyway_k8s::snapshot::{self, Snapshot};
use keyway_k8s::status::{self, AutoRestart, Live, Pods, Rollout, VaultVersion, WorkloadKind};
use keyway_store::Outcome;

use super::{audit_error, check_target, vault_error, Caller, Core};

/// Keyway's connection to the cluster: its client and the shared caches.
pub struct ClusterCtx {
    pub client: kube::Client,
    pub caches: Caches,
    /// Workloads this process restarted, and when: closes the window between a patch and the
    /// watch event that shows it, so two clicks at the same moment restart once.
    pub recent: std::sync::Mutex<
        std::collections::HashMap<(WorkloadKind, String, String), std::time::Instant>,
    >,
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
    fn claim(&self, namespace: &str, targets: &[(WorkloadKind, String)]) -> Result<(), AppError> {
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        let cooldown = Duration::from_secs(RESTART_COOLDOWN_SECS as u64);
        recent.retain(|_, at| at.elapsed() < cooldown);
        for (kind, name) in targets {
            if recent.contains_key(&(*kind, namespace.to_string(), name.clone())) {
                return Err(AppError::Invalid(format!(
                    "{name} was just restarted; wait a moment before restarting it again."
                )));
            }
        }
        let now = std::time::Instant::now();
        for (kind, name) in targets {
            recent.insert((*kind, namespace.to_string(), name.clone()), now);
        }
        Ok(())
    }
}

/// How long a restart is refused after the previous one, so a double click or two people at
/// once do not roll an app twice.
pub const RESTART_COOLDOWN_SECS: i64 = 30;
/// How long "Sync now, then restart" waits for the operator to copy the version.
pub const SYNC_WAIT: Duration = Duration::from_secs(45);

/// The Vault path whose `update` capability allows restarting and syncing an app.
pub fn grant_path(namespace: &str, app: &str) -> String {
    format!("keyway/restart/{namespace}/{app}")
}

fn secs(t: Timestamp) -> i64 {
    t.as_second()
}

fn kind_word(k: WorkloadKind) -> &'static str {
    match k {
        WorkloadKind::Deployment => "Deployment",
        WorkloadKind::StatefulSet => "StatefulSet",
        WorkloadKind::DaemonSet => "DaemonSet",
    }
}

fn parse_kind(s: &str) -> Option<WorkloadKind> {
    match s {
        "Deployment" => Some(WorkloadKind::Deployment),
        "StatefulSet" => Some(WorkloadKind::StatefulSet),
        "DaemonSet" => Some(WorkloadKind::DaemonSet),
        _ => None,
    }
}

fn auto_word(a: AutoRestart) -> String {
    match a {
        AutoRestart::Reloader => "Reloader restarts it when the secret changes".into(),
        AutoRestart::VsoRolloutTarget => {
            "the app's sync settings restart it when the secret changes".into()
        }
    }
}

fn live_dto(l: Live) -> LiveState {
    match l {
        Live::Live { version, since } => LiveState::Live {
            version,
            since: secs(since),
        },
        Live::Pending {
            cluster_version,
            vault_version,
            written,
            next_refresh_due,
        } => LiveState::Pending {
            cluster_version,
            vault_version,
            written: secs(written),
            next_refresh_due: next_refresh_due.map(secs),
        },
        Live::Failing {
            sentence,
            detail,
            since,
        } => LiveState::Failing {
            sentence,
            detail,
            since: secs(since),
        },
        Live::Pinned { version, current } => LiveState::Pinned { version, current },
        Live::NotSetUp => LiveState::NotSetUp,
        Live::Unknown { reason } => LiveState::Unknown { reason },
    }
}

fn pods_dto(p: Pods) -> PodsState {
    match p {
        Pods::UpToDate => PodsState::UpToDate,
        Pods::RestartNeeded { since } => PodsState::RestartNeeded { since: secs(since) },
        Pods::WillRestartAutomatically { by } => {
            PodsState::WillRestartAutomatically { by: auto_word(by) }
        }
        Pods::Restarting {
            message,
            updated,
            total,
        } => PodsState::Restarting {
            message,
            updated,
            total,
        },
        Pods::RestartFailed { reason } => PodsState::RestartFailed { reason },
    }
}

pub(super) fn app_dto(v: AppView, may_act: bool) -> ClusterApp {
    let grant = grant_path(&v.app.namespace, &v.app.name);
    ClusterApp {
        namespace: v.app.namespace,
        name: v.app.name,
        live: live_dto(v.live),
        workloads: v
            .workloads
            .into_iter()
            .map(|w| WorkloadState {
                kind: kind_word(w.kind).into(),
                name: w.name,
                pods: pods_dto(w.pods),
                auto_restart: w.auto_restart.map(auto_word),
                restart_refusal: w.restart_refusal,
                replicas: w.replicas,
                ready: w.ready,
            })
            .collect(),
        may_act,
        grant_path: grant,
        details: AppDetails {
            secret: v.app.secret,
            refresh_after: v.details.refresh_after,
            synced_version: v.details.synced_version,
            secret_changed: v.details.secret_changed.map(secs),
            conditions: v
                .details
                .conditions
                .into_iter()
                .map(|c| ClusterCondition {
                    kind: c.type_,
                    status: c.status,
                    reason: c.reason,
                    message: c.message,
                    at: secs(c.last_transition),
                })
                .collect(),
            events: v
                .details
                .events
                .into_iter()
                .map(|e| ClusterEvent {
                    warning: e.warning,
                    reason: e.reason,
                    message: e.message,
                    at: secs(e.last_seen),
                })
                .collect(),
        },
    }
}

/// What a restart request will do.
enum Plan {
    /// Patch these workloads; the pods will run this Vault version.
    Restart(Vec<(WorkloadKind, String)>, Option<VaultVersion>),
    /// Synced; these workloads restart by themselves, nothing to patch.
    SyncedOnly(Vec<String>),
}

/// The restart guards: each workload exists and uses the app's Secret, is not paused or
/// OnDelete, is not rolling, and was not restarted within the cooldown.
fn guards(
    snap: &Snapshot,
    app_ref: &AppRef,
    targets: &[(WorkloadKind, String)],
) -> Result<(), AppError> {
    let now = Timestamp::now();
    for (kind, wname) in targets {
        let Some((can, rollout, _)) = apps::workload_restartable(snap, app_ref, *kind, wname)
        else {
            return Err(AppError::NotFound(format!(
                "\"{wname}\" is no longer in the cluster."
            )));
        };
        can.map_err(|why| AppError::Invalid(format!("{wname}: {why}")))?;
        if let Rollout::InProgress { .. } = rollout {
            return Err(AppError::Invalid(format!(
                "{wname} is already restarting; wait for it to finish."
            )));
        }
        if let Some(last) = apps::last_restart(snap, &app_ref.namespace, *kind, wname) {
            let ago = now.as_second() - last.as_second();
            if ago < RESTART_COOLDOWN_SECS {
                return Err(AppError::Invalid(format!(
                    "{wname} was restarted {ago} s ago; wait {} s before restarting it again.",
                    RESTART_COOLDOWN_SECS - ago
                )));
            }
        }
    }
    Ok(())
}

fn action_error(e: ActionError) -> AppError {
    match e {
        ActionError::Forbidden => {
            tracing::error!(
                "Keyway's Kubernetes account was refused a patch: check deploy/rbac.yaml"
            );
            AppError::Unavailable(e.to_string())
        }
        ActionError::NotFound => AppError::NotFound(e.to_string()),
        ActionError::Unreachable => AppError::Unavailable(e.to_string()),
        ActionError::Other(ref m) => {
            tracing::warn!(message = %m, "the cluster refused a patch");
            AppError::Invalid(e.to_string())
        }
    }
}

impl Core {
    fn cluster(&self) -> Result<&ClusterCtx, AppError> {
        self.cluster.as_deref().ok_or_else(|| {
            AppError::Unavailable("This Keyway is not connected to a cluster.".into())
        })
    }

    /// The latest version of `env/app` as the caller may see it: from metadata, else from
    /// subkeys (which carry the version's metadata without values); None if neither is allowed.
    pub(super) async fn vault_version(
        &self,
        caller: &Caller,
        env: &str,
        app: &str,
    ) -> Option<VaultVersion> {
        let parse = |t: &str| t.parse::<Timestamp>().ok();
        if let Ok(Some(m)) = self.vault.kv_metadata(&caller.token, env, app).await {
            let created = m
                .versions
                .get(&m.current_version)
                .and_then(|v| parse(&v.created_time))?;
            return Some(VaultVersion {
                version: m.current_version,
                created,
            });
        }
        match self.vault.kv_subkeys(&caller.token, env, app, None).await {
            Ok(Some((_, meta))) => Some(VaultVersion {
                version: meta.version,
                created: parse(&meta.created_time)?,
            }),
            _ => None,
        }
    }

    /// The caller's capabilities on the kv data path and on each app's grant path.
    async fn cluster_caps(
        &self,
        caller: &Caller,
        env: &str,
        app: &str,
        apps: &[AppRef],
    ) -> Result<(bool, Vec<bool>), AppError> {
        let data = format!("{env}/data/{app}");
        let mut paths = vec![data.clone()];
        paths.extend(apps.iter().map(|a| grant_path(&a.namespace, &a.name)));
        let caps = self
            .vault
            .capabilities_self(&caller.token, &paths)
            .await
            .map_err(|e| vault_error(e, "see this app's status"))?;
        let has = |p: &str, c: &str| {
            caps.get(p)
                .is_some_and(|l| l.iter().any(|x| x == c || x == "root"))
        };
        let read = has(&data, "read");
        let acts = apps
            .iter()
            .map(|a| has(&grant_path(&a.namespace, &a.name), "update"))
            .collect();
        Ok((read, acts))
    }

    pub async fn cluster_status(
        &self,
        caller: &Caller,
        env: &str,
        app: &str,
    ) -> Result<ClusterStatus, AppError> {
        check_target(env, app)?;
        let Some(k) = self.cluster.as_deref() else {
            return Ok(ClusterStatus {
                configured: false,
                problem: None,
                apps: vec![],
            });
        };
        let snap = snapshot::snapshot(&k.caches);
        let refs = snap.apps_for(env, app);
        let (read, acts) = self.cluster_caps(caller, env, app, &refs).await?;
        if !read {
            return Err(AppError::Denied(
                "You may not see this app's status: your Vault policies do not allow reading it."
                    .into(),
            ));
        }
        let vault = self.vault_version(caller, env, app).await;
        let now = Timestamp::now();
        let apps = refs
            .iter()
            .zip(acts)
            .filter_map(|(r, may)| apps::view(&snap, r, vault, now).map(|v| app_dto(v, may)))
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

    /// The app `namespace/name`, if it copies `env/app` and the caller may act on it. A refusal
    /// is audited.
    async fn authorize(
        &self,
        caller: &Caller,
        env: &str,
        app: &str,
        namespace: &str,
        name: &str,
        action: &str,
    ) -> Result<AppRef, AppError> {
        check_target(env, app)?;
        let k = self.cluster()?;
        let found = snapshot::fresh(&k.caches)
            .apps_for(env, app)
            .into_iter()
            .find(|a| a.namespace == namespace && a.name == name);
        let Some(app_ref) = found else {
            let detail = format!("{namespace}/{name}: refused: no such app uses this secret");
            self.refused(caller, action, env, app, &detail).await?;
            return Err(AppError::NotFound(format!(
                "No app \"{name}\" in environment \"{namespace}\" uses this secret."
            )));
        };
        let caps = self
            .cluster_caps(caller, env, app, std::slice::from_ref(&app_ref))
            .await;
        let (read, acts) = match caps {
            Ok(c) => c,
            Err(e) => {
                let detail = format!("{namespace}/{name}: refused: Vault could not be asked ({e})");
                self.refused(caller, action, env, app, &detail).await?;
                return Err(e);
            }
        };
        if !(read && acts[0]) {
            let detail = format!(
                "{namespace}/{name}: refused by Vault policy ({})",
                grant_path(namespace, name)
            );
            self.refused(caller, action, env, app, &detail).await?;
            return Err(AppError::Denied(format!(
                "You may not restart or sync this app: your Vault policies do not grant `update` on {}.",
                grant_path(namespace, name)
            )));
        }
        Ok(app_ref)
    }

    pub async fn sync_now(
        &self,
        caller: &Caller,
        env: &str,
        app: &str,
        namespace: &str,
        name: &str,
    ) -> Result<ActionDone, AppError> {
        let k = self.cluster()?;
        let app_ref = self
            .authorize(caller, env, app, namespace, name, "sync_now")
            .await?;
        self.sync_audited(caller, k, env, app, &app_ref).await?;
        Ok(ActionDone {
            message: format!("Asked the cluster to copy the latest version for {name} now."),
        })
    }

    async fn sync_audited(
        &self,
        caller: &Caller,
        k: &ClusterCtx,
        env: &str,
        app: &str,
        a: &AppRef,
    ) -> Result<(), AppError> {
        let event = caller
            .event("sync_now", env, app)
            .detail(format!("{}/{}", a.namespace, a.name));
        let intent = self.audit.begin(event).await.map_err(audit_error)?;
        let r = actions::sync_now(&k.client, &a.namespace, &a.name, Timestamp::now()).await;
        let (outcome, note) = match &r {
            Ok(()) => (Outcome::Ok, None),
            Err(e) => (Outcome::Error, Some(e.to_string())),
        };
        if let Err(e) = self
            .audit
            .finish(&intent, outcome, None, note.as_deref())
            .await
        {
            tracing::error!(error = %e, intent = intent.seq(), "could not record an outcome");
        }
        r.map_err(action_error)
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn restart(
        &self,
        caller: &Caller,
        env: &str,
        app: &str,
        namespace: &str,
        name: &str,
        workload: Option<(String, String)>,
        sync_first: bool,
    ) -> Result<ActionDone, AppError> {
        let k = self.cluster()?;
        let app_ref = self
            .authorize(caller, env, app, namespace, name, "restart")
            .await?;
        let planned = match self
            .restart_plan(caller, k, env, app, &app_ref, workload, sync_first)
            .await
        {
            Ok(Plan::Restart(targets, vault)) => k
                .claim(&app_ref.namespace, &targets)
                .map(|()| (targets, vault)),
            Ok(Plan::SyncedOnly(names)) => {
                return Ok(ActionDone {
                    message: format!(
                        "The cluster now has the latest version; {} restart by themselves.",
                        names.join(", ")
                    ),
                })
            }
            Err(e) => Err(e),
        };
        let (targets, vault) = match planned {
            Ok(plan) => plan,
            Err(e) => {
                let detail = format!("{}/{}: refused: {}", app_ref.namespace, app_ref.name, e);
                self.refused(caller, "restart", env, app, &detail).await?;
                return Err(e);
            }
        };
        let names: Vec<String> = targets.iter().map(|(_, n)| n.clone()).collect();
        let event = caller
            .event("restart", env, app)
            .versions(None, vault.map(|v| v.version as i64))
            .detail(format!(
                "{}/{}: {}",
                app_ref.namespace,
                app_ref.name,
                names.join(", ")
            ));
        let intent = self.audit.begin(event).await.map_err(audit_error)?;
        let mut failed = None;
        for (kind, wname) in &targets {
            if let Err(e) = actions::restart(
                &k.client,
                *kind,
                &app_ref.namespace,
                wname,
                Timestamp::now(),
            )
            .await
            {
                failed = Some((wname.clone(), e));
                break;
            }
        }
        let (outcome, note) = match &failed {
            None => (Outcome::Ok, None),
            Some((w, e)) => (Outcome::Error, Some(format!("{w}: {e}"))),
        };
        if let Err(e) = self
            .audit
            .finish(&intent, outcome, None, note.as_deref())
            .await
        {
            tracing::error!(error = %e, intent = intent.seq(), "could not record an outcome");
        }
        if let Some((_, e)) = failed {
            return Err(action_error(e));
        }
        Ok(ActionDone {
            message: if names.len() == 1 {
                format!("Restarting {}.", names[0])
            } else {
                format!("Restarting {}.", names.join(", "))
            },
        })
    }
    /// What a restart will patch, after its guards (see [`guards`]), once the cluster holds the
    /// current version: synced first when asked (then the workloads that restart by themselves
    /// are left to do so, and the guards run again), refused otherwise.
    #[allow(clippy::too_many_arguments)]
    async fn restart_plan(
        &self,
        caller: &Caller,
        k: &ClusterCtx,
        env: &str,
        app: &str,
        app_ref: &AppRef,
        workload: Option<(String, String)>,
        sync_first: bool,
    ) -> Result<Plan, AppError> {
        let snap = snapshot::fresh(&k.caches);
        let all = apps::workload_names(&snap, app_ref);
        let targets: Vec<(WorkloadKind, String)> = match &workload {
            Some((kind, wname)) => {
                let kind = parse_kind(kind).ok_or_else(|| {
                    AppError::Invalid(format!("Unknown kind of workload \"{kind}\"."))
                })?;
                let t = all
                    .iter()
                    .find(|(k2, n)| *k2 == kind && n == wname)
                    .cloned();
                vec![t.ok_or_else(|| {
                    AppError::NotFound(format!("\"{wname}\" does not use this app's secret."))
                })?]
            }
            None => all,
        };
        if targets.is_empty() {
            return Err(AppError::Invalid(
                "Nothing in the cluster uses this app's secret, so there is nothing to restart."
                    .into(),
            ));
        }
        guards(&snap, app_ref, &targets)?;
        // The pods must start on the current version: never restart onto an old copy.
        let vault = self.vault_version(caller, env, app).await;
        let state = |s: &Snapshot| apps::view(s, app_ref, vault, Timestamp::now()).map(|v| v.live);
        match state(&snap) {
            Some(Live::Live { .. } | Live::Pinned { .. }) => return Ok(Plan::Restart(targets, vault)),
            Some(Live::Pending { .. }) if sync_first => {}
            Some(Live::Pending { .. }) => {
                return Err(AppError::Invalid(
                    "The cluster does not have the latest version yet, so a restart would start the old one. Use “Sync now, then restart”.".into(),
                ))
            }
            Some(Live::Failing { sentence, .. }) => {
                return Err(AppError::Invalid(format!(
                    "{sentence} A restart would start the old copy, so nothing was restarted."
                )))
            }
            Some(Live::Unknown { reason }) => {
                return Err(AppError::Unavailable(format!("{reason} Nothing was restarted.")))
            }
            Some(Live::NotSetUp) | None => {
                return Err(AppError::NotFound("This app is no longer in the cluster.".into()))
            }
        }
        self.sync_audited(caller, k, env, app, app_ref).await?;
        let deadline = tokio::time::Instant::now() + SYNC_WAIT;
        loop {
            // The shared snapshot (at most a second old): no index rebuild per poll.
            match state(&snapshot::snapshot(&k.caches)) {
                Some(Live::Live { .. } | Live::Pinned { .. }) => break,
                Some(Live::Failing { sentence, .. }) => {
                    return Err(AppError::Invalid(format!(
                        "{sentence} Nothing was restarted."
                    )))
                }
                _ => {}
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(AppError::Unavailable(format!(
                    "The cluster did not copy the latest version within {} s, so nothing was restarted. Check the app's sync status.",
                    SYNC_WAIT.as_secs()
                )));
            }
            tokio::time::sleep(Duration::from_millis(250)).await; // poll interval over the cache
        }
        // The sync itself restarts what Reloader or the app's restart list watch: leave those to
        // it (a second restart would roll them twice), and check the rest again.
        let snap = snapshot::fresh(&k.caches);
        let (auto, manual): (Vec<_>, Vec<_>) = targets.into_iter().partition(|(kind, n)| {
            apps::workload_restartable(&snap, app_ref, *kind, n)
                .is_some_and(|(_, _, a)| a.is_some())
        });
        if manual.is_empty() {
            return Ok(Plan::SyncedOnly(auto.into_iter().map(|(_, n)| n).collect()));
        }
        guards(&snap, app_ref, &manual)?;
        Ok(Plan::Restart(manual, vault))
    }

    /// Records a refused attempt on the audit log (the refusal itself is returned by the caller).
    async fn refused(
        &self,
        caller: &Caller,
        action: &str,
        env: &str,
        app: &str,
        detail: &str,
    ) -> Result<(), AppError> {
        let event = caller
            .event(action, env, app)
            .outcome(Outcome::Denied)
            .detail(detail.to_string());
        self.audit
            .record(event)
            .await
            .map(|_| ())
            .map_err(audit_error)
    }
}
