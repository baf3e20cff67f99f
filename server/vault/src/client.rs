//! The HTTP plumbing shared by every call: configuration, TLS, URL building, sending with a
//! user's token, and turning error answers into [`VaultError`].
//!
//! A cluster reached at several addresses is [`crate::nodes`]' business; redirects are never
//! followed (a standby's 307 names the active node it knows of, and the token must not travel to
//! an address nobody configured).
//!
//! The client never stores a token. Each request takes the caller's token and sends it in the
//! `X-Vault-Token` header, marked sensitive so HTTP-level logging redacts it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::HeaderValue;
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tokio::sync::Semaphore;
use url::Url;

use crate::error::{errors_of, from_status};
use crate::nodes::{not_serving, Nodes};
use crate::ops::{CallOutcome, Observer, Operation};
use crate::VaultError;

/// How to reach Vault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultConfig {
    /// Vault's base address, e.g. `https://vault.example:8200` (a path prefix is kept, so a
    /// Vault behind `https://proxy/vault/` works too).
    pub addr: Url,
    /// More addresses of the same cluster (its other nodes, when no single address fronts
    /// them), tried in order when a node refuses the connection or has no active node
    /// ([`crate::nodes`]). Usually empty.
    pub more_addrs: Vec<Url>,
    /// PEM file of a private CA to trust in addition to the public roots.
    pub ca_cert: Option<PathBuf>,
    /// PEM certificate presented to Vault (mutual TLS); needs `client_key`.
    pub client_cert: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) for `client_cert`.
    pub client_key: Option<PathBuf>,
    /// Deadline for one whole request, connecting included.
    pub timeout: Duration,
    /// How many requests this client has open at once; the next waits for a free slot. A flood
    /// of page views then queues in Keyway instead of landing on Vault all at once (issue 9,
    /// point 3), and every request's own deadline still bounds the wait.
    pub max_in_flight: usize,
}

/// The default of [`VaultConfig::max_in_flight`].
pub const MAX_IN_FLIGHT: usize = 64;

impl VaultConfig {
    /// Settings for `addr` with public CAs only, no client certificate and a 10 s timeout.
    pub fn new(addr: Url) -> Self {
        VaultConfig {
            addr,
            more_addrs: Vec::new(),
            ca_cert: None,
            client_cert: None,
            client_key: None,
            timeout: Duration::from_secs(10),
            max_in_flight: MAX_IN_FLIGHT,
        }
    }
}

/// A Vault/OpenBao client. Holds no token; cheap to clone (one shared connection pool).
#[derive(Debug, Clone)]
pub struct Vault {
    http: reqwest::Client,
    /// `addr` and `more_addrs`, each with its path ending in `v1/`, shared by clones.
    nodes: Arc<Nodes>,
    /// One permit per request in flight ([`VaultConfig::max_in_flight`]), shared by clones.
    in_flight: Arc<Semaphore>,
    /// [`VaultConfig::timeout`], also the longest wait for a permit.
    timeout: Duration,
    /// Sees every call end ([`Vault::observed_by`]); shared by clones.
    observer: Option<Arc<dyn Observer>>,
}

/// A decoded answer: status and JSON body (`Value::Null` when empty or not JSON).
pub(crate) struct Answer {
    pub status: StatusCode,
    pub body: Value,
}

impl Answer {
    /// `body.data`, or `Null`.
    pub fn data(&self) -> &Value {
        self.body.get("data").unwrap_or(&Value::Null)
    }
}

/// Whether a 404 is an answer the caller interprets (absent secret) or an error.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotFound {
    IsAnswer,
    IsError,
}

