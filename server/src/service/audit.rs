//! The audit bracket, once: an intent row before a Vault or cluster call, the call, an outcome row
//! after it; and the one-row record of a refused attempt.
//!
//! Every mutating action goes through [`Core::audited`] (except logout, which must revoke the
//! token even when the audit store is down: see `auth.rs`), so the same failure is recorded the same
//! way whichever action met it ([`Classify`]): Vault denied, a check-and-set conflict, no answer
//! ("may or may not have landed"), anything else.

use std::future::Future;

use keyway_app::error::AppError;
use keyway_k8s::actions::ActionError;
use keyway_store::{NewEvent, Outcome, Row};
use keyway_vault::VaultError;

use super::{audit_error, refusals, Core};
use crate::metrics::Counted;

/// The note of a Vault call that got no answer: it may have been carried out.
const VAULT_UNANSWERED: &str = "Vault did not answer: the change may or may not have landed";
/// The note of a Vault call met by a leader election.
const VAULT_NO_ACTIVE_NODE: &str =
    "Vault had no active node (a leader election): nothing was changed";

/// Whether an intent whose outcome row is `outcome` may have been carried out without its caller
/// learning so: no outcome recorded, or a Vault call that failed for want of an answer or of an
/// active node (the "try again" failures; a node may have carried it out as the leader fell).
pub(super) fn may_have_landed(outcome: Option<&Row>) -> bool {
    outcome.is_none_or(|row| {
        row.outcome == Outcome::Error
            && matches!(
                row.detail.as_deref(),
                Some(VAULT_UNANSWERED | VAULT_NO_ACTIVE_NODE)
            )
    })
}

/// How a failed call is recorded: its outcome and a short note (never a value).
pub trait Classify {
    fn classify(&self) -> (Outcome, String);
}

impl Classify for VaultError {
    fn classify(&self) -> (Outcome, String) {
        match self {
            VaultError::PermissionDenied => (Outcome::Denied, "Vault denied it".into()),
            VaultError::CasMismatch => (Outcome::Conflict, "check-and-set conflict".into()),
            VaultError::Unreachable(_) => (Outcome::Error, VAULT_UNANSWERED.into()),
            VaultError::NoActiveNode(_) => (Outcome::Error, VAULT_NO_ACTIVE_NODE.into()),
            // A fixed note: Vault's own text may echo request content; it goes to the log only.
            other => {
                tracing::warn!(error = %other, "an audited Vault call failed");
                (Outcome::Error, "Vault refused or failed the call".into())
            }
        }
    }
}

impl Classify for ActionError {
    fn classify(&self) -> (Outcome, String) {
        match self {
            ActionError::Unreachable => (
                Outcome::Error,
                "the cluster did not answer: the change may or may not have landed".into(),
            ),
            ActionError::Forbidden => (
                Outcome::Error,
                "Keyway's cluster account was refused the change".into(),
            ),
            ActionError::NotFound => (Outcome::Error, "no longer in the cluster".into()),
            // The apiserver's own text goes to the log only.
            ActionError::Other(m) => {
                tracing::warn!(message = %m, "an audited cluster call failed");
                (Outcome::Error, "the cluster refused the change".into())
            }
        }
    }
}

/// A failure on one of several targets (one workload of a restart): noted with its name.
pub struct On<E> {
    pub target: String,
    pub error: E,
}

impl<E: Classify> Classify for On<E> {
    fn classify(&self) -> (Outcome, String) {
        let (outcome, note) = self.error.classify();
        (outcome, format!("{}: {note}", self.target))
    }
}

impl Core {
    /// Writes `event` as an intent (refusing the action with [`audit_error`] when the audit store
    /// fails), then starts `call` — a closure, so nothing can reach Vault or the cluster before
    /// the intent is durable —, and records its outcome: `Ok` with the version
    /// `version_after` reads from the answer, or the failure as [`Classify`] says. A failed
    /// outcome write is logged (the intent stays visible as pending). Returns the call's result.
    pub(super) async fn audited<T, E, Fut>(
        &self,
        event: NewEvent,
        call: impl FnOnce() -> Fut,
        version_after: impl FnOnce(&T) -> Option<i64>,
    ) -> Result<Result<T, E>, AppError>
    where
        Fut: Future<Output = Result<T, E>>,
        E: Classify,
    {
        self.audited_as(Counted::Nothing, event, call, version_after)
            .await
    }

