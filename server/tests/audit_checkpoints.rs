//! Signed audit checkpoints against a real OpenBao (transit `ed25519` key, kv-v2 secret, the
//! demo's own `keyway-checkpoint-writer` policy) and a real database: a checkpoint is signed,
//! written, read back and verified; a rewritten chain, a cut tail and a forged checkpoint are each
//! reported; off gives the Off status; and `keyway audit verify` exits 0, 1 or 2 accordingly.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use keyway_server::checkpoint::{
    CheckpointError, CheckpointSettings, CheckpointStatus, Checkpoints, Signed, TokenSource,
    MAX_VERSIONS, NOTE_KEY,
};
use keyway_store::{Action, AuditLog, Checkpoint, Db, NewEvent, Problem};
use keyway_testkit::Bao;
use keyway_vault::{SecretString, Vault, VaultConfig};
use serde_json::json;
use sqlx::{Connection, Executor};

const KEY: &str = "transit/keyway-audit";
const KV: &str = "keyway-audit/checkpoints";
const ORIGIN: &str = "keyway.test/audit";

fn policy(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../end2end/demo/policies")
        .join(format!("{name}.hcl"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// OpenBao set up as the README says (and the demo seed does), a token of the writer policy in
/// a file, and a SQLite audit log with four logins.
struct World {
    bao: Bao,
    vault: Vault,
    log: AuditLog,
    db_url: String,
    token_file: PathBuf,
    /// The head after the four logins.
    head: Checkpoint,
    _dir: tempfile::TempDir,
}

impl World {
    async fn new() -> World {
        let bao = Bao::start().await;
        bao.root_request(
            "POST",
            "sys/mounts/transit",
            Some(json!({"type": "transit"})),
        )
        .await;
        bao.root_request(
            "POST",
            "transit/keys/keyway-audit",
            Some(json!({"type": "ed25519"})),
        )
        .await;
        bao.enable_kv2("keyway-audit").await;
        // What the platform team sets once (end2end/demo/seed.sh): Keyway's token may not.
        bao.root_request(
            "POST",
            "keyway-audit/metadata/checkpoints",
            Some(json!({"max_versions": MAX_VERSIONS})),
        )
        .await;
        bao.put_policy(
            "keyway-checkpoint-writer",
            &policy("keyway-checkpoint-writer"),
        )
        .await;
        let token = World::token(&bao, "keyway-checkpoint-writer").await;
        let dir = tempfile::tempdir().unwrap();
        let token_file = dir.path().join("checkpoint-token");
        std::fs::write(&token_file, format!("{token}\n")).unwrap();
        let db_url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("keyway.db").display()
        );
        let log = AuditLog::new(Db::connect(&db_url).await.unwrap());
        let head = logins(&log, &["alice", "bob", "carol", "dave"]).await;
        let vault = Vault::new(&VaultConfig::new(bao.addr.parse().unwrap())).unwrap();
        World {
            bao,
            vault,
            log,
            db_url,
            token_file,
            head,
            _dir: dir,
        }
    }

    async fn token(bao: &Bao, policy: &str) -> String {
        let answer = bao
            .root_request(
                "POST",
                "auth/token/create",
                Some(json!({ "policies": [policy] })),
            )
            .await;
        answer["auth"]["client_token"].as_str().unwrap().to_owned()
    }

    fn settings(&self) -> CheckpointSettings {
        CheckpointSettings {
            key: KEY.parse().unwrap(),
            kv: KV.parse().unwrap(),
            token: TokenSource::File(self.token_file.clone()),
            origin: ORIGIN.parse().unwrap(),
            every_rows: 1000,
            every: Duration::from_secs(600),
            pinned: None,
        }
    }

    fn checkpoints(&self) -> Arc<Checkpoints> {
        Checkpoints::new(Some(self.settings()), self.vault.clone(), self.log.clone())
    }

    /// Raw SQL as the database's owner, its triggers dropped first.
    async fn owner_runs(&self, sql: &str) {
        let mut conn = sqlx::SqliteConnection::connect(&self.db_url).await.unwrap();
        for trigger in ["audit_log_no_update", "audit_log_no_delete"] {
            conn.execute(format!("DROP TRIGGER IF EXISTS {trigger}").as_str())
                .await
                .unwrap();
        }
        conn.execute(sql).await.unwrap();
    }

    /// `keyway audit verify` as the real binary, with the checkpoint settings and `env`.
    fn verify_command(&self, env: &[(&str, &str)]) -> (Option<i32>, String, String) {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_keyway"));
        command
            .args(["audit", "verify"])
            .env_remove("VAULT_TOKEN")
            .env("KEYWAY_DATABASE_URL", &self.db_url)
            .env("KEYWAY_VAULT_ADDR", &self.bao.addr)
            .env("KEYWAY_AUDIT_CHECKPOINT_KEY", KEY)
            .env("KEYWAY_AUDIT_CHECKPOINT_KV", KV)
            .env("KEYWAY_AUDIT_CHECKPOINT_ORIGIN", ORIGIN);
        for (k, v) in env {
            command.env(k, v);
        }
        let out = command.output().expect("the keyway binary runs");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!stderr.contains("panicked"), "{stderr}");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr,
        )
    }
}

