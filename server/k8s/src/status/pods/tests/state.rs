//! What the pods make of a change: a running or failed rollout first, then the pods' age, a live
//! volume, and automatic restarts (Reloader, VSO rollout targets) within their grace.

use super::*;

#[test]
fn pods_state_from_rollout_and_pod_age() {
    // The Secret changed at 100 (and 0.3 s); now is 130, within the automatic-restart grace.
    let changed = t(100)
        .checked_add(SignedDuration::from_millis(300))
        .unwrap();
    let old = Some(t(10));
    let restart_needed = Pods::RestartNeeded { since: changed };
    let rows: Vec<(&str, WorkloadInput<'static>, Option<Timestamp>, i64, Pods)> = vec![
        (
            "restarting while the rollout runs",
            WorkloadInput { updated: 1, ..deployment() },
            Some(changed),
            130,
            Pods::Restarting {
                message: "Waiting for deployment rollout to finish: 1 out of 3 new replicas have been updated..."
                    .into(),
                updated: 1,
                total: 3,
            },
        ),
        (
            "restarting a partitioned statefulset",
            WorkloadInput { updated: 2, ..stateful_set() },
            Some(changed),
            130,
            Pods::Restarting {
                message: "Waiting for partitioned roll out to finish: 2 out of 3 new pods have been updated..."
                    .into(),
                updated: 2,
                total: 3,
            },
        ),
        (
            "restart failed: progress deadline exceeded",
            WorkloadInput {
                updated: 1,
                progressing: Some(cond("Progressing", "False", "ProgressDeadlineExceeded", DEADLINE)),
                ..deployment()
            },
            Some(changed),
            900,
            Pods::RestartFailed {
                reason: format!("The new version did not start within its deadline: {DEADLINE}"),
            },
        ),
        (
            "restart failed: the new copies cannot be created",
            WorkloadInput {
                updated: 0,
                replica_failure: Some(cond(
                    "ReplicaFailure",
                    "True",
                    "FailedCreate",
                    "pods \"web-7d-x\" is forbidden: exceeded quota",
                )),
                ..deployment()
            },
            Some(changed),
            130,
            Pods::RestartFailed {
                reason: "The cluster could not create the new copies: pods \"web-7d-x\" is forbidden: exceeded quota"
                    .into(),
            },
        ),
        (
            "ReplicaFailure=False is no failure",
            WorkloadInput {
                replica_failure: Some(cond("ReplicaFailure", "False", "FailedCreate", "")),
                oldest_pod_started: Some(t(110)),
                ..deployment()
            },
            Some(changed),
            130,
            Pods::UpToDate,
        ),
        (
            "up to date: pods started after the change",
            WorkloadInput { oldest_pod_started: Some(t(110)), ..deployment() },
            Some(changed),
            130,
            Pods::UpToDate,
        ),
        (
            "up to date: pods started in the same second as the change",
            WorkloadInput { oldest_pod_started: Some(t(100)), ..deployment() },
            Some(changed),
            130,
            Pods::UpToDate,
        ),
        ("up to date: the Secret never changed", deployment(), None, 130, Pods::UpToDate),
        (
            "up to date: old pods read the Secret as a live volume",
            WorkloadInput { reads_volume_live: true, ..deployment() },
            Some(changed),
            5000,
            Pods::UpToDate,
        ),
        (
            "up to date: no pods to restart",
            WorkloadInput { oldest_pod_started: None, ..deployment() },
            Some(changed),
            130,
            Pods::UpToDate,
        ),
        (
            "will restart: Reloader",
            WorkloadInput { auto_restart: Some(AutoRestart::Reloader), ..deployment() },
            Some(changed),
            130,
            Pods::WillRestartAutomatically { by: AutoRestart::Reloader },
        ),
        (
            "will restart: VSO rollout target",
            WorkloadInput { auto_restart: Some(AutoRestart::VsoRolloutTarget), ..daemon_set() },
            Some(changed),
            130,
            Pods::WillRestartAutomatically { by: AutoRestart::VsoRolloutTarget },
        ),
        (
            "restart needed: the automatic restart did not come within the grace",
            WorkloadInput { auto_restart: Some(AutoRestart::VsoRolloutTarget), ..deployment() },
            Some(changed),
            100 + 121,
            restart_needed.clone(),
        ),
        (
            "restart needed: nothing restarts the pods",
            WorkloadInput { oldest_pod_started: old, ..deployment() },
            Some(changed),
            130,
            restart_needed.clone(),
        ),
        (
            "restart needed: a paused deployment does not restart by itself",
            WorkloadInput { paused: true, auto_restart: Some(AutoRestart::Reloader), ..deployment() },
            Some(changed),
            130,
            restart_needed.clone(),
        ),
        (
            "restart needed: OnDelete takes the patch but starts no pods",
            WorkloadInput {
                update_strategy_on_delete: true,
                auto_restart: Some(AutoRestart::VsoRolloutTarget),
                ..stateful_set()
            },
            Some(changed),
            130,
            restart_needed.clone(),
        ),
        (
            "up to date: OnDelete with pods deleted after the change",
            WorkloadInput {
                update_strategy_on_delete: true,
                oldest_pod_started: Some(t(120)),
                ..daemon_set()
            },
            Some(changed),
            130,
            Pods::UpToDate,
        ),
        (
            "restart needed: partitioned rollout done, pods below the partition are old",
            WorkloadInput { partition: Some(2), updated: 1, ..stateful_set() },
            Some(changed),
            130,
            restart_needed,
        ),
    ];
    for (name, w, secret_changed, now, want) in rows {
        assert_eq!(pods_state(&w, secret_changed, t(now)), want, "{name}");
    }
}
