//! Encrypts Vault tokens before they reach the session store.
//!
//! The session table lives in Keyway's database, which backups and replicas copy around; a token
//! there must be useless without the session key from config. XChaCha20-Poly1305 with a random
//! nonce per token; the owner's Vault identity is bound in as associated data, so a sealed token
//! copied into another user's session does not open.

use base64::{engine::general_purpose::STANDARD_NO_PAD, Engine as _};
use chacha20poly1305::{
    aead::{Aead, KeyInit, Payload},
    XChaCha20Poly1305, XNonce,
};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};

/// A key for one purpose derived from the session key (HMAC-SHA256 of the purpose's name), so
/// one secret in config serves several uses without one use's output revealing another's key.
pub fn derive_key(session_key: &[u8; 32], purpose: &str) -> [u8; 32] {
    keyed_hash(session_key, purpose.as_bytes())
}

/// HMAC-SHA256 of `data` under `key`.
pub fn keyed_hash(key: &[u8; 32], data: &[u8]) -> [u8; 32] {
    use hmac::Mac;
    let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(key)
        .expect("HMAC takes a key of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

#[derive(Clone)]
pub struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

impl Sealer {
    pub fn new(key: &[u8; 32]) -> Self {
        Sealer {
            cipher: XChaCha20Poly1305::new(key.into()),
        }
    }

    pub fn seal(&self, token: &SecretString, bound_to: &str) -> String {
        let mut nonce = [0u8; 24];
        rand::thread_rng().fill_bytes(&mut nonce);
        let ct = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: token.expose_secret().as_bytes(),
                    aad: bound_to.as_bytes(),
                },
            )
            .expect("encryption with a valid key cannot fail");
        let mut out = nonce.to_vec();
        out.extend(ct);
        STANDARD_NO_PAD.encode(out)
    }

    /// `None` when the data was altered, sealed with another key, or bound to something else.
    pub fn open(&self, sealed: &str, bound_to: &str) -> Option<SecretString> {
        let raw = STANDARD_NO_PAD.decode(sealed).ok()?;
        if raw.len() < 24 {
            return None;
        }
        let (nonce, ct) = raw.split_at(24);
        let pt = self
            .cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: bound_to.as_bytes(),
                },
            )
            .ok()?;
        String::from_utf8(pt).ok().map(SecretString::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_token_opens_only_with_the_same_key_and_binding() {
        let a = Sealer::new(&[7; 32]);
        let b = Sealer::new(&[8; 32]);
        let token = SecretString::from("s.secret-token");
        let sealed = a.seal(&token, "user-1");
        assert!(!sealed.contains("secret-token"));
        assert_eq!(
            a.open(&sealed, "user-1").unwrap().expose_secret(),
            "s.secret-token"
        );
        assert!(a.open(&sealed, "user-2").is_none());
        assert!(b.open(&sealed, "user-1").is_none());
        let mut tampered = sealed.clone();
        tampered.replace_range(40..41, if &sealed[40..41] == "A" { "B" } else { "A" });
        assert!(a.open(&tampered, "user-1").is_none());
    }
}