async fn logins(log: &AuditLog, actors: &[&str]) -> Checkpoint {
    let mut last = None;
    for actor in actors {
        last = Some(
            log.record(NewEvent::new(*actor, Action::Login))
                .await
                .unwrap(),
        );
    }
    last.expect("at least one actor").into()
}

fn written(signed: Signed) -> i64 {
    match signed {
        Signed::Written(last) => last.seq,
        other => panic!("expected a new checkpoint, got {other:?}"),
    }
}

#[tokio::test]
async fn a_checkpoint_is_signed_written_read_back_and_verified() {
    let w = World::new().await;
    let checkpoints = w.checkpoints();
    assert_eq!(
        checkpoints.status(),
        CheckpointStatus::On {
            last: None,
            last_error: None
        }
    );

    assert_eq!(written(checkpoints.checkpoint_now().await.unwrap()), 4);
    let last = checkpoints
        .status()
        .last()
        .cloned()
        .expect("a last checkpoint");
    assert_eq!((last.seq, last.kv_version), (4, 1));
    assert!(last.at.is_some());
    assert!(
        matches!(checkpoints.checkpoint_now().await.unwrap(), Signed::UpToDate(l) if l.seq == 4),
        "the head did not move: nothing new is signed"
    );

    // The note in Vault, exactly as C2SP lays it out.
    let stored = w
        .bao
        .root_request("GET", "keyway-audit/data/checkpoints", None)
        .await;
    let note = stored["data"]["data"][NOTE_KEY]
        .as_str()
        .unwrap()
        .to_owned();
    let lines: Vec<&str> = note.lines().collect();
    assert_eq!(lines[..2], [ORIGIN, "4"]);
    assert_eq!(lines[3], "");
    assert!(
        lines[4].starts_with(&format!("\u{2014} {ORIGIN} ")),
        "{note}"
    );
    let meta = w
        .bao
        .root_request("GET", "keyway-audit/metadata/checkpoints", None)
        .await;
    assert_eq!(meta["data"]["max_versions"], json!(MAX_VERSIONS), "{meta}");

    logins(&w.log, &["erin"]).await;
    assert_eq!(written(checkpoints.checkpoint_now().await.unwrap()), 5);

    let outcome = checkpoints.verify_with_checkpoints().await.unwrap();
    assert!(outcome.whole(), "{outcome:?}");
    assert_eq!(outcome.checkpoints, 2);
    assert_eq!(outcome.chain.heads_checked, 2);
    let newest = outcome.newest.clone().unwrap();
    assert_eq!((newest.seq, newest.kv_version), (5, 2));
    assert_eq!(newest.signed_by, "transit key transit/keyway-audit v1");
    let summary = outcome.summary();
    assert!(
        summary.starts_with("Chain verified up to #5 (2 checkpoints, the newest at #5 signed ")
            && summary.ends_with(" by transit key transit/keyway-audit v1)."),
        "{summary}"
    );
    // A page view soon after reuses the result instead of walking the chain again.
    let again = checkpoints.verify_with_checkpoints().await.unwrap();
    assert!(Arc::ptr_eq(&outcome, &again));
}

