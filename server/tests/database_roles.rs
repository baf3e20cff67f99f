//! On PostgreSQL Keyway can serve as a role that owns nothing, set up exactly as deploy/README.md
//! says: `keyway migrate` as the owner, then `deploy/postgres-grants.sql`. That role logs users in,
//! saves secrets, appends audit rows and cluster observations, and cannot change or remove an
//! audit row, nor switch off the triggers that forbid it. Real OpenBao, real PostgreSQL, the real
//! `keyway` binary.

mod common;

use std::process::Output;

use common::{DbKind, TestApp};
use keyway_store::observations::{NewObservation, Observations, ObservedApp, Seen};
use keyway_store::{AuditLog, Db, StoreError};
use keyway_testkit::TempDatabase;
use serde_json::json;
use sqlx::{Connection, Executor, PgConnection};

/// Two login roles made for one test (roles are server-wide), dropped with it.
struct Roles {
    owner: String,
    app: String,
    admin_url: String,
}

impl Roles {
    async fn create(db: &TempDatabase) -> Roles {
        let suffix = &db.name["keyway_test_".len()..];
        let roles = Roles {
            owner: format!("kw_owner_{suffix}"),
            app: format!("kw_app_{suffix}"),
            admin_url: keyway_testkit::postgres_url(),
        };
        // As deploy/README.md: the owner owns the database; the app role only logs in.
        let setup = format!(
            "CREATE ROLE {o} LOGIN; CREATE ROLE {a} LOGIN; ALTER DATABASE {d} OWNER TO {o};",
            o = roles.owner,
            a = roles.app,
            d = db.name,
        );
        exec(&roles.admin_url, &setup).await.unwrap();
        roles
    }

    fn url(&self, db: &TempDatabase, role: &str) -> String {
        let mut url = url::Url::parse(&db.url).unwrap();
        url.set_username(role).unwrap();
        url.set_password(None).unwrap();
        url.to_string()
    }
}

impl Drop for Roles {
    fn drop(&mut self) {
        let (admin, owner, app) = (self.admin_url.clone(), self.owner.clone(), self.app.clone());
        // The test database (which holds their objects) is dropped first; see `a_serving_role…`.
        let _ = std::thread::spawn(move || {
            tokio::runtime::Runtime::new().unwrap().block_on(async {
                exec(
                    &admin,
                    &format!("DROP ROLE IF EXISTS {app}; DROP ROLE IF EXISTS {owner}"),
                )
                .await
            })
        })
        .join();
    }
}

async fn exec(url: &str, sql: &str) -> Result<(), String> {
    let mut conn = PgConnection::connect(url)
        .await
        .map_err(|e| e.to_string())?;
    let result = conn
        .execute(sql)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string());
    conn.close().await.ok();
    result
}

fn keyway(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_keyway"));
    cmd.args(args);
    for var in ["KEYWAY_DATABASE_URL", "KEYWAY_DATABASE_MIGRATE_URL"] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    cmd.output().expect("the keyway binary runs")
}

fn grants_for(role: &str) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/postgres-grants.sql");
    std::fs::read_to_string(path)
        .expect("deploy/postgres-grants.sql")
        .replace("keyway_app", role)
}

