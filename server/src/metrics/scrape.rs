//! What is read when Prometheus scrapes rather than counted as it happens: the sessions in the
//! shared store, the cluster's apps and how far behind the operator is, the age of the newest
//! signed checkpoint, and the audit log's append counter.

use std::collections::BTreeMap;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;

use super::{AppStateLabels, EnvironmentLabels, Metrics};
use crate::http::AppState;

/// `keyway_audit_appends_total`: the audit log's own counter ([`keyway_store::AuditLog::appended`]),
/// so every append is counted at the one place rows are appended.
#[derive(Debug)]
pub struct AuditAppends(pub keyway_store::AuditLog);

impl Collector for AuditAppends {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let counter = ConstCounter::new(self.0.appended());
        let metric = encoder.encode_descriptor(
            "keyway_audit_appends",
            "Rows this Keyway appended to the audit log.",
            None,
            counter.metric_type(),
        )?;
        counter.encode(metric)
    }
}

/// Brings the state gauges up to date, just before they are encoded.
pub async fn refresh(metrics: &Metrics, state: &AppState) {
    let now = state.sessions.clock.now_utc();
    match state.store.live_count(now).await {
        Ok(n) => {
            metrics.sessions_active.set(n);
        }
        Err(e) => tracing::warn!(error = %e, "metrics: could not count the sessions"),
    }
    metrics.checkpoint_age.clear();
    if let crate::checkpoint::CheckpointStatus::On {
        last: Some(crate::checkpoint::LastCheckpoint { at: Some(at), .. }),
        ..
    } = state.core.checkpoints.status()
    {
        let age = jiff::Timestamp::now().duration_since(at).as_secs_f64();
        metrics.checkpoint_age.get_or_create(&[]).set(age.max(0.0));
    }
    if let Some(k) = state.core.cluster.as_deref() {
        cluster(metrics, &k.caches).await;
    }
}

/// `keyway_apps{environment,state}` and `keyway_sync_lag_seconds{environment}` from one
/// snapshot of the watch caches, with fleet health's rules (no Vault call). An environment is a
/// served namespace; a namespace whose apps are all gone drops out.
async fn cluster(metrics: &Metrics, caches: &keyway_k8s::cache::Caches) {
    let snap = keyway_k8s::snapshot::snapshot(caches).await;
    let now = jiff::Timestamp::now();
    let mut apps: BTreeMap<(String, &'static str), i64> = BTreeMap::new();
    let mut lag: BTreeMap<String, f64> = BTreeMap::new();
    for app in &snap.apps {
        let Some((problem, refreshed)) = keyway_k8s::fleet::of_app_with_refresh(&snap, app, now)
        else {
            continue;
        };
        let state = problem.map_or("ok", |a| a.problem.as_str());
        *apps.entry((app.namespace.clone(), state)).or_default() += 1;
        let behind = refreshed.map_or(0.0, |at| now.duration_since(at).as_secs_f64().max(0.0));
        let worst = lag.entry(app.namespace.clone()).or_default();
        *worst = worst.max(behind);
    }
    metrics.apps.clear();
    for ((environment, state), n) in apps {
        metrics
            .apps
            .get_or_create(&AppStateLabels { environment, state })
            .set(n);
    }
    metrics.sync_lag.clear();
    for (environment, seconds) in lag {
        metrics
            .sync_lag
            .get_or_create(&EnvironmentLabels { environment })
            .set(seconds);
    }
}
