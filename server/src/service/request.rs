//! The per-request context the services implement the UI's traits on: the shared [`Core`], the
//! request's session (read by [`crate::backend`], which turns it into a [`super::Caller`]) and
//! where the request came from.

use std::sync::Arc;

use tower_sessions::Session;

use super::{Core, RequestMeta};
use crate::sealing::Sealer;

/// One request, built by the HTTP layer and provided to the UI as its `Backend`.
pub struct RequestBackend {
    pub core: Arc<Core>,
    pub sealer: Sealer,
    pub session: Option<Session>,
    pub meta: RequestMeta,
}
