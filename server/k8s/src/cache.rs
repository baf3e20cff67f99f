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
//! - `managedFields` are dropped from everything: they are most of an object's size.
//!
//! This module knows nothing of what is built on the stores ([`crate::snapshot`] depends on it,
//! not the other way round): the one shared derived view is kept in a type-erased slot.

use std::any::Any;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{Stream, StreamExt};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{Event, Pod, Secret};
use kube::core::PartialObjectMeta;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;

use crate::reduced::{reduce_meta, strip};
use crate::status::ClusterSync;
use crate::vso::VaultStaticSecret;

pub use crate::reduced::{
    raw_version, reduce_secret, slim_template, CachedSecret, CHANGED_AT, SYNCED_VERSION,
};

/// The shared caches. Cloning is cheap (stores are `Arc`s).
#[derive(Clone)]
pub struct Caches {
    pub vss: Store<VaultStaticSecret>,
    pub secrets: Store<Secret>,
    pub deployments: Store<Deployment>,
    pub statefulsets: Store<StatefulSet>,
    pub daemonsets: Store<DaemonSet>,
    pub replicasets: Store<PartialObjectMeta<ReplicaSet>>,
    pub pods: Store<PartialObjectMeta<Pod>>,
    pub events: Store<Event>,
    health: Arc<Vec<WatchHealth>>,
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
    /// The first full list has arrived (`InitDone`).
    listed: AtomicBool,
    /// The last error and when, cleared by the next event that carries data. A watch that
    /// resumes quietly after an error (nothing changed meanwhile) yields no event, so an error
    /// counts only for [`ERROR_WINDOW`].
    last_error: Mutex<Option<(std::time::Instant, String)>>,
}

/// How long a watch error makes the cluster count as unreachable, unless an event clears it.
const ERROR_WINDOW: Duration = Duration::from_secs(60);

/// What [`Caches::health`] reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Health {
    pub ok: bool,
    /// "Deployment: <error>" for each watch not in sync.
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

impl Caches {
    /// Starts every watch on the tokio runtime and returns at once; the stores fill as the
    /// initial lists arrive ([`Caches::wait_ready`]).
    ///
    /// Long only because it lists the eight watches side by side, each with what it keeps of an
    /// object (the memory budget, `../shared/reference/performance.md`); one place to read them.
    pub fn start(client: Client) -> Caches {
        let mut health = Vec::new();
        let mut idx = 0usize;
        let mut next = |kind: &'static str| {
            health.push(WatchHealth {
                kind,
                listed: AtomicBool::new(false),
                last_error: Mutex::new(None),
            });
            idx += 1;
            idx - 1
        };
        let ids = [
            next("VaultStaticSecret"),
            next("Secret"),
            next("Deployment"),
            next("StatefulSet"),
            next("DaemonSet"),
            next("ReplicaSet"),
            next("Pod"),
            next("Event"),
        ];
        let health = Arc::new(health);
        let wc = watcher::Config::default;
        let vss = spawn_full(
            Api::all(client.clone()),
            wc(),
            health.clone(),
            ids[0],
            strip::<VaultStaticSecret>,
        );
        let secrets = spawn_full(
            Api::all(client.clone()),
            wc(),
            health.clone(),
            ids[1],
            reduce_secret,
        );
        let deployments = spawn_full(
            Api::all(client.clone()),
            wc(),
            health.clone(),
            ids[2],
            |d: &mut Deployment| {
                strip(d);
                slim_template(&mut d.spec.template);
            },
        );
        let statefulsets = spawn_full(
            Api::all(client.clone()),
            wc(),
            health.clone(),
            ids[3],
            |s: &mut StatefulSet| {
                strip(s);
                slim_template(&mut s.spec.template);
                s.spec.volume_claim_templates = None;
            },
        );
        let daemonsets = spawn_full(
            Api::all(client.clone()),
            wc(),
            health.clone(),
            ids[4],
            |d: &mut DaemonSet| {
                strip(d);
                slim_template(&mut d.spec.template);
            },
        );
        let replicasets = spawn_full(
            Api::<PartialObjectMeta<ReplicaSet>>::all(client.clone()),
            wc(),
            health.clone(),
            ids[5],
            reduce_meta::<ReplicaSet>,
        );
        let pods = spawn_full(
            Api::<PartialObjectMeta<Pod>>::all(client.clone()),
            wc(),
            health.clone(),
            ids[6],
            reduce_meta::<Pod>,
        );
        let events = spawn_full(
            Api::all(client),
            wc().fields("involvedObject.kind=VaultStaticSecret"),
            health.clone(),
            ids[7],
            strip::<Event>,
        );
        Caches {
            vss,
            secrets,
            deployments,
            statefulsets,
            daemonsets,
            replicasets,
            pods,
            events,
            health,
            derived: Arc::default(),
        }
    }

    /// Waits until every store has had its first full list, or `timeout`; true when ready.
    pub async fn wait_ready(&self, timeout: Duration) -> bool {
        let all = async {
            let _ = self.vss.wait_until_ready().await;
            let _ = self.secrets.wait_until_ready().await;
            let _ = self.deployments.wait_until_ready().await;
            let _ = self.statefulsets.wait_until_ready().await;
            let _ = self.daemonsets.wait_until_ready().await;
            let _ = self.replicasets.wait_until_ready().await;
            let _ = self.pods.wait_until_ready().await;
            let _ = self.events.wait_until_ready().await;
        };
        tokio::time::timeout(timeout, all).await.is_ok()
    }

    /// Which watches are in sync right now.
    pub fn health(&self) -> Health {
        health_of(&self.health)
    }
}

/// In sync when every watch has listed and none failed within [`ERROR_WINDOW`]; loading while
/// some have not listed yet and none failed; unreachable as soon as one failed.
fn health_of(watches: &[WatchHealth]) -> Health {
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
                    Some(format!("{}: {e}", h.kind))
                }
                (false, None) => Some(format!("{}: not listed yet", h.kind)),
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

/// Records each watch event's outcome in `health[idx]`: listed after the first `InitDone`,
/// an error until an event with data (or `InitDone`) clears it.
async fn drive<S, K>(stream: S, health: Arc<Vec<WatchHealth>>, idx: usize)
where
    S: Stream<Item = Result<watcher::Event<K>, watcher::Error>>,
{
    let h = &health[idx];
    futures::pin_mut!(stream);
    while let Some(item) = stream.next().await {
        match item {
            Ok(watcher::Event::InitDone) => {
                h.listed.store(true, Ordering::Relaxed);
                clear(h);
            }
            Ok(watcher::Event::Apply(_) | watcher::Event::Delete(_)) => clear(h),
            Ok(_) => {} // Init / InitApply: a (re)list is under way, nothing proven yet
            Err(e) => {
                tracing::warn!(kind = h.kind, error = %e, "cluster watch broken; retrying");
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
            tracing::info!(kind = h.kind, "cluster watch in sync again");
        }
    }
}

fn spawn_full<K>(
    api: Api<K>,
    wc: watcher::Config,
    health: Arc<Vec<WatchHealth>>,
    idx: usize,
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
    tokio::spawn(drive(stream, health, idx));
    reader
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watch(listed: bool, error: Option<&str>) -> WatchHealth {
        WatchHealth {
            kind: "Secret",
            listed: AtomicBool::new(listed),
            last_error: Mutex::new(error.map(|e| (std::time::Instant::now(), e.to_string()))),
        }
    }

    #[test]
    fn not_listed_yet_is_loading_and_only_an_error_is_unreachable() {
        let sync = |w: &[WatchHealth]| health_of(w).sync;
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
