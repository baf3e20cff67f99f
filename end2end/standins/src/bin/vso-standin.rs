//! `vso-standin`: the Vault Secrets Operator stand-in (see `keyway_standins::vso`).
//!
//! Uses the kubeconfig from `KUBECONFIG` (or in-cluster config); watches every namespace.
//! `VSO_OPERATOR_NAMESPACE` (default `vault-secrets-operator-system`) is where the `default`
//! VaultConnection/VaultAuth and the HMAC key Secret live.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    keyway_standins::init_tracing();
    let ns = std::env::var("VSO_OPERATOR_NAMESPACE")
        .unwrap_or_else(|_| "vault-secrets-operator-system".into());
    let client = kube::Client::try_default().await?;
    tracing::info!(operator_namespace = %ns, "vso-standin started");
    keyway_standins::vso::run(client, ns).await
}
