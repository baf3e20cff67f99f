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
//!   ([`CHANGED_AT`], from `managedFields`). No other value stays in memory.
//! - ReplicaSets and Pods are watched as metadata only (owner, creation time, revision): that is
//!   all "do the running pods use it" needs, and it keeps memory small with many apps.
//! - Events are watched only for VaultStaticSecrets (VSO's SecretSynced / VaultClientError ...).
//! - `managedFields` are dropped from everything: they are most of an object's size.

use std::collections::BTreeMap;
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

use crate::vso::VaultStaticSecret;

/// In-memory annotation on a cached Secret: the kv version its `_raw` holds.
pub const SYNCED_VERSION: &str = "keyway.internal/synced-version";
/// In-memory annotation on a cached Secret: when it was last written (RFC 3339).
pub const CHANGED_AT: &str = "keyway.internal/changed-at";

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
    /// The shared, indexed read of these stores (see [`crate::snapshot`]).
    pub(crate) snapshot: SnapshotSlot,
}

pub(crate) type SnapshotSlot =
    Arc<Mutex<Option<(std::time::Instant, Arc<crate::snapshot::Snapshot>)>>>;

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
}

impl Caches {
    /// Starts every watch on the tokio runtime and returns at once; the stores fill as the
    /// initial lists arrive ([`Caches::wait_ready`]).
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
            snapshot: Arc::default(),
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
        let problems: Vec<String> = self
            .health
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
                    (_, Some(e)) => Some(format!("{}: {e}", h.kind)),
                    (false, None) => Some(format!("{}: not listed yet", h.kind)),
                }
            })
            .collect();
        Health {
            ok: problems.is_empty(),
            problems,
        }
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

/// Metadata-only objects keep ownership, times and the revision annotation: all that is read.
fn reduce_meta<K>(m: &mut PartialObjectMeta<K>) {
    m.metadata.managed_fields = None;
    m.metadata.labels = None;
    if let Some(a) = m.metadata.annotations.as_mut() {
        a.retain(|k, _| k == "deployment.kubernetes.io/revision");
    }
}

fn strip<K: Resource>(obj: &mut K) {
    obj.meta_mut().managed_fields = None;
    if let Some(a) = obj.meta_mut().annotations.as_mut() {
        a.remove("kubectl.kubernetes.io/last-applied-configuration");
    }
}

/// Keeps of a pod template only what Keyway reads: its annotations (Reloader's, restart
/// stamps), and per container the Secret references (env `secretKeyRef`, `envFrom`) and volume
/// mounts; the secret and projected volumes. Images, commands, probes, resources … are dropped:
/// they are most of a workload's size.
pub fn slim_template(t: &mut k8s_openapi::api::core::v1::PodTemplateSpec) {
    if let Some(m) = t.metadata.as_mut() {
        m.labels = None;
        m.managed_fields = None;
    }
    let Some(spec) = t.spec.as_mut() else {
        return;
    };
    let slim = |c: &k8s_openapi::api::core::v1::Container| k8s_openapi::api::core::v1::Container {
        name: c.name.clone(),
        env: c.env.as_ref().map(|env| {
            env.iter()
                .filter(|e| {
                    e.value_from
                        .as_ref()
                        .is_some_and(|v| v.secret_key_ref.is_some())
                })
                .cloned()
                .collect()
        }),
        env_from: c.env_from.clone(),
        volume_mounts: c.volume_mounts.clone(),
        ..Default::default()
    };
    let containers: Vec<_> = spec.containers.iter().map(slim).collect();
    let init: Option<Vec<_>> = spec
        .init_containers
        .as_ref()
        .map(|v| v.iter().map(slim).collect());
    let volumes: Option<Vec<_>> = spec.volumes.as_ref().map(|v| {
        v.iter()
            .filter(|v| v.secret.is_some() || v.projected.is_some())
            .cloned()
            .collect()
    });
    *spec = k8s_openapi::api::core::v1::PodSpec {
        containers,
        init_containers: init,
        volumes,
        ..Default::default()
    };
}

/// Drops a Secret's values, keeping only `_raw`'s kv version and the time of the last write.
pub fn reduce_secret(s: &mut Secret) {
    let version = s
        .data
        .as_ref()
        .and_then(|d| d.get("_raw"))
        .and_then(|raw| raw_version(&raw.0));
    let changed = s
        .metadata
        .managed_fields
        .iter()
        .flatten()
        .filter_map(|f| f.time.as_ref().map(|t| t.0))
        .max()
        .or_else(|| s.metadata.creation_timestamp.as_ref().map(|t| t.0));
    s.data = None;
    s.string_data = None;
    s.metadata.managed_fields = None;
    let a: &mut BTreeMap<String, String> =
        s.metadata.annotations.get_or_insert_with(Default::default);
    a.remove("kubectl.kubernetes.io/last-applied-configuration");
    if let Some(v) = version {
        a.insert(SYNCED_VERSION.into(), v.to_string());
    }
    if let Some(t) = changed {
        a.insert(CHANGED_AT.into(), t.to_string());
    }
}

/// `metadata.version` of VSO's `_raw` JSON (kv-v2), if present.
pub fn raw_version(raw: &[u8]) -> Option<u64> {
    #[derive(serde::Deserialize)]
    struct Raw {
        metadata: Option<Meta>,
    }
    #[derive(serde::Deserialize)]
    struct Meta {
        version: Option<u64>,
    }
    serde_json::from_slice::<Raw>(raw).ok()?.metadata?.version
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ManagedFieldsEntry, ObjectMeta, Time};
    use k8s_openapi::ByteString;

    #[test]
    fn a_cached_secret_keeps_no_value_only_the_version_and_the_write_time() {
        let t1: jiff::Timestamp = "2026-11-28T10:00:00Z".parse().unwrap();
        let t2: jiff::Timestamp = "2026-11-28T11:00:00Z".parse().unwrap();
        let raw = br#"{"data":{"password":"hunter2"},"metadata":{"version":7}}"#;
        let mut s = Secret {
            metadata: ObjectMeta {
                managed_fields: Some(vec![
                    ManagedFieldsEntry {
                        time: Some(Time(t1)),
                        ..Default::default()
                    },
                    ManagedFieldsEntry {
                        time: Some(Time(t2)),
                        ..Default::default()
                    },
                ]),
                ..Default::default()
            },
            data: Some(
                [
                    ("password".to_string(), ByteString(b"hunter2".to_vec())),
                    ("_raw".to_string(), ByteString(raw.to_vec())),
                ]
                .into(),
            ),
            ..Default::default()
        };
        reduce_secret(&mut s);
        assert!(s.data.is_none());
        assert!(s.metadata.managed_fields.is_none());
        let a = s.metadata.annotations.as_ref().unwrap();
        assert_eq!(a[SYNCED_VERSION], "7");
        assert_eq!(a[CHANGED_AT], t2.to_string());
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn raw_version_reads_vso_raw_and_nothing_else() {
        assert_eq!(
            raw_version(br#"{"data":{},"metadata":{"version":3}}"#),
            Some(3)
        );
        assert_eq!(raw_version(br#"{"a":"b"}"#), None); // kv-v1 `_raw` is the flat map
        assert_eq!(raw_version(b"not json"), None);
    }
}
