//! What Keyway saw happen in the cluster, kept for the secret page's timeline: an app's Secret
//! now carries kv version N, a workload restarted (and by whom, as far as the cluster says), a
//! workload's rollout completed with its pods on version N.
//!
//! Why a table of Keyway's own: Kubernetes keeps events for an hour, and the objects themselves
//! only say what is true now, so "version 7 went live 24 s after the save" can only be told later
//! if someone wrote it down as it happened. The observer (`keyway_k8s::observe`, driven by the
//! server) does; this module stores its findings and reads them back per secret.
//!
//! Rules the table keeps (migration 0007):
//! - no value: versions, times, workload names and a restart's marker (the annotation's time
//!   stamp, or a generation) only;
//! - every field bounded; an observation that does not fit (a hand-made name longer than
//!   Kubernetes allows) is skipped with a warning rather than failing the whole batch;
//! - the time is the database's clock, so replicas agree;
//! - two replicas recording the same thing write one row: the unique key is (app, kind,
//!   version, workload, marker), a restart's stamp is unique per app and workload whatever
//!   version it was seen with (a replica that looks a moment later may see the next version
//!   already; the first to record wins), and inserts are `ON CONFLICT DO NOTHING`;
//! - at most [`MAX_PER_APP`] rows per app, the oldest pruned in the same transaction.

use crate::db::{with_pool, Backend};
use crate::{Db, StoreError};

/// Rows kept per app (namespace and VaultStaticSecret name). A version makes one `live` row and
/// one `restart` and one `running` row per workload, so this is some hundred versions of an app
/// with a few workloads: far more than the timeline shows.
pub const MAX_PER_APP: i64 = 1000;
/// Most rows one [`Observations::of_secret`] returns.
pub const MAX_READ: u32 = 2000;

const NAMESPACE_MAX: usize = 63;
const NAME_MAX: usize = 253;
const MOUNT_MAX: usize = 128;
const PATH_MAX: usize = 512;
const MARKER_MAX: usize = 64;
const WORKLOAD_KINDS: [&str; 3] = ["Deployment", "StatefulSet", "DaemonSet"];

/// The app an observation is about: a VaultStaticSecret, and the kv secret it copied then.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObservedApp {
    pub namespace: String,
    /// The VaultStaticSecret's name.
    pub name: String,
    pub mount: String,
    pub path: String,
}

/// A workload of the app's namespace.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObservedWorkload {
    /// `Deployment`, `StatefulSet` or `DaemonSet`.
    pub kind: String,
    pub name: String,
}

/// Who restarted a workload, as far as the cluster says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Restarter {
    /// Keyway's own patch (its field manager owns the `kubectl.kubernetes.io/restartedAt` stamp);
    /// the audit log says which user asked.
    Keyway,
    /// Stakater Reloader (its env var or annotation on the pod template changed).
    Reloader,
    /// VSO's `rolloutRestartTargets` (`vso.secrets.hashicorp.com/restartedAt`).
    Vso,
    /// Anyone else: `kubectl rollout restart`, a script, a GitOps tool.
    Outside,
}

impl Restarter {
    pub fn as_str(self) -> &'static str {
        match self {
            Restarter::Keyway => "keyway",
            Restarter::Reloader => "reloader",
            Restarter::Vso => "vso",
            Restarter::Outside => "outside",
        }
    }

    fn parse(s: &str) -> Option<Restarter> {
        [
            Restarter::Keyway,
            Restarter::Reloader,
            Restarter::Vso,
            Restarter::Outside,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// What was seen.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Seen {
    /// The app's Secret now carries this kv version.
    Live { version: u64 },
    /// The workload restarted while the Secret carried `version` (None: no version known).
    /// `marker` tells two restarts on one version apart: the restart annotation's value, or
    /// empty when the restarter leaves none (Reloader's env-var strategy).
    Restarted {
        workload: ObservedWorkload,
        by: Restarter,
        version: Option<u64>,
        marker: String,
    },
    /// The workload's rollout completed with its pods on `version`, at the workload's
    /// `metadata.generation`.
    Running {
        workload: ObservedWorkload,
        version: u64,
        generation: i64,
    },
}

/// One observation to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewObservation {
    pub app: ObservedApp,
    pub seen: Seen,
}

/// One recorded observation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    pub id: i64,
    /// Unix milliseconds, by the database's clock, when it was recorded.
    pub at_ms: i64,
    pub app: ObservedApp,
    pub seen: Seen,
}

/// The observation table over one database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Observations {
    db: Db,
}

