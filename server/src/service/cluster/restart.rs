//! "Sync now" and "Restart": planning a restart (which workloads, its guards, never onto an old
//! copy), syncing first and waiting for it when asked, and the audited cluster writes.

use std::time::Duration;

use jiff::Timestamp;
use keyway_app::dto::{ActionDone, AppRef, SecretRef, WorkloadRef};
use keyway_app::error::AppError;
use keyway_k8s::actions::{self, ActionError};
use keyway_k8s::snapshot::{self, Snapshot};
use keyway_k8s::status::{Live, Rollout, VaultVersion};
use keyway_k8s::{apps, names};
use keyway_store::{Action, ClaimId};

use super::super::audit::On;
use super::super::{Caller, Core};
use super::wording::{action_error, kind_from_k8s, kind_to_k8s};
use super::{ClusterCtx, RESTART_COOLDOWN_SECS, SYNC_WAIT};

/// What a restart request will do.
enum Plan {
    /// Patch these workloads; the pods will run this Vault version.
    Restart(Vec<WorkloadRef>, Option<VaultVersion>),
    /// Synced; these workloads restart by themselves, nothing to patch.
    SyncedOnly(Vec<String>),
}

/// One restart request, as the planner sees it.
struct Ask<'a> {
    caller: &'a Caller,
    k: &'a ClusterCtx,
    secret: &'a SecretRef,
    app: &'a apps::AppRef,
}

