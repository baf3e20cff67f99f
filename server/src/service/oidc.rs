//! Single sign-on through a Vault `oidc` auth method: the two Vault steps of a sign-in, and what
//! the login page says when one fails ([`OidcProblem`]).
//!
//! Vault is the OAuth client; Keyway only carries the browser there and back (the routes and
//! the pre-login session are in `crate::http::oidc`). The sign-in is a login like the others:
//! the same throttle (per address, counted when it starts), the same audit row (`oidc at
//! <mount>`), the same session once Vault hands out the user's token.

use std::collections::BTreeMap;

use keyway_app::dto::LoginKind;
use keyway_app::error::AppError;
use keyway_app::links::OIDC_CALLBACK;
use keyway_store::{Action, NewEvent, Outcome};
use keyway_vault::{OidcFailure, SecretString, VaultError};

use super::auth::LoggedIn;
use super::{vault_error, Core, RequestMeta};

/// Where Vault is told to send the browser back, and the role asked for at each mount.
#[derive(Debug, Clone, Default)]
pub struct OidcSettings {
    /// `<KEYWAY_PUBLIC_URL's origin>/auth/oidc/callback`: what the role's
    /// `allowed_redirect_uris` must hold, exactly.
    pub redirect_uri: String,
    /// Mount path → role (`KEYWAY_OIDC_ROLES`); a mount not named uses its `default_role`.
    pub roles: BTreeMap<String, String>,
}

impl OidcSettings {
    pub fn new(public_origin: &str, roles: BTreeMap<String, String>) -> Self {
        OidcSettings {
            redirect_uri: format!("{}{OIDC_CALLBACK}", public_origin.trim_end_matches('/')),
            roles,
        }
    }

    /// The role asked for at `mount`; empty means the mount's `default_role`.
    pub fn role(&self, mount: &str) -> &str {
        self.roles.get(mount).map(String::as_str).unwrap_or("")
    }
}

/// `KEYWAY_OIDC_ROLES`: `mount=role,…` (spaces and slashes around a mount ignored).
pub fn parse_roles(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut roles = BTreeMap::new();
    for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (mount, role) = item
            .split_once('=')
            .map(|(m, r)| (m.trim().trim_matches('/'), r.trim()))
            .filter(|(m, r)| !m.is_empty() && !r.is_empty())
            .ok_or_else(|| {
                format!("KEYWAY_OIDC_ROLES: \"{item}\" is not mount=role (e.g. oidc=keyway).")
            })?;
        if roles.insert(mount.to_owned(), role.to_owned()).is_some() {
            return Err(format!("KEYWAY_OIDC_ROLES names the mount {mount} twice."));
        }
    }
    Ok(roles)
}

/// A sign-in that did not end in a session, as the login page tells it.
#[derive(Debug, Clone, PartialEq)]
pub enum OidcProblem {
    /// The mount is not an OIDC method Vault lists.
    NotOffered,
    /// Vault gave an empty `auth_url`: the redirect URI is not in the role's
    /// `allowed_redirect_uris` (or the role is not an `oidc` role). The sentence is generic (the
    /// page is anonymous); the URI, role and mount are in the log for the platform team.
    RedirectNotAllowed,
    /// The state is unknown to this browser's session or to Vault: expired (10 minutes), used
    /// already, or lost (Vault keeps it in its active node's memory, so a leader change or a
    /// restart loses it), or Vault had no active node to finish it. Start again.
    Expired,
    /// The provider answered `error=access_denied`.
    Declined,
    /// Another error from the provider: its code and description, already bounded.
    Provider { error: String, description: String },
    /// The provider's answer lacks its code or has a parameter out of bounds.
    Malformed,
    /// Vault refused the login (its own words, bounded).
    Refused(String),
    /// Vault wants a second factor.
    Mfa,
    /// Throttled, or Vault or the audit store unreachable: the error's own sentence.
    Failed(AppError),
    /// Vault could not finish the callback for a reason other than an election (sealed, a 5xx,
    /// misconfigured): the error's own sentence, and start again (the state is used up).
    Unfinished(AppError),
}

