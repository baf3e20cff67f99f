//! The status rules behind Keyway's two answers for a kv path: "is my change live in the
//! cluster?" ([`live`]) and "do the running pods use it?" ([`pods`]).
//!
//! Why a layer of its own, with no I/O and no async: these rules are where it is easy to be
//! subtly wrong (VSO bug #1225, superseded events, kubectl's rollout steps, clocks of different
//! resolution), so they are plain functions over plain input structs that a watch-cache layer
//! fills, tested row by row without a cluster. The outputs derive `Serialize`/`Deserialize` so
//! they cross to the UI as they are; the UI turns them into words and ages.
//!
//! Time resolution: Kubernetes keeps event and condition times to the whole second, Vault keeps
//! `created_time` to the nanosecond. Whenever a cluster time is compared with a Vault time, the
//! Vault time is first cut to its second ([`cluster_second`]), so that something the cluster did
//! in the same second as the write counts as "after" it.

pub mod live;
pub mod pods;

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use serde::{Deserialize, Serialize};

pub use live::{
    live_state, overdue, refresh_interval, standing_failure, AppSync, ClusterSync, Live, LiveInput,
    VaultVersion, VssEvent,
};
pub use pods::{
    can_restart, pods_state, rollout, AutoRestart, Pods, Rollout, WorkloadInput, WorkloadKind,
};

/// One status condition (a VaultStaticSecret's, or a Deployment's `Progressing` /
/// `ReplicaFailure`), reduced to what the rules read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cond {
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    pub reason: String,
    pub message: String,
    pub last_transition: Timestamp,
}

impl Cond {
    /// Whether this is the condition `type_` with status `status` (`"True"`/`"False"`).
    pub fn is(&self, type_: &str, status: &str) -> bool {
        self.type_ == type_ && self.status == status
    }
}

impl From<&Condition> for Cond {
    fn from(c: &Condition) -> Self {
        Cond {
            type_: c.type_.clone(),
            status: c.status.clone(),
            reason: c.reason.clone(),
            message: c.message.clone(),
            last_transition: c.last_transition_time.0,
        }
    }
}

/// `ts` cut to its whole second: the resolution of event and condition times.
pub fn cluster_second(ts: Timestamp) -> Timestamp {
    // A whole second taken from a valid timestamp is always in range.
    Timestamp::from_second(ts.as_second()).unwrap_or(ts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    #[test]
    fn a_kubernetes_condition_becomes_a_cond() {
        let at: Timestamp = "2026-01-02T03:04:05Z".parse().unwrap();
        let c = Condition {
            type_: "Healthy".into(),
            status: "True".into(),
            reason: "Healthy".into(),
            message: "VaultStaticSecretHealthy".into(),
            last_transition_time: Time(at),
            observed_generation: Some(3),
        };
        let cond = Cond::from(&c);
        assert!(cond.is("Healthy", "True"));
        assert_eq!(cond.last_transition, at);
    }

    #[test]
    fn cluster_second_drops_the_fraction() {
        let ts: Timestamp = "2026-01-02T03:04:05.999Z".parse().unwrap();
        assert_eq!(
            cluster_second(ts),
            "2026-01-02T03:04:05Z".parse::<Timestamp>().unwrap()
        );
    }
}
