//! An indexed read of the caches, so a page costs lookups, not scans.
//!
//! With thousands of apps, answering "which workloads read this Secret", "how old are this
//! workload's pods" or "what did the operator say about this app" by scanning the stores for each
//! app made the overview cost hundreds of milliseconds. A [`Snapshot`] indexes every store once;
//! [`snapshot`] keeps one for up to a second and shares it between requests (views are about
//! seconds and minutes, so that is invisible), while restarts and their guards take a fresh one
//! of the app's namespace only ([`fresh_in`]), so a click never acts on a stale picture and
//! costs what one namespace costs, not the fleet. [`app`] finds one app by name without any
//! index. Building runs on tokio's blocking pool, never on the async workers: a storm of clicks
//! cannot stall the pages of everyone else (issue 9, point 4).
//!
//! Layering: this module reads [`crate::cache`] (the stores) and [`crate::reduced`] (what they
//! keep); [`crate::apps`] reads this one. Neither of the lower two imports it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Event, PodTemplateSpec, Secret};
use kube::api::ObjectMeta;
use kube::ResourceExt;

use crate::cache::{Caches, Watched};
use crate::reduced::CachedSecret;
use crate::refs::{norm, AppRef, WorkloadRef};
use crate::status::{ClusterSync, VssEvent, WorkloadKind};
use crate::vso::VaultStaticSecret;

/// How long a shared snapshot is used before the next request rebuilds it.
pub const MAX_AGE: Duration = Duration::from_secs(1);

/// One workload object of any of the three kinds.
#[derive(Clone)]
pub enum Workload {
    Deployment(Arc<Deployment>),
    StatefulSet(Arc<StatefulSet>),
    DaemonSet(Arc<DaemonSet>),
}

impl Workload {
    pub fn kind(&self) -> WorkloadKind {
        match self {
            Workload::Deployment(_) => WorkloadKind::Deployment,
            Workload::StatefulSet(_) => WorkloadKind::StatefulSet,
            Workload::DaemonSet(_) => WorkloadKind::DaemonSet,
        }
    }
    pub fn meta(&self) -> &ObjectMeta {
        match self {
            Workload::Deployment(d) => &d.metadata,
            Workload::StatefulSet(s) => &s.metadata,
            Workload::DaemonSet(d) => &d.metadata,
        }
    }
    pub fn template(&self) -> &PodTemplateSpec {
        match self {
            Workload::Deployment(d) => &d.spec.template,
            Workload::StatefulSet(s) => &s.spec.template,
            Workload::DaemonSet(d) => &d.spec.template,
        }
    }
    pub fn name(&self) -> &str {
        self.meta().name.as_deref().unwrap_or_default()
    }
    /// Its kind and name.
    pub fn reference(&self) -> WorkloadRef {
        WorkloadRef {
            kind: self.kind(),
            name: self.name().to_string(),
        }
    }
    pub fn namespace(&self) -> &str {
        self.meta().namespace.as_deref().unwrap_or_default()
    }
}

type Key = (String, String);

/// The caches, indexed.
pub struct Snapshot {
    /// Every watch in sync when this was built.
    pub health_ok: bool,
    /// The same, with "still loading" told apart from "unreachable".
    pub cluster: ClusterSync,
    /// [`Caches::changes`] as it was before the stores were read: this snapshot shows at least
    /// every change counted so far.
    pub changes: u64,
    /// Every app, sorted by namespace and name.
    pub apps: Vec<AppRef>,
    /// (namespace, name) → the VaultStaticSecret.
    vss: HashMap<Key, Arc<VaultStaticSecret>>,
    /// (mount, path) → the apps (indexes into `apps`) that copy that kv secret.
    by_path: HashMap<Key, Vec<usize>>,
    workloads: Vec<Workload>,
    /// (namespace, Secret name) → workloads whose pod template names that Secret.
    readers: HashMap<Key, Vec<usize>>,
    /// (kind, namespace, name) → the workload (index into `workloads`).
    by_name: HashMap<(WorkloadKind, String, String), usize>,
    /// Workload uid → creation time of its oldest pod (directly owned, or through a ReplicaSet).
    oldest_pod: HashMap<String, Timestamp>,
    /// (namespace, object name) → its events, newest first, with the object's uid.
    events: HashMap<Key, Vec<(Option<String>, VssEvent)>>,
    secrets: Watched<Secret>,
}

