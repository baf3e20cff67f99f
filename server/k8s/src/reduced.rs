//! What the caches keep of each object, and how Keyway reads it back.
//!
//! Each watched object is reduced before it is stored (see [`crate::cache`] for why): a Secret
//! loses its values and keeps, as in-memory annotations, the kv version VSO recorded in `_raw`
//! ([`SYNCED_VERSION`]) and the time of its last write ([`CHANGED_AT`], from `managedFields`),
//! plus Reloader's `match`/`ignore` annotations; workloads keep of their pod template only what
//! names a Secret, and what tells who restarted them (the restart stamps, Reloader's env var as a
//! fingerprint, and as [`RESTART_STAMP_BY`] which field manager set the `restartedAt` stamp);
//! metadata-only objects keep ownership and times. [`CachedSecret`] is the typed
//! read of a reduced Secret. This module has no I/O and depends on no other cache module, so the
//! watches ([`crate::cache`]) and the indexed read ([`crate::snapshot`]) both build on it.

use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Secret;
use kube::core::PartialObjectMeta;
use kube::Resource;

use crate::reloader::{self, SecretMarks};

/// In-memory annotation on a cached Secret: the kv version its `_raw` holds.
pub const SYNCED_VERSION: &str = "keyway.internal/synced-version";
/// In-memory annotation on a cached Secret: when it was last written (RFC 3339).
pub const CHANGED_AT: &str = "keyway.internal/changed-at";

/// In-memory annotation on a cached workload's pod template: the field manager that set its
/// `kubectl.kubernetes.io/restartedAt` stamp (Keyway's patch is `keyway`, `kubectl rollout
/// restart`'s is `kubectl-rollout`), read from `managedFields` before they are dropped.
pub const RESTART_STAMP_BY: &str = "keyway.internal/restarted-at-by";

/// Metadata-only objects keep ownership, times and the revision annotation: all that is read.
pub(crate) fn reduce_meta<K>(m: &mut PartialObjectMeta<K>) {
    m.metadata.managed_fields = None;
    m.metadata.labels = None;
    if let Some(a) = m.metadata.annotations.as_mut() {
        a.retain(|k, _| k == "deployment.kubernetes.io/revision");
    }
}

pub(crate) fn strip<K: Resource>(obj: &mut K) {
    obj.meta_mut().managed_fields = None;
    if let Some(a) = obj.meta_mut().annotations.as_mut() {
        a.remove("kubectl.kubernetes.io/last-applied-configuration");
    }
}

/// Notes on the workload's pod template ([`RESTART_STAMP_BY`]) which field manager set its
/// `kubectl.kubernetes.io/restartedAt` stamp, from `meta`'s `managedFields`: call it before
/// [`strip`] drops them. The newest entry that owns the stamp wins.
pub fn note_restart_stamp_owner(
    meta: &kube::api::ObjectMeta,
    t: &mut k8s_openapi::api::core::v1::PodTemplateSpec,
) {
    let key = format!("f:{}", crate::actions::RESTARTED_AT);
    let owner = meta
        .managed_fields
        .iter()
        .flatten()
        .filter(|f| {
            f.fields_v1.as_ref().is_some_and(|v| {
                v.0.pointer("/f:spec/f:template/f:metadata/f:annotations")
                    .and_then(|a| a.get(&key))
                    .is_some()
            })
        })
        .max_by_key(|f| f.time.as_ref().map(|t| t.0))
        .and_then(|f| f.manager.clone());
    if let Some(manager) = owner {
        t.metadata
            .get_or_insert_with(Default::default)
            .annotations
            .get_or_insert_with(Default::default)
            .insert(RESTART_STAMP_BY.into(), manager);
    }
}

