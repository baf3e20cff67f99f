//! The commands besides serving: `keyway migrate` (the schema, as the role that owns it) and
//! `keyway audit verify` (the chain, read-only, with an exit status a cron job or an auditor can
//! act on).

use std::io::Write;
use std::process::ExitCode;

use keyway_store::{AuditLog, Checkpoint, Db};

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

/// Checks the chain and `heads`; `Ok(false)` when it is not whole.
async fn verify(cfg: &Config, heads: &[Checkpoint], out: &mut impl Write) -> Result<bool, String> {
    let db = Db::connect_read_only(&cfg.database_url)
        .await
        .map_err(|e| format!("database: {e}"))?;
    let report = AuditLog::new(db.clone()).verify_against(heads).await;
    db.close().await;
    let report = report.map_err(|e| e.to_string())?;
    let text = match (&report.first_break, &report.head) {
        (Some(found), _) => format!(
            "The audit log is NOT whole: {found}.\n{} row(s) checked.",
            report.rows
        ),
        (None, Some(head)) => {
            let mut text = format!(
                "The audit log is whole: {} row(s), chain head {head}.",
                report.rows
            );
            if report.heads_checked > 0 {
                text.push_str(&format!(
                    " The {} published head(s) given are in place.",
                    report.heads_checked
                ));
            }
            text
        }
        (None, None) => "The audit log is empty.".to_owned(),
    };
    writeln!(out, "{text}").map_err(|e| e.to_string())?;
    Ok(report.ok)
}
