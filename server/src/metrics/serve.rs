//! The metrics listener (`KEYWAY_METRICS_LISTEN`): `/metrics` alone, apart from the main
//! listener, so that the NetworkPolicy can let only Prometheus in and users never see it.

use std::future::Future;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::http::AppState;

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
