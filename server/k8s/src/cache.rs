//! Watch-backed caches of the Kubernetes objects Keyway reads, started once per process and shared
//! by every request: no page view lists anything from the apiserver.
//!
//! Why it is built this way:
//! - kube-rs reflectors (`watcher` + `reflect`) keep each kind in memory and resume or relist by
//!   themselves after a broken watch (with back-off); [`Caches::health`] says which watches are
//!   not in sync right now, so the UI can say "the cluster cannot be reached" instead of showing
//!   stale answers as fresh.
//! - Secrets are the sensitive kind: each one is reduced before it is stored. Its values are
//!   dropped, only the kv version VSO recorded in `_raw` (`metadata.version`) is kept, as an
//!   in-memory annotation ([`SYNCED_VERSION`]), with the time of the Secret's last write
//!   ([`CHANGED_AT`], from `managedFields`) and Reloader's `match`/`ignore` annotations. No
//!   value stays in memory. The reductions live in [`crate::reduced`].
//! - ReplicaSets and Pods are watched as metadata only (owner, creation time, revision): that is
//!   all "do the running pods use it" needs, and it keeps memory small with many apps.
//! - Events are watched only for VaultStaticSecrets (VSO's SecretSynced / VaultClientError ...).
//! - What is watched is the [`Scope`]: each kind once for the whole cluster, or once per served
//!   namespace (`KEYWAY_NAMESPACES`), so Keyway's account needs no cluster-wide grant. Each watch
//!   has its own store ([`Watched`] says why) and its own health entry.
//! - `managedFields` are dropped from everything: they are most of an object's size.
//!
//! This module knows nothing of what is built on the stores ([`crate::snapshot`] depends on it,
//! not the other way round): the one shared derived view is kept in a type-erased slot.

use std::any::Any;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{Stream, StreamExt};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{Event, Pod, Secret};
use k8s_openapi::NamespaceResourceScope;
use kube::core::PartialObjectMeta;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;

use crate::reduced::{note_restart_stamp_owner, reduce_meta, strip};
use crate::scope::{Namespace, Scope};
use crate::status::ClusterSync;
use crate::vso::VaultStaticSecret;

mod watched;
pub use watched::Watched;

pub use crate::reduced::{
    raw_version, reduce_secret, slim_template, CachedSecret, CHANGED_AT, SYNCED_VERSION,
};

/// The shared caches. Cloning is cheap (stores are `Arc`s). Each kind is watched once for the
/// whole cluster or once per served namespace ([`Scope`]), one store per watch ([`Watched`]).
#[derive(Clone)]
pub struct Caches {
    pub vss: Watched<VaultStaticSecret>,
    pub secrets: Watched<Secret>,
    pub deployments: Watched<Deployment>,
    pub statefulsets: Watched<StatefulSet>,
    pub daemonsets: Watched<DaemonSet>,
    pub replicasets: Watched<PartialObjectMeta<ReplicaSet>>,
    pub pods: Watched<PartialObjectMeta<Pod>>,
    pub events: Watched<Event>,
    /// What these caches cover.
    pub scope: Scope,
    health: Arc<Vec<Arc<WatchHealth>>>,
    /// How many changes the watches have brought in (see [`Caches::changes`]).
    changes: Arc<AtomicU64>,
    /// The shared, indexed read of these stores and when it was built. [`crate::snapshot`] owns
    /// what is in it; it is type-erased here so this module does not depend on that one.
    pub(crate) derived: DerivedSlot,
}

/// See [`Caches::derived`].
/// An async mutex: the one builder holds it across the build, and requests wait on it without
/// blocking a worker thread.
pub(crate) type DerivedSlot =
    Arc<tokio::sync::Mutex<Option<(std::time::Instant, Arc<dyn Any + Send + Sync>)>>>;

/// One watch's state: in sync or not, and the last error.
struct WatchHealth {
    kind: &'static str,
    /// The namespace it watches (`None`: the whole cluster).
    namespace: Option<Namespace>,
    /// The first full list has arrived (`InitDone`).
    listed: AtomicBool,
    /// The last error and when, cleared by the next event that carries data. A watch that
    /// resumes quietly after an error (nothing changed meanwhile) yields no event, so an error
    /// counts only for [`ERROR_WINDOW`].
    last_error: Mutex<Option<(std::time::Instant, String)>>,
}

impl WatchHealth {
    /// "Secret" or "Secret in dev".
    fn what(&self) -> String {
        match &self.namespace {
            None => self.kind.to_string(),
            Some(ns) => format!("{} in {ns}", self.kind),
        }
    }
}

/// How long a watch error makes the cluster count as unreachable, unless an event clears it.
const ERROR_WINDOW: Duration = Duration::from_secs(60);

