//! The checkpoint as text: C2SP `tlog-checkpoint` inside a C2SP `signed-note`, written and read
//! here and nowhere else, with no Vault and no database, so every rule is unit-tested.
//!
//! ```text
//! keyway.local/audit                       origin: the log's identity
//! 48213                                    tree size: the head's seq
//! 2Bq0oGj…=                                base64 of the head's 32-byte hash
//!
//! — keyway.local/audit lT3x…==             key name, base64(4-byte key id || Ed25519 signature)
//! ```
//!
//! The signature covers the note text (the three lines with their newlines, not the blank line).
//! The key name is the origin, as `tlog-checkpoint` recommends, and the key id is the first 4
//! bytes of SHA-256(name || 0x0A || 0x01 || 32-byte public key) (`signed-note`, Ed25519). A
//! reader trusts a note only if a signature by a known key (same name *and* id) verifies; a
//! signature by a known key that fails rejects the whole note, and signatures by unknown keys
//! (a witness's cosignature, say) are ignored, all as `signed-note` says.

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};

use keyway_store::Checkpoint;

/// The signature type byte of Ed25519 in `signed-note`.
const ED25519: u8 = 0x01;
/// The dash that starts a signature line (U+2014, em dash), then a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";
/// Longest note read: a checkpoint is ~200 bytes; this leaves room for many cosignatures.
const NOTE_MAX_BYTES: usize = 64 * 1024;
/// Most signature lines read (`signed-note` asks verifiers to accept at least 16).
const SIGNATURES_MAX: usize = 64;
/// Longest origin accepted in the setting.
const ORIGIN_MAX_CHARS: usize = 255;

/// The log's identity: the first line of every checkpoint, and the name of the key that signs
/// it. A schema-less URL such as `keyway.example.com/audit`: non-empty, no spaces, no `+`, no
/// control characters (what `signed-note` allows in a key name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin(String);

impl Origin {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Origin {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let fine = !s.is_empty()
            && s.chars().count() <= ORIGIN_MAX_CHARS
            && !s
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '+');
        if fine {
            Ok(Origin(s.to_owned()))
        } else {
            Err(format!(
                "`{s}` is not a log origin: give a name such as keyway.example.com/audit \
                 (at most {ORIGIN_MAX_CHARS} characters, no spaces, no '+')"
            ))
        }
    }
}

/// What a checkpoint states: the log `origin` had `size` rows, the last with hash `hash`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointBody {
    pub origin: Origin,
    /// The tree size: the seq of the head row (seqs start at 1 and have no gaps).
    pub size: u64,
    pub hash: [u8; 32],
}

impl CheckpointBody {
    /// The body for a chain head as the store gives it (hash in hex).
    pub fn of_head(origin: &Origin, head: &Checkpoint) -> Result<Self, NoteError> {
        let size = u64::try_from(head.seq)
            .ok()
            .filter(|s| *s > 0)
            .ok_or_else(|| NoteError::NotACheckpoint(format!("seq {} is not a row", head.seq)))?;
        let hash = hex::decode(&head.hash)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| {
                NoteError::NotACheckpoint("the head's hash is not 32 bytes of hex".into())
            })?;
        Ok(CheckpointBody {
            origin: origin.clone(),
            size,
            hash,
        })
    }

    /// The head this checkpoint names, as `AuditLog::verify_against` takes it.
    pub fn head(&self) -> Checkpoint {
        Checkpoint {
            seq: i64::try_from(self.size).unwrap_or(i64::MAX),
            hash: hex::encode(self.hash),
        }
    }

    /// The note text: what is signed.
    pub fn text(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            BASE64.encode(self.hash)
        )
    }
}

/// An Ed25519 key that signs checkpoints, with the name and id its signature lines carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteKey {
    name: String,
    id: [u8; 4],
    key: VerifyingKey,
    /// Where the key comes from, for messages: `transit key transit/keyway-audit v1`.
    pub label: String,
}

impl NoteKey {
    /// The key `public` (32 bytes, RFC 8032) signing under `name`.
    pub fn new(name: &Origin, public: &[u8], label: impl Into<String>) -> Result<Self, String> {
        let label = label.into();
        let bytes = <[u8; 32]>::try_from(public)
            .map_err(|_| format!("the {label} is not a 32-byte Ed25519 public key"))?;
        let key = VerifyingKey::from_bytes(&bytes)
            .map_err(|_| format!("the {label} is not a valid Ed25519 public key"))?;
        Ok(NoteKey {
            name: name.as_str().to_owned(),
            id: key_id(name.as_str(), &bytes),
            key,
            label,
        })
    }

    /// The key id, as `signed-note` computes it for Ed25519.
    pub fn id(&self) -> [u8; 4] {
        self.id
    }

    /// The 32-byte public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }
}

