//! The stand-in's own Vault client: kubernetes-auth login and one kv-v2 read, nothing else.
//!
//! Kept apart from Keyway's `keyway-vault` crate on purpose: this plays the operator, which logs in
//! as a workload (a service-account token from TokenRequest, verified by OpenBao through the
//! apiserver's TokenReview), never as a person. Error texts follow the Go Vault client's
//! (`Error making API request. ... Code: 403. Errors: ...`), which is what VSO puts in its events.

use std::time::Duration;

use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// Vault answered with an error status.
    #[error("Error making API request.\n\nURL: {method} {url}\nCode: {code}. Errors:\n\n{errors}")]
    Api {
        method: &'static str,
        url: String,
        code: u16,
        errors: String,
    },
    #[error("{method} {url}: {source}")]
    Transport {
        method: &'static str,
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("unexpected answer from {0}")]
    Shape(String),
}

impl VaultError {
    pub fn status(&self) -> Option<u16> {
        match self {
            VaultError::Api { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// A token from a login, with how long it may be used.
#[derive(Clone)]
pub struct Login {
    pub token: String,
    pub lease: Duration,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("lease", &self.lease)
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
pub struct Vault {
    http: reqwest::Client,
}

impl Default for Vault {
    fn default() -> Self {
        Self::new()
    }
}

impl Vault {
    pub fn new() -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("a plain reqwest client always builds");
        Self { http }
    }

    async fn send(
        &self,
        method: &'static str,
        url: String,
        req: reqwest::RequestBuilder,
    ) -> Result<Value, VaultError> {
        let resp = req.send().await.map_err(|source| VaultError::Transport {
            method,
            url: url.clone(),
            source,
        })?;
        let code = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if (200..300).contains(&code) {
            return Ok(body);
        }
        let errors = body
            .get("errors")
            .and_then(|e| e.as_array())
            .map(|e| {
                e.iter()
                    .filter_map(|s| s.as_str())
                    .map(|s| format!("* {s}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default();
        Err(VaultError::Api {
            method,
            url,
            code,
            errors,
        })
    }

    /// `POST {addr}/v1/auth/{mount}/login {"role", "jwt"}`.
    pub async fn kubernetes_login(
        &self,
        addr: &str,
        mount: &str,
        role: &str,
        jwt: &str,
    ) -> Result<Login, VaultError> {
        let url = format!(
            "{}/v1/auth/{}/login",
            addr.trim_end_matches('/'),
            mount.trim_matches('/')
        );
        let body = serde_json::json!({"role": role, "jwt": jwt});
        let v = self
            .send("PUT", url.clone(), self.http.post(&url).json(&body))
            .await?;
        let auth = v
            .get("auth")
            .ok_or_else(|| VaultError::Shape(url.clone()))?;
        let token = auth
            .get("client_token")
            .and_then(|t| t.as_str())
            .ok_or_else(|| VaultError::Shape(url.clone()))?
            .to_string();
        let lease = auth
            .get("lease_duration")
            .and_then(|l| l.as_u64())
            .unwrap_or(0);
        Ok(Login {
            token,
            lease: Duration::from_secs(lease),
        })
    }

    /// `GET {addr}/v1/{mount}/data/{path}[?version=N]`: the answer's `data` object.
    pub async fn read_kv_v2(
        &self,
        addr: &str,
        token: &str,
        mount: &str,
        path: &str,
        version: Option<i64>,
    ) -> Result<Value, VaultError> {
        let mut url = format!(
            "{}/v1/{}/data/{}",
            addr.trim_end_matches('/'),
            mount.trim_matches('/'),
            path.trim_matches('/')
        );
        if let Some(v) = version.filter(|v| *v > 0) {
            url.push_str(&format!("?version={v}"));
        }
        let v = self
            .send(
                "GET",
                url.clone(),
                self.http.get(&url).header("X-Vault-Token", token),
            )
            .await?;
        v.get("data").cloned().ok_or(VaultError::Shape(url))
    }
}
