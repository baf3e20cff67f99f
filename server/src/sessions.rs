//! Sessions: the tower-sessions store in Keyway's own database, and the typed record of a
//! logged-in user.
//!
//! The record holds the user's Vault token sealed with the session key (see [`crate::sealing`]),
//! their Vault identity, and when the token expires. A session ends at the earlier of the idle
//! timeout (the cookie layer) and the token's expiry (checked on every request); an active session
//! renews a renewable token once half its TTL has passed.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tower_sessions::{
    session::{Id, Record},
    session_store, SessionStore,
};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

/// The session store for whichever database Keyway runs on.
#[derive(Debug, Clone)]
pub enum AnyStore {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl AnyStore {
    /// The store on the shared pool. Its table is made by Keyway's migrations
    /// (`migrations/*/0003_sessions.sql`), so the serving role runs no DDL.
    pub fn new(db: &keyway_store::Db) -> Result<Self, String> {
        if let Some(pool) = db.sqlite() {
            Ok(AnyStore::Sqlite(SqliteStore::new(pool.clone())))
        } else if let Some(pool) = db.postgres() {
            Ok(AnyStore::Postgres(PostgresStore::new(pool.clone())))
        } else {
            Err("no database pool".into())
        }
    }

    /// Deletes expired sessions every minute, for as long as Keyway runs.
    pub fn spawn_cleanup(&self) {
        use tower_sessions::ExpiredDeletion;
        let period = std::time::Duration::from_secs(60);
        match self.clone() {
            AnyStore::Sqlite(s) => {
                tokio::spawn(s.continuously_delete_expired(period));
            }
            AnyStore::Postgres(s) => {
                tokio::spawn(s.continuously_delete_expired(period));
            }
        }
    }
}

#[async_trait]
impl SessionStore for AnyStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            AnyStore::Sqlite(s) => s.create(record).await,
            AnyStore::Postgres(s) => s.create(record).await,
        }
    }
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            AnyStore::Sqlite(s) => s.save(record).await,
            AnyStore::Postgres(s) => s.save(record).await,
        }
    }
    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            AnyStore::Sqlite(s) => s.load(id).await,
            AnyStore::Postgres(s) => s.load(id).await,
        }
    }
    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            AnyStore::Sqlite(s) => s.delete(id).await,
            AnyStore::Postgres(s) => s.delete(id).await,
        }
    }
}

/// The session key under which [`StoredUser`] lives.
pub const USER_KEY: &str = "user";

/// A logged-in user as kept in the session store. No plaintext token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredUser {
    pub sealed_token: String,
    pub display_name: String,
    pub entity_id: String,
    pub policies: Vec<String>,
    /// Unix seconds when the token expires; `None` for tokens that never expire.
    pub expires_at: Option<i64>,
    pub renewable: bool,
    /// The TTL the token had at login, used as the renewal increment.
    pub ttl_secs: u64,
    /// Unix seconds of the last request that touched the session (coarse: a minute). Updating it
    /// saves the session, which is what slides the idle expiry forward.
    #[serde(default)]
    pub last_seen: i64,
}

/// How stale `last_seen` may get before a request writes the session again.
pub const TOUCH_EVERY_SECS: i64 = 60;

impl StoredUser {
    /// The associated data binding the sealed token to this identity.
    pub fn binding(display_name: &str, entity_id: &str) -> String {
        format!("keyway-token:{display_name}:{entity_id}")
    }

    pub fn expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|t| t <= now)
    }

    /// Renew once less than half of the TTL is left.
    pub fn wants_renewal(&self, now: i64) -> bool {
        match self.expires_at {
            Some(t) if self.renewable && self.ttl_secs > 0 => {
                (t - now) < (self.ttl_secs as i64) / 2
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(expires_at: Option<i64>, renewable: bool, ttl: u64) -> StoredUser {
        StoredUser {
            sealed_token: String::new(),
            display_name: "userpass-alice".into(),
            entity_id: "e".into(),
            policies: vec![],
            expires_at,
            renewable,
            ttl_secs: ttl,
            last_seen: 0,
        }
    }

    #[test]
    fn a_session_ends_when_its_token_expires() {
        assert!(user(Some(100), true, 60).expired(100));
        assert!(!user(Some(100), true, 60).expired(99));
        assert!(!user(None, false, 0).expired(i64::MAX));
    }

    #[test]
    fn renewal_starts_after_half_the_ttl() {
        let u = user(Some(1000), true, 600);
        assert!(!u.wants_renewal(600)); // 400 s left of 600
        assert!(u.wants_renewal(701)); // 299 s left
        assert!(!user(Some(1000), false, 600).wants_renewal(990));
        assert!(!user(None, true, 0).wants_renewal(990));
    }
}
