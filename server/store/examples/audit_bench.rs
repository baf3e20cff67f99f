//! Appends N audit rows (default 2,000) on SQLite and on PostgreSQL and prints rows per second,
//! one writer and eight concurrent writers, and the SQLite/PostgreSQL ratio. For sizing, not a
//! test: nothing here asserts a speed.
//!
//! ```text
//! KEYWAY_TEST_POSTGRES_URL=postgres://keyway:keyway@127.0.0.1:5432/keyway \
//!     cargo run --release -p keyway-store --example audit_bench -- 2000
//! ```
//!
//! PostgreSQL is skipped when `KEYWAY_TEST_POSTGRES_URL` is unset; otherwise a database
//! `keyway_bench_<uuid>` is created there and dropped afterwards.

use std::time::Instant;

use keyway_store::{Action, AuditLog, Db, NewEvent};
use sqlx::{Connection, Executor};

const CONCURRENT_WRITERS: usize = 8;

#[tokio::main]
async fn main() {
    let rows: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse().expect("the argument is a row count"))
        .unwrap_or(2_000);

    let dir = tempfile::tempdir().expect("a temporary directory");
    let sqlite_url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    let sqlite = bench("sqlite", &sqlite_url, rows).await;

    let Ok(admin_url) = std::env::var("KEYWAY_TEST_POSTGRES_URL") else {
        println!("postgres: skipped (KEYWAY_TEST_POSTGRES_URL is not set)");
        return;
    };
    let name = format!("keyway_bench_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .expect("PostgreSQL answers");
    admin
        .execute(format!("CREATE DATABASE \"{name}\"").as_str())
        .await
        .expect("the role may create databases");
    let mut url = url::Url::parse(&admin_url).expect("a URL");
    url.set_path(&format!("/{name}"));
    let postgres = bench("postgres", url.as_str(), rows).await;
    admin
        .execute(format!("DROP DATABASE \"{name}\" WITH (FORCE)").as_str())
        .await
        .expect("the bench database is dropped");

    println!(
        "ratio sqlite/postgres: {:.2} (1 writer), {:.2} ({CONCURRENT_WRITERS} writers)",
        sqlite.0 / postgres.0,
        sqlite.1 / postgres.1
    );
}

/// Rows per second with one writer, then with several, each appending `rows` rows.
async fn bench(label: &str, url: &str, rows: usize) -> (f64, f64) {
    let db = Db::connect(url).await.expect("the database opens");
    let log = AuditLog::new(db.clone());

    let started = Instant::now();
    for i in 0..rows {
        log.record(event(i)).await.expect("append");
    }
    let single = rows as f64 / started.elapsed().as_secs_f64();

    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..CONCURRENT_WRITERS {
        let log = log.clone();
        tasks.spawn(async move {
            for i in (w..rows).step_by(CONCURRENT_WRITERS) {
                log.record(event(i)).await.expect("append");
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("writer task");
    }
    let concurrent = rows as f64 / started.elapsed().as_secs_f64();

    let started = Instant::now();
    let report = log.verify_chain().await.expect("verify");
    assert!(report.ok, "the chain verifies");
    let verify = report.rows as f64 / started.elapsed().as_secs_f64();
    println!(
        "{label}: {single:.0} rows/s (1 writer), {concurrent:.0} rows/s ({CONCURRENT_WRITERS} writers), \
         verify_chain {verify:.0} rows/s over {} rows",
        report.rows
    );
    db.close().await;
    (single, concurrent)
}

fn event(i: usize) -> NewEvent {
    NewEvent::new(format!("user-{}", i % 17), Action::SecretSave)
        .secret("dev", format!("app-{}/config", i % 5))
        .versions(Some(i as i64), Some(i as i64 + 1))
        .keys(["DB_URL"], ["API_KEY", "TOKEN"], Vec::<String>::new())
        .request(format!("req-{i}"), "127.0.0.1")
}
