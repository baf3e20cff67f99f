//! The canonical serialisations that each row's `hash` covers, written down so that an auditor can
//! re-check an exported log with any language.
//!
//! `hash = lowercase hex( SHA-256( bytes ) )`, where `bytes` is the UTF-8 text
//!
//! ```text
//! keyway-audit-v<format>\n
//! <field>\n   for each field below, in this order
//! ```
//!
//! and each field line is one of
//!
//! | value   | line                                                      |
//! |---------|-----------------------------------------------------------|
//! | text    | `name:<byte length in decimal>:<the UTF-8 bytes>`         |
//! | integer | `name:i:<decimal, '-' if negative>`                       |
//! | null    | `name:null`                                               |
//!
//! A row's `format` column says which serialisation its hash covers:
//!
//! * **Format 1** (`keyway-audit-v1`, every row written before the audit page): `prev_hash`
//!   (text), `seq` (integer), `id`, `at`, `actor_name`, `actor_entity`, `action`, `mount`, `path`
//!   (text), `version_before`, `version_after` (integer or null), `keys_added`, `keys_changed`,
//!   `keys_removed` (text: the stored JSON array exactly as it is in the column), `outcome`
//!   (text), `detail` (text or null), `intent_seq` (integer or null), `request_id`,
//!   `client_addr` (text or null).
//! * **Format 2** (`keyway-audit-v2`, rows written since): the same fields in the same way, then
//!   `format` (integer, 2), `environment`, `app`, `vault_request_id` (text or null).
//!
//! That is every column except `hash` itself. A row of any other format does not verify (it is
//! reported as altered): it was changed, or written by a Keyway newer than the verifier.
//!
//! The length prefix makes the encoding unambiguous without any escaping rule, and hashing the
//! stored text (not a re-serialisation) means verification never depends on a JSON library. The
//! domain line keeps the formats apart: no row of one format hashes like a row of the other. The
//! first row's `prev_hash` is 64 zeros ([`GENESIS_PREV_HASH`]). In Python, with `row` a dict of
//! the stored columns:
//!
//! ```text
//! V1 = ["prev_hash", "seq", "id", "at", "actor_name", "actor_entity", "action", "mount", "path",
//!       "version_before", "version_after", "keys_added", "keys_changed", "keys_removed",
//!       "outcome", "detail", "intent_seq", "request_id", "client_addr"]
//! V2 = V1 + ["format", "environment", "app", "vault_request_id"]
//! def line(name, v):
//!     if v is None: return f"{name}:null\n".encode()
//!     if isinstance(v, int): return f"{name}:i:{v}\n".encode()
//!     b = v.encode(); return f"{name}:{len(b)}:".encode() + b + b"\n"
//! def row_hash(row):
//!     fields = {1: V1, 2: V2}[row["format"]]
//!     head = f"keyway-audit-v{row['format']}\n".encode()
//!     return hashlib.sha256(head + b"".join(line(n, row[n]) for n in fields)).hexdigest()
//! ```

use sha2::{Digest, Sha256};

use super::row::StoredRow;

/// `prev_hash` of the first row.
pub const GENESIS_PREV_HASH: &str =
    "0000000000000000000000000000000000000000000000000000000000000000";

/// The format every row is written in now.
pub(crate) const CURRENT_FORMAT: i32 = 2;

/// The hash a row must carry, computed from every other field as its `format` says; `None` for
/// a format this Keyway does not know.
pub(crate) fn row_hash(r: &StoredRow) -> Option<String> {
    let mut h = Sha256::new();
    match r.format {
        // Format 1 hashes no context, so a format-1 row that carries some was not written so:
        // the database's CHECK says the same, but its owner can drop that.
        1 if r.environment.is_some() || r.app.is_some() || r.vault_request_id.is_some() => {
            return None
        }
        1 => h.update(b"keyway-audit-v1\n"),
        2 => h.update(b"keyway-audit-v2\n"),
        _ => return None,
    }
    v1_fields(&mut h, r);
    if r.format == 2 {
        int(&mut h, "format", Some(i64::from(r.format)));
        opt_text(&mut h, "environment", r.environment.as_deref());
        opt_text(&mut h, "app", r.app.as_deref());
        opt_text(&mut h, "vault_request_id", r.vault_request_id.as_deref());
    }
    Some(hex::encode(h.finalize()))
}

