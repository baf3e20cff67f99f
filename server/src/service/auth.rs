//! Login, logout, and the login methods Vault offers.

use keyway_app::dto::{LoginChoices, LoginKind, LoginMethod, UserInfo};
use keyway_app::error::AppError;
use keyway_store::{Action, NewEvent, Outcome};
use keyway_vault::{SecretString, VaultError};

use super::throttle::LoginLimit;
use super::{audit_error, vault_error, Caller, Core, RequestMeta};

/// A successful login: the token and who it belongs to.
pub struct LoggedIn {
    pub token: SecretString,
    pub user: UserInfo,
    pub renewable: bool,
    pub ttl_secs: u64,
}

impl From<keyway_vault::Login> for LoggedIn {
    fn from(l: keyway_vault::Login) -> Self {
        LoggedIn {
            renewable: l.renewable,
            ttl_secs: l.lease_duration,
            user: UserInfo {
                display_name: l.display_name,
                entity_id: l.entity_id,
                policies: l.policies,
                expires_in_secs: (l.lease_duration > 0).then_some(l.lease_duration),
            },
            token: l.token,
        }
    }
}

impl Core {
    /// The methods tuned `listing_visibility=unauth`; token and userpass when there are none.
    pub async fn login_choices(&self) -> Result<LoginChoices, AppError> {
        let listed = self
            .vault
            .login_methods()
            .await
            .map_err(|e| vault_error(e, "list login methods"))?;
        let methods: Vec<LoginMethod> = listed
            .into_iter()
            .filter_map(|m| {
                LoginKind::parse(&m.kind).map(|kind| LoginMethod {
                    kind,
                    mount: m.path,
                    description: m.description,
                })
            })
            .collect();
        // Passwords first: most people have one; tokens are for the few who do not.
        let mut methods = methods;
        methods.sort_by_key(|m| match m.kind {
            LoginKind::Userpass => 0,
            LoginKind::Ldap => 1,
            LoginKind::Token => 2,
            LoginKind::Oidc => 3,
        });
        if methods.is_empty() {
            return Ok(LoginChoices {
                methods: vec![
                    LoginMethod {
                        kind: LoginKind::Userpass,
                        mount: "userpass".into(),
                        description: String::new(),
                    },
                    LoginMethod {
                        kind: LoginKind::Token,
                        mount: "token".into(),
                        description: String::new(),
                    },
                ],
                fallback: true,
            });
        }
        Ok(LoginChoices {
            methods,
            fallback: false,
        })
    }

    /// Logs in and audits the attempt. A login that cannot be audited is undone and refused.
    pub async fn login(
        &self,
        kind: LoginKind,
        mount: &str,
        username: &str,
        secret: SecretString,
        meta: &RequestMeta,
    ) -> Result<LoggedIn, AppError> {
        if kind == LoginKind::Oidc {
            return Err(AppError::Invalid(
                "Single sign-on has no password: use its \"Sign in with\" button.".into(),
            ));
        }
        if kind != LoginKind::Token && username.trim().is_empty() {
            return Err(AppError::Invalid("Enter your username.".into()));
        }
        check_login_fields(mount, username, &secret)?;
        let who = || {
            if kind == LoginKind::Token {
                "(token)".to_string()
            } else {
                username.trim().to_string()
            }
        };
        let failed = |detail: String| {
            NewEvent::new(who(), Action::LoginFailed)
                .outcome(Outcome::Denied)
                .detail(detail)
                .request(&meta.request_id, &meta.client_addr)
        };
        let as_user = (kind != LoginKind::Token).then_some(username);
        self.throttle_login(kind, mount, as_user, meta).await?;
        let attempt = self.ask_vault(kind, mount, username, secret).await;
        match attempt {
            Ok(logged_in) => {
                let logged_in = self.audit_login(kind, mount, logged_in, meta).await?;
                if kind != LoginKind::Token {
                    self.throttle.login_succeeded(mount, username);
                }
                Ok(logged_in)
            }
            Err(VaultError::InvalidCredentials) => {
                self.write_refusal(failed(format!("{} at {mount}", kind.as_str())))
                    .await;
                Err(AppError::BadCredentials)
            }
            Err(e) => Err(vault_error(e, "log in")),
        }
    }