#[tokio::test]
async fn a_chain_rewritten_with_fresh_hashes_differs_from_its_checkpoint() {
    let w = World::new().await;
    let checkpoints = w.checkpoints();
    written(checkpoints.checkpoint_now().await.unwrap());

    // The owner rewrites the whole log: every row deleted, four others appended through the
    // store, so every hash and link is valid again.
    w.owner_runs("DELETE FROM audit_log").await;
    let forged = logins(&w.log, &["mallory", "mallory", "mallory", "mallory"]).await;
    assert_eq!(forged.seq, w.head.seq);
    assert_ne!(forged.hash, w.head.hash);
    assert!(
        w.log.verify_chain().await.unwrap().ok,
        "the chain alone is whole"
    );

    let outcome = checkpoints.verify_with_checkpoints().await.unwrap();
    assert!(!outcome.whole());
    let found = outcome.chain.first_break.clone().expect("a break");
    assert_eq!(found.seq, 4);
    assert!(
        matches!(&found.problem, Problem::DiffersFromHead { published } if *published == w.head.hash),
        "{found:?}"
    );
    assert!(
        outcome
            .summary()
            .starts_with("First bad row #4: row 4 is not the row published as the chain head"),
        "{}",
        outcome.summary()
    );

    // Keyway signs nothing inconsistent with what it signed, and says why.
    logins(&w.log, &["mallory"]).await;
    let err = checkpoints.checkpoint_now().await.unwrap_err();
    assert!(matches!(err, CheckpointError::Inconsistent(_)), "{err}");
    let CheckpointStatus::On { last_error, .. } = checkpoints.status() else {
        panic!("on")
    };
    assert!(last_error
        .unwrap()
        .starts_with("Row #4 of the audit log is not the row the newest signed checkpoint"),);
}

#[tokio::test]
async fn rows_cut_off_the_end_leave_the_signed_head_missing() {
    let w = World::new().await;
    let checkpoints = w.checkpoints();
    written(checkpoints.checkpoint_now().await.unwrap());

    w.owner_runs("DELETE FROM audit_log WHERE seq >= 3").await;
    let outcome = checkpoints.verify_now(&[]).await.unwrap();
    let found = outcome.chain.first_break.clone().expect("a break");
    assert_eq!((found.seq, found.problem), (4, Problem::HeadMissing));
    assert_eq!(
        outcome.summary(),
        "First bad row #4: row 4, published as a chain head, is no longer in the log (rows were \
         cut off its end)."
    );
    let err = checkpoints.checkpoint_now().await.unwrap_err().to_string();
    assert!(
        err.starts_with(
            "The audit log ends at row #2, before row #4 that the newest signed checkpoint"
        ),
        "{err}"
    );

    let (code, out, _) = w.verify_command(&[(
        "KEYWAY_AUDIT_CHECKPOINT_TOKEN_FILE",
        w.token_file.to_str().unwrap(),
    )]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.starts_with("The audit log is NOT whole: row 4, published as a chain head"),
        "{out}"
    );
}