impl OidcProblem {
    /// The sentence the login page shows.
    pub fn message(&self) -> String {
        match self {
            OidcProblem::NotOffered => "That single sign-on method is not offered here.".into(),
            OidcProblem::RedirectNotAllowed => {
                "Single sign-on is not set up correctly for this portal; tell the platform team."
                    .into()
            }
            OidcProblem::Expired => "This sign-in expired or was already used; start again.".into(),
            OidcProblem::Declined => {
                "You declined consent at the identity provider, so you are not signed in. \
                 Start again to sign in."
                    .into()
            }
            OidcProblem::Provider { error, description } if description.is_empty() => {
                format!("The identity provider did not sign you in ({error}).")
            }
            OidcProblem::Provider { error, description } => {
                format!("The identity provider did not sign you in ({error}): {description}")
            }
            OidcProblem::Malformed => {
                "The identity provider's answer was incomplete or too long; start again.".into()
            }
            OidcProblem::Refused(why) => format!("Vault refused the sign-in: {why}."),
            OidcProblem::Mfa => {
                "Vault asks for a second factor for this sign-in, which Keyway cannot ask for \
                 yet. Log in another way, or ask your platform team."
                    .into()
            }
            OidcProblem::Failed(e) => e.to_string(),
            OidcProblem::Unfinished(e) => format!("{e} Start the sign-in again."),
        }
    }

    /// Short words for the audit row of a refused sign-in; None when no row is written.
    fn audit_detail(&self) -> Option<String> {
        Some(match self {
            OidcProblem::Expired => "expired or reused sign-in".into(),
            OidcProblem::Declined => "consent declined at the provider".into(),
            OidcProblem::Provider { error, .. } => format!("provider error {error}"),
            OidcProblem::Refused(why) => format!("Vault refused: {why}"),
            OidcProblem::Mfa => "Vault asked for MFA".into(),
            OidcProblem::Malformed => "malformed provider answer".into(),
            OidcProblem::Unfinished(_) => "Vault could not finish the sign-in".into(),
            _ => return None,
        })
    }
}

/// A sign-in Vault has started: where to send the browser, and the state it will come back with.
pub struct Started {
    pub auth_url: String,
    pub state: String,
}

