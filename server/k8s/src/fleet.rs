//! Fleet health: which apps need the platform team's attention, read from one snapshot of the
//! watch caches (no Vault call, no apiserver call), with the same rules and sentences the
//! developer pages use ([`crate::status`]).
//!
//! An app needs attention when, in this order (one row per app, its first problem):
//! 1. **Failing**: the operator's newest failure, not superseded by a later good reconcile
//!    ([`status::standing_failure`]), said in the developer page's plain sentence;
//! 2. **Not set up**: its Secret is not in the cluster (the operator never copied it);
//! 3. **Not refreshed**: the operator has not reconciled it for more than twice its refresh
//!    interval ([`status::overdue`]), so a change in Vault would not reach the cluster. Keyway
//!    reads no Vault version for the fleet (it would be one read per app), so this is the
//!    cluster's side of "pending for longer than twice its refreshAfter";
//! 4. **Old values**: a workload's running pods are older than the Secret and nothing restarts
//!    them, or their restart failed ([`status::Pods`]).
//!
//! A VaultAuth or VaultConnection in error shows through the apps that use it: the operator's
//! login and connection failures are failures of those apps (Keyway does not watch those kinds).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::apps;
use crate::refs::AppRef;
use crate::snapshot::Snapshot;
use crate::status::{self, AppSync, Live, Pods};

/// What is wrong with an app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Problem {
    Failing,
    NotSetUp,
    NotRefreshed,
    OldValues,
}

impl Problem {
    /// The metrics' label (`keyway_apps{state}`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Problem::Failing => "failing",
            Problem::NotSetUp => "not_set_up",
            Problem::NotRefreshed => "not_refreshed",
            Problem::OldValues => "old_values",
        }
    }

    pub const ALL: [Problem; 4] = [
        Problem::Failing,
        Problem::NotSetUp,
        Problem::NotRefreshed,
        Problem::OldValues,
    ];
}

/// One app needing attention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attention {
    pub app: AppRef,
    pub problem: Problem,
    /// In plain words.
    pub sentence: String,
    /// Since when, when the cluster says.
    pub since: Option<Timestamp>,
}

/// "3m", "2h 5m", "4d 1h": an age for a sentence.
fn age(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m", secs / 60),
        3600..86_400 => format!("{}h {}m", secs / 3600, secs % 3600 / 60),
        _ => format!("{}d {}h", secs / 86_400, secs % 86_400 / 3600),
    }
}

/// The first problem of one app, if any.
pub fn of_app(snap: &Snapshot, app: &AppRef, now: Timestamp) -> Option<Attention> {
    of_app_with_refresh(snap, app, now)?.0
}

/// [`of_app`], and when the operator last refreshed the app ([`status::live::last_reconcile`]), for
/// the metrics' sync lag. None when the app is not in the snapshot.
#[allow(clippy::type_complexity)]
pub fn of_app_with_refresh(
    snap: &Snapshot,
    app: &AppRef,
    now: Timestamp,
) -> Option<(Option<Attention>, Option<Timestamp>)> {
    let vss = snap.vss(&app.namespace, &app.name)?;
    let view = apps::view(snap, app, None, now)?;
    let sync = AppSync {
        pinned_version: None,
        refresh_after: vss.spec.refresh_after.as_deref(),
        hmac_secret_data: vss.spec.hmac_secret_data.unwrap_or(true),
        conditions: &view.details.conditions,
        events: &view.details.events,
        synced_version: view.details.synced_version,
        secret_changed: view.details.secret_changed,
    };
    Some((
        problem_of(snap, app, &view, &sync, now),
        status::live::last_reconcile(&sync),
    ))
}

/// The first problem of an app whose view and sync state are read.
fn problem_of(
    snap: &Snapshot,
    app: &AppRef,
    view: &apps::AppView,
    sync: &AppSync<'_>,
    now: Timestamp,
) -> Option<Attention> {
    let found = |problem, sentence: String, since| {
        Some(Attention {
            app: app.clone(),
            problem,
            sentence,
            since,
        })
    };
    if let Some(Live::Failing {
        sentence, since, ..
    }) = status::standing_failure(sync)
    {
        return found(Problem::Failing, sentence, Some(since));
    }
    if snap.secret(&app.namespace, &app.secret).is_none() {
        return found(
            Problem::NotSetUp,
            "Its Secret is not in the cluster: the operator has not copied this secret yet.".into(),
            None,
        );
    }
    if let Some((last, every)) = status::overdue(sync, now) {
        let sentence = format!(
            "The operator has not refreshed it for {} (it should refresh every {}), so changes in Vault do not reach the cluster.",
            age(now.as_second() - last.as_second()),
            age(every.as_secs())
        );
        return found(Problem::NotRefreshed, sentence, Some(last));
    }
    let stale: Vec<&apps::WorkloadView> = view
        .workloads
        .iter()
        .filter(|w| {
            matches!(
                w.pods,
                Pods::RestartNeeded { .. } | Pods::RestartFailed { .. }
            )
        })
        .collect();
    if let Some(first) = stale.first() {
        let names: Vec<&str> = stale.iter().map(|w| w.name.as_str()).collect();
        let since = match &first.pods {
            Pods::RestartNeeded { since } => Some(*since),
            _ => None,
        };
        return found(
            Problem::OldValues,
            format!(
                "Running pods use old values: {} need{} a restart.",
                names.join(", "),
                if names.len() == 1 { "s" } else { "" }
            ),
            since,
        );
    }
    None
}

/// Every app of the snapshot needing attention, in the snapshot's order (namespace, name).
pub fn attention(snap: &Snapshot, now: Timestamp) -> Vec<Attention> {
    snap.apps
        .iter()
        .filter_map(|a| of_app(snap, a, now))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_plainly() {
        assert_eq!(age(42), "42s");
        assert_eq!(age(600), "10m");
        assert_eq!(age(3600 * 2 + 300), "2h 5m");
        assert_eq!(age(86_400 * 4 + 3600), "4d 1h");
        assert_eq!(age(-5), "0s");
    }
}
