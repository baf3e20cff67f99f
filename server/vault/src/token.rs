//! Token self-service: who am I, keep my session alive, end it. All three endpoints are
//! allowed by Vault's `default` policy, so they work for every normal user token.
//!
//! `lookup_self` also implements "log in with a token": the portal checks a pasted token by
//! looking it up with itself.

use reqwest::Method;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::client::{decode, NotFound};
use crate::error::{errors_of, from_status};
use crate::ops::Operation;
use crate::{Vault, VaultError};

/// What Vault knows about a token (`auth/token/lookup-self`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TokenInfo {
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub entity_id: String,
    /// The token's own policies (identity-group policies are not included).
    #[serde(default)]
    pub policies: Vec<String>,
    /// Seconds left; 0 = never expires (root and other non-expiring tokens).
    #[serde(default)]
    pub ttl: u64,
    #[serde(default)]
    pub renewable: bool,
    /// RFC 3339 expiry; `None` for tokens that never expire.
    #[serde(default)]
    pub expire_time: Option<String>,
    #[serde(default)]
    pub accessor: String,
}

/// The result of a renewal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Renewal {
    /// Seconds the token now has left (capped by its max TTL, so it may be less than asked).
    pub lease_duration: u64,
    pub renewable: bool,
}

impl Vault {
    /// Looks the token up with itself. A dead token is [`VaultError::InvalidToken`].
    #[tracing::instrument(skip_all)]
    pub async fn lookup_self(&self, token: &SecretString) -> Result<TokenInfo, VaultError> {
        let url = self.url(&["auth/token/lookup-self"], false)?;
        let answer = self
            .send(Operation::TokenLookup, Method::GET, url, Some(token), None)
            .await?;
        match answer.status.as_u16() {
            200..=299 => decode(answer.status, answer.data(), "a token lookup"),
            401 | 403 => Err(VaultError::InvalidToken),
            status => Err(from_status(status, &errors_of(&answer.body))),
        }
    }

    /// Extends the token's life by `increment_secs` (Vault may grant less).
    #[tracing::instrument(skip_all, fields(increment_secs = increment_secs))]
    pub async fn renew_self(
        &self,
        token: &SecretString,
        increment_secs: u64,
    ) -> Result<Renewal, VaultError> {
        let url = self.url(&["auth/token/renew-self"], false)?;
        let body = json!({ "increment": increment_secs });
        let answer = self
            .for_user(
                Operation::TokenRenew,
                Method::POST,
                url,
                token,
                Some(&body),
                NotFound::IsError,
            )
            .await?;
        #[derive(Deserialize)]
        struct WireRenewal {
            #[serde(default)]
            lease_duration: u64,
            #[serde(default)]
            renewable: bool,
        }
        let auth = answer.body.get("auth").unwrap_or(&Value::Null);
        let wire: WireRenewal = decode(answer.status, auth, "a token renewal")?;
        Ok(Renewal {
            lease_duration: wire.lease_duration,
            renewable: wire.renewable,
        })
    }

    /// Revokes the token (and its children): the user's logout.
    #[tracing::instrument(skip_all)]
    pub async fn revoke_self(&self, token: &SecretString) -> Result<(), VaultError> {
        let url = self.url(&["auth/token/revoke-self"], false)?;
        self.for_user(
            Operation::TokenRevoke,
            Method::POST,
            url,
            token,
            None,
            NotFound::IsError,
        )
        .await
        .map(drop)
    }
}
