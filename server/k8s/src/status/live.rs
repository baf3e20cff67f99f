//! "Is my change live in the cluster?" for one kv path and one app (a VaultStaticSecret that
//! reads it), as one [`Live`] value the UI can say in plain words with an age.
//!
//! The rules, in order (reference §1.2, 1.3, 1.5, 1.7, 5):
//! 1. The Kubernetes caches are not in sync: `Unknown`, saying whether they are still loading or
//!    the cluster cannot be reached ([`ClusterSync`]). This comes before `NotSetUp`: with a
//!    broken watch, "no app reads this path" is as unreliable as anything else the caches say.
//! 2. No VaultStaticSecret reads the path: `NotSetUp`.
//! 3. Keyway could not read the current version from Vault: `Unknown`.
//! 4. A failure newer than the write that nothing newer superseded: `Failing` (module `failure`).
//! 5. `spec.version` pins a version: `Pinned` (the app will not pick up new versions).
//! 6. The Secret holds the version current in Vault (from its `_raw`, or, without one, a sync
//!    after the write): `Live`.
//! 7. Otherwise `Pending`, with when VSO's next timed refresh is due.

mod failure;
#[cfg(test)]
mod tests;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::{cluster_second, Cond};

/// What [`live_state`] needs to know about one kv path and one app.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LiveInput<'a> {
    pub now: Timestamp,
    /// None = no VaultStaticSecret uses this kv path.
    pub app: Option<AppSync<'a>>,
    /// Latest kv version in Vault and when it was written; None if Keyway could not read it.
    pub vault: Option<VaultVersion>,
    /// Whether the Kubernetes caches are in sync (else: still loading, or unreachable).
    pub cluster: ClusterSync,
}

/// Whether Keyway's view of the cluster can be trusted right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClusterSync {
    /// Every watch has had its first list and none failed recently.
    InSync,
    /// The cluster answers (no watch failed), but not every first list has arrived: right
    /// after Keyway starts, or with a slow apiserver.
    Loading,
    /// A watch failed recently: the cluster cannot be reached (or refuses Keyway).
    Unreachable,
}

impl ClusterSync {
    /// What Keyway tells a user. Two different sentences for "not yet" and "cannot", so a
    /// reachable cluster is never called unreachable.
    pub fn sentence(self) -> &'static str {
        match self {
            ClusterSync::InSync => CLUSTER_IN_SYNC,
            ClusterSync::Loading => CLUSTER_LOADING,
            ClusterSync::Unreachable => CLUSTER_UNREACHABLE,
        }
    }
}

/// The latest version of the kv path in Vault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VaultVersion {
    pub version: u64,
    /// The version's `created_time`.
    pub created: Timestamp,
}

/// One VaultStaticSecret that reads the path, and its destination Secret.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AppSync<'a> {
    /// `spec.version` when > 0.
    pub pinned_version: Option<u64>,
    /// `spec.refreshAfter`, e.g. `30s`, `1.5h`.
    pub refresh_after: Option<&'a str>,
    /// `spec.hmacSecretData` (VSO's default is true).
    pub hmac_secret_data: bool,
    /// `status.conditions` (SecretSynced, Healthy, Ready...).
    pub conditions: &'a [Cond],
    /// Recent events of the VaultStaticSecret, in any order.
    pub events: &'a [VssEvent],
    /// kv version the destination Secret holds (from its `_raw` key's metadata.version); None if
    /// the Secret does not exist yet or has no `_raw`.
    pub synced_version: Option<u64>,
    /// When the destination Secret last changed (None = unknown/missing).
    pub secret_changed: Option<Timestamp>,
}

/// A Kubernetes event about the VaultStaticSecret (aggregated: `last_seen` is its latest
/// occurrence).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VssEvent {
    /// `type: Warning` (else Normal).
    pub warning: bool,
    pub reason: String,
    pub message: String,
    pub last_seen: Timestamp,
}

/// Whether the change is live in the cluster, with what the UI needs to say it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Live {
    /// The Secret carries the version current in Vault, since `since`.
    Live { version: u64, since: Timestamp },
    /// Vault has a newer version than the Secret; the operator has not copied it yet.
    Pending {
        /// The version the Secret holds (None: no Secret yet, or no `_raw` in it).
        cluster_version: Option<u64>,
        vault_version: u64,
        /// When the Vault version was written.
        written: Timestamp,
        /// When the operator's timed refresh will have run at the latest (never before `now`:
        /// an overdue refresh is due now). None: it refreshes only when asked (hmacSecretData
        /// off and no refreshAfter), e.g. by a "sync now" or an edit of the VaultStaticSecret.
        next_refresh_due: Option<Timestamp>,
    },
    /// The operator tried to copy the change and failed.
    Failing {
        /// What went wrong, in plain English.
        sentence: String,
        /// The operator's own message, for a details panel.
        detail: String,
        /// The first failure seen after the write.
        since: Timestamp,
    },
    /// The app asks for a fixed version, so it will not pick up new ones.
    Pinned { version: u64, current: u64 },
    /// No app uses this path.
    NotSetUp,
    /// Keyway cannot tell right now.
    Unknown { reason: String },
}

pub const CLUSTER_UNREACHABLE: &str = "The cluster cannot be reached right now.";
pub const CLUSTER_LOADING: &str =
    "Keyway is still loading the cluster's state; try again in a moment.";
pub const CLUSTER_IN_SYNC: &str = "Keyway's view of the cluster is up to date.";
pub const VAULT_UNREADABLE: &str = "Keyway could not read the current version from Vault.";

