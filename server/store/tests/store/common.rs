//! Fresh databases for tests, and the macro that runs one test body on both backends.

use std::str::FromStr;

use keyway_store::{Action, AuditLog, Db, NewEvent};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, Executor};

/// The PostgreSQL server to create per-test databases on (`KEYWAY_TEST_POSTGRES_URL`; the role
/// must be allowed to create databases). Panics with a clear message when unset.
pub use keyway_testkit::postgres_url;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database that exists only for one test.
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    pub db: Db,
    _sqlite_dir: Option<tempfile::TempDir>,
    _postgres: Option<DropDatabase>,
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => TestDb::sqlite().await,
            Backend::Postgres => TestDb::postgres().await,
        }
    }

    async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("keyway.db").display()
        );
        let db = Db::connect(&url).await.expect("SQLite opens and migrates");
        TestDb {
            backend: Backend::Sqlite,
            url,
            db,
            _sqlite_dir: Some(dir),
            _postgres: None,
        }
    }

    async fn postgres() -> TestDb {
        let admin_url = postgres_url();
        let name = format!("keyway_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .expect("the PostgreSQL named by KEYWAY_TEST_POSTGRES_URL answers");
        admin
            .execute(format!("CREATE DATABASE \"{name}\"").as_str())
            .await
            .expect("the test role may create databases");
        admin.close().await.ok();
        let guard = DropDatabase {
            admin_url: admin_url.clone(),
            name: name.clone(),
        };
        let mut url = url::Url::parse(&admin_url).expect("KEYWAY_TEST_POSTGRES_URL is a URL");
        url.set_path(&format!("/{name}"));
        let url = url.to_string();
        let db = Db::connect(&url)
            .await
            .expect("PostgreSQL opens and migrates");
        TestDb {
            backend: Backend::Postgres,
            url,
            db,
            _sqlite_dir: None,
            _postgres: Some(guard),
        }
    }

    /// A second, independent pool on the same database: what another replica would hold.
    pub async fn another_replica(&self) -> Db {
        Db::connect(&self.url).await.expect("a second pool opens")
    }

    pub fn log(&self) -> AuditLog {
        AuditLog::new(self.db.clone())
    }

    /// Runs raw SQL on the database behind the store's back; returns the database's error text.
    pub async fn raw(&self, sql: &str) -> Result<u64, String> {
        let result = match self.backend {
            Backend::Sqlite => {
                let pool = self.db.sqlite().expect("a SQLite pool");
                pool.execute(sql).await.map(|r| r.rows_affected())
            }
            Backend::Postgres => {
                let pool = self.db.postgres().expect("a PostgreSQL pool");
                pool.execute(sql).await.map(|r| r.rows_affected())
            }
        };
        result.map_err(|e| e.to_string())
    }

    /// One integer from a raw query (`SELECT count(*) …`).
    pub async fn raw_count(&self, sql: &str) -> i64 {
        match self.backend {
            Backend::Sqlite => sqlx::query_scalar(sql)
                .fetch_one(self.db.sqlite().unwrap())
                .await
                .unwrap(),
            Backend::Postgres => sqlx::query_scalar(sql)
                .fetch_one(self.db.postgres().unwrap())
                .await
                .unwrap(),
        }
    }
}

/// Drops the per-test PostgreSQL database, even when the test panicked. `Drop` cannot await, so it
/// runs the statement on a short-lived runtime in its own thread.
struct DropDatabase {
    admin_url: String,
    name: String,
}

impl Drop for DropDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async {
                let options = PgConnectOptions::from_str(&admin_url)?;
                let mut admin = options.connect().await?;
                admin.execute(sql.as_str()).await?;
                admin.close().await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test database {}", self.name);
        }
    }
}

/// `actor` doing `action` on the secret `dev/webapp/config`.
pub fn event(actor: &str, action: Action) -> NewEvent {
    NewEvent::new(actor, action)
        .entity(format!("entity-{actor}"))
        .secret("dev", "webapp/config")
}

/// `actor` saving `dev/webapp/config`.
pub fn save_by(actor: &str) -> NewEvent {
    event(actor, keyway_store::Action::SecretSave)
}

/// `on_both_backends!(name)` turns `async fn name(t: TestDb)` into the tests `name::on_sqlite` and
/// `name::on_postgres`.
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            use $crate::common::{Backend, TestDb};

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                super::$name(TestDb::new(Backend::Sqlite).await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                super::$name(TestDb::new(Backend::Postgres).await).await;
            }
        }
    )+};
}
pub(crate) use on_both_backends;
