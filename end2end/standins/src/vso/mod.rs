//! A Vault Secrets Operator stand-in: reconciles `VaultStaticSecret`s the way VSO v1.4 does, so
//! Keyway's "Live in cluster" logic is built and tested against the objects, status fields and
//! events the real operator produces (reference `vso-vault.md`, section 1).
//!
//! Copied from VSO:
//! - Triggers: VSS create, generation change, any label or annotation change (force sync), a
//!   change to or deletion of the destination Secret, and the timed requeue at `refreshAfter`
//!   minus 10–20 % (60 s when empty and `hmacSecretData` is on; no polling when both are off).
//! - Login: kubernetes auth with a TokenRequest token of the VaultAuth's service account in the
//!   VSS's namespace (audiences and `tokenExpirationSeconds`, min 600), cached per VaultAuth and
//!   namespace until 80 % of its lease, dropped on a 403. VaultAuth resolution: `vaultAuthRef`
//!   as `ns/name` or `name`, empty = `default` in the operator namespace, `allowedNamespaces`
//!   checked; VaultConnection likewise (`vaultConnectionRef`, empty = `default` in the operator
//!   namespace).
//! - Destination Secret: one key per kv field plus `_raw`; with `create: true` the owner labels and
//!   exactly one ownerReference, user labels/annotations/type; a Secret owned by someone else is
//!   refused (`SecretSyncError`) unless `overwrite` and it lacks VSO's labels; with
//!   `create: false` the Secret must exist and only `.data` is replaced.
//! - Sync decision: generation change, MAC of the new data ≠ `status.secretMAC`, or MAC of the
//!   live Secret ≠ `status.secretMAC` (drift). HMAC key in Secret `vso-cc-storage-hmac-key` of the
//!   operator namespace (created when missing).
//! - Status: `lastGeneration`, `secretMAC`, conditions SecretSynced / RolloutRestart / Healthy /
//!   Ready with VSO's reasons and messages, including the stuck SecretSynced=False bug (#1225).
//! - Events (reporting component `VaultStaticSecret`): SecretSynced, VaultClientConfigError,
//!   VaultClientError, SecretDataBuilderError, SecretSyncError, RolloutRestartTriggered,
//!   RolloutRestartFailed, RolloutRestartUnsupported.
//! - `rolloutRestartTargets`: after a sync when a MAC existed before, a strategic-merge patch of
//!   `vso.secrets.hashicorp.com/restartedAt` on each Deployment/StatefulSet/DaemonSet; a paused
//!   Deployment is refused.
//! - Errors back off 5 s doubling to 60 s.
//!
//! Not copied: kv-v1, `syncConfig.instantUpdates` (OpenBao has no events), transformations and
//! templates, Vault namespaces and custom headers, VaultConnection TLS options, other auth
//! methods than kubernetes, argo.Rollout targets, orphan pruning after a destination rename,
//! VaultDynamicSecret/VaultPKISecret, the client cache, metrics, the write of a `_raw`-only Secret
//! when the latest kv version is deleted (VSO issue #756: here the read error is reported instead).

