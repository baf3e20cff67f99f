//! The commands besides serving: `keyway migrate` (the schema, as the role that owns it) and
//! `keyway audit verify` (the chain, read-only, against the signed checkpoints in Vault when they
//! are configured, with an exit status a cron job or an auditor can act on).

use std::io::Write;
use std::process::ExitCode;

use keyway_store::{AuditLog, Checkpoint, Db};
use keyway_vault::{SecretString, Vault};

use crate::checkpoint::{Checkpoints, MAX_READ};

use crate::config::{AuditCommand, Command, Config};

/// `keyway audit verify` exit status when the chain is not whole.
pub const BROKEN: u8 = 1;
/// `keyway audit verify` exit status when the log could not be read at all.
pub const UNREADABLE: u8 = 2;

/// Runs `command`; what it prints goes to `out`, errors to stderr.
pub async fn run(command: &Command, cfg: &Config, out: &mut impl Write) -> ExitCode {
    let result = match command {
        Command::Migrate => migrate(cfg, out).await.map(|()| ExitCode::SUCCESS),
        Command::Audit(AuditCommand::Verify { heads }) => verify(cfg, heads, out)
            .await
            .map(|whole| ExitCode::from(if whole { 0 } else { BROKEN })),
    };
    result.unwrap_or_else(|e| {
        eprintln!("keyway: {e}");
        ExitCode::from(UNREADABLE)
    })
}

/// Applies the pending migrations as KEYWAY_DATABASE_MIGRATE_URL's role (or KEYWAY_DATABASE_URL's).
async fn migrate(cfg: &Config, out: &mut impl Write) -> Result<(), String> {
    let url = cfg
        .database_migrate_url
        .as_ref()
        .unwrap_or(&cfg.database_url);
    let applied = Db::migrate(url)
        .await
        .map_err(|e| format!("database: {e}"))?;
    writeln!(
        out,
        "The database schema is up to date ({applied} migration(s) applied now)."
    )
    .map_err(|e| e.to_string())
}

/// Checks the chain and `heads`, and the signed checkpoints in Vault when the
/// KEYWAY_AUDIT_CHECKPOINT_* settings name them (read with the token in
/// KEYWAY_AUDIT_CHECKPOINT_TOKEN_FILE, or else VAULT_TOKEN); `Ok(false)` when it is not whole.
async fn verify(cfg: &Config, heads: &[Checkpoint], out: &mut impl Write) -> Result<bool, String> {
    let vault_token = std::env::var("VAULT_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty())
        .map(|t| SecretString::from(t.trim().to_owned()));
    let signed = cfg.checkpoint_settings().for_verify(vault_token)?;
    let vault = match signed {
        Some(_) => Some(Vault::new(&cfg.vault_config()).map_err(|e| e.to_string())?),
        None => None,
    };
    let db = Db::connect_read_only(&cfg.database_url)
        .await
        .map_err(|e| format!("database: {e}"))?;
    let audit = AuditLog::new(db.clone());
    let result = match (signed, vault) {
        (Some(settings), Some(vault)) => {
            let kv = settings.kv.clone();
            Checkpoints::new(Some(settings), vault, audit)
                .verify_now(heads)
                .await
                .map(|outcome| (outcome.chain.clone(), Some((outcome, kv))))
                .map_err(|e| e.to_string())
        }
        _ => audit
            .verify_against(heads)
            .await
            .map(|report| (report, None))
            .map_err(|e| e.to_string()),
    };
    db.close().await;
    let (report, signed) = result?;
    let problems = signed.as_ref().map_or(&[][..], |(o, _)| &o.problems[..]);
    let mut text = match (&report.first_break, &report.head) {
        (Some(found), _) => format!(
            "The audit log is NOT whole: {found}.\n{} row(s) checked.",
            report.rows
        ),
        (None, _) if !problems.is_empty() => format!(
            "The audit log is NOT whole: {} signed checkpoint(s) in Vault are not valid (below).\n{} row(s) checked.",
            problems.len(),
            report.rows
        ),
        (None, Some(head)) => {
            let mut text = format!(
                "The audit log is whole: {} row(s), chain head {head}.",
                report.rows
            );
            if !heads.is_empty() {
                text.push_str(&format!(
                    " The {} published head(s) given are in place.",
                    heads.len()
                ));
            }
            text
        }
        (None, None) => "The audit log is empty.".to_owned(),
    };
    if let Some((outcome, kv)) = &signed {
        text.push_str(&match &outcome.newest {
            Some(newest) => format!(
                " {} signed checkpoint(s) from kv {kv} checked (the newest, version {}, signs row #{}).",
                outcome.checkpoints, newest.kv_version, newest.seq
            ),
            None => format!(" 0 signed checkpoints checked: kv {kv} holds none yet."),
        });
        for problem in &outcome.problems {
            text.push_str(&format!("\nNot a valid signed checkpoint: {problem}."));
        }
        if outcome.not_read > 0 {
            text.push_str(&format!(
                "\n{} older checkpoint version(s) were not read (only the newest {MAX_READ} are).",
                outcome.not_read
            ));
        }
    }
    writeln!(out, "{text}").map_err(|e| e.to_string())?;
    Ok(report.ok && problems.is_empty())
}