    /// Counts a login attempt against the limits (`throttle`); over one, writes the refusal and
    /// answers `TooMany` without asking Vault. `username` is None where there is none (a token,
    /// an OIDC sign-in).
    pub(super) async fn throttle_login(
        &self,
        kind: LoginKind,
        mount: &str,
        username: Option<&str>,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let Err(throttled) = self.throttle.login(&meta.client_addr, mount, username) else {
            return Ok(());
        };
        // Named by what was over its limit, so the repeats of one flood collapse into one
        // counted row a minute: a spray of usernames from one address is one row, not one
        // per made-up name (see `refusals`). The address limit names no mount either: it is
        // checked before the mount is known to exist (an OIDC start), so a spray of made-up
        // mounts is one row too.
        let kind = kind.as_str();
        let event = match throttled.limit {
            LoginLimit::Address => NewEvent::new(
                format!("(client {})", meta.client_addr),
                Action::LoginFailed,
            )
            .detail(format!(
                "{kind}: too many attempts from this address, not asked"
            )),
            LoginLimit::Username => NewEvent::new(
                username.unwrap_or_default().trim().to_string(),
                Action::LoginFailed,
            )
            .detail(format!(
                "{kind} at {mount}: too many attempts for this username, not asked"
            )),
        };
        self.write_refusal(
            event
                .outcome(Outcome::Denied)
                .request(&meta.request_id, &meta.client_addr),
        )
        .await;
        Err(throttled.error)
    }

    /// Audits a login Vault granted; one that cannot be audited is undone (its token revoked)
    /// and refused.
    pub(super) async fn audit_login(
        &self,
        kind: LoginKind,
        mount: &str,
        logged_in: LoggedIn,
        meta: &RequestMeta,
    ) -> Result<LoggedIn, AppError> {
        let event = NewEvent::new(&logged_in.user.display_name, Action::Login)
            .entity(&logged_in.user.entity_id)
            .detail(format!("{} at {mount}", kind.as_str()))
            .request(&meta.request_id, &meta.client_addr);
        if let Err(e) = self.audit.record(event).await {
            let _ = self.vault.revoke_self(&logged_in.token).await;
            return Err(audit_error(e));
        }
        tracing::info!(user = %logged_in.user.display_name, "login");
        Ok(logged_in)
    }

    /// Asks Vault for a token with the user's credentials (or checks the token given).
    async fn ask_vault(
        &self,
        kind: LoginKind,
        mount: &str,
        username: &str,
        secret: SecretString,
    ) -> Result<LoggedIn, VaultError> {
        use secrecy::ExposeSecret;
        match kind {
            LoginKind::Token => match self.vault.lookup_self(&secret).await {
                Ok(info) => Ok(LoggedIn {
                    token: secret,
                    renewable: info.renewable,
                    ttl_secs: info.ttl,
                    user: UserInfo {
                        display_name: info.display_name,
                        entity_id: info.entity_id,
                        policies: info.policies,
                        expires_in_secs: (info.ttl > 0).then_some(info.ttl),
                    },
                }),
                Err(VaultError::InvalidToken | VaultError::PermissionDenied) => {
                    Err(VaultError::InvalidCredentials)
                }
                Err(e) => Err(e),
            },
            // Refused in `login` before anything is asked.
            LoginKind::Oidc => Err(VaultError::InvalidCredentials),
            LoginKind::Userpass | LoginKind::Ldap => {
                let result = if kind == LoginKind::Ldap {
                    self.vault
                        .login_ldap(mount, username.trim(), secret.expose_secret())
                        .await
                } else {
                    self.vault
                        .login_userpass(mount, username.trim(), secret.expose_secret())
                        .await
                };
                result.map(LoggedIn::from)
            }
        }
    }

