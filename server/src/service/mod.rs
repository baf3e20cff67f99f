//! Keyway's actions, one method per thing a user can do, each acting with the caller's own Vault
//! token and leaving its audit trail.
//!
//! This layer knows nothing about HTTP or sessions: [`crate::backend`] turns a request into a
//! [`Caller`] and calls in here. Errors leave as [`AppError`] with a plain sentence; the details
//! behind a 5xx are logged here, with the request id, and never sent to the browser.

mod auth;
pub mod cluster;
mod history;
mod overview;
mod secrets;

use keyway_app::error::AppError;
use keyway_store::{AuditLog, NewEvent, StoreError};
use keyway_vault::{SecretString, Vault, VaultError};

pub use auth::LoggedIn;

/// The shared services behind every request.
pub struct Core {
    pub vault: Vault,
    pub audit: AuditLog,
    /// None when this Keyway is not connected to a cluster.
    pub cluster: Option<std::sync::Arc<cluster::ClusterCtx>>,
}

/// Where a request came from, for the audit log.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub request_id: String,
    pub client_addr: String,
}

/// The logged-in user a request acts for.
pub struct Caller {
    pub token: SecretString,
    pub display_name: String,
    pub entity_id: String,
    pub meta: RequestMeta,
}

impl Caller {
    /// An audit event by this caller on one secret.
    pub fn event(&self, action: &str, env: &str, app: &str) -> NewEvent {
        NewEvent::new(&self.display_name, action)
            .entity(&self.entity_id)
            .secret(env, app)
            .request(&self.meta.request_id, &self.meta.client_addr)
    }
}

/// Maps a Vault error to what the user sees; `doing` completes "You may not …".
pub fn vault_error(e: VaultError, doing: &str) -> AppError {
    match e {
        VaultError::PermissionDenied => AppError::Denied(format!(
            "You may not {doing}: your Vault policies do not allow it."
        )),
        VaultError::InvalidToken => AppError::Unauthenticated,
        VaultError::InvalidCredentials => AppError::BadCredentials,
        VaultError::CasMismatch => AppError::Invalid(
            "Someone saved a newer version in the meantime. Reload to see it.".into(),
        ),
        VaultError::Sealed | VaultError::RateLimited | VaultError::Unreachable(_) => {
            if let VaultError::Unreachable(detail) = &e {
                tracing::warn!(%detail, "vault unreachable");
            }
            AppError::Unavailable(e.to_string())
        }
        VaultError::BadRequest(_) | VaultError::InvalidPath(_) => AppError::Invalid(e.to_string()),
        VaultError::Server {
            status,
            ref message,
        } => {
            tracing::error!(status, %message, "unexpected vault answer");
            AppError::Unavailable(e.to_string())
        }
        VaultError::Config(ref detail) => {
            tracing::error!(%detail, "vault client misconfigured");
            AppError::Internal
        }
    }
}

/// The audit store failed: the action is refused.
pub fn audit_error(e: StoreError) -> AppError {
    tracing::error!(error = %e, "audit log write failed; action refused");
    AppError::Unavailable(
        "The audit log could not be written, so nothing was changed. Try again in a moment; if it keeps happening, tell your platform team.".into(),
    )
}

/// Rejects environment and app names that could never be a kv-v2 mount or path.
pub fn check_target(env: &str, app: &str) -> Result<(), AppError> {
    let bad = |s: &str| {
        s.is_empty()
            || s.starts_with('/')
            || s.ends_with('/')
            || s.split('/')
                .any(|seg| seg.is_empty() || seg == "." || seg == "..")
            || s.chars().any(|c| c.is_control())
    };
    if bad(env) || bad(app) {
        return Err(AppError::Invalid(format!(
            "\"{env}/{app}\" is not a valid environment and app."
        )));
    }
    Ok(())
}
