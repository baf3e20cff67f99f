//! The database schema: the embedded migrations, whether a database already has them all, and
//! running them.
//!
//! Keyway can serve as a role that owns nothing (on PostgreSQL: only SELECT and INSERT on the
//! audit log, see `deploy/postgres-grants.sql`), so that it cannot switch off the triggers that
//! keep the log append-only. Such a role may not run sqlx's migrator at all (it creates its
//! bookkeeping table even when there is nothing to do), so [`Db::connect`](crate::Db::connect)
//! first reads `_sqlx_migrations` and runs the migrator only when a migration is missing, failed
//! or changed. With one role for everything (the SQLite default) that is the old behaviour:
//! whatever is behind is migrated at boot. With a separate owner, `keyway migrate` runs
//! [`run`] as the owner, and a serving role that finds the schema behind stops boot with a
//! sentence saying so ([`StoreError::MigrateDenied`]).

use std::collections::HashMap;

use sqlx::migrate::{MigrateError, Migrator};

use crate::db::{with_pool, Pool};
use crate::{Db, StoreError};

static SQLITE: Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("../../migrations/postgres");

/// PostgreSQL's insufficient_privilege.
const INSUFFICIENT_PRIVILEGE: &str = "42501";

fn migrator(db: &Db) -> &'static Migrator {
    match db.pool() {
        Pool::Sqlite(_) => &SQLITE,
        Pool::Postgres(_) => &POSTGRES,
    }
}

/// Embedded migrations that the database does not hold, applied and unchanged. Unreadable
/// bookkeeping (no table yet, or no right to read it) counts as all of them.
pub(crate) async fn pending(db: &Db) -> usize {
    let sql = "SELECT version, checksum, success FROM _sqlx_migrations";
    let applied: Vec<(i64, Vec<u8>, bool)> =
        match with_pool!(db, |pool| sqlx::query_as(sql).fetch_all(pool).await) {
            Ok(rows) => rows,
            Err(_) => return migrator(db).iter().count(),
        };
    if applied.iter().any(|(_, _, success)| !success) {
        // A failed migration: let the migrator say so.
        return migrator(db).iter().count().max(1);
    }
    let applied: HashMap<i64, Vec<u8>> = applied
        .into_iter()
        .map(|(version, checksum, _)| (version, checksum))
        .collect();
    let migrator = migrator(db);
    let missing = migrator
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .filter(|m| applied.get(&m.version).map(Vec::as_slice) != Some(&*m.checksum))
        .count();
    // A version this build does not know (a newer Keyway migrated): the migrator refuses it.
    let unknown = applied
        .keys()
        .filter(|version| !migrator.version_exists(**version))
        .count();
    missing + unknown
}

/// Runs the migrator: applies what is missing, refuses a database whose applied migrations
/// differ from the embedded ones. Returns how many migrations were pending before.
pub(crate) async fn run(db: &Db) -> Result<usize, StoreError> {
    let before = pending(db).await;
    // On one connection, closed if the migrator fails: it returns early without releasing its
    // session advisory lock, which would otherwise stall the next migrator (`keyway migrate`).
    let result = match db.pool() {
        Pool::Sqlite(pool) => run_on(&SQLITE, pool).await,
        Pool::Postgres(pool) => run_on(&POSTGRES, pool).await,
    };
    result.map_err(|err| {
        tracing::error!(error = %err, "database migration failed");
        if denied(&err) {
            StoreError::MigrateDenied(err)
        } else {
            StoreError::Migrate(err)
        }
    })?;
    Ok(before)
}

async fn run_on<DB>(migrator: &Migrator, pool: &sqlx::Pool<DB>) -> Result<(), MigrateError>
where
    DB: sqlx::Database,
    DB::Connection: sqlx::migrate::Migrate,
{
    let mut conn = pool.acquire().await?;
    let result = migrator.run_direct(&mut *conn).await;
    if result.is_err() {
        let _ = conn.close().await;
    }
    result
}

fn denied(err: &MigrateError) -> bool {
    let db_err = match err {
        MigrateError::Execute(e) | MigrateError::ExecuteMigration(e, _) => e.as_database_error(),
        _ => None,
    };
    db_err.is_some_and(|e| e.code().as_deref() == Some(INSUFFICIENT_PRIVILEGE))
}
