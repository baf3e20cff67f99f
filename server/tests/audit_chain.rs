//! `keyway audit verify`, run as the real binary on a real database: exit status 0 and the chain
//! head on a whole chain; 1 and the first bad row, in words, once the database's owner has
//! tampered with it (raw SQL, triggers switched off); and the chain head Keyway publishes at start
//! and periodically is what shows rows cut off the end.

use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use keyway_server::audit_head::{publish_now_and_every, HeadWitness};
use keyway_store::{Action, AuditLog, Checkpoint, Db, NewEvent};
use keyway_testkit::TempDatabase;
use sqlx::{Connection, Executor};

/// A database for one test, with four logins in its audit log.
struct Logged {
    url: String,
    log: AuditLog,
    head: Checkpoint,
    postgres: bool,
    _dir: Option<tempfile::TempDir>,
    _pg: Option<TempDatabase>,
}

impl Logged {
    async fn sqlite() -> Logged {
        let dir = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("keyway.db").display()
        );
        Logged::with(url, Some(dir), None).await
    }

    async fn postgres(test: &str) -> Option<Logged> {
        let pg = TempDatabase::create_or_skip(test).await?;
        Some(Logged::with(pg.url.clone(), None, Some(pg)).await)
    }

    async fn with(url: String, dir: Option<tempfile::TempDir>, pg: Option<TempDatabase>) -> Logged {
        let log = AuditLog::new(Db::connect(&url).await.unwrap());
        let mut head = None;
        for actor in ["alice", "bob", "carol", "dave"] {
            head = Some(
                log.record(NewEvent::new(actor, Action::Login))
                    .await
                    .unwrap(),
            );
        }
        Logged {
            postgres: pg.is_some(),
            url,
            log,
            head: head.unwrap().into(),
            _dir: dir,
            _pg: pg,
        }
    }

    /// Raw SQL as the database's owner, on a connection of its own.
    async fn owner_runs(&self, statements: &[&str]) {
        if self.postgres {
            let mut conn = sqlx::PgConnection::connect(&self.url).await.unwrap();
            for sql in statements {
                conn.execute(*sql).await.unwrap();
            }
        } else {
            let mut conn = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
            for sql in statements {
                conn.execute(*sql).await.unwrap();
            }
        }
    }

    fn switch_off_update_and_delete(&self) -> Vec<&'static str> {
        if self.postgres {
            vec!["ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete"]
        } else {
            vec![
                "DROP TRIGGER audit_log_no_update",
                "DROP TRIGGER audit_log_no_delete",
            ]
        }
    }

    fn verify(&self, heads: &[&Checkpoint]) -> (Option<i32>, String) {
        let mut args = vec!["audit".to_string(), "verify".to_string()];
        for head in heads {
            args.extend(["--head".to_string(), head.to_string()]);
        }
        let out: Output = std::process::Command::new(env!("CARGO_BIN_EXE_keyway"))
            .args(&args)
            .env("KEYWAY_DATABASE_URL", &self.url)
            .output()
            .expect("the keyway binary runs");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        (out.status.code(), stdout)
    }
}

async fn verify_tells_a_whole_chain_from_a_tampered_one(t: Logged) {
    let (code, out) = t.verify(&[&t.head]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(
        out.trim(),
        format!(
            "The audit log is whole: 4 row(s), chain head {}. The 1 published head(s) given are in place.",
            t.head
        )
    );

    let mut tamper = t.switch_off_update_and_delete();
    tamper.push("UPDATE audit_log SET actor_name = 'mallory' WHERE seq = 2");
    t.owner_runs(&tamper).await;
    let (code, out) = t.verify(&[]);
    assert_eq!(code, Some(1), "{out}");
    let first_line = out.lines().next().unwrap();
    assert!(
        first_line.starts_with(
            "The audit log is NOT whole: row 2 no longer matches its hash (it was changed after it \
             was written); it reads: "
        ) && first_line.ends_with(" mallory login ok."),
        "{out}"
    );
    assert!(out.contains("4 row(s) checked."), "{out}");
}

async fn only_the_published_head_shows_rows_cut_off_the_end(t: Logged) {
    let mut cut = t.switch_off_update_and_delete();
    cut.push("DELETE FROM audit_log WHERE seq >= 3");
    t.owner_runs(&cut).await;

    let (code, out) = t.verify(&[]);
    assert_eq!(code, Some(0), "the shorter chain is whole by itself: {out}");
    let (code, out) = t.verify(&[&t.head]);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(
        out.lines().next().unwrap(),
        "The audit log is NOT whole: row 4, published as a chain head, is no longer in the log \
         (rows were cut off its end)."
    );
    assert_eq!(t.log.head().await.unwrap().map(|h| h.seq), Some(2));
}

#[tokio::test]
async fn verify_tells_a_whole_chain_from_a_tampered_one_on_sqlite() {
    verify_tells_a_whole_chain_from_a_tampered_one(Logged::sqlite().await).await;
}

#[tokio::test]
async fn verify_tells_a_whole_chain_from_a_tampered_one_on_postgres() {
    let test = "verify_tells_a_whole_chain_from_a_tampered_one_on_postgres";
    let Some(t) = Logged::postgres(test).await else {
        return;
    };
    verify_tells_a_whole_chain_from_a_tampered_one(t).await;
}

#[tokio::test]
async fn only_the_published_head_shows_rows_cut_off_the_end_on_sqlite() {
    only_the_published_head_shows_rows_cut_off_the_end(Logged::sqlite().await).await;
}

#[tokio::test]
async fn only_the_published_head_shows_rows_cut_off_the_end_on_postgres() {
    let test = "only_the_published_head_shows_rows_cut_off_the_end_on_postgres";
    let Some(t) = Logged::postgres(test).await else {
        return;
    };
    only_the_published_head_shows_rows_cut_off_the_end(t).await;
}

#[test]
fn verify_on_a_database_that_is_not_there_exits_2_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("missing.db");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_keyway"))
        .args(["audit", "verify"])
        .env(
            "KEYWAY_DATABASE_URL",
            format!("sqlite://{}?mode=rwc", file.display()),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).lines().last(),
        Some("keyway: database: The database could not be opened.")
    );
    assert!(!file.exists(), "verify is read-only");
}

/// Records what it is handed. The log witness prints the same; this lets the test see it.
#[derive(Default)]
struct Recording(Mutex<Vec<Option<Checkpoint>>>);

#[async_trait]
impl HeadWitness for Recording {
    async fn publish(&self, head: Option<&Checkpoint>) -> Result<(), String> {
        self.0.lock().unwrap().push(head.cloned());
        Ok(())
    }
}

#[tokio::test]
async fn the_chain_head_is_published_at_start_and_again_each_period() {
    let t = Logged::sqlite().await;
    let witness = Arc::new(Recording::default());
    let every = Duration::from_millis(50);
    let task = publish_now_and_every(t.log.clone(), witness.clone(), every).await;
    assert_eq!(
        *witness.0.lock().unwrap(),
        [Some(t.head.clone())],
        "published once before serving starts"
    );

    let newer: Checkpoint = t
        .log
        .record(NewEvent::new("erin", Action::Login))
        .await
        .unwrap()
        .into();
    let published = keyway_testkit::eventually(
        "the new head is published a period later",
        Duration::from_secs(10),
        async || {
            let seen = witness.0.lock().unwrap().clone();
            (seen.last() == Some(&Some(newer.clone()))).then_some(seen)
        },
    )
    .await;
    assert!(published.len() >= 2, "{published:?}");
    task.abort();
}
