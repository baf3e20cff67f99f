//! A secret's timeline, as the Timeline tab shows it: per app, the secret's last versions, each
//! with its steps into the cluster (written, live, restarted, running) and the time between them.
//!
//! Times are RFC 3339 (UTC, milliseconds at most); the server puts the steps into words
//! (`summary`), so the browser carries no duration arithmetic. Enums travel externally tagged,
//! like the cluster DTOs (see `LiveState`).

use serde::{Deserialize, Serialize};

use super::{AppRef, WorkloadRef};

/// The secret's timeline: one per app that copies it (or did, as far as Keyway recorded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecretTimeline {
    pub apps: Vec<AppTimeline>,
    /// Why there is less to show: no cluster, or no app uses the secret (then `apps` holds one
    /// timeline without an app, with the writes only).
    pub note: Option<String>,
}

/// One app's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppTimeline {
    /// None: the secret's writes alone, with no app to follow them into.
    pub app: Option<AppRef>,
    /// Newest first, at most the server's bound (the last 20 versions).
    pub versions: Vec<VersionSteps>,
}

/// One version's steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionSteps {
    pub version: u64,
    pub written: Written,
    /// When Keyway first saw the app's Secret carry this version.
    pub live: Option<String>,
    /// Oldest first.
    pub restarts: Vec<RestartStep>,
    /// Per workload, when its rollout completed with its pods on this version, oldest first.
    pub running: Vec<RunningStep>,
    /// The steps in words with the time between them: "Live 24 s after the save, restarted 2 s
    /// later, pods up to date 41 s later."
    pub summary: String,
}

/// When a version was written (Vault's `created_time`), and by whom.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Written {
    pub at: Option<String>,
    pub by: WrittenBy,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WrittenBy {
    /// Saved through Keyway by this user (the audit log).
    Keyway { user: String },
    /// In kv metadata with no Keyway audit row: the `bao`/`vault` CLI, another tool.
    Outside,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestartStep {
    pub workload: WorkloadRef,
    pub by: RestartedBy,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RestartedBy {
    /// Keyway's restart; `user` from its audit row (None when no row matches).
    Keyway { user: Option<String> },
    /// Stakater Reloader.
    Reloader,
    /// The Vault Secrets Operator's restart list (`rolloutRestartTargets`).
    Vso,
    /// `kubectl rollout restart` or anything else outside Keyway.
    Outside,
}

impl RestartedBy {
    /// "alice", "Keyway", "Reloader", "the operator", "outside Keyway".
    pub fn words(&self) -> String {
        match self {
            RestartedBy::Keyway { user: Some(u) } => u.clone(),
            RestartedBy::Keyway { user: None } => "Keyway".into(),
            RestartedBy::Reloader => "Reloader".into(),
            RestartedBy::Vso => "the operator".into(),
            RestartedBy::Outside => "outside Keyway".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunningStep {
    pub workload: WorkloadRef,
    pub at: String,
}
