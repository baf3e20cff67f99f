//! Logging users in: which login methods to offer, and username/password logins (OIDC logins
//! are in `oidc`).
//!
//! These calls carry no token. A failed login is always [`VaultError::InvalidCredentials`],
//! whatever Vault's status (400 for a wrong password or unknown user, 403 for an unknown mount),
//! so the portal never tells an attacker whether a user exists.

use reqwest::Method;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::client::decode;
use crate::error::{errors_of, from_status};
use crate::ops::Operation;
use crate::{Vault, VaultError};

/// An auth method Vault offers on its login page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthMount {
    /// Mount path without the trailing slash, e.g. `userpass`, `corp/ldap`.
    pub path: String,
    /// The method type: `userpass`, `ldap`, `oidc`, `jwt`, `token`, …
    pub kind: String,
    pub description: String,
}

/// A successful login. `Debug` redacts the token (it is a `SecretString`).
#[derive(Debug, Clone)]
pub struct Login {
    pub token: SecretString,
    pub accessor: String,
    /// The token's display name as Vault records it in the audit log, e.g. `userpass-alice`.
    pub display_name: String,
    pub entity_id: String,
    pub policies: Vec<String>,
    /// Seconds until the token expires (0 = never).
    pub lease_duration: u64,
    pub renewable: bool,
}

#[derive(Deserialize)]
struct WireAuth {
    client_token: String,
    #[serde(default)]
    accessor: String,
    #[serde(default)]
    policies: Vec<String>,
    #[serde(default)]
    lease_duration: u64,
    #[serde(default)]
    renewable: bool,
    #[serde(default)]
    entity_id: String,
}

impl Vault {
    /// The auth mounts listed on the login page: `GET sys/internal/ui/mounts` without a token
    /// shows only mounts tuned with `listing_visibility=unauth`. None tuned → empty list.
    #[tracing::instrument(skip_all)]
    pub async fn login_methods(&self) -> Result<Vec<AuthMount>, VaultError> {
        let url = self.url(&["sys/internal/ui/mounts"], false)?;
        let answer = self
            .anonymous(Operation::Mounts, Method::GET, url, None)
            .await?;
        let mut mounts: Vec<AuthMount> = match answer.data().get("auth") {
            Some(Value::Object(auth)) => auth
                .iter()
                .map(|(path, mount)| AuthMount {
                    path: path.trim_end_matches('/').to_owned(),
                    kind: text(mount, "type"),
                    description: text(mount, "description"),
                })
                .collect(),
            _ => Vec::new(),
        };
        mounts.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(mounts)
    }

    /// Logs in at a userpass mount (`POST auth/<mount>/login/<username>`).
    #[tracing::instrument(skip_all, fields(mount = %mount))]
    pub async fn login_userpass(
        &self,
        mount: &str,
        username: &str,
        password: &str,
    ) -> Result<Login, VaultError> {
        self.password_login(mount, username, password).await
    }

    /// Logs in at an LDAP mount; same request shape as userpass.
    #[tracing::instrument(skip_all, fields(mount = %mount))]
    pub async fn login_ldap(
        &self,
        mount: &str,
        username: &str,
        password: &str,
    ) -> Result<Login, VaultError> {
        self.password_login(mount, username, password).await
    }

    async fn password_login(
        &self,
        mount: &str,
        username: &str,
        password: &str,
    ) -> Result<Login, VaultError> {
        if mount.trim_matches('/').is_empty() || username.is_empty() || username.contains('/') {
            return Err(VaultError::InvalidCredentials);
        }
        let mut url = self
            .url(&["auth", mount, "login"], false)
            .map_err(|_| VaultError::InvalidCredentials)?;
        // The username is one segment even if it holds URL characters.
        url.path_segments_mut()
            .expect("a Vault URL can be a base")
            .push(username);
        let body = json!({ "password": password });
        let answer = self
            .send(Operation::Login, Method::POST, url, None, Some(&body))
            .await?;
        let status = answer.status.as_u16();
        if matches!(status, 400 | 401 | 403) {
            return Err(VaultError::InvalidCredentials);
        }
        if !answer.status.is_success() {
            return Err(from_status(status, &errors_of(&answer.body)));
        }
        self.logged_in(&answer, username).await
    }

    /// The [`Login`] of a successful login answer (password or OIDC callback): its `auth`, and
    /// the display name Vault audits, looked up with the new token (`fallback` when it cannot be).
    pub(crate) async fn logged_in(
        &self,
        answer: &crate::client::Answer,
        fallback: &str,
    ) -> Result<Login, VaultError> {
        let auth = answer.body.get("auth").unwrap_or(&Value::Null);
        let wire: WireAuth = decode(answer.status, auth, "a login")?;
        let token = SecretString::from(wire.client_token);
        // The login answer has no display name; the token lookup has the one Vault audits.
        // A token without the default policy cannot look itself up: fall back to the username.
        let display_name = match self.lookup_self(&token).await {
            Ok(info) => info.display_name,
            Err(_) => metadata_username(auth).unwrap_or_else(|| fallback.to_owned()),
        };
        Ok(Login {
            token,
            accessor: wire.accessor,
            display_name,
            entity_id: wire.entity_id,
            policies: wire.policies,
            lease_duration: wire.lease_duration,
            renewable: wire.renewable,
        })
    }
}

fn text(object: &Value, key: &str) -> String {
    object
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn metadata_username(auth: &Value) -> Option<String> {
    auth.get("metadata")
        .and_then(Value::as_object)
        .and_then(|m: &Map<String, Value>| m.get("username"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}
