//! Why signing or reading checkpoints failed, in sentences an operator can act on (the audit page
//! shows them, the log carries them). Keyway's own token is the identity here, so Vault's answers
//! are worded for it, not for a user's session.

use keyway_vault::VaultError;

use super::settings::TokenSource;

/// A checkpoint could not be signed, written or read. Never carries a token or a value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error(
        "Signed audit checkpoints are off: KEYWAY_AUDIT_CHECKPOINT_KEY, KEYWAY_AUDIT_CHECKPOINT_KV \
         and KEYWAY_AUDIT_CHECKPOINT_TOKEN_FILE are not set."
    )]
    Off,
    /// The token file could not be read, or is empty.
    #[error("Keyway cannot read its checkpoint token from {file}: {reason}.")]
    Token { file: String, reason: String },
    /// A Vault call failed; `doing` says which ("sign with transit/keyway-audit").
    #[error("Keyway could not {doing}: {reason}")]
    Vault { doing: String, reason: String },
    /// The transit key cannot sign checkpoints (missing, wrong type, not pinned).
    #[error("{0}")]
    Key(String),
    /// The audit log could not be read.
    #[error("The audit log could not be read: {0}")]
    Audit(String),
    /// The log no longer agrees with the newest signed checkpoint, so Keyway signs nothing new.
    #[error("{0}")]
    Inconsistent(String),
}

impl CheckpointError {
    /// A Vault error while doing `doing` with the token from `token`.
    pub(crate) fn vault(doing: impl Into<String>, error: VaultError, token: &TokenSource) -> Self {
        let reason = match error {
            VaultError::PermissionDenied => format!(
                "Vault refused it: the policies of {token} do not grant it (see \"Signed audit \
                 checkpoints\" in the README for the policy)."
            ),
            VaultError::InvalidToken => {
                format!("Vault refused {token}: it is expired, revoked or not a token.")
            }
            other => other.to_string(),
        };
        CheckpointError::Vault {
            doing: doing.into(),
            reason,
        }
    }
}
