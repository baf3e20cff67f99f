//! The timeline's join, without I/O: one app's versions with their steps, from the secret's
//! writes (kv metadata and the audit log's authors), Keyway's observations of the app, and the
//! audit log's restarts; plus the steps in words.
//!
//! Per version N:
//! - live: the first observation that the app's Secret carries N;
//! - restarted: every restart observed while the Secret carried N, oldest first (at most
//!   [`RESTARTS_SHOWN`]); one by Keyway is credited to the user of the audit row whose intent
//!   names the workload and brackets the restart stamp;
//! - running: per workload, the first "pods up to date on N" at or after that workload's last
//!   restart on N (or the first at all, for a workload that was not restarted: a live volume).

use jiff::Timestamp;
use keyway_app::dto::{
    AppRef, AppTimeline, RestartStep, RestartedBy, RunningStep, VersionSteps, WorkloadRef, Written,
    WrittenBy,
};
use keyway_k8s::status::WorkloadKind;
use keyway_store::observations::{Observation, ObservedWorkload, Restarter, Seen};

use super::super::kind_from_k8s;

/// Most restarts shown per version.
pub const RESTARTS_SHOWN: usize = 10;
/// How far a Keyway restart stamp may lie outside its audit row's intent … outcome span (clocks
/// of replicas and of the database differ a little; the stamp is cut to the second).
const STAMP_SLACK_MS: i64 = 2_000;
/// The same for a restart with no readable stamp, measured from when Keyway noticed it.
const NOTICED_SLACK_MS: i64 = 30_000;

/// One version of the secret, as written.
#[derive(Debug, Clone)]
pub struct VersionWrite {
    pub version: u64,
    /// Vault's `created_time`.
    pub at: Option<Timestamp>,
    /// Who saved it through Keyway (the audit log); None: outside Keyway.
    pub author: Option<String>,
}

/// One restart Keyway made, from the audit log.
#[derive(Debug, Clone)]
pub struct KeywayRestart {
    pub app: AppRef,
    /// The workloads it patched, by name.
    pub workloads: Vec<String>,
    pub user: String,
    /// The intent row's time: before the patch.
    pub from: Timestamp,
    /// The outcome row's time: after it.
    pub to: Timestamp,
}

/// `app`'s timeline (None: the writes alone) over `writes` (newest first), from the app's
/// observations `obs` and Keyway's `restarts`; `current` is the secret's current version.
pub fn app_timeline(
    app: Option<&AppRef>,
    writes: &[VersionWrite],
    obs: &[&Observation],
    restarts: &[KeywayRestart],
    current: u64,
) -> AppTimeline {
    let versions = writes
        .iter()
        .map(|w| match app {
            Some(app) => version_steps(app, w, obs, restarts, current),
            None => VersionSteps {
                version: w.version,
                written: written(w),
                live: None,
                restarts: Vec::new(),
                running: Vec::new(),
                summary: String::new(),
            },
        })
        .collect();
    AppTimeline {
        app: app.cloned(),
        versions,
    }
}

fn written(w: &VersionWrite) -> Written {
    Written {
        at: w.at.map(|t| t.to_string()),
        by: match &w.author {
            Some(user) => WrittenBy::Keyway { user: user.clone() },
            None => WrittenBy::Outside,
        },
    }
}

fn at(ms: i64) -> String {
    Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

fn workload_ref(w: &ObservedWorkload) -> Option<WorkloadRef> {
    let kind = WorkloadKind::from_kind(&w.kind)?;
    Some(WorkloadRef::new(kind_from_k8s(kind), w.name.clone()))
}

/// A restart observed on version `v`: (when, workload, who, marker).
struct Restart<'a> {
    at_ms: i64,
    workload: &'a ObservedWorkload,
    by: Restarter,
    marker: &'a str,
}

