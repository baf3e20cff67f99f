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

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::AppState;

pub async fn healthz() -> Response {
    (StatusCode::OK, "ok").into_response()
}

pub async fn readyz(State(state): State<AppState>) -> Response {
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
