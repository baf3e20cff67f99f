//! Table-driven tests for [`rollout`], [`pods_state`] and [`can_restart`]. The fixtures live
//! here; `rollout` has every kubectl step per kind, `state` what a rollout and the pods' age
//! make of a change. Each row is named by the situation it stands for.

mod rollout;
mod state;

use jiff::{SignedDuration, Timestamp};

use super::*;

fn t(secs: i64) -> Timestamp {
    let base: Timestamp = "2026-03-01T12:00:00Z".parse().unwrap();
    base.checked_add(SignedDuration::from_secs(secs)).unwrap()
}

fn cond(type_: &str, status: &str, reason: &str, message: &str) -> Cond {
    Cond {
        type_: type_.into(),
        status: status.into(),
        reason: reason.into(),
        message: message.into(),
        last_transition: t(0),
    }
}

/// A Deployment of 3 whose rollout is complete, pods started at 10.
fn deployment() -> WorkloadInput<'static> {
    WorkloadInput {
        kind: WorkloadKind::Deployment,
        generation: 3,
        observed_generation: Some(3),
        paused: false,
        update_strategy_on_delete: false,
        replicas: 3,
        updated: 3,
        ready: 3,
        available: 3,
        total: 3,
        current_revision: None,
        update_revision: None,
        partition: None,
        progressing: Some(cond(
            "Progressing",
            "True",
            "NewReplicaSetAvailable",
            "ReplicaSet \"web-7d\" has successfully progressed.",
        )),
        replica_failure: None,
        oldest_pod_started: Some(t(10)),
        reads_volume_live: false,
        auto_restart: None,
    }
}

/// A RollingUpdate StatefulSet of 3 (partition defaulted to 0), all at revision web-abc.
fn stateful_set() -> WorkloadInput<'static> {
    WorkloadInput {
        kind: WorkloadKind::StatefulSet,
        generation: 2,
        observed_generation: Some(2),
        current_revision: Some("web-abc"),
        update_revision: Some("web-abc"),
        partition: Some(0),
        progressing: None,
        ..deployment()
    }
}

/// A RollingUpdate DaemonSet on 4 nodes, all updated and available.
fn daemon_set() -> WorkloadInput<'static> {
    WorkloadInput {
        kind: WorkloadKind::DaemonSet,
        generation: 5,
        observed_generation: Some(5),
        replicas: 4,
        updated: 4,
        ready: 4,
        available: 4,
        total: 4,
        progressing: None,
        ..deployment()
    }
}

fn waiting(message: &str, updated: i32, total: i32) -> Rollout {
    Rollout::InProgress {
        message: message.into(),
        updated,
        total,
    }
}

const DEADLINE: &str = "ReplicaSet \"web-7d\" has timed out progressing.";

#[test]
fn can_restart_refuses_paused_and_on_delete() {
    let rows: [(&str, WorkloadInput<'static>, Result<(), &str>); 6] = [
        ("deployment", deployment(), Ok(())),
        (
            "paused deployment",
            WorkloadInput {
                paused: true,
                ..deployment()
            },
            Err(PAUSED),
        ),
        (
            "deployment ignores the OnDelete flag",
            WorkloadInput {
                update_strategy_on_delete: true,
                ..deployment()
            },
            Ok(()),
        ),
        ("rolling statefulset", stateful_set(), Ok(())),
        (
            "OnDelete statefulset",
            WorkloadInput {
                update_strategy_on_delete: true,
                ..stateful_set()
            },
            Err(ON_DELETE),
        ),
        (
            "OnDelete daemonset",
            WorkloadInput {
                update_strategy_on_delete: true,
                ..daemon_set()
            },
            Err(ON_DELETE),
        ),
    ];
    for (name, w, want) in rows {
        assert_eq!(can_restart(&w), want, "{name}");
    }
}

#[test]
fn pods_serialise_with_a_state_tag() {
    let pods = Pods::WillRestartAutomatically {
        by: AutoRestart::Reloader,
    };
    let json = serde_json::to_value(&pods).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"state": "will_restart_automatically", "by": "Reloader"})
    );
    assert_eq!(serde_json::from_value::<Pods>(json).unwrap(), pods);
}
