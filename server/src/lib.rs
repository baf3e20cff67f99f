//! The Keyway server: configuration, the Vault-backed services, sessions, and the HTTP surface.
//!
//! `main.rs` only parses the config and calls [`run`]; tests call [`build`] to get a router
//! wired to real OpenBao and a real database.

pub mod audit_head;
pub mod backend;
pub mod checkpoint;
pub mod client_addr;
pub mod commands;
pub mod config;
pub mod homes;
pub mod http;
pub mod metrics;
pub mod sealing;
pub mod service;
pub mod sessions;
pub mod telemetry;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use keyway_store::{AuditLog, Db};
use keyway_vault::Vault;
use leptos::prelude::LeptosOptions;

use crate::config::Config;
use crate::http::{AppState, CookiePolicy};
use crate::sealing::Sealer;
use crate::service::Core;
use crate::sessions::{AnyStore, SessionRules};

/// Builds the router from a checked config: connects the database (running migrations), the
/// session store and the Vault client.
pub async fn build(cfg: &Config) -> Result<(axum::Router, AppState), String> {
    let checked = cfg.check()?;
    let vault = Vault::new(&cfg.vault_config()).map_err(|e| e.to_string())?;
    let db = Db::connect(&cfg.database_url)
        .await
        .map_err(|e| format!("database: {e}"))?;
    let store = AnyStore::new(&db, &checked.session_key).await?;
    let audit = AuditLog::new(db.clone());
    let metrics = metrics::Metrics::new(&audit);
    let vault = vault.observed_by(metrics.clone());
    match audit.pending_intents().await {
        Ok(p) if !p.is_empty() => tracing::warn!(
            count = p.len(),
            "audit log has actions whose outcome was never recorded (Keyway stopped mid-way)"
        ),
        Ok(_) => {}
        Err(e) => return Err(format!("audit log: {e}")),
    }
    let witness = Arc::new(audit_head::LogWitness);
    audit_head::publish_now_and_every(audit.clone(), witness, audit_head::HEAD_EVERY).await;
    let checkpoints =
        checkpoint::Checkpoints::new(checked.checkpoints.clone(), vault.clone(), audit.clone());
    checkpoints.spawn(checkpoint::CHECK_EVERY);
    checkpoints.spawn_verifier(checkpoint::VERIFY_EVERY);
    // A build with hashed file names lists them in `hash.txt` in the site root (cargo-leptos
    // writes it there: `hash-file-name` in Cargo.toml); without one, the plain names are used.
    let hash_file = std::path::absolute(cfg.site_root.join("hash.txt"))
        .map_err(|e| format!("site root {}: {e}", cfg.site_root.display()))?;
    let leptos = LeptosOptions::builder()
        .output_name("keyway")
        .site_root(cfg.site_root.to_string_lossy().to_string())
        .site_pkg_dir("pkg")
        .site_addr(cfg.listen)
        .hash_files(hash_file.is_file())
        .hash_file(hash_file.to_string_lossy().as_ref().into())
        .build();
    let sessions = SessionRules {
        idle: checked.idle,
        max_lifetime: checked.max_lifetime,
        clock: Default::default(),
    };
    let state = AppState {
        sessions: sessions.clone(),
        store: store.clone(),
        ready: Default::default(),
        core: Arc::new(Core {
            vault,
            audit,
            cluster: connect_cluster(
                cfg.cluster,
                cfg.kubeconfig.as_deref(),
                cfg.namespaces.clone().into(),
                &db,
            )
            .await,
            throttle: service::throttle::Throttle::new(cfg.login_limit_per_address),
            refusals: Default::default(),
            envs: service::environments::Environments {
                homes: cfg.environment_kv.clone(),
                scope: cfg.namespaces.clone().into(),
                kube_auth_mount: cfg.kube_auth_mount.trim_matches('/').to_owned(),
            },
            claims: keyway_store::RestartClaims::new(db.clone()),
            checkpoints,
            metrics,
        }),
        sealer: Sealer::new(&checked.session_key),
        leptos,
        db,
        oidc: Arc::new(service::oidc::OidcSettings::new(
            &checked.public_origin,
            service::oidc::parse_roles(&cfg.oidc_roles)?,
        )),
        public_origin: checked.public_origin.clone(),
        trusted_proxies: Arc::new(checked.trusted_proxies.clone()),
    };
    spawn_upkeep(&state.core);
    service::vault_health::spawn_vault_probe(&state.core);
    sessions::spawn_sweeper(
        store.clone(),
        state.core.clone(),
        state.sealer.clone(),
        sessions,
    );
    let router = http::router(
        state.clone(),
        store,
        CookiePolicy {
            secure: checked.secure_cookies,
            name: checked.cookie_name,
            hsts: checked.https,
        },
    );
    Ok((router, state))
}

