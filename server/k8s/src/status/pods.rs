//! "Do the running pods use the change?" for one workload that reads the Secret, as one [`Pods`]
//! value, plus whether Keyway may offer a restart ([`can_restart`]).
//!
//! [`rollout`] is kubectl's `rollout status` (`pkg/polymorphichelpers/rollout_status.go`,
//! reference §4.4) step by step, with kubectl's messages less the workload's name, so what
//! Keyway shows matches what a platform engineer sees in a terminal. [`pods_state`] builds on it:
//! a rollout that is running or failed says it all; a finished one is up to date only if its
//! pods started after the Secret changed, or read the Secret as a live volume.

#[cfg(test)]
mod tests;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::{cluster_second, Cond};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
    DaemonSet,
}

impl WorkloadKind {
    /// The Kubernetes kind, as objects and `rolloutRestartTargets` spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
        }
    }

    /// The kind spelled `kind`, if it is one of the three.
    pub fn from_kind(kind: &str) -> Option<WorkloadKind> {
        [
            WorkloadKind::Deployment,
            WorkloadKind::StatefulSet,
            WorkloadKind::DaemonSet,
        ]
        .into_iter()
        .find(|k| k.as_str() == kind)
    }
}

/// What restarts the workload's pods by itself when the Secret changes (reference §1.6, 4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AutoRestart {
    /// Stakater Reloader annotations on the workload.
    Reloader,
    /// The workload is in the VaultStaticSecret's `rolloutRestartTargets`.
    VsoRolloutTarget,
}

/// One workload's spec and status, as the rules read them.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadInput<'a> {
    pub kind: WorkloadKind,
    pub generation: i64,
    pub observed_generation: Option<i64>,
    /// Deployment `spec.paused`.
    pub paused: bool,
    /// StatefulSet/DaemonSet `updateStrategy.type: OnDelete`.
    pub update_strategy_on_delete: bool,
    /// `spec.replicas` (default 1); DaemonSet: `desiredNumberScheduled`.
    pub replicas: i32,
    /// Deployment/StatefulSet `updatedReplicas`; DaemonSet `updatedNumberScheduled`.
    pub updated: i32,
    /// Deployment/StatefulSet `readyReplicas`; DaemonSet `numberReady`.
    pub ready: i32,
    /// Deployment/StatefulSet `availableReplicas`; DaemonSet `numberAvailable`.
    pub available: i32,
    /// Deployment/StatefulSet `status.replicas`; DaemonSet `currentNumberScheduled`.
    pub total: i32,
    /// StatefulSet `status.currentRevision`.
    pub current_revision: Option<&'a str>,
    /// StatefulSet `status.updateRevision`.
    pub update_revision: Option<&'a str>,
    /// StatefulSet `updateStrategy.rollingUpdate.partition`, as the API server returns it (it
    /// defaults to 0 for RollingUpdate, so kubectl's partition step is the usual one).
    pub partition: Option<i32>,
    /// Deployment condition `Progressing` (reason `ProgressDeadlineExceeded` = failed).
    pub progressing: Option<Cond>,
    /// Deployment condition `ReplicaFailure`.
    pub replica_failure: Option<Cond>,
    /// Oldest creation time among the workload's current pods (None = no pods known).
    pub oldest_pod_started: Option<Timestamp>,
    /// The Secret is mounted as a volume (secret or projected, no subPath) and not read through
    /// env: the app sees changes live.
    pub reads_volume_live: bool,
    pub auto_restart: Option<AutoRestart>,
}

/// kubectl's `rollout status` for a workload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Rollout {
    Complete,
    /// `message` is kubectl's; `updated` of `total` are the two numbers it is about.
    InProgress {
        message: String,
        updated: i32,
        total: i32,
    },
    Failed {
        reason: String,
    },
    /// `OnDelete`: kubectl reports no status, pods change only when deleted.
    NotTracked,
}

