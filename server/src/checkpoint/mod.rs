//! Signed checkpoints of the audit chain, held outside the database (issue 11, part 2).
//!
//! The hash chain shows a row changed in the middle, but whoever can write the database can also
//! cut rows off its end, or rewrite it with fresh hashes: the hash is not keyed. So every
//! [`CheckpointSettings::every_rows`] rows or [`CheckpointSettings::every`] (whichever comes
//! first, and only when the head moved), Keyway signs the chain head with a Vault transit key it
//! never holds (`ed25519`, `<mount>/sign/<key>`), and writes the signed note (C2SP
//! `tlog-checkpoint`, see [`note`]) as a new version of one kv-v2 secret. That secret's versions,
//! and Vault's own audit log, keep the history; a database owner can rewrite neither, nor sign.
//!
//! Reading back ([`Checkpoints::verify_with_checkpoints`]) reads the secret's versions, checks
//! every signature locally (a checkpoint that does not verify is itself reported), and hands the
//! heads to `AuditLog::verify_against`: a tail cut off, or a log rewritten below the newest
//! checkpoint, then shows.
//!
//! Keyway's own Vault identity does this: a token read from a file at each use, so it can be
//! rotated, whose policy lets it sign with that one key and write that one secret (README,
//! "Signed audit checkpoints"). Without the settings checkpoints are off
//! ([`CheckpointStatus::Off`]), and Keyway says so once at start.

mod error;
mod keys;
pub mod note;
mod reader;
pub mod settings;
mod writer;

use std::sync::{Arc, Mutex};

use keyway_store::AuditLog;
use keyway_vault::Vault;

pub use error::CheckpointError;
pub use reader::{
    CheckpointProblem, LastVerified, VerifiedCheckpoint, VerifyOutcome, MAX_READ, VERIFY_CACHE,
    VERIFY_EVERY,
};
pub use settings::{CheckpointSettings, KvSecretRef, PinnedKeys, TokenSource, TransitKeyRef};
pub use writer::{Signed, CHECK_EVERY, MAX_VERSIONS};

/// The kv-v2 key under which each version holds its checkpoint.
pub const NOTE_KEY: &str = "checkpoint";

/// The default origin (the first line of each checkpoint, and its key name).
pub const DEFAULT_ORIGIN: &str = "keyway.local/audit";

/// What the audit page shows about checkpoints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckpointStatus {
    /// Not configured: the chain is only as safe as the database.
    Off,
    On {
        /// The newest checkpoint in Vault as this Keyway last saw it (written by it or by
        /// another replica); `None` until one has been seen.
        last: Option<LastCheckpoint>,
        /// Why the last attempt to sign failed (a plain sentence, never a token); cleared by the
        /// next success.
        last_error: Option<String>,
    },
}

/// The newest signed checkpoint known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastCheckpoint {
    /// The chain head it signs: row #seq.
    pub seq: i64,
    /// When Vault stored it (the kv version's `created_time`).
    pub at: Option<jiff::Timestamp>,
    /// Its version of the kv-v2 secret.
    pub kv_version: u64,
}

/// Signed checkpoints for one Keyway: the settings, the writer's status, and the verifier's
/// cache. One per process, shared through [`crate::service::Core::checkpoints`].
pub struct Checkpoints {
    on: Option<On>,
    /// The log itself: verified alone when checkpoints are off.
    audit: AuditLog,
    status: Mutex<CheckpointStatus>,
    cache: reader::Cache,
    /// The newest verification that ran to its end, for the audit page (see
    /// [`Checkpoints::spawn_verifier`]).
    last_verified: Mutex<Option<reader::LastVerified>>,
    /// Whether this process has looked at how many versions the secret keeps.
    max_versions_set: std::sync::atomic::AtomicBool,
}

struct On {
    settings: CheckpointSettings,
    vault: Vault,
    audit: AuditLog,
}

impl Checkpoints {
    /// Checkpoints with `settings`, or off with `None`.
    pub fn new(settings: Option<CheckpointSettings>, vault: Vault, audit: AuditLog) -> Arc<Self> {
        let status = match settings {
            Some(_) => CheckpointStatus::On {
                last: None,
                last_error: None,
            },
            None => CheckpointStatus::Off,
        };
        Arc::new(Checkpoints {
            on: settings.map(|settings| On {
                settings,
                vault,
                audit: audit.clone(),
            }),
            audit,
            status: Mutex::new(status),
            cache: reader::Cache::default(),
            last_verified: Mutex::new(None),
            max_versions_set: Default::default(),
        })
    }

    /// What the audit page shows: off, or the newest checkpoint and the last error.
    pub fn status(&self) -> CheckpointStatus {
        self.status.lock().expect("never poisoned").clone()
    }

    /// The settings, when on.
    pub fn settings(&self) -> Option<&CheckpointSettings> {
        self.on.as_ref().map(|on| &on.settings)
    }

    fn on(&self) -> Result<&On, CheckpointError> {
        self.on.as_ref().ok_or(CheckpointError::Off)
    }

    fn set_status(&self, last: Option<LastCheckpoint>, error: Option<String>) {
        let mut status = self.status.lock().expect("never poisoned");
        if let CheckpointStatus::On {
            last: known,
            last_error,
        } = &mut *status
        {
            if last.is_some() {
                *known = last;
            }
            *last_error = error;
        }
    }
}
