//! The metrics listener (`KEYWAY_METRICS_LISTEN`): `/metrics` alone, apart from the main
//! listener, so that the NetworkPolicy can let only Prometheus in and users never see it. And
//! the probe that keeps `keyway_vault_up` current between scrapes and readiness checks.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::http::AppState;
use crate::service::Core;

/// How often `keyway_vault_up` is refreshed with a `sys/health` call of its own.
pub const VAULT_PROBE_EVERY: Duration = Duration::from_secs(15);

/// The OpenMetrics text format's content type (what `prometheus_client` writes).
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The metrics router: `GET /metrics`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(state)
}

async fn scrape(State(state): State<AppState>) -> impl IntoResponse {
    let metrics = &state.core.metrics;
    super::scrape::refresh(metrics, &state).await;
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], metrics.encode())
}

/// Serves the metrics router on `listener` until `shutdown`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Asks Vault's health every [`VAULT_PROBE_EVERY`] and sets `keyway_vault_up`. Stops when the
/// last `Core` is gone.
pub fn spawn_vault_probe(core: &Arc<Core>) {
    let core = Arc::downgrade(core);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(VAULT_PROBE_EVERY);
        loop {
            tick.tick().await;
            let Some(core) = core.upgrade() else { return };
            let _ = vault_serving(&core).await;
        }
    });
}

/// Whether Vault serves (active or standby), recorded in `keyway_vault_up`: `Err` with the
/// reason in plain words when it does not. The details of a failure go to the log only.
pub async fn vault_serving(core: &Core) -> Result<(), String> {
    let result = match core.vault.health().await {
        Ok(health) => health.problem().map_or(Ok(()), Err),
        Err(e) => {
            tracing::warn!(error = %e, "Vault health check failed");
            Err("Vault cannot be reached (no answer, or the connection failed)".to_owned())
        }
    };
    core.metrics.vault_up.set(i64::from(result.is_ok()));
    result
}
