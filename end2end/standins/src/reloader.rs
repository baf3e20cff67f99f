//! A Stakater Reloader stand-in: when a Secret's data changes, the workloads that asked for it
//! roll, exactly as Reloader's default `env-vars` strategy makes them (reference `vso-vault.md`,
//! section 4). The real Reloader could not be built here: the Go module proxy answers 403 for
//! every version of `github.com/stakater/Reloader` tried (v1.0.121 … v1.5.0).
//!
//! Copied from Reloader:
//! - Which workload rolls for which Secret: the opt-in annotations (`auto`, `secret…/auto`,
//!   `secret…/reload`, `search` + `match` on the Secret, `exclude`, `ignore` on the Secret), on
//!   the workload or its pod template. That rule is Keyway's own [`keyway_k8s::reloader`], the
//!   one Keyway uses to say "will restart automatically", so the two cannot disagree.
//! - `auto` only reacts to Secrets the pod template references (env, envFrom, volumes,
//!   projected volumes).
//! - Change hash: SHA-1 over the sorted `key=value` pairs joined by `;` (so VSO's `_raw`, which
//!   carries the kv version, makes every new version a change). Created Secrets are not a change
//!   (`--reload-on-create=false`), deleted ones neither.
//! - The reload: a strategic-merge patch setting env var `STAKATER_<NAME>_SECRET=<hash>` on the
//!   first container that uses the Secret (first container when only a volume does); an equal
//!   value is left alone. Events on the workload: Normal `Reloaded`, Warning `ReloadFail`.
//!
//! Not copied: ConfigMaps, the `annotations` reload strategy, pause periods, Argo Rollouts,
//! CronJobs/Jobs, namespace and label selectors, metrics, alerts, leader election.

use std::collections::{BTreeMap, HashMap};

use futures::TryStreamExt;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{ObjectReference, PodSpec, PodTemplateSpec, Secret};
use kube::api::{ListParams, Patch, PatchParams};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, Client, Resource, ResourceExt};
use sha1::{Digest, Sha1};

pub use keyway_k8s::reloader::{
    env_var_name, merged_annotations, AUTO, EXCLUDE, IGNORE, MATCH, SEARCH, SECRET_AUTO,
    SECRET_RELOAD,
};
use keyway_k8s::reloader::{reloads, SecretMarks};

/// Reloader's hash of a Secret's data.
pub fn data_hash(data: &BTreeMap<String, Vec<u8>>) -> String {
    let joined = data
        .iter()
        .map(|(k, v)| format!("{k}={}", String::from_utf8_lossy(v)))
        .collect::<Vec<_>>()
        .join(";");
    hex::encode(Sha1::digest(joined.as_bytes()))
}

/// The container to put the env var in when the template reads `secret`, or None.
pub fn container_using(spec: &PodSpec, secret: &str) -> Option<String> {
    let by_env = spec.containers.iter().find(|c| {
        c.env_from
            .iter()
            .flatten()
            .any(|e| e.secret_ref.as_ref().is_some_and(|r| r.name == secret))
            || c.env.iter().flatten().any(|e| {
                e.value_from
                    .as_ref()
                    .and_then(|v| v.secret_key_ref.as_ref())
                    .is_some_and(|r| r.name == secret)
            })
    });
    if let Some(c) = by_env {
        return Some(c.name.clone());
    }
    let in_volume = spec.volumes.iter().flatten().any(|v| {
        v.secret.as_ref().and_then(|s| s.secret_name.as_deref()) == Some(secret)
            || v.projected.as_ref().is_some_and(|p| {
                p.sources
                    .iter()
                    .flatten()
                    .any(|s| s.secret.as_ref().is_some_and(|s| s.name == secret))
            })
    });
    in_volume
        .then(|| spec.containers.first().map(|c| c.name.clone()))
        .flatten()
}

/// Whether a workload with these annotations (workload's and template's merged) and template
/// asks to be reloaded when `secret` (with `secret_annotations`) changes; the container if so
/// (the first one using the Secret, else the first one).
pub fn wants_reload(
    annotations: &BTreeMap<String, String>,
    template: &PodTemplateSpec,
    secret: &str,
    secret_annotations: &BTreeMap<String, String>,
) -> Option<String> {
    let spec = template.spec.as_ref()?;
    let used = container_using(spec, secret);
    let marks = SecretMarks::from_annotations(secret_annotations);
    if !reloads(annotations, secret, marks, used.is_some()) {
        return None;
    }
    used.or_else(|| spec.containers.first().map(|c| c.name.clone()))
}

fn patch_params() -> PatchParams {
    PatchParams {
        field_manager: Some("reloader".into()),
        ..Default::default()
    }
}

