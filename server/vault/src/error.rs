//! The one error type of this crate, and how Vault's answers map onto it.
//!
//! Mapping is by HTTP status, not by message text, because Vault's wording differs between
//! versions and between Vault and OpenBao. The exceptions match exact, long-stable strings: the
//! kv-v2 check-and-set error (400, [`CAS_MISMATCH`]), the sealed error (503, [`SEALED`]) and a
//! standby's words for having no active node to forward to ([`NO_ACTIVE_NODE`], [`STANDBY`]).
//! A 403 is ambiguous (a policy said no, or the token is dead: OpenBao says only "permission
//! denied" for both), so the client settles it with a `lookup-self` call; see
//! `Vault::user_error`.
//!
//! Display texts are sentences a UI can show directly. Details that only help an operator
//! (connection errors, 5xx messages) are kept in fields for the logs and left out of `Display`.

/// Vault's exact error text when `options.cas` does not match the current version.
pub(crate) const CAS_MISMATCH: &str = "check-and-set parameter did not match the current version";
/// Vault's exact error text (503) while sealed.
pub(crate) const SEALED: &str = "Vault is sealed";
/// A standby's error text (500) when it knows of no active node to forward a request to (while
/// the cluster elects one).
pub(crate) const NO_ACTIVE_NODE: &str = "local node not active but active cluster node not found";
/// A standby's error text (503) for a request it will not forward.
pub(crate) const STANDBY: &str = "Vault is in standby mode";
/// What a user is told when Vault did not answer or has no active node: the one "try again"
/// sentence of a leader election, a restart, a network blip.
const TRY_AGAIN: &str = "Vault cannot be reached right now. Try again in a moment.";

/// What went wrong talking to Vault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    /// The token is valid, but its policies do not allow this request.
    #[error("Vault did not allow this: your policies do not grant it.")]
    PermissionDenied,
    /// The token expired or was revoked.
    #[error("Your Vault session has expired. Log in again.")]
    InvalidToken,
    /// A kv-v2 write lost a check-and-set race (or `cas: 0` on an existing secret).
    #[error("Someone saved a newer version while you were editing.")]
    CasMismatch,
    /// Vault is sealed.
    #[error("Vault is sealed, so nothing can be read or saved. Try again once it is unsealed.")]
    Sealed,
    /// HTTP 429: a rate-limit quota was hit.
    #[error("Vault is receiving too many requests right now. Try again in a moment.")]
    RateLimited,
    /// No answer: connection refused, TLS failure, timeout, or a 502/504 from a proxy in front
    /// of Vault. The field is the technical detail, for logs. A request that timed out may still
    /// have been carried out.
    #[error("{}", TRY_AGAIN)]
    Unreachable(String),
    /// The node(s) answered that they have no active node right now (a leader election: a
    /// standby's 307 redirect, "active cluster node not found" or "in standby mode"; a sealed
    /// node is [`VaultError::Sealed`]): the request was not carried out, and the same request will work once a leader
    /// is elected. Told to the user as [`VaultError::Unreachable`] is; the field is for logs.
    #[error("{}", TRY_AGAIN)]
    NoActiveNode(String),
    /// Vault refused the request as malformed (4xx); the field is Vault's first error message.
    #[error("Vault refused the request: {0}.")]
    BadRequest(String),
    /// A secret or folder path the client will not send (empty, or with `.`/`..` segments).
    #[error("\"{0}\" is not a valid secret path.")]
    InvalidPath(String),
    /// An unexpected answer (5xx, an unexpected 404, or a body of the wrong shape). The message
    /// is for logs only.
    #[error("Vault answered with an unexpected error (HTTP {status}). Try again later.")]
    Server { status: u16, message: String },
    /// A login failed. Deliberately the same for an unknown user and a wrong password.
    #[error("The username or password is not correct.")]
    InvalidCredentials,
    /// The client settings are unusable (bad address, unreadable or invalid certificate).
    #[error("The Vault connection is not configured correctly: {0}")]
    Config(String),
}

impl VaultError {
    /// For a kv answer of the wrong shape. Never includes serde's text, which can quote values.
    pub(crate) fn unexpected(status: u16, what: &str) -> Self {
        VaultError::Server {
            status,
            message: format!("unexpected answer to {what}"),
        }
    }
}