#[tokio::test]
async fn a_forged_checkpoint_in_vault_is_reported_not_skipped() {
    let w = World::new().await;
    let checkpoints = w.checkpoints();
    written(checkpoints.checkpoint_now().await.unwrap());
    let stored = w
        .bao
        .root_request("GET", "keyway-audit/data/checkpoints", None)
        .await;
    let genuine = stored["data"]["data"][NOTE_KEY]
        .as_str()
        .unwrap()
        .to_owned();

    // Version 2: the genuine signature line under another tree size (someone with write access
    // to the secret, but not the key). Version 3: not a note at all.
    let forged = genuine.replacen("\n4\n", "\n3\n", 1);
    w.bao
        .kv_put("keyway-audit", "checkpoints", json!({ NOTE_KEY: forged }))
        .await;
    w.bao
        .kv_put(
            "keyway-audit",
            "checkpoints",
            json!({ NOTE_KEY: "trust me" }),
        )
        .await;

    let outcome = checkpoints.verify_now(&[]).await.unwrap();
    assert!(outcome.chain.ok, "the chain itself is whole");
    assert!(!outcome.whole());
    assert_eq!(outcome.checkpoints, 1);
    let problems: Vec<String> = outcome.problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        problems,
        [
            "checkpoint version 2: its signature by the transit key transit/keyway-audit v1 does \
             not verify (the checkpoint was altered or forged)",
            "checkpoint version 3: it is not a signed note: it does not end with a newline",
        ]
    );
    assert!(
        outcome
            .summary()
            .contains(" A signed checkpoint is not valid: checkpoint version 2: "),
        "{}",
        outcome.summary()
    );

    // The command: 1, each bad version on a line of its own. An auditor's read-only token (the
    // demo's platform policy) is enough to check.
    w.bao.put_policy("platform", &policy("platform")).await;
    let auditor = World::token(&w.bao, "platform").await;
    let (code, out, err) = w.verify_command(&[("VAULT_TOKEN", &auditor)]);
    assert_eq!(code, Some(1), "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "The audit log is NOT whole: 2 signed checkpoint(s) in Vault are not valid (below)."
    );
    assert_eq!(
        lines[1],
        format!(
            "4 row(s) checked. 1 signed checkpoint(s) from kv {KV} checked (the newest, version 1, signs row #4)."
        )
    );
    assert!(
        lines[2].starts_with("Not a valid signed checkpoint: checkpoint version 2: its signature")
    );
    assert!(
        !out.contains(&auditor) && !err.contains(&auditor),
        "the token is never printed"
    );
}

#[tokio::test]
async fn verify_exits_0_with_the_checkpoints_and_2_without_a_token_to_read_them() {
    let w = World::new().await;
    written(w.checkpoints().checkpoint_now().await.unwrap());
    let file = w.token_file.to_str().unwrap();

    let (code, out, _) = w.verify_command(&[("KEYWAY_AUDIT_CHECKPOINT_TOKEN_FILE", file)]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(
        out.trim(),
        format!(
            "The audit log is whole: 4 row(s), chain head {}. 1 signed checkpoint(s) from kv {KV} \
             checked (the newest, version 1, signs row #4).",
            w.head
        )
    );

    let (code, _, err) = w.verify_command(&[]);
    assert_eq!(code, Some(2));
    assert_eq!(
        err.lines().last(),
        Some(
            "keyway: no Vault token to read the signed audit checkpoints with: set \
             KEYWAY_AUDIT_CHECKPOINT_TOKEN_FILE or VAULT_TOKEN."
        )
    );
    let (code, _, err) = w.verify_command(&[("VAULT_TOKEN", "not-a-token")]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains(
            "Keyway could not read the transit key transit/keyway-audit: Vault refused the token \
             in VAULT_TOKEN: it is expired, revoked or not a token."
        ),
        "{err}"
    );
}

#[tokio::test]
async fn the_task_signs_at_start_and_again_after_n_rows() {
    let w = World::new().await;
    let mut settings = w.settings();
    settings.every_rows = 2;
    let checkpoints = Checkpoints::new(Some(settings), w.vault.clone(), w.log.clone());
    let task = checkpoints
        .spawn(Duration::from_millis(50))
        .expect("on: a task");
    let seq_signed = |seq: i64| {
        let checkpoints = checkpoints.clone();
        async move { (checkpoints.status().last().map(|l| l.seq) == Some(seq)).then_some(()) }
    };
    keyway_testkit::eventually(
        "the head is signed at start",
        Duration::from_secs(10),
        async || seq_signed(4).await,
    )
    .await;
    logins(&w.log, &["erin", "frank"]).await;
    keyway_testkit::eventually(
        "two rows later, again",
        Duration::from_secs(10),
        async || seq_signed(6).await,
    )
    .await;
    task.abort();
}

#[tokio::test]
async fn a_rotated_or_missing_token_shows_in_the_status_and_nothing_leaks() {
    let w = World::new().await;
    let checkpoints = w.checkpoints();
    std::fs::remove_file(&w.token_file).unwrap();
    let err = checkpoints.checkpoint_now().await.unwrap_err().to_string();
    assert!(
        err.starts_with(&format!(
            "Keyway cannot read its checkpoint token from {}: ",
            w.token_file.display()
        )),
        "{err}"
    );
    // A token without the writer policy: Vault decides, and the message says whose policies.
    let other = World::token(&w.bao, "default").await;
    std::fs::write(&w.token_file, &other).unwrap();
    let err = checkpoints.checkpoint_now().await.unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "Keyway could not read the transit key transit/keyway-audit: Vault refused it: the \
             policies of the token in {} do not grant it (see \"Signed audit checkpoints\" in the \
             README for the policy).",
            w.token_file.display()
        )
    );
    let CheckpointStatus::On { last_error, last } = checkpoints.status() else {
        panic!("on")
    };
    assert_eq!((last, last_error.as_deref()), (None, Some(err.as_str())));
    assert!(!err.contains(&other));
    // Rotated in place: the next checkpoint reads the new file.
    std::fs::write(
        &w.token_file,
        World::token(&w.bao, "keyway-checkpoint-writer").await,
    )
    .unwrap();
    written(checkpoints.checkpoint_now().await.unwrap());
    assert!(matches!(
        checkpoints.status(),
        CheckpointStatus::On {
            last_error: None,
            ..
        }
    ));
}