    /// [`Core::audited`], and the bracket counted in the metrics as `counted` (a secret write,
    /// a restart) with the outcome it records, or `audit_failed` when the intent was refused.
    pub(super) async fn audited_as<T, E, Fut>(
        &self,
        counted: Counted,
        event: NewEvent,
        call: impl FnOnce() -> Fut,
        version_after: impl FnOnce(&T) -> Option<i64>,
    ) -> Result<Result<T, E>, AppError>
    where
        Fut: Future<Output = Result<T, E>>,
        E: Classify,
    {
        let started = std::time::Instant::now();
        let intent = match self.audit.begin(self.placed(event).await).await {
            Ok(intent) => intent,
            Err(e) => {
                self.metrics.bracket(counted, None, started.elapsed());
                return Err(audit_error(e));
            }
        };
        let (result, vault_request_id) = keyway_vault::trail::recording(call()).await;
        let (outcome, after, note) = match &result {
            Ok(answer) => (Outcome::Ok, version_after(answer), None),
            Err(e) => {
                let (outcome, note) = e.classify();
                (outcome, None, Some(note))
            }
        };
        self.metrics
            .bracket(counted, Some(outcome), started.elapsed());
        if let Err(e) = self
            .audit
            .finish_linked(
                &intent,
                outcome,
                after,
                note.as_deref(),
                vault_request_id.as_deref(),
            )
            .await
        {
            tracing::error!(error = %e, intent = intent.seq(), "could not record an outcome");
        }
        Ok(result)
    }

    /// Records an attempt refused before any call was made (policy, guards, no such target), as
    /// one `denied` row saying why, collapsed with its repeats ([`super::refusals`]). Nothing
    /// was attempted, so nothing can go unaudited: the refusal itself is returned by the caller,
    /// and a failed write here is logged (an error line naming the refused action) rather than
    /// turned into an audit error.
    ///
    /// `Err(TooMany)` when the actor is over the refusal limit ([`super::throttle`]): the caller
    /// returns that instead of its own refusal. Such refusals are counted under one kind per
    /// actor and action (no target), so varying the target cannot multiply rows.
    pub(super) async fn refused(
        &self,
        event: NewEvent,
        why: impl Into<String>,
    ) -> Result<(), AppError> {
        let event = event.outcome(Outcome::Denied).detail(why);
        let actor = if event.actor_entity.is_empty() {
            event.actor_name.clone()
        } else {
            event.actor_entity.clone()
        };
        let limited = self.throttle.refusal(&actor);
        let event = match limited {
            Ok(()) => event,
            Err(_) => event
                .secret("", "")
                .detail("refused, and over the limit of refusals a minute (answered 429)"),
        };
        self.write_refusal(event).await;
        limited
    }

    /// `event` placed: a row about a secret belongs to the environment whose home holds the
    /// secret ([`crate::homes::Homes::owner`]; none when no served environment's does), whatever
    /// namespace the action ran in, and names the app there that copies it into the cluster
    /// when the caller did not and only one does (with several, naming one would be a guess). One rule, so a grant on
    /// `keyway/audit/<environment>` shows exactly the rows about that environment's secrets,
    /// never a row about another's that an app elsewhere happens to read. Rows about no secret
    /// (access changes) keep the environment they were given.
    pub(super) async fn placed(&self, mut event: NewEvent) -> NewEvent {
        if event.mount.is_empty() {
            return event;
        }
        let environments = self.environments().await;
        let owner = self
            .envs
            .homes
            .owner(&environments, &event.mount, &event.path)
            .cloned();
        event.environment = owner.as_ref().map(|e| e.as_str().to_owned());
        let Some(env) = owner else {
            event.app = None;
            return event;
        };
        if event.app.is_none() {
            if let Some(k) = self.cluster.as_deref() {
                let apps: Vec<String> = keyway_k8s::snapshot::snapshot(&k.caches)
                    .await
                    .apps_for(&event.mount, &event.path)
                    .into_iter()
                    .filter(|a| a.namespace == env.as_str())
                    .map(|a| a.name)
                    .collect();
                if let [one] = apps.as_slice() {
                    event.app = Some(one.clone());
                }
            }
        }
        event
    }

    /// Writes a refusal (outcome and detail set) through the collapse of repeats.
    pub(super) async fn write_refusal(&self, event: NewEvent) {
        let event = self.placed(event).await;
        let minute = refusals::minute_of(time::OffsetDateTime::now_utc().unix_timestamp());
        for row in self.refusals.note(event, minute) {
            self.write_refusal_row(row).await;
        }
    }

    /// Writes the counts of repeated refusals whose minute is over (every count with
    /// `all`, at shutdown). Called every few seconds by the task `crate::build` starts.
    pub async fn flush_refusals(&self, all: bool) {
        let now = refusals::minute_of(time::OffsetDateTime::now_utc().unix_timestamp());
        for row in self.refusals.take_due((!all).then_some(now)) {
            self.write_refusal_row(row).await;
        }
    }

    async fn write_refusal_row(&self, row: NewEvent) {
        if let Err(e) = self.audit.record(row).await {
            tracing::error!(error = %e, "could not record a refused attempt");
        }
    }
}
