//! Rate limits, with `governor`'s keyed GCRA limiters, so one client cannot flood Vault, the
//! log or the audit table through Keyway:
//!
//! - **login, per username** (per login mount): at most 4 failed attempts in any 15 minutes (3
//!   at once, then one every 8 minutes); a successful login forgets the failures, as Vault does.
//!   OpenBao and Vault lock a userpass or LDAP user out after 5 failed logins in 15 minutes
//!   (their default `user_lockout_config`; measured on OpenBao 2.7.2: the sixth attempt is
//!   refused even with the right password), so nobody can lock a colleague out of Vault by
//!   typing wrong passwords into Keyway. (Every attempt is counted before Vault is asked, since
//!   its outcome is not known yet; the success then clears the count: [`Forgettable`].)
//! - **login, per client address**: `KEYWAY_LOGIN_LIMIT_PER_ADDRESS` attempts a minute (the
//!   address behind a trusted proxy, `crate::client_addr`), against password spraying.
//! - **refused actions, per user**: 30 at once, then one every 2 s. Every refusal is still
//!   counted in the audit log ([`super::refusals`] collapses repeats into one row a minute).
//!
//! Over a login limit the answer is `AppError::TooMany` (429) with a plain sentence, and Vault is
//! not asked. The refusal limit is met only once a request has been refused (by Vault or a
//! restart's guard), so Vault has been asked by then; what it saves is the audit row. The
//! limiters keep a small state per key; [`Throttle::forget_idle`] drops idle keys.
//!
//! Left as it is: three wrong passwords for a username hold its real owner off for 8 minutes
//! too (the attempts are counted before Vault's answer is known). That is the price of never
//! letting Vault's own lockout (5 failures, all clients, 15 minutes) be reached through Keyway.

use std::num::NonZeroU32;
use std::time::Duration;

use std::sync::Arc;

use governor::clock::{Clock, DefaultClock};
use governor::nanos::Nanos;
use governor::state::keyed::{DashMapStateStore, ShrinkableKeyedStateStore};
use governor::state::StateStore;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use keyway_app::error::AppError;

/// Login attempts per username at once, then one per [`LOGIN_USER_PERIOD`].
const LOGIN_USER_BURST: u32 = 3;
const LOGIN_USER_PERIOD: Duration = Duration::from_secs(8 * 60);
/// Refused actions per user at once, then one per [`REFUSAL_PERIOD`].
const REFUSAL_BURST: u32 = 30;
const REFUSAL_PERIOD: Duration = Duration::from_secs(2);

/// governor's own DashMap state store, shared, so a key's state can be dropped: a successful
/// login forgets its username's failed attempts. Everything else is delegated unchanged.
#[derive(Clone, Default)]
struct Forgettable(Arc<DashMapStateStore<String>>);

impl StateStore for Forgettable {
    type Key = String;

    fn measure_and_replace<T, F, E>(&self, key: &String, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        self.0.measure_and_replace(key, f)
    }
}

impl ShrinkableKeyedStateStore<String> for Forgettable {
    fn retain_recent(&self, drop_below: Nanos) {
        ShrinkableKeyedStateStore::retain_recent(&*self.0, drop_below)
    }
    fn shrink_to_fit(&self) {
        ShrinkableKeyedStateStore::shrink_to_fit(&*self.0)
    }
    fn len(&self) -> usize {
        ShrinkableKeyedStateStore::len(&*self.0)
    }
    fn is_empty(&self) -> bool {
        ShrinkableKeyedStateStore::is_empty(&*self.0)
    }
}

/// Which login limit an attempt ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginLimit {
    /// Too many attempts from one client address (any usernames).
    Address,
    /// Too many failed attempts for one username (from any addresses).
    Username,
}

/// A login attempt refused by a limit: which one, and the answer for the user.
#[derive(Debug)]
pub struct LoginThrottled {
    pub limit: LoginLimit,
    pub error: AppError,
}

/// The shared limiters.
pub struct Throttle {
    login_by_address: DefaultKeyedRateLimiter<String>,
    login_by_user: RateLimiter<String, Forgettable, DefaultClock>,
    login_users: Forgettable,
    refusals: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

fn quota(period: Duration, burst: u32) -> Quota {
    Quota::with_period(period)
        .expect("a non-zero period")
        .allow_burst(NonZeroU32::new(burst.max(1)).expect("at least 1"))
}

impl Throttle {
    /// `login_per_address_per_minute`: `KEYWAY_LOGIN_LIMIT_PER_ADDRESS` (at least 1).
    pub fn new(login_per_address_per_minute: u32) -> Self {
        let per_address = NonZeroU32::new(login_per_address_per_minute.max(1)).expect("at least 1");
        let login_users = Forgettable::default();
        let clock = DefaultClock::default();
        Throttle {
            login_by_address: RateLimiter::keyed(Quota::per_minute(per_address)),
            login_by_user: RateLimiter::new(
                quota(LOGIN_USER_PERIOD, LOGIN_USER_BURST),
                login_users.clone(),
                clock.clone(),
            ),
            login_users,
            refusals: RateLimiter::keyed(quota(REFUSAL_PERIOD, REFUSAL_BURST)),
            clock,
        }
    }