/// Runs until the process is stopped.
pub async fn run(client: Client) -> anyhow::Result<()> {
    let recorder = Recorder::new(
        client.clone(),
        Reporter {
            controller: "reloader".into(),
            instance: Some("keyway-reloader-standin".into()),
        },
    );
    let mut seen: HashMap<(String, String), String> = HashMap::new();
    let mut initial: Option<HashMap<(String, String), String>> = None;
    // Back-off between retries while the apiserver is unreachable (as Reloader's informers do).
    let stream = watcher(
        Api::<Secret>::all(client.clone()),
        watcher::Config::default(),
    )
    .default_backoff();
    futures::pin_mut!(stream);
    while let Some(ev) = stream.try_next().await.transpose() {
        let ev = match ev {
            Ok(ev) => ev,
            Err(e) => {
                tracing::warn!(error = %e, "watch error; the watcher retries");
                continue;
            }
        };
        match ev {
            watcher::Event::Init => initial = Some(HashMap::new()),
            watcher::Event::InitApply(s) => {
                if let Some(i) = initial.as_mut() {
                    i.insert(key(&s), hash_of(&s));
                }
            }
            watcher::Event::InitDone => {
                // After a relist, changes missed while disconnected count as changes.
                let fresh = initial.take().unwrap_or_default();
                for (k, h) in &fresh {
                    if seen.get(k).is_some_and(|old| old != h) {
                        reload_for(&client, &recorder, &k.0, &k.1).await;
                    }
                }
                seen = fresh;
            }
            watcher::Event::Apply(s) => {
                let k = key(&s);
                let h = hash_of(&s);
                let changed = seen.get(&k).is_some_and(|old| *old != h);
                seen.insert(k.clone(), h);
                if changed {
                    reload_for(&client, &recorder, &k.0, &k.1).await;
                }
            }
            watcher::Event::Delete(s) => {
                seen.remove(&key(&s));
            }
        }
    }
    Ok(())
}

fn key(s: &Secret) -> (String, String) {
    (s.namespace().unwrap_or_default(), s.name_any())
}

fn hash_of(s: &Secret) -> String {
    let data: BTreeMap<String, Vec<u8>> = s
        .data
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.0))
        .collect();
    data_hash(&data)
}

async fn reload_for(client: &Client, recorder: &Recorder, ns: &str, name: &str) {
    let secret = match Api::<Secret>::namespaced(client.clone(), ns)
        .get_opt(name)
        .await
    {
        Ok(Some(s)) => s,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(error = %e, "could not read Secret {ns}/{name}");
            return;
        }
    };
    let hash = hash_of(&secret);
    let secret_ann = secret.annotations().clone();
    macro_rules! each_kind {
        ($kind:ty, $label:literal) => {
            match Api::<$kind>::namespaced(client.clone(), ns).list(&ListParams::default()).await {
                Ok(list) => {
                    for w in list {
                        let template = &w.spec.template;
                        let ann = merged_annotations(&w.metadata, template);
                        let Some(container) = wants_reload(&ann, template, name, &secret_ann) else { continue };
                        reload_one::<$kind>(client, recorder, &w, $label, template, &container, name, &hash).await;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not list {} in {ns}", $label),
            }
        };
    }
    each_kind!(Deployment, "Deployment");
    each_kind!(StatefulSet, "StatefulSet");
    each_kind!(DaemonSet, "DaemonSet");
}

#[allow(clippy::too_many_arguments)]
async fn reload_one<K>(
    client: &Client,
    recorder: &Recorder,
    w: &K,
    kind: &str,
    template: &PodTemplateSpec,
    container: &str,
    secret: &str,
    hash: &str,
) where
    K: Resource<Scope = kube::core::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    let var = env_var_name(secret);
    let current = template.spec.as_ref().and_then(|s| {
        s.containers
            .iter()
            .find(|c| c.name == container)
            .and_then(|c| c.env.iter().flatten().find(|e| e.name == var))
            .and_then(|e| e.value.clone())
    });
    if current.as_deref() == Some(hash) {
        return;
    }
    let ns = w.namespace().unwrap_or_default();
    let name = w.name_any();
    let patch = serde_json::json!({"spec": {"template": {"spec": {"containers": [
        {"name": container, "env": [{"name": var, "value": hash}]}
    ]}}}});
    let api: Api<K> = Api::namespaced(client.clone(), &ns);
    let reference: ObjectReference = w.object_ref(&());
    let (type_, reason, note) = match api
        .patch(&name, &patch_params(), &Patch::Strategic(&patch))
        .await
    {
        Ok(_) => {
            tracing::info!(%ns, workload = %name, secret, "reloaded");
            (
                EventType::Normal,
                "Reloaded",
                format!(
                    "Changes detected in '{secret}' of type 'SECRET' in namespace '{ns}', Updated '{name}' of type '{kind}' in namespace '{ns}'"
                ),
            )
        }
        Err(e) => (
            EventType::Warning,
            "ReloadFail",
            format!(
                "Update for '{name}' of type '{kind}' in namespace '{ns}' failed with error {e}"
            ),
        ),
    };
    let ev = Event {
        type_,
        reason: reason.into(),
        note: Some(note),
        action: reason.into(),
        secondary: None,
    };
    if let Err(e) = recorder.publish(&ev, &reference).await {
        tracing::warn!(error = %e, "could not publish event");
    }
}

#[cfg(test)]
mod tests;