/// `SHA-256(name || 0x0A || 0x01 || public key)[:4]`.
pub fn key_id(name: &str, public: &[u8; 32]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ED25519]);
    h.update(public);
    let digest = h.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

/// The signed note: `body`'s text, a blank line, and `key`'s signature line. The caller has
/// checked `signature` against `key` (see [`open`]).
pub fn signed_note(body: &CheckpointBody, key: &NoteKey, signature: &[u8; 64]) -> String {
    let mut blob = Vec::with_capacity(68);
    blob.extend_from_slice(&key.id);
    blob.extend_from_slice(signature);
    format!(
        "{}\n{SIGNATURE_PREFIX}{} {}\n",
        body.text(),
        key.name,
        BASE64.encode(blob)
    )
}

/// Why a note is not a checkpoint Keyway trusts. Each reads as the end of a sentence about one
/// checkpoint ("version 7 of keyway-audit/checkpoints: …").
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// Not a signed note at all.
    #[error("it is not a signed note: {0}")]
    Malformed(String),
    /// No signature line by any key Keyway trusts.
    #[error("it carries no signature by {0}")]
    NoKnownSignature(String),
    /// A signature by a trusted key that does not verify: the text was changed, or forged.
    #[error("its signature by the {0} does not verify (the checkpoint was altered or forged)")]
    BadSignature(String),
    /// Signed, but for another log.
    #[error("it is the checkpoint of the log \"{found}\", not of \"{expected}\"")]
    WrongOrigin { found: String, expected: String },
    /// A signed note whose text is not a checkpoint.
    #[error("it is not a checkpoint: {0}")]
    NotACheckpoint(String),
}

/// A checkpoint read back and verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opened {
    pub body: CheckpointBody,
    /// The [`NoteKey::label`] of the key whose signature verified.
    pub signed_by: String,
}

/// Reads `note` as a checkpoint of `origin` signed by one of `keys`.
pub fn open(note: &str, origin: &Origin, keys: &[NoteKey]) -> Result<Opened, NoteError> {
    let (text, signatures) = split(note)?;
    let mut verified = None;
    for line in signatures {
        let (name, id, signature) = signature_line(line)?;
        let Some(key) = keys.iter().find(|k| k.name == name && k.id == id) else {
            continue; // Someone else's signature (a cosigner): ignored, as signed-note says.
        };
        let good = Signature::from_slice(&signature)
            .is_ok_and(|sig| key.key.verify_strict(text.as_bytes(), &sig).is_ok());
        if !good {
            return Err(NoteError::BadSignature(key.label.clone()));
        }
        verified.get_or_insert(key);
    }
    let Some(key) = verified else {
        let mut names: Vec<String> = keys.iter().map(|k| k.label.clone()).collect();
        names.dedup();
        return Err(NoteError::NoKnownSignature(if names.is_empty() {
            "any key Keyway trusts".into()
        } else {
            names.join(" or ")
        }));
    };
    let body = body(text)?;
    if body.origin != *origin {
        return Err(NoteError::WrongOrigin {
            found: body.origin.0,
            expected: origin.0.clone(),
        });
    }
    Ok(Opened {
        body,
        signed_by: key.label.clone(),
    })
}

/// The note text (with its final newline) and the signature lines (without theirs).
fn split(note: &str) -> Result<(&str, Vec<&str>), NoteError> {
    let bad = |why: &str| Err(NoteError::Malformed(why.to_owned()));
    if note.len() > NOTE_MAX_BYTES {
        return bad("it is longer than 64 KiB");
    }
    if note.chars().any(|c| c.is_ascii_control() && c != '\n') {
        return bad("it contains a control character");
    }
    if !note.ends_with('\n') {
        return bad("it does not end with a newline");
    }
    // The text is separated from the signatures by the last blank line.
    let Some(blank) = note.rfind("\n\n") else {
        return bad("it has no blank line before its signatures");
    };
    let (text, rest) = (&note[..=blank], &note[blank + 2..]);
    let lines: Vec<&str> = rest
        .strip_suffix('\n')
        .unwrap_or(rest)
        .split('\n')
        .collect();
    if rest.is_empty() || lines.iter().any(|l| l.is_empty()) {
        return bad("it has no signature lines after its blank line");
    }
    if lines.len() > SIGNATURES_MAX {
        return bad("it has too many signature lines");
    }
    Ok((text, lines))
}

/// `— <name> <base64(id || signature)>` → name, id, signature bytes.
fn signature_line(line: &str) -> Result<(&str, [u8; 4], Vec<u8>), NoteError> {
    let malformed = || NoteError::Malformed(format!("\"{line}\" is not a signature line"));
    let rest = line.strip_prefix(SIGNATURE_PREFIX).ok_or_else(malformed)?;
    let (name, encoded) = rest.split_once(' ').ok_or_else(malformed)?;
    if name.is_empty() || name.contains('+') || encoded.contains(' ') {
        return Err(malformed());
    }
    let mut blob = BASE64.decode(encoded).map_err(|_| malformed())?;
    if blob.len() < 5 {
        return Err(malformed());
    }
    let id = [blob[0], blob[1], blob[2], blob[3]];
    Ok((name, id, blob.split_off(4)))
}

