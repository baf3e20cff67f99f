//! What the UI needs from the server: one trait per area, provided together as [`Backend`].
//!
//! The `app` crate is compiled for the browser too, so it cannot depend on the Vault client, the
//! database or the session store. Server functions call these traits through Leptos context; the
//! `server` crate implements them with the real clients and provides one [`Backend`] per request.
//! Every method acts for the caller of the current request: implementations read the session
//! themselves and answer [`AppError::Unauthenticated`] when there is none, so no server function
//! can forget the check.
//!
//! The shape, so it stays readable as areas are added: each area's trait is declared next to its
//! server functions (`api/<area>.rs`: [`AuthApi`], [`SecretsApi`], [`VersionsApi`],
//! [`ClusterApi`], [`AccessApi`], [`FleetApi`], [`OnboardApi`], [`AuditApi`]), and the server implements it next to its logic (`server/src/service/<area>`).
//! Adding an action touches its DTO (`dto.rs`), its endpoint and trait method
//! (`api/<area>.rs`) and its service; adding an area adds one trait here to [`Backend`]'s list.

use std::sync::Arc;

use leptos::prelude::use_context;

pub use crate::api::access::AccessApi;
pub use crate::api::audit::AuditApi;
pub use crate::api::auth::AuthApi;
pub use crate::api::cluster::ClusterApi;
pub use crate::api::fleet::FleetApi;
pub use crate::api::onboard::OnboardApi;
pub use crate::api::secrets::SecretsApi;
pub use crate::api::versions::VersionsApi;
use crate::error::AppError;

/// Every area together: what the server provides per request.
pub trait Backend:
    AuthApi
    + SecretsApi
    + VersionsApi
    + ClusterApi
    + AccessApi
    + FleetApi
    + OnboardApi
    + AuditApi
    + 'static
{
}

impl<
        T: AuthApi
            + SecretsApi
            + VersionsApi
            + ClusterApi
            + AccessApi
            + FleetApi
            + OnboardApi
            + AuditApi
            + 'static,
    > Backend for T
{
}

/// The backend for the current request, provided as context by the server.
#[derive(Clone)]
pub struct BackendHandle(pub Arc<dyn Backend>);

/// The backend for a server function the pages also poll with: `background` is the call's own
/// argument, true when the page's clock asked (see `pages::secret::cluster::poll`), not the user.
/// The one rule for what counts as activity: a call is the user's unless it says `background`.
pub fn backend_for(background: bool) -> Result<Arc<dyn Backend>, AppError> {
    let b = backend()?;
    if background {
        b.background();
    }
    Ok(b)
}

/// Reads the backend from context; a missing one is a wiring bug, logged as internal.
pub fn backend() -> Result<Arc<dyn Backend>, AppError> {
    use_context::<BackendHandle>()
        .map(|h| h.0)
        .ok_or(AppError::Internal)
}