/// The Secret names a pod template mentions (env, envFrom, secret and projected volumes).
pub fn secret_names(t: &PodTemplateSpec) -> Vec<String> {
    let Some(spec) = t.spec.as_ref() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for c in spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
    {
        out.extend(
            c.env_from
                .iter()
                .flatten()
                .filter_map(|e| e.secret_ref.as_ref().map(|r| r.name.clone())),
        );
        out.extend(c.env.iter().flatten().filter_map(|e| {
            e.value_from
                .as_ref()?
                .secret_key_ref
                .as_ref()
                .map(|r| r.name.clone())
        }));
    }
    for v in spec.volumes.iter().flatten() {
        out.extend(v.secret.as_ref().and_then(|s| s.secret_name.clone()));
        if let Some(p) = &v.projected {
            out.extend(
                p.sources
                    .iter()
                    .flatten()
                    .filter_map(|s| s.secret.as_ref().map(|s| s.name.clone())),
            );
        }
    }
    out.sort();
    out.dedup();
    out
}

fn event_time(e: &Event) -> Option<Timestamp> {
    e.series
        .as_ref()
        .and_then(|s| s.last_observed_time.as_ref().map(|t| t.0))
        .or_else(|| e.last_timestamp.as_ref().map(|t| t.0))
        .or_else(|| e.event_time.as_ref().map(|t| t.0))
        .or_else(|| e.first_timestamp.as_ref().map(|t| t.0))
        .or_else(|| e.metadata.creation_timestamp.as_ref().map(|t| t.0))
}

/// What a snapshot indexes: the whole fleet, or one namespace (everything an app's status and
/// restart guards read lives in the app's namespace).
#[derive(Clone, Copy)]
enum Part<'a> {
    All,
    Namespace(&'a str),
}

impl Part<'_> {
    /// The objects of `watched` inside this part.
    fn of<K>(self, watched: &Watched<K>) -> Vec<Arc<K>>
    where
        K: kube::Resource + Clone + 'static,
        K::DynamicType: Eq + std::hash::Hash + Clone,
    {
        match self {
            Part::All => watched.state(),
            Part::Namespace(ns) => watched.state_in(ns),
        }
    }
}

impl Snapshot {
    /// Indexes every store once.
    pub fn build(c: &Caches) -> Snapshot {
        Self::build_in(c, Part::All)
    }

    fn build_in(c: &Caches, part: Part<'_>) -> Snapshot {
        let changes = c.changes();
        let health = c.health();
        let (apps, vss, by_path) = index_apps(c, part);
        let (workloads, readers, by_name) = index_workloads(c, part);
        Snapshot {
            health_ok: health.ok,
            cluster: health.sync,
            changes,
            apps,
            vss,
            by_path,
            workloads,
            readers,
            by_name,
            oldest_pod: oldest_pods(c, part),
            events: events_by_object(c, part),
            secrets: c.secrets.clone(),
        }
    }

    /// The apps that copy `mount`/`path`.
    pub fn apps_for(&self, mount: &str, path: &str) -> Vec<AppRef> {
        self.by_path
            .get(&(norm(mount).to_string(), norm(path).to_string()))
            .map(|ix| ix.iter().map(|i| self.apps[*i].clone()).collect())
            .unwrap_or_default()
    }

    pub fn vss(&self, namespace: &str, name: &str) -> Option<&Arc<VaultStaticSecret>> {
        self.vss.get(&(namespace.to_string(), name.to_string()))
    }

    /// Workloads of `namespace` whose template names `secret`.
    pub fn readers(&self, namespace: &str, secret: &str) -> impl Iterator<Item = &Workload> {
        self.readers
            .get(&(namespace.to_string(), secret.to_string()))
            .into_iter()
            .flatten()
            .map(|i| &self.workloads[*i])
    }

    /// The workloads of `namespace`, in the order they were listed.
    pub fn workloads_in<'a>(&'a self, namespace: &'a str) -> impl Iterator<Item = &'a Workload> {
        self.workloads
            .iter()
            .filter(move |w| w.namespace() == namespace)
    }

