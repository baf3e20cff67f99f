//! Sessions: the store in Keyway's own database ([`store`]), the typed record of a logged-in
//! user, the rules that end a session, and the sweeper that ends the Vault tokens of sessions
//! that timed out.
//!
//! The record holds the user's Vault token sealed with the session key (see [`crate::sealing`]),
//! their Vault identity, and when the token expires. A session ends at the earliest of the idle
//! timeout (the row's expiry, slid by requests the user made; background polls do not slide it),
//! the absolute lifetime ([`SessionRules::max_lifetime`]) and the token's expiry (both checked on
//! every request); an active session renews a renewable token once half its TTL has passed.

pub mod pending;
mod store;
mod sweep;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::service::TokenOrigin;
pub use store::AnyStore;
pub use sweep::{spawn_sweeper, sweep};

/// Unix-seconds wall clock for session rules. Tests move it forward ([`Clock::advance`]) instead
/// of sleeping; nothing else does.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_secs: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp() + self.offset_secs.load(Ordering::Relaxed)
    }

    pub fn now_utc(&self) -> time::OffsetDateTime {
        time::OffsetDateTime::from_unix_timestamp(self.now())
            .unwrap_or_else(|_| time::OffsetDateTime::now_utc())
    }

    /// Moves this clock (and every clone of it) forward.
    pub fn advance(&self, by: Duration) {
        self.offset_secs
            .fetch_add(by.as_secs() as i64, Ordering::Relaxed);
    }
}

/// When sessions end, and the clock they are measured with.
#[derive(Debug, Clone)]
pub struct SessionRules {
    /// Without a request the user made, a session ends after this long.
    pub idle: Duration,
    /// However active, a session ends this long after login.
    pub max_lifetime: Duration,
    pub clock: Clock,
}

impl SessionRules {
    /// Unix seconds when a session that started at `started_at` must end at the latest.
    pub fn ends_at(&self, started_at: i64) -> i64 {
        started_at.saturating_add(self.max_lifetime.as_secs() as i64)
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
    /// Unix seconds of the login; the absolute lifetime counts from here. (A record from before
    /// this field reads 0: its session is over at the next request.)
    #[serde(default)]
    pub started_at: i64,
    /// Whether Keyway got the token from Vault at login or the user pasted it: Keyway revokes
    /// only the former when the session ends.
    #[serde(default)]
    pub origin: TokenOrigin,
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
            started_at: 0,
            origin: TokenOrigin::Issued,
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