pub mod conditions;
pub mod data;
pub mod vault;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{ObjectReference, Secret, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, ObjectMeta, OwnerReference};
use k8s_openapi::ByteString;
use keyway_k8s::vso::{VaultAuth, VaultConnection, VaultStaticSecret};
use kube::api::{Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::runtime::predicates;
use kube::runtime::reflector::ObjectRef;
use kube::runtime::utils::Predicate;
use kube::runtime::{reflector, watcher, WatchStreamExt};
use kube::{Api, Client, Resource, ResourceExt};
use rand::Rng;
use tokio::sync::Mutex;

use self::conditions::{condition, health, merge, ROLLOUT_RESTART, SECRET_SYNCED};
use self::vault::{Login, Vault};

/// The Secret VSO keeps its HMAC key in (operator namespace, data key `key`).
pub const HMAC_SECRET: &str = "vso-cc-storage-hmac-key";
/// The pod-template annotation VSO's rollout restart sets.
pub const RESTARTED_AT: &str = "vso.secrets.hashicorp.com/restartedAt";

/// Labels VSO puts on a Secret it creates (owner labels win over the user's).
pub fn owner_labels(vss_uid: &str) -> BTreeMap<String, String> {
    [
        ("app.kubernetes.io/managed-by", "hashicorp-vso"),
        ("app.kubernetes.io/name", "vault-secrets-operator"),
        ("app.kubernetes.io/component", "secret-sync"),
        ("secrets.hashicorp.com/vso-ownerRefUID", vss_uid),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Kube(#[from] kube::Error),
}

/// Shared state of the controller.
struct Ctx {
    client: Client,
    vault: Vault,
    recorder: Recorder,
    operator_ns: String,
    hmac_key: Vec<u8>,
    /// (VaultAuth ns/name, VSS namespace) -> token and when to stop using it.
    tokens: Mutex<HashMap<(String, String), (Login, Instant)>>,
    /// VSS uid -> consecutive failures, for the back-off.
    failures: Mutex<HashMap<String, u32>>,
}

/// Runs the controller until the process is stopped.
pub async fn run(client: Client, operator_ns: String) -> anyhow::Result<()> {
    let hmac_key = ensure_hmac_key(&client, &operator_ns).await?;
    let recorder = Recorder::new(
        client.clone(),
        Reporter {
            controller: "VaultStaticSecret".into(),
            instance: Some("keyway-vso-standin".into()),
        },
    );
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        vault: Vault::new(),
        recorder,
        operator_ns,
        hmac_key,
        tokens: Mutex::default(),
        failures: Mutex::default(),
    });

    // VSO reconciles on spec (generation), label and annotation changes, never on its own status
    // writes: the same filter here.
    let vss: Api<VaultStaticSecret> = Api::all(client.clone());
    let (reader, writer) = reflector::store();
    let triggers = watcher(vss, watcher::Config::default())
        .default_backoff()
        .reflect(writer)
        .applied_objects()
        .predicate_filter(
            predicates::generation
                .combine(predicates::labels)
                .combine(predicates::annotations),
            Default::default(),
        );
    let secrets: Api<Secret> = Api::all(client.clone());
    let owned = watcher::Config::default().labels("app.kubernetes.io/managed-by=hashicorp-vso");
    Controller::for_stream(triggers, reader)
        .owns(secrets, owned)
        .shutdown_on_signal()
        .run(reconcile, error_policy, ctx)
        .for_each(|res| async move {
            if let Err(e) = res {
                tracing::debug!(error = %e, "reconcile error");
            }
        })
        .await;
    Ok(())
}

async fn ensure_hmac_key(client: &Client, ns: &str) -> anyhow::Result<Vec<u8>> {
    let api: Api<Secret> = Api::namespaced(client.clone(), ns);
    if let Some(s) = api.get_opt(HMAC_SECRET).await? {
        if let Some(k) = s.data.as_ref().and_then(|d| d.get("key")) {
            return Ok(k.0.clone());
        }
    }
    let key: Vec<u8> = (0..32).map(|_| rand::thread_rng().gen()).collect();
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some(HMAC_SECRET.into()),
            namespace: Some(ns.into()),
            ..Default::default()
        },
        data: Some([("key".to_string(), ByteString(key.clone()))].into()),
        ..Default::default()
    };
    api.patch(
        HMAC_SECRET,
        &PatchParams::apply("keyway-vso-standin").force(),
        &Patch::Apply(&secret),
    )
    .await?;
    Ok(key)
}

fn error_policy(_vss: Arc<VaultStaticSecret>, err: &Error, _ctx: Arc<Ctx>) -> Action {
    tracing::warn!(error = %err, "Kubernetes API error; retrying in 5s");
    Action::requeue(Duration::from_secs(5))
}

/// `ns/name` or `name` (in `default_ns`); empty = `default` in the operator namespace.
fn resolve_ref(r: Option<&str>, default_ns: &str, operator_ns: &str) -> (String, String) {
    match r.filter(|s| !s.is_empty()) {
        None => (operator_ns.to_string(), "default".to_string()),
        Some(s) => match s.split_once('/') {
            Some((ns, name)) => (ns.to_string(), name.to_string()),
            None => (default_ns.to_string(), s.to_string()),
        },
    }
}

fn field_manager() -> PostParams {
    PostParams {
        field_manager: Some("vault-secrets-operator".into()),
        ..Default::default()
    }
}

fn patch_params() -> PatchParams {
    PatchParams {
        field_manager: Some("vault-secrets-operator".into()),
        ..Default::default()
    }
}

