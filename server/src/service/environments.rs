//! Which environments Keyway knows, and where each one's secrets live: the one list the
//! platform pages (access, fleet, onboarding) offer.
//!
//! An environment is a Kubernetes namespace Keyway serves: the `KEYWAY_NAMESPACES` list when one
//! is set; serving the whole cluster, every namespace with an app in the watch cache. Either way
//! the environments `KEYWAY_ENVIRONMENT_KV` lists are known too (a namespace with no app yet can
//! be onboarded). Where its secrets live is [`crate::homes::Homes`]' rule.

use std::collections::BTreeSet;

use keyway_app::dto::KvHome;
use keyway_app::error::AppError;
use keyway_k8s::scope::{Namespace, Scope};
use keyway_k8s::snapshot;

use super::Core;

/// The environment settings of this Keyway.
#[derive(Debug, Clone)]
pub struct Environments {
    pub homes: crate::homes::Homes,
    pub scope: Scope,
    /// The kubernetes auth mount onboarded apps' login roles are written under.
    pub kube_auth_mount: String,
}

impl Core {
    /// Every environment, sorted.
    pub async fn environments(&self) -> Vec<Namespace> {
        let mut all: BTreeSet<Namespace> = self.envs.homes.listed().cloned().collect();
        match &self.envs.scope {
            Scope::Namespaces(list) => all.extend(list.iter().cloned()),
            Scope::ClusterWide => {
                if let Some(k) = self.cluster.as_deref() {
                    let snap = snapshot::snapshot(&k.caches).await;
                    all.extend(snap.apps.iter().filter_map(|a| a.namespace.parse().ok()));
                }
            }
        }
        all.into_iter().collect()
    }

    /// `name` as a known environment, or a plain refusal.
    pub async fn environment(&self, name: &str) -> Result<Namespace, AppError> {
        if let Some(why) = keyway_k8s::names::namespace_problem("environment", name) {
            return Err(AppError::Invalid(why));
        }
        self.environments()
            .await
            .into_iter()
            .find(|e| e.as_str() == name)
            .ok_or_else(|| {
                AppError::NotFound(format!(
                    "Keyway does not serve an environment named {name}."
                ))
            })
    }

    /// Where `environment`'s secrets live.
    pub fn home(&self, environment: &Namespace) -> KvHome {
        self.envs.homes.home(environment)
    }
}