/// VSO's refresh when `hmacSecretData` is on and `refreshAfter` is empty (reference §1.3).
const DEFAULT_REFRESH: SignedDuration = SignedDuration::from_secs(60);

/// The state of one app's copy of a kv path.
pub fn live_state(input: &LiveInput<'_>) -> Live {
    if input.cluster != ClusterSync::InSync {
        return Live::Unknown {
            reason: input.cluster.sentence().to_owned(),
        };
    }
    let Some(app) = &input.app else {
        return Live::NotSetUp;
    };
    let Some(vault) = input.vault else {
        return Live::Unknown {
            reason: VAULT_UNREADABLE.to_owned(),
        };
    };
    if let Some(failing) = failure::failing(app, vault.created) {
        return failing;
    }
    if let Some(version) = app.pinned_version.filter(|v| *v > 0) {
        return Live::Pinned {
            version,
            current: vault.version,
        };
    }
    match synced(app, vault) {
        Some((version, since)) if version >= vault.version => Live::Live { version, since },
        _ => Live::Pending {
            cluster_version: app.synced_version,
            vault_version: vault.version,
            written: vault.created,
            next_refresh_due: next_refresh_due(app, input.now),
        },
    }
}

/// The version the Secret holds and since when. Read from `_raw` when Keyway has it; when it
/// does not (`excludeRaw`, or Keyway may not read Secrets, as reference §5 advises), a sync in
/// or after the second of the write means the Secret holds the written version (reference §5,
/// step 4). Taking the same second errs towards "live" for at most one refresh: a sync that in
/// fact came just before the write is followed by the one that copies it.
fn synced(app: &AppSync<'_>, vault: VaultVersion) -> Option<(u64, Timestamp)> {
    match app.synced_version {
        Some(version) => Some((version, app.secret_changed.unwrap_or(vault.created))),
        None => failure::last_sync(app)
            .filter(|at| *at >= cluster_second(vault.created))
            .map(|at| (vault.version, at)),
    }
}

/// How often VSO re-reads Vault for this app, or None when it does not poll (reference §1.3).
///
/// An empty, zero or malformed `refreshAfter` counts as unset, as in VSO (`requeueAfter == 0`);
/// the CRD rejects malformed values, so those only come from hand-made input. Unset means 60 s
/// with `hmacSecretData` on and no polling with it off. VSO requeues at 80–90 % of the value,
/// so this is the latest the refresh runs.
pub fn refresh_interval(
    refresh_after: Option<&str>,
    hmac_secret_data: bool,
) -> Option<SignedDuration> {
    let set = refresh_after
        .and_then(parse_refresh_after)
        .filter(|d| !d.is_zero());
    match set {
        Some(every) => Some(every),
        None if hmac_secret_data => Some(DEFAULT_REFRESH),
        None => None,
    }
}

/// A failure that nothing newer superseded, whatever was written when: what fleet health
/// calls failing (it reads no Vault version, so it cannot compare with a write).
pub fn standing_failure(app: &AppSync<'_>) -> Option<Live> {
    failure::failing(app, Timestamp::UNIX_EPOCH)
}

/// When the operator last reconciled the app and how often it should, if that was more than
/// twice its refresh interval before `now`: the operator is not refreshing it, so whatever Vault
/// holds now may not reach the cluster. None when it does not poll, or shows no reconcile yet.
pub fn overdue(app: &AppSync<'_>, now: Timestamp) -> Option<(Timestamp, SignedDuration)> {
    let every = refresh_interval(app.refresh_after, app.hmac_secret_data)?;
    let last = last_reconcile(app)?;
    let limit = last.checked_add(every.checked_mul(2)?).ok()?;
    (now > limit).then_some((last, every))
}

/// `^([0-9]+(\.[0-9]+)?(s|m|h))$`, the CRD's pattern for `refreshAfter`.
fn parse_refresh_after(s: &str) -> Option<SignedDuration> {
    let (number, unit_secs) = if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60.0)
    } else if let Some(n) = s.strip_suffix('h') {
        (n, 3600.0)
    } else {
        return None;
    };
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    let well_formed = match number.split_once('.') {
        Some((whole, fraction)) => digits(whole) && digits(fraction),
        None => digits(number),
    };
    if !well_formed {
        return None;
    }
    let value: f64 = number.parse().ok()?;
    SignedDuration::try_from_secs_f64(value * unit_secs).ok()
}

/// Last reconcile + refresh interval, never before `now`.
fn next_refresh_due(app: &AppSync<'_>, now: Timestamp) -> Option<Timestamp> {
    let every = refresh_interval(app.refresh_after, app.hmac_secret_data)?;
    let due = last_reconcile(app)
        .unwrap_or(now)
        .checked_add(every)
        .unwrap_or(Timestamp::MAX);
    Some(due.max(now))
}

/// When VSO last reconciled this app. VSO rewrites Healthy and Ready (either status) on every
/// reconcile; a VaultStaticSecret without them (VSO before v1.0, or never reconciled) falls back
/// to its last sync. With no sign at all (events expire after an hour) the caller counts from
/// `now`: the refresh runs within one interval from now at the latest.
pub fn last_reconcile(app: &AppSync<'_>) -> Option<Timestamp> {
    let newest = |types: &[&str]| {
        app.conditions
            .iter()
            .filter(|c| types.contains(&c.type_.as_str()))
            .map(|c| c.last_transition)
            .max()
    };
    newest(&["Healthy", "Ready"]).or_else(|| {
        let synced_event = app
            .events
            .iter()
            .filter(|e| !e.warning && failure::is_sync_success(&e.reason))
            .map(|e| e.last_seen)
            .max();
        newest(&["SecretSynced"]).max(synced_event)
    })
}
