//! The canonical serialisation that each row's `hash` covers, written down so that an auditor can
//! re-check an exported log with any language.
//!
//! `hash = lowercase hex( SHA-256( bytes ) )`, where `bytes` is the UTF-8 text
//!
//! ```text
//! keyway-audit-v1\n
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
//! Fields, in order: `prev_hash` (text), `seq` (integer), `id`, `at`, `actor_name`,
//! `actor_entity`, `action`, `mount`, `path` (text), `version_before`, `version_after` (integer
//! or null), `keys_added`, `keys_changed`, `keys_removed` (text: the stored JSON array exactly as
//! it is in the column), `outcome` (text), `detail` (text or null), `intent_seq` (integer or null),
//! `request_id`, `client_addr` (text or null). That is every column except `hash` itself.
//!
//! The length prefix makes the encoding unambiguous without any escaping rule, and hashing the
//! stored text (not a re-serialisation) means verification never depends on a JSON library. The
//! first row's `prev_hash` is 64 zeros ([`GENESIS_PREV_HASH`]). In Python:
//!
//! ```text
//! def line(name, v):
//!     if v is None: return f"{name}:null\n".encode()
//!     if isinstance(v, int): return f"{name}:i:{v}\n".encode()
//!     b = v.encode(); return f"{name}:{len(b)}:".encode() + b + b"\n"
//! h = hashlib.sha256(b"keyway-audit-v1\n" + b"".join(line(n, row[n]) for n in FIELDS)).hexdigest()
//! ```

use sha2::{Digest, Sha256};

use super::row::StoredRow;

/// `prev_hash` of the first row.
pub const GENESIS_PREV_HASH: &str =
    "0000000000000000000000000000000000000000000000000000000000000000";

const DOMAIN: &[u8] = b"keyway-audit-v1\n";

/// The hash a row must carry, computed from every other field.
pub(crate) fn row_hash(r: &StoredRow) -> String {
    let mut h = Sha256::new();
    h.update(DOMAIN);
    text(&mut h, "prev_hash", &r.prev_hash);
    int(&mut h, "seq", Some(r.seq));
    text(&mut h, "id", &r.id);
    text(&mut h, "at", &r.at);
    text(&mut h, "actor_name", &r.actor_name);
    text(&mut h, "actor_entity", &r.actor_entity);
    text(&mut h, "action", &r.action);
    text(&mut h, "mount", &r.mount);
    text(&mut h, "path", &r.path);
    int(&mut h, "version_before", r.version_before);
    int(&mut h, "version_after", r.version_after);
    text(&mut h, "keys_added", &r.keys_added);
    text(&mut h, "keys_changed", &r.keys_changed);
    text(&mut h, "keys_removed", &r.keys_removed);
    text(&mut h, "outcome", &r.outcome);
    opt_text(&mut h, "detail", r.detail.as_deref());
    int(&mut h, "intent_seq", r.intent_seq);
    opt_text(&mut h, "request_id", r.request_id.as_deref());
    opt_text(&mut h, "client_addr", r.client_addr.as_deref());
    hex::encode(h.finalize())
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
        }
    }

    /// Pinned: if this changes, every stored chain stops verifying. The value was computed
    /// independently with the Python snippet in the module doc.
    #[test]
    fn the_canonical_serialisation_is_stable() {
        assert_eq!(row_hash(&sample()), PINNED_SAMPLE_HASH);
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
}