    /// Ends a session's Vault side: audits the intent, revokes a token Keyway was issued (it
    /// may already be dead), audits the outcome. A pasted token is left alone: revoking it would
    /// revoke every token the user created with it, behind their back (the login page says so).
    /// The revoke happens even when the audit store is down: ending access beats the audit row.
    /// So this is the one bracket not written with [`Core::audited`], which refuses the action
    /// when the intent cannot be written. An error says the token may still be valid.
    pub async fn end_session(
        &self,
        caller: &Caller,
        origin: TokenOrigin,
        why: SessionEnd,
    ) -> Result<(), AppError> {
        let mut event = NewEvent::new(&caller.display_name, Action::Logout)
            .entity(&caller.entity_id)
            .request(&caller.meta.request_id, &caller.meta.client_addr);
        if let Some(detail) = why.detail() {
            event = event.detail(detail);
        }
        let intent = self.audit.begin(event).await;
        if let Err(e) = &intent {
            tracing::error!(error = %e, "could not audit the end of a session; ending it anyway");
        }
        let revoked = match origin {
            TokenOrigin::Pasted => Ok(Some("pasted token kept: not revoked")),
            TokenOrigin::Issued => match self.vault.revoke_self(&caller.token).await {
                Ok(()) => Ok(None),
                Err(VaultError::InvalidToken) => Ok(Some("token had already expired")),
                Err(e) => Err(e),
            },
        };
        let (outcome, note) = match &revoked {
            Ok(note) => (Outcome::Ok, note.or(why.detail())),
            Err(e) => {
                tracing::warn!(error = %e, "token revoke failed at the end of a session");
                (Outcome::Error, Some("Vault did not revoke the token"))
            }
        };
        if let Ok(intent) = intent {
            if let Err(e) = self.audit.finish(&intent, outcome, None, note).await {
                tracing::error!(error = %e, "could not record the end of a session");
            }
        }
        match revoked {
            Ok(_) => Ok(()),
            Err(_) => Err(AppError::Unavailable(
                "You are logged out of Keyway, but Vault could not be reached to revoke the token \
                 Keyway held for you: it stays valid until it expires. Try logging in and out again \
                 once Vault is back."
                    .into(),
            )),
        }
    }
}

/// Where a session's Vault token came from, known at login.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum TokenOrigin {
    /// Vault issued it to Keyway at a password or OIDC login: Keyway revokes it when the session
    /// ends.
    #[default]
    Issued,
    /// The user pasted a token they already had: Keyway forgets it and never revokes it.
    Pasted,
}

impl TokenOrigin {
    pub fn of(kind: LoginKind) -> Self {
        match kind {
            LoginKind::Token => TokenOrigin::Pasted,
            LoginKind::Userpass | LoginKind::Ldap | LoginKind::Oidc => TokenOrigin::Issued,
        }
    }
}

/// Why a session ended, for its audit row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    /// The user logged out.
    Logout,
    /// No request from the user for the idle timeout.
    Idle,
    /// The absolute lifetime since login was reached.
    Lifetime,
}

impl SessionEnd {
    fn detail(self) -> Option<&'static str> {
        match self {
            SessionEnd::Logout => None,
            SessionEnd::Idle => Some("session timed out (idle)"),
            SessionEnd::Lifetime => Some("session reached its maximum lifetime"),
        }
    }
}

/// The login form's fields within their bounds (`keyway_app::logic::limits`), before anything
/// is asked or written.
fn check_login_fields(mount: &str, username: &str, secret: &SecretString) -> Result<(), AppError> {
    use keyway_app::logic::limits::{check_chars, CREDENTIAL_MAX_BYTES, NAME_MAX_CHARS};
    use secrecy::ExposeSecret;
    check_chars("login mount", mount, NAME_MAX_CHARS)
        .and_then(|()| check_chars("username", username, NAME_MAX_CHARS))
        .map_err(AppError::Invalid)?;
    if secret.expose_secret().len() > CREDENTIAL_MAX_BYTES {
        return Err(AppError::Invalid(format!(
            "That password or token is longer than Keyway accepts ({} KiB at most).",
            CREDENTIAL_MAX_BYTES / 1024
        )));
    }
    Ok(())
}
