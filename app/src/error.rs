//! The one error type the UI sees.
//!
//! Every server function returns `Result<T, AppError>`. Each variant carries a plain sentence a
//! developer can act on; internals (Vault responses, SQL errors) are logged on the server and
//! never travel to the browser.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

use crate::dto::ConflictInfo;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// No session, or the Vault token behind it expired or was revoked.
    #[error("Your session has ended. Log in again.")]
    Unauthenticated,
    /// Wrong credentials; deliberately silent about whether the user exists.
    #[error("Those credentials were not accepted. Check them and try again.")]
    BadCredentials,
    /// Vault (or a Keyway rule that asked Vault) refused the action.
    #[error("{0}")]
    Denied(String),
    /// The input was refused before anything was written; the text says what to fix.
    #[error("{0}")]
    Invalid(String),
    /// Check-and-set failed: someone saved in between. Carries what changed meanwhile.
    #[error("{}", .0.headline())]
    Conflict(Box<ConflictInfo>),
    #[error("{0}")]
    NotFound(String),
    /// Vault sealed or unreachable, audit store down: retry later.
    #[error("{0}")]
    Unavailable(String),
    /// A cross-site request or a request without a valid origin.
    #[error("This request did not come from Keyway's own pages and was refused.")]
    Forbidden,
    #[error("Something went wrong on the server. It has been logged; try again.")]
    Internal,
    /// The request itself could not be read (invalid JSON, a missing field, a wrong type): not
    /// something Keyway's own pages send. Always [`AppError::malformed`]'s fixed sentence (it
    /// travels in the answer, for scripts): the decoder's text stays out.
    #[error("{0}")]
    Malformed(String),
    /// The request body is over [`crate::logic::limits::BODY_MAX_BYTES`]
    /// ([`AppError::too_large`]).
    #[error("{0}")]
    TooLarge(String),
    /// Too many attempts in a short time (login, refused actions); the text says when to retry.
    #[error("{0}")]
    TooMany(String),
    /// Transport-level failure between browser and server.
    /// The detail (server_fn's own text) is kept for the browser console, not shown.
    #[error("Keyway could not be reached. Check your connection and try again.")]
    Transport(String),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(msg) => AppError::Transport(msg),
            // On the server, a failure before the function runs is the request's fault: its
            // body did not decode, or was cut at the size limit (`Limited`'s own error text).
            // In the browser the same variants mean the answer did not decode: a transport
            // problem.
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Deserialization(msg) if msg.contains("length limit exceeded") => {
                AppError::too_large()
            }
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Args(_)
            | ServerFnErrorErr::MissingArg(_)
            | ServerFnErrorErr::Deserialization(_) => AppError::malformed(),
            other => AppError::Transport(other.to_string()),
        }
    }
}

impl AppError {
    /// A request that does not decode.
    pub fn malformed() -> Self {
        AppError::Malformed(
            "Keyway could not read this request: it is not what Keyway's pages send. Reload the page and try again.".into(),
        )
    }

    /// A request body over the limit.
    pub fn too_large() -> Self {
        AppError::TooLarge(format!(
            "This request is larger than Keyway accepts (at most {} KiB). A secret that large would not fit in the cluster either.",
            crate::logic::limits::BODY_MAX_BYTES / 1024
        ))
    }

    /// The HTTP status a server-rendered page or an API caller should see.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Unauthenticated | AppError::BadCredentials => 401,
            AppError::Denied(_) | AppError::Forbidden => 403,
            AppError::Invalid(_) => 422,
            AppError::Malformed(_) => 400,
            AppError::TooLarge(_) => 413,
            AppError::TooMany(_) => 429,
            AppError::Conflict(_) => 409,
            AppError::NotFound(_) => 404,
            AppError::Unavailable(_) => 503,
            AppError::Internal | AppError::Transport(_) => 500,
        }
    }
}

/// Why a login from the login form failed, as it travels in the URL back to the form
/// (`links::login_href`): a code from a closed list, never text, so a crafted link cannot put
/// words of its own on the login page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginProblem {
    BadCredentials,
    /// Vault or Keyway's own storage cannot be reached.
    Unavailable,
    /// A field of the form was left empty.
    Incomplete,
    /// The form named a login method Keyway does not offer.
    UnknownMethod,
    /// Too many attempts from this address or for this username (`AppError::TooMany`).
    TooMany,
    /// Logged out of Keyway, but Vault did not revoke the token Keyway held.
    NotRevoked,
    Other,
}

impl LoginProblem {
    pub const ALL: [LoginProblem; 7] = [
        LoginProblem::BadCredentials,
        LoginProblem::Unavailable,
        LoginProblem::Incomplete,
        LoginProblem::UnknownMethod,
        LoginProblem::TooMany,
        LoginProblem::NotRevoked,
        LoginProblem::Other,
    ];

    /// The problem a failed login's error stands for (an unknown method is named by the caller,
    /// which knows it: the backend's `Invalid` means a field left empty).
    pub fn of(e: &AppError) -> Self {
        match e {
            AppError::BadCredentials | AppError::Denied(_) => LoginProblem::BadCredentials,
            AppError::Unavailable(_) | AppError::Transport(_) => LoginProblem::Unavailable,
            AppError::Invalid(_) => LoginProblem::Incomplete,
            AppError::TooMany(_) => LoginProblem::TooMany,
            _ => LoginProblem::Other,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            LoginProblem::BadCredentials => "bad-credentials",
            LoginProblem::Unavailable => "unavailable",
            LoginProblem::Incomplete => "incomplete",
            LoginProblem::UnknownMethod => "unknown-method",
            LoginProblem::TooMany => "too-many",
            LoginProblem::NotRevoked => "not-revoked",
            LoginProblem::Other => "other",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.code() == code)
    }

    /// What the login page says, always the same fixed sentence for a code.
    pub fn error(self) -> AppError {
        match self {
            LoginProblem::BadCredentials => AppError::BadCredentials,
            LoginProblem::Unavailable => AppError::Unavailable(
                "Keyway cannot reach Vault or its own storage right now.".into(),
            ),
            LoginProblem::Incomplete => {
                AppError::Invalid("Fill in every field of the form.".into())
            }
            LoginProblem::UnknownMethod => {
                AppError::Invalid("That login method is not offered here.".into())
            }
            LoginProblem::TooMany => AppError::TooMany(
                "Too many login attempts. Wait a few minutes, then try again.".into(),
            ),
            LoginProblem::NotRevoked => AppError::Unavailable(
                "You are logged out of Keyway, but Vault could not be reached to revoke the \
                 token Keyway held for you: it stays valid until it expires."
                    .into(),
            ),
            LoginProblem::Other => AppError::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_problem_round_trips_through_its_code_and_says_a_fixed_sentence() {
        for p in LoginProblem::ALL {
            assert_eq!(LoginProblem::parse(p.code()), Some(p));
            // Both are named by their caller, which knows them (the method; a logout).
            if !matches!(p, LoginProblem::UnknownMethod | LoginProblem::NotRevoked) {
                assert_eq!(LoginProblem::of(&p.error()), p, "{p:?}");
            }
        }
        assert_eq!(
            LoginProblem::of(&AppError::Unauthenticated),
            LoginProblem::Other
        );
        assert_eq!(LoginProblem::parse("Keyway has moved"), None);
        assert_eq!(
            LoginProblem::of(&AppError::Unavailable("vault said: x".into()))
                .error()
                .to_string(),
            "Keyway cannot reach Vault or its own storage right now."
        );
    }
}
