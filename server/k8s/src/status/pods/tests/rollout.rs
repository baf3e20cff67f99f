//! kubectl's `rollout status`, step by step, for a Deployment, a StatefulSet (with and without a
//! partition) and a DaemonSet, and `OnDelete`.

use super::*;

#[test]
fn rollout_follows_kubectl_step_by_step() {
    let exceeded = Some(cond(
        "Progressing",
        "False",
        "ProgressDeadlineExceeded",
        DEADLINE,
    ));
    let rows: Vec<(&str, WorkloadInput<'static>, Rollout)> = vec![
        // Deployment
        (
            "deployment: spec update not observed yet",
            WorkloadInput { generation: 4, ..deployment() },
            waiting("Waiting for deployment spec update to be observed...", 3, 3),
        ),
        (
            "deployment: no observedGeneration yet",
            WorkloadInput { observed_generation: None, ..deployment() },
            waiting("Waiting for deployment spec update to be observed...", 3, 3),
        ),
        (
            "deployment: the deadline is read only once the spec is observed",
            WorkloadInput { generation: 4, progressing: exceeded.clone(), ..deployment() },
            waiting("Waiting for deployment spec update to be observed...", 3, 3),
        ),
        (
            "deployment: progress deadline exceeded",
            WorkloadInput { updated: 1, progressing: exceeded.clone(), ..deployment() },
            Rollout::Failed { reason: "deployment exceeded its progress deadline".into() },
        ),
        (
            "deployment: new replicas being updated",
            WorkloadInput { updated: 1, total: 4, available: 3, ..deployment() },
            waiting(
                "Waiting for deployment rollout to finish: 1 out of 3 new replicas have been updated...",
                1,
                3,
            ),
        ),
        (
            "deployment: old replicas pending termination",
            WorkloadInput { total: 5, ..deployment() },
            waiting(
                "Waiting for deployment rollout to finish: 2 old replicas are pending termination...",
                3,
                5,
            ),
        ),
        (
            "deployment: updated replicas becoming available",
            WorkloadInput { available: 2, ..deployment() },
            waiting(
                "Waiting for deployment rollout to finish: 2 of 3 updated replicas are available...",
                2,
                3,
            ),
        ),
        ("deployment: complete", deployment(), Rollout::Complete),
        (
            "deployment: scaled to zero is complete",
            WorkloadInput { replicas: 0, updated: 0, ready: 0, available: 0, total: 0, ..deployment() },
            Rollout::Complete,
        ),
        (
            "deployment: has no OnDelete, the flag is ignored",
            WorkloadInput { update_strategy_on_delete: true, ..deployment() },
            Rollout::Complete,
        ),
        // StatefulSet
        (
            "statefulset: observedGeneration 0 is not observed",
            WorkloadInput { generation: 1, observed_generation: Some(0), ..stateful_set() },
            waiting("Waiting for statefulset spec update to be observed...", 3, 3),
        ),
        (
            "statefulset: spec update not observed yet",
            WorkloadInput { generation: 3, ..stateful_set() },
            waiting("Waiting for statefulset spec update to be observed...", 3, 3),
        ),
        (
            "statefulset: pods not ready",
            WorkloadInput { ready: 1, updated: 1, ..stateful_set() },
            waiting("Waiting for 2 pods to be ready...", 1, 3),
        ),
        (
            "statefulset partition 0: pods being updated",
            WorkloadInput { updated: 1, update_revision: Some("web-def"), ..stateful_set() },
            waiting(
                "Waiting for partitioned roll out to finish: 1 out of 3 new pods have been updated...",
                1,
                3,
            ),
        ),
        (
            "statefulset partition 0: all updated, revisions not compared (as kubectl)",
            WorkloadInput { update_revision: Some("web-def"), ..stateful_set() },
            Rollout::Complete,
        ),
        (
            "statefulset partition 2: waiting for the one pod above it",
            WorkloadInput {
                partition: Some(2),
                updated: 0,
                update_revision: Some("web-def"),
                ..stateful_set()
            },
            waiting(
                "Waiting for partitioned roll out to finish: 0 out of 1 new pods have been updated...",
                0,
                1,
            ),
        ),
        (
            "statefulset partition 2: done once the pod above it is updated",
            WorkloadInput {
                partition: Some(2),
                updated: 1,
                update_revision: Some("web-def"),
                ..stateful_set()
            },
            Rollout::Complete,
        ),
        (
            "statefulset without partition: revisions differ",
            WorkloadInput {
                partition: None,
                updated: 1,
                update_revision: Some("web-def"),
                ..stateful_set()
            },
            waiting(
                "waiting for statefulset rolling update to complete 1 pods at revision web-def...",
                1,
                3,
            ),
        ),
        (
            "statefulset without partition: one revision",
            WorkloadInput { partition: None, ..stateful_set() },
            Rollout::Complete,
        ),
        (
            "statefulset OnDelete: not tracked",
            WorkloadInput { update_strategy_on_delete: true, generation: 9, ..stateful_set() },
            Rollout::NotTracked,
        ),
        // DaemonSet
        (
            "daemonset: spec update not observed yet",
            WorkloadInput { generation: 6, ..daemon_set() },
            waiting("Waiting for daemon set spec update to be observed...", 4, 4),
        ),
        (
            "daemonset: new pods being updated",
            WorkloadInput { updated: 2, ..daemon_set() },
            waiting(
                "Waiting for daemon set rollout to finish: 2 out of 4 new pods have been updated...",
                2,
                4,
            ),
        ),
        (
            "daemonset: updated pods becoming available",
            WorkloadInput { available: 3, ..daemon_set() },
            waiting(
                "Waiting for daemon set rollout to finish: 3 of 4 updated pods are available...",
                3,
                4,
            ),
        ),
        ("daemonset: complete", daemon_set(), Rollout::Complete),
        (
            "daemonset OnDelete: not tracked",
            WorkloadInput { update_strategy_on_delete: true, updated: 0, ..daemon_set() },
            Rollout::NotTracked,
        ),
    ];
    for (name, w, want) in rows {
        assert_eq!(rollout(&w), want, "{name}");
    }
}
