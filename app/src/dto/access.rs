//! What the platform pages exchange: which platform pages the caller may open, and the access
//! of one environment (groups × levels), a planned change to it, its preview and its outcome.
//!
//! An environment is a Kubernetes namespace; its secrets live in one kv-v2 mount under one
//! folder ([`KvHome`]). A level is what a group may do there ([`Level`]). Keyway turns "group G
//! has level L in environment E" into the Vault policy `keyway-E-L` on group G; nothing here is
//! a Keyway-only rule, and Vault decides every write.

use serde::{Deserialize, Serialize};

/// What a group may do in an environment. Each level's policy is self-contained: edit and
/// restart include view's reads (restart needs to read the secret it restarts for).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Level {
    /// Key names, versions, revealing values.
    View,
    /// Writing versions, rolling back, deleting and undeleting versions.
    Edit,
    /// Restart and "Sync now".
    Restart,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::View, Level::Edit, Level::Restart];

    /// The word in policy names (`keyway-dev-edit`) and test ids.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::View => "view",
            Level::Edit => "edit",
            Level::Restart => "restart",
        }
    }

    /// The column heading.
    pub fn label(self) -> &'static str {
        match self {
            Level::View => "View",
            Level::Edit => "Edit",
            Level::Restart => "Restart",
        }
    }

    /// What the level allows, in plain words.
    pub fn meaning(self) -> &'static str {
        match self {
            Level::View => "see key names and versions, reveal values",
            Level::Edit => "save new versions, roll back, delete and undelete versions (with view)",
            Level::Restart => "restart the apps and sync them now (with view)",
        }
    }
}

/// A set of levels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Levels {
    pub view: bool,
    pub edit: bool,
    pub restart: bool,
}

impl Levels {
    pub fn has(&self, level: Level) -> bool {
        match level {
            Level::View => self.view,
            Level::Edit => self.edit,
            Level::Restart => self.restart,
        }
    }

    pub fn set(&mut self, level: Level, on: bool) {
        match level {
            Level::View => self.view = on,
            Level::Edit => self.edit = on,
            Level::Restart => self.restart = on,
        }
    }

    /// Ticks or unticks `level` the way the access page does: edit and restart both need view
    /// (each reads the secret), so ticking either ticks view, and unticking view unticks them.
    pub fn toggle(&mut self, level: Level, on: bool) {
        self.set(level, on);
        match (level, on) {
            (Level::Edit | Level::Restart, true) => self.view = true,
            (Level::View, false) => {
                self.edit = false;
                self.restart = false;
            }
            _ => {}
        }
    }

    /// With view added when edit or restart is held (what [`Levels::toggle`] keeps true).
    pub fn with_view_implied(mut self) -> Self {
        self.view |= self.edit || self.restart;
        self
    }

    pub fn with(mut self, level: Level) -> Self {
        self.set(level, true);
        self
    }

    pub fn is_empty(&self) -> bool {
        !(self.view || self.edit || self.restart)
    }

    /// The levels held, in order.
    pub fn iter(&self) -> impl Iterator<Item = Level> + '_ {
        Level::ALL.into_iter().filter(|l| self.has(*l))
    }
}

/// Where an environment's secrets live in Vault.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KvHome {
    /// The kv-v2 mount, e.g. `dev`.
    pub mount: String,
    /// The folder inside it: empty for the whole mount, else ending in `/` (`payments/`).
    pub prefix: String,
}

/// The platform pages the caller's Vault policies open, per environment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformMenu {
    /// Environments whose access the caller may manage.
    pub access: Vec<String>,
    /// Environments whose fleet health the caller may see.
    pub fleet: Vec<String>,
    /// Environments the caller may onboard apps into.
    pub onboard: Vec<String>,
}

impl PlatformMenu {
    pub fn is_empty(&self) -> bool {
        self.access.is_empty() && self.fleet.is_empty() && self.onboard.is_empty()
    }
}

/// A group's kind, as the access page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupKind {
    /// Members chosen in Vault (or here): entities.
    Internal { members: Vec<Member> },
    /// Members come from an auth method at login: `alias` is the LDAP group or OIDC
    /// groups-claim value on the auth mount `mount` (None: not linked yet).
    External { alias: Option<ExternalAlias> },
}

/// One member of an internal group.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Member {
    pub entity_id: String,
    /// The entity's name and its login names (`bob (userpass: bob)`).
    pub label: String,
}

/// An external group's link to its auth method.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalAlias {
    /// The group's name at the identity provider.
    pub name: String,
    /// The auth mount path, e.g. `ldap`.
    pub mount: String,
}

/// One group holding Keyway levels in the environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupAccess {
    pub id: String,
    pub name: String,
    pub kind: GroupKind,
    /// Every policy it holds, as read.
    pub policies: Vec<String>,
    /// The levels its Keyway policies give here.
    pub levels: Levels,
    /// Vault's change counter when read: an apply refuses if it moved.
    pub seen: u64,
}