/// Why a reconcile stopped early: the event to emit and the SecretSynced message.
struct Failure {
    reason: &'static str,
    message: String,
}

impl Ctx {
    async fn publish(&self, vss: &VaultStaticSecret, type_: EventType, reason: &str, note: String) {
        let ev = Event {
            type_,
            reason: reason.into(),
            note: Some(note),
            action: reason.into(),
            secondary: None,
        };
        let reference: ObjectReference = vss.object_ref(&());
        if let Err(e) = self.recorder.publish(&ev, &reference).await {
            tracing::warn!(error = %e, "could not publish event {reason}");
        }
    }

    async fn backoff(&self, uid: &str) -> Duration {
        let mut f = self.failures.lock().await;
        let n = f.entry(uid.to_string()).or_insert(0);
        let d = Duration::from_secs(5u64.saturating_mul(1 << (*n).min(4)).min(60));
        *n += 1;
        d
    }

    /// A Vault token for this VSS's VaultAuth, logging in when none is cached.
    async fn token(
        &self,
        vss: &VaultStaticSecret,
    ) -> Result<(String, String, (String, String)), String> {
        let ns = vss.namespace().unwrap_or_default();
        let (auth_ns, auth_name) =
            resolve_ref(vss.spec.vault_auth_ref.as_deref(), &ns, &self.operator_ns);
        let auth = Api::<VaultAuth>::namespaced(self.client.clone(), &auth_ns)
            .get_opt(&auth_name)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("VaultAuth {auth_ns}/{auth_name} not found"))?;
        if auth_ns != ns {
            let allowed = auth.spec.allowed_namespaces.as_deref().unwrap_or_default();
            if !allowed.iter().any(|a| a == "*" || *a == ns) {
                return Err(format!(
                    "target namespace {ns:?} is not allowed by VaultAuth {auth_ns}/{auth_name}"
                ));
            }
        }
        let (conn_ns, conn_name) = resolve_ref(
            auth.spec.vault_connection_ref.as_deref(),
            &auth_ns,
            &self.operator_ns,
        );
        let conn = Api::<VaultConnection>::namespaced(self.client.clone(), &conn_ns)
            .get_opt(&conn_name)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("VaultConnection {conn_ns}/{conn_name} not found"))?;
        let addr = conn.spec.address.clone();
        let key = (format!("{auth_ns}/{auth_name}"), ns.clone());
        if let Some((login, until)) = self.tokens.lock().await.get(&key) {
            if Instant::now() < *until {
                return Ok((addr, login.token.clone(), key));
            }
        }
        if auth.spec.method != "kubernetes" {
            return Err(format!(
                "unsupported auth method {:?} (stand-in: kubernetes only)",
                auth.spec.method
            ));
        }
        let k = auth
            .spec
            .kubernetes
            .as_ref()
            .ok_or("kubernetes auth method requires spec.kubernetes")?;
        let tr = TokenRequest {
            spec: Some(TokenRequestSpec {
                audiences: k.audiences.clone(),
                expiration_seconds: Some(k.token_expiration_seconds.unwrap_or(600).max(600)),
                ..Default::default()
            }),
            ..Default::default()
        };
        let jwt = Api::<ServiceAccount>::namespaced(self.client.clone(), &ns)
            .create_token_request(&k.service_account, &field_manager(), &tr)
            .await
            .map_err(|e| {
                format!(
                    "failed to get a token for service account {ns}/{}: {e}",
                    k.service_account
                )
            })?
            .status
            .and_then(|s| s.token)
            .ok_or("TokenRequest answered without a token")?;
        let login = self
            .vault
            .kubernetes_login(&addr, &auth.spec.mount, &k.role, &jwt)
            .await
            .map_err(|e| e.to_string())?;
        let until = Instant::now() + login.lease.mul_f64(0.8);
        let token = login.token.clone();
        self.tokens.lock().await.insert(key.clone(), (login, until));
        Ok((addr, token, key))
    }
}

