//! OIDC logins through a Vault `oidc` (or `jwt` with OIDC discovery) auth method, Vault being
//! the OAuth client: Keyway asks for the provider's authorization URL (`oidc/auth_url`) and, once
//! the browser comes back, exchanges the `state` and `code` at `oidc/callback` for the user's
//! token. Keyway never sees an id_token or the client secret.
//!
//! Like the password logins, these calls carry no token. Vault's answers are read by the one
//! mapping ([`from_status`]) and refined here into what a login page must tell apart
//! ([`OidcFailure`]): Vault's words for a state it no longer holds (expired after 10 minutes,
//! used already, or lost with a leader change or restart, since Vault keeps it in the active
//! node's memory) are [`OidcFailure::StateExpired`]; a refusal of the login is
//! [`OidcFailure::Refused`] with Vault's words; anything else stays the [`VaultError`] it is.

use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

use crate::error::{errors_of, from_status};
use crate::ops::Operation;
use crate::{Login, Vault, VaultError};

/// Why an OIDC callback gave no token.
#[derive(Debug)]
pub enum OidcFailure {
    /// Vault does not (or no longer) hold the sign-in's state: start again.
    StateExpired,
    /// Vault refused the login (claims not matching the role, a wrong nonce, the provider's
    /// token endpoint refusing the code, …); the text is Vault's first error, bounded.
    Refused(String),
    /// Vault asked for a second factor, which Keyway's login does not offer.
    MfaRequired,
    /// Vault could not be asked.
    Vault(VaultError),
}

/// The most of a Vault error message shown to the user.
const MESSAGE_MAX_CHARS: usize = 300;

impl Vault {
    /// The provider URL to send the browser to (`POST auth/<mount>/oidc/auth_url`), or `None`
    /// when Vault answers an empty one: the redirect URI is not in the role's
    /// `allowed_redirect_uris` (or the role is not an `oidc` role). An empty `role` is the
    /// mount's `default_role`.
    #[tracing::instrument(skip_all, fields(mount = %mount))]
    pub async fn oidc_auth_url(
        &self,
        mount: &str,
        role: &str,
        redirect_uri: &str,
        client_nonce: &SecretString,
    ) -> Result<Option<String>, VaultError> {
        let url = self.url(&["auth", mount, "oidc", "auth_url"], false)?;
        let body = json!({
            "role": role,
            "redirect_uri": redirect_uri,
            "client_nonce": client_nonce.expose_secret(),
        });
        let answer = self
            .send(
                crate::ops::Operation::Login,
                Method::POST,
                url,
                None,
                Some(&body),
            )
            .await?;
        if !answer.status.is_success() {
            let errors = errors_of(&answer.body);
            // A role or mount Vault does not know is a 400, 403 or 404: said in Vault's words.
            return Err(match from_status(answer.status.as_u16(), &errors) {
                VaultError::BadRequest(_)
                | VaultError::PermissionDenied
                | VaultError::Server { status: 404, .. } => {
                    VaultError::BadRequest(bounded(&errors.join("; ")))
                }
                other => other,
            });
        }
        let auth_url = answer
            .data()
            .get("auth_url")
            .and_then(Value::as_str)
            .unwrap_or_default();
        Ok((!auth_url.is_empty()).then(|| auth_url.to_owned()))
    }

    /// Exchanges the provider's answer for the user's token (`GET auth/<mount>/oidc/callback`).
    /// `state` is passed through untouched (it may carry `,ns=<namespace>`).
    #[tracing::instrument(skip_all, fields(mount = %mount))]
    pub async fn oidc_callback(
        &self,
        mount: &str,
        state: &str,
        code: &SecretString,
        client_nonce: &SecretString,
    ) -> Result<Login, OidcFailure> {
        let mut url = self
            .url(&["auth", mount, "oidc", "callback"], false)
            .map_err(OidcFailure::Vault)?;
        url.query_pairs_mut()
            .append_pair("state", state)
            .append_pair("code", code.expose_secret())
            .append_pair("client_nonce", client_nonce.expose_secret());
        let answer = self
            .send(Operation::Login, Method::GET, url, None, None)
            .await
            .map_err(OidcFailure::Vault)?;
        let status = answer.status.as_u16();
        if !answer.status.is_success() {
            let errors = errors_of(&answer.body);
            let text = errors.join("; ");
            return Err(match from_status(status, &errors) {
                VaultError::BadRequest(_) | VaultError::PermissionDenied
                    if text.contains("Expired or missing OAuth state") =>
                {
                    OidcFailure::StateExpired
                }
                VaultError::BadRequest(_) | VaultError::PermissionDenied => {
                    OidcFailure::Refused(bounded(&text))
                }
                other => OidcFailure::Vault(other),
            });
        }
        let auth = answer.body.get("auth").unwrap_or(&Value::Null);
        let has_token = auth
            .get("client_token")
            .and_then(Value::as_str)
            .is_some_and(|t| !t.is_empty());
        if !has_token && auth.get("mfa_requirement").is_some_and(|m| !m.is_null()) {
            return Err(OidcFailure::MfaRequired);
        }
        self.logged_in(&answer, "oidc")
            .await
            .map_err(OidcFailure::Vault)
    }
}

/// Vault's error text, cut at [`MESSAGE_MAX_CHARS`] and without control characters.
fn bounded(errors: &str) -> String {
    let clean: String = errors
        .chars()
        .filter(|c| !c.is_control())
        .take(MESSAGE_MAX_CHARS)
        .collect();
    let clean = clean.trim().trim_end_matches('.').to_owned();
    if clean.is_empty() {
        "no reason given".to_owned()
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::bounded;

    #[test]
    fn vault_error_text_is_bounded_and_plain() {
        assert_eq!(bounded("a\nb\u{7}."), "ab");
        assert_eq!(bounded(&"x".repeat(1000)).chars().count(), 300);
        assert_eq!(bounded(""), "no reason given");
    }
}
