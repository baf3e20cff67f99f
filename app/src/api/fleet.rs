//! Server function of the platform team's fleet health page. The caller's own Vault token
//! decides which environments it shows (`read` on `keyway/fleet/<environment>`): a developer's
//! token sees none and is refused, even calling the endpoint directly.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::dto::{FleetPage, FleetQuery};
use crate::error::AppError;

#[cfg(feature = "ssr")]
use super::respond;

/// Fleet health (implemented by the server's fleet service).
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait FleetApi: Send + Sync {
    /// The apps needing attention in the environments the caller may see.
    async fn fleet(&self, query: FleetQuery) -> Result<FleetPage, AppError>;
}

#[server(prefix = "/api", endpoint = "fleet", input = Json)]
pub async fn fleet_health(query: FleetQuery) -> Result<FleetPage, AppError> {
    respond(async move { crate::backend::backend()?.fleet(query).await }.await)
}
