//! The apps overview: every app in the cluster the caller may read, a page at a time.
//!
//! Built to stay fast with tens of thousands of apps: the candidates come from the watch cache
//! (filtered by the search text, sorted), visibility is asked of Vault in batches
//! (`sys/capabilities-self`, a first call sized for the page, then doubling up to [`MAX_BATCH`]
//! paths per call) only until the requested page is
//! full, and only the page's apps get a kv metadata read (concurrently) and a status view.

use futures::{stream, StreamExt};
use jiff::Timestamp;
use keyway_app::dto::{AppsPage, ClusterAppSummary, PodsState, SecretRef};
use keyway_app::error::AppError;
use keyway_app::logic::limits::NAME_MAX_CHARS;
use keyway_k8s::apps::{self, AppRef};
use keyway_k8s::snapshot;
use keyway_policy::paths::{kv, KvApi};
use keyway_vault::Capability;

use super::cluster::app_dto;
use super::{Caller, Core};

/// Apps per page.
pub const PAGE_SIZE: usize = 25;
/// Most kv paths per capabilities call (the Vault client's own batch size).
const MAX_BATCH: usize = keyway_vault::CAPABILITIES_BATCH;
/// The deepest page shown: page N asks Vault about (N + 1) × [`PAGE_SIZE`] apps, so a page
/// number cannot make Keyway walk the whole fleet. Past it, searching narrows the list.
pub const MAX_PAGE: u32 = 40;
/// Concurrent kv metadata reads for one page.
const READS: usize = 16;

/// One row of the overview.
fn app_summary(view: apps::AppView) -> ClusterAppSummary {
    let secret = SecretRef::new(view.app.mount.clone(), view.app.path.clone());
    let d = app_dto(view, false);
    ClusterAppSummary {
        namespace: d.namespace,
        name: d.name,
        secret,
        live: d.live,
        workloads: d.workloads.len() as u32,
        workloads_up_to_date: d
            .workloads
            .iter()
            .filter(|w| matches!(w.pods, PodsState::UpToDate))
            .count() as u32,
    }
}

fn matches(a: &AppRef, q: &str) -> bool {
    q.is_empty()
        || [&a.namespace, &a.name, &a.mount, &a.path]
            .iter()
            .any(|s| s.to_lowercase().contains(q))
}

impl Core {
    pub async fn cluster_apps(
        &self,
        caller: &Caller,
        query: &str,
        page: u32,
    ) -> Result<AppsPage, AppError> {
        let Some(k) = self.cluster.as_deref() else {
            return Ok(AppsPage {
                configured: false,
                problem: None,
                items: vec![],
                page,
                has_more: false,
            });
        };
        let q = query.trim().to_lowercase();
        keyway_app::logic::limits::check_chars("search text", &q, NAME_MAX_CHARS)
            .map_err(AppError::Invalid)?;
        if page >= MAX_PAGE {
            return Err(AppError::Invalid(format!(
                "Only the first {MAX_PAGE} pages are shown. Search to narrow the list."
            )));
        }
        let snap = snapshot::snapshot(&k.caches).await;
        let candidates: Vec<&AppRef> = snap.apps.iter().filter(|a| matches(a, &q)).collect();
        // One more than the page's end, to know whether there is a next page.
        let want = (page as usize + 1) * PAGE_SIZE + 1;
        let visible = self.first_readable(caller, &candidates, want).await?;
        let start = (page as usize * PAGE_SIZE).min(visible.len());
        let end = (start + PAGE_SIZE).min(visible.len());
        // The last page shown has no "next": past it, the search narrows the list.
        let has_more = visible.len() > end && page + 1 < MAX_PAGE;
        let on_page: Vec<AppRef> = visible[start..end].iter().map(|a| (*a).clone()).collect();
        let secrets: Vec<SecretRef> = on_page
            .iter()
            .map(|a| SecretRef::new(&a.mount, &a.path))
            .collect();
        let versions: Vec<_> = stream::iter(secrets)
            .map(|s| async move { self.vault_version(caller, &s).await })
            .buffered(READS)
            .collect()
            .await;
        let now = Timestamp::now();
        let items = on_page
            .iter()
            .zip(versions)
            .filter_map(|(a, v)| apps::view(&snap, a, v, now))
            .map(app_summary)
            .collect();
        Ok(AppsPage {
            configured: true,
            problem: (!snap.health_ok)
                .then(|| keyway_k8s::status::ClusterSync::sentence(snap.cluster).to_string()),
            items,
            page,
            has_more,
        })
    }

    /// The first `want` of `candidates` the caller may read (fewer when there are not that
    /// many), asking Vault in growing batches rather than about the whole fleet at once.
    async fn first_readable<'a>(
        &self,
        caller: &Caller,
        candidates: &[&'a AppRef],
        want: usize,
    ) -> Result<Vec<&'a AppRef>, AppError> {
        // Walk the candidates in batches until `want` are known readable.
        let mut visible: Vec<&'a AppRef> = Vec::new();
        // The first call asks about as many apps as the page needs (plus a few, in case some
        // are not readable); each further call asks about twice as many.
        let mut batch = (want + 8).min(MAX_BATCH);
        let mut rest: &[&'a AppRef] = candidates;
        while !rest.is_empty() {
            let (chunk, tail) = rest.split_at(batch.min(rest.len()));
            rest = tail;
            batch = (batch * 2).min(MAX_BATCH);
            let mut paths: Vec<String> = chunk
                .iter()
                .map(|a| kv(&a.mount, KvApi::Data, &a.path))
                .collect();
            paths.sort();
            paths.dedup();
            let caps = self.capabilities(caller, &paths, "list apps").await?;
            let readable =
                |a: &AppRef| caps.has(&kv(&a.mount, KvApi::Data, &a.path), Capability::Read);
            visible.extend(chunk.iter().copied().filter(|a| readable(a)));
            if visible.len() >= want {
                break;
            }
        }
        Ok(visible)
    }
}