/// What [`Caches::health`] reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Health {
    pub ok: bool,
    /// "Deployment: <error>" (or "Deployment in dev: <error>") for each watch not in sync.
    pub problems: Vec<String>,
    /// In sync, still loading (no watch failed, some have not had their first list), or
    /// unreachable (a watch failed recently).
    pub sync: ClusterSync,
}

impl Health {
    /// What Keyway tells a user about the cluster (see [`ClusterSync::sentence`]).
    pub fn sentence(&self) -> &'static str {
        self.sync.sentence()
    }
}

/// Starts the watches of one kind, one per [`Scope::watch_targets`] entry, each with its own
/// store and health.
struct Starter<'a> {
    client: &'a Client,
    scope: &'a Scope,
    health: Vec<Arc<WatchHealth>>,
    changes: Arc<AtomicU64>,
}

impl Starter<'_> {
    fn watch<K>(
        &mut self,
        kind: &'static str,
        wc: &watcher::Config,
        reduce: fn(&mut K),
    ) -> Watched<K>
    where
        K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
            + Clone
            + DeserializeOwned
            + std::fmt::Debug
            + Send
            + Sync
            + 'static,
    {
        let stores = self
            .scope
            .watch_targets()
            .into_iter()
            .map(|ns| {
                let api = match ns {
                    None => Api::all(self.client.clone()),
                    Some(ns) => Api::namespaced(self.client.clone(), ns.as_str()),
                };
                let h = Arc::new(WatchHealth {
                    kind,
                    namespace: ns.cloned(),
                    listed: AtomicBool::new(false),
                    last_error: Mutex::new(None),
                });
                self.health.push(h.clone());
                let changes = self.changes.clone();
                (ns.cloned(), spawn_full(api, wc.clone(), h, changes, reduce))
            })
            .collect();
        Watched::new(stores)
    }
}

impl Caches {
    /// Starts every watch on the tokio runtime and returns at once; the stores fill as the
    /// initial lists arrive ([`Caches::wait_ready`]). With [`Scope::Namespaces`] nothing is
    /// watched cluster-wide: each kind is watched in each served namespace.
    ///
    /// Long only because it lists the eight kinds side by side, each with what it keeps of an
    /// object (the memory budget, `../shared/reference/performance.md`); one place to read them.
    pub fn start(client: Client, scope: Scope) -> Caches {
        let mut s = Starter {
            client: &client,
            scope: &scope,
            health: Vec::new(),
            changes: Arc::default(),
        };
        let wc = watcher::Config::default();
        let vss = s.watch("VaultStaticSecret", &wc, strip::<VaultStaticSecret>);
        let secrets = s.watch("Secret", &wc, reduce_secret);
        let deployments = s.watch("Deployment", &wc, |d: &mut Deployment| {
            note_restart_stamp_owner(&d.metadata, &mut d.spec.template);
            strip(d);
            slim_template(&mut d.spec.template);
        });
        let statefulsets = s.watch("StatefulSet", &wc, |s: &mut StatefulSet| {
            note_restart_stamp_owner(&s.metadata, &mut s.spec.template);
            strip(s);
            slim_template(&mut s.spec.template);
            s.spec.volume_claim_templates = None;
        });
        let daemonsets = s.watch("DaemonSet", &wc, |d: &mut DaemonSet| {
            note_restart_stamp_owner(&d.metadata, &mut d.spec.template);
            strip(d);
            slim_template(&mut d.spec.template);
        });
        let replicasets = s.watch("ReplicaSet", &wc, reduce_meta::<ReplicaSet>);
        let pods = s.watch("Pod", &wc, reduce_meta::<Pod>);
        let events = s.watch(
            "Event",
            &wc.clone().fields("involvedObject.kind=VaultStaticSecret"),
            strip::<Event>,
        );
        let health = Arc::new(std::mem::take(&mut s.health));
        let changes = s.changes.clone();
        Caches {
            vss,
            secrets,
            deployments,
            statefulsets,
            daemonsets,
            replicasets,
            pods,
            events,
            scope,
            health,
            changes,
            derived: Arc::default(),
        }
    }

    /// Waits until every store has had its first full list, or `timeout`; true when ready.
    pub async fn wait_ready(&self, timeout: Duration) -> bool {
        let all = async {
            self.vss.wait_until_ready().await;
            self.secrets.wait_until_ready().await;
            self.deployments.wait_until_ready().await;
            self.statefulsets.wait_until_ready().await;
            self.daemonsets.wait_until_ready().await;
            self.replicasets.wait_until_ready().await;
            self.pods.wait_until_ready().await;
            self.events.wait_until_ready().await;
        };
        tokio::time::timeout(timeout, all).await.is_ok()
    }

    /// Which watches are in sync right now.
    pub fn health(&self) -> Health {
        health_of(&self.health)
    }

    /// A counter of the changes every watch has brought in (an object applied or deleted, a
    /// list done): when it has not moved, nothing in the stores has, so a reader that only wants
    /// news (the timeline's observer) need not rebuild a snapshot.
    pub fn changes(&self) -> u64 {
        self.changes.load(Ordering::Relaxed)
    }
}