#[tokio::test]
async fn a_serving_role_with_only_the_documented_grants_serves_and_cannot_touch_the_audit_log() {
    let test =
        "a_serving_role_with_only_the_documented_grants_serves_and_cannot_touch_the_audit_log";
    let Some(mut db) = TempDatabase::create_or_skip(test).await else {
        return;
    };
    let roles = Roles::create(&db).await;
    let (owner_url, app_url) = (roles.url(&db, &roles.owner), roles.url(&db, &roles.app));

    // Before `keyway migrate`, the serving role cannot make the schema, and says what to do.
    let err = Db::connect(&app_url).await.unwrap_err();
    assert!(matches!(err, StoreError::MigrateDenied(_)), "{err:?}");
    assert!(err.to_string().contains("run `keyway migrate`"), "{err}");

    // `keyway migrate` connects as KEYWAY_DATABASE_MIGRATE_URL, not as the serving role.
    let env = [
        ("KEYWAY_DATABASE_URL", app_url.as_str()),
        ("KEYWAY_DATABASE_MIGRATE_URL", owner_url.as_str()),
    ];
    let migrated = keyway(&["migrate"], &env);
    let stdout = String::from_utf8_lossy(&migrated.stdout);
    assert!(
        migrated.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    let postgres_migrations = std::fs::read_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../migrations/postgres"
    ))
    .unwrap()
    .count();
    assert!(
        stdout.contains(&format!(
            "up to date ({postgres_migrations} migration(s) applied now)"
        )),
        "{stdout}"
    );
    let again = keyway(&["migrate"], &env);
    assert!(String::from_utf8_lossy(&again.stdout).contains("(0 migration(s) applied now)"));
    exec(&owner_url, &grants_for(&roles.app)).await.unwrap();

    // The whole app on the serving role: login (a session and an audit row), a save, logout.
    db.url = app_url.clone();
    let app = TestApp::spawn_on(DbKind::Postgres(db)).await;
    let mut alice = app.login("alice", "alice-pass").await;
    let secret = json!({"mount": "dev", "path": "webapp/config"});
    let saved = alice
        .ok(
            "save",
            json!({"secret": secret, "base_version": 1,
                   "changes": {"set": {"password": "owned-by-nobody"}, "remove": [], "rename": []}}),
        )
        .await;
    assert_eq!(saved["version"], 2);
    alice.ok("logout", json!({})).await;
    // Ready: the readiness probe's one-row write is within the serving role's grants.
    assert_eq!(
        app.get("/readyz").await,
        (axum::http::StatusCode::OK, "ready\n".into())
    );
    // And the metrics' session count reads the PostgreSQL store: alice logged out, none left.
    let text = app.scrape().await;
    assert_eq!(
        common::sample(&text, "keyway_sessions_active"),
        Some(0.0),
        "{text}"
    );
    // The timeline's record: the serving role appends cluster observations (and prunes them).
    let observations = Observations::new(Db::connect(&app_url).await.unwrap());
    let live = NewObservation {
        app: ObservedApp {
            namespace: "dev".into(),
            name: "webapp".into(),
            mount: "dev".into(),
            path: "webapp/config".into(),
        },
        seen: Seen::Live { version: 2 },
    };
    assert_eq!(observations.record(&[live]).await.unwrap(), 1);
    let actions: Vec<String> = app
        .audit_rows()
        .await
        .into_iter()
        .map(|r| r.action)
        .collect();
    assert!(
        ["login", "secret.save", "logout"]
            .iter()
            .all(|a| actions.iter().any(|b| b == a)),
        "{actions:?}"
    );
    let rows = actions.len() as i64;

    // What the owner (or a superuser) could do to the log, the serving role cannot.
    let tip = AuditLog::new(Db::connect(&app_url).await.unwrap())
        .head()
        .await
        .unwrap()
        .unwrap();
    let upsert = format!(
        "INSERT INTO audit_log (seq, id, at, actor_name, action, outcome, prev_hash, hash) \
         SELECT {}, id, at, 'mallory', action, outcome, '{}', '{}' FROM audit_log WHERE seq = 1 \
         ON CONFLICT (id) DO UPDATE SET actor_name = 'mallory'",
        tip.seq + 1,
        tip.hash,
        "f".repeat(64)
    );
    let replace_function = "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger \
         LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$";
    for sql in [
        "UPDATE audit_log SET actor_name = 'mallory' WHERE seq = 1",
        "DELETE FROM audit_log WHERE seq = 1",
        "TRUNCATE audit_log",
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete",
        "ALTER TABLE audit_log DISABLE TRIGGER ALL",
        "DROP TRIGGER audit_log_no_update_delete ON audit_log",
        "DROP TABLE audit_log",
        replace_function,
        "SET session_replication_role = replica",
        &upsert,
        "CREATE TABLE audit_log_copy (seq bigint)",
    ] {
        let refused = exec(&app_url, sql).await.unwrap_err();
        assert!(
            refused.contains("permission denied") || refused.contains("must be owner"),
            "{sql}: {refused}"
        );
    }
    let count: i64 = {
        let mut conn = PgConnection::connect(&owner_url).await.unwrap();
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE actor_name <> 'mallory'")
            .fetch_one(&mut conn)
            .await
            .unwrap()
    };
    assert_eq!(count, rows);
    assert!(app.state.core.audit.verify_chain().await.unwrap().ok);
    // The database goes with `app`, before the roles that own its objects.
    drop(app);
    drop(roles);
}
