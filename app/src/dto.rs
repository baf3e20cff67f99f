//! The data exchanged between the browser and the server functions.
//!
//! Types here are deliberately plain: names, versions, capabilities. Secret values only appear in
//! [`Revealed`] and [`Changes::set`], which travel only in `no-store` responses and POST bodies.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

mod access;
mod audit;
mod cluster;
mod fleet;
mod ids;
mod onboard;
mod timeline;
pub use access::*;
pub use audit::*;
pub use cluster::*;
pub use fleet::*;
pub use ids::{AppRef, SecretRef, WorkloadKind, WorkloadRef};
pub use onboard::*;
pub use timeline::*;

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
    /// An `oidc` auth method (or `jwt` with OIDC discovery): a "Sign in with" button that sends
    /// the browser to the identity provider through Keyway's `/auth/oidc/start`.
    Oidc,
}

impl LoginKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LoginKind::Token => "token",
            LoginKind::Userpass => "userpass",
            LoginKind::Ldap => "ldap",
            LoginKind::Oidc => "oidc",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "token" => Some(LoginKind::Token),
            "userpass" => Some(LoginKind::Userpass),
            "ldap" => Some(LoginKind::Ldap),
            // Vault's `jwt` method serves the same OIDC endpoints once given a discovery URL.
            "oidc" | "jwt" => Some(LoginKind::Oidc),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            LoginKind::Token => "Token",
            LoginKind::Userpass => "Username & password",
            LoginKind::Ldap => "LDAP",
            LoginKind::Oidc => "Single sign-on",
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

impl LoginMethod {
    /// The provider's name on a "Sign in with" button: the mount's description, else its path
    /// (bounded: a description is free text the platform team wrote).
    pub fn provider_name(&self) -> String {
        let d = self.description.trim();
        if d.is_empty() {
            self.mount.clone()
        } else {
            d.chars().take(60).collect()
        }
    }
}

/// What the login page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginChoices {
    pub methods: Vec<LoginMethod>,
    /// True when Vault listed no method and Keyway fell back to token + userpass.
    pub fallback: bool,
}

/// A kv-v2 mount the user's token can see, with the secrets in it the user may open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mount {
    pub name: String,
    pub description: String,
    pub secrets: Vec<SecretSummary>,
    /// Set when the user may not list this mount's secrets, with the reason.
    pub note: Option<String>,
    /// The list stopped at Keyway's bounds (500 secrets, 1,000 folders, 10 s): there may be more,
    /// which a search finds.
    pub cut: bool,
}

/// One secret of a mount, as the home page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecretSummary {
    pub secret: SecretRef,
    pub can_edit: bool,
}

/// What the user may do with one secret, decided by `sys/capabilities-self`.
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

/// One secret, values masked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecretView {
    pub secret: SecretRef,
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

impl ConflictInfo {
    /// The one sentence that names the conflict (the error's text and the editor's heading).
    pub fn headline(&self) -> String {
        format!(
            "Someone saved version {} while you were editing version {}. Nothing was overwritten.",
            self.current_version, self.base_version
        )
    }
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
