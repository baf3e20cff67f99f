//! Which failure, if any, stands between a Vault write and the cluster's copy, and how to say it
//! without Kubernetes words.
//!
//! Failure signals: Warning events whose reason is about copying the secret (reference §1.7; the
//! `RolloutRestart*` ones concern pods and belong to [`crate::status::pods`]), and the condition
//! `SecretSynced=False`. One counts when it is newer than the write (at the cluster's one-second
//! resolution) and nothing strictly newer says the operator recovered.
//!
//! Recovery signals: a Normal `SecretSynced` event (`SecretRotated` before VSO v1.0),
//! `SecretSynced=True`, and `Healthy=True` / `Ready=True`. The last two make this robust to VSO
//! bug #1225: SecretSynced is rewritten only when VSO writes the Secret, so after a transient
//! error it stays False while Healthy goes back to True on the next good reconcile. They also
//! supersede Warning events, not only the condition: VSO writes `Healthy=False` in the same
//! reconcile as every sync failure (`updateStatus(ctx, o, false, ..)` in the VSS controller), so
//! a Healthy=True strictly newer than a failure means a later reconcile went through, even when
//! it had nothing to copy and so sent no `SecretSynced` event.

use jiff::Timestamp;

use super::{AppSync, Live};
use crate::status::cluster_second;

/// Warning event reasons that mean "the secret was not copied".
const SYNC_FAILURES: [&str; 6] = [
    "VaultClientError",
    "VaultClientConfigError",
    "SecretSyncError",
    "SecretDataBuilderError",
    "VaultStaticSecretError",
    "TransformationError",
];

/// Normal event reasons that mean "the secret was copied".
pub(super) fn is_sync_success(reason: &str) -> bool {
    reason == "SecretSynced" || reason == "SecretRotated"
}

struct Failure<'a> {
    reason: &'a str,
    message: &'a str,
    at: Timestamp,
}

/// `Live::Failing` for the newest failure after `written` that nothing superseded, if any.
pub(super) fn failing(app: &AppSync<'_>, written: Timestamp) -> Option<Live> {
    let written = cluster_second(written);
    let recovered = last_recovery(app);
    let conditions = app
        .conditions
        .iter()
        .filter(|c| c.is("SecretSynced", "False"))
        .map(|c| Failure {
            reason: &c.reason,
            message: &c.message,
            at: c.last_transition,
        });
    // Events after the condition: on a tie `max_by_key` keeps the last, and an event's reason
    // says more than the condition's (always `Synced`).
    let events = app
        .events
        .iter()
        .filter(|e| e.warning && SYNC_FAILURES.contains(&e.reason.as_str()))
        .map(|e| Failure {
            reason: &e.reason,
            message: &e.message,
            at: e.last_seen,
        });
    let active: Vec<Failure<'_>> = conditions
        .chain(events)
        .filter(|f| f.at >= written && recovered.is_none_or(|r| f.at >= r))
        .collect();
    let newest = active.iter().max_by_key(|f| f.at)?;
    let since = active.iter().map(|f| f.at).min().unwrap_or(newest.at);
    Some(Live::Failing {
        sentence: sentence(newest.reason, newest.message).to_owned(),
        detail: newest.message.to_owned(),
        since,
    })
}

/// The newest sign that the operator read Vault and copied (or had nothing to copy).
fn last_recovery(app: &AppSync<'_>) -> Option<Timestamp> {
    let reconciled = app
        .conditions
        .iter()
        .filter(|c| c.is("Healthy", "True") || c.is("Ready", "True"))
        .map(|c| c.last_transition)
        .max();
    reconciled.max(last_sync(app))
}

/// When the operator last wrote the Secret: `SecretSynced=True` (rewritten on every write) or a
/// Normal sync event.
pub(super) fn last_sync(app: &AppSync<'_>) -> Option<Timestamp> {
    let from_condition = app
        .conditions
        .iter()
        .filter(|c| c.is("SecretSynced", "True"))
        .map(|c| c.last_transition)
        .max();
    let from_events = app
        .events
        .iter()
        .filter(|e| !e.warning && is_sync_success(&e.reason))
        .map(|e| e.last_seen)
        .max();
    from_condition.max(from_events)
}

pub(super) const NOT_ALLOWED: &str = "The cluster is not allowed to read this secret in Vault.";
pub(super) const NO_SUCH_PATH: &str =
    "The cluster looks for this secret at a path that does not exist in Vault.";
pub(super) const SEALED: &str = "Vault is sealed, so the cluster cannot read this secret.";
pub(super) const CANNOT_LOG_IN: &str =
    "The cluster cannot log in to Vault: its Vault role or account is not set up right.";
