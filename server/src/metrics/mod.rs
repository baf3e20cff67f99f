//! Keyway's Prometheus metrics: one registry per server (no global: two servers in one test
//! process count apart), its typed families, and the one method per event that records it,
//! called where the event already happens (a request ends, a Vault call ends, a save or a
//! restart is audited). Served on their own listener ([`serve`]), so a NetworkPolicy can let
//! only Prometheus reach them.
//!
//! Labels are fixed sets or platform-configured, bounded names: route *templates* (never a raw
//! path), Vault operations and outcomes, environment names (the served namespaces). Never a user
//! name, secret path, key or token. The gauges that describe state (sessions, the cluster,
//! checkpoint age) are read when Prometheus scrapes ([`scrape::refresh`]), not kept up to date
//! by a timer.

pub mod http;
pub mod scrape;
pub mod serve;

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};

/// Seconds, for request-sized things: 5 ms to the 90 s request deadline.
const REQUEST_BUCKETS: [f64; 13] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 90.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub route: String,
    pub method: &'static str,
    pub status_class: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct VaultLabels {
    pub operation: &'static str,
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OperationLabels {
    pub operation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EnvironmentLabels {
    pub environment: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AppStateLabels {
    pub environment: String,
    pub state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
    revision: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;
type Seconds = Gauge<f64, AtomicU64>;
/// The label set of a family that has one series or none.
pub(crate) type NoLabels = [(&'static str, &'static str); 0];

fn request_histogram() -> Histogram {
    Histogram::new(REQUEST_BUCKETS)
}

fn restart_histogram() -> Histogram {
    Histogram::new([0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 90.0])
}

/// The registry and every family in it. Cheap to share (`Arc`); recording is lock-free for a
/// label set seen before.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    pub(crate) http_requests: Family<HttpLabels, Counter>,
    pub(crate) http_duration: Histograms<RouteLabels>,
    vault_requests: Family<VaultLabels, Counter>,
    vault_duration: Histograms<OperationLabels>,
    pub(crate) vault_up: Gauge,
    secret_writes: Family<OutcomeLabels, Counter>,
    restarts: Family<OutcomeLabels, Counter>,
    restart_duration: Histogram,
    pub(crate) sync_lag: Family<EnvironmentLabels, Seconds>,
    pub(crate) apps: Family<AppStateLabels, Gauge>,
    pub(crate) sessions_active: Gauge,
    /// Empty while there is no checkpoint to measure (off, or none yet).
    pub(crate) checkpoint_age: Family<NoLabels, Seconds>,
}

impl Metrics {
    /// A fresh registry with every family registered. `audit` is counted as it appends
    /// (`keyway_audit_appends_total` reads its counter at each scrape).
    pub fn new(audit: &keyway_store::AuditLog) -> Arc<Metrics> {
        let mut registry = Registry::default();
        let m = Metrics {
            http_requests: Family::default(),
            http_duration: Family::new_with_constructor(request_histogram),
            vault_requests: Family::default(),
            vault_duration: Family::new_with_constructor(request_histogram),
            vault_up: Gauge::default(),
            secret_writes: Family::default(),
            restarts: Family::default(),
            restart_duration: restart_histogram(),
            sync_lag: Family::default(),
            apps: Family::default(),
            sessions_active: Gauge::default(),
            checkpoint_age: Family::default(),
            registry: Registry::default(),
        };
        registry.register(
            "keyway_build",
            "Keyway's version and the commit it was built from (always 1)",
            Info::new(BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
                revision: option_env!("KEYWAY_REVISION").unwrap_or("unknown"),
            }),
        );
        registry.register(
            "keyway_http_requests",
            "HTTP requests answered, by route template, method and status class",
            m.http_requests.clone(),
        );
        registry.register_with_unit(
            "keyway_http_request_duration",
            "Time to answer an HTTP request, by route template",
            Unit::Seconds,
            m.http_duration.clone(),
        );
        registry.register(
            "keyway_vault_requests",
            "Vault requests made, by operation and outcome",
            m.vault_requests.clone(),
        );
        registry.register_with_unit(
            "keyway_vault_request_duration",
            "Time a Vault request took, waiting for a free request slot included, by operation",
            Unit::Seconds,
            m.vault_duration.clone(),
        );
        registry.register(
            "keyway_vault_up",
            "1 when Vault's health check says it serves (active or standby), 0 when sealed, uninitialised or unreachable",
            m.vault_up.clone(),
        );
        registry.register(
            "keyway_secret_writes",
            "New secret versions attempted (save, rollback), by outcome (ok, conflict, denied, error, audit_failed)",
            m.secret_writes.clone(),
        );
        registry.register(
            "keyway_restarts",
            "Workload restarts attempted, by outcome (ok, error, audit_failed)",
            m.restarts.clone(),
        );
        registry.register_with_unit(
            "keyway_restart_duration",
            "Time to patch the workloads of one restart",
            Unit::Seconds,
            m.restart_duration.clone(),
        );
        registry.register_with_unit(
            "keyway_sync_lag",
            "Per environment: how long ago the operator last refreshed its least recently refreshed app",
            Unit::Seconds,
            m.sync_lag.clone(),
        );
        registry.register(
            "keyway_apps",
            "Apps by environment and state (ok, failing, not_set_up, not_refreshed, old_values)",
            m.apps.clone(),
        );
        registry.register(
            "keyway_sessions_active",
            "Session rows not yet expired, over all replicas (read from the shared store): signed-in users' and pre-login ones (a single sign-on under way, a login page's sentence)",
            m.sessions_active.clone(),
        );
        registry.register_collector(Box::new(scrape::AuditAppends(audit.clone())));
        registry.register_with_unit(
            "keyway_audit_checkpoint_age",
            "Time since the newest signed audit checkpoint (absent when checkpoints are off or none exists yet)",
            Unit::Seconds,
            m.checkpoint_age.clone(),
        );
        Arc::new(Metrics { registry, ..m })
    }

    /// The registry in the OpenMetrics text format Prometheus reads.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }

    /// One audited action ended, as the audit log records it (`None`: the audit log refused
    /// the intent, so nothing was attempted), after `took`. Counted as what `counted` says.
    pub fn bracket(
        &self,
        counted: Counted,
        outcome: Option<keyway_store::Outcome>,
        took: Duration,
    ) {
        let labels = OutcomeLabels {
            outcome: outcome.map_or("audit_failed", keyway_store::Outcome::as_str),
        };
        match counted {
            Counted::Nothing => {}
            Counted::SecretWrite => {
                self.secret_writes.get_or_create(&labels).inc();
            }
            Counted::Restart => {
                self.restarts.get_or_create(&labels).inc();
                self.restart_duration.observe(took.as_secs_f64());
            }
        }
    }
}

/// Which metric an audited action counts in, besides the audit appends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counted {
    Nothing,
    /// A new secret version: `keyway_secret_writes_total`.
    SecretWrite,
    /// A restart's patches: `keyway_restarts_total`, `keyway_restart_duration_seconds`.
    Restart,
}

impl keyway_vault::Observer for Metrics {
    fn observe(
        &self,
        operation: keyway_vault::Operation,
        outcome: keyway_vault::CallOutcome,
        elapsed: Duration,
    ) {
        self.vault_requests
            .get_or_create(&VaultLabels {
                operation: operation.as_str(),
                outcome: outcome.as_str(),
            })
            .inc();
        self.vault_duration
            .get_or_create(&OperationLabels {
                operation: operation.as_str(),
            })
            .observe(elapsed.as_secs_f64());
    }
}
