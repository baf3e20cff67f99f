//! The tower-sessions store in Keyway's own database, with three rules the stock stores lack:
//!
//! - **the row's id is a keyed hash of the cookie's id** (HMAC-SHA256 under a key derived from
//!   the session key), so a copy of the database holds no id a browser could present, and an id
//!   read from the database, sent as a cookie, names no session;
//! - **`save` only updates a live row**: a request still in flight when its session was deleted
//!   (logout) or expired cannot write it back when its response ends (tower-sessions saves a
//!   modified session then, and the stock `save` is an upsert);
//! - **expired rows go through [`AnyStore::expired`] before they are deleted**, so the sweeper
//!   ([`super::sweep`]) can end their Vault tokens.

use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::{session_store, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

/// The stock stores' table names (their defaults), which the queries here share.
const SQLITE_TABLE: &str = "tower_sessions";
const POSTGRES_TABLE: &str = r#""tower_sessions"."session""#;

#[derive(Debug, Clone)]
enum Backing {
    Sqlite(SqliteStore, sqlx::SqlitePool),
    Postgres(PostgresStore, sqlx::PgPool),
}

/// The session store for whichever database Keyway runs on.
#[derive(Clone)]
pub struct AnyStore {
    backing: Backing,
    id_key: [u8; 32],
}

impl std::fmt::Debug for AnyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnyStore")
            .field("backing", &self.backing)
            .finish_non_exhaustive()
    }
}

