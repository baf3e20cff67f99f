//! The cluster's state in the UI's words: the k8s crate's views mapped to the DTOs, and a failed
//! cluster write as the sentence a user sees.

use jiff::Timestamp;
use keyway_app::dto::{self, *};
use keyway_app::error::AppError;
use keyway_k8s::actions::ActionError;
use keyway_k8s::apps::AppView;
use keyway_k8s::status::{self, AutoRestart, Live, Pods};
use keyway_policy::paths::restart_grant;

fn secs(t: Timestamp) -> i64 {
    t.as_second()
}

/// The UI's workload kind for the k8s crate's.
pub(in crate::service) fn kind_from_k8s(k: status::WorkloadKind) -> dto::WorkloadKind {
    match k {
        status::WorkloadKind::Deployment => dto::WorkloadKind::Deployment,
        status::WorkloadKind::StatefulSet => dto::WorkloadKind::StatefulSet,
        status::WorkloadKind::DaemonSet => dto::WorkloadKind::DaemonSet,
    }
}

/// The k8s crate's workload kind for the UI's.
pub(in crate::service) fn kind_to_k8s(k: dto::WorkloadKind) -> status::WorkloadKind {
    match k {
        dto::WorkloadKind::Deployment => status::WorkloadKind::Deployment,
        dto::WorkloadKind::StatefulSet => status::WorkloadKind::StatefulSet,
        dto::WorkloadKind::DaemonSet => status::WorkloadKind::DaemonSet,
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

/// One app as the cluster panel shows it; `may_act`: the caller holds its grant.
pub(in crate::service) fn app_dto(v: AppView, may_act: bool) -> ClusterApp {
    let grant = restart_grant(&v.app.namespace, &v.app.name);
    ClusterApp {
        namespace: v.app.namespace,
        name: v.app.name,
        live: live_dto(v.live),
        workloads: v
            .workloads
            .into_iter()
            .map(|w| WorkloadState {
                kind: kind_from_k8s(w.kind),
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

/// A failed cluster write as the user sees it; a refusal of Keyway's own account is logged.
pub(super) fn action_error(e: ActionError) -> AppError {
    match e {
        ActionError::Forbidden => {
            tracing::error!(
                "Keyway's Kubernetes account was refused a patch: check deploy/base/rbac.yaml"
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
