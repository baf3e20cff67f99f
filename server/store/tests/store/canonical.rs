//! The audit log as an auditor, or an attacker with the database, sees it: every stored column,
//! and the canonical hash recomputed from `server/store/src/audit/hash.rs`'s module doc alone
//! (both formats), independently of the store's own code. Tests use it to write rows an older
//! Keyway wrote (format 1), and to rewrite a log with every hash valid again.

use sha2::{Digest, Sha256};
use sqlx::Executor;

use crate::common::{Backend, TestDb};

/// Every column of `audit_log`, as stored.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct RawRow {
    pub seq: i64,
    pub id: String,
    pub at: String,
    pub actor_name: String,
    pub actor_entity: String,
    pub action: String,
    pub mount: String,
    pub path: String,
    pub version_before: Option<i64>,
    pub version_after: Option<i64>,
    pub keys_added: String,
    pub keys_changed: String,
    pub keys_removed: String,
    pub outcome: String,
    pub detail: Option<String>,
    pub intent_seq: Option<i64>,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
    pub prev_hash: String,
    pub hash: String,
    pub environment: Option<String>,
    pub app: Option<String>,
    pub vault_request_id: Option<String>,
    pub format: i32,
}

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

impl RawRow {
    /// A format 1 login row, as Keyway wrote it before the audit page (hash still to compute).
    pub fn v1_login(seq: i64, actor: &str, at: &str) -> RawRow {
        RawRow {
            seq,
            id: format!("00000000-0000-4000-8000-{seq:012}"),
            at: at.to_owned(),
            actor_name: actor.to_owned(),
            actor_entity: format!("entity-{actor}"),
            action: "login".into(),
            mount: String::new(),
            path: String::new(),
            version_before: None,
            version_after: None,
            keys_added: "[]".into(),
            keys_changed: "[]".into(),
            keys_removed: "[]".into(),
            outcome: "ok".into(),
            detail: None,
            intent_seq: None,
            request_id: Some(format!("req-{seq}")),
            client_addr: Some("127.0.0.1".into()),
            prev_hash: String::new(),
            hash: String::new(),
            environment: None,
            app: None,
            vault_request_id: None,
            format: 1,
        }
    }
}

/// The canonical hash, as the module doc of `hash.rs` writes it down.
pub fn canonical_hash(r: &RawRow) -> String {
    fn line(out: &mut Vec<u8>, name: &str, value: Field) {
        match value {
            Field::Null => out.extend(format!("{name}:null\n").bytes()),
            Field::Int(v) => out.extend(format!("{name}:i:{v}\n").bytes()),
            Field::Text(v) => {
                out.extend(format!("{name}:{}:", v.len()).bytes());
                out.extend(v.bytes());
                out.push(b'\n');
            }
        }
    }
    let text = |s: &str| Field::Text(s.to_owned());
    let opt_text = |s: &Option<String>| s.clone().map_or(Field::Null, Field::Text);
    let opt_int = |i: Option<i64>| i.map_or(Field::Null, Field::Int);
    let mut fields = vec![
        ("prev_hash", text(&r.prev_hash)),
        ("seq", Field::Int(r.seq)),
        ("id", text(&r.id)),
        ("at", text(&r.at)),
        ("actor_name", text(&r.actor_name)),
        ("actor_entity", text(&r.actor_entity)),
        ("action", text(&r.action)),
        ("mount", text(&r.mount)),
        ("path", text(&r.path)),
        ("version_before", opt_int(r.version_before)),
        ("version_after", opt_int(r.version_after)),
        ("keys_added", text(&r.keys_added)),
        ("keys_changed", text(&r.keys_changed)),
        ("keys_removed", text(&r.keys_removed)),
        ("outcome", text(&r.outcome)),
        ("detail", opt_text(&r.detail)),
        ("intent_seq", opt_int(r.intent_seq)),
        ("request_id", opt_text(&r.request_id)),
        ("client_addr", opt_text(&r.client_addr)),
    ];
    match r.format {
        1 => {}
        2 => fields.extend([
            ("format", Field::Int(2)),
            ("environment", opt_text(&r.environment)),
            ("app", opt_text(&r.app)),
            ("vault_request_id", opt_text(&r.vault_request_id)),
        ]),
        other => panic!("no canonical serialisation for format {other}"),
    }
    let mut bytes = format!("keyway-audit-v{}\n", r.format).into_bytes();
    for (name, value) in fields {
        line(&mut bytes, name, value);
    }
    hex::encode(Sha256::digest(&bytes))
}