    /// Counts one login attempt from `address` for `username` at `mount` (no username for a
    /// token login); refuses it when either is over its limit, saying which.
    pub fn login(
        &self,
        address: &str,
        mount: &str,
        username: Option<&str>,
    ) -> Result<(), LoginThrottled> {
        let wait = |not_until: governor::NotUntil<_>| not_until.wait_time_from(self.clock.now());
        if let Err(n) = self.login_by_address.check_key(&address_key(address)) {
            return Err(LoginThrottled {
                limit: LoginLimit::Address,
                error: too_many("from your address", wait(n)),
            });
        }
        if let Some(user) = username {
            if let Err(n) = self.login_by_user.check_key(&user_key(mount, user)) {
                return Err(LoginThrottled {
                    limit: LoginLimit::Username,
                    error: too_many("for this username", wait(n)),
                });
            }
        }
        Ok(())
    }

    /// A login of `username` at `mount` succeeded: its failed attempts are forgotten.
    pub fn login_succeeded(&self, mount: &str, username: &str) {
        self.login_users.0.remove(&user_key(mount, username));
    }

    /// Counts one refused action by `actor`; `Err` once they are over the limit.
    pub fn refusal(&self, actor: &str) -> Result<(), AppError> {
        match self.refusals.check_key(&actor.to_string()) {
            Ok(()) => Ok(()),
            Err(n) => {
                let secs = n.wait_time_from(self.clock.now()).as_secs().max(1);
                Err(AppError::TooMany(format!(
                    "Many of your requests were refused in a short time, so Keyway pauses yours for {secs} s. Check that you are acting on your own app and environment."
                )))
            }
        }
    }

    /// Drops the state of keys that are back under their limit, so memory follows the clients
    /// of the last minutes, not every client ever seen.
    pub fn forget_idle(&self) {
        for limiter in [&self.login_by_address, &self.refusals] {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        self.login_by_user.retain_recent();
        self.login_by_user.shrink_to_fit();
    }
}

/// The per-username key. A username as Vault's userpass and LDAP backends compare it: trimmed and lower-cased one
/// character at a time, as Go's `strings.ToLower` does. (Rust's `to_lowercase` turns 'İ' into
/// two characters where Go gives 'i', so "alİce" would count apart from the "alice" Vault locks.)
fn user_key(mount: &str, username: &str) -> String {
    let folded: String = username
        .trim()
        .chars()
        .map(|c| c.to_lowercase().next().unwrap_or(c))
        .collect();
    format!("{mount}\u{0}{folded}")
}

/// The key an address is limited by: an IPv4 address, or the /64 an IPv6 address is in (one
/// host usually holds a whole /64, so each of its addresses is not a client of its own).
fn address_key(address: &str) -> String {
    match address.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        _ => address.to_string(),
    }
}

fn too_many(whom: &str, wait: Duration) -> AppError {
    let minutes = wait.as_secs().div_ceil(60).max(1);
    let unit = if minutes == 1 { "minute" } else { "minutes" };
    AppError::TooMany(format!(
        "Too many login attempts {whom}. Wait {minutes} {unit}, then try again."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_username_gets_fewer_attempts_in_15_minutes_than_vault_needs_to_lock_it() {
        // GCRA: the burst at once, then one per period; in any 15 minutes that is
        // burst + floor(15 min / period) attempts.
        let in_15_minutes = LOGIN_USER_BURST as u64 + (15 * 60) / LOGIN_USER_PERIOD.as_secs();
        assert!(
            in_15_minutes < 5,
            "{in_15_minutes} attempts: Vault locks at 5 failures"
        );
        let t = Throttle::new(100);
        for _ in 0..LOGIN_USER_BURST {
            t.login("10.0.0.1", "userpass", Some("Alice")).unwrap();
        }
        let e = t.login("10.0.0.2", "userpass", Some("alice ")).unwrap_err();
        assert_eq!(e.limit, LoginLimit::Username);
        assert!(e.error.to_string().contains("for this username"), "{e:?}");
        // Another user, or the same name on another mount, is not affected.
        t.login("10.0.0.1", "userpass", Some("bob")).unwrap();
        t.login("10.0.0.1", "ldap", Some("alice")).unwrap();
        // A success (the right password at last, or a colleague logging in) clears the count.
        t.login_succeeded("userpass", "ALICE");
        for _ in 0..LOGIN_USER_BURST {
            t.login("10.0.0.1", "userpass", Some("alice")).unwrap();
        }
    }

    #[test]
    fn usernames_fold_as_vault_folds_them_and_ipv6_counts_by_its_64() {
        assert_eq!(
            user_key("userpass", " alİce "),
            user_key("userpass", "ALICE")
        );
        let t = Throttle::new(2);
        t.login("2001:db8:1:2::1", "token", None).unwrap();
        t.login("2001:db8:1:2:ffff::9", "token", None).unwrap();
        let e = t.login("2001:db8:1:2:abcd::1", "token", None).unwrap_err();
        assert_eq!(e.limit, LoginLimit::Address, "one /64 is one client");
        t.login("2001:db8:1:3::1", "token", None).unwrap();
    }

    #[test]
    fn an_address_is_limited_per_minute_whatever_the_usernames() {
        let t = Throttle::new(5);
        for i in 0..5 {
            t.login("10.0.0.9", "userpass", Some(&format!("user{i}")))
                .unwrap();
        }
        let e = t.login("10.0.0.9", "token", None).unwrap_err();
        assert_eq!(e.limit, LoginLimit::Address);
        assert!(matches!(e.error, AppError::TooMany(_)));
        assert!(e.error.to_string().contains("from your address"), "{e:?}");
        t.login("10.0.0.10", "token", None).unwrap();
    }

    #[test]
    fn refusals_are_limited_per_user() {
        let t = Throttle::new(5);
        for _ in 0..REFUSAL_BURST {
            t.refusal("entity-a").unwrap();
        }
        assert!(matches!(t.refusal("entity-a"), Err(AppError::TooMany(_))));
        t.refusal("entity-b").unwrap();
    }
}
