//! The per-request side of the UI's [`keyway_app::backend::Backend`]: sessions and the caller.
//!
//! [`RequestBackend`] is built for every request from its session and metadata. Here it turns
//! the session into a [`Caller`] (opening the sealed Vault token, ending sessions whose token
//! expired or whose lifetime is over, renewing tokens that are half-way through their TTL and
//! sliding the idle expiry — neither for a background poll), logs in and out ([`AuthApi`],
//! [`RequestBackend::begin_session`] for every kind of login). The other areas' traits are implemented by the services
//! ([`crate::service`]), each method one [`RequestBackend::with_caller`] call: it resolves the
//! caller and ends the session when Vault says the token is dead.

use std::future::Future;
use std::sync::atomic::Ordering;

use async_trait::async_trait;
use keyway_app::backend::AuthApi;
use keyway_app::dto::*;
use keyway_app::error::AppError;
use keyway_vault::{SecretString, VaultError};
use tower_sessions::{Expiry, Session};

pub use crate::service::RequestBackend;
use crate::service::{Caller, SessionEnd, TokenOrigin};
use crate::sessions::pending::{NOTICE_KEY, PENDING_KEY};
use crate::sessions::{StoredUser, TOUCH_EVERY_SECS, USER_KEY};

fn session_error(e: tower_sessions::session::Error) -> AppError {
    tracing::error!(error = %e, "session store failed");
    AppError::Unavailable("Your session could not be read. Try again in a moment.".into())
}

impl RequestBackend {
    fn session(&self) -> Result<&Session, AppError> {
        self.session.as_ref().ok_or(AppError::Unauthenticated)
    }

    async fn stored(&self) -> Result<Option<StoredUser>, AppError> {
        let Some(session) = &self.session else {
            return Ok(None);
        };
        session
            .get::<StoredUser>(USER_KEY)
            .await
            .map_err(session_error)
    }

    /// The logged-in caller, or `Unauthenticated`.
    async fn caller(&self) -> Result<Caller, AppError> {
        self.open().await.map(|(caller, _)| caller)
    }

    /// The caller and their session record. A user request (not a background poll) renews the
    /// token when due and, once a minute, saves the session, which slides its idle expiry — never
    /// past the session's absolute end.
    async fn open(&self) -> Result<(Caller, StoredUser), AppError> {
        let session = self.session()?;
        let mut user = self.stored().await?.ok_or(AppError::Unauthenticated)?;
        let now = self.rules.clock.now();
        if user.expired(now) {
            let _ = session.flush().await;
            return Err(AppError::Unauthenticated);
        }
        let binding = StoredUser::binding(&user.display_name, &user.entity_id);
        let Some(token) = self.sealer.open(&user.sealed_token, &binding) else {
            tracing::warn!("a session token could not be opened (key changed?); session ended");
            let _ = session.flush().await;
            return Err(AppError::Unauthenticated);
        };
        let caller = Caller {
            token,
            display_name: user.display_name.clone(),
            entity_id: user.entity_id.clone(),
            meta: self.meta.clone(),
        };
        let ends_at = self.rules.ends_at(user.started_at);
        if now >= ends_at {
            let _ = session.flush().await;
            let _ = (self.core)
                .end_session(&caller, user.origin, SessionEnd::Lifetime)
                .await;
            return Err(AppError::Unauthenticated);
        }
        if self.background.load(Ordering::Relaxed) {
            return Ok((caller, user));
        }
        let mut changed = false;
        if user.wants_renewal(now) {
            match self
                .core
                .vault
                .renew_self(&caller.token, user.ttl_secs)
                .await
            {
                Ok(r) => {
                    user.expires_at = (r.lease_duration > 0).then(|| now + r.lease_duration as i64);
                    // Less than asked means the token hit its max TTL: renewing again would
                    // only cost a Vault write per request until it expires.
                    user.renewable = r.renewable && r.lease_duration >= user.ttl_secs;
                    changed = true;
                }
                Err(VaultError::InvalidToken) => {
                    let _ = session.flush().await;
                    return Err(AppError::Unauthenticated);
                }
                Err(e) => tracing::warn!(error = %e, "token renewal failed; will retry"),
            }
        }
        if changed || now - user.last_seen >= TOUCH_EVERY_SECS {
            user.last_seen = now;
            self.cap_expiry(session, ends_at, now);
            session
                .insert(USER_KEY, &user)
                .await
                .map_err(session_error)?;
        }
        Ok((caller, user))
    }

