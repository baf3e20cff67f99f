//! `reloader-standin`: the Stakater Reloader stand-in (see `keyway_standins::reloader`).
//!
//! Uses the kubeconfig from `KUBECONFIG` (or in-cluster config); watches every namespace.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    keyway_standins::init_tracing();
    let client = kube::Client::try_default().await?;
    tracing::info!("reloader-standin started");
    keyway_standins::reloader::run(client).await
}
