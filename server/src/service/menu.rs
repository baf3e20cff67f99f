//! Which platform pages (access, fleet health, onboarding) the caller may open, per environment: one `sys/capabilities-self` call
//! with the caller's token, so Vault decides and a developer's token opens none.
//!
//! The paths asked are the ones the pages then write or that Keyway's own account acts on:
//! - managing access to `E`: `create` or `update` on each of Keyway's policies of `E`
//!   (`sys/policies/acl/keyway-E-view`, `-edit`, `-restart`), and `update` on `identity/group`
//!   and `identity/group-alias` (where groups and their links are created);
//! - fleet health of `E`: `read` on `keyway/fleet/E`;
//! - onboarding into `E`: `update` on `keyway/onboard/E`.
//!
//! A page checked here still makes each write with the same token: this only decides what is
//! shown, and which server functions refuse at once with a plain sentence.

use keyway_app::dto::PlatformMenu;
use keyway_app::error::AppError;
use keyway_k8s::scope::Namespace;
use keyway_policy::paths;
use keyway_vault::{Capabilities, Capability};

use super::{Caller, Core};

/// The policy paths whose capabilities say the caller may manage access to `environment`.
fn access_paths(environment: &str) -> Vec<String> {
    keyway_policy::Level::ALL
        .iter()
        .map(|l| {
            format!(
                "sys/policies/acl/{}",
                keyway_policy::policy_name(environment, *l)
            )
        })
        .collect()
}

/// Where groups, and external groups' links, are created and changed.
const GROUPS_PATHS: [&str; 2] = ["identity/group", "identity/group-alias"];

/// What the caller's policies open, read from one capabilities answer.
pub struct Menu {
    caps: Capabilities,
    environments: Vec<Namespace>,
}

impl Menu {
    /// May the caller manage access to `environment`?
    pub fn may_manage(&self, environment: &str) -> bool {
        self.environments.iter().any(|e| e.as_str() == environment)
            && GROUPS_PATHS
                .iter()
                .all(|p| self.caps.has(p, Capability::Update))
            && access_paths(environment).iter().all(|p| {
                self.caps
                    .has_any(p, &[Capability::Create, Capability::Update])
            })
    }

    /// May the caller onboard apps into `environment`?
    pub fn may_onboard(&self, environment: &str) -> bool {
        self.environments.iter().any(|e| e.as_str() == environment)
            && self
                .caps
                .has(&paths::onboard_grant(environment), Capability::Update)
    }

    pub fn dto(&self) -> PlatformMenu {
        let names = |keep: &dyn Fn(&str) -> bool| {
            self.environments
                .iter()
                .map(Namespace::as_str)
                .filter(|e| keep(e))
                .map(str::to_owned)
                .collect()
        };
        PlatformMenu {
            access: names(&|e| self.may_manage(e)),
            fleet: names(&|e| self.caps.has(&paths::fleet_grant(e), Capability::Read)),
            onboard: names(&|e| self.may_onboard(e)),
        }
    }
}

impl Core {
    /// `name` as a known environment, once the caller's menu `opens` it; else `denied(name)`.
    /// The menu is asked before the environment is looked up, so an environment Keyway does not
    /// serve is refused in the same words as one the caller may not use (no oracle).
    pub(super) async fn platform_environment(
        &self,
        caller: &Caller,
        name: &str,
        opens: impl Fn(&Menu, &str) -> bool,
        denied: impl FnOnce(&str) -> AppError,
    ) -> Result<Namespace, AppError> {
        if let Some(why) = keyway_k8s::names::namespace_problem("environment", name) {
            return Err(AppError::Invalid(why));
        }
        if !opens(&self.menu(caller).await?, name) {
            return Err(denied(name));
        }
        self.environment(name).await
    }

    /// The caller's platform menu over every environment Keyway knows.
    pub async fn menu(&self, caller: &Caller) -> Result<Menu, AppError> {
        let environments = self.environments().await;
        let mut asked: Vec<String> = GROUPS_PATHS.iter().map(|p| p.to_string()).collect();
        for e in &environments {
            asked.extend(access_paths(e.as_str()));
            asked.push(paths::fleet_grant(e.as_str()));
            asked.push(paths::onboard_grant(e.as_str()));
        }
        let caps = self
            .capabilities(caller, &asked, "see the platform pages")
            .await?;
        Ok(Menu { caps, environments })
    }
}