/// Every few seconds: writes the counts of repeated refusals whose minute is over, and lets
/// the rate limiters forget idle clients. Stops when the last `Core` is gone.
fn spawn_upkeep(core: &Arc<Core>) {
    let core = Arc::downgrade(core);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            let Some(core) = core.upgrade() else { return };
            core.flush_refusals(false).await;
            core.throttle.forget_idle();
        }
    });
}

/// The cluster connection and its watch caches, or None (off, or no cluster found). Watches
/// start at once and fill in the background; until they are in sync the UI says so.
async fn connect_cluster(
    mode: config::ClusterMode,
    kubeconfig: Option<&std::path::Path>,
    scope: keyway_k8s::scope::Scope,
    db: &keyway_store::Db,
) -> Option<Arc<service::cluster::ClusterCtx>> {
    if mode == config::ClusterMode::Off {
        tracing::info!("cluster side off (KEYWAY_CLUSTER=off)");
        return None;
    }
    let found = match kubeconfig {
        Some(path) => match kube::config::Kubeconfig::read_from(path) {
            Ok(k) => kube::Config::from_custom_kubeconfig(k, &Default::default())
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(format!("{}: {e}", path.display())),
        },
        None => kube::Config::infer().await.map_err(|e| e.to_string()),
    };
    let kube_cfg = match found {
        Ok(c) => c,
        Err(e) => {
            if kubeconfig.is_some() {
                tracing::error!(reason = %e, "KEYWAY_KUBECONFIG unusable; running without the cluster side");
            } else {
                tracing::info!(reason = %e, "no cluster found; running without the cluster side");
            }
            return None;
        }
    };
    let server = kube_cfg.cluster_url.to_string();
    match kube::Client::try_from(kube_cfg) {
        Ok(client) => {
            if scope == keyway_k8s::scope::Scope::ClusterWide {
                tracing::warn!(%server, serves = %scope, "cluster side on, cluster-wide: Keyway's account needs deploy/rbac-cluster-wide.yaml; set KEYWAY_NAMESPACES to serve only some namespaces");
            } else {
                tracing::info!(%server, serves = %scope, "cluster side on");
            }
            let caches = keyway_k8s::cache::Caches::start(client.clone(), scope);
            let claims = keyway_store::RestartClaims::new(db.clone());
            let observations = keyway_store::observations::Observations::new(db.clone());
            let k = Arc::new(service::cluster::ClusterCtx::new(
                client,
                caches,
                claims,
                observations,
            ));
            service::cluster::observer::spawn(&k);
            Some(k)
        }
        Err(e) => {
            tracing::error!(error = %e, "cluster client could not be built; running without the cluster side");
            None
        }
    }
}

/// Serves until SIGTERM or Ctrl-C, then drains in-flight requests.
pub async fn run(cfg: Config) -> Result<(), String> {
    let (router, state) = build(&cfg).await?;
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", cfg.listen))?;
    tracing::info!(addr = %cfg.listen, vault = %cfg.vault_addr, "Keyway is listening");
    // One signal stops both listeners; each drains its own requests.
    let (stop, stopping) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown().await;
        let _ = stop.send(true);
    });
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let metrics_server = match cfg.metrics_listen {
        config::MetricsListen::Off => None,
        config::MetricsListen::At(addr) => {
            let l = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
                format!("cannot listen on {addr} for /metrics (KEYWAY_METRICS_LISTEN): {e}")
            })?;
            tracing::info!(%addr, "metrics are served at /metrics");
            let done = stopped(stopping.clone());
            Some(tokio::spawn(metrics::serve::serve(l, state.clone(), done)))
        }
    };
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stopped(stopping))
    .await
    .map_err(|e| e.to_string())?;
    if let Some(server) = metrics_server {
        let _ = server.await;
    }
    // Every request has been answered, so every audit bracket they opened is closed; what is
    // left is the background counts.
    tracing::info!("in-flight requests finished");
    state.core.flush_refusals(true).await;
    // The head as this process leaves the chain, its last rows included (the next periodic one
    // would never come).
    audit_head::publish_head(&state.core.audit, &audit_head::LogWitness).await;
    state.db.close().await;
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
