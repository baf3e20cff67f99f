//! Keyway's actions, one method per thing a user can do, each acting with the caller's own Vault
//! token and leaving its audit trail.
//!
//! The shape: each area implements its trait from the UI crate (`keyway_app::backend`:
//! `SecretsApi` in [`secrets`], `VersionsApi` in [`history`], `ClusterApi` in [`cluster`]) on the
//! per-request [`RequestBackend`], each method one line that resolves the caller
//! (`with_caller`, in [`crate::backend`], which also ends a session whose token died) and calls
//! the `Core` method holding the logic. So an action is its DTO, its endpoint and trait method
//! (`app/src/api/<area>.rs`) and its service here. The rules every action shares live once:
//! the audit bracket in [`audit`], the capability check in `keyway_vault::Capabilities`, the
//! action names in `keyway_store::Action`, the identities in `keyway_app::dto` (`SecretRef`,
//! `AppRef`, `WorkloadRef`).
//!
//! The logic knows nothing about HTTP or sessions: [`crate::backend`] turns a request into a
//! [`Caller`]. Errors leave as [`AppError`] with a plain sentence; the details behind a 5xx are
//! logged here, with the request id, and never sent to the browser.

mod access;
mod audit;
pub mod audit_export;
pub mod audit_view;
mod auth;
pub mod cluster;
pub mod environments;
pub mod fleet;
mod history;
mod menu;
pub mod oidc;
mod onboard;
mod overview;
pub mod refusals;
mod request;
mod secrets;
pub mod throttle;
pub mod vault_health;
mod write;

use keyway_app::dto::SecretRef;
use keyway_app::error::AppError;
use keyway_store::{Action, AuditLog, NewEvent, StoreError};
use keyway_vault::{Capabilities, SecretString, Vault, VaultError};

pub use auth::{LoggedIn, SessionEnd, TokenOrigin};
pub use request::RequestBackend;

/// The shared services behind every request.
pub struct Core {
    pub vault: Vault,
    pub audit: AuditLog,
    /// None when this Keyway is not connected to a cluster.
    pub cluster: Option<std::sync::Arc<cluster::ClusterCtx>>,
    /// Rate limits on logins and refusals.
    pub throttle: throttle::Throttle,
    /// Repeated refusals waiting to be written as one counted row.
    pub refusals: refusals::Refusals,
    /// The environments the platform pages offer, and where their secrets live.
    pub envs: environments::Environments,
    /// The claim table every replica shares, here to serialise access edits of one group (Vault
    /// has no check-and-set on groups); restarts use it through `cluster::ClusterCtx`.
    pub claims: keyway_store::RestartClaims,
    /// Signed audit checkpoints: their status (`checkpoints.status()`) and the chain verified
    /// against them (`checkpoints.last_verified()`, kept fresh in the background), for the audit page.
    pub checkpoints: std::sync::Arc<crate::checkpoint::Checkpoints>,
    /// The Prometheus metrics (`crate::metrics`), recorded where each event happens.
    pub metrics: std::sync::Arc<crate::metrics::Metrics>,
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
    pub fn event(&self, action: Action, secret: &SecretRef) -> NewEvent {
        NewEvent::new(&self.display_name, action)
            .entity(&self.entity_id)
            .secret(&secret.mount, &secret.path)
            .request(&self.meta.request_id, &self.meta.client_addr)
    }
}

impl Core {
    /// The caller's capabilities on `paths` (API paths), in one Vault call; read them with
    /// [`Capabilities::has`]. `doing` completes "You may not …" when Vault refuses.
    pub(crate) async fn capabilities(
        &self,
        caller: &Caller,
        paths: &[String],
        doing: &str,
    ) -> Result<Capabilities, AppError> {
        self.vault
            .capabilities_self(&caller.token, paths)
            .await
            .map_err(|e| vault_error(e, doing))
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
        // A leader election, a restart, a network blip, a quota: unavailable for now, each
        // with its own sentence (Unreachable and NoActiveNode share the "try again" one).
        VaultError::Sealed
        | VaultError::RateLimited
        | VaultError::Unreachable(_)
        | VaultError::NoActiveNode(_) => {
            if let VaultError::Unreachable(detail) | VaultError::NoActiveNode(detail) = &e {
                tracing::warn!(%detail, "vault unreachable or without an active node");
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

/// Rejects a mount or path that could never be a kv-v2 mount or path, or is over its bound
/// (`keyway_app::logic::limits`). Every action on a secret starts here, before Vault or the
/// audit log is touched.
pub fn check_secret(secret: &SecretRef) -> Result<(), AppError> {
    use keyway_app::logic::limits::{MOUNT_MAX_BYTES, PATH_MAX_BYTES};
    let (mount, path) = (secret.mount.as_str(), secret.path.as_str());
    for (what, value, max) in [
        ("mount name", mount, MOUNT_MAX_BYTES),
        ("secret path", path, PATH_MAX_BYTES),
    ] {
        if value.len() > max {
            return Err(AppError::Invalid(format!(
                "The {what} is {} bytes long; at most {max} are allowed.",
                value.len()
            )));
        }
    }
    let bad = |s: &str| {
        s.is_empty()
            || s.starts_with('/')
            || s.ends_with('/')
            || s.split('/')
                .any(|seg| seg.is_empty() || seg == "." || seg == "..")
            || s.chars().any(|c| c.is_control())
    };
    if bad(mount) || bad(path) {
        return Err(AppError::Invalid(format!(
            "\"{mount}/{path}\" is not a valid mount and secret path."
        )));
    }
    Ok(())
}
