//! Fresh databases for tests, and the macro that runs one test body on both backends.

use keyway_store::{Action, AuditLog, Db, NewEvent};
use keyway_testkit::TempDatabase;
use sqlx::Executor;

/// The PostgreSQL server to create per-test databases on (`KEYWAY_TEST_POSTGRES_URL`; the role
/// must be allowed to create databases).
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
    _postgres: Option<TempDatabase>,
}

impl TestDb {
    /// A PostgreSQL database for `test`, or None when none is configured outside CI (it says
    /// so on stderr; in CI it fails instead).
    pub async fn postgres_or_skip(test: &str) -> Option<TestDb> {
        let temp = TempDatabase::create_or_skip(test).await?;
        Some(TestDb::postgres(temp).await)
    }

    /// A database whose schema stops before migration `version`, with `setup` run on it as raw
    /// SQL (rows an older Keyway wrote), then opened as Keyway opens it, which migrates the rest.
    /// None when PostgreSQL is asked for and none is configured.
    pub async fn from_older_schema(
        backend: Backend,
        test: &str,
        version: i64,
        setup: &[String],
    ) -> Option<TestDb> {
        let folder = match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        };
        let all = format!("{}/../../migrations/{folder}", env!("CARGO_MANIFEST_DIR"));
        let older = tempfile::tempdir().expect("a temporary directory");
        for entry in std::fs::read_dir(&all).expect("the migrations folder") {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let number: i64 = name[..4]
                .parse()
                .expect("migrations start with their number");
            if number < version {
                std::fs::copy(&path, older.path().join(&name)).unwrap();
            }
        }
        let migrator = sqlx::migrate::Migrator::new(older.path()).await.unwrap();
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("keyway.db").display()
                );
                let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
                migrator.run(&pool).await.unwrap();
                for sql in setup {
                    pool.execute(sql.as_str()).await.unwrap();
                }
                pool.close().await;
                let db = Db::connect(&url).await.expect("SQLite migrates the rest");
                Some(TestDb {
                    backend,
                    url,
                    db,
                    _sqlite_dir: Some(dir),
                    _postgres: None,
                })
            }
            Backend::Postgres => {
                let temp = TempDatabase::create_or_skip(test).await?;
                let pool = sqlx::PgPool::connect(&temp.url).await.unwrap();
                migrator.run(&pool).await.unwrap();
                for sql in setup {
                    pool.execute(sql.as_str()).await.unwrap();
                }
                pool.close().await;
                Some(TestDb::postgres(temp).await)
            }
        }
    }

    pub async fn sqlite() -> TestDb {
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

    async fn postgres(temp: TempDatabase) -> TestDb {
        let url = temp.url.clone();
        let db = Db::connect(&url)
            .await
            .expect("PostgreSQL opens and migrates");
        TestDb {
            backend: Backend::Postgres,
            url,
            db,
            _sqlite_dir: None,
            _postgres: Some(temp),
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

/// As the database's owner would: every trigger on the audit tables switched off (SQLite: dropped),
/// so rows can be changed, deleted and inserted anywhere.
pub async fn switch_off_triggers(t: &TestDb) {
    let statements: &[&str] = match t.backend {
        Backend::Sqlite => &[
            "DROP TRIGGER audit_log_no_update",
            "DROP TRIGGER audit_log_no_delete",
            "DROP TRIGGER audit_log_extends_tip",
            "DROP TRIGGER audit_log_no_replace",
            "DROP TRIGGER audit_key_no_update",
            "DROP TRIGGER audit_key_no_delete",
        ],
        Backend::Postgres => &[
            "ALTER TABLE audit_log DISABLE TRIGGER USER",
            "ALTER TABLE audit_key DISABLE TRIGGER USER",
        ],
    };
    for sql in statements {
        t.raw(sql).await.unwrap();
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
            use $crate::common::TestDb;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                super::$name(TestDb::sqlite().await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                let test = concat!(stringify!($name), "::on_postgres");
                let Some(t) = TestDb::postgres_or_skip(test).await else { return };
                super::$name(t).await;
            }
        }
    )+};
}
pub(crate) use on_both_backends;