    pub fn workload(&self, kind: WorkloadKind, namespace: &str, name: &str) -> Option<&Workload> {
        self.by_name
            .get(&(kind, namespace.to_string(), name.to_string()))
            .map(|i| &self.workloads[*i])
    }

    pub fn oldest_pod(&self, workload_uid: Option<&str>) -> Option<Timestamp> {
        self.oldest_pod.get(workload_uid?).copied()
    }

    /// Events of the VaultStaticSecret, newest first.
    pub fn events_of(&self, vss: &VaultStaticSecret) -> Vec<VssEvent> {
        let uid = vss.uid();
        self.events
            .get(&(vss.namespace().unwrap_or_default(), vss.name_any()))
            .into_iter()
            .flatten()
            .filter(|(u, _)| uid.is_none() || *u == uid)
            .map(|(_, e)| e.clone())
            .collect()
    }

    pub fn secret(&self, namespace: &str, name: &str) -> Option<Arc<Secret>> {
        self.secrets
            .get(&kube::runtime::reflector::ObjectRef::new(name).within(namespace))
    }

    /// What Keyway reads of the cached Secret (its version, last write, Reloader's marks).
    pub fn secret_state(&self, namespace: &str, name: &str) -> Option<CachedSecret> {
        self.secret(namespace, name).map(|s| CachedSecret::of(&s))
    }
}

/// The app a VaultStaticSecret is, if it copies a kv-v2 secret Keyway edits (see
/// [`crate::vso::VaultStaticSecretSpec::copies_keyways_kv_v2`]): the one rule for both the index
/// and [`app`].
fn app_of(v: &VaultStaticSecret) -> Option<AppRef> {
    v.spec.copies_keyways_kv_v2().then(|| AppRef {
        namespace: v.namespace().unwrap_or_default(),
        name: v.name_any(),
        mount: norm(&v.spec.mount).to_string(),
        path: norm(&v.spec.path).to_string(),
        secret: v.spec.destination.name.clone(),
    })
}

/// The one app `namespace`/`name` (a VaultStaticSecret), looked up in the cache without building
/// any index; None when there is none or it copies no kv-v2 secret of Keyway's Vault namespace.
pub fn app(c: &Caches, namespace: &str, name: &str) -> Option<AppRef> {
    let key = kube::runtime::reflector::ObjectRef::new(name).within(namespace);
    let v = c.vss.get(&key)?;
    app_of(&v)
}

/// The apps (one per VaultStaticSecret), sorted, by name and by the kv path they copy.
#[allow(clippy::type_complexity)]
fn index_apps(
    c: &Caches,
    part: Part<'_>,
) -> (
    Vec<AppRef>,
    HashMap<Key, Arc<VaultStaticSecret>>,
    HashMap<Key, Vec<usize>>,
) {
    let mut vss = HashMap::new();
    let mut apps = Vec::new();
    for v in part.of(&c.vss) {
        let Some(app) = app_of(&v) else { continue };
        vss.insert((app.namespace.clone(), app.name.clone()), v);
        apps.push(app);
    }
    apps.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    let mut by_path: HashMap<Key, Vec<usize>> = HashMap::new();
    for (i, a) in apps.iter().enumerate() {
        by_path
            .entry((a.mount.clone(), a.path.clone()))
            .or_default()
            .push(i);
    }
    (apps, vss, by_path)
}

/// Every workload, with the Secrets each one's pod template reads and its (kind, namespace,
/// name).
#[allow(clippy::type_complexity)]
fn index_workloads(
    c: &Caches,
    part: Part<'_>,
) -> (
    Vec<Workload>,
    HashMap<Key, Vec<usize>>,
    HashMap<(WorkloadKind, String, String), usize>,
) {
    let workloads: Vec<Workload> = part
        .of(&c.deployments)
        .into_iter()
        .map(Workload::Deployment)
        .chain(
            part.of(&c.statefulsets)
                .into_iter()
                .map(Workload::StatefulSet),
        )
        .chain(part.of(&c.daemonsets).into_iter().map(Workload::DaemonSet))
        .collect();
    let mut readers: HashMap<Key, Vec<usize>> = HashMap::new();
    let mut by_name = HashMap::new();
    for (i, w) in workloads.iter().enumerate() {
        let ns = w.namespace().to_string();
        by_name.insert((w.kind(), ns.clone(), w.name().to_string()), i);
        for s in secret_names(w.template()) {
            readers.entry((ns.clone(), s)).or_default().push(i);
        }
    }
    (workloads, readers, by_name)
}

