//! What each Vault call is, as a small fixed set, and the hook that sees every call end: how
//! Keyway's metrics count Vault requests without the client knowing about Prometheus.
//!
//! The operation is named at the call site (each public method passes its own); the outcome is
//! read from the answer with the same rule that turns an error answer into a [`VaultError`]
//! ([`crate::error::from_status`]), so a metric and an error never disagree on what happened.
//! Neither carries a path, a mount, a key or a user: only these fixed names.

use std::fmt::Debug;
use std::time::Duration;

use crate::VaultError;

/// The kind of a Vault call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    /// A login (userpass, LDAP, ...).
    Login,
    /// The mount and auth-method listings (`sys/internal/ui/mounts`, `sys/auth`).
    Mounts,
    TokenLookup,
    TokenRenew,
    TokenRevoke,
    /// `sys/capabilities-self`.
    Capabilities,
    KvList,
    /// A secret's data, subkeys or metadata.
    KvRead,
    /// A new version, or the secret's settings.
    KvWrite,
    /// Delete, undelete or destroy versions.
    KvDelete,
    PolicyRead,
    PolicyWrite,
    IdentityRead,
    IdentityWrite,
    KubeRoleRead,
    KubeRoleWrite,
    TransitRead,
    TransitSign,
    /// `sys/health`.
    Health,
}

impl Operation {
    /// The label value: snake case, fixed.
    pub const fn as_str(self) -> &'static str {
        match self {
            Operation::Login => "login",
            Operation::Mounts => "mounts",
            Operation::TokenLookup => "token_lookup",
            Operation::TokenRenew => "token_renew",
            Operation::TokenRevoke => "token_revoke",
            Operation::Capabilities => "capabilities",
            Operation::KvList => "kv_list",
            Operation::KvRead => "kv_read",
            Operation::KvWrite => "kv_write",
            Operation::KvDelete => "kv_delete",
            Operation::PolicyRead => "policy_read",
            Operation::PolicyWrite => "policy_write",
            Operation::IdentityRead => "identity_read",
            Operation::IdentityWrite => "identity_write",
            Operation::KubeRoleRead => "kube_role_read",
            Operation::KubeRoleWrite => "kube_role_write",
            Operation::TransitRead => "transit_read",
            Operation::TransitSign => "transit_sign",
            Operation::Health => "health",
        }
    }
}

/// How a Vault call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CallOutcome {
    Ok,
    /// 404: an absent secret is often an answer, not a failure.
    NotFound,
    /// 401/403: a policy refusal or a dead token.
    Denied,
    /// A kv-v2 check-and-set mismatch.
    Conflict,
    RateLimited,
    Sealed,
    /// Another 4xx.
    Rejected,
    /// A 5xx (or a gateway's 502/504).
    Error,
    /// No answer: could not connect, timed out, or no free request slot in time.
    Unreachable,
}

impl CallOutcome {
    pub const fn as_str(self) -> &'static str {
        match self {
            CallOutcome::Ok => "ok",
            CallOutcome::NotFound => "not_found",
            CallOutcome::Denied => "denied",
            CallOutcome::Conflict => "conflict",
            CallOutcome::RateLimited => "rate_limited",
            CallOutcome::Sealed => "sealed",
            CallOutcome::Rejected => "rejected",
            CallOutcome::Error => "error",
            CallOutcome::Unreachable => "unreachable",
        }
    }

    /// The outcome of an answer: [`CallOutcome::of_answer`] of its `errors`, and sealed when
    /// the body says so (`sys/health` answers a sealed node with 503 and `"sealed": true`, no
    /// error message).
    pub(crate) fn of_body(status: u16, body: &serde_json::Value) -> CallOutcome {
        if status >= 400 && body.get("sealed") == Some(&serde_json::Value::Bool(true)) {
            return CallOutcome::Sealed;
        }
        CallOutcome::of_answer(status, &crate::error::errors_of(body))
    }

    /// The outcome of an answer with this status, its `errors` read as [`from_status`] reads
    /// them.
    ///
    /// [`from_status`]: crate::error::from_status
    pub(crate) fn of_answer(status: u16, errors: &[String]) -> CallOutcome {
        if (200..300).contains(&status) {
            return CallOutcome::Ok;
        }
        if status == 404 {
            return CallOutcome::NotFound;
        }
        match crate::error::from_status(status, errors) {
            VaultError::PermissionDenied | VaultError::InvalidToken => CallOutcome::Denied,
            VaultError::CasMismatch => CallOutcome::Conflict,
            VaultError::RateLimited => CallOutcome::RateLimited,
            VaultError::Sealed => CallOutcome::Sealed,
            VaultError::BadRequest(_) | VaultError::InvalidPath(_) => CallOutcome::Rejected,
            _ => CallOutcome::Error,
        }
    }
}

/// Sees every Vault call end (Keyway's metrics implement it). Called on the request's task,
/// so it must be quick and never block.
pub trait Observer: Send + Sync + Debug {
    fn observe(&self, operation: Operation, outcome: CallOutcome, elapsed: Duration);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_follow_the_error_rule() {
        let none: [String; 0] = [];
        assert_eq!(CallOutcome::of_answer(204, &none), CallOutcome::Ok);
        assert_eq!(CallOutcome::of_answer(404, &none), CallOutcome::NotFound);
        assert_eq!(CallOutcome::of_answer(403, &none), CallOutcome::Denied);
        let cas = ["check-and-set parameter did not match the current version".to_string()];
        assert_eq!(CallOutcome::of_answer(400, &cas), CallOutcome::Conflict);
        assert_eq!(CallOutcome::of_answer(400, &none), CallOutcome::Rejected);
        assert_eq!(CallOutcome::of_answer(500, &none), CallOutcome::Error);
        let health = serde_json::json!({"initialized": true, "sealed": true});
        assert_eq!(CallOutcome::of_body(503, &health), CallOutcome::Sealed);
    }
}