/// The fields of format 1, which format 2 starts with.
fn v1_fields(h: &mut Sha256, r: &StoredRow) {
    text(h, "prev_hash", &r.prev_hash);
    int(h, "seq", Some(r.seq));
    text(h, "id", &r.id);
    text(h, "at", &r.at);
    text(h, "actor_name", &r.actor_name);
    text(h, "actor_entity", &r.actor_entity);
    text(h, "action", &r.action);
    text(h, "mount", &r.mount);
    text(h, "path", &r.path);
    int(h, "version_before", r.version_before);
    int(h, "version_after", r.version_after);
    text(h, "keys_added", &r.keys_added);
    text(h, "keys_changed", &r.keys_changed);
    text(h, "keys_removed", &r.keys_removed);
    text(h, "outcome", &r.outcome);
    opt_text(h, "detail", r.detail.as_deref());
    int(h, "intent_seq", r.intent_seq);
    opt_text(h, "request_id", r.request_id.as_deref());
    opt_text(h, "client_addr", r.client_addr.as_deref());
}

fn text(h: &mut Sha256, name: &str, value: &str) {
    h.update(format!("{name}:{}:", value.len()));
    h.update(value.as_bytes());
    h.update(b"\n");
}

fn opt_text(h: &mut Sha256, name: &str, value: Option<&str>) {
    match value {
        Some(v) => text(h, name, v),
        None => h.update(format!("{name}:null\n")),
    }
}