/// Whether the workload's running pods use the Secret's current content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Pods {
    /// A rollout is running (kubectl's message, `updated` of `total`).
    Restarting {
        message: String,
        updated: i32,
        total: i32,
    },
    /// The rollout cannot finish; `reason` is a plain sentence.
    RestartFailed {
        reason: String,
    },
    UpToDate,
    /// The pods are older than the change, and something restarts them by itself.
    WillRestartAutomatically {
        by: AutoRestart,
    },
    /// The pods are older than the change and nothing will restart them.
    RestartNeeded {
        since: Timestamp,
    },
}

pub const PAUSED: &str = "This app is paused, so it cannot be restarted; ask the platform team.";
pub const ON_DELETE: &str = "This app restarts only when its copies are deleted one by one.";

/// How long after the Secret changed an automatic restart may take to show. VSO patches its
/// targets in the same reconcile that writes the Secret and Reloader reacts to the Secret's
/// update, so the workload's controller has picked up the new template within seconds. Past
/// this, pods still older than the change mean the automatic restart did not happen (VSO skips
/// it on the first sync; Reloader may not match the Secret), and a restart is needed.
pub const AUTO_RESTART_GRACE: SignedDuration = SignedDuration::from_mins(2);

/// kubectl's rollout status (reference §4.4).
pub fn rollout(w: &WorkloadInput<'_>) -> Rollout {
    match w.kind {
        WorkloadKind::Deployment => deployment(w),
        _ if w.update_strategy_on_delete => Rollout::NotTracked,
        WorkloadKind::StatefulSet => stateful_set(w),
        WorkloadKind::DaemonSet => daemon_set(w),
    }
}

fn waiting(message: impl Into<String>, updated: i32, total: i32) -> Rollout {
    Rollout::InProgress {
        message: message.into(),
        updated,
        total,
    }
}

fn deployment(w: &WorkloadInput<'_>) -> Rollout {
    if w.generation > w.observed_generation.unwrap_or(0) {
        return waiting(
            "Waiting for deployment spec update to be observed...",
            w.updated,
            w.replicas,
        );
    }
    if w.progressing
        .as_ref()
        .is_some_and(|c| c.reason == "ProgressDeadlineExceeded")
    {
        return Rollout::Failed {
            reason: "deployment exceeded its progress deadline".to_owned(),
        };
    }
    if w.updated < w.replicas {
        return waiting(
            format!(
                "Waiting for deployment rollout to finish: {} out of {} new replicas have been updated...",
                w.updated, w.replicas
            ),
            w.updated,
            w.replicas,
        );
    }
    if w.total > w.updated {
        return waiting(
            format!(
                "Waiting for deployment rollout to finish: {} old replicas are pending termination...",
                w.total - w.updated
            ),
            w.updated,
            w.total,
        );
    }
    if w.available < w.updated {
        return waiting(
            format!(
                "Waiting for deployment rollout to finish: {} of {} updated replicas are available...",
                w.available, w.updated
            ),
            w.available,
            w.updated,
        );
    }
    Rollout::Complete
}

fn stateful_set(w: &WorkloadInput<'_>) -> Rollout {
    let observed = w.observed_generation.unwrap_or(0);
    if observed == 0 || w.generation > observed {
        return waiting(
            "Waiting for statefulset spec update to be observed...",
            w.updated,
            w.replicas,
        );
    }
    if w.ready < w.replicas {
        return waiting(
            format!("Waiting for {} pods to be ready...", w.replicas - w.ready),
            w.ready,
            w.replicas,
        );
    }
    if let Some(partition) = w.partition {
        let wanted = w.replicas - partition;
        if w.updated < wanted {
            return waiting(
                format!(
                    "Waiting for partitioned roll out to finish: {} out of {} new pods have been updated...",
                    w.updated, wanted
                ),
                w.updated,
                wanted,
            );
        }
        return Rollout::Complete;
    }
    if w.update_revision != w.current_revision {
        return waiting(
            format!(
                "waiting for statefulset rolling update to complete {} pods at revision {}...",
                w.updated,
                w.update_revision.unwrap_or_default()
            ),
            w.updated,
            w.replicas,
        );
    }
    Rollout::Complete
}

