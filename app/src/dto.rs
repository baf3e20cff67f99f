//! The data exchanged between the browser and the server functions.
//!
//! Types here are deliberately plain: names, versions, capabilities. Secret values only appear in
//! [`Revealed`] and [`Changes::set`], which travel only in `no-store` responses and POST bodies.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Who is logged in, as Vault sees them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserInfo {
    pub display_name: String,
    pub entity_id: String,
    pub policies: Vec<String>,
    /// Seconds until the Vault token expires; `None` for tokens that never expire.
    pub expires_in_secs: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LoginKind {
    Token,
    Userpass,
    Ldap,
}

impl LoginKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LoginKind::Token => "token",
            LoginKind::Userpass => "userpass",
            LoginKind::Ldap => "ldap",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "token" => Some(LoginKind::Token),
            "userpass" => Some(LoginKind::Userpass),
            "ldap" => Some(LoginKind::Ldap),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            LoginKind::Token => "Token",
            LoginKind::Userpass => "Username & password",
            LoginKind::Ldap => "LDAP",
        }
    }
}

/// A login method offered on the login page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginMethod {
    pub kind: LoginKind,
    /// Auth mount path without slashes, e.g. `userpass`.
    pub mount: String,
    pub description: String,
}

/// What the login page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginChoices {
    pub methods: Vec<LoginMethod>,
    /// True when Vault listed no method and Keyway fell back to token + userpass.
    pub fallback: bool,
}

/// An environment: today a kv-v2 mount the user's token can see.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    pub name: String,
    pub description: String,
    pub apps: Vec<AppSummary>,
    /// Set when the user may not list this environment's apps, with the reason.
    pub note: Option<String>,
}

/// An app: a secret path under an environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppSummary {
    pub env: String,
    pub app: String,
    pub can_edit: bool,
}

/// What the user may do with one app's secret, decided by `sys/capabilities-self`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Caps {
    pub read: bool,
    pub create: bool,
    pub update: bool,
    pub delete: bool,
    pub undelete: bool,
    pub history: bool,
    pub subkeys: bool,
}

impl Caps {
    pub fn can_write(&self, exists: bool) -> bool {
        if exists {
            self.update
        } else {
            self.create
        }
    }
}

/// One app's secret, values masked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecretView {
    pub env: String,
    pub app: String,
    /// The current version in Vault; 0 when the secret does not exist yet.
    pub version: u64,
    pub created_time: Option<String>,
    /// The current version was soft-deleted: no data until undeleted.
    pub deleted: bool,
    pub destroyed: bool,
    pub keys: Vec<String>,
    pub caps: Caps,
}

/// Values revealed on request. Travels only in a `no-store` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Revealed {
    pub version: u64,
    pub values: BTreeMap<String, String>,
}

/// A draft's edits, applied by the server onto the version the user started from, so values the
/// browser never saw are kept as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Changes {
    /// New or changed values.
    pub set: BTreeMap<String, String>,
    /// Keys to remove.
    pub remove: Vec<String>,
    /// `(from, to)` renames; the value moves with the key unless `set` also names `to`.
    pub rename: Vec<(String, String)>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.remove.is_empty() && self.rename.is_empty()
    }

    /// Every key this draft touches (both sides of a rename).
    pub fn touched(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.set.keys().cloned().collect();
        keys.extend(self.remove.iter().cloned());
        for (from, to) in &self.rename {
            keys.push(from.clone());
            keys.push(to.clone());
        }
        keys.sort();
        keys.dedup();
        keys
    }
}

/// Key names added, changed and removed between two versions. Never values.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KeyChanges {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
}

impl KeyChanges {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }

    pub fn all(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .added
            .iter()
            .chain(&self.changed)
            .chain(&self.removed)
            .cloned()
            .collect();
        keys.sort();
        keys
    }
}

/// A save landed as a new version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Saved {
    pub version: u64,
    pub changes: KeyChanges,
}

/// What a check-and-set conflict tells the user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConflictInfo {
    pub base_version: u64,
    pub current_version: u64,
    /// What the other save(s) changed between the two versions.
    pub theirs: KeyChanges,
    /// Keys both sides touched: the user picks a side for each.
    pub overlapping: Vec<String>,
}

/// One row of the version list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionRow {
    pub version: u64,
    pub created_time: String,
    pub deleted: bool,
    pub destroyed: bool,
    /// Who saved it through Keyway; `None` means it was changed outside Keyway.
    pub author: Option<String>,
    pub current: bool,
    /// The newest earlier version that can still be read (0 when none): what "Changes" compares
    /// this version with.
    pub compare_with: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DiffKind {
    Added,
    Changed,
    Removed,
    Same,
}

/// One key in a masked diff between two versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyDiff {
    pub key: String,
    pub kind: DiffKind,
}

/// Why values are being revealed; recorded in the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RevealPurpose {
    /// Shown on screen.
    Show,
    /// Copied to the clipboard without being shown.
    Copy,
    /// Loaded into the editor to be changed.
    Edit,
}

// ---- the cluster side of an app (VSO sync, running pods) ------------------------------------------
// Times are Unix seconds. Kubernetes words appear only in `AppDetails` (the details panel).

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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
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
    /// `Deployment`, `StatefulSet` or `DaemonSet` (details only).
    pub kind: String,
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
#[serde(tag = "state", rename_all = "snake_case")]
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
    /// The kv-v2 secret it copies (links to the editor).
    pub mount: String,
    pub path: String,
    pub live: LiveState,
    pub workloads: u32,
    pub workloads_up_to_date: u32,
}
