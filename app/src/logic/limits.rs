//! The bounds on what a user can send, in one place, each checked before anything is written
//! (an audit row included) and answered with a plain sentence.
//!
//! Why bounds at all: every user-controlled string can reach an audit row, and the audit table
//! is append-only. Without them a 2 MiB secret path gave a 2–4 MiB row per request, and a full
//! disk then refuses every audited action. The request body is capped by the server
//! (`BODY_MAX_BYTES`); the fields below are capped one by one so the message can name the field.
//! The key name and secret size rules live in [`super::keys`] (they come from Kubernetes).

/// Largest request body the server reads. A save carries at most one secret, and a secret must
/// fit a Kubernetes Secret (1 MiB, its values counted twice: [`super::keys::check_size`]), so a
/// legitimate body is well under this.
pub const BODY_MAX_BYTES: usize = 1024 * 1024;

/// Longest kv mount name, in bytes.
pub const MOUNT_MAX_BYTES: usize = 128;
/// Longest secret path inside a mount, in bytes.
pub const PATH_MAX_BYTES: usize = 512;
/// Most keys one secret (or one request naming keys) may have.
pub const KEYS_MAX: usize = 500;
/// Longest key name a request may refer to (to reveal, remove or rename it). Such a key may have
/// been written outside Keyway, so this is looser than the rule for a new key
/// ([`super::keys::KEY_MAX_LEN`]).
pub const KEY_REF_MAX_CHARS: usize = 1024;
/// Longest username, login mount or search text, in characters.
pub const NAME_MAX_CHARS: usize = 256;
/// Longest password or Vault token, in bytes.
pub const CREDENTIAL_MAX_BYTES: usize = 8 * 1024;

/// Refuses more than [`KEYS_MAX`] keys; `what` names them ("This secret has", "The request names").
pub fn check_key_count(count: usize, what: &str) -> Result<(), String> {
    if count > KEYS_MAX {
        return Err(format!(
            "{what} {count} keys; at most {KEYS_MAX} are allowed."
        ));
    }
    Ok(())
}

/// Refuses more than [`KEYS_MAX`] key names, or one longer than [`KEY_REF_MAX_CHARS`].
pub fn check_key_refs<'a>(
    names: impl ExactSizeIterator<Item = &'a String>,
    what: &str,
) -> Result<(), String> {
    check_key_count(names.len(), what)?;
    for name in names {
        check_chars("key name", name, KEY_REF_MAX_CHARS)?;
    }
    Ok(())
}

/// Refuses a text field longer than `max` characters, naming the field.
pub fn check_chars(field: &str, value: &str, max: usize) -> Result<(), String> {
    let n = value.chars().count();
    if n > max {
        return Err(format!(
            "The {field} is {n} characters long; at most {max} are allowed."
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_over_its_bound_is_refused_naming_the_field_and_the_bound() {
        assert!(check_chars("username", &"a".repeat(NAME_MAX_CHARS), NAME_MAX_CHARS).is_ok());
        let e =
            check_chars("username", &"é".repeat(NAME_MAX_CHARS + 1), NAME_MAX_CHARS).unwrap_err();
        assert!(
            e.contains("username") && e.contains("257") && e.contains("256"),
            "{e}"
        );
        assert!(check_key_count(KEYS_MAX, "This secret has").is_ok());
        let e = check_key_count(KEYS_MAX + 1, "This secret has").unwrap_err();
        assert_eq!(e, "This secret has 501 keys; at most 500 are allowed.");
    }
}