/// The checkpoint lines of a verified note text.
fn body(text: &str) -> Result<CheckpointBody, NoteError> {
    let not = |why: String| NoteError::NotACheckpoint(why);
    let lines: Vec<&str> = text
        .strip_suffix('\n')
        .unwrap_or(text)
        .split('\n')
        .collect();
    if lines.len() < 3 || lines.iter().any(|l| l.is_empty()) {
        return Err(not(
            "it needs an origin, a tree size and a hash, each on a line of its own".into(),
        ));
    }
    let origin = Origin::from_str(lines[0]).map_err(not)?;
    let size_text = lines[1];
    let size: u64 = size_text
        .parse()
        .ok()
        .filter(|_| size_text.bytes().all(|b| b.is_ascii_digit()))
        .filter(|_| size_text == "0" || !size_text.starts_with('0'))
        .ok_or_else(|| not(format!("\"{size_text}\" is not a tree size")))?;
    if size == 0 || i64::try_from(size).is_err() {
        return Err(not(format!(
            "tree size {size} names no row of the audit log"
        )));
    }
    let hash = BASE64
        .decode(lines[2])
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| not(format!("\"{}\" is not a base64 32-byte hash", lines[2])))?;
    Ok(CheckpointBody { origin, size, hash })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    /// golang.org/x/mod/sumdb/note's own test key and note (`note_test.go`): an independent
    /// implementation of the same format.
    const PETER_VKEY: &str = "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const PETER_TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                              then you don't know what your problem is.\n";
    const PETER_SIG: &str =
        "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=";

    fn origin() -> Origin {
        "keyway.test/audit".parse().unwrap()
    }

    fn signer(seed: u8) -> (SigningKey, NoteKey) {
        let signing = SigningKey::from_bytes(&[seed; 32]);
        let key = NoteKey::new(
            &origin(),
            signing.verifying_key().as_bytes(),
            format!("test key {seed}"),
        )
        .unwrap();
        (signing, key)
    }

    fn body(size: u64) -> CheckpointBody {
        CheckpointBody {
            origin: origin(),
            size,
            hash: [0xab; 32],
        }
    }

    fn sign(body: &CheckpointBody, seed: u8) -> String {
        let (signing, key) = signer(seed);
        let signature = signing.sign(body.text().as_bytes()).to_bytes();
        signed_note(body, &key, &signature)
    }

    #[test]
    fn the_key_id_is_the_one_go_computes() {
        let public = BASE64.decode(PETER_VKEY).unwrap();
        assert_eq!(public[0], ED25519, "a vkey starts with its type byte");
        let public: [u8; 32] = public[1..].try_into().unwrap();
        assert_eq!(key_id("PeterNeumann", &public), [0xc7, 0x4f, 0x20, 0xa3]);
    }

    #[test]
    fn a_note_signed_by_go_verifies_and_an_edited_one_does_not() {
        let name: Origin = "PeterNeumann".parse().unwrap();
        let public = BASE64.decode(PETER_VKEY).unwrap();
        let key = NoteKey::new(&name, &public[1..], "Peter's key").unwrap();
        let note = format!("{PETER_TEXT}\n\u{2014} PeterNeumann {PETER_SIG}\n");
        // The signature verifies; the text is just not a checkpoint.
        assert!(matches!(
            open(&note, &name, std::slice::from_ref(&key)),
            Err(NoteError::NotACheckpoint(_))
        ));
        let edited = note.replace("cryptography", "cryptographY");
        assert_eq!(
            open(&edited, &name, &[key]).unwrap_err(),
            NoteError::BadSignature("Peter's key".into())
        );
    }

    #[test]
    fn a_checkpoint_has_the_c2sp_layout() {
        let note = sign(&body(42), 7);
        let lines: Vec<&str> = note.lines().collect();
        assert_eq!(
            lines[..4],
            ["keyway.test/audit", "42", &BASE64.encode([0xab; 32]), ""]
        );
        let (name, blob) = lines[4]
            .strip_prefix("\u{2014} ")
            .unwrap()
            .split_once(' ')
            .unwrap();
        assert_eq!(name, "keyway.test/audit");
        let blob = BASE64.decode(blob).unwrap();
        assert_eq!(blob.len(), 4 + 64);
        assert_eq!(blob[..4], signer(7).1.id());
        assert_eq!(lines.len(), 5);
        assert!(note.ends_with('\n'));
    }

    #[test]
    fn a_checkpoint_round_trips_to_the_head_it_was_made_of() {
        let head = Checkpoint {
            seq: 48213,
            hash: "0f".repeat(32),
        };
        let made = CheckpointBody::of_head(&origin(), &head).unwrap();
        let (_, key) = signer(7);
        let opened = open(&sign(&made, 7), &origin(), &[signer(9).1, key]).unwrap();
        assert_eq!(opened.body, made);
        assert_eq!(opened.body.head(), head);
        assert_eq!(opened.signed_by, "test key 7");
    }

    #[test]
    fn signatures_by_unknown_keys_are_ignored_but_one_known_must_verify() {
        let note = sign(&body(3), 7);
        let (other_signing, other) = signer(8);
        // A second line, by a key the reader does not know (a cosigner): still fine.
        let cosig = other_signing.sign(body(3).text().as_bytes()).to_bytes();
        let extra = signed_note(&body(3), &other, &cosig);
        let cosigned = format!("{note}{}", extra.lines().last().unwrap()) + "\n";
        assert!(open(&cosigned, &origin(), &[signer(7).1]).is_ok());
        // Signed by nobody the reader knows.
        assert_eq!(
            open(&note, &origin(), &[other]).unwrap_err().to_string(),
            "it carries no signature by test key 8"
        );
    }

    #[test]
    fn a_bad_signature_is_refused_plainly() {
        let note = sign(&body(5), 7);
        // Same key name and id, other text: a forged or edited checkpoint.
        let forged = note.replacen("\n5\n", "\n6\n", 1);
        let err = open(&forged, &origin(), &[signer(7).1]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "its signature by the test key 7 does not verify (the checkpoint was altered or forged)"
        );
        // The signature bytes themselves changed.
        let (text, sig) = note.rsplit_once(' ').unwrap();
        let mut blob = BASE64.decode(sig.trim_end()).unwrap();
        blob[10] ^= 1;
        let flipped = format!("{text} {}\n", BASE64.encode(blob));
        assert!(matches!(
            open(&flipped, &origin(), &[signer(7).1]),
            Err(NoteError::BadSignature(_))
        ));
    }

    #[test]
    fn a_wrong_origin_is_refused_plainly() {
        let mut other = body(5);
        other.origin = "other.example/log".parse().unwrap();
        let note = sign(&other, 7);
        let err = open(&note, &origin(), &[signer(7).1]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "it is the checkpoint of the log \"other.example/log\", not of \"keyway.test/audit\""
        );
    }

    #[test]
    fn malformed_notes_are_refused_plainly() {
        let good = sign(&body(5), 7);
        let key = [signer(7).1];
        let cases = [
            (
                "",
                "it is not a signed note: it does not end with a newline",
            ),
            (
                "keyway.test/audit\n5\n",
                "it is not a signed note: it has no blank line before its signatures",
            ),
            (&good.replace('\u{2014}', "-"), "is not a signature line"),
            (
                &good.replacen("\n5\n", "\n5\r\n", 1),
                "it is not a signed note: it contains a control character",
            ),
            (good.trim_end(), "does not end with a newline"),
            (
                &format!("{good}\n"),
                "it has no signature lines after its blank line",
            ),
        ];
        for (note, says) in cases {
            let err = open(note, &origin(), &key).unwrap_err().to_string();
            assert!(err.contains(says), "{note:?}: {err}");
        }
    }

    #[test]
    fn a_signed_text_that_is_no_checkpoint_is_refused() {
        for (text, says) in [
            (
                "keyway.test/audit\n5\n",
                "needs an origin, a tree size and a hash",
            ),
            ("keyway.test/audit\n05\nAAAA\n", "\"05\" is not a tree size"),
            ("keyway.test/audit\n0\nAAAA\n", "tree size 0 names no row"),
            (
                "keyway.test/audit\n5\nAAAA\n",
                "\"AAAA\" is not a base64 32-byte hash",
            ),
        ] {
            let (signing, key) = signer(7);
            let sig = BASE64.encode(
                [
                    key.id().as_slice(),
                    &signing.sign(text.as_bytes()).to_bytes(),
                ]
                .concat(),
            );
            let note = format!("{text}\n\u{2014} keyway.test/audit {sig}\n");
            let err = open(&note, &origin(), &[key]).unwrap_err().to_string();
            assert!(
                err.starts_with("it is not a checkpoint: ") && err.contains(says),
                "{err}"
            );
        }
    }

    #[test]
    fn an_origin_is_a_key_name() {
        assert!("keyway.example.com/audit".parse::<Origin>().is_ok());
        for bad in ["", "with space", "a+b", "tab\there", &"x".repeat(256)] {
            let err = bad.parse::<Origin>().unwrap_err();
            assert!(err.contains("is not a log origin"), "{bad}: {err}");
        }
    }
}
