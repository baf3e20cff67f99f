//! The cluster panel's words: ages ("3 min ago", "in 12 s"), the "live in cluster" sentence,
//! the running-pods labels, and which restart button a workload gets. Pure functions of the DTOs
//! and the current time, so the wording and the rules are unit-tested here and the components
//! only place them. The apps overview (`pages::apps`) takes its badges and short phrases from
//! here too, so a state reads the same on both pages.

use crate::components::ui::Tone;
use crate::dto::{ClusterApp, ClusterStatus, LiveState, PodsState, WorkloadState};

/// Seconds between two looks at the cluster while something is moving.
pub const FAST_POLL: i64 = 2;
/// Seconds between two looks at the cluster while everything is settled.
pub const SLOW_POLL: i64 = 15;
/// After a button was used, look fast for this long even if nothing seems to move yet.
pub const HURRY_FOR: i64 = 30;

/// A length of time in the shortest plain unit: `12 s`, `3 min`, `2 h`, `4 days`.
fn span(seconds: i64) -> String {
    match seconds {
        ..60 => format!("{seconds} s"),
        60..3_600 => format!("{} min", seconds / 60),
        3_600..86_400 => format!("{} h", seconds / 3_600),
        86_400..172_800 => "1 day".to_string(),
        _ => format!("{} days", seconds / 86_400),
    }
}

/// How long ago `t` was: `12 s ago`, `3 min ago`; `just now` for now or a time slightly ahead of
/// this clock (the browser's clock and the cluster's never agree to the second).
pub fn ago(now: i64, t: i64) -> String {
    let d = now - t;
    if d <= 0 {
        "just now".to_string()
    } else {
        format!("{} ago", span(d))
    }
}

/// How long until `t`: `in 20 s`; `now` when it is due or past.
pub fn in_(now: i64, t: i64) -> String {
    let d = t - now;
    if d <= 0 {
        "now".to_string()
    } else {
        format!("in {}", span(d))
    }
}

/// The one-line answer to "is my change live in the cluster?".
pub fn live_line(live: &LiveState, now: i64) -> String {
    match live {
        LiveState::Live { version, since } => {
            format!("Live: version {version}, since {}.", ago(now, *since))
        }
        LiveState::Pending {
            cluster_version,
            vault_version,
            written,
            next_refresh_due,
        } => {
            let cluster = match cluster_version {
                Some(v) => format!("the cluster has version {v}"),
                None => "the cluster has no copy yet".to_string(),
            };
            let next = match next_refresh_due {
                None => "It refreshes only when asked.".to_string(),
                Some(t) if *t <= now => "Next refresh due now.".to_string(),
                Some(t) => format!("Next refresh {}.", in_(now, *t)),
            };
            format!(
                "Pending: {cluster}, Vault has version {vault_version} (saved {}). {next}",
                ago(now, *written)
            )
        }
        LiveState::Failing {
            sentence, since, ..
        } => format!("Failing since {}: {sentence}", ago(now, *since)),
        LiveState::Pinned { version, current } if version >= current => {
            format!("Pinned to version {version}: it will not pick up newer versions.")
        }
        LiveState::Pinned { version, current } => {
            format!("Pinned to version {version}: it will not pick up version {current}.")
        }
        LiveState::NotSetUp => NOT_SET_UP.to_string(),
        LiveState::Unknown { reason } => format!("Unknown: {reason}"),
    }
}

/// The ages the app cards show, each as it reads at `now` (`ago`, `in_`): the times inside each
/// app's `live_line` and each workload's `pods_detail`. While they read the same, cards rendered
/// earlier from the same status still show what is true (`cluster::served_cards_stale`). It lists
/// the times rather than build the sentences, which keeps the sentences' code out of the page's
/// first load; a unit test checks that it moves exactly when those sentences do. A new word in
/// the cards that follows the clock belongs here too (each such place says so). The ages in
/// Details are not listed: the server never renders its body.
pub fn clock_wording(status: &ClusterStatus, now: i64) -> Vec<String> {
    let mut ages = Vec::new();
    for a in &status.apps {
        match &a.live {
            LiveState::Live { since, .. } | LiveState::Failing { since, .. } => {
                ages.push(ago(now, *since));
            }
            LiveState::Pending {
                written,
                next_refresh_due,
                ..
            } => {
                ages.push(ago(now, *written));
                ages.extend(next_refresh_due.map(|t| in_(now, t)));
            }
            LiveState::Pinned { .. } | LiveState::NotSetUp | LiveState::Unknown { .. } => {}
        }
        for w in &a.workloads {
            if let PodsState::RestartNeeded { since } = &w.pods {
                ages.push(ago(now, *since));
            }
        }
    }
    ages
}

pub const NOT_SET_UP: &str = "Not set up: no app in the cluster uses this secret.";

/// The badge for a live state: its text and tone (see `components::ui::Badge`).
pub fn live_badge(live: &LiveState) -> (&'static str, Tone) {
    match live {
        LiveState::Live { .. } => ("Live", Tone::Good),
        LiveState::Pending { .. } => ("Pending", Tone::Warn),
        LiveState::Failing { .. } => ("Failing", Tone::Bad),
        LiveState::Pinned { .. } => ("Pinned", Tone::Warn),
        LiveState::NotSetUp => ("Not set up", Tone::Neutral),
        LiveState::Unknown { .. } => ("Unknown", Tone::Neutral),
    }
}

