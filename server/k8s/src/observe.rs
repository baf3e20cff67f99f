//! What changed in the cluster since the last look, per app, for the secret page's timeline:
//! the app's Secret now carries kv version N ([`Change::Live`]), a workload restarted and who did
//! it as far as the cluster says ([`Change::Restarted`]), a workload's rollout completed with its
//! pods on version N ([`Change::Running`]).
//!
//! Why it exists: the objects only say what is true now and Kubernetes events expire within the
//! hour, so the timeline's steps must be noted as they happen. This module is the pure half:
//! [`observe`] reads one [`Snapshot`] into an [`Observed`] state (using the same rules the pages
//! use: [`crate::apps::view`] for the synced version and each workload's pods, so "running" is
//! exactly the page's "Up to date"), and [`changes`] compares two states. The server runs it on
//! each new snapshot and writes what it returns (`keyway_store::observations`).
//!
//! What tells who restarted a workload (reference §1.6, 4.2, 4.3), read on its pod template:
//! - `kubectl.kubernetes.io/restartedAt` changed: Keyway, when Keyway's field manager set it
//!   ([`crate::reduced::RESTART_STAMP_BY`]), else someone outside Keyway (`kubectl rollout
//!   restart`, a script);
//! - `vso.secrets.hashicorp.com/restartedAt` changed: VSO's `rolloutRestartTargets`;
//! - Reloader's env var for the app's Secret, or its `last-reloaded-from` annotation naming that
//!   Secret, changed: Reloader.
//!
//! Only changes count: an app or a workload that was not in the previous state is the new
//! baseline, not news, so the first state after Keyway starts records nothing.

use std::collections::HashMap;

use jiff::Timestamp;
use serde::Deserialize;

use crate::apps::{self, AppRef, WorkloadRef};
use crate::reduced::RESTART_STAMP_BY;
use crate::reloader;
use crate::snapshot::{Snapshot, Workload};
use crate::status::{cluster_second, Pods};

#[cfg(test)]
mod tests;

/// The field manager of Keyway's own restart patch (`crate::actions`).
pub const KEYWAY_FIELD_MANAGER: &str = "keyway";
/// The pod-template annotation VSO's rollout restart sets (reference §1.6).
pub const VSO_RESTARTED_AT: &str = "vso.secrets.hashicorp.com/restartedAt";

/// Who restarted a workload, as far as the cluster says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Restarter {
    Keyway,
    Reloader,
    Vso,
    /// `kubectl rollout restart` or anything else that set the stamp.
    Outside,
}

/// The restart marks on one workload's pod template, for one Secret.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestartMarks {
    /// `kubectl.kubernetes.io/restartedAt`, and whether Keyway's field manager set it.
    pub kubectl: Option<(String, bool)>,
    /// `vso.secrets.hashicorp.com/restartedAt`.
    pub vso: Option<String>,
    /// Reloader's env var for the Secret (a fingerprint of it, see `crate::reduced`).
    pub reloader_env: Option<String>,
    /// `observedAt` of Reloader's `last-reloaded-from` annotation, when it names the Secret.
    pub reloader_annotation: Option<String>,
}

/// One workload of an app, as last seen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkloadSeen {
    pub marks: RestartMarks,
    /// `(version, generation)` when its pods are up to date with the Secret's version (the
    /// page's "Up to date": rollout complete, pods started after the Secret changed, or a live
    /// volume), at the workload's `metadata.generation`.
    pub running: Option<(u64, i64)>,
}

/// One app, as last seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppSeen {
    pub app: AppRef,
    /// The kv version its Secret carries.
    pub version: Option<u64>,
    /// When its Secret was last written (`managedFields`, to the second).
    pub changed_at: Option<Timestamp>,
    pub workloads: HashMap<WorkloadRef, WorkloadSeen>,
}

/// Every app of a snapshot, as last seen, by (namespace, name).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    pub apps: HashMap<(String, String), AppSeen>,
}

