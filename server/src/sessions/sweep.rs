//! The sweeper: every minute, the sessions whose row expired (idle timeout, or the absolute
//! lifetime, which caps the row's expiry) are ended like a logout — their Vault token revoked
//! unless the user pasted it, an audit row written — and their rows deleted. Each replica
//! sweeps; a row is deleted first, and only the replica whose delete took it ends the session.
//!
//! A row is deleted even when Vault could not revoke its token: the failure is in the audit row
//! and the log, and the token then ends at its own expiry. Retrying would write an audit row per
//! minute for as long as Vault is away.

use std::sync::Arc;
use std::time::Duration;

use super::{AnyStore, SessionRules, StoredUser, USER_KEY};
use crate::sealing::Sealer;
use crate::service::{Caller, Core, RequestMeta, SessionEnd};

/// Ends and deletes every session whose row expired by the rules' clock; returns how many.
pub async fn sweep(store: &AnyStore, core: &Core, sealer: &Sealer, rules: &SessionRules) -> usize {
    let now = rules.clock.now_utc();
    let expired = match store.expired(now).await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::error!(error = %e, "could not list expired sessions");
            return 0;
        }
    };
    let mut ended = 0;
    for record in expired {
        // Taken first: another replica sweeping at the same moment finds it gone and leaves it.
        match store.take_expired(&record.id).await {
            Ok(true) => ended += 1,
            Ok(false) => continue,
            Err(e) => {
                tracing::error!(error = %e, "could not delete an expired session");
                continue;
            }
        }
        let user = record
            .data
            .get(USER_KEY)
            .and_then(|v| serde_json::from_value::<StoredUser>(v.clone()).ok());
        if let Some(user) = user {
            end_token(core, sealer, rules, &user).await;
        }
    }
    ended
}

/// Revokes (or, pasted, keeps) the token of a session that timed out, with its audit row.
async fn end_token(core: &Core, sealer: &Sealer, rules: &SessionRules, user: &StoredUser) {
    let now = rules.clock.now();
    if user.expired(now) {
        return; // Vault ended it already; nothing to revoke.
    }
    let binding = StoredUser::binding(&user.display_name, &user.entity_id);
    let Some(token) = sealer.open(&user.sealed_token, &binding) else {
        tracing::warn!("an expired session's token could not be opened (key changed?)");
        return;
    };
    let why = if now >= rules.ends_at(user.started_at) {
        SessionEnd::Lifetime
    } else {
        SessionEnd::Idle
    };
    let caller = Caller {
        token,
        display_name: user.display_name.clone(),
        entity_id: user.entity_id.clone(),
        meta: RequestMeta::default(),
    };
    // A failure is logged and audited by `end_session`.
    let _ = core.end_session(&caller, user.origin, why).await;
}

/// Sweeps every minute, for as long as Keyway runs.
pub fn spawn_sweeper(store: AnyStore, core: Arc<Core>, sealer: Sealer, rules: SessionRules) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        loop {
            every.tick().await;
            let ended = sweep(&store, &core, &sealer, &rules).await;
            if ended > 0 {
                tracing::info!(ended, "expired sessions ended");
            }
        }
    });
}
