//! From the caches to answers: which apps use a kv path, whether each one's copy is live, and
//! what each of its workloads' pods run. This is the glue between [`crate::snapshot`] (what the
//! cluster says, indexed) and [`crate::status`] / [`crate::reloader`] (the rules), kept free of
//! I/O so a view costs only memory reads: no request to the apiserver per page view.
//!
//! An app is a VaultStaticSecret (its kv-v2 mount and path, the Secret it fills). Its workloads are
//! the Deployments, StatefulSets and DaemonSets of its namespace whose pod template reads that
//! Secret (env `secretKeyRef`, `envFrom`, a secret or projected volume), plus its
//! `rolloutRestartTargets`.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use kube::ResourceExt;
use serde::{Deserialize, Serialize};

use crate::reloader::{self, SecretMarks};
use crate::snapshot::{Snapshot, Workload};
use crate::status::{
    can_restart, live_state, pods_state, rollout, AppSync, AutoRestart, Cond, Live, LiveInput,
    Pods, Rollout, VaultVersion, VssEvent, WorkloadKind,
};
use crate::vso::VaultStaticSecret;

pub use crate::refs::{AppRef, WorkloadRef};

mod input;
use input::{from_daemonset, from_deployment, from_statefulset, OwnedWorkload};

/// Everything Keyway shows about one app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppView {
    pub app: AppRef,
    pub live: Live,
    pub workloads: Vec<WorkloadView>,
    /// For the details panel (Kubernetes words allowed there).
    pub details: Details,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkloadView {
    pub kind: WorkloadKind,
    pub name: String,
    pub pods: Pods,
    pub rollout: Rollout,
    pub auto_restart: Option<AutoRestart>,
    /// Why it cannot be restarted (paused, OnDelete); None = it can.
    pub restart_refusal: Option<String>,
    pub replicas: i32,
    pub ready: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Details {
    pub refresh_after: Option<String>,
    pub synced_version: Option<u64>,
    pub secret_changed: Option<Timestamp>,
    pub conditions: Vec<Cond>,
    /// Newest first.
    pub events: Vec<VssEvent>,
}

/// How a pod template reads `secret`: (through env, through a volume without subPath). The ways
/// a template can name a Secret are listed here and in [`crate::snapshot::secret_names`] (which
/// indexes them); a new way goes into both.
fn reads(template: &PodTemplateSpec, secret: &str) -> (bool, bool) {
    let Some(spec) = template.spec.as_ref() else {
        return (false, false);
    };
    let containers = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten());
    let mut env = false;
    for c in containers.clone() {
        env |= c
            .env_from
            .iter()
            .flatten()
            .any(|e| e.secret_ref.as_ref().is_some_and(|r| r.name == secret));
        env |= c.env.iter().flatten().any(|e| {
            e.value_from
                .as_ref()
                .and_then(|v| v.secret_key_ref.as_ref())
                .is_some_and(|r| r.name == secret)
        });
    }
    let volumes: Vec<&str> = spec
        .volumes
        .iter()
        .flatten()
        .filter(|v| {
            v.secret.as_ref().and_then(|s| s.secret_name.as_deref()) == Some(secret)
                || v.projected.as_ref().is_some_and(|p| {
                    p.sources
                        .iter()
                        .flatten()
                        .any(|s| s.secret.as_ref().is_some_and(|s| s.name == secret))
                })
        })
        .map(|v| v.name.as_str())
        .collect();
    // A subPath mount is a copy taken at start: it does not follow the Secret.
    let sub_path = containers.clone().any(|c| {
        c.volume_mounts
            .iter()
            .flatten()
            .any(|m| volumes.contains(&m.name.as_str()) && m.sub_path.is_some())
    });
    (env || sub_path, !volumes.is_empty() && !sub_path)
}

struct Found {
    workload: OwnedWorkload,
    name: String,
}

