//! Restart claims that every replica sees: a workload is claimed for the restart cooldown before
//! Keyway patches it, in the database all replicas share, so two clicks at the same moment (on one
//! replica or on two behind a load balancer) restart it once (issue 9, point 13). The cluster
//! itself shows a restart only once the watch brings the patched object back; the claim covers
//! that gap, and the cooldown after it.
//!
//! One statement per workload, inside one transaction for all the workloads of a click: a row
//! whose time is past is taken over (`ON CONFLICT … DO UPDATE … WHERE held_until_ms <= now`), a
//! row still held is not, and then the whole claim is rolled back. Both SQLite and PostgreSQL
//! decide this atomically, so no two claims of one workload can both succeed.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::db::{with_pool, Backend};
use crate::{Db, StoreError};

/// One workload, as the claim table keys it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimKey {
    pub namespace: String,
    /// `Deployment`, `StatefulSet` or `DaemonSet`.
    pub kind: String,
    pub name: String,
}

/// The shared claim table.
#[derive(Clone)]
pub struct RestartClaims {
    db: Db,
}

const CLAIM: &str = "INSERT INTO restart_claim (namespace, kind, name, held_until_ms) \
     VALUES ($1, $2, $3, $4) \
     ON CONFLICT (namespace, kind, name) DO UPDATE SET held_until_ms = excluded.held_until_ms \
     WHERE restart_claim.held_until_ms <= $5";

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
    ) -> Result<Result<(), ClaimKey>, StoreError> {
        let now = unix_ms(SystemTime::now());
        let until = now.saturating_add(i64::try_from(hold.as_millis()).unwrap_or(i64::MAX));
        let backend = self.db.backend();
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
                let done = sqlx::query(CLAIM)
                    .bind(&key.namespace)
                    .bind(&key.kind)
                    .bind(&key.name)
                    .bind(until)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::Claim)?;
                if done.rows_affected() != 1 {
                    tx.rollback().await.map_err(StoreError::Claim)?;
                    return Ok(Err(key.clone()));
                }
            }
            tx.commit().await.map_err(StoreError::Claim)?;
            Ok(Ok(()))
        })
    }

    /// Gives claims back: their patch failed, so nothing was restarted and a retry must not wait
    /// out the cooldown. Call it only for claims this click holds.
    pub async fn release(&self, keys: &[ClaimKey]) -> Result<(), StoreError> {
        let sql = "UPDATE restart_claim SET held_until_ms = 0 \
                   WHERE namespace = $1 AND kind = $2 AND name = $3";
        for key in keys {
            with_pool!(self.db, |pool| sqlx::query(sql)
                .bind(&key.namespace)
                .bind(&key.kind)
                .bind(&key.name)
                .execute(pool)
                .await
                .map(|_| ()))
            .map_err(StoreError::Claim)?;
        }
        Ok(())
    }
}

fn unix_ms(t: SystemTime) -> i64 {
    let ms = t.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis();
    i64::try_from(ms).unwrap_or(i64::MAX)
}