pub(super) const CANNOT_STORE: &str =
    "The cluster read the secret but could not store its copy for the app.";
pub(super) const KEY_NOT_ALLOWED: &str =
    "The cluster cannot copy this secret: one of its keys is not allowed (for example `_raw`).";
pub(super) const UNREACHABLE: &str = "The cluster cannot reach Vault.";
pub(super) const COULD_NOT_COPY: &str = "The cluster could not copy this secret.";

/// Signs of a network failure in Go's and Vault's error texts.
const NETWORK: [&str; 9] = [
    "connection refused",
    "connection reset",
    "no such host",
    "no route to host",
    "network is unreachable",
    "dial tcp",
    "timeout",
    "timed out",
    "deadline exceeded",
];

/// A plain sentence for a failure, from its reason and the operator's message.
///
/// The order matters where two apply: errors about the Kubernetes side (storing the copy, a key
/// that is not allowed) are named by their reason whatever the message holds; a sealed or
/// unreachable Vault explains any other error; a login error (`VaultClientConfigError`) is about
/// the cluster's Vault role even when Vault answered 403 or 404 to the login, so it comes before
/// the 403/404 sentences, which are about reading the secret itself.
fn sentence(reason: &str, message: &str) -> &'static str {
    let message = message.to_ascii_lowercase();
    let says = |s: &str| message.contains(s);
    if reason == "SecretSyncError" {
        CANNOT_STORE
    } else if reason == "SecretDataBuilderError" || says("not permitted in secret data") {
        KEY_NOT_ALLOWED
    } else if says("sealed") || says("code: 503") {
        SEALED
    } else if NETWORK.iter().any(|s| says(s)) {
        UNREACHABLE
    } else if reason == "VaultClientConfigError" {
        CANNOT_LOG_IN
    } else if says("code: 403") || says("permission denied") {
        NOT_ALLOWED
    } else if says("code: 404") {
        NO_SUCH_PATH
    } else {
        COULD_NOT_COPY
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_failure_has_its_sentence() {
        let rows = [
            (
                "403 on read",
                "VaultClientError",
                "Failed to read Vault secret: Error making API request.\n\nURL: GET http://vault:8200/v1/kv/data/app\nCode: 403. Errors:\n\n* 1 error occurred:\n\t* permission denied",
                NOT_ALLOWED,
            ),
            ("permission denied alone", "VaultClientError", "permission denied", NOT_ALLOWED),
            (
                "404 on read",
                "VaultClientError",
                "Failed to read Vault secret: Error making API request.\n\nCode: 404. Errors:",
                NO_SUCH_PATH,
            ),
            (
                "sealed",
                "VaultClientError",
                "Failed to read Vault secret: Code: 503. Errors:\n\n* Vault is sealed",
                SEALED,
            ),
            ("503 alone", "VaultClientError", "Code: 503. Errors:", SEALED),
            (
                "login denied is a login problem",
                "VaultClientConfigError",
                "Failed to get Vault auth login: Code: 403. Errors:\n\n* permission denied",
                CANNOT_LOG_IN,
            ),
            (
                "login while sealed is sealed",
                "VaultClientConfigError",
                "Failed to get Vault auth login: Code: 503. Errors: * Vault is sealed",
                SEALED,
            ),
            (
                "secret not owned",
                "SecretSyncError",
                "Failed to update k8s secret: not the owner of the destination Secret ns/app",
                CANNOT_STORE,
            ),
            (
                "_raw key",
                "SecretDataBuilderError",
                "Failed to build K8s secret data: key '_raw' not permitted in Secret data",
                KEY_NOT_ALLOWED,
            ),
            (
                "_raw key seen in the condition",
                "Synced",
                "Failed to sync the secret, horizon=5s, err=key '_raw' not permitted in Secret data",
                KEY_NOT_ALLOWED,
            ),
            (
                "connection refused",
                "VaultClientError",
                "Failed to read Vault secret: Get \"http://vault:8200/v1/kv/data/app\": dial tcp 10.0.0.1:8200: connect: connection refused",
                UNREACHABLE,
            ),
            (
                "timeout",
                "VaultClientConfigError",
                "Failed to get Vault auth login: context deadline exceeded (Client.Timeout exceeded while awaiting headers)",
                UNREACHABLE,
            ),
            (
                "anything else",
                "TransformationError",
                "Failed setting up SecretTransformationOption: template not found",
                COULD_NOT_COPY,
            ),
        ];
        for (name, reason, message, want) in rows {
            assert_eq!(sentence(reason, message), want, "{name}");
        }
    }
}
