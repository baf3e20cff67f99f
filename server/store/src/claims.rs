//! Restart claims that every replica sees: a workload is claimed for the restart cooldown before
//! Keyway patches it, in the database all replicas share, so two clicks at the same moment (on one
//! replica or on two behind a load balancer) restart it once (issue 9, point 13). The cluster
//! itself shows a restart only once the watch brings the patched object back; the claim covers
//! that gap, and the cooldown after it.
//!
//! The platform pages use the same table to serialise edits of one Vault identity group
//! (kind `VaultGroup`, keyed by group id, or `VaultGroupName` for a group being created): Vault
//! has no check-and-set on groups, so two replicas must not read-modify-write one at once.
//!
//! One statement per workload, inside one transaction for all the workloads of a click: a row
//! whose time is past is taken over (`ON CONFLICT … DO UPDATE … WHERE held_until_ms <= now`), a
//! row still held is not, and then the whole claim is rolled back. Both SQLite and PostgreSQL
//! decide this atomically, so no two claims of one workload can both succeed.

use std::time::Duration;

use crate::db::{with_pool, Backend};
use crate::{Db, StoreError};

/// One workload (or Vault group), as the claim table keys it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimKey {
    pub namespace: String,
    /// `Deployment`, `StatefulSet` or `DaemonSet`; `VaultGroup` or `VaultGroupName`.
    pub kind: String,
    pub name: String,
}

/// The claim one click holds: only it can give its rows back ([`RestartClaims::release`]), so a
/// click that gives back late never frees a later click's claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimId(String);

/// The shared claim table.
#[derive(Clone)]
pub struct RestartClaims {
    db: Db,
}

/// Now, in Unix milliseconds, by the database's clock: every replica compares against the same
/// clock, so one whose own clock runs ahead cannot take over claims early. Cluster observations
/// are stamped with it too ([`crate::observations`]).
pub(crate) fn now_ms(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
        Backend::Postgres => "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
    }
}

fn claim_sql(backend: Backend) -> String {
    let now = now_ms(backend);
    format!(
        "INSERT INTO restart_claim (namespace, kind, name, held_until_ms, claim_id) \
         VALUES ($1, $2, $3, {now} + $4, $5) \
         ON CONFLICT (namespace, kind, name) DO UPDATE \
         SET held_until_ms = excluded.held_until_ms, claim_id = excluded.claim_id \
         WHERE restart_claim.held_until_ms <= {now}"
    )
}

impl RestartClaims {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Claims every workload of `keys` for `hold`, or none: `Ok(Err(key))` names the first one
    /// another click holds.
    pub async fn claim(
        &self,
        keys: &[ClaimKey],
        hold: Duration,
    ) -> Result<Result<ClaimId, ClaimKey>, StoreError> {
        let hold_ms = i64::try_from(hold.as_millis()).unwrap_or(i64::MAX / 2);
        let id = ClaimId(uuid::Uuid::new_v4().to_string());
        let backend = self.db.backend();
        let sql = claim_sql(backend);
        let begin = match backend {
            // Takes SQLite's write lock at once, so a second writer waits instead of failing
            // halfway with SQLITE_BUSY on its upgrade from a read lock.
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        };
        // This process's SQLite writers queue here rather than in SQLite's busy handler (as the
        // audit log's do, see `Db::write_gate`).
        let _queued = match backend {
            Backend::Sqlite => Some(self.db.write_gate().lock().await),
            Backend::Postgres => None,
        };
        with_pool!(self.db, |pool| {
            let mut tx = pool.begin_with(begin).await.map_err(StoreError::Claim)?;
            for key in keys {
                let done = sqlx::query(&sql)
                    .bind(&key.namespace)
                    .bind(&key.kind)
                    .bind(&key.name)
                    .bind(hold_ms)
                    .bind(&id.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::Claim)?;
                if done.rows_affected() != 1 {
                    tx.rollback().await.map_err(StoreError::Claim)?;
                    return Ok(Err(key.clone()));
                }
            }
            tx.commit().await.map_err(StoreError::Claim)?;
            Ok(Ok(id))
        })
    }

    /// Gives back what claim `id` holds of `keys`: their patch was refused, so nothing was
    /// restarted and a retry must not wait out the cooldown. A row another click has taken over
    /// since is left alone.
    pub async fn release(&self, id: &ClaimId, keys: &[ClaimKey]) -> Result<(), StoreError> {
        let sql = "UPDATE restart_claim SET held_until_ms = 0 \
                   WHERE namespace = $1 AND kind = $2 AND name = $3 AND claim_id = $4";
        for key in keys {
            with_pool!(self.db, |pool| sqlx::query(sql)
                .bind(&key.namespace)
                .bind(&key.kind)
                .bind(&key.name)
                .bind(&id.0)
                .execute(pool)
                .await
                .map(|_| ()))
            .map_err(StoreError::Claim)?;
        }
        Ok(())
    }
}
