//! OIDC sign-ins under way, kept in the browser's pre-login session (a row in Keyway's session
//! store, so any replica can finish what another started), and the one-shot notice the login
//! page shows when a sign-in failed.
//!
//! Each sign-in is found again by the `state` Vault put in the provider URL, and is taken (so
//! used once) by the callback. The list is bounded ([`PENDING_MAX`], oldest dropped) and every
//! entry expires after [`PENDING_TTL_SECS`], the time Vault itself keeps a state. The
//! `client_nonce` that binds the callback to this browser is sealed with the session key, bound
//! to its state, so the session row holds no usable value.

use serde::{Deserialize, Serialize};

/// The session key of [`PendingSignIns`].
pub const PENDING_KEY: &str = "oidc_pending";
/// The session key of the login page's one-shot notice (a sentence).
pub const NOTICE_KEY: &str = "login_notice";
/// Vault forgets a state after 10 minutes (`oidcRequestTimeout`); so does Keyway.
pub const PENDING_TTL_SECS: i64 = 10 * 60;
/// Sign-ins one browser may have under way at once (several tabs, a double click).
pub const PENDING_MAX: usize = 4;

/// One sign-in under way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingSignIn {
    pub state: String,
    pub mount: String,
    /// The `client_nonce` given to Vault, sealed ([`PendingSignIn::nonce_binding`]).
    pub sealed_nonce: String,
    /// Unix seconds (the session rules' clock).
    pub started_at: i64,
}

impl PendingSignIn {
    /// The associated data binding a sealed nonce to its sign-in.
    pub fn nonce_binding(state: &str) -> String {
        format!("keyway-oidc-nonce:{state}")
    }
}

/// The sign-ins under way in one session.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingSignIns(Vec<PendingSignIn>);

impl PendingSignIns {
    /// Adds a sign-in; drops the expired ones and, over [`PENDING_MAX`], the oldest.
    pub fn add(&mut self, sign_in: PendingSignIn, now: i64) {
        self.prune(now);
        self.0.push(sign_in);
        while self.0.len() > PENDING_MAX {
            self.0.remove(0);
        }
    }

    /// Takes the unexpired sign-in with this state, if any (so a state works once).
    pub fn take(&mut self, state: &str, now: i64) -> Option<PendingSignIn> {
        self.prune(now);
        let i = self.0.iter().position(|p| p.state == state)?;
        Some(self.0.remove(i))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn prune(&mut self, now: i64) {
        self.0
            .retain(|p| now < p.started_at.saturating_add(PENDING_TTL_SECS));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(state: &str, at: i64) -> PendingSignIn {
        PendingSignIn {
            state: state.into(),
            mount: "oidc".into(),
            sealed_nonce: String::new(),
            started_at: at,
        }
    }

    #[test]
    fn a_state_is_taken_once_and_expires_after_ten_minutes() {
        let mut all = PendingSignIns::default();
        all.add(p("a", 100), 100);
        all.add(p("b", 100), 100);
        assert_eq!(all.take("a", 200).map(|p| p.state), Some("a".into()));
        assert_eq!(all.take("a", 200), None, "used once");
        assert_eq!(all.take("b", 100 + PENDING_TTL_SECS), None, "expired");
        assert!(all.is_empty());
    }

    #[test]
    fn the_list_keeps_only_the_newest_few() {
        let mut all = PendingSignIns::default();
        for i in 0..10 {
            all.add(p(&format!("s{i}"), 100 + i), 100 + i);
        }
        assert_eq!(all.0.len(), PENDING_MAX);
        assert!(all.take("s0", 120).is_none());
        assert!(all.take("s9", 120).is_some());
    }
}