#[tokio::test]
async fn checkpoints_off_give_the_off_status_from_the_servers_state() {
    use clap::Parser;
    let w = World::new().await;
    let off = Checkpoints::new(None, w.vault.clone(), w.log.clone());
    assert_eq!(off.status(), CheckpointStatus::Off);
    // Off, the chain is still verified, against no signed checkpoint.
    let alone = off.verify_now(&[]).await.unwrap();
    assert!(alone.whole());
    assert_eq!(alone.checkpoints, 0);
    assert!(off.spawn(Duration::from_millis(50)).is_none());

    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/k.db?mode=rwc", dir.path().display());
    let base = [
        "keyway",
        "--dev",
        "--cluster",
        "off",
        "--vault-addr",
        &w.bao.addr,
        "--database-url",
        &db,
    ];
    let cfg = keyway_server::config::Config::try_parse_from(base).unwrap();
    let (_, state) = keyway_server::build(&cfg).await.unwrap();
    assert_eq!(state.core.checkpoints.status(), CheckpointStatus::Off);

    // On, through the same settings a deployment gives.
    let file = w.token_file.to_str().unwrap();
    let mut on = base.to_vec();
    on.extend([
        "--audit-checkpoint-key",
        KEY,
        "--audit-checkpoint-kv",
        KV,
        "--audit-checkpoint-token-file",
        file,
    ]);
    let cfg = keyway_server::config::Config::try_parse_from(on).unwrap();
    let (_, state) = keyway_server::build(&cfg).await.unwrap();
    assert!(matches!(
        state.core.checkpoints.status(),
        CheckpointStatus::On { .. }
    ));

    // Half a setup stops boot, plainly.
    let half = [&base[..], &["--audit-checkpoint-key", KEY]].concat();
    let cfg = keyway_server::config::Config::try_parse_from(half).unwrap();
    let err = keyway_server::build(&cfg).await.err().unwrap();
    assert!(
        err.ends_with("missing: KEYWAY_AUDIT_CHECKPOINT_KV, KEYWAY_AUDIT_CHECKPOINT_TOKEN_FILE."),
        "{err}"
    );
}

/// Not a test of Keyway: what OpenBao itself does with `max_versions` 0 (the README relies on it).
#[tokio::test]
async fn on_openbao_max_versions_0_keeps_the_default_10_not_all() {
    let w = World::new().await;
    let root = SecretString::from(w.bao.root_token.clone());
    w.vault
        .kv_set_max_versions(&root, "keyway-audit", "zero", 0)
        .await
        .unwrap();
    for n in 0..12 {
        w.bao
            .kv_put("keyway-audit", "zero", json!({ "n": n.to_string() }))
            .await;
    }
    let meta = w
        .vault
        .kv_metadata(&root, "keyway-audit", "zero")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((meta.max_versions, meta.versions.len()), (0, 10));
}
