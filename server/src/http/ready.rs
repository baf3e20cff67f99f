//! `/healthz` and `/readyz`, on the main listener, for the kubelet's probes.
//!
//! - `/healthz` (liveness): the process answers, and nothing else. A restart cures only a
//!   process that no longer answers; a database or Vault outage is `/readyz`'s business, so an
//!   outage of either never restarts every replica at once (it used to ping the database).
//! - `/readyz` (readiness): Keyway can do its job, so traffic may come: Vault serves (active or
//!   standby: a standby forwards to the active node, so calls still work; sealed, uninitialised
//!   or unreachable is not ready), the database takes a write (one row rewritten, never the
//!   audit log), and, when a cluster is connected, every watch cache has listed and none failed
//!   recently. 200 `ready`, or 503 with one line per failing check in plain words. No address,
//!   error text or name of anything in the body (it is on the public listener): those go to the
//!   log.
//!
//! The Vault and database checks cost a Vault call and a database write, and `/readyz` is public,
//! so their answer is kept for [`PROBE_EVERY`] and one check runs at a time ([`ReadyCache`]): a
//! flood of requests makes at most one probe each [`PROBE_EVERY`]. The cluster check reads memory
//! and is fresh on every request.

use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::AppState;

pub async fn healthz() -> Response {
    (StatusCode::OK, "ok").into_response()
}

/// How long one Vault and database check answers every `/readyz`.
pub const PROBE_EVERY: Duration = Duration::from_secs(2);

/// How long one check may take before it counts as failed: below the kubelet's 5 s probe
/// timeout (deploy/base/deployment.yaml), so a hung Vault or database gives a 503 with the
/// reason, not a probe timeout, and requests queued behind the check are not held longer.
pub const CHECK_WITHIN: Duration = Duration::from_secs(3);

/// The last Vault and database check (when it ran, its problems); the lock is held while a check
/// runs, so requests arriving meanwhile wait for its answer instead of probing again.
#[derive(Default)]
pub struct ReadyCache(tokio::sync::Mutex<Option<(Instant, Vec<String>)>>);

pub async fn readyz(State(state): State<AppState>) -> Response {
    let mut problems = {
        let mut last = state.ready.0.lock().await;
        match &*last {
            Some((at, problems)) if at.elapsed() < PROBE_EVERY => problems.clone(),
            _ => {
                // Stamped when the check starts: an answer is never kept past PROBE_EVERY
                // from the moment it was asked for.
                let started = Instant::now();
                let problems = tokio::time::timeout(CHECK_WITHIN, vault_and_db(&state))
                    .await
                    .unwrap_or_else(|_| {
                        tracing::warn!(
                            "readiness: the Vault and database checks did not finish in time"
                        );
                        vec![format!(
                            "Vault or the database: no answer within {} s (see Keyway's log).",
                            CHECK_WITHIN.as_secs()
                        )]
                    });
                *last = Some((started, problems.clone()));
                problems
            }
        }
    };
    if let Some(k) = state.core.cluster.as_deref() {
        let health = k.caches.health();
        if !health.ok {
            problems.push(format!("cluster: {}", health.sentence()));
        }
    }
    if problems.is_empty() {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        let body = format!("not ready:\n{}\n", problems.join("\n"));
        (StatusCode::SERVICE_UNAVAILABLE, body).into_response()
    }
}

/// Vault serves and the database takes a write: one line per failing check.
async fn vault_and_db(state: &AppState) -> Vec<String> {
    let (vault, db) = tokio::join!(
        crate::service::vault_health::vault_serving(&state.core),
        state.db.prove_writable()
    );
    let mut problems = Vec::new();
    if let Err(why) = vault {
        problems.push(format!("Vault: {why}."));
    }
    if let Err(e) = db {
        tracing::error!(error = %e, "readiness: the database does not take writes");
        problems.push("database: it does not take writes (see Keyway's log).".to_owned());
    }
    problems
}
