//! The checkpoint settings as typed values: where the transit key and the kv-v2 secret are, which
//! public keys to trust, how often to sign. Parsed once at boot (a bad value stops it), and all
//! or none of the places must be given.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use secrecy::SecretString;

use super::note::Origin;

/// A transit key: `MOUNT/KEY`, e.g. `transit/keyway-audit` (the last segment is the key; a
/// key name never holds `/`, a mount may).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransitKeyRef {
    pub mount: String,
    pub key: String,
}

impl fmt::Display for TransitKeyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.mount, self.key)
    }
}

impl FromStr for TransitKeyRef {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let trimmed = s.trim().trim_matches('/');
        match trimmed.rsplit_once('/') {
            Some((mount, key)) if segments_ok(mount) && segments_ok(key) => Ok(TransitKeyRef {
                mount: mount.to_owned(),
                key: key.to_owned(),
            }),
            _ => Err(format!(
                "`{s}` is not a transit key: write MOUNT/KEY, e.g. transit/keyway-audit"
            )),
        }
    }
}

/// A kv-v2 secret: `MOUNT/PATH`, e.g. `keyway-audit/checkpoints`. The first segment is the
/// mount, as in KEYWAY_ENVIRONMENT_KV.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KvSecretRef {
    pub mount: String,
    pub path: String,
}

impl fmt::Display for KvSecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.mount, self.path)
    }
}

impl FromStr for KvSecretRef {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let trimmed = s.trim().trim_matches('/');
        match trimmed.split_once('/') {
            Some((mount, path)) if segments_ok(mount) && segments_ok(path) => Ok(KvSecretRef {
                mount: mount.to_owned(),
                path: path.to_owned(),
            }),
            _ => Err(format!(
                "`{s}` is not a kv-v2 secret: write MOUNT/PATH, e.g. keyway-audit/checkpoints"
            )),
        }
    }
}

/// Non-empty `/`-separated pieces of letters, digits, `-`, `_`, `.` (no `.` or `..` alone).
fn segments_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 512
        && s.split('/').all(|p| {
            !p.is_empty()
                && p != "."
                && p != ".."
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        })
}

/// Ed25519 public keys given in the settings, base64 as transit shows them
/// (`keys.<version>.public_key`), comma-separated. When set, only these verify a checkpoint, and
/// Keyway signs only while the transit key's latest version is one of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PinnedKeys(pub Vec<[u8; 32]>);

impl FromStr for PinnedKeys {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let keys = s
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(|k| {
                BASE64
                    .decode(k)
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .ok_or_else(|| {
                        format!(
                            "`{k}` is not an Ed25519 public key: give the base64 of 32 bytes, \
                             as `bao read transit/keys/<key>` shows it"
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err("no public key given".into());
        }
        Ok(PinnedKeys(keys))
    }
}

/// Where the Vault token for checkpoints comes from.
#[derive(Clone, Debug)]
pub enum TokenSource {
    /// Keyway's own token, in a file re-read at each use so it can be rotated
    /// (KEYWAY_AUDIT_CHECKPOINT_TOKEN_FILE).
    File(PathBuf),
    /// A token given to `keyway audit verify` in VAULT_TOKEN (an auditor's own).
    Given(SecretString),
}

impl fmt::Display for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenSource::File(path) => write!(f, "the token in {}", path.display()),
            TokenSource::Given(_) => f.write_str("the token in VAULT_TOKEN"),
        }
    }
}

/// Everything the checkpoints need, once the settings say they are on.
#[derive(Clone, Debug)]
pub struct CheckpointSettings {
    pub key: TransitKeyRef,
    pub kv: KvSecretRef,
    pub token: TokenSource,
    pub origin: Origin,
    pub every_rows: u64,
    pub every: Duration,
    pub pinned: Option<PinnedKeys>,
}

/// The raw settings, as the config holds them.
pub struct Raw<'a> {
    pub key: Option<&'a TransitKeyRef>,
    pub kv: Option<&'a KvSecretRef>,
    pub token_file: Option<&'a PathBuf>,
    pub origin: &'a Origin,
    pub every_rows: u64,
    pub every_minutes: u32,
    pub pinned: Option<&'a PinnedKeys>,
}

