//! Server function of the audit history page. The caller's own Vault token decides which rows it
//! returns (`read` on `keyway/audit/<environment>` for a whole environment, `read` on a secret's
//! kv path for that secret's rows); the exports (`/audit/export.csv`, `.jsonl`) are plain GETs
//! served by the server with the same rule, streamed.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::dto::{AuditPage, AuditQuery};
use crate::error::AppError;

#[cfg(feature = "ssr")]
use super::respond;

/// The audit history (implemented by the server's audit view service).
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait AuditApi: Send + Sync {
    /// One page of the rows the caller may see, newest first.
    async fn audit_page(&self, query: AuditQuery) -> Result<AuditPage, AppError>;
}

#[server(prefix = "/api", endpoint = "audit", input = Json)]
pub async fn audit_history(query: AuditQuery) -> Result<AuditPage, AppError> {
    respond(async move { crate::backend::backend()?.audit_page(query).await }.await)
}
