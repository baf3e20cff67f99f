//! The two things both signing and reading need from outside: Keyway's checkpoint token (from its
//! file, at each use) and the public keys a checkpoint may be signed with (the transit key's
//! versions, or the pinned keys).

use keyway_vault::{SecretString, TransitKey};

use super::note::NoteKey;
use super::settings::TokenSource;
use super::{CheckpointError, On};

/// The transit key type checkpoints need.
const ED25519: &str = "ed25519";

impl On {
    /// The token to call Vault with. A file is read anew each time (it may have been rotated).
    pub(super) async fn token(&self) -> Result<SecretString, CheckpointError> {
        let path = match &self.settings.token {
            TokenSource::Given(token) => return Ok(token.clone()),
            TokenSource::File(path) => path,
        };
        let failed = |reason: String| CheckpointError::Token {
            file: path.display().to_string(),
            reason,
        };
        let text = tokio::fs::read_to_string(path)
            .await
            .map_err(|e| failed(e.to_string()))?;
        let token = text.trim();
        if token.is_empty() {
            return Err(failed("the file is empty".into()));
        }
        if token.chars().any(char::is_whitespace) {
            return Err(failed("the file holds more than one word".into()));
        }
        Ok(SecretString::from(token.to_owned()))
    }

    /// The transit key, checked to be an Ed25519 key with public keys.
    pub(super) async fn transit_key(
        &self,
        token: &SecretString,
    ) -> Result<TransitKey, CheckpointError> {
        let at = &self.settings.key;
        let key = self
            .vault
            .transit_key(token, &at.mount, &at.key)
            .await
            .map_err(|e| {
                CheckpointError::vault(
                    format!("read the transit key {at}"),
                    e,
                    &self.settings.token,
                )
            })?
            .ok_or_else(|| {
                CheckpointError::Key(format!(
                    "There is no transit key {at} (KEYWAY_AUDIT_CHECKPOINT_KEY): create it with \
                     `bao write -f {}/keys/{} type=ed25519`.",
                    at.mount, at.key
                ))
            })?;
        if key.key_type != ED25519 {
            return Err(CheckpointError::Key(format!(
                "The transit key {at} is of type {}; signed checkpoints need an ed25519 key.",
                key.key_type
            )));
        }
        Ok(key)
    }

    /// The keys a checkpoint may carry a valid signature of: the pinned ones when
    /// KEYWAY_AUDIT_CHECKPOINT_PUBLIC_KEY is set (transit is then not asked), else every version
    /// of the transit key.
    pub(super) async fn known_keys(
        &self,
        token: &SecretString,
    ) -> Result<Vec<NoteKey>, CheckpointError> {
        if self.settings.pinned.is_some() {
            return self.pinned_keys();
        }
        let key = self.transit_key(token).await?;
        self.transit_note_keys(&key)
    }

    pub(super) fn pinned_keys(&self) -> Result<Vec<NoteKey>, CheckpointError> {
        let Some(pinned) = &self.settings.pinned else {
            return Ok(Vec::new());
        };
        pinned
            .0
            .iter()
            .enumerate()
            .map(|(i, public)| {
                NoteKey::new(
                    &self.settings.origin,
                    public,
                    format!("pinned public key {}", i + 1),
                )
                .map_err(CheckpointError::Key)
            })
            .collect()
    }

    /// One note key per version of `key`, labelled `transit key transit/keyway-audit v2`.
    pub(super) fn transit_note_keys(
        &self,
        key: &TransitKey,
    ) -> Result<Vec<NoteKey>, CheckpointError> {
        let at = &self.settings.key;
        if key.public_keys.is_empty() {
            return Err(CheckpointError::Key(format!(
                "The transit key {at} shows no public key."
            )));
        }
        key.public_keys
            .iter()
            .map(|(version, public)| {
                NoteKey::new(
                    &self.settings.origin,
                    public,
                    format!("transit key {at} v{version}"),
                )
                .map_err(CheckpointError::Key)
            })
            .collect()
    }
}