fn version_steps(
    app: &AppRef,
    w: &VersionWrite,
    obs: &[&Observation],
    keyway: &[KeywayRestart],
    current: u64,
) -> VersionSteps {
    let v = w.version;
    let live = obs
        .iter()
        .filter(|o| o.seen == Seen::Live { version: v })
        .map(|o| o.at_ms)
        .min();
    let mut restarts: Vec<Restart> = obs
        .iter()
        .filter_map(|o| match &o.seen {
            Seen::Restarted {
                workload,
                by,
                version: Some(version),
                marker,
            } if *version == v => Some(Restart {
                at_ms: o.at_ms,
                workload,
                by: *by,
                marker,
            }),
            _ => None,
        })
        .collect();
    restarts.sort_by_key(|r| r.at_ms);
    let mut running: Vec<(i64, &ObservedWorkload)> = Vec::new();
    let mut oldest_first: Vec<&&Observation> = obs.iter().collect();
    oldest_first.sort_by_key(|o| (o.at_ms, o.id));
    for o in oldest_first {
        let Seen::Running {
            workload, version, ..
        } = &o.seen
        else {
            continue;
        };
        if *version != v || running.iter().any(|(_, w)| *w == workload) {
            continue;
        }
        let last_restart = restarts
            .iter()
            .filter(|r| r.workload == workload)
            .map(|r| r.at_ms)
            .max();
        if last_restart.is_none_or(|r| o.at_ms >= r) {
            running.push((o.at_ms, workload));
        }
    }
    let summary = summary(w, live, &restarts, &running, v == current);
    VersionSteps {
        version: v,
        written: written(w),
        live: live.map(at),
        restarts: restarts
            .iter()
            .take(RESTARTS_SHOWN)
            .filter_map(|r| {
                Some(RestartStep {
                    workload: workload_ref(r.workload)?,
                    by: match r.by {
                        Restarter::Keyway => RestartedBy::Keyway {
                            user: keyway_user(app, r, keyway),
                        },
                        Restarter::Reloader => RestartedBy::Reloader,
                        Restarter::Vso => RestartedBy::Vso,
                        Restarter::Outside => RestartedBy::Outside,
                    },
                    at: at(r.at_ms),
                })
            })
            .collect(),
        running: running
            .iter()
            .filter_map(|(ms, w)| {
                Some(RunningStep {
                    workload: workload_ref(w)?,
                    at: at(*ms),
                })
            })
            .collect(),
        summary,
    }
}

/// The user who asked Keyway for restart `r`: the audit row of this app naming the workload
/// whose intent … outcome span holds the restart's stamp (or, with no readable stamp, the time
/// Keyway noticed it); the closest one if several do.
fn keyway_user(app: &AppRef, r: &Restart<'_>, keyway: &[KeywayRestart]) -> Option<String> {
    let stamp = r
        .marker
        .parse::<Timestamp>()
        .ok()
        .map(|t| t.as_millisecond());
    keyway
        .iter()
        .filter(|k| k.app == *app && k.workloads.contains(&r.workload.name))
        .filter_map(|k| {
            let (from, to) = (k.from.as_millisecond(), k.to.as_millisecond());
            let (t, lo, hi) = match stamp {
                Some(t) => (t, from - STAMP_SLACK_MS, to + STAMP_SLACK_MS),
                None => (r.at_ms, from, to + NOTICED_SLACK_MS),
            };
            (lo <= t && t <= hi).then(|| ((t - from).abs(), k.user.clone()))
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, user)| user)
}

/// The time from `from` to `to` in words: "under 1 s", "24 s", "3 min 5 s", "2 h 4 min",
/// "3 d 1 h". A negative span (clocks a little apart) reads as "under 1 s".
pub fn span(from_ms: i64, to_ms: i64) -> String {
    let s = (to_ms - from_ms).max(0) / 1000;
    let two = |a: i64, ua: &str, b: i64, ub: &str| match b {
        0 => format!("{a} {ua}"),
        _ => format!("{a} {ua} {b} {ub}"),
    };
    match s {
        0 => "under 1 s".into(),
        1..=59 => format!("{s} s"),
        60..=3599 => two(s / 60, "min", s % 60, "s"),
        3600..=86_399 => two(s / 3600, "h", s % 3600 / 60, "min"),
        _ => two(s / 86_400, "d", s % 86_400 / 3600, "h"),
    }
}

/// The steps in words: "Live 24 s after the save, restarted 2 s later, pods up to date 41 s
/// later." Each step is timed from the one before it.
fn summary(
    w: &VersionWrite,
    live: Option<i64>,
    restarts: &[Restart<'_>],
    running: &[(i64, &ObservedWorkload)],
    newest: bool,
) -> String {
    let Some(live) = live else {
        return match newest {
            true => "Not live in the cluster yet.".into(),
            false => "Keyway did not see this version go live in this app.".into(),
        };
    };
    let after = match w.author {
        Some(_) => "the save",
        None => "the write",
    };
    let mut parts = vec![match w.at {
        Some(t) => format!("Live {} after {after}", span(t.as_millisecond(), live)),
        None => "Live".into(),
    }];
    let mut last = live;
    if let Some(first) = restarts.first() {
        parts.push(format!("restarted {} later", span(last, first.at_ms)));
        last = first.at_ms;
    }
    if let Some(up) = running.iter().map(|(ms, _)| *ms).max() {
        let before = restarts
            .iter()
            .map(|r| r.at_ms)
            .filter(|r| *r <= up)
            .max()
            .unwrap_or(last);
        parts.push(format!("pods up to date {} later", span(before, up)));
    } else if newest {
        parts.push("pods not up to date yet".into());
    }
    format!("{}.", parts.join(", "))
}

#[cfg(test)]
mod tests;