impl Vault {
    /// Builds the client. Fails with [`VaultError::Config`] on an address that is not
    /// http(s), or a certificate/key file that is missing or not valid PEM.
    pub fn new(config: &VaultConfig) -> Result<Vault, VaultError> {
        let bases = std::iter::once(&config.addr)
            .chain(&config.more_addrs)
            .map(base_of)
            .collect::<Result<Vec<_>, _>>()?;

        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .connect_timeout(config.timeout);
        if let Some(path) = &config.ca_cert {
            let pem = read_file(path, "CA certificate")?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|_| invalid_pem(path, "CA certificate"))?;
            if certs.is_empty() {
                return Err(invalid_pem(path, "CA certificate"));
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        match (&config.client_cert, &config.client_key) {
            (Some(cert), Some(key)) => {
                let mut pem = read_file(cert, "client certificate")?;
                pem.push(b'\n');
                pem.extend(read_file(key, "client key")?);
                let identity = reqwest::Identity::from_pem(&pem).map_err(|_| {
                    VaultError::Config(format!(
                        "{} and {} are not a valid PEM certificate and private key.",
                        cert.display(),
                        key.display()
                    ))
                })?;
                builder = builder.identity(identity);
            }
            (None, None) => {}
            _ => {
                return Err(VaultError::Config(
                    "a client certificate needs both the certificate and the key file.".into(),
                ))
            }
        }
        let http = builder
            .build()
            .map_err(|e| VaultError::Config(format!("invalid TLS settings: {e}.")))?;
        Ok(Vault {
            http,
            nodes: Arc::new(Nodes::new(bases)),
            in_flight: Arc::new(Semaphore::new(config.max_in_flight.max(1))),
            timeout: config.timeout,
            observer: None,
        })
    }

    /// This client, with every call's operation, outcome and duration told to `observer`.
    pub fn observed_by(mut self, observer: Arc<dyn Observer>) -> Vault {
        self.observer = Some(observer);
        self
    }

    /// `v1/<parts…>`: each part is split on `/` and every piece is percent-encoded as one
    /// segment. With `folder`, the URL ends in `/` (what LIST expects).
    pub(crate) fn url(&self, parts: &[&str], folder: bool) -> Result<Url, VaultError> {
        let mut url = self.nodes.first().clone();
        {
            let mut segments = url
                .path_segments_mut()
                .expect("checked in Vault::new that the address can be a base");
            segments.pop_if_empty();
            for part in parts {
                for piece in part.split('/').filter(|p| !p.is_empty()) {
                    if piece == "." || piece == ".." {
                        return Err(VaultError::InvalidPath((*part).to_owned()));
                    }
                    segments.push(piece);
                }
            }
            if folder {
                segments.push("");
            }
        }
        Ok(url)
    }

    /// Sends one request and decodes the body. Transport failures become `Unreachable`. With
    /// several addresses, a node that refused the connection or answered that it cannot serve
    /// ([`crate::nodes::not_serving`]) hands the request to the next; the last such answer is
    /// returned when none served. The observer, if any, is told how the call ended
    /// ([`crate::ops`]).
    pub(crate) async fn send(
        &self,
        op: Operation,
        method: Method,
        url: Url,
        token: Option<&SecretString>,
        body: Option<&Value>,
    ) -> Result<Answer, VaultError> {
        let token = match token {
            Some(token) => {
                let mut value = HeaderValue::from_str(token.expose_secret())
                    .map_err(|_| VaultError::InvalidToken)?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        let started = Instant::now();
        let mut result = Err(VaultError::Unreachable("no Vault address".into()));
        for node in self.nodes.order() {
            let mut request = self
                .http
                .request(method.clone(), self.nodes.rebase(&url, node))
                .header("X-Vault-Request", "true");
            if let Some(id) = crate::trail::current_request_id() {
                request = request.header(crate::trail::REQUEST_ID_HEADER, id);
            }
            if let Some(token) = &token {
                request = request.header("X-Vault-Token", token.clone());
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            let (attempt, elsewhere) = match self.send_now(method.clone(), request).await {
                Ok(answer) => {
                    let status = answer.status.as_u16();
                    // A sealed or uninitialised node answers `sys/health` with 503/501 and no
                    // `errors`: for the health check, that too says "ask the next node" (or
                    // readiness would follow one sealed node while the others serve).
                    let refused = not_serving(status, &errors_of(&answer.body))
                        || (op == Operation::Health && matches!(status, 501 | 503));
                    (Ok(answer), refused)
                }
                Err((error, never_sent)) => (Err(error), never_sent),
            };
            result = attempt;
            if !elsewhere || self.nodes.len() == 1 {
                self.nodes.answered(node);
                break;
            }
            tracing::info!(node, "this Vault node cannot serve now; trying the next");
        }
        if let Some(observer) = &self.observer {
            let outcome = match &result {
                Ok(answer) => CallOutcome::of_body(answer.status.as_u16(), &answer.body),
                Err(_) => CallOutcome::Unreachable,
            };
            observer.observe(op, outcome, started.elapsed());
        }
        result
    }

    /// One attempt of [`Vault::send`] on one node: waits for a slot, sends, reads the answer.
    /// A failure says whether the request surely never reached Vault (the connection was
    /// refused or could not be made), so another node may be asked.
    async fn send_now(
        &self,
        method: Method,
        request: reqwest::RequestBuilder,
    ) -> Result<Answer, (VaultError, bool)> {
        // Held until the body is read: the request is in flight until then. Waiting for a slot
        // counts against the same timeout as the request: a Keyway that has had `max_in_flight`
        // requests open for that long says Vault cannot be reached, instead of queueing on.
        let _slot = match tokio::time::timeout(self.timeout, self.in_flight.acquire()).await {
            Ok(slot) => slot.expect("the semaphore is never closed"),
            Err(_) => {
                return Err((VaultError::Unreachable(format!(
                    "Keyway already has its most requests open to Vault (KEYWAY_VAULT_MAX_IN_FLIGHT) and none finished within {} s.",
                    self.timeout.as_secs()
                )), false))
            }
        };
        let started = Instant::now();
        let response = request.send().await.map_err(|e| {
            let connect = e.is_connect();
            (transport_error(e), connect)
        })?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| (transport_error(e), false))?;
        tracing::debug!(
            method = %method,
            status = status.as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "vault answered"
        );
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if method != Method::GET && method.as_str() != "LIST" {
            if let Some(id) = body.get("request_id").and_then(Value::as_str) {
                crate::trail::note_write(id);
            }
        }
        Ok(Answer { status, body })
    }

    /// Sends a request without a token (logins, the public mount listing).
    pub(crate) async fn anonymous(
        &self,
        op: Operation,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<Answer, VaultError> {
        let answer = self.send(op, method, url, None, body).await?;
        if answer.status.is_success() {
            Ok(answer)
        } else {
            Err(from_status(
                answer.status.as_u16(),
                &errors_of(&answer.body),
            ))
        }
    }

    /// Sends a request for a user. 2xx is returned, so is a 404 when `not_found` says it is an
    /// answer; anything else becomes an error, with 403 settled by [`Vault::user_error`].
    pub(crate) async fn for_user(
        &self,
        op: Operation,
        method: Method,
        url: Url,
        token: &SecretString,
        body: Option<&Value>,
        not_found: NotFound,
    ) -> Result<Answer, VaultError> {
        let answer = self.send(op, method, url, Some(token), body).await?;
        if answer.status.is_success()
            || (answer.status == StatusCode::NOT_FOUND && not_found == NotFound::IsAnswer)
        {
            Ok(answer)
        } else {
            Err(self.user_error(&answer, token).await)
        }
    }

    /// Turns an error answer to a user's request into a [`VaultError`]. A 401/403 is either a
    /// policy refusal or a dead token, and OpenBao words both "permission denied", so this asks
    /// `auth/token/lookup-self` (allowed by the `default` policy) with the same token: if that
    /// fails too the session is over ([`VaultError::InvalidToken`]), otherwise it is
    /// [`VaultError::PermissionDenied`]. A token created without the `default` policy and
    /// without a grant on lookup-self is therefore reported as expired.
    pub(crate) async fn user_error(&self, answer: &Answer, token: &SecretString) -> VaultError {
        let status = answer.status.as_u16();
        if status != 401 && status != 403 {
            return from_status(status, &errors_of(&answer.body));
        }
        let url = match self.url(&["auth/token/lookup-self"], false) {
            Ok(url) => url,
            Err(e) => return e,
        };
        match self
            .send(Operation::TokenLookup, Method::GET, url, Some(token), None)
            .await
        {
            Ok(lookup) if lookup.status.is_success() => VaultError::PermissionDenied,
            Ok(lookup) if matches!(lookup.status.as_u16(), 401 | 403) => VaultError::InvalidToken,
            Ok(lookup) => from_status(lookup.status.as_u16(), &errors_of(&lookup.body)),
            Err(e) => e,
        }
    }
}

impl Vault {
    /// A `LIST` for a user: the answer's `data`, or `None` when there is nothing to list (Vault
    /// answers 404 with `{"errors":[]}` for an empty list).
    pub(crate) async fn list(
        &self,
        op: Operation,
        token: &SecretString,
        parts: &[&str],
    ) -> Result<Option<Answer>, VaultError> {
        let url = self.url(parts, false)?;
        let method = Method::from_bytes(b"LIST").expect("LIST is a valid method");
        let answer = self
            .for_user(op, method, url, token, None, NotFound::IsAnswer)
            .await?;
        Ok((answer.status != StatusCode::NOT_FOUND).then_some(answer))
    }

    /// A `GET` for a user of one object: the answer, or `None` when there is no such object
    /// (404, or an answer without `data`, as identity reads give for an unknown name).
    pub(crate) async fn read_one(
        &self,
        op: Operation,
        token: &SecretString,
        parts: &[&str],
    ) -> Result<Option<Answer>, VaultError> {
        let url = self.url(parts, false)?;
        let answer = self
            .for_user(op, Method::GET, url, token, None, NotFound::IsAnswer)
            .await?;
        Ok((answer.status != StatusCode::NOT_FOUND && !answer.data().is_null()).then_some(answer))
    }
}

/// Decodes `value` into `T`. On failure reports only `what` was being read: serde's message
/// can quote the offending value, which may be a secret or a token.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    status: StatusCode,
    value: &Value,
    what: &str,
) -> Result<T, VaultError> {
    T::deserialize(value).map_err(|_| VaultError::unexpected(status.as_u16(), what))
}

fn transport_error(mut error: reqwest::Error) -> VaultError {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    // reqwest's text names the URL. Its path holds mount and path names only; its query can hold
    // one-shot secrets (an OIDC callback's `code`, `state` and `client_nonce`), so it goes.
    if let Some(url) = error.url_mut() {
        url.set_query(None);
    }
    let mut detail = format!("{kind}: {error}");
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        detail.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    tracing::warn!(detail = %detail, "vault unreachable");
    VaultError::Unreachable(detail)
}

/// `addr` as the base every URL is built on: its path ending in `v1/`, no query or fragment.
fn base_of(addr: &Url) -> Result<Url, VaultError> {
    let mut base = addr.clone();
    if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
        return Err(VaultError::Config(format!(
            "the Vault address must start with http:// or https://, not \"{addr}\"."
        )));
    }
    base.set_query(None);
    base.set_fragment(None);
    base.path_segments_mut()
        .map_err(|()| VaultError::Config("the Vault address has no path.".into()))?
        .pop_if_empty()
        .push("v1")
        .push("");
    Ok(base)
}

fn read_file(path: &Path, what: &str) -> Result<Vec<u8>, VaultError> {
    std::fs::read(path).map_err(|e| {
        VaultError::Config(format!(
            "cannot read the {what} file {}: {e}.",
            path.display()
        ))
    })
}

fn invalid_pem(path: &Path, what: &str) -> VaultError {
    VaultError::Config(format!(
        "{} does not contain a valid PEM {what}.",
        path.display()
    ))
}

#[cfg(test)]
mod tests;
