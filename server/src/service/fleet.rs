//! Fleet health for the platform team: every app needing attention in the environments the
//! caller's token may see (`read` on `keyway/fleet/<environment>`, asked in the one platform
//! menu call), with counts per environment, filters and pages.
//!
//! Fast at fleet scale: the classification ([`keyway_k8s::fleet`]) reads only the shared watch
//! snapshot and is computed once per snapshot (at most one a second), whoever asks; a request
//! then filters that list. No Vault call per app.

use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;
use keyway_app::backend::FleetApi;
use keyway_app::dto::{FleetCount, FleetItem, FleetPage, FleetProblem, FleetQuery, SecretRef};
use keyway_app::error::AppError;
use keyway_app::logic::limits::{check_chars, NAME_MAX_CHARS};
use keyway_k8s::fleet::{self, Attention, Problem};
use keyway_k8s::snapshot::{self, Snapshot};

use super::{Caller, Core, RequestBackend};

/// Apps per page.
pub const PAGE_SIZE: usize = 50;
/// The deepest page: past it, filters narrow the list.
pub const MAX_PAGE: u32 = 200;

/// A snapshot and the apps needing attention in it.
type Classified = (Arc<Snapshot>, Arc<Vec<Attention>>);

/// The classification of the last snapshot, shared by every request.
#[derive(Default)]
pub struct FleetCache(tokio::sync::Mutex<Option<Classified>>);

impl FleetCache {
    /// The apps needing attention in `snap`, computed once per snapshot (off the async workers).
    /// A classification that did not finish (it panicked) is an error, never an empty list
    /// ("nothing needs attention"), and is not kept.
    async fn of(&self, snap: Arc<Snapshot>) -> Result<Arc<Vec<Attention>>, AppError> {
        let mut slot = self.0.lock().await;
        if let Some((s, list)) = slot.as_ref() {
            if Arc::ptr_eq(s, &snap) {
                return Ok(list.clone());
            }
        }
        let built = snap.clone();
        let list = tokio::task::spawn_blocking(move || fleet::attention(&built, Timestamp::now()))
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "fleet classification failed");
                AppError::Internal
            })?;
        let list = Arc::new(list);
        *slot = Some((snap, list.clone()));
        Ok(list)
    }
}

/// The UI's word for a problem (the same four, named once each side).
fn problem_dto(p: Problem) -> FleetProblem {
    match p {
        Problem::Failing => FleetProblem::Failing,
        Problem::NotSetUp => FleetProblem::NotSetUp,
        Problem::NotRefreshed => FleetProblem::NotRefreshed,
        Problem::OldValues => FleetProblem::OldValues,
    }
}

#[async_trait]
impl FleetApi for RequestBackend {
    async fn fleet(&self, query: FleetQuery) -> Result<FleetPage, AppError> {
        self.with_caller(|c| self.core.fleet(c, query)).await
    }
}

impl Core {
    pub async fn fleet(&self, caller: Caller, query: FleetQuery) -> Result<FleetPage, AppError> {
        check_chars("search text", &query.text, NAME_MAX_CHARS).map_err(AppError::Invalid)?;
        if let Some(e) = &query.environment {
            check_chars("environment", e, NAME_MAX_CHARS).map_err(AppError::Invalid)?;
        }
        if query.page >= MAX_PAGE {
            return Err(AppError::Invalid(format!(
                "Only the first {MAX_PAGE} pages are shown. Filter to narrow the list."
            )));
        }
        let visible = self.menu(&caller).await?.dto().fleet;
        if visible.is_empty() {
            return Err(AppError::Denied(
                "Fleet health is for the platform team: your Vault policies grant `read` on no keyway/fleet/<environment> path.".into(),
            ));
        }
        let Some(k) = self.cluster.as_deref() else {
            return Ok(FleetPage {
                configured: false,
                problem: None,
                counts: Vec::new(),
                items: Vec::new(),
                matched: 0,
                page: query.page,
                has_more: false,
            });
        };
        let snap = snapshot::snapshot(&k.caches).await;
        let problem = (!snap.health_ok).then(|| snap.cluster.sentence().to_owned());
        let list = k.fleet.of(snap.clone()).await?;
        let seen = |ns: &str| visible.iter().any(|v| v == ns);
        let mut counts: Vec<FleetCount> = visible
            .iter()
            .map(|e| FleetCount {
                environment: e.clone(),
                apps: 0,
                problems: FleetProblem::ALL.iter().map(|p| (*p, 0)).collect(),
            })
            .collect();
        for app in &snap.apps {
            if let Some(c) = counts.iter_mut().find(|c| c.environment == app.namespace) {
                c.apps += 1;
            }
        }
        let text = query.text.trim().to_lowercase();
        let mut matched = 0usize;
        let mut items = Vec::new();
        let first = query.page as usize * PAGE_SIZE;
        for a in list.iter().filter(|a| seen(&a.app.namespace)) {
            let p = problem_dto(a.problem);
            if let Some(c) = counts.iter_mut().find(|c| c.environment == a.app.namespace) {
                if let Some(n) = c.problems.iter_mut().find(|(q, _)| *q == p) {
                    n.1 += 1;
                }
            }
            let wanted = query
                .environment
                .as_deref()
                .is_none_or(|e| e == a.app.namespace)
                && query.problem.is_none_or(|q| q == p)
                && (text.is_empty()
                    || [&a.app.namespace, &a.app.name, &a.app.mount, &a.app.path]
                        .iter()
                        .any(|s| s.to_lowercase().contains(&text)));
            if !wanted {
                continue;
            }
            if matched >= first && items.len() < PAGE_SIZE {
                items.push(FleetItem {
                    environment: a.app.namespace.clone(),
                    app: a.app.name.clone(),
                    secret: SecretRef::new(a.app.mount.clone(), a.app.path.clone()),
                    problem: p,
                    sentence: a.sentence.clone(),
                    since: a.since.map(|t| t.to_string()),
                });
            }
            matched += 1;
        }
        Ok(FleetPage {
            configured: true,
            problem,
            counts,
            has_more: matched > first + items.len(),
            items,
            matched: matched as u32,
            page: query.page,
        })
    }
}
