//! The per-request side of the UI's [`keyway_app::backend::Backend`]: sessions and the caller.
//!
//! [`RequestBackend`] is built for every request from its session and metadata. Here it turns
//! the session into a [`Caller`] (opening the sealed Vault token, ending sessions whose token
//! expired, renewing tokens that are half-way through their TTL), logs in and out
//! ([`AuthApi`]). The other areas' traits are implemented by the services
//! ([`crate::service`]), each method one [`RequestBackend::with_caller`] call: it resolves the
//! caller and ends the session when Vault says the token is dead.

use std::future::Future;

use async_trait::async_trait;
use keyway_app::backend::AuthApi;
use keyway_app::dto::*;
use keyway_app::error::AppError;
use keyway_vault::{SecretString, VaultError};
use tower_sessions::Session;

use crate::service::Caller;
pub use crate::service::RequestBackend;
use crate::sessions::{StoredUser, TOUCH_EVERY_SECS, USER_KEY};

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

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
        let session = self.session()?;
        let mut user = self.stored().await?.ok_or(AppError::Unauthenticated)?;
        let now = now();
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
        let mut changed = false;
        if user.wants_renewal(now) {
            match self.core.vault.renew_self(&token, user.ttl_secs).await {
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
            session
                .insert(USER_KEY, &user)
                .await
                .map_err(session_error)?;
        }
        Ok(Caller {
            token,
            display_name: user.display_name,
            entity_id: user.entity_id,
            meta: self.meta.clone(),
        })
    }

    /// Runs `act` for the logged-in caller (`Unauthenticated` without one), and ends the session
    /// when the answer says the token is dead. Every service method goes through here.
    pub async fn with_caller<T, F, Fut>(&self, act: F) -> Result<T, AppError>
    where
        F: FnOnce(Caller) -> Fut,
        Fut: Future<Output = Result<T, AppError>>,
    {
        let result = match self.caller().await {
            Ok(caller) => act(caller).await,
            Err(e) => Err(e),
        };
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
        let session = self.session()?;
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
        let user = &logged_in.user;
        let stored = StoredUser {
            sealed_token: self.sealer.seal(
                &logged_in.token,
                &StoredUser::binding(&user.display_name, &user.entity_id),
            ),
            display_name: user.display_name.clone(),
            entity_id: user.entity_id.clone(),
            policies: user.policies.clone(),
            expires_at: (logged_in.ttl_secs > 0).then(|| now() + logged_in.ttl_secs as i64),
            renewable: logged_in.renewable,
            ttl_secs: logged_in.ttl_secs,
            last_seen: now(),
        };
        // A fresh id at login: a session id planted before login is worth nothing after it.
        let stored_ok = async {
            session.cycle_id().await?;
            session.insert(USER_KEY, &stored).await
        }
        .await;
        if let Err(e) = stored_ok {
            let _ = self.core.vault.revoke_self(&logged_in.token).await;
            return Err(session_error(e));
        }
        Ok(logged_in.user)
    }

    /// Ends the session in every case: the user asked to leave. (`Core::logout` records and
    /// revokes what it can and only logs what it could not.)
    async fn logout(&self) -> Result<(), AppError> {
        let done = match self.caller().await {
            Ok(caller) => self.core.logout(&caller).await,
            Err(_) => Ok(()),
        };
        if let Some(s) = &self.session {
            s.flush().await.map_err(session_error)?;
        }
        done
    }

    async fn whoami(&self) -> Result<Option<UserInfo>, AppError> {
        match self.caller().await {
            Ok(c) => {
                let user = self.stored().await?;
                Ok(user.map(|u| UserInfo {
                    display_name: c.display_name,
                    entity_id: c.entity_id,
                    policies: u.policies,
                    expires_in_secs: u.expires_at.map(|t| (t - now()).max(0) as u64),
                }))
            }
            Err(AppError::Unauthenticated) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
