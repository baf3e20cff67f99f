//! The timeline's observer: a background task that notes, as they happen, what the timeline
//! later shows (an app's Secret now carries version N, a workload restarted and by whom, a
//! rollout completed), because the cluster forgets: events expire, objects only say what is true
//! now.
//!
//! About once a second ([`EVERY`]) it looks whether the watches brought anything new
//! (`Caches::changes`); if so it takes the shared snapshot (the one the pages use, so this costs
//! no extra build while people browse), reads it with `keyway_k8s::observe`, compares with what
//! it saw before and writes the differences (`keyway_store::observations`), stamped with the
//! database's clock as they are written: steps that happen within one look share its time. Only
//! a snapshot taken with every watch in sync counts: while the cluster cannot be reached, nothing
//! is compared, and what changed meanwhile is noted once it is back. The first such snapshot
//! after Keyway starts is the baseline, so a restart of Keyway records nothing new. Several
//! replicas each observe; the table's unique keys keep one row per observation. A write that
//! fails is retried on the next round, with at most [`PENDING_MAX`] observations waiting.

use std::sync::{Arc, Weak};
use std::time::Duration;

use jiff::Timestamp;
use keyway_k8s::observe::{self, Change, Observed};
use keyway_k8s::refs::WorkloadRef;
use keyway_k8s::snapshot;
use keyway_store::observations::{NewObservation, ObservedApp, ObservedWorkload, Restarter, Seen};

use super::ClusterCtx;

/// How often the observer looks for news: just over the shared snapshot's age limit, so each
/// look finds a snapshot built after the one before (a page may have built it meanwhile).
pub const EVERY: Duration = snapshot::MAX_AGE.saturating_add(Duration::from_millis(100));
/// Most observations kept for a retry while the database refuses them; beyond, the oldest are
/// dropped (and said so in the log).
pub const PENDING_MAX: usize = 10_000;

/// Starts the observer for `k`; it stops when the last `ClusterCtx` is gone.
pub fn spawn(k: &Arc<ClusterCtx>) {
    let k = Arc::downgrade(k);
    tokio::spawn(async move { run(k).await });
}

async fn run(k: Weak<ClusterCtx>) {
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last: Option<(u64, Observed)> = None;
    let mut pending: Vec<NewObservation> = Vec::new();
    loop {
        tick.tick().await;
        let Some(k) = k.upgrade() else { return };
        // No snapshot before every watch has listed: one built earlier would be empty, and the
        // pages would be served that one for a second.
        if last.is_none() && !k.caches.health().ok {
            continue;
        }
        let changed = last
            .as_ref()
            .is_none_or(|(seen, _)| *seen != k.caches.changes());
        if changed {
            if let Some(next) = look(&k).await {
                if let Some((_, prev)) = &last {
                    pending.extend(observe::changes(prev, &next.1).into_iter().map(row));
                }
                last = Some(next);
            }
        }
        if pending.is_empty() {
            continue;
        }
        if pending.len() > PENDING_MAX {
            let dropped = pending.len() - PENDING_MAX;
            pending.drain(..dropped);
            tracing::error!(dropped, "cluster observations could not be written for a long while; the oldest are lost from the timeline");
        }
        match k.observations.record(&pending).await {
            Ok(_) => pending.clear(),
            Err(e) => {
                tracing::warn!(error = %e, waiting = pending.len(), "cluster observations not written; retrying")
            }
        }
    }
}

/// The apps as the shared snapshot shows them, with the change count that snapshot includes;
/// None while a watch is out of sync.
async fn look(k: &ClusterCtx) -> Option<(u64, Observed)> {
    let snap = snapshot::snapshot(&k.caches).await;
    if !snap.health_ok {
        return None;
    }
    let changes = snap.changes;
    let observed = tokio::task::spawn_blocking(move || observe::observe(&snap, Timestamp::now()))
        .await
        .ok()?;
    Some((changes, observed))
}

fn workload(w: WorkloadRef) -> ObservedWorkload {
    ObservedWorkload {
        kind: w.kind.as_str().to_string(),
        name: w.name,
    }
}

/// The row to record for a change.
fn row(c: Change) -> NewObservation {
    let app = |a: keyway_k8s::refs::AppRef| ObservedApp {
        namespace: a.namespace,
        name: a.name,
        mount: a.mount,
        path: a.path,
    };
    match c {
        Change::Live { app: a, version } => NewObservation {
            app: app(a),
            seen: Seen::Live { version },
        },
        Change::Restarted {
            app: a,
            workload: w,
            by,
            version,
            marker,
        } => NewObservation {
            app: app(a),
            seen: Seen::Restarted {
                workload: workload(w),
                by: match by {
                    observe::Restarter::Keyway => Restarter::Keyway,
                    observe::Restarter::Reloader => Restarter::Reloader,
                    observe::Restarter::Vso => Restarter::Vso,
                    observe::Restarter::Outside => Restarter::Outside,
                },
                version,
                marker,
            },
        },
        Change::Running {
            app: a,
            workload: w,
            version,
            generation,
        } => NewObservation {
            app: app(a),
            seen: Seen::Running {
                workload: workload(w),
                version,
                generation,
            },
        },
    }
}
