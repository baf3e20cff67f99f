//! How each workload kind's cached object reads as the input of the workload rules
//! ([`crate::status`]: rollout, pods state, whether it can be restarted): Deployments,
//! StatefulSets and DaemonSets keep their progress in different fields; this is the one place
//! that knows which.

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};

use crate::status::{AutoRestart, Cond, WorkloadInput, WorkloadKind};

/// A `WorkloadInput` without borrowed fields, built from a cached object.
pub(super) struct OwnedWorkload {
    pub(super) kind: WorkloadKind,
    generation: i64,
    observed_generation: Option<i64>,
    paused: bool,
    on_delete: bool,
    replicas: i32,
    updated: i32,
    ready: i32,
    available: i32,
    total: i32,
    current_revision: Option<String>,
    update_revision: Option<String>,
    partition: Option<i32>,
    progressing: Option<Cond>,
    replica_failure: Option<Cond>,
    oldest_pod_started: Option<Timestamp>,
    reads_volume_live: bool,
    auto_restart: Option<AutoRestart>,
}

impl OwnedWorkload {
    pub(super) fn input(&self) -> WorkloadInput<'_> {
        WorkloadInput {
            kind: self.kind,
            generation: self.generation,
            observed_generation: self.observed_generation,
            paused: self.paused,
            update_strategy_on_delete: self.on_delete,
            replicas: self.replicas,
            updated: self.updated,
            ready: self.ready,
            available: self.available,
            total: self.total,
            current_revision: self.current_revision.as_deref(),
            update_revision: self.update_revision.as_deref(),
            partition: self.partition,
            progressing: self.progressing.clone(),
            replica_failure: self.replica_failure.clone(),
            oldest_pod_started: self.oldest_pod_started,
            reads_volume_live: self.reads_volume_live,
            auto_restart: self.auto_restart,
        }
    }
}

fn cond_of(
    conds: Option<&Vec<k8s_openapi::api::apps::v1::DeploymentCondition>>,
    type_: &str,
) -> Option<Cond> {
    conds?
        .iter()
        .find(|c| c.type_.as_deref() == Some(type_))
        .map(|c| Cond {
            type_: type_.to_string(),
            status: c.status.clone().unwrap_or_default(),
            reason: c.reason.clone().unwrap_or_default(),
            message: c.message.clone().unwrap_or_default(),
            last_transition: c
                .last_transition_time
                .as_ref()
                .or(c.last_update_time.as_ref())
                .map(|t| t.0)
                .unwrap_or(Timestamp::UNIX_EPOCH),
        })
}

pub(super) fn from_deployment(
    d: &Deployment,
    live: bool,
    auto: Option<AutoRestart>,
    oldest: Option<Timestamp>,
) -> OwnedWorkload {
    let st = d.status.clone().unwrap_or_default();
    OwnedWorkload {
        kind: WorkloadKind::Deployment,
        generation: d.metadata.generation.unwrap_or(0),
        observed_generation: st.observed_generation,
        paused: d.spec.paused.unwrap_or(false),
        on_delete: false,
        replicas: d.spec.replicas.unwrap_or(1),
        updated: st.updated_replicas.unwrap_or(0),
        ready: st.ready_replicas.unwrap_or(0),
        available: st.available_replicas.unwrap_or(0),
        total: st.replicas.unwrap_or(0),
        current_revision: None,
        update_revision: None,
        partition: None,
        progressing: cond_of(st.conditions.as_ref(), "Progressing"),
        replica_failure: cond_of(st.conditions.as_ref(), "ReplicaFailure"),
        oldest_pod_started: oldest,
        reads_volume_live: live,
        auto_restart: auto,
    }
}

pub(super) fn from_statefulset(
    s: &StatefulSet,
    live: bool,
    auto: Option<AutoRestart>,
    oldest: Option<Timestamp>,
) -> OwnedWorkload {
    let st = s.status.clone().unwrap_or_default();
    let strategy = s.spec.update_strategy.as_ref();
    OwnedWorkload {
        kind: WorkloadKind::StatefulSet,
        generation: s.metadata.generation.unwrap_or(0),
        observed_generation: st.observed_generation,
        paused: false,
        on_delete: strategy.and_then(|u| u.type_.as_deref()) == Some("OnDelete"),
        replicas: s.spec.replicas.unwrap_or(1),
        updated: st.updated_replicas.unwrap_or(0),
        ready: st.ready_replicas.unwrap_or(0),
        available: st.available_replicas.unwrap_or(0),
        total: st.replicas,
        current_revision: st.current_revision.clone(),
        update_revision: st.update_revision.clone(),
        partition: strategy
            .and_then(|u| u.rolling_update.as_ref())
            .and_then(|r| r.partition),
        progressing: None,
        replica_failure: None,
        oldest_pod_started: oldest,
        reads_volume_live: live,
        auto_restart: auto,
    }
}

pub(super) fn from_daemonset(
    d: &DaemonSet,
    live: bool,
    auto: Option<AutoRestart>,
    oldest: Option<Timestamp>,
) -> OwnedWorkload {
    let st = d.status.clone().unwrap_or_default();
    OwnedWorkload {
        kind: WorkloadKind::DaemonSet,
        generation: d.metadata.generation.unwrap_or(0),
        observed_generation: st.observed_generation,
        paused: false,
        on_delete: d
            .spec
            .update_strategy
            .as_ref()
            .and_then(|u| u.type_.as_deref())
            == Some("OnDelete"),
        replicas: st.desired_number_scheduled,
        updated: st.updated_number_scheduled.unwrap_or(0),
        ready: st.number_ready,
        available: st.number_available.unwrap_or(0),
        total: st.current_number_scheduled,
        current_revision: None,
        update_revision: None,
        partition: None,
        progressing: None,
        replica_failure: None,
        oldest_pod_started: oldest,
        reads_volume_live: live,
        auto_restart: auto,
    }
}