/// Maps a non-2xx answer to an error when no token needs checking (403 → `PermissionDenied`).
pub(crate) fn from_status(status: u16, errors: &[String]) -> VaultError {
    let first = errors.first().map(|m| tidy(m)).unwrap_or_default();
    match status {
        400 if errors.iter().any(|m| m.contains(CAS_MISMATCH)) => VaultError::CasMismatch,
        401 | 403 => VaultError::PermissionDenied,
        429 => VaultError::RateLimited,
        503 if errors.iter().any(|m| m.contains(SEALED)) => VaultError::Sealed,
        307 => VaultError::NoActiveNode("a standby redirected to the active node".into()),
        500 | 503
            if errors
                .iter()
                .any(|m| m.contains(NO_ACTIVE_NODE) || m.contains(STANDBY)) =>
        {
            VaultError::NoActiveNode(first)
        }
        502 | 504 => {
            VaultError::Unreachable(format!("HTTP {status} from a proxy in front of Vault"))
        }
        400..=499 if status != 404 => VaultError::BadRequest(if first.is_empty() {
            format!("HTTP {status}")
        } else {
            first
        }),
        _ => VaultError::Server {
            status,
            message: first,
        },
    }
}

/// Vault wraps messages as Go multierrors ("1 error occurred:\n\t* permission denied\n\n");
/// keeps the bullet texts only.
fn tidy(message: &str) -> String {
    let bullets: Vec<&str> = message
        .lines()
        .filter_map(|line| line.trim().strip_prefix("* "))
        .collect();
    if message.contains("error occurred") && !bullets.is_empty() {
        bullets.join("; ").trim_end_matches('.').to_owned()
    } else {
        message.trim().trim_end_matches('.').to_owned()
    }
}

/// The `errors` array of an error body; empty when absent or not JSON.
pub(crate) fn errors_of(body: &serde_json::Value) -> Vec<String> {
    body.get("errors")
        .and_then(|e| e.as_array())
        .map(|list| {
            list.iter()
                .filter_map(|m| m.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errs(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_exact_cas_message_on_400_is_a_cas_mismatch() {
        assert_eq!(
            from_status(400, &errs(&[CAS_MISMATCH])),
            VaultError::CasMismatch
        );
    }

    #[test]
    fn other_400_messages_are_bad_requests_with_vaults_text() {
        assert_eq!(
            from_status(400, &errs(&["no data provided"])),
            VaultError::BadRequest("no data provided".into())
        );
    }

    #[test]
    fn multierror_wrapping_is_removed_from_messages() {
        assert_eq!(
            from_status(
                400,
                &errs(&["1 error occurred:\n\t* permission denied\n\n"])
            ),
            VaultError::BadRequest("permission denied".into())
        );
    }

    #[test]
    fn a_503_is_sealed_only_with_the_sealed_message() {
        assert_eq!(from_status(503, &errs(&[SEALED])), VaultError::Sealed);
        assert!(matches!(
            from_status(503, &errs(&["Vault is in standby"])),
            VaultError::Server { status: 503, .. }
        ));
    }

    #[test]
    fn an_election_is_no_active_node_and_says_try_again_like_unreachable() {
        for (status, errors) in [
            (307, errs(&[])),
            (500, errs(&[NO_ACTIVE_NODE])),
            (503, errs(&[STANDBY])),
        ] {
            let error = from_status(status, &errors);
            assert!(
                matches!(error, VaultError::NoActiveNode(_)),
                "{status}: {error:?}"
            );
            assert_eq!(
                error.to_string(),
                VaultError::Unreachable(String::new()).to_string()
            );
        }
    }

    #[test]
    fn proxy_gateway_errors_count_as_unreachable() {
        assert!(matches!(from_status(502, &[]), VaultError::Unreachable(_)));
        assert!(matches!(from_status(504, &[]), VaultError::Unreachable(_)));
    }

    #[test]
    fn server_error_details_stay_out_of_the_display_text() {
        let error = from_status(500, &errs(&["internal detail"]));
        assert!(!error.to_string().contains("internal detail"));
    }
}
