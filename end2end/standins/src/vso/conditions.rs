//! VSO's status conditions on a VaultStaticSecret, as its controller writes them.
//!
//! Every condition written in a reconcile gets `lastTransitionTime = now` (VSO's `newConditionNow`),
//! so Healthy/Ready say when the last reconcile ran and SecretSynced says when the Secret was last
//! written or failed to be. Conditions not written in a reconcile keep their old value: that is how
//! VSO's stuck-condition bug (hashicorp/vault-secrets-operator#1225) arises, and the stand-in keeps
//! it, because SecretSynced is only rewritten when a sync is attempted.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

pub const SECRET_SYNCED: &str = "SecretSynced";
pub const HEALTHY: &str = "Healthy";
pub const READY: &str = "Ready";
pub const ROLLOUT_RESTART: &str = "RolloutRestart";

pub fn condition(
    type_: &str,
    ok: bool,
    reason: &str,
    message: String,
    generation: Option<i64>,
) -> Condition {
    Condition {
        type_: type_.to_string(),
        status: if ok { "True" } else { "False" }.to_string(),
        reason: reason.to_string(),
        message,
        observed_generation: generation,
        last_transition_time: Time(jiff::Timestamp::now()),
    }
}

/// Healthy and Ready after a reconcile that ended well (or not).
pub fn health(ok: bool, generation: Option<i64>) -> [Condition; 2] {
    if ok {
        [
            condition(
                HEALTHY,
                true,
                "Healthy",
                "VaultStaticSecretHealthy".into(),
                generation,
            ),
            condition(
                READY,
                true,
                "Ready",
                "VaultStaticSecretReady".into(),
                generation,
            ),
        ]
    } else {
        [
            condition(
                HEALTHY,
                false,
                "Unhealthy",
                "VaultStaticSecretUnhealthy".into(),
                generation,
            ),
            condition(
                READY,
                false,
                "Ready",
                "VaultStaticSecretNotReady".into(),
                generation,
            ),
        ]
    }
}

/// `old` with each of `new` replacing the condition of the same type (or appended).
pub fn merge(
    old: Option<&[Condition]>,
    new: impl IntoIterator<Item = Condition>,
) -> Vec<Condition> {
    let mut out: Vec<Condition> = old.map(<[Condition]>::to_vec).unwrap_or_default();
    for c in new {
        match out.iter_mut().find(|o| o.type_ == c.type_) {
            Some(slot) => *slot = c,
            None => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reconcile_replaces_what_it_writes_and_keeps_the_rest() {
        let first = merge(
            None,
            [condition(
                SECRET_SYNCED,
                false,
                "Synced",
                "Failed to sync the secret".into(),
                Some(1),
            )]
            .into_iter()
            .chain(health(false, Some(1))),
        );
        assert_eq!(first.len(), 3);
        // A later reconcile that did not need to sync writes only Healthy/Ready: SecretSynced
        // stays False (VSO issue #1225), which Keyway has to see through.
        let second = merge(Some(&first), health(true, Some(1)));
        assert_eq!(second.len(), 3);
        let get = |t: &str| second.iter().find(|c| c.type_ == t).unwrap().status.clone();
        assert_eq!(get(SECRET_SYNCED), "False");
        assert_eq!(get(HEALTHY), "True");
        assert_eq!(get(READY), "True");
    }
}