async fn reconcile(cached: Arc<VaultStaticSecret>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    let ns = cached.namespace().unwrap_or_default();
    let name = cached.name_any();
    let vss_api: Api<VaultStaticSecret> = Api::namespaced(ctx.client.clone(), &ns);
    // Read it fresh: the cache may not have our last status write yet, and deciding on a stale
    // `secretMAC` would sync (and restart the targets) twice.
    let Some(vss) = vss_api.get_opt(&name).await? else {
        return Ok(Action::await_change());
    };
    let uid = vss.uid().unwrap_or_default();
    let generation = vss.metadata.generation;
    let status = vss.status.clone().unwrap_or_default();
    let hmac_on = vss.spec.hmac_secret_data.unwrap_or(true);
    let horizon = data::horizon(
        vss.spec.refresh_after.as_deref(),
        hmac_on,
        rand::thread_rng().gen::<f64>(),
    );
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), &ns);

    match sync(&vss, &ctx, &secrets).await? {
        Outcome::Failed(f) => {
            let wait = ctx.backoff(&uid).await;
            tracing::info!(%ns, %name, reason = f.reason, "sync failed; retry in {wait:?}");
            ctx.publish(&vss, EventType::Warning, f.reason, f.message.clone())
                .await;
            let synced = condition(
                SECRET_SYNCED,
                false,
                "Synced",
                format!(
                    "Failed to sync the secret, horizon={}, err={}",
                    data::go_duration(wait),
                    f.message
                ),
                generation,
            );
            let conds = merge(
                status.conditions.as_deref(),
                std::iter::once(synced).chain(health(false, generation)),
            );
            patch_status(
                &vss_api,
                &name,
                generation,
                status.secret_mac.as_deref(),
                conds,
            )
            .await?;
            Ok(Action::requeue(wait))
        }
        Outcome::WaitForDestination => Ok(Action::requeue(Duration::from_secs(5))),
        Outcome::Done {
            mac,
            synced,
            restart,
        } => {
            ctx.failures.lock().await.remove(&uid);
            let mut new: Vec<Condition> = Vec::new();
            if synced {
                let h = horizon
                    .map(data::go_duration)
                    .unwrap_or_else(|| "0s".into());
                ctx.publish(
                    &vss,
                    EventType::Normal,
                    "SecretSynced",
                    "Secret synced".into(),
                )
                .await;
                new.push(condition(
                    SECRET_SYNCED,
                    true,
                    "Synced",
                    format!("Secret synced, horizon={h}"),
                    generation,
                ));
                tracing::info!(%ns, %name, "secret synced");
            }
            if let Some(errors) = restart {
                new.push(if errors.is_empty() {
                    condition(
                        ROLLOUT_RESTART,
                        true,
                        "RolloutRestartTriggered",
                        "Rollout restart triggered".into(),
                        generation,
                    )
                } else {
                    condition(
                        ROLLOUT_RESTART,
                        false,
                        "RolloutRestartTriggeredFailed",
                        format!("Rollout restart trigger failed, err={}", errors.join("; ")),
                        generation,
                    )
                });
            }
            new.extend(health(true, generation));
            let conds = merge(status.conditions.as_deref(), new);
            patch_status(&vss_api, &name, generation, Some(&mac), conds).await?;
            Ok(horizon
                .map(Action::requeue)
                .unwrap_or_else(Action::await_change))
        }
    }
}

enum Outcome {
    Failed(Failure),
    WaitForDestination,
    /// `restart`: None when no restart was due, else the targets' errors (empty = all restarted).
    Done {
        mac: String,
        synced: bool,
        restart: Option<Vec<String>>,
    },
}

