//! The cluster side of a secret, as the UI shows it: its apps (VaultStaticSecrets), their sync
//! state and running pods, the answers of "Sync now" and "Restart", the apps overview.
//!
//! Times are Unix seconds. Kubernetes words appear only in `AppDetails` (the details panel).

use serde::{Deserialize, Serialize};

use super::{SecretRef, WorkloadKind};

/// What the cluster says about the apps that use one kv secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterStatus {
    /// False when this Keyway is not connected to a cluster at all.
    pub configured: bool,
    /// Why the cluster's answers may be stale (None = all watches in sync).
    pub problem: Option<String>,
    pub apps: Vec<ClusterApp>,
}

/// One app (a VaultStaticSecret) that copies the kv secret into the cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterApp {
    /// The environment (namespace).
    pub namespace: String,
    pub name: String,
    pub live: LiveState,
    pub workloads: Vec<WorkloadState>,
    /// Whether this user may restart it and sync it now (Vault policy).
    pub may_act: bool,
    /// The Vault path that grants it, to tell the user what to ask for.
    pub grant_path: String,
    pub details: AppDetails,
}

/// On the wire externally tagged (`{"pending": {…}}`, `"not_set_up"`), as is `PodsState`: serde's
/// internally tagged form buffers through its generic `Content` type, ~8 KB of wasm on every page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LiveState {
    Live {
        version: u64,
        since: i64,
    },
    Pending {
        cluster_version: Option<u64>,
        vault_version: u64,
        written: i64,
        /// None: it syncs only when asked.
        next_refresh_due: Option<i64>,
    },
    Failing {
        sentence: String,
        detail: String,
        since: i64,
    },
    Pinned {
        version: u64,
        current: u64,
    },
    NotSetUp,
    Unknown {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkloadState {
    /// Shown in the details only.
    pub kind: WorkloadKind,
    pub name: String,
    pub pods: PodsState,
    /// What restarts it by itself, in plain words ("Reloader", "the app's sync settings").
    pub auto_restart: Option<String>,
    /// Why it cannot be restarted from Keyway; None = it can.
    pub restart_refusal: Option<String>,
    pub replicas: i32,
    pub ready: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PodsState {
    UpToDate,
    RestartNeeded {
        since: i64,
    },
    WillRestartAutomatically {
        by: String,
    },
    Restarting {
        message: String,
        updated: i32,
        total: i32,
    },
    RestartFailed {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppDetails {
    pub secret: String,
    pub refresh_after: Option<String>,
    pub synced_version: Option<u64>,
    pub secret_changed: Option<i64>,
    pub conditions: Vec<ClusterCondition>,
    pub events: Vec<ClusterEvent>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterCondition {
    pub kind: String,
    pub status: String,
    pub reason: String,
    pub message: String,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterEvent {
    pub warning: bool,
    pub reason: String,
    pub message: String,
    pub at: i64,
}

/// What a restart or sync request did, in one sentence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionDone {
    pub message: String,
}

/// One page of the cluster's apps the user may see, for the apps overview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppsPage {
    pub configured: bool,
    pub problem: Option<String>,
    pub items: Vec<ClusterAppSummary>,
    pub page: u32,
    /// Whether a next page exists.
    pub has_more: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterAppSummary {
    /// The environment (namespace).
    pub namespace: String,
    pub name: String,
    /// The secret it copies (links to its page).
    pub secret: SecretRef,
    pub live: LiveState,
    pub workloads: u32,
    pub workloads_up_to_date: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn states_travel_externally_tagged() {
        let pending = LiveState::Pending {
            cluster_version: Some(2),
            vault_version: 3,
            written: 10,
            next_refresh_due: None,
        };
        assert_eq!(
            serde_json::to_value(&pending).unwrap(),
            json!({"pending": {"cluster_version": 2, "vault_version": 3, "written": 10, "next_refresh_due": null}})
        );
        assert_eq!(
            serde_json::to_value(LiveState::NotSetUp).unwrap(),
            json!("not_set_up")
        );
        assert_eq!(
            serde_json::to_value(PodsState::UpToDate).unwrap(),
            json!("up_to_date")
        );
        assert_eq!(
            serde_json::from_value::<PodsState>(json!({"restart_needed": {"since": 5}})).unwrap(),
            PodsState::RestartNeeded { since: 5 }
        );
    }
}