enum Field {
    Null,
    Int(i64),
    Text(String),
}

/// Gives rows `from..` (0-based) the seq that follows the row before them, links them and
/// recomputes their hashes: what someone rewriting the log does so that the chain is valid again.
pub fn rechain(rows: &mut [RawRow], from: usize) {
    for i in from..rows.len() {
        let (seq, prev) = match i {
            0 => (1, GENESIS.to_owned()),
            _ => (rows[i - 1].seq + 1, rows[i - 1].hash.clone()),
        };
        rows[i].seq = seq;
        rows[i].prev_hash = prev;
        rows[i].hash = canonical_hash(&rows[i]);
    }
}

/// Every row, oldest first.
pub async fn read_all(t: &TestDb) -> Vec<RawRow> {
    let sql = "SELECT * FROM audit_log ORDER BY seq";
    match t.backend {
        Backend::Sqlite => sqlx::query_as(sql)
            .fetch_all(t.db.sqlite().unwrap())
            .await
            .unwrap(),
        Backend::Postgres => sqlx::query_as(sql)
            .fetch_all(t.db.postgres().unwrap())
            .await
            .unwrap(),
    }
}

/// `INSERT` statements for `rows`, values inline (the rows are the test's own), for
/// [`TestDb::from_older_schema`] too: only the format 1 columns when `v1_schema`.
pub fn inserts(rows: &[RawRow], v1_schema: bool) -> Vec<String> {
    let q = |s: &str| format!("'{}'", s.replace('\'', "''"));
    let oq = |s: &Option<String>| s.as_deref().map_or("NULL".to_owned(), q);
    let oi = |i: Option<i64>| i.map_or("NULL".to_owned(), |i| i.to_string());
    rows.iter()
        .map(|r| {
            let mut columns = "seq, id, at, actor_name, actor_entity, action, mount, path, \
                 version_before, version_after, keys_added, keys_changed, keys_removed, outcome, \
                 detail, intent_seq, request_id, client_addr, prev_hash, hash"
                .to_owned();
            let mut values = [
                r.seq.to_string(),
                q(&r.id),
                q(&r.at),
                q(&r.actor_name),
                q(&r.actor_entity),
                q(&r.action),
                q(&r.mount),
                q(&r.path),
                oi(r.version_before),
                oi(r.version_after),
                q(&r.keys_added),
                q(&r.keys_changed),
                q(&r.keys_removed),
                q(&r.outcome),
                oq(&r.detail),
                oi(r.intent_seq),
                oq(&r.request_id),
                oq(&r.client_addr),
                q(&r.prev_hash),
                q(&r.hash),
            ]
            .join(", ");
            if !v1_schema {
                columns.push_str(", environment, app, vault_request_id, format");
                values.push_str(&format!(
                    ", {}, {}, {}, {}",
                    oq(&r.environment),
                    oq(&r.app),
                    oq(&r.vault_request_id),
                    r.format
                ));
            }
            format!("INSERT INTO audit_log ({columns}) VALUES ({values})")
        })
        .collect()
}

/// Replaces every row with `rows` (the triggers must be off: [`crate::common::switch_off_triggers`]).
/// The key index is left as it is.
pub async fn replace_all(t: &TestDb, rows: &[RawRow]) {
    let mut statements = vec!["DELETE FROM audit_log".to_owned()];
    statements.extend(inserts(rows, false));
    match t.backend {
        Backend::Sqlite => {
            let mut tx = t.db.sqlite().unwrap().begin().await.unwrap();
            for sql in &statements {
                tx.execute(sql.as_str()).await.unwrap();
            }
            tx.commit().await.unwrap();
        }
        Backend::Postgres => {
            let mut tx = t.db.postgres().unwrap().begin().await.unwrap();
            for sql in &statements {
                tx.execute(sql.as_str()).await.unwrap();
            }
            tx.commit().await.unwrap();
        }
    }
}
