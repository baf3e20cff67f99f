//! The secret page's timeline: per app, the secret's last [`VERSIONS`] versions, each with when
//! and by whom it was written (kv metadata and the audit log: a version without a Keyway audit
//! row was written outside Keyway), when the app's Secret first carried it, which workloads
//! restarted and by whom, when their pods were up to date, and the time between the steps.
//!
//! The cluster steps come from Keyway's own record ([`super::observer`]), never from Kubernetes
//! events (they expire). Who asked Keyway for a restart comes from the audit log's `restart`
//! rows: the row whose intent names the workload and brackets the restart stamp. This module
//! reads (Vault with the caller's token, the audit log, the observations, the snapshot's app
//! list); [`steps`] joins, without I/O.
//!
//! Who may see it: whoever may read the secret's metadata, Vault's own rule for the History tab
//! (the same `kv_metadata` call with the caller's token). It shows versions, times, user and
//! workload names, never a value.

mod steps;

use std::collections::BTreeSet;

use jiff::Timestamp;
use keyway_app::dto::{AppRef, AppTimeline, SecretRef, SecretTimeline};
use keyway_app::error::AppError;
use keyway_k8s::snapshot;
use keyway_store::observations::Observation;
use keyway_store::{Action, Filter, Outcome};

use super::super::{check_secret, vault_error, Caller, Core};
use steps::{KeywayRestart, VersionWrite};

/// How many versions the timeline shows, newest first.
pub const VERSIONS: usize = 20;
/// Most observations read for one secret (every app of it): ample for [`VERSIONS`] versions of
/// apps with a few workloads each.
const OBSERVATIONS_READ: u32 = 2000;
/// Most restart rows of the audit log read for one secret.
const RESTART_ROWS_READ: u32 = 1000;

impl Core {
    pub async fn timeline(
        &self,
        caller: &Caller,
        s: &SecretRef,
    ) -> Result<SecretTimeline, AppError> {
        check_secret(s)?;
        let meta = self
            .vault
            .kv_metadata(&caller.token, &s.mount, &s.path)
            .await
            .map_err(|e| vault_error(e, "see this secret's timeline"))?;
        let Some(meta) = meta else {
            return Err(AppError::NotFound(format!("{s} does not exist.")));
        };
        let audit_down = |e: keyway_store::StoreError| {
            tracing::error!(error = %e, "audit read failed");
            AppError::Unavailable("The audit log cannot be read right now.".into())
        };
        let authors = self
            .audit
            .version_authors(&s.mount, &s.path)
            .await
            .map_err(audit_down)?;
        let writes: Vec<VersionWrite> = meta
            .versions
            .iter()
            .rev()
            .take(VERSIONS)
            .map(|(v, info)| VersionWrite {
                version: *v,
                at: info.created_time.parse().ok(),
                author: authors.get(&(*v as i64)).map(|(who, _)| who.clone()),
            })
            .collect();
        let writes_only = |note: &str| SecretTimeline {
            apps: vec![steps::app_timeline(
                None,
                &writes,
                &[],
                &[],
                meta.current_version,
            )],
            note: Some(note.to_owned()),
        };
        let Some(k) = self.cluster.as_deref() else {
            return Ok(writes_only(
                "This Keyway is not connected to a cluster: only the writes are shown.",
            ));
        };
        // The cluster side (apps, workloads, who restarted them) by the cluster tab's own rule:
        // only for a caller who may read the secret's values; the metadata alone shows writes.
        let grants = self.grants(caller, s, std::iter::empty()).await?;
        if !grants.read {
            return Ok(writes_only(
                "Your Vault policies let you see this secret's versions but not read it, so its \
                 way into the cluster is not shown: only the writes are.",
            ));
        }
        let observations = k
            .observations
            .of_secret(&s.mount, &s.path, OBSERVATIONS_READ)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "cluster observations could not be read");
                AppError::Unavailable("The cluster timeline cannot be read right now.".into())
            })?;
        let restart_rows = self
            .audit
            .list(Filter {
                actions: vec![Action::Restart],
                mount: Some(s.mount.clone()),
                path: Some(s.path.clone()),
                limit: Some(RESTART_ROWS_READ),
                ..Default::default()
            })
            .await
            .map_err(audit_down)?;
        let restarts = keyway_restarts(&restart_rows);
        // Today's apps of the secret, and those Keyway recorded before (an app since deleted).
        let snap = snapshot::snapshot(&k.caches).await;
        let mut apps: BTreeSet<AppRef> = snap
            .apps_for(&s.mount, &s.path)
            .into_iter()
            .map(|a| AppRef::new(a.namespace, a.name))
            .collect();
        apps.extend(
            observations
                .iter()
                .map(|o| AppRef::new(&o.app.namespace, &o.app.name)),
        );
        if apps.is_empty() {
            return Ok(SecretTimeline {
                apps: vec![steps::app_timeline(
                    None,
                    &writes,
                    &[],
                    &[],
                    meta.current_version,
                )],
                note: Some(
                    "No app in the cluster uses this secret: only its writes are shown.".into(),
                ),
            });
        }
        let timelines: Vec<AppTimeline> = apps
            .iter()
            .map(|app| {
                let mine: Vec<&Observation> = observations
                    .iter()
                    .filter(|o| o.app.namespace == app.namespace && o.app.name == app.name)
                    .collect();
                steps::app_timeline(Some(app), &writes, &mine, &restarts, meta.current_version)
            })
            .collect();
        Ok(SecretTimeline {
            apps: timelines,
            note: None,
        })
    }
}

/// Keyway's restarts of this secret's apps, from the audit log: each `ok` outcome with its
/// intent, whose detail is `<namespace>/<app>: <workload>, <workload>…` (see `restart.rs`).
fn keyway_restarts(rows: &[keyway_store::Row]) -> Vec<KeywayRestart> {
    let intents: std::collections::HashMap<i64, &keyway_store::Row> =
        rows.iter().map(|r| (r.seq, r)).collect();
    rows.iter()
        .filter(|r| r.outcome == Outcome::Ok)
        .filter_map(|done| {
            let intent = intents.get(&done.intent_seq?)?;
            let (app, names) = intent.detail.as_deref()?.split_once(": ")?;
            let (namespace, name) = app.split_once('/')?;
            Some(KeywayRestart {
                app: AppRef::new(namespace, name),
                workloads: names.split(", ").map(str::to_string).collect(),
                user: intent.actor_name.clone(),
                from: intent.at.parse::<Timestamp>().ok()?,
                to: done.at.parse::<Timestamp>().ok()?,
            })
        })
        .collect()
}
