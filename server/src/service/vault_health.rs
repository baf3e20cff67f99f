//! Whether Vault serves, as `/readyz` and `keyway_vault_up` both need to know it: one check
//! ([`vault_serving`]) that records its answer in the metric, and the task that repeats it
//! between scrapes and readiness checks ([`spawn_vault_probe`]). Its own module because it is
//! neither the metrics listener's business nor the readiness route's alone.

use std::sync::Arc;
use std::time::Duration;

use super::Core;

/// How often `keyway_vault_up` is refreshed with a `sys/health` call of its own.
pub const VAULT_PROBE_EVERY: Duration = Duration::from_secs(15);

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