/// Something that changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Live {
        app: AppRef,
        version: u64,
    },
    /// `version`: what the Secret carried when the workload restarted (see [`changes`]).
    /// `marker`: the restart stamp's value (the same on every replica), empty for Reloader's env
    /// var.
    Restarted {
        app: AppRef,
        workload: WorkloadRef,
        by: Restarter,
        version: Option<u64>,
        marker: String,
    },
    Running {
        app: AppRef,
        workload: WorkloadRef,
        version: u64,
        generation: i64,
    },
}

/// Every app of `snap`, read as [`Observed`]. `now` only decides the page's "will restart
/// automatically" grace, which never makes pods up to date, so any clock will do.
pub fn observe(snap: &Snapshot, now: Timestamp) -> Observed {
    let mut apps = HashMap::new();
    for app in &snap.apps {
        let Some(view) = apps::view(snap, app, None, now) else {
            continue;
        };
        let version = view.details.synced_version;
        let workloads = view
            .workloads
            .iter()
            .map(|w| {
                let reference = WorkloadRef {
                    kind: w.kind,
                    name: w.name.clone(),
                };
                let object = snap.workload(w.kind, &app.namespace, &w.name);
                let generation = object.and_then(|o| o.meta().generation).unwrap_or(0);
                let seen = WorkloadSeen {
                    marks: object.map(|o| marks(o, &app.secret)).unwrap_or_default(),
                    running: match (&w.pods, version) {
                        (Pods::UpToDate, Some(v)) => Some((v, generation)),
                        _ => None,
                    },
                };
                (reference, seen)
            })
            .collect();
        apps.insert(
            (app.namespace.clone(), app.name.clone()),
            AppSeen {
                app: app.clone(),
                version,
                changed_at: view.details.secret_changed,
                workloads,
            },
        );
    }
    Observed { apps }
}

/// The restart marks of `w`'s pod template that concern `secret`.
pub fn marks(w: &Workload, secret: &str) -> RestartMarks {
    let template = w.template();
    let empty = Default::default();
    let a = template
        .metadata
        .as_ref()
        .and_then(|m| m.annotations.as_ref())
        .unwrap_or(&empty);
    let env = reloader::env_var_name(secret);
    let reloader_env = template.spec.as_ref().and_then(|s| {
        s.containers
            .iter()
            .filter_map(|c| c.env.as_ref())
            .flatten()
            .find(|e| e.name == env)
            .and_then(|e| e.value.clone())
    });
    RestartMarks {
        kubectl: a.get(crate::actions::RESTARTED_AT).map(|v| {
            let by_keyway =
                a.get(RESTART_STAMP_BY).map(String::as_str) == Some(KEYWAY_FIELD_MANAGER);
            (v.clone(), by_keyway)
        }),
        vso: a.get(VSO_RESTARTED_AT).cloned(),
        reloader_env,
        reloader_annotation: a
            .get(reloader::LAST_RELOADED_FROM)
            .and_then(|v| reloaded_from(v, secret)),
    }
}

/// `observedAt` of Reloader's `last-reloaded-from` annotation, if it names the Secret `secret`.
fn reloaded_from(value: &str, secret: &str) -> Option<String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct From {
        #[serde(rename = "type")]
        kind: Option<String>,
        name: Option<String>,
        observed_at: Option<serde_json::Value>,
    }
    let f: From = serde_json::from_str(value).ok()?;
    let is_secret = f
        .kind
        .as_deref()
        .is_none_or(|k| k.eq_ignore_ascii_case("secret"));
    (is_secret && f.name.as_deref() == Some(secret)).then(|| match f.observed_at {
        Some(serde_json::Value::String(s)) => s,
        Some(other) => other.to_string(),
        None => String::new(),
    })
}