/// Reloader's env var (`STAKATER_<SECRET>_SECRET`, reference §4.2) with its value, a hash of the
/// Secret's data, replaced by a fingerprint of it: enough to see that Reloader changed it,
/// without keeping anything computed from values. The fingerprint is this process's own (std's
/// `DefaultHasher`), compared only with itself and never stored.
fn reloader_env_fingerprint(
    e: &k8s_openapi::api::core::v1::EnvVar,
) -> Option<k8s_openapi::api::core::v1::EnvVar> {
    use std::hash::{Hash, Hasher};
    if !reloader::is_env_var(&e.name) || e.value_from.is_some() {
        return None;
    }
    let mut h = std::hash::DefaultHasher::new();
    e.value.hash(&mut h);
    Some(k8s_openapi::api::core::v1::EnvVar {
        name: e.name.clone(),
        value: Some(format!("{:016x}", h.finish())),
        value_from: None,
    })
}

/// Keeps of a pod template only what Keyway reads: its annotations (Reloader's, restart
/// stamps), and per container the Secret references (env `secretKeyRef`, `envFrom`), Reloader's
/// env var as a fingerprint, and volume mounts; the secret and projected volumes. Images,
/// commands, probes, resources … are dropped: they are most of a workload's size.
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
                .filter_map(|e| {
                    let secret_ref = e
                        .value_from
                        .as_ref()
                        .is_some_and(|v| v.secret_key_ref.is_some());
                    if secret_ref {
                        Some(e.clone())
                    } else {
                        reloader_env_fingerprint(e)
                    }
                })
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

/// Drops a Secret's values, keeping only `_raw`'s kv version, the time of the last write and
/// Reloader's two annotations on it ([`crate::reloader::MATCH`], [`crate::reloader::IGNORE`]).
/// Every other annotation goes too: it could carry anything.
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
    s.metadata.labels = None;
    let a: &mut BTreeMap<String, String> =
        s.metadata.annotations.get_or_insert_with(Default::default);
    a.retain(|k, _| k == reloader::MATCH || k == reloader::IGNORE);
    if let Some(v) = version {
        a.insert(SYNCED_VERSION.into(), v.to_string());
    }
    if let Some(t) = changed {
        a.insert(CHANGED_AT.into(), t.to_string());
    }
}

/// What Keyway reads of a cached (reduced) Secret.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CachedSecret {
    /// The kv version its `_raw` holds.
    pub synced_version: Option<u64>,
    /// When it was last written.
    pub changed_at: Option<Timestamp>,
    /// Reloader's annotations on it.
    pub reloader: SecretMarks,
}

impl CachedSecret {
    /// Reads a Secret reduced by [`reduce_secret`].
    pub fn of(s: &Secret) -> CachedSecret {
        let empty = BTreeMap::new();
        let a = s.metadata.annotations.as_ref().unwrap_or(&empty);
        CachedSecret {
            synced_version: a.get(SYNCED_VERSION).and_then(|v| v.parse().ok()),
            changed_at: a.get(CHANGED_AT).and_then(|t| t.parse().ok()),
            reloader: SecretMarks::from_annotations(a),
        }
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
        assert_eq!(
            CachedSecret::of(&s),
            CachedSecret {
                synced_version: Some(7),
                changed_at: Some(t2),
                reloader: SecretMarks::default(),
            }
        );
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

    #[test]
    fn a_cached_secret_keeps_reloaders_two_annotations_and_no_other() {
        let mut s = Secret {
            metadata: ObjectMeta {
                annotations: Some(
                    [
                        (reloader::MATCH, "true"),
                        (reloader::IGNORE, "true"),
                        ("team/notes", "call 555-0100"),
                        ("kubectl.kubernetes.io/last-applied-configuration", "{}"),
                    ]
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                ),
                ..Default::default()
            },
            ..Default::default()
        };
        reduce_secret(&mut s);
        let a = s.metadata.annotations.as_ref().unwrap();
        assert_eq!(
            a.keys().map(String::as_str).collect::<Vec<_>>(),
            [reloader::IGNORE, reloader::MATCH]
        );
        let c = CachedSecret::of(&s);
        assert!(c.reloader.matched && c.reloader.ignored);
        assert_eq!(c.synced_version, None);
    }
}
