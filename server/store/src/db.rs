//! One pool, chosen by URL: SQLite for the single-binary default, PostgreSQL when several replicas
//! share state.
//!
//! Migrations are embedded at compile time and run on connect when the schema is behind (see
//! [`crate::schema`]); a failed migration is an error, so boot stops instead of serving on a
//! half-made schema. The pools are exposed so that the sessions store can reuse the same
//! connections instead of opening its own.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::{schema, StoreError};

/// How long a SQLite connection waits for another writer before giving up with SQLITE_BUSY.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a caller waits for a free pooled connection before the call fails.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// Which database a [`Db`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        })
    }
}

#[derive(Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to whichever concrete pool `$db` holds. The body is expanded
/// once per backend, so code written once type-checks against both `sqlx` drivers.
macro_rules! with_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db.pool() {
            $crate::db::Pool::Sqlite($pool) => $body,
            $crate::db::Pool::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

/// The database handle: cheap to clone (the pool inside is reference-counted).
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    /// Queues this process's SQLite audit writers in FIFO order before `BEGIN IMMEDIATE`, so they
    /// do not spin in SQLite's sleeping busy handler against each other (that cut throughput
    /// with 8 writers to half of one writer's). Other processes are still held off by SQLite's
    /// own lock; PostgreSQL does not use it.
    write_gate: Arc<tokio::sync::Mutex<()>>,
}

impl fmt::Debug for Db {
    // Hand-written so that no connect option (a password in a URL) can ever reach a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend())
            .finish()
    }
}

impl Db {
    /// Opens a pool and brings the schema up to date: the embedded migrations run when one is
    /// missing, and only then, so a role that owns nothing can serve a database its owner
    /// migrated (`keyway migrate`, [`Db::migrate`]).
    ///
    /// Accepts `sqlite://path?mode=rwc`, `sqlite:path`, `sqlite::memory:` and
    /// `postgres://user:pass@host/db` (or `postgresql://`). SQLite is opened in WAL mode with
    /// foreign keys on, `synchronous=FULL` (an acknowledged audit row survives power loss) and a
    /// 5 s busy timeout. An in-memory SQLite database gets a single, never-recycled connection:
    /// it lives exactly as long as that connection, and one connection also serialises writers.
    pub async fn connect(url: &str) -> Result<Db, StoreError> {
        let db = Db::open(url, Access::ReadWrite).await?;
        if schema::pending(&db).await > 0 {
            schema::run(&db).await?;
        }
        tracing::info!(backend = %db.backend(), "database ready");
        Ok(db)
    }

    /// Opens a pool that can only read, and leaves the schema as it is: for checking the audit
    /// log (`keyway audit verify`). A SQLite file that does not exist is an error, not created.
    pub async fn connect_read_only(url: &str) -> Result<Db, StoreError> {
        Db::open(url, Access::ReadOnly).await
    }

    /// Opens a pool, runs every pending migration and closes the pool again (`keyway migrate`,
    /// as the role that owns the schema). Returns how many migrations were applied.
    pub async fn migrate(url: &str) -> Result<usize, StoreError> {
        let db = Db::open(url, Access::ReadWrite).await?;
        let applied = schema::run(&db).await;
        db.close().await;
        applied
    }

    async fn open(url: &str, access: Access) -> Result<Db, StoreError> {
        let pool = if url.starts_with("sqlite:") {
            Pool::Sqlite(connect_sqlite(url, access).await?)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Pool::Postgres(connect_postgres(url, access).await?)
        } else {
            return Err(StoreError::UnsupportedUrl);
        };
        Ok(Db {
            pool,
            write_gate: Arc::default(),
        })
    }

    /// Which backend this handle talks to.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// The SQLite pool, when this is a SQLite database (for the sessions store).
    pub fn sqlite(&self) -> Option<&SqlitePool> {
        match &self.pool {
            Pool::Sqlite(pool) => Some(pool),
            Pool::Postgres(_) => None,
        }
    }

    /// The PostgreSQL pool, when this is a PostgreSQL database (for the sessions store).
    pub fn postgres(&self) -> Option<&PgPool> {
        match &self.pool {
            Pool::Postgres(pool) => Some(pool),
            Pool::Sqlite(_) => None,
        }
    }

    /// A round trip to the database, for readiness probes.
    pub async fn ping(&self) -> Result<(), StoreError> {
        with_pool!(self, |pool| sqlx::query("SELECT 1")
            .execute(pool)
            .await
            .map(|_| ()))
        .map_err(StoreError::Unavailable)
    }

    /// Proves the database takes writes: rewrites the one row of `readiness_probe` (never the
    /// audit log, which only grows). For `/readyz`.
    pub async fn prove_writable(&self) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO readiness_probe (id, checked_at_ms) VALUES (1, $1) \
             ON CONFLICT (id) DO UPDATE SET checked_at_ms = excluded.checked_at_ms";
        let now = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
        with_pool!(self, |pool| sqlx::query(SQL)
            .bind(now)
            .execute(pool)
            .await
            .map(|_| ()))
        .map_err(StoreError::Unavailable)
    }

    /// Closes the pool (graceful shutdown). Every later call on any clone fails.
    pub async fn close(&self) {
        with_pool!(self, |pool| pool.close().await)
    }

    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }

    pub(crate) fn write_gate(&self) -> &tokio::sync::Mutex<()> {
        &self.write_gate
    }
}

/// Whether a pool may write. A read-only pool is refused every write by the database itself.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    ReadWrite,
    ReadOnly,
}

async fn connect_sqlite(url: &str, access: Access) -> Result<SqlitePool, StoreError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(StoreError::Connect)?
        .foreign_keys(true)
        .busy_timeout(SQLITE_BUSY_TIMEOUT);
    let options = match access {
        Access::ReadWrite => options
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full),
        // Setting the journal mode is a write; the file keeps the WAL mode Keyway gave it.
        Access::ReadOnly => options.read_only(true).create_if_missing(false),
    };
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    let pool_options = if in_memory {
        SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
    } else {
        SqlitePoolOptions::new().max_connections(8)
    };
    pool_options
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(StoreError::Connect)
}

async fn connect_postgres(url: &str, access: Access) -> Result<PgPool, StoreError> {
    let mut options = PgConnectOptions::from_str(url).map_err(StoreError::Connect)?;
    if access == Access::ReadOnly {
        options = options.options([("default_transaction_read_only", "on")]);
    }
    PgPoolOptions::new()
        .max_connections(10)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(StoreError::Connect)
}