/// In sync when every watch has listed and none failed within [`ERROR_WINDOW`]; loading while
/// some have not listed yet and none failed; unreachable as soon as one failed.
fn health_of(watches: &[Arc<WatchHealth>]) -> Health {
    let mut failed = false;
    let problems: Vec<String> = watches
        .iter()
        .filter_map(|h| {
            let err = h
                .last_error
                .lock()
                .ok()
                .and_then(|e| e.clone())
                .filter(|(at, _)| at.elapsed() < ERROR_WINDOW)
                .map(|(_, e)| e);
            let listed = h.listed.load(Ordering::Relaxed);
            match (listed, err) {
                (true, None) => None,
                (_, Some(e)) => {
                    failed = true;
                    Some(format!("{}: {e}", h.what()))
                }
                (false, None) => Some(format!("{}: not listed yet", h.what())),
            }
        })
        .collect();
    let sync = match (problems.is_empty(), failed) {
        (true, _) => ClusterSync::InSync,
        (false, false) => ClusterSync::Loading,
        (false, true) => ClusterSync::Unreachable,
    };
    Health {
        ok: problems.is_empty(),
        problems,
        sync,
    }
}

/// Records each watch event's outcome in `h`: listed after the first `InitDone`, an error
/// until an event with data (or `InitDone`) clears it.
async fn drive<S, K>(stream: S, h: Arc<WatchHealth>, changes: Arc<AtomicU64>)
where
    S: Stream<Item = Result<watcher::Event<K>, watcher::Error>>,
{
    let h = &*h;
    let changed = || changes.fetch_add(1, Ordering::Relaxed);
    futures::pin_mut!(stream);
    while let Some(item) = stream.next().await {
        match item {
            Ok(watcher::Event::InitDone) => {
                h.listed.store(true, Ordering::Relaxed);
                clear(h);
                changed();
            }
            Ok(watcher::Event::Apply(_) | watcher::Event::Delete(_)) => {
                clear(h);
                changed();
            }
            Ok(_) => {} // Init / InitApply: a (re)list is under way, nothing proven yet
            Err(e) => {
                tracing::warn!(watch = %h.what(), error = %e, "cluster watch broken; retrying");
                if let Ok(mut last) = h.last_error.lock() {
                    *last = Some((std::time::Instant::now(), e.to_string()));
                }
            }
        }
    }
}

fn clear(h: &WatchHealth) {
    if let Ok(mut last) = h.last_error.lock() {
        if last.take().is_some() {
            tracing::info!(watch = %h.what(), "cluster watch in sync again");
        }
    }
}

fn spawn_full<K>(
    api: Api<K>,
    wc: watcher::Config,
    health: Arc<WatchHealth>,
    changes: Arc<AtomicU64>,
    reduce: fn(&mut K),
) -> Store<K>
where
    K: Resource<DynamicType = ()>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
{
    let (reader, writer) = reflector::store();
    let stream = watcher(api, wc)
        .default_backoff()
        .modify(reduce)
        .reflect(writer);
    tokio::spawn(drive(stream, health, changes));
    reader
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watch(listed: bool, error: Option<&str>) -> Arc<WatchHealth> {
        Arc::new(WatchHealth {
            kind: "Secret",
            namespace: None,
            listed: AtomicBool::new(listed),
            last_error: Mutex::new(error.map(|e| (std::time::Instant::now(), e.to_string()))),
        })
    }

    #[test]
    fn not_listed_yet_is_loading_and_only_an_error_is_unreachable() {
        let sync = |w: &[Arc<WatchHealth>]| health_of(w).sync;
        assert_eq!(
            sync(&[watch(true, None), watch(true, None)]),
            ClusterSync::InSync
        );
        assert_eq!(
            sync(&[watch(true, None), watch(false, None)]),
            ClusterSync::Loading
        );
        assert_eq!(
            sync(&[watch(false, None), watch(false, Some("refused"))]),
            ClusterSync::Unreachable
        );
        assert_eq!(
            sync(&[watch(true, Some("watch broke"))]),
            ClusterSync::Unreachable
        );
        let h = health_of(&[watch(false, None), watch(true, Some("refused"))]);
        assert!(!h.ok);
        assert_eq!(h.problems, ["Secret: not listed yet", "Secret: refused"]);
        assert_eq!(h.sentence(), crate::status::live::CLUSTER_UNREACHABLE);
    }

    #[test]
    fn an_old_error_no_longer_counts() {
        let w = watch(true, None);
        let old = std::time::Instant::now().checked_sub(ERROR_WINDOW + Duration::from_secs(1));
        if let Some(at) = old {
            *w.last_error.lock().unwrap() = Some((at, "long ago".into()));
            assert_eq!(health_of(&[w]).sync, ClusterSync::InSync);
        }
    }
}
