//! `TestApp`: Keyway's real router wired to a fresh OpenBao dev server and a fresh database,
//! seeded like the demo (same policy files), and a `Client` that calls `/api/…` the way the
//! browser does (session cookie, same-origin header).

#![allow(dead_code)] // each test binary uses a different part of this kit

pub mod oidc;

use std::path::PathBuf;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use clap::Parser;
use http_body_util::BodyExt;
use keyway_server::config::Config;
use keyway_server::http::AppState;
use keyway_testkit::{Bao, TempDatabase};
use serde_json::{json, Value};
use tower::ServiceExt;

pub const ORIGIN: &str = "http://127.0.0.1:3999";

pub struct TestApp {
    pub router: axum::Router,
    pub state: AppState,
    pub bao: Bao,
    pub db_url: String,
    /// The extra flags it was built with (for [`TestApp::another_replica`]).
    extra: Vec<String>,
    _dir: tempfile::TempDir,
    /// The PostgreSQL database it runs on, dropped with it.
    _postgres: Option<TempDatabase>,
}

fn policy(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../end2end/demo/policies")
        .join(format!("{name}.hcl"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A variable `end2end/cluster/up` exports.
pub fn cluster_env(k: &str) -> String {
    std::env::var(k).unwrap_or_else(|_| panic!("{k} is not set: run through `end2end/run test`, or after `eval \"$(end2end/cluster/up)\"`"))
}

/// Which database the app runs on.
pub enum DbKind {
    Sqlite,
    /// This throwaway database (`TempDatabase::create_or_skip`), dropped with the app.
    Postgres(TempDatabase),
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_on(DbKind::Sqlite).await
    }

    pub async fn spawn_on(kind: DbKind) -> TestApp {
        Self::seeded(Bao::start().await, kind).await
    }

    /// Like [`TestApp::spawn`], on an OpenBao with a file audit device (`Bao::audit_log`).
    pub async fn spawn_audited() -> TestApp {
        Self::seeded(Bao::start_audited().await, DbKind::Sqlite).await
    }

    async fn seeded(bao: Bao, kind: DbKind) -> TestApp {
        Self::seed(&bao).await;
        let dir = tempfile::tempdir().unwrap();
        let (db_url, postgres) = match kind {
            DbKind::Sqlite => (
                format!("sqlite://{}/keyway.db?mode=rwc", dir.path().display()),
                None,
            ),
            DbKind::Postgres(db) => (db.url.clone(), Some(db)),
        };
        let mut app = Self::build(bao, db_url, dir, &["--cluster", "off"]).await;
        app._postgres = postgres;
        app
    }

    /// Keyway on a Vault already [`TestApp::seed`]ed, sending its requests to `vault_addr` (one
    /// node of a cluster, or the nodes' comma-separated list) while `bao` is the tests' handle
    /// for root reads.
    pub async fn at(bao: Bao, vault_addr: &str) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let db_url = format!("sqlite://{}/keyway.db?mode=rwc", dir.path().display());
        Self::build(
            bao,
            db_url,
            dir,
            &["--cluster", "off", "--vault-addr", vault_addr],
        )
        .await
    }

    /// What [`TestApp::spawn`] puts in its Vault (mounts, policies, users, secrets), once.
    pub async fn seed(bao: &Bao) {
        bao.enable_kv2("dev").await;
        bao.enable_kv2("staging").await;
        for p in ["dev-editor", "staging-editor", "readonly"] {
            bao.put_policy(p, &policy(p)).await;
        }
        bao.enable_userpass().await;
        bao.add_user("alice", "alice-pass", &["dev-editor"]).await;
        bao.add_user("bob", "bob-pass", &["dev-editor", "staging-editor"])
            .await;
        bao.add_user("carol", "carol-pass", &["readonly"]).await;
        bao.kv_put(
            "dev",
            "webapp/config",
            json!({"username": "static-user", "password": "static-password"}),
        )
        .await;
        bao.kv_put(
            "staging",
            "webapp/config",
            json!({"username": "staging-user", "password": "staging-password"}),
        )
        .await;
    }

    /// Keyway on a fresh OpenBao seeded by the demo's own seed (`end2end/demo/seed.sh`: its
    /// users, policies, entities, the group `qa`, the `sso/` mount), serving the environments
    /// `dev` and `staging` without a cluster, plus `extra` flags.
    pub async fn demo(extra: &[&str]) -> TestApp {
        Self::demo_on(Bao::start().await, extra).await
    }

    /// [`TestApp::demo`] on an OpenBao with a file audit device (`Bao::audit_log`).
    pub async fn demo_audited(extra: &[&str]) -> TestApp {
        Self::demo_on(Bao::start_audited().await, extra).await
    }

    async fn demo_on(bao: Bao, extra: &[&str]) -> TestApp {
        let seed = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../end2end/demo/seed.sh");
        let mut path = std::env::var("PATH").unwrap_or_default();
        if let Some(dir) = std::env::var("KEYWAY_BAO_BIN")
            .ok()
            .and_then(|b| PathBuf::from(b).parent().map(|d| d.to_path_buf()))
        {
            path = format!("{}:{path}", dir.display());
        }
        let out = tokio::process::Command::new("bash")
            .arg(&seed)
            .env("VAULT_ADDR", &bao.addr)
            .env("VAULT_TOKEN", &bao.root_token)
            .env("PATH", path)
            .output()
            .await
            .expect("the demo seed runs");
        assert!(
            out.status.success(),
            "end2end/demo/seed.sh failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let dir = tempfile::tempdir().unwrap();
        let db_url = format!("sqlite://{}/keyway.db?mode=rwc", dir.path().display());
        let mut args = vec![
            "--cluster",
            "off",
            "--environment-kv",
            "dev=dev,staging=staging",
        ];
        args.extend_from_slice(extra);
        Self::build(bao, db_url, dir, &args).await
    }

    /// Like [`TestApp::spawn`], with a bare OpenBao and Keyway's extra flags `extra` (for example
    /// another `--public-url`, which then replaces [`ORIGIN`]).
    pub async fn spawn_with(extra: &[&str]) -> TestApp {
        let bao = Bao::start().await;
        let dir = tempfile::tempdir().unwrap();
        let db_url = format!("sqlite://{}/keyway.db?mode=rwc", dir.path().display());
        let mut args = vec!["--cluster", "off"];
        args.extend_from_slice(extra);
        Self::build(bao, db_url, dir, &args).await
    }

    /// Keyway on the local cluster of `end2end/cluster/up`: its OpenBao (`VAULT_ADDR`,
    /// `VAULT_TOKEN`, seeded by the demo seed) and Keyway's own Kubernetes account
    /// (`KEYWAY_SA_KUBECONFIG`, bound to deploy/base/rbac.yaml only), serving the namespaces that
    /// account has a Role in (`KEYWAY_SA_NAMESPACES`), as deployed.
    pub async fn on_cluster() -> TestApp {
        Self::on_cluster_with(&cluster_env("KEYWAY_SA_KUBECONFIG")).await
    }

    /// Like [`TestApp::on_cluster`], with another kubeconfig for Keyway's account.
    pub async fn on_cluster_with(kubeconfig: &str) -> TestApp {
        Self::on_cluster_serving(kubeconfig, Some(&cluster_env("KEYWAY_SA_NAMESPACES"))).await
    }

    /// Keyway on the local cluster with this kubeconfig, serving these namespaces
    /// (`--namespaces`), or the whole cluster with `None`.
    pub async fn on_cluster_serving(kubeconfig: &str, namespaces: Option<&str>) -> TestApp {
        let bao = Bao::attach(&cluster_env("VAULT_ADDR"), &cluster_env("VAULT_TOKEN"));
        let dir = tempfile::tempdir().unwrap();
        let db_url = format!("sqlite://{}/keyway.db?mode=rwc", dir.path().display());
        let mut args = vec!["--kubeconfig", kubeconfig];
        if let Some(ns) = namespaces {
            args.extend(["--namespaces", ns]);
        }
        let homes = cluster_env("KEYWAY_SA_ENVIRONMENT_KV");
        args.extend(["--environment-kv", homes.as_str()]);
        let auth_mount = cluster_env("KEYWAY_SA_KUBE_AUTH_MOUNT");
        args.extend(["--kube-auth-mount", auth_mount.as_str()]);
        Self::build(bao, db_url, dir, &args).await
    }

    async fn build(bao: Bao, db_url: String, dir: tempfile::TempDir, extra: &[&str]) -> TestApp {
        let mut args = vec![
            "keyway".to_string(),
            "--database-url".into(),
            db_url.clone(),
            "--session-key".into(),
            "ab".repeat(32),
            "--site-root".into(),
            dir.path().to_str().unwrap().into(),
        ];
        if !extra.contains(&"--vault-addr") {
            args.extend(["--vault-addr".into(), bao.addr.clone()]);
        }
        if !extra.contains(&"--public-url") {
            args.extend(["--public-url".into(), ORIGIN.into()]);
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        let cfg = Config::try_parse_from(args).unwrap();
        let (router, state) = keyway_server::build(&cfg).await.expect("app builds");
        TestApp {
            router,
            state,
            bao,
            db_url,
            extra: extra.iter().map(|s| s.to_string()).collect(),
            _dir: dir,
            _postgres: None,
        }
    }

    /// A second Keyway process on the same database, Vault and cluster: what a second replica
    /// behind a load balancer is. It must not outlive `self` (which holds the database).
    pub async fn another_replica(&self) -> TestApp {
        let bao = Bao::attach(&self.bao.addr, &self.bao.root_token);
        let dir = tempfile::tempdir().unwrap();
        let extra: Vec<&str> = self.extra.iter().map(String::as_str).collect();
        Self::build(bao, self.db_url.clone(), dir, &extra).await
    }

    pub fn anonymous(&self) -> Client<'_> {
        Client {
            app: self,
            cookie: None,
        }
    }

    /// Logs in with userpass; panics if it fails.
    pub async fn login(&self, user: &str, pass: &str) -> Client<'_> {
        let mut c = self.anonymous();
        let (status, body) = c.login(user, pass).await;
        assert!(
            status.is_success() || status.is_redirection(),
            "login {user}: {status} {body}"
        );
        assert!(c.cookie.is_some(), "login {user} set no cookie");
        c
    }

    /// Reads the current version of a secret as root, straight from OpenBao.
    pub async fn vault_read(&self, mount: &str, path: &str) -> Value {
        self.bao
            .root_request("GET", &format!("{mount}/data/{path}"), None)
            .await["data"]
            .clone()
    }

    /// Any Vault path, read as root (what a test checks was, or was not, written).
    pub async fn vault_root_get(&self, path: &str) -> Value {
        self.bao.root_request("GET", path, None).await
    }

    /// A token with these creation parameters (`auth/token/create`), as root.
    pub async fn create_token(&self, params: Value) -> String {
        let created = self
            .bao
            .root_request("POST", "auth/token/create", Some(params))
            .await;
        created["auth"]["client_token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Waits (with a deadline) until Keyway's cluster caches have had their first full lists:
    /// a Keyway just started lists no app yet, and a test reading one status once needs this.
    pub async fn cluster_loaded(&self) {
        let k = self
            .state
            .core
            .cluster
            .as_deref()
            .expect("Keyway is on a cluster");
        assert!(
            k.caches
                .wait_ready(std::time::Duration::from_secs(30))
                .await,
            "Keyway's cluster caches did not load within 30 s"
        );
    }

    /// Every audit row, oldest first.
    pub async fn audit_rows(&self) -> Vec<keyway_store::Row> {
        let mut rows = self
            .state
            .core
            .audit
            .list(keyway_store::Filter {
                limit: Some(10_000),
                ..Default::default()
            })
            .await
            .unwrap();
        rows.reverse();
        rows
    }

    /// `GET path` on the main router, no session: the status and the body.
    pub async fn get(&self, path: &str) -> (StatusCode, String) {
        let req = Request::get(path).body(Body::empty()).unwrap();
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The session rows: (stored id, expiry) as the database holds them.
    pub async fn session_rows(&self) -> Vec<(String, String)> {
        if let Some(pool) = self.state.db.sqlite() {
            sqlx::query_as("select id, expiry_date from tower_sessions")
                .fetch_all(pool)
                .await
                .unwrap()
        } else {
            let pool = self.state.db.postgres().expect("SQLite or PostgreSQL");
            sqlx::query_as(r#"select id, expiry_date::text from "tower_sessions"."session""#)
                .fetch_all(pool)
                .await
                .unwrap()
        }
    }

    /// `GET /metrics` on the metrics listener's router, as Prometheus scrapes it.
    pub async fn scrape(&self) -> String {
        let metrics = keyway_server::metrics::serve::router(self.state.clone());
        let req = Request::get("/metrics").body(Body::empty()).unwrap();
        let res = metrics.oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// The value of the one sample `series` (its name and labels exactly as exposed) in a scrape.
pub fn sample(exposition: &str, series: &str) -> Option<f64> {
    exposition.lines().find_map(|l| {
        l.strip_prefix(series)
            .and_then(|rest| rest.strip_prefix(' '))
            .and_then(|v| v.trim().parse().ok())
    })
}

pub struct Client<'a> {
    pub app: &'a TestApp,
    pub cookie: Option<String>,
}

impl Client<'_> {
    pub async fn login(&mut self, user: &str, pass: &str) -> (StatusCode, String) {
        self.login_with(&format!(
            "method=userpass&mount=userpass&username={user}&secret={pass}"
        ))
        .await
    }

    /// Posts the login form with these fields, keeping the session cookie it sets.
    pub async fn login_with(&mut self, body: &str) -> (StatusCode, String) {
        let body = body.to_string();
        let req = self
            .request("/api/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        let (status, headers, body) = self.send(req).await;
        self.take_cookie(&headers);
        (status, body)
    }

    fn request(&self, path: &str) -> axum::http::request::Builder {
        let mut b = Request::post(path)
            .header(header::ORIGIN, ORIGIN)
            .header(header::ACCEPT, "application/json");
        if let Some(c) = &self.cookie {
            b = b.header(header::COOKIE, c);
        }
        b
    }

    fn take_cookie(&mut self, headers: &axum::http::HeaderMap) {
        if let Some(v) = headers.get(header::SET_COOKIE) {
            let v = v.to_str().unwrap();
            self.cookie = Some(v.split(';').next().unwrap().to_string());
        }
    }

    pub async fn send(&self, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
        let res = self.app.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (status, headers, String::from_utf8_lossy(&bytes).to_string())
    }

    /// Calls a JSON server function; returns the status and the decoded body.
    pub async fn call(&mut self, endpoint: &str, args: Value) -> (StatusCode, Value) {
        let req = self
            .request(&format!("/api/{endpoint}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(args.to_string()))
            .unwrap();
        let (status, headers, body) = self.send(req).await;
        self.take_cookie(&headers);
        let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
        (status, value)
    }

    /// Calls and expects success.
    pub async fn ok(&mut self, endpoint: &str, args: Value) -> Value {
        let (status, body) = self.call(endpoint, args).await;
        assert!(status.is_success(), "{endpoint}: {status} {body}");
        body
    }
}

/// A TCP relay to `upstream` that accepts connections at once but lets no byte through until
/// [`HeldRelay::release`]: a cluster that is reachable yet has not answered its first lists
/// (a slow apiserver, or Keyway's first seconds). Only the timing is faked; the answers, once
/// released, are the real apiserver's.
pub struct HeldRelay {
    pub port: u16,
    open: tokio::sync::watch::Sender<bool>,
    accepted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl HeldRelay {
    pub async fn start(upstream: &str) -> HeldRelay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (open, gate) = tokio::sync::watch::channel(false);
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = accepted.clone();
        let upstream = upstream.to_string();
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut gate = gate.clone();
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    if gate.wait_for(|open| *open).await.is_err() {
                        return;
                    }
                    let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                });
            }
        });
        HeldRelay {
            port,
            open,
            accepted,
            task,
        }
    }

    /// How many connections it has accepted so far.
    pub fn connections(&self) -> usize {
        self.accepted.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Lets every held and future connection through.
    pub fn release(&self) {
        self.open.send_replace(true);
    }
}

impl Drop for HeldRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}