/// The few words after the live badge in the apps overview, one table cell wide: `version 7`,
/// `cluster has 6, Vault has 7`, the failure's sentence. None where the badge says it all.
pub fn live_phrase(live: &LiveState) -> Option<String> {
    match live {
        LiveState::Live { version, .. } => Some(format!("version {version}")),
        LiveState::Pending {
            cluster_version,
            vault_version,
            ..
        } => {
            let cluster = match cluster_version {
                Some(v) => format!("cluster has {v}"),
                None => "cluster has no copy".to_string(),
            };
            Some(format!("{cluster}, Vault has {vault_version}"))
        }
        LiveState::Failing { sentence, .. } => Some(sentence.clone()),
        LiveState::Pinned { version, current } if version >= current => {
            Some(format!("version {version}"))
        }
        LiveState::Pinned { version, current } => {
            Some(format!("version {version}, Vault has {current}"))
        }
        LiveState::NotSetUp => None,
        LiveState::Unknown { reason } => Some(reason.clone()),
    }
}

/// The apps overview's "Running pods" cell: `2 of 3 up to date`; `—` when no workload reads
/// the secret.
pub fn pods_summary(up_to_date: u32, workloads: u32) -> String {
    if workloads == 0 {
        "—".to_string()
    } else {
        format!("{up_to_date} of {workloads} up to date")
    }
}

/// The `data-live-state` test hook.
pub fn live_key(live: &LiveState) -> &'static str {
    match live {
        LiveState::Live { .. } => "live",
        LiveState::Pending { .. } => "pending",
        LiveState::Failing { .. } => "failing",
        LiveState::Pinned { .. } => "pinned",
        LiveState::NotSetUp => "not_set_up",
        LiveState::Unknown { .. } => "unknown",
    }
}

/// The `data-pods-state` test hook.
pub fn pods_key(pods: &PodsState) -> &'static str {
    match pods {
        PodsState::UpToDate => "up_to_date",
        PodsState::RestartNeeded { .. } => "restart_needed",
        PodsState::WillRestartAutomatically { .. } => "will_restart_automatically",
        PodsState::Restarting { .. } => "restarting",
        PodsState::RestartFailed { .. } => "restart_failed",
    }
}

/// The badge for a workload's pods: its text and tone.
pub fn pods_badge(pods: &PodsState) -> (&'static str, Tone) {
    match pods {
        PodsState::UpToDate => ("Up to date", Tone::Good),
        PodsState::RestartNeeded { .. } => ("Restart needed", Tone::Warn),
        PodsState::WillRestartAutomatically { .. } => ("Will restart automatically", Tone::Neutral),
        PodsState::Restarting { .. } => ("Restarting", Tone::Neutral),
        PodsState::RestartFailed { .. } => ("Restart failed", Tone::Bad),
    }
}

/// The words after the badge, when the badge alone does not say it all.
pub fn pods_detail(pods: &PodsState, now: i64) -> Option<String> {
    match pods {
        PodsState::UpToDate => None,
        PodsState::RestartNeeded { since } => Some(format!("(since {})", ago(now, *since))),
        PodsState::WillRestartAutomatically { by } => Some(format!("(by {by})")),
        PodsState::Restarting { message, .. } => Some(message.clone()),
        PodsState::RestartFailed { reason } => Some(reason.clone()),
    }
}

/// `2/3 ready`.
pub fn ready(w: &WorkloadState) -> String {
    format!("{}/{} ready", w.ready, w.replicas)
}

/// Which restart button a workload or an app gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    Restart,
    /// The cluster does not have the newest version yet: sync it first, then restart.
    SyncThenRestart,
}

impl Offer {
    fn new(pending: bool) -> Self {
        if pending {
            Offer::SyncThenRestart
        } else {
            Offer::Restart
        }
    }

    pub fn sync_first(self) -> bool {
        self == Offer::SyncThenRestart
    }

    /// The button on one workload's row.
    pub fn label(self) -> &'static str {
        match self {
            Offer::Restart => "Restart",
            Offer::SyncThenRestart => "Sync now, then restart",
        }
    }

    /// The button for every workload of the app.
    pub fn label_all(self) -> &'static str {
        match self {
            Offer::Restart => "Restart all",
            Offer::SyncThenRestart => "Sync now, then restart all",
        }
    }
}

/// The restart button a workload's row gets, if any. A restart is offered where it helps: the
/// pods run old values, or the last restart failed. While the app is pending, a workload that
/// nothing restarts by itself is offered "sync now, then restart", the one click that makes the
/// newest values live; one that restarts by itself needs only "Sync now".
pub fn restart_offer(app_pending: bool, w: &WorkloadState) -> Option<Offer> {
    match &w.pods {
        PodsState::Restarting { .. } | PodsState::WillRestartAutomatically { .. } => None,
        PodsState::RestartNeeded { .. } | PodsState::RestartFailed { .. } => {
            Some(Offer::new(app_pending))
        }
        PodsState::UpToDate => {
            (app_pending && w.auto_restart.is_none()).then_some(Offer::SyncThenRestart)
        }
    }
}

/// The "restart all" button: only for more than one workload, and not while one is restarting.
pub fn restart_all_offer(app: &ClusterApp) -> Option<Offer> {
    let restarting = app
        .workloads
        .iter()
        .any(|w| matches!(w.pods, PodsState::Restarting { .. }));
    (app.workloads.len() > 1 && !restarting).then(|| Offer::new(is_pending(&app.live)))
}

pub fn is_pending(live: &LiveState) -> bool {
    matches!(live, LiveState::Pending { .. })
}

/// Whether something is on its way (a sync or a rollout), so the panel should look often.
pub fn moving(status: &ClusterStatus) -> bool {
    status.apps.iter().any(|a| {
        is_pending(&a.live)
            || a.workloads
                .iter()
                .any(|w| matches!(w.pods, PodsState::Restarting { .. }))
    })
}

/// Seconds to the next look at the cluster.
pub fn poll_period(fast: bool) -> i64 {
    if fast {
        FAST_POLL
    } else {
        SLOW_POLL
    }
}

#[cfg(test)]
mod tests;