fn int(h: &mut Sha256, name: &str, value: Option<i64>) {
    match value {
        Some(v) => h.update(format!("{name}:i:{v}\n")),
        None => h.update(format!("{name}:null\n")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> StoredRow {
        StoredRow {
            seq: 2,
            id: "6f1c2a9e-0000-4000-8000-000000000002".into(),
            at: "2025-01-31T12:00:00.123Z".into(),
            actor_name: "alice".into(),
            actor_entity: "".into(),
            action: "secret.save".into(),
            mount: "dev".into(),
            path: "webapp/config".into(),
            version_before: Some(6),
            version_after: None,
            keys_added: r#"["DB_URL"]"#.into(),
            keys_changed: "[]".into(),
            keys_removed: r#"["ÖLD"]"#.into(),
            outcome: "pending".into(),
            detail: None,
            intent_seq: None,
            request_id: Some("req-1".into()),
            client_addr: None,
            prev_hash: GENESIS_PREV_HASH.into(),
            hash: String::new(),
            environment: None,
            app: None,
            vault_request_id: None,
            format: 1,
        }
    }

    /// The same row in format 2, about an app of an environment, with Vault's request id.
    fn sample_v2() -> StoredRow {
        StoredRow {
            format: 2,
            environment: Some("dev".into()),
            app: Some("webapp".into()),
            vault_request_id: Some("8d4f1a9b-0000-4000-8000-00000000000a".into()),
            ..sample()
        }
    }

    /// Pinned: if this changes, every stored chain stops verifying. The value was computed
    /// independently with the Python snippet in the module doc.
    #[test]
    fn the_canonical_serialisation_is_stable() {
        assert_eq!(row_hash(&sample()).as_deref(), Some(PINNED_SAMPLE_HASH));
    }

    /// Pinned like format 1, from the same Python snippet.
    #[test]
    fn the_canonical_serialisation_of_format_2_is_stable() {
        assert_eq!(
            row_hash(&sample_v2()).as_deref(),
            Some(PINNED_SAMPLE_V2_HASH)
        );
        let no_context = StoredRow {
            environment: None,
            app: None,
            vault_request_id: None,
            ..sample_v2()
        };
        assert_eq!(
            row_hash(&no_context).as_deref(),
            Some(PINNED_SAMPLE_V2_NULLS_HASH)
        );
        assert_ne!(
            row_hash(&no_context),
            row_hash(&sample()),
            "the same fields hash apart in the two formats"
        );
    }

    #[test]
    fn a_format_1_row_carrying_context_has_no_hash() {
        // Format 1 hashes no environment, app or Vault request id: a row claiming format 1
        // with one of them could move between environments unseen, so it is not vouched for.
        let edits: [fn(&mut StoredRow); 3] = [
            |r| r.environment = Some("prod".into()),
            |r| r.app = Some("billing".into()),
            |r| r.vault_request_id = Some("x".into()),
        ];
        for edit in edits {
            let mut r = sample();
            edit(&mut r);
            assert_eq!(row_hash(&r), None);
        }
        assert!(row_hash(&sample()).is_some());
    }

    #[test]
    fn a_format_this_keyway_does_not_know_has_no_hash() {
        for format in [0, 3, -1] {
            let r = StoredRow { format, ..sample() };
            assert_eq!(row_hash(&r), None, "format {format}");
        }
    }

    #[test]
    fn every_field_of_format_2_changes_the_hash() {
        let base = row_hash(&sample_v2());
        let edits: Vec<fn(&mut StoredRow)> = vec![
            |r| r.environment = Some("prod".into()),
            |r| r.environment = None,
            |r| r.app = Some("other".into()),
            |r| r.app = None,
            |r| r.vault_request_id = Some("x".into()),
            |r| r.vault_request_id = None,
            |r| r.format = 1,
            |r| r.actor_name = "mallory".into(),
        ];
        for (i, edit) in edits.into_iter().enumerate() {
            let mut r = sample_v2();
            edit(&mut r);
            assert_ne!(row_hash(&r), base, "edit {i} did not change the hash");
        }
    }

    #[test]
    fn every_field_changes_the_hash() {
        let base = row_hash(&sample());
        let edits: Vec<fn(&mut StoredRow)> = vec![
            |r| r.prev_hash = "1".repeat(64),
            |r| r.seq = 3,
            |r| r.id.push('x'),
            |r| r.at = "2025-01-31T12:00:00.124Z".into(),
            |r| r.actor_name = "mallory".into(),
            |r| r.actor_entity = "e".into(),
            |r| r.action = "secret.delete".into(),
            |r| r.mount = "prod".into(),
            |r| r.path = "webapp/other".into(),
            |r| r.version_before = None,
            |r| r.version_after = Some(7),
            |r| r.keys_added = "[]".into(),
            |r| r.keys_changed = r#"["X"]"#.into(),
            |r| r.keys_removed = "[]".into(),
            |r| r.outcome = "ok".into(),
            |r| r.detail = Some(String::new()),
            |r| r.intent_seq = Some(1),
            |r| r.request_id = None,
            |r| r.client_addr = Some("10.0.0.1".into()),
        ];
        for (i, edit) in edits.into_iter().enumerate() {
            let mut r = sample();
            edit(&mut r);
            assert_ne!(row_hash(&r), base, "edit {i} did not change the hash");
        }
    }

    #[test]
    fn moving_bytes_between_adjacent_fields_changes_the_hash() {
        let mut a = sample();
        a.mount = "dev/web".into();
        a.path = "app".into();
        let mut b = sample();
        b.mount = "dev".into();
        b.path = "/webapp".into();
        assert_ne!(row_hash(&a), row_hash(&b));
    }

    const PINNED_SAMPLE_HASH: &str =
        "42041b8d17bb7b46af1689614816cab5c8fde12f2688b3d7d17b6d14c3478b33";
    const PINNED_SAMPLE_V2_HASH: &str =
        "f0d1adfb17d835eeba337571acdf8f896053191a973366c3dc8455f15487a3eb";
    const PINNED_SAMPLE_V2_NULLS_HASH: &str =
        "c8951c52bdd3bc8d4dbeae496fc0d2454d348fa70c907c2c16ea8c2cbc7bd962";
}
