//! The per-request context the services implement the UI's traits on: the shared [`Core`], the
//! request's session (read by [`crate::backend`], which turns it into a [`super::Caller`]) and
//! where the request came from, the session rules, and whether the request is a background poll.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use tower_sessions::Session;

use super::{Core, RequestMeta};
use crate::sealing::Sealer;
use crate::sessions::SessionRules;

/// One request, built by the HTTP layer and provided to the UI as its `Backend`.
pub struct RequestBackend {
    pub core: Arc<Core>,
    pub sealer: Sealer,
    pub session: Option<Session>,
    pub meta: RequestMeta,
    pub rules: SessionRules,
    /// Set by a background poll (`AuthApi::background`): the request is not the user's activity,
    /// so it neither slides the idle expiry nor renews the token.
    pub background: AtomicBool,
}