/// The columns of one row, as bound and as read.
#[derive(sqlx::FromRow)]
struct StoredRow {
    id: i64,
    at_ms: i64,
    namespace: String,
    app: String,
    mount: String,
    path: String,
    kind: String,
    restarted_by: String,
    version: i64,
    workload_kind: String,
    workload_name: String,
    marker: String,
}

const COLUMNS: &str = "id, at_ms, namespace, app, mount, path, kind, restarted_by, version, \
     workload_kind, workload_name, marker";

/// `s` cut to at most `max` bytes, at a character boundary.
fn clip(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

impl NewObservation {
    /// The row's fields, or None when one is out of the table's bounds (the marker is cut to
    /// size instead: it only tells rows apart).
    fn row(&self) -> Option<StoredRow> {
        let a = &self.app;
        let fits = |s: &str, max: usize| !s.is_empty() && s.len() <= max;
        if !(fits(&a.namespace, NAMESPACE_MAX)
            && fits(&a.name, NAME_MAX)
            && fits(&a.mount, MOUNT_MAX)
            && fits(&a.path, PATH_MAX))
        {
            return None;
        }
        let version = |v: u64| i64::try_from(v).ok();
        let (kind, by, version, workload, marker) = match &self.seen {
            Seen::Live { version: v } => ("live", "", version(*v)?, None, String::new()),
            Seen::Restarted {
                workload,
                by,
                version: v,
                marker,
            } => (
                "restart",
                by.as_str(),
                version(v.unwrap_or(0))?,
                Some(workload),
                clip(marker, MARKER_MAX),
            ),
            Seen::Running {
                workload,
                version: v,
                generation,
            } => (
                "running",
                "",
                version(*v)?,
                Some(workload),
                generation.to_string(),
            ),
        };
        if let Some(w) = workload {
            if !WORKLOAD_KINDS.contains(&w.kind.as_str()) || !fits(&w.name, NAME_MAX) {
                return None;
            }
        }
        Some(StoredRow {
            id: 0,
            at_ms: 0,
            namespace: a.namespace.clone(),
            app: a.name.clone(),
            mount: a.mount.clone(),
            path: a.path.clone(),
            kind: kind.to_string(),
            restarted_by: by.to_string(),
            version,
            workload_kind: workload.map(|w| w.kind.clone()).unwrap_or_default(),
            workload_name: workload.map(|w| w.name.clone()).unwrap_or_default(),
            marker,
        })
    }
}

impl StoredRow {
    /// The observation this row holds; None for a row this Keyway cannot read (a kind a newer
    /// Keyway wrote).
    fn observation(self) -> Option<Observation> {
        let workload = ObservedWorkload {
            kind: self.workload_kind,
            name: self.workload_name,
        };
        let version = u64::try_from(self.version).ok()?;
        let seen = match self.kind.as_str() {
            "live" => Seen::Live { version },
            "restart" => Seen::Restarted {
                workload,
                by: Restarter::parse(&self.restarted_by)?,
                version: (version > 0).then_some(version),
                marker: self.marker,
            },
            "running" => Seen::Running {
                workload,
                version,
                generation: self.marker.parse().unwrap_or(0),
            },
            _ => return None,
        };
        Some(Observation {
            id: self.id,
            at_ms: self.at_ms,
            app: ObservedApp {
                namespace: self.namespace,
                name: self.app,
                mount: self.mount,
                path: self.path,
            },
            seen,
        })
    }
}

fn insert_sql(backend: Backend) -> String {
    format!(
        "INSERT INTO cluster_observation (at_ms, namespace, app, mount, path, kind, \
         restarted_by, version, workload_kind, workload_name, marker) \
         VALUES ({}, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
        crate::claims::now_ms(backend)
    )
}

/// Removes an app's rows beyond the newest [`MAX_PER_APP`].
const PRUNE_SQL: &str = "DELETE FROM cluster_observation WHERE namespace = $1 AND app = $2 \
     AND id <= (SELECT id FROM cluster_observation WHERE namespace = $1 AND app = $2 \
     ORDER BY id DESC LIMIT 1 OFFSET $3)";

impl Observations {
    pub fn new(db: Db) -> Self {
        Observations { db }
    }

    /// Records `batch` in one transaction, each row stamped with the database's clock, a row
    /// already recorded (by this replica or another) skipped; then keeps each app of the batch
    /// to [`MAX_PER_APP`] rows. Returns how many rows were written.
    pub async fn record(&self, batch: &[NewObservation]) -> Result<u64, StoreError> {
        let rows: Vec<StoredRow> = batch
            .iter()
            .filter_map(|o| {
                let row = o.row();
                if row.is_none() {
                    tracing::warn!(namespace = %o.app.namespace, app = %o.app.name,
                        "a cluster observation does not fit the timeline's bounds; skipped");
                }
                row
            })
            .collect();
        if rows.is_empty() {
            return Ok(0);
        }
        let mut apps: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r.namespace.as_str(), r.app.as_str()))
            .collect();
        apps.sort();
        apps.dedup();
        let backend = self.db.backend();
        let insert = insert_sql(backend);
        let begin = match backend {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        };
        // This process's SQLite writers queue here, as the audit log's and the claims' do.
        let _queued = match backend {
            Backend::Sqlite => Some(self.db.write_gate().lock().await),
            Backend::Postgres => None,
        };
        with_pool!(self.db, |pool| {
            let mut tx = pool
                .begin_with(begin)
                .await
                .map_err(StoreError::Observations)?;
            let mut written = 0;
            for r in &rows {
                written += sqlx::query(&insert)
                    .bind(&r.namespace)
                    .bind(&r.app)
                    .bind(&r.mount)
                    .bind(&r.path)
                    .bind(&r.kind)
                    .bind(&r.restarted_by)
                    .bind(r.version)
                    .bind(&r.workload_kind)
                    .bind(&r.workload_name)
                    .bind(&r.marker)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::Observations)?
                    .rows_affected();
            }
            for (namespace, app) in &apps {
                sqlx::query(PRUNE_SQL)
                    .bind(*namespace)
                    .bind(*app)
                    .bind(MAX_PER_APP)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::Observations)?;
            }
            tx.commit().await.map_err(StoreError::Observations)?;
            Ok(written)
        })
    }

    /// The observations of the kv secret `mount`/`path` (every app that copied it), newest
    /// first, at most `limit` (capped at [`MAX_READ`]).
    pub async fn of_secret(
        &self,
        mount: &str,
        path: &str,
        limit: u32,
    ) -> Result<Vec<Observation>, StoreError> {
        let limit = i64::from(limit.clamp(1, MAX_READ));
        let sql = format!(
            "SELECT {COLUMNS} FROM cluster_observation WHERE mount = $1 AND path = $2 \
             ORDER BY at_ms DESC, id DESC LIMIT $3"
        );
        let rows: Vec<StoredRow> = with_pool!(self.db, |pool| sqlx::query_as(&sql)
            .bind(mount)
            .bind(path)
            .bind(limit)
            .fetch_all(pool)
            .await)
        .map_err(StoreError::Observations)?;
        Ok(rows
            .into_iter()
            .filter_map(StoredRow::observation)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> ObservedApp {
        ObservedApp {
            namespace: "dev".into(),
            name: "webapp".into(),
            mount: "dev".into(),
            path: "webapp/config".into(),
        }
    }

    #[test]
    fn a_marker_is_cut_to_size_and_names_out_of_bounds_are_not_written() {
        let restarted = |name: &str, marker: &str| NewObservation {
            app: app(),
            seen: Seen::Restarted {
                workload: ObservedWorkload {
                    kind: "Deployment".into(),
                    name: name.into(),
                },
                by: Restarter::Outside,
                version: Some(3),
                marker: marker.into(),
            },
        };
        let row = restarted("web", &"é".repeat(40)).row().unwrap();
        assert_eq!(row.marker.len(), 64);
        assert!(restarted(&"w".repeat(254), "").row().is_none());
        let mut odd = restarted("web", "");
        if let Seen::Restarted { workload, .. } = &mut odd.seen {
            workload.kind = "CronJob".into();
        }
        assert!(odd.row().is_none());
        let mut long_path = restarted("web", "");
        long_path.app.path = "p".repeat(513);
        assert!(long_path.row().is_none());
    }

    #[test]
    fn each_kind_reads_back_as_it_was_written() {
        let w = ObservedWorkload {
            kind: "StatefulSet".into(),
            name: "ledger".into(),
        };
        for seen in [
            Seen::Live { version: 7 },
            Seen::Restarted {
                workload: w.clone(),
                by: Restarter::Vso,
                version: None,
                marker: "2026-12-04T10:00:00Z".into(),
            },
            Seen::Running {
                workload: w.clone(),
                version: 7,
                generation: 12,
            },
        ] {
            let row = NewObservation {
                app: app(),
                seen: seen.clone(),
            }
            .row()
            .unwrap();
            assert_eq!(row.observation().unwrap().seen, seen);
        }
    }
}