/// The restart guards: each workload exists and uses the app's Secret, is not paused or
/// OnDelete, is not rolling, and was not restarted within the cooldown.
fn guards(snap: &Snapshot, app: &apps::AppRef, targets: &[WorkloadRef]) -> Result<(), AppError> {
    let now = Timestamp::now();
    for w in targets {
        let (kind, wname) = (kind_to_k8s(w.kind), &w.name);
        let Some((can, rollout, _)) = apps::workload_restartable(snap, app, kind, wname) else {
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
        if let Some(last) = apps::last_restart(snap, &app.namespace, kind, wname) {
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

/// The workloads a restart aims at: the one asked for (it must use the app's Secret), or all.
fn targets(
    snap: &Snapshot,
    app: &apps::AppRef,
    workload: Option<WorkloadRef>,
) -> Result<Vec<WorkloadRef>, AppError> {
    let all: Vec<WorkloadRef> = apps::workload_names(snap, app)
        .into_iter()
        .map(|(kind, name)| WorkloadRef::new(kind_from_k8s(kind), name))
        .collect();
    let targets = match workload {
        Some(w) if all.contains(&w) => vec![w],
        Some(w) => {
            return Err(AppError::NotFound(format!(
                "\"{}\" does not use this app's secret.",
                w.name
            )))
        }
        None => all,
    };
    if targets.is_empty() {
        return Err(AppError::Invalid(
            "Nothing in the cluster uses this app's secret, so there is nothing to restart.".into(),
        ));
    }
    Ok(targets)
}

fn names(targets: &[WorkloadRef]) -> String {
    targets
        .iter()
        .map(|w| w.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Core {
    pub async fn sync_now(
        &self,
        caller: &Caller,
        s: &SecretRef,
        app: &AppRef,
    ) -> Result<ActionDone, AppError> {
        let k = self.cluster()?;
        let found = self.authorize(caller, s, app, Action::SyncNow).await?;
        let ask = Ask {
            caller,
            k,
            secret: s,
            app: &found,
        };
        self.sync_audited(&ask).await?;
        Ok(ActionDone {
            message: format!(
                "Asked the cluster to copy the latest version for {} now.",
                app.name
            ),
        })
    }

    async fn sync_audited(&self, ask: &Ask<'_>) -> Result<(), AppError> {
        let a = ask.app;
        let event = ask
            .caller
            .event(Action::SyncNow, ask.secret)
            .app(&a.name)
            .detail(format!("{}/{}", a.namespace, a.name));
        let call = || actions::sync_now(&ask.k.client, &a.namespace, &a.name, Timestamp::now());
        self.audited(event, call, |_| None)
            .await?
            .map_err(action_error)
    }

    pub async fn restart(
        &self,
        caller: &Caller,
        s: &SecretRef,
        app: &AppRef,
        workload: Option<WorkloadRef>,
        sync_first: bool,
    ) -> Result<ActionDone, AppError> {
        let k = self.cluster()?;
        if let Some(why) = workload
            .as_ref()
            .and_then(|w| names::object_name_problem("workload", &w.name))
        {
            return Err(AppError::Invalid(why));
        }
        let found = self.authorize(caller, s, app, Action::Restart).await?;
        let ask = Ask {
            caller,
            k,
            secret: s,
            app: &found,
        };
        let planned = match self.restart_plan(&ask, workload, sync_first).await {
            Ok(Plan::Restart(targets, vault)) => k
                .claim(&found.namespace, &targets)
                .await
                .map(|claim| (targets, vault, claim)),
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
        let (targets, vault, claim) = match planned {
            Ok(plan) => plan,
            Err(e) => {
                let why = format!("{app}: refused: {e}");
                self.refused(caller.event(Action::Restart, s), why).await?;
                return Err(e);
            }
        };
        let event = caller
            .event(Action::Restart, s)
            .app(&found.name)
            .versions(None, vault.map(|v| v.version as i64))
            .detail(format!("{app}: {}", names(&targets)));
        self.patch_claimed(k, &claim, &found.namespace, &targets, event)
            .await?;
        Ok(ActionDone {
            message: format!("Restarting {}.", names(&targets)),
        })
    }

    /// Patches the claimed `targets` one after the other, audited as `event`. If it stops
    /// halfway, the claims of the workloads surely not restarted are given back, so a retry need
    /// not wait out the cooldown: those never tried, and the one the cluster refused (not one
    /// whose patch may have landed before the answer was lost).
    async fn patch_claimed(
        &self,
        k: &ClusterCtx,
        claim: &ClaimId,
        namespace: &str,
        targets: &[WorkloadRef],
        event: keyway_store::NewEvent,
    ) -> Result<(), AppError> {
        let patched = std::sync::atomic::AtomicUsize::new(0);
        let call = || async {
            for w in targets {
                let kind = kind_to_k8s(w.kind);
                actions::restart(&k.client, kind, namespace, &w.name, Timestamp::now())
                    .await
                    .map_err(|error| On {
                        target: w.name.clone(),
                        error,
                    })?;
                patched.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            Ok::<(), On<ActionError>>(())
        };
        let done = self
            .audited_as(crate::metrics::Counted::Restart, event, call, |_| None)
            .await;
        let patched = patched.load(std::sync::atomic::Ordering::Relaxed);
        let not_restarted = match &done {
            Ok(Ok(())) => &targets[targets.len()..],
            // Refused outright: that one did not change either.
            Ok(Err(On {
                error: ActionError::Forbidden | ActionError::NotFound,
                ..
            })) => &targets[patched..],
            Ok(Err(_)) => &targets[(patched + 1).min(targets.len())..],
            // The audit log refused the intent: nothing was tried.
            Err(_) => targets,
        };
        k.release(claim, namespace, not_restarted).await;
        done?.map_err(|on| action_error(on.error))
    }

    /// What a restart will patch, after its guards (see [`guards`]), once the cluster holds the
    /// current version: synced first when asked (then the workloads that restart by themselves
    /// are left to do so, and the guards run again), refused otherwise.
    async fn restart_plan(
        &self,
        ask: &Ask<'_>,
        workload: Option<WorkloadRef>,
        sync_first: bool,
    ) -> Result<Plan, AppError> {
        let snap = snapshot::fresh_in(&ask.k.caches, &ask.app.namespace).await;
        let targets = targets(&snap, ask.app, workload)?;
        guards(&snap, ask.app, &targets)?;
        // The pods must start on the current version: never restart onto an old copy.
        let vault = self.vault_version(ask.caller, ask.secret).await;
        match live(&snap, ask.app, vault) {
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
        self.sync_audited(ask).await?;
        wait_until_live(ask, vault).await?;
        // The sync itself restarts what Reloader or the app's restart list watch: leave those to
        // it (a second restart would roll them twice), and check the rest again.
        let snap = snapshot::fresh_in(&ask.k.caches, &ask.app.namespace).await;
        let (auto, manual): (Vec<_>, Vec<_>) = targets.into_iter().partition(|w| {
            apps::workload_restartable(&snap, ask.app, kind_to_k8s(w.kind), &w.name)
                .is_some_and(|(_, _, a)| a.is_some())
        });
        if manual.is_empty() {
            return Ok(Plan::SyncedOnly(auto.into_iter().map(|w| w.name).collect()));
        }
        guards(&snap, ask.app, &manual)?;
        Ok(Plan::Restart(manual, vault))
    }
}

/// The app's live state in `snap` against the Vault version.
fn live(snap: &Snapshot, app: &apps::AppRef, vault: Option<VaultVersion>) -> Option<Live> {
    apps::view(snap, app, vault, Timestamp::now()).map(|v| v.live)
}

/// Waits (at most [`SYNC_WAIT`]) for the cluster to hold the current version after a sync.
async fn wait_until_live(ask: &Ask<'_>, vault: Option<VaultVersion>) -> Result<(), AppError> {
    let deadline = tokio::time::Instant::now() + SYNC_WAIT;
    loop {
        // The shared snapshot (at most a second old): no index rebuild per poll.
        let snap = snapshot::snapshot(&ask.k.caches).await;
        match live(&snap, ask.app, vault) {
            Some(Live::Live { .. } | Live::Pinned { .. }) => return Ok(()),
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
}