fn backend_error(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

impl AnyStore {
    /// The store on the shared pool (its table comes from the migrations). `session_key` is Keyway's session
    /// key; the id hash uses a key derived from it.
    pub async fn new(db: &keyway_store::Db, session_key: &[u8; 32]) -> Result<Self, String> {
        // The session table is made by Keyway's migrations (`migrations/*/0003_sessions.sql`,
        // tower-sessions' own DDL), so the serving role runs no DDL.
        let backing = if let Some(pool) = db.sqlite() {
            Backing::Sqlite(SqliteStore::new(pool.clone()), pool.clone())
        } else if let Some(pool) = db.postgres() {
            Backing::Postgres(PostgresStore::new(pool.clone()), pool.clone())
        } else {
            return Err("no database pool".into());
        };
        Ok(AnyStore {
            backing,
            id_key: crate::sealing::derive_key(session_key, "keyway session id v1"),
        })
    }

    /// The id a session's row has in the database: the keyed hash of the cookie's id.
    pub fn stored_id(&self, cookie_id: &Id) -> Id {
        let digest = crate::sealing::keyed_hash(&self.id_key, &cookie_id.0.to_le_bytes());
        let mut first = [0u8; 16];
        first.copy_from_slice(&digest[..16]);
        Id(i128::from_le_bytes(first))
    }

    fn stored(&self, record: &Record) -> Record {
        Record {
            id: self.stored_id(&record.id),
            ..record.clone()
        }
    }

    /// The rows whose expiry is at or before `now`, as stored (their ids are the hashes).
    pub async fn expired(&self, now: OffsetDateTime) -> session_store::Result<Vec<Record>> {
        let rows: Vec<(Vec<u8>,)> = match &self.backing {
            Backing::Sqlite(_, pool) => {
                sqlx::query_as(&format!(
                    "select data from {SQLITE_TABLE} where expiry_date <= ?"
                ))
                .bind(now)
                .fetch_all(pool)
                .await
            }
            Backing::Postgres(_, pool) => {
                sqlx::query_as(&format!(
                    "select data from {POSTGRES_TABLE} where expiry_date <= $1"
                ))
                .bind(now)
                .fetch_all(pool)
                .await
            }
        }
        .map_err(backend_error)?;
        rows.iter()
            .map(|(data,)| rmp_serde::from_slice(data).map_err(backend_error))
            .collect()
    }

    /// How many rows have not expired at `now`: the sessions of every replica (one store),
    /// pre-login ones included (telling them apart would mean decoding every row).
    pub async fn live_count(&self, now: OffsetDateTime) -> session_store::Result<i64> {
        let (n,): (i64,) = match &self.backing {
            Backing::Sqlite(_, pool) => {
                sqlx::query_as(&format!(
                    "select count(*) from {SQLITE_TABLE} where expiry_date > ?"
                ))
                .bind(now)
                .fetch_one(pool)
                .await
            }
            Backing::Postgres(_, pool) => {
                sqlx::query_as(&format!(
                    "select count(*) from {POSTGRES_TABLE} where expiry_date > $1"
                ))
                .bind(now)
                .fetch_one(pool)
                .await
            }
        }
        .map_err(backend_error)?;
        Ok(n)
    }

    /// Deletes a row by its stored id (as [`AnyStore::expired`] returns it).
    pub async fn delete_stored(&self, stored_id: &Id) -> session_store::Result<()> {
        match &self.backing {
            Backing::Sqlite(s, _) => s.delete(stored_id).await,
            Backing::Postgres(s, _) => s.delete(stored_id).await,
        }
    }

    /// Deletes an expired row by its stored id; true when this call deleted it. Several
    /// replicas sweep the same table: only the one whose delete took the row ends its session,
    /// so a session that timed out gets one audit row, not one per replica.
    pub async fn take_expired(&self, stored_id: &Id) -> session_store::Result<bool> {
        let id = stored_id.to_string();
        let deleted = match &self.backing {
            Backing::Sqlite(_, pool) => {
                sqlx::query(&format!("delete from {SQLITE_TABLE} where id = ?"))
                    .bind(id)
                    .execute(pool)
                    .await
                    .map(|r| r.rows_affected())
            }
            Backing::Postgres(_, pool) => {
                sqlx::query(&format!("delete from {POSTGRES_TABLE} where id = $1"))
                    .bind(id)
                    .execute(pool)
                    .await
                    .map(|r| r.rows_affected())
            }
        }
        .map_err(backend_error)?;
        Ok(deleted > 0)
    }

    /// Writes a row that is still there and unexpired; true when one was.
    async fn update_live(&self, stored: &Record) -> session_store::Result<bool> {
        let data = rmp_serde::to_vec(stored).map_err(backend_error)?;
        let now = OffsetDateTime::now_utc();
        // The same statement on either database; only the placeholders differ.
        macro_rules! update {
            ($sql:expr, $pool:expr) => {
                sqlx::query(&$sql)
                    .bind(data)
                    .bind(stored.expiry_date)
                    .bind(stored.id.to_string())
                    .bind(now)
                    .execute($pool)
                    .await
                    .map(|r| r.rows_affected())
            };
        }
        let done = match &self.backing {
            Backing::Sqlite(_, pool) => update!(
                format!("update {SQLITE_TABLE} set data = ?, expiry_date = ? where id = ? and expiry_date > ?"),
                pool
            ),
            Backing::Postgres(_, pool) => update!(
                format!("update {POSTGRES_TABLE} set data = $1, expiry_date = $2 where id = $3 and expiry_date > $4"),
                pool
            ),
        }
        .map_err(backend_error)?;
        Ok(done > 0)
    }
}

#[async_trait::async_trait]
impl SessionStore for AnyStore {
    /// Inserts under the hash of `record.id`. The stock `create` draws a new random id when the
    /// insert collides and stores under it; a row under an id that is no hash of a cookie is
    /// unreachable, so that row is dropped and a new cookie id drawn instead.
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        loop {
            let mut stored = self.stored(record);
            let wanted = stored.id;
            match &self.backing {
                Backing::Sqlite(s, _) => s.create(&mut stored).await?,
                Backing::Postgres(s, _) => s.create(&mut stored).await?,
            }
            if stored.id == wanted {
                return Ok(());
            }
            self.delete_stored(&stored.id).await?;
            record.id = Id::default();
        }
    }

    /// Never inserts: a session deleted or expired meanwhile stays gone.
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        if !self.update_live(&self.stored(record)).await? {
            tracing::debug!("a session ended while a request was in flight; not written back");
        }
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let stored = self.stored_id(id);
        let found = match &self.backing {
            Backing::Sqlite(s, _) => s.load(&stored).await?,
            Backing::Postgres(s, _) => s.load(&stored).await?,
        };
        // The session works with the cookie's id; only this store knows the hash.
        Ok(found.map(|r| Record { id: *id, ..r }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.delete_stored(&self.stored_id(id)).await
    }
}