fn daemon_set(w: &WorkloadInput<'_>) -> Rollout {
    if w.generation > w.observed_generation.unwrap_or(0) {
        return waiting(
            "Waiting for daemon set spec update to be observed...",
            w.updated,
            w.replicas,
        );
    }
    if w.updated < w.replicas {
        return waiting(
            format!(
                "Waiting for daemon set rollout to finish: {} out of {} new pods have been updated...",
                w.updated, w.replicas
            ),
            w.updated,
            w.replicas,
        );
    }
    if w.available < w.replicas {
        return waiting(
            format!(
                "Waiting for daemon set rollout to finish: {} of {} updated pods are available...",
                w.available, w.replicas
            ),
            w.available,
            w.replicas,
        );
    }
    Rollout::Complete
}

/// Whether the workload's pods use the Secret as it changed at `secret_changed`.
///
/// A failed rollout or `ReplicaFailure=True` comes first (a rollout that cannot create pods
/// would otherwise look "in progress" until its deadline), then a running rollout. When the
/// rollout is finished (or not tracked, `OnDelete`), the pods are up to date if they started in
/// or after the second the Secret changed, if the Secret never changed, if there are no pods, or
/// if they read it as a live volume. Otherwise an automatic restart is expected only within
/// [`AUTO_RESTART_GRACE`] of the change, and never for a paused Deployment or an `OnDelete`
/// workload, which take the patch but start no new pods.
pub fn pods_state(
    w: &WorkloadInput<'_>,
    secret_changed: Option<Timestamp>,
    now: Timestamp,
) -> Pods {
    let condition_message =
        |c: &Option<Cond>| c.as_ref().map(|c| c.message.clone()).unwrap_or_default();
    let in_progress = match rollout(w) {
        Rollout::Failed { .. } => {
            return Pods::RestartFailed {
                reason: format!(
                    "The new version did not start within its deadline: {}",
                    condition_message(&w.progressing)
                ),
            };
        }
        Rollout::InProgress {
            message,
            updated,
            total,
        } => Some((message, updated, total)),
        Rollout::Complete | Rollout::NotTracked => None,
    };
    if w.replica_failure
        .as_ref()
        .is_some_and(|c| c.status == "True")
    {
        return Pods::RestartFailed {
            reason: format!(
                "The cluster could not create the new copies: {}",
                condition_message(&w.replica_failure)
            ),
        };
    }
    if let Some((message, updated, total)) = in_progress {
        return Pods::Restarting {
            message,
            updated,
            total,
        };
    }
    let Some(changed) = secret_changed else {
        return Pods::UpToDate;
    };
    let fresh = w
        .oldest_pod_started
        .is_none_or(|started| started >= cluster_second(changed));
    if fresh || w.reads_volume_live {
        return Pods::UpToDate;
    }
    let within_grace = changed
        .checked_add(AUTO_RESTART_GRACE)
        .is_ok_and(|deadline| now < deadline);
    match w.auto_restart {
        Some(by) if within_grace && can_restart(w).is_ok() => Pods::WillRestartAutomatically { by },
        _ => Pods::RestartNeeded { since: changed },
    }
}

/// Whether a restart (a patch of the pod template, as `kubectl rollout restart`) would start new
/// pods; `Err` carries the sentence to show instead of the button.
pub fn can_restart(w: &WorkloadInput<'_>) -> Result<(), &'static str> {
    match w.kind {
        WorkloadKind::Deployment if w.paused => Err(PAUSED),
        WorkloadKind::StatefulSet | WorkloadKind::DaemonSet if w.update_strategy_on_delete => {
            Err(ON_DELETE)
        }
        _ => Ok(()),
    }
}