/// What changed from `prev` to `next`, app by app, in a stable order. An app or workload missing
/// from `prev` is a baseline, not a change.
///
/// A restart belongs to the version the Secret carried when it happened. When the Secret also
/// changed since `prev` (one look can hold both: a replica that looks a second later than
/// another), a restart stamped before the Secret's new write (to the second) belongs to the
/// version before; one stamped in or after that second, or without a stamp (Reloader reacts to
/// the write), to the new one. So every replica attributes a restart to the same version, and
/// their rows collapse into one.
pub fn changes(prev: &Observed, next: &Observed) -> Vec<Change> {
    let mut keys: Vec<&(String, String)> = next.apps.keys().collect();
    keys.sort();
    let mut out = Vec::new();
    for key in keys {
        let (Some(before), after) = (prev.apps.get(key), &next.apps[key]) else {
            continue;
        };
        let app = &after.app;
        // An app whose VaultStaticSecret now copies another kv secret: its version is news there.
        let moved = before.app != after.app;
        if let Some(version) = after.version {
            if after.version != before.version || moved {
                out.push(Change::Live {
                    app: app.clone(),
                    version,
                });
            }
        }
        let mut workloads: Vec<(&WorkloadRef, &WorkloadSeen)> = after.workloads.iter().collect();
        workloads
            .sort_by(|a, b| (&a.0.name, a.0.kind.as_str()).cmp(&(&b.0.name, b.0.kind.as_str())));
        for (w, now) in workloads {
            let Some(then) = before.workloads.get(w) else {
                continue;
            };
            let version_at = |stamp: &str| match (restart_time(stamp), after.changed_at) {
                (Some(t), Some(written))
                    if after.version != before.version && t < cluster_second(written) =>
                {
                    before.version
                }
                _ => after.version,
            };
            workload_changes(app, w, &version_at, then, now, &mut out);
        }
    }
    out
}

/// What a restart stamp says of its time: RFC 3339 (kubectl, Keyway, VSO) or Unix seconds
/// (Reloader's `observedAt`).
fn restart_time(stamp: &str) -> Option<Timestamp> {
    stamp
        .parse::<Timestamp>()
        .ok()
        .or_else(|| Timestamp::from_second(stamp.parse().ok()?).ok())
}

/// What changed on one workload of `app`; `version_at(stamp)` is the Secret's version when a
/// restart with that stamp happened.
fn workload_changes(
    app: &AppRef,
    w: &WorkloadRef,
    version_at: &dyn Fn(&str) -> Option<u64>,
    then: &WorkloadSeen,
    now: &WorkloadSeen,
    out: &mut Vec<Change>,
) {
    let mut restarted = |by: Restarter, marker: &str| {
        out.push(Change::Restarted {
            app: app.clone(),
            workload: w.clone(),
            by,
            version: version_at(marker),
            marker: marker.to_string(),
        })
    };
    let (m0, m1) = (&then.marks, &now.marks);
    if let Some((stamp, by_keyway)) = &m1.kubectl {
        if m0.kubectl.as_ref().map(|(s, _)| s) != Some(stamp) {
            let by = match by_keyway {
                true => Restarter::Keyway,
                false => Restarter::Outside,
            };
            restarted(by, stamp);
        }
    }
    if let Some(stamp) = m1.vso.as_ref().filter(|_| m1.vso != m0.vso) {
        restarted(Restarter::Vso, stamp);
    }
    if m1.reloader_env.is_some() && m1.reloader_env != m0.reloader_env {
        restarted(Restarter::Reloader, "");
    }
    let annotation = m1.reloader_annotation.as_ref();
    if let Some(at) = annotation.filter(|_| m1.reloader_annotation != m0.reloader_annotation) {
        restarted(Restarter::Reloader, at);
    }
    if let Some((version, generation)) = now.running {
        if now.running != then.running {
            out.push(Change::Running {
                app: app.clone(),
                workload: w.clone(),
                version,
                generation,
            });
        }
    }
}