async fn sync(vss: &VaultStaticSecret, ctx: &Ctx, secrets: &Api<Secret>) -> Result<Outcome, Error> {
    let spec = &vss.spec;
    let status = vss.status.clone().unwrap_or_default();
    let fail = |reason, message| Ok(Outcome::Failed(Failure { reason, message }));

    // 1. A Vault client.
    let (addr, token, token_key) = match ctx.token(vss).await {
        Ok(t) => t,
        Err(e) => {
            return fail(
                "VaultClientConfigError",
                format!("Failed to get Vault auth login: {e}"),
            )
        }
    };
    // 2. The destination must exist unless we create it.
    let create = spec.destination.create.unwrap_or(false);
    let existing = secrets.get_opt(&spec.destination.name).await?;
    if !create && existing.is_none() {
        return Ok(Outcome::WaitForDestination);
    }
    // 4. Read Vault.
    let answer = match ctx
        .vault
        .read_kv_v2(&addr, &token, &spec.mount, &spec.path, spec.version)
        .await
    {
        Ok(a) => a,
        Err(e) => {
            if e.status() == Some(403) {
                ctx.tokens.lock().await.remove(&token_key);
            }
            return fail(
                "VaultClientError",
                format!("Failed to read Vault secret: {e}"),
            );
        }
    };
    // 5. Build the data and its MAC.
    let new_data = match data::secret_data(&answer) {
        Ok(d) => d,
        Err(e) => {
            return fail(
                "SecretDataBuilderError",
                format!("Failed to build K8s secret data: {e}"),
            )
        }
    };
    let mac = data::mac(&ctx.hmac_key, &new_data);
    let live_mac = existing.as_ref().map(|s| {
        let live: BTreeMap<String, Vec<u8>> = s
            .data
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, v.0))
            .collect();
        data::mac(&ctx.hmac_key, &live)
    });
    let generation_changed = vss.metadata.generation != status.last_generation;
    let needed = generation_changed
        || status.secret_mac.as_deref() != Some(mac.as_str())
        || live_mac.as_deref() != status.secret_mac.as_deref();
    if !needed {
        tracing::debug!(name = %vss.name_any(), "Secret sync not required");
        return Ok(Outcome::Done {
            mac,
            synced: false,
            restart: None,
        });
    }
    // 7. Write the Secret.
    if let Err(message) = write_secret(vss, secrets, existing, new_data).await {
        return fail(
            "SecretSyncError",
            format!("Failed to update k8s secret: {message}"),
        );
    }
    let restart = match (&status.secret_mac, spec.rollout_restart_targets.as_deref()) {
        (Some(_), Some(targets))
            if !targets.is_empty() && spec.hmac_secret_data.unwrap_or(true) =>
        {
            Some(restart_targets(vss, ctx, targets).await)
        }
        _ => None,
    };
    Ok(Outcome::Done {
        mac,
        synced: true,
        restart,
    })
}

async fn write_secret(
    vss: &VaultStaticSecret,
    secrets: &Api<Secret>,
    existing: Option<Secret>,
    new_data: BTreeMap<String, Vec<u8>>,
) -> Result<(), String> {
    let dest = &vss.spec.destination;
    let uid = vss.uid().unwrap_or_default();
    let data: BTreeMap<String, ByteString> = new_data
        .into_iter()
        .map(|(k, v)| (k, ByteString(v)))
        .collect();
    let owner = OwnerReference {
        api_version: "secrets.hashicorp.com/v1beta1".into(),
        kind: "VaultStaticSecret".into(),
        name: vss.name_any(),
        uid: uid.clone(),
        ..Default::default()
    };
    let ns = vss.namespace().unwrap_or_default();
    if !dest.create.unwrap_or(false) {
        // create=false: only .data is replaced.
        let mut s = existing.ok_or("destination Secret does not exist")?;
        s.data = Some(data);
        s.metadata.managed_fields = None;
        return secrets
            .replace(&dest.name, &field_manager(), &s)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string());
    }
    if let Some(s) = &existing {
        let refs = s.metadata.owner_references.clone().unwrap_or_default();
        let ours = refs.len() == 1 && refs[0].uid == uid && refs[0].kind == "VaultStaticSecret";
        let vso_labelled = s.metadata.labels.as_ref().is_some_and(|l| {
            l.get("app.kubernetes.io/managed-by").map(String::as_str) == Some("hashicorp-vso")
        });
        let adoptable = dest.overwrite.unwrap_or(false) && !vso_labelled;
        if !ours && !adoptable {
            let why = if refs.is_empty() {
                "has no ownerReferences"
            } else {
                "invalid ownerReferences"
            };
            return Err(format!(
                "not the owner of the destination Secret {ns}/{} ({why})",
                dest.name
            ));
        }
    }
    let mut labels = dest.labels.clone().unwrap_or_default();
    labels.extend(owner_labels(&uid));
    let mut s = existing.unwrap_or_default();
    s.metadata = ObjectMeta {
        name: Some(dest.name.clone()),
        namespace: Some(ns),
        labels: Some(labels),
        annotations: dest.annotations.clone(),
        owner_references: Some(vec![owner]),
        resource_version: s.metadata.resource_version.clone(),
        ..Default::default()
    };
    s.type_ = Some(dest.secret_type.clone().unwrap_or_else(|| "Opaque".into()));
    s.data = Some(data);
    s.string_data = None;
    let r = if s.metadata.resource_version.is_some() {
        secrets.replace(&dest.name, &field_manager(), &s).await
    } else {
        secrets.create(&field_manager(), &s).await
    };
    r.map(|_| ()).map_err(|e| e.to_string())
}