    /// Starts the user's session after a login Vault granted (password, token or single
    /// sign-on): the token sealed, a fresh session id, the expiry capped at the session's end.
    /// If the session cannot be stored, a token Keyway was issued is revoked.
    pub(crate) async fn begin_session(
        &self,
        logged_in: crate::service::LoggedIn,
        origin: TokenOrigin,
    ) -> Result<UserInfo, AppError> {
        let session = self.session()?;
        let user = &logged_in.user;
        let now = self.rules.clock.now();
        let stored = StoredUser {
            sealed_token: self.sealer.seal(
                &logged_in.token,
                &StoredUser::binding(&user.display_name, &user.entity_id),
            ),
            display_name: user.display_name.clone(),
            entity_id: user.entity_id.clone(),
            policies: user.policies.clone(),
            expires_at: (logged_in.ttl_secs > 0).then(|| now + logged_in.ttl_secs as i64),
            renewable: logged_in.renewable,
            ttl_secs: logged_in.ttl_secs,
            last_seen: now,
            started_at: now,
            origin,
        };
        // A fresh id at login: a session id planted before login is worth nothing after it.
        let stored_ok = async {
            session.cycle_id().await?;
            // Sign-ins still under way in this browser end with the login.
            session.remove_value(PENDING_KEY).await?;
            self.cap_expiry(session, self.rules.ends_at(now), now);
            session.insert(USER_KEY, &stored).await
        }
        .await;
        if let Err(e) = stored_ok {
            if stored.origin == TokenOrigin::Issued {
                let _ = self.core.vault.revoke_self(&logged_in.token).await;
            }
            return Err(session_error(e));
        }
        Ok(logged_in.user)
    }

    /// Once the idle expiry would reach past the session's absolute end, the row expires at that
    /// end instead, so the sweeper ends a session nobody uses any more on time too.
    fn cap_expiry(&self, session: &Session, ends_at: i64, now: i64) {
        if now.saturating_add(self.rules.idle.as_secs() as i64) > ends_at {
            // The row's expiry is on the real clock; the rules' clock differs only in tests.
            let left = time::Duration::seconds((ends_at - now).max(0));
            session.set_expiry(Some(Expiry::AtDateTime(
                time::OffsetDateTime::now_utc() + left,
            )));
        }
    }

    /// Runs `act` for the logged-in caller (`Unauthenticated` without one), and ends the session
    /// when the answer says the token is dead. Every service method goes through here.
    pub async fn with_caller<T, F, Fut>(&self, act: F) -> Result<T, AppError>
    where
        F: FnOnce(Caller) -> Fut,
        Fut: Future<Output = Result<T, AppError>>,
    {
        // Every Vault call made for this request carries its id (`keyway_vault::trail`), even
        // when the render runs this on another task than the HTTP layer's.
        let result = keyway_vault::trail::within(&self.meta.request_id, async {
            match self.caller().await {
                Ok(caller) => act(caller).await,
                Err(e) => Err(e),
            }
        })
        .await;
        if matches!(result, Err(AppError::Unauthenticated)) {
            if let Some(s) = &self.session {
                let _ = s.flush().await;
            }
        }
        result
    }
}

#[async_trait]
impl AuthApi for RequestBackend {
    fn background(&self) {
        self.background.store(true, Ordering::Relaxed);
    }

    async fn login_options(&self) -> Result<LoginChoices, AppError> {
        self.core.login_choices().await
    }

    async fn login(
        &self,
        kind: LoginKind,
        mount: String,
        username: String,
        secret: String,
    ) -> Result<UserInfo, AppError> {
        self.session()?;
        if secret.is_empty() {
            return Err(AppError::Invalid(match kind {
                LoginKind::Token => "Enter your Vault token.".into(),
                _ => "Enter your password.".into(),
            }));
        }
        let logged_in = self
            .core
            .login(
                kind,
                &mount,
                &username,
                SecretString::from(secret),
                &self.meta,
            )
            .await?;
        self.begin_session(logged_in, TokenOrigin::of(kind)).await
    }

    /// The one-shot sentence a failed single sign-on left for the login page.
    async fn take_login_notice(&self) -> Option<String> {
        let session = self.session.as_ref()?;
        session.remove::<String>(NOTICE_KEY).await.ok().flatten()
    }
    /// Ends the session in every case: the user asked to leave. The row is deleted first, so
    /// nothing can use the session while its token is revoked (and a request still in flight
    /// cannot write it back: see [`crate::sessions::AnyStore`]). An error says Vault did not
    /// revoke the token (`Core::end_session`).
    async fn logout(&self) -> Result<(), AppError> {
        let opened = self.open().await;
        if let Some(s) = &self.session {
            s.flush().await.map_err(session_error)?;
        }
        match opened {
            Ok((caller, user)) => {
                (self.core)
                    .end_session(&caller, user.origin, SessionEnd::Logout)
                    .await
            }
            Err(_) => Ok(()),
        }
    }

    async fn whoami(&self) -> Result<Option<UserInfo>, AppError> {
        match self.open().await {
            Ok((c, u)) => Ok(Some(UserInfo {
                display_name: c.display_name,
                entity_id: c.entity_id,
                policies: u.policies,
                expires_in_secs: u
                    .expires_at
                    .map(|t| (t - self.rules.clock.now()).max(0) as u64),
            })),
            Err(AppError::Unauthenticated) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