impl Raw<'_> {
    /// For the server. `Ok(None)`: off (none of the three places given). Some but not all is an
    /// error, so a half-done setup never silently runs without checkpoints.
    pub fn for_server(&self) -> Result<Option<CheckpointSettings>, String> {
        let missing = self.missing(true);
        if missing.len() == 3 {
            return Ok(None);
        }
        if !missing.is_empty() {
            return Err(format!(
                "signed audit checkpoints need KEYWAY_AUDIT_CHECKPOINT_KEY, \
                 KEYWAY_AUDIT_CHECKPOINT_KV and KEYWAY_AUDIT_CHECKPOINT_TOKEN_FILE together; \
                 missing: {}.",
                missing.join(", ")
            ));
        }
        let file = self.token_file.expect("checked above").clone();
        self.settings(TokenSource::File(file)).map(Some)
    }

    /// For `keyway audit verify`: the key and the kv secret, and a token from the token file or
    /// else `vault_token` (VAULT_TOKEN). `Ok(None)`: neither place given.
    pub fn for_verify(
        &self,
        vault_token: Option<SecretString>,
    ) -> Result<Option<CheckpointSettings>, String> {
        let missing = self.missing(false);
        if missing.len() == 2 {
            return Ok(None);
        }
        if !missing.is_empty() {
            return Err(format!(
                "reading the signed audit checkpoints needs KEYWAY_AUDIT_CHECKPOINT_KEY and \
                 KEYWAY_AUDIT_CHECKPOINT_KV together; missing: {}.",
                missing.join(", ")
            ));
        }
        let token = match (self.token_file, vault_token) {
            (Some(file), _) => TokenSource::File(file.clone()),
            (None, Some(token)) => TokenSource::Given(token),
            (None, None) => {
                return Err(
                    "no Vault token to read the signed audit checkpoints with: set \
                            KEYWAY_AUDIT_CHECKPOINT_TOKEN_FILE or VAULT_TOKEN."
                        .into(),
                )
            }
        };
        self.settings(token).map(Some)
    }

    fn missing(&self, with_token: bool) -> Vec<&'static str> {
        [
            (self.key.is_none(), "KEYWAY_AUDIT_CHECKPOINT_KEY"),
            (self.kv.is_none(), "KEYWAY_AUDIT_CHECKPOINT_KV"),
            (
                with_token && self.token_file.is_none(),
                "KEYWAY_AUDIT_CHECKPOINT_TOKEN_FILE",
            ),
        ]
        .into_iter()
        .filter_map(|(gone, name)| gone.then_some(name))
        .collect()
    }

    fn settings(&self, token: TokenSource) -> Result<CheckpointSettings, String> {
        if self.every_rows == 0 || self.every_minutes == 0 {
            return Err("KEYWAY_AUDIT_CHECKPOINT_EVERY_ROWS and \
                        KEYWAY_AUDIT_CHECKPOINT_EVERY_MINUTES must be at least 1."
                .into());
        }
        Ok(CheckpointSettings {
            key: self.key.expect("checked by the caller").clone(),
            kv: self.kv.expect("checked by the caller").clone(),
            token,
            origin: self.origin.clone(),
            every_rows: self.every_rows,
            every: Duration::from_secs(u64::from(self.every_minutes) * 60),
            pinned: self.pinned.cloned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_parse_and_nonsense_is_refused_plainly() {
        let key: TransitKeyRef = "teams/transit/keyway-audit".parse().unwrap();
        assert_eq!(
            (key.mount.as_str(), key.key.as_str()),
            ("teams/transit", "keyway-audit")
        );
        let kv: KvSecretRef = "keyway-audit/log/checkpoints".parse().unwrap();
        assert_eq!(
            (kv.mount.as_str(), kv.path.as_str()),
            ("keyway-audit", "log/checkpoints")
        );
        assert_eq!(kv.to_string(), "keyway-audit/log/checkpoints");
        for bad in ["transit", "/", "transit/../k", "a b/c"] {
            assert!(bad
                .parse::<TransitKeyRef>()
                .unwrap_err()
                .contains("MOUNT/KEY"));
            assert!(bad
                .parse::<KvSecretRef>()
                .unwrap_err()
                .contains("MOUNT/PATH"));
        }
    }

    #[test]
    fn pinned_keys_are_32_bytes_of_base64() {
        let one = BASE64.encode([1u8; 32]);
        let two = BASE64.encode([2u8; 32]);
        let keys: PinnedKeys = format!("{one}, {two}").parse().unwrap();
        assert_eq!(keys.0, [[1u8; 32], [2u8; 32]]);
        assert!("AAAA"
            .parse::<PinnedKeys>()
            .unwrap_err()
            .contains("not an Ed25519 public key"));
        assert!(" , ".parse::<PinnedKeys>().is_err());
    }

    #[test]
    fn all_three_places_or_none() {
        let origin: Origin = "keyway.local/audit".parse().unwrap();
        let key: TransitKeyRef = "transit/k".parse().unwrap();
        let raw = |key| Raw {
            key,
            kv: None,
            token_file: None,
            origin: &origin,
            every_rows: 1000,
            every_minutes: 10,
            pinned: None,
        };
        assert!(raw(None).for_server().unwrap().is_none());
        let err = raw(Some(&key)).for_server().unwrap_err();
        assert!(
            err.contains("missing: KEYWAY_AUDIT_CHECKPOINT_KV, KEYWAY_AUDIT_CHECKPOINT_TOKEN_FILE"),
            "{err}"
        );
        assert!(raw(None).for_verify(None).unwrap().is_none());
        let kv: KvSecretRef = "keyway-audit/checkpoints".parse().unwrap();
        let file = PathBuf::from("/run/keyway/checkpoint-token");
        let reading = |token_file| Raw {
            key: Some(&key),
            kv: Some(&kv),
            token_file,
            ..raw(None)
        };
        let given = SecretString::from("hvs.auditor".to_owned());
        let from = |r: Raw<'_>, t: Option<SecretString>| r.for_verify(t).map(|s| s.unwrap().token);
        assert!(
            matches!(from(reading(Some(&file)), Some(given.clone())), Ok(TokenSource::File(f)) if f == file)
        );
        assert!(matches!(
            from(reading(None), Some(given)),
            Ok(TokenSource::Given(_))
        ));
        assert!(from(reading(None), None)
            .unwrap_err()
            .contains("set KEYWAY_AUDIT_CHECKPOINT_TOKEN_FILE or VAULT_TOKEN"));
        let err = raw(Some(&key)).for_verify(None).unwrap_err();
        assert!(
            err.ends_with("missing: KEYWAY_AUDIT_CHECKPOINT_KV."),
            "{err}"
        );
    }
}