/// Patches each target's pod template; returns the errors (empty = every target restarted).
async fn restart_targets(
    vss: &VaultStaticSecret,
    ctx: &Ctx,
    targets: &[keyway_k8s::vso::RolloutRestartTarget],
) -> Vec<String> {
    let ns = vss.namespace().unwrap_or_default();
    let patch = serde_json::json!({
        "spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: crate::now_rfc3339()}}}}
    });
    let pp = patch_params();
    let mut errors = Vec::new();
    for t in targets {
        let res: Result<(), String> = match t.kind.as_str() {
            "Deployment" => {
                let api: Api<Deployment> = Api::namespaced(ctx.client.clone(), &ns);
                match api.get(&t.name).await {
                    Ok(d) if d.spec.paused == Some(true) => Err(format!(
                        "deployment {ns}/{} is paused, cannot restart it",
                        t.name
                    )),
                    Ok(_) => api
                        .patch(&t.name, &pp, &Patch::Strategic(&patch))
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                }
            }
            "StatefulSet" => Api::<StatefulSet>::namespaced(ctx.client.clone(), &ns)
                .patch(&t.name, &pp, &Patch::Strategic(&patch))
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            "DaemonSet" => Api::<DaemonSet>::namespaced(ctx.client.clone(), &ns)
                .patch(&t.name, &pp, &Patch::Strategic(&patch))
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            other => {
                let msg = format!("unsupported rollout restart target kind {other:?}");
                ctx.publish(
                    vss,
                    EventType::Warning,
                    "RolloutRestartUnsupported",
                    msg.clone(),
                )
                .await;
                errors.push(msg);
                continue;
            }
        };
        match res {
            Ok(()) => {
                ctx.publish(
                    vss,
                    EventType::Normal,
                    "RolloutRestartTriggered",
                    format!("Rollout restart triggered for {} {}", t.kind, t.name),
                )
                .await
            }
            Err(e) => {
                let msg = format!(
                    "Rollout restart failed for target {} {}: err={e}",
                    t.kind, t.name
                );
                ctx.publish(vss, EventType::Warning, "RolloutRestartFailed", msg.clone())
                    .await;
                errors.push(msg);
            }
        }
    }
    errors
}

async fn patch_status(
    api: &Api<VaultStaticSecret>,
    name: &str,
    generation: Option<i64>,
    mac: Option<&str>,
    conditions: Vec<Condition>,
) -> Result<(), Error> {
    let status = serde_json::json!({
        "status": {"lastGeneration": generation, "secretMAC": mac, "conditions": conditions}
    });
    api.patch_status(name, &patch_params(), &Patch::Merge(&status))
        .await?;
    Ok(())
}

/// The VSS that owns a Secret, from its ownerReferences (for tests and tools).
pub fn owner_of(secret: &Secret) -> Option<ObjectRef<VaultStaticSecret>> {
    let ns = secret.namespace()?;
    secret
        .owner_references()
        .iter()
        .find(|o| o.kind == "VaultStaticSecret")
        .map(|o| ObjectRef::new(&o.name).within(&ns))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_resolve_like_vso() {
        assert_eq!(
            resolve_ref(None, "dev", "op"),
            ("op".into(), "default".into())
        );
        assert_eq!(
            resolve_ref(Some(""), "dev", "op"),
            ("op".into(), "default".into())
        );
        assert_eq!(
            resolve_ref(Some("static-auth"), "dev", "op"),
            ("dev".into(), "static-auth".into())
        );
        assert_eq!(
            resolve_ref(Some("shared/auth"), "dev", "op"),
            ("shared".into(), "auth".into())
        );
    }

    #[test]
    fn owner_labels_name_the_owner() {
        let l = owner_labels("u-1");
        assert_eq!(l["app.kubernetes.io/managed-by"], "hashicorp-vso");
        assert_eq!(l["secrets.hashicorp.com/vso-ownerRefUID"], "u-1");
        assert_eq!(l.len(), 4);
    }
}