/// The workloads of `vss`'s namespace that read its Secret or that it restarts.
fn workloads(snap: &Snapshot, vss: &VaultStaticSecret) -> Vec<Found> {
    let ns = vss.namespace().unwrap_or_default();
    let secret = vss.spec.destination.name.as_str();
    let marks = snap
        .secret_state(&ns, secret)
        .map(|s| s.reloader)
        .unwrap_or_default();
    let mut seen: Vec<WorkloadRef> = Vec::new();
    let mut candidates: Vec<&Workload> = snap.readers(&ns, secret).collect();
    for t in vss.spec.rollout_restart_targets.iter().flatten() {
        let Some(kind) = WorkloadKind::from_kind(&t.kind) else {
            continue;
        };
        candidates.extend(snap.workload(kind, &ns, &t.name));
    }
    let is_target = |kind: WorkloadKind, name: &str| {
        vss.spec
            .rollout_restart_targets
            .iter()
            .flatten()
            .any(|t| t.kind == kind.as_str() && t.name == name)
    };
    let mut out = Vec::new();
    for w in candidates {
        let (kind, name) = (w.kind(), w.name().to_string());
        if seen.contains(&w.reference()) {
            continue;
        }
        seen.push(w.reference());
        let (env, volume_live) = reads(w.template(), secret);
        let target = is_target(kind, &name);
        if !env && !volume_live && !target {
            continue;
        }
        let auto = if target {
            Some(AutoRestart::VsoRolloutTarget)
        } else if reloads(w, secret, marks, env || volume_live) {
            Some(AutoRestart::Reloader)
        } else {
            None
        };
        let live = !env && volume_live;
        let oldest = snap.oldest_pod(w.meta().uid.as_deref());
        let workload = match w {
            Workload::Deployment(d) => from_deployment(d, live, auto, oldest),
            Workload::StatefulSet(s) => from_statefulset(s, live, auto, oldest),
            Workload::DaemonSet(d) => from_daemonset(d, live, auto, oldest),
        };
        out.push(Found { name, workload });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Reloader's rule ([`crate::reloader`]) for this workload and Secret.
fn reloads(w: &Workload, secret: &str, marks: SecretMarks, referenced: bool) -> bool {
    let annotations = reloader::merged_annotations(w.meta(), w.template());
    reloader::reloads(&annotations, secret, marks, referenced)
}

/// The full view of one app. `vault`: the latest kv version as Keyway read it with the user's
/// token (None when it could not).
pub fn view(
    snap: &Snapshot,
    app: &AppRef,
    vault: Option<VaultVersion>,
    now: Timestamp,
) -> Option<AppView> {
    let vss = snap.vss(&app.namespace, &app.name)?;
    let conditions: Vec<Cond> = vss
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .map(|cs| cs.iter().map(Cond::from).collect())
        .unwrap_or_default();
    let events = snap.events_of(vss);
    let secret = snap
        .secret_state(&app.namespace, &app.secret)
        .unwrap_or_default();
    let (synced_version, secret_changed) = (secret.synced_version, secret.changed_at);
    let live = live_state(&LiveInput {
        now,
        app: Some(AppSync {
            pinned_version: vss.spec.version.filter(|v| *v > 0).map(|v| v as u64),
            refresh_after: vss.spec.refresh_after.as_deref(),
            hmac_secret_data: vss.spec.hmac_secret_data.unwrap_or(true),
            conditions: &conditions,
            events: &events,
            synced_version,
            secret_changed,
        }),
        vault,
        cluster: snap.cluster,
    });
    let workloads = workloads(snap, vss)
        .into_iter()
        .map(|f| {
            let input = f.workload.input();
            WorkloadView {
                kind: input.kind,
                name: f.name,
                pods: pods_state(&input, secret_changed, now),
                rollout: rollout(&input),
                auto_restart: input.auto_restart,
                restart_refusal: can_restart(&input).err().map(str::to_string),
                replicas: input.replicas,
                ready: input.ready,
            }
        })
        .collect();
    Some(AppView {
        app: app.clone(),
        live,
        workloads,
        details: Details {
            refresh_after: vss.spec.refresh_after.clone(),
            synced_version,
            secret_changed,
            conditions,
            events: events.into_iter().take(20).collect(),
        },
    })
}

/// The kind and name of each workload of an app.
pub fn workload_names(snap: &Snapshot, app: &AppRef) -> Vec<(WorkloadKind, String)> {
    snap.vss(&app.namespace, &app.name)
        .map(|v| {
            workloads(snap, v)
                .into_iter()
                .map(|f| (f.workload.kind, f.name))
                .collect()
        })
        .unwrap_or_default()
}

/// The restart guard, rollout state and automatic restarter of one workload of an app.
pub fn workload_restartable(
    snap: &Snapshot,
    app: &AppRef,
    kind: WorkloadKind,
    name: &str,
) -> Option<(Result<(), &'static str>, Rollout, Option<AutoRestart>)> {
    let vss = snap.vss(&app.namespace, &app.name)?;
    workloads(snap, vss)
        .into_iter()
        .find(|f| f.workload.kind == kind && f.name == name)
        .map(|f| {
            let i = f.workload.input();
            (can_restart(&i), rollout(&i), i.auto_restart)
        })
}

/// When a workload was last restarted by hand, by VSO or by Reloader's annotation strategy: the
/// newest restart annotation on its pod template.
pub fn last_restart(
    snap: &Snapshot,
    namespace: &str,
    kind: WorkloadKind,
    name: &str,
) -> Option<Timestamp> {
    let ann = snap
        .workload(kind, namespace, name)?
        .template()
        .metadata
        .as_ref()?
        .annotations
        .clone()?;
    [
        crate::actions::RESTARTED_AT,
        "vso.secrets.hashicorp.com/restartedAt",
    ]
    .iter()
    .filter_map(|k| ann.get(*k)?.parse::<Timestamp>().ok())
    .max()
}