impl Core {
    /// Asks Vault for the provider URL of a sign-in at `mount` (an OIDC method Vault lists).
    pub async fn oidc_start(
        &self,
        settings: &OidcSettings,
        mount: &str,
        client_nonce: &SecretString,
        meta: &RequestMeta,
    ) -> Result<Started, OidcProblem> {
        // Counted first, so made-up mounts from one address do not each cost a Vault call.
        self.throttle_login(LoginKind::Oidc, mount, None, meta)
            .await
            .map_err(OidcProblem::Failed)?;
        let listed = self
            .vault
            .login_methods()
            .await
            .map_err(|e| OidcProblem::Failed(vault_error(e, "list login methods")))?;
        if !listed
            .iter()
            .any(|m| m.path == mount && LoginKind::parse(&m.kind) == Some(LoginKind::Oidc))
        {
            return Err(OidcProblem::NotOffered);
        }
        let role = settings.role(mount);
        let url = match (self.vault)
            .oidc_auth_url(mount, role, &settings.redirect_uri, client_nonce)
            .await
        {
            Ok(Some(url)) => url,
            Ok(None) => {
                // `mount` is one Vault lists (checked above), `role` and the URI are settings.
                tracing::warn!(mount, role, redirect_uri = %settings.redirect_uri,
                    "Vault gave no auth_url: the redirect URI is not allowed in the role; add it \
                     to the role's allowed_redirect_uris (and at the identity provider)");
                return Err(OidcProblem::RedirectNotAllowed);
            }
            Err(VaultError::BadRequest(why)) => return Err(OidcProblem::Refused(why)),
            Err(e) => return Err(OidcProblem::Failed(vault_error(e, "start an OIDC sign-in"))),
        };
        let state = url::Url::parse(&url).ok().and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == "state")
                .map(|(_, v)| v.into_owned())
        });
        match state {
            Some(state) if !state.is_empty() => Ok(Started {
                auth_url: url,
                state,
            }),
            _ => Err(OidcProblem::Refused(
                "the provider address it gave has no state".into(),
            )),
        }
    }

    /// Exchanges the provider's code for the user's token and audits the login.
    pub async fn oidc_finish(
        &self,
        mount: &str,
        state: &str,
        code: &SecretString,
        client_nonce: &SecretString,
        meta: &RequestMeta,
    ) -> Result<LoggedIn, OidcProblem> {
        let problem = match self
            .vault
            .oidc_callback(mount, state, code, client_nonce)
            .await
        {
            Ok(login) => {
                return self
                    .audit_login(LoginKind::Oidc, mount, LoggedIn::from(login), meta)
                    .await
                    .map_err(OidcProblem::Failed)
            }
            // The one place a lost sign-in becomes "start again", whatever lost it: Vault's 10
            // minutes, a reuse, a leader change or restart of Vault (its new active node does
            // not have the state), or an election under way (Unreachable, no active node: the
            // state a lost leader held is gone with it). "Try again" would not help there: the
            // callback's state was used up in this browser's session before Vault was asked.
            Err(OidcFailure::StateExpired) => OidcProblem::Expired,
            Err(OidcFailure::Vault(
                e @ (VaultError::Unreachable(_) | VaultError::NoActiveNode(_)),
            )) => {
                tracing::warn!(error = %e, mount, "an OIDC callback could not be finished at Vault; the user starts again");
                OidcProblem::Expired
            }
            // Sealed, a 5xx, a client misconfigured: what is wrong, as every call says it.
            Err(OidcFailure::Vault(e)) => {
                OidcProblem::Unfinished(vault_error(e, "finish the sign-in"))
            }
            Err(OidcFailure::Refused(why)) => OidcProblem::Refused(why),
            Err(OidcFailure::MfaRequired) => OidcProblem::Mfa,
        };
        self.oidc_refused(mount, &problem, meta).await;
        Err(problem)
    }

    /// Writes the audit row of a sign-in that failed (through the collapse of repeats), for the
    /// failures that have one.
    pub async fn oidc_refused(&self, mount: &str, problem: &OidcProblem, meta: &RequestMeta) {
        if let Some(detail) = problem.audit_detail() {
            let event = NewEvent::new("(oidc)", Action::LoginFailed)
                .outcome(Outcome::Denied)
                .detail(format!("oidc at {mount}: {detail}"))
                .request(&meta.request_id, &meta.client_addr);
            self.write_refusal(event).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_mount_equals_role() {
        let roles = parse_roles(" oidc=keyway, /corp/sso/ = dev ").unwrap();
        let s = OidcSettings::new("https://keyway.example/", roles);
        assert_eq!(s.redirect_uri, "https://keyway.example/auth/oidc/callback");
        assert_eq!(s.role("oidc"), "keyway");
        assert_eq!(s.role("corp/sso"), "dev");
        assert_eq!(s.role("other"), "");
        assert!(parse_roles("oidc").is_err());
        assert!(parse_roles("a=b,a=c").is_err());
        assert!(parse_roles("").unwrap().is_empty());
    }

    #[test]
    fn an_empty_auth_url_names_nothing_of_the_setup_to_anonymous_users() {
        let said = OidcProblem::RedirectNotAllowed.message();
        assert_eq!(
            said,
            "Single sign-on is not set up correctly for this portal; tell the platform team."
        );
    }
}