/// When the oldest running pod of each workload (by the workload's uid) started; a Deployment's
/// pods are found through their ReplicaSet.
fn oldest_pods(c: &Caches, part: Part<'_>) -> HashMap<String, Timestamp> {
    // ReplicaSet uid → its Deployment's uid; then each pod to its workload's uid.
    let rs_owner: HashMap<String, String> = part
        .of(&c.replicasets)
        .iter()
        .filter_map(|rs| {
            let owner = rs
                .owner_references()
                .iter()
                .find(|o| o.kind == "Deployment")?;
            Some((rs.metadata.uid.clone()?, owner.uid.clone()))
        })
        .collect();
    let mut oldest_pod: HashMap<String, Timestamp> = HashMap::new();
    for p in part.of(&c.pods) {
        if p.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let Some(created) = p.metadata.creation_timestamp.as_ref().map(|t| t.0) else {
            continue;
        };
        for o in p.owner_references() {
            let owner = rs_owner
                .get(&o.uid)
                .cloned()
                .unwrap_or_else(|| o.uid.clone());
            let slot = oldest_pod.entry(owner).or_insert(created);
            if created < *slot {
                *slot = created;
            }
        }
    }
    oldest_pod
}

/// The events of each object (namespace, name), newest first, with the uid they were about.
fn events_by_object(c: &Caches, part: Part<'_>) -> HashMap<Key, Vec<(Option<String>, VssEvent)>> {
    let mut events: HashMap<Key, Vec<(Option<String>, VssEvent)>> = HashMap::new();
    for e in part.of(&c.events) {
        let (Some(ns), Some(name), Some(at)) = (
            e.metadata.namespace.clone(),
            e.involved_object.name.clone(),
            event_time(&e),
        ) else {
            continue;
        };
        events.entry((ns, name)).or_default().push((
            e.involved_object.uid.clone(),
            VssEvent {
                warning: e.type_.as_deref() == Some("Warning"),
                reason: e.reason.clone().unwrap_or_default(),
                message: e.message.clone().unwrap_or_default(),
                last_seen: at,
            },
        ));
    }
    for list in events.values_mut() {
        list.sort_by_key(|e| std::cmp::Reverse(e.1.last_seen));
    }
    events
}

/// A snapshot at most [`MAX_AGE`] old, shared between requests. One request builds it, on the
/// blocking pool, while the others wait for it without holding an async worker.
pub async fn snapshot(c: &Caches) -> Arc<Snapshot> {
    let mut slot = c.derived.lock().await;
    if let Some((at, s)) = slot.as_ref() {
        let cached = s.clone().downcast::<Snapshot>().ok();
        if let Some(s) = cached.filter(|_| at.elapsed() <= MAX_AGE) {
            return s;
        }
    }
    let caches = c.clone();
    let s = Arc::new(off_workers(move || Snapshot::build(&caches)).await);
    let erased: Arc<dyn std::any::Any + Send + Sync> = s.clone();
    *slot = Some((Instant::now(), erased));
    s
}

/// A snapshot of `namespace` as the caches hold it now (for actions and their guards): never
/// shared, so a burst of clicks needs no lock, and it costs one namespace, not the fleet.
pub async fn fresh_in(c: &Caches, namespace: &str) -> Arc<Snapshot> {
    let (caches, ns) = (c.clone(), namespace.to_string());
    Arc::new(off_workers(move || Snapshot::build_in(&caches, Part::Namespace(&ns))).await)
}

/// Runs a build on tokio's blocking pool. A build only reads memory, so it cannot fail; a panic
/// in it is resumed here, as if it had run inline (a blocking task is never cancelled before
/// it runs except at runtime shutdown, when nobody waits for the answer).
async fn off_workers(build: impl FnOnce() -> Snapshot + Send + 'static) -> Snapshot {
    match tokio::task::spawn_blocking(build).await {
        Ok(s) => s,
        Err(e) => match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("a snapshot build was cancelled: {e}"),
        },
    }
}

#[cfg(test)]
mod tests;
