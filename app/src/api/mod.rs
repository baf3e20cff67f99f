//! Server functions: thin public endpoints under `/api/…`.
//!
//! Each one is a POST anyone can send, so each goes through [`crate::backend::Backend`], whose
//! methods authenticate the caller themselves. Endpoints are stable so tests and scripts can call
//! them.

pub mod access;
pub mod audit;
pub mod auth;
pub mod cluster;
pub mod fleet;
pub mod onboard;
pub mod secrets;
pub mod versions;

/// Gives an error its HTTP status (401, 403, 409, …) instead of a blanket 500, so scripts and
/// tests calling `/api/…` directly can tell failures apart.
#[cfg(feature = "ssr")]
pub(crate) fn respond<T>(
    result: Result<T, crate::error::AppError>,
) -> Result<T, crate::error::AppError> {
    if let Err(e) = &result {
        if let Some(resp) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            resp.set_status(
                http::StatusCode::from_u16(e.status())
                    .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR),
            );
        }
    }
    result
}