/// Access to the environment that Keyway did not write: a hand-written policy, and who holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutsideGrant {
    pub policy: String,
    /// What it gives here, by level.
    pub levels: Levels,
    /// Groups holding it (names).
    pub groups: Vec<String>,
    /// Why the evaluation may be incomplete (identity templates, parameter rules), if it may.
    pub note: Option<String>,
}

/// One Keyway policy of the environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyState {
    pub name: String,
    pub level: Level,
    pub state: PolicyStatus,
    /// Its text as read (a fingerprint), sent back with a plan: an apply refuses if it changed.
    pub seen: SeenPolicy,
}

/// A policy as the page read it: the SHA-256 of its text, None when it did not exist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenPolicy {
    pub name: String,
    pub sha256: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PolicyStatus {
    /// Not in Vault yet: written on first grant.
    Missing,
    /// Written by Keyway, as Keyway would write it now.
    Current,
    /// Written by Keyway, but its text differs from what Keyway writes now (edited by hand, or
    /// an older Keyway): the next change that grants this level rewrites it (the preview shows
    /// the diff).
    Drifted,
    /// A policy of that name that Keyway did not write: Keyway never overwrites it, and grants
    /// of this level are refused until it is renamed.
    Foreign,
}

/// The access page of one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentAccess {
    pub environment: String,
    pub home: KvHome,
    /// Environments whose place in Vault lies inside this one's: access granted here reaches
    /// their secrets too.
    pub also_reaches: Vec<String>,
    pub groups: Vec<GroupAccess>,
    /// Every other group (no Keyway level here yet), for the "add a group" picker.
    pub other_groups: Vec<GroupAccess>,
    pub outside: Vec<OutsideGrant>,
    pub policies: Vec<PolicyState>,
    /// Auth mounts an external group can be linked on.
    pub auth_mounts: Vec<String>,
    /// Set when Keyway stopped reading before seeing every group or policy.
    pub cut: Option<String>,
}

/// Which group a change is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupTarget {
    /// An existing group, as read: `seen` is its change counter then, `seen_policies` and
    /// `seen_members` its policies and member entities then (to say what someone else changed).
    Existing {
        id: String,
        seen: u64,
        seen_policies: Vec<String>,
        seen_members: Vec<String>,
    },
    /// A group to create.
    New { name: String, kind: NewGroupKind },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum NewGroupKind {
    Internal,
    /// Linked to `alias` on the auth mount `mount`.
    External {
        mount: String,
        alias: String,
    },
}

/// The new state of one group in the environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupChange {
    pub target: GroupTarget,
    pub levels: Levels,
    /// An internal group's member entities after the change (None: unchanged).
    pub members: Option<Vec<String>>,
}

/// A planned change to one environment's access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessPlan {
    pub environment: String,
    pub changes: Vec<GroupChange>,
    /// Keyway's policies of the environment as the page read them.
    pub policies_seen: Vec<SeenPolicy>,
    /// A user to show the effective access of (their name or login name), if any.
    pub probe_user: Option<String>,
}

/// One line of a text diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DiffLine {
    Same(String),
    Added(String),
    Removed(String),
}

/// A policy the change writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyDiff {
    pub name: String,
    /// True when it does not exist yet.
    pub created: bool,
    pub lines: Vec<DiffLine>,
}

/// What the change does to one group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupDiff {
    pub name: String,
    pub created: bool,
    pub policies_added: Vec<String>,
    pub policies_removed: Vec<String>,
    pub members_added: Vec<String>,
    pub members_removed: Vec<String>,
    /// For a new external group: the alias it is linked to.
    pub alias: Option<ExternalAlias>,
}

/// How far a level reaches in an environment: on all of its apps, on some, on none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reach {
    None,
    Some { apps: u32, of: u32 },
    All,
}

/// One level's reach, before and after, and whether hand-written policies give it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelReach {
    pub level: Level,
    pub before: Reach,
    pub after: Reach,
    /// Given (at least in part) by policies Keyway did not write.
    pub outside: bool,
}

/// Who an effective-access row is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Subject {
    Group(String),
    User(String),
}

/// One row of the effective-access table: a subject in one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EffectiveRow {
    pub subject: Subject,
    pub environment: String,
    pub levels: Vec<LevelReach>,
    /// What the evaluation could not see (login-method policies, templated rules), if anything.
    pub note: Option<String>,
}

/// What applying a plan would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessPreview {
    pub policies: Vec<PolicyDiff>,
    pub groups: Vec<GroupDiff>,
    pub effective: Vec<EffectiveRow>,
    /// Nothing would change.
    pub unchanged: bool,
    /// Things worth knowing before applying (no policy check-and-set on this server, …).
    pub warnings: Vec<String>,
}

/// The outcome of an apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccessApplied {
    /// Every write was made.
    Done { steps: Vec<String> },
    /// Someone changed a group or policy since the preview; nothing of this plan was written
    /// after the change was seen. `changes` says what they changed; `done` what this apply
    /// had written before it noticed (empty when it noticed first).
    Conflict {
        changes: Vec<String>,
        done: Vec<String>,
    },
}

/// An entity found by the member search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityChoice {
    pub id: String,
    pub label: String,
}
