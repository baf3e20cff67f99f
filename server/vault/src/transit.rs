//! The transit engine's signing calls: read a key's public halves, sign with it.
//!
//! Keyway signs its audit chain head with a transit key so that the private key never leaves
//! Vault: not Keyway's pod, not its database. The caller's token decides whether it may sign
//! (`update` on `<mount>/sign/<key>`) and read the public keys (`read` on `<mount>/keys/<key>`),
//! as with every other call of this crate.
//!
//! Only what Keyway needs is decoded: the key type, its versions' public keys (for asymmetric
//! keys; a symmetric key has none), and a signature as raw bytes with the key version that made
//! it. Vault's `vault:v<N>:<base64>` wrapping is checked and removed here, once.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use reqwest::Method;
use secrecy::SecretString;
use serde_json::{json, Value};

use crate::client::NotFound;
use crate::ops::Operation;
use crate::{Vault, VaultError};

/// A transit key as `GET <mount>/keys/<key>` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitKey {
    pub name: String,
    /// Vault's word for the key type: `ed25519`, `ecdsa-p256`, `aes256-gcm96`, …
    pub key_type: String,
    pub latest_version: u64,
    /// Each version's public key, decoded from the base64 Vault gives (32 bytes for `ed25519`).
    /// Empty for a symmetric key.
    pub public_keys: BTreeMap<u64, Vec<u8>>,
}

/// A signature made by `<mount>/sign/<key>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitSignature {
    /// The key version that signed (the `N` of `vault:vN:`).
    pub key_version: u64,
    /// The raw signature bytes (64 for `ed25519`).
    pub signature: Vec<u8>,
}

impl Vault {
    /// The key `<mount>/keys/<key>`; `Ok(None)` when there is no such key.
    #[tracing::instrument(skip_all, fields(mount = %mount, key = %key))]
    pub async fn transit_key(
        &self,
        token: &SecretString,
        mount: &str,
        key: &str,
    ) -> Result<Option<TransitKey>, VaultError> {
        check_names(mount, key)?;
        let Some(answer) = self
            .read_one(Operation::TransitRead, token, &[mount, "keys", key])
            .await?
        else {
            return Ok(None);
        };
        let data = answer.data();
        let bad = || VaultError::unexpected(answer.status.as_u16(), "a transit key");
        let key_type = data.get("type").and_then(Value::as_str).ok_or_else(bad)?;
        let latest_version = data
            .get("latest_version")
            .and_then(Value::as_u64)
            .ok_or_else(bad)?;
        let mut public_keys = BTreeMap::new();
        if let Some(Value::Object(versions)) = data.get("keys") {
            for (version, entry) in versions {
                // Symmetric keys list a creation time per version, not an object.
                let Some(public) = entry.get("public_key").and_then(Value::as_str) else {
                    continue;
                };
                let version: u64 = version.parse().map_err(|_| bad())?;
                let bytes = BASE64.decode(public).map_err(|_| bad())?;
                public_keys.insert(version, bytes);
            }
        }
        Ok(Some(TransitKey {
            name: data
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or(key)
                .to_owned(),
            key_type: key_type.to_owned(),
            latest_version,
            public_keys,
        }))
    }

    /// Signs `input` with the latest version of `<mount>/keys/<key>`. For an `ed25519` key this
    /// is a plain Ed25519 signature over `input` itself (RFC 8032, no pre-hashing).
    #[tracing::instrument(skip_all, fields(mount = %mount, key = %key, bytes = input.len()))]
    pub async fn transit_sign(
        &self,
        token: &SecretString,
        mount: &str,
        key: &str,
        input: &[u8],
    ) -> Result<TransitSignature, VaultError> {
        check_names(mount, key)?;
        let url = self.url(&[mount, "sign", key], false)?;
        let body = json!({ "input": BASE64.encode(input) });
        let answer = self
            .for_user(
                Operation::TransitSign,
                Method::POST,
                url,
                token,
                Some(&body),
                NotFound::IsError,
            )
            .await?;
        let bad = || VaultError::unexpected(answer.status.as_u16(), "a transit signature");
        let wrapped = answer
            .data()
            .get("signature")
            .and_then(Value::as_str)
            .ok_or_else(bad)?;
        parse_signature(wrapped).ok_or_else(bad)
    }
}

/// `vault:v<N>:<base64>` → version and bytes.
fn parse_signature(wrapped: &str) -> Option<TransitSignature> {
    let rest = wrapped.strip_prefix("vault:v")?;
    let (version, encoded) = rest.split_once(':')?;
    Some(TransitSignature {
        key_version: version.parse().ok()?,
        signature: BASE64.decode(encoded).ok()?,
    })
}

/// A mount may hold `/`; a key name is one segment.
fn check_names(mount: &str, key: &str) -> Result<(), VaultError> {
    if mount.trim_matches('/').is_empty() {
        return Err(VaultError::InvalidPath(mount.to_owned()));
    }
    if key.is_empty() || key.contains('/') {
        return Err(VaultError::InvalidPath(key.to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrapped_signature_gives_its_version_and_bytes() {
        let sig = parse_signature("vault:v3:AAEC").unwrap();
        assert_eq!((sig.key_version, sig.signature), (3, vec![0, 1, 2]));
        for bad in ["AAEC", "vault:vx:AAEC", "vault:v1:%%", "vault:v1"] {
            assert_eq!(parse_signature(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_key_name_is_one_segment() {
        assert!(check_names("transit", "keyway-audit").is_ok());
        assert!(check_names("teams/transit", "k").is_ok());
        assert!(check_names("transit", "a/b").is_err());
        assert!(check_names("", "k").is_err());
    }
}
