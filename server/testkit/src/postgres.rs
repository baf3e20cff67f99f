//! The test PostgreSQL server and throwaway databases on it.
//!
//! The server is named by `KEYWAY_TEST_POSTGRES_URL` (`eval "$(./end2end/run pg-up)"` starts one
//! and prints the export; `./end2end/run test` does both). Without it, a PostgreSQL test on a
//! developer's machine is skipped and says so on stderr, so plain `cargo test` stays usable; in
//! CI (`CI=true`) it fails instead, so a missing database can never pass as green.
//!
//! Each test gets its own database ([`TempDatabase`]), dropped when the handle goes, even when
//! the test panicked.

use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, Executor};

const VAR: &str = "KEYWAY_TEST_POSTGRES_URL";

fn configured() -> Option<String> {
    std::env::var(VAR).ok().filter(|url| !url.trim().is_empty())
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The PostgreSQL URL the test runner provides in `KEYWAY_TEST_POSTGRES_URL`.
///
/// Panics when it is unset: for a test that must not run without PostgreSQL. Most tests want
/// [`postgres_url_or_skip`].
pub fn postgres_url() -> String {
    configured().unwrap_or_else(|| {
        panic!(
            "{VAR} is not set: run the tests through ./end2end/run test, which starts PostgreSQL, \
             or after `eval \"$(./end2end/run pg-up)\"`"
        )
    })
}

/// The PostgreSQL URL, or None after printing why `test` is skipped. Panics in CI (`CI=true`)
/// when it is unset.
pub fn postgres_url_or_skip(test: &str) -> Option<String> {
    if let Some(url) = configured() {
        return Some(url);
    }
    assert!(
        !in_ci(),
        "{test}: {VAR} is not set and CI=true: a PostgreSQL test must run in CI \
         (./end2end/run test starts PostgreSQL)"
    );
    eprintln!(
        "SKIPPED {test}: no PostgreSQL configured ({VAR} is unset). \
         Run `eval \"$(./end2end/run pg-up)\"` first to include it; in CI this fails instead."
    );
    None
}

/// A database that exists for one test; dropped (`WITH (FORCE)`) when this goes.
pub struct TempDatabase {
    /// Connects to the new database.
    pub url: String,
    /// Its name.
    pub name: String,
    admin_url: String,
}

impl TempDatabase {
    /// A fresh, uniquely named database on the server at `admin_url` (its role must be allowed
    /// to create databases).
    pub async fn create(admin_url: &str) -> TempDatabase {
        let name = format!("keyway_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(admin_url)
            .await
            .unwrap_or_else(|e| panic!("the PostgreSQL named by {VAR} answers: {e}"));
        admin
            .execute(format!("CREATE DATABASE \"{name}\"").as_str())
            .await
            .expect("the test role may create databases");
        admin.close().await.ok();
        let mut url = url::Url::parse(admin_url).expect("KEYWAY_TEST_POSTGRES_URL is a URL");
        url.set_path(&format!("/{name}"));
        TempDatabase {
            url: url.to_string(),
            name,
            admin_url: admin_url.to_string(),
        }
    }

    /// [`TempDatabase::create`] on the configured server, or None when `test` is skipped
    /// ([`postgres_url_or_skip`]).
    pub async fn create_or_skip(test: &str) -> Option<TempDatabase> {
        let admin = postgres_url_or_skip(test)?;
        Some(TempDatabase::create(&admin).await)
    }

    /// Whether a database of this name exists on the server at `admin_url`.
    pub async fn exists(admin_url: &str, name: &str) -> bool {
        let mut admin = sqlx::PgConnection::connect(admin_url)
            .await
            .expect("PostgreSQL answers");
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname = $1")
            .bind(name)
            .fetch_one(&mut admin)
            .await
            .expect("pg_database is readable");
        admin.close().await.ok();
        n > 0
    }
}

impl Drop for TempDatabase {
    /// `Drop` cannot await, so the statement runs on a short-lived runtime in its own thread.
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
