//! Who may act on an app: Vault decides, before Keyway's own cluster account does anything.
//!
//! The caller's token must have `update` on `keyway/restart/<namespace>/<app>` (a path no engine
//! serves, which policies can grant per environment and app) and `read` on the kv secret the app
//! copies; and the app must copy the secret the request names, so a forged call cannot reach
//! another team's app. A refusal is audited.

use keyway_app::dto::{AppRef, SecretRef};
use keyway_app::error::AppError;
use keyway_k8s::apps;
use keyway_k8s::snapshot;
use keyway_store::Action;
use keyway_vault::{Capabilities, Capability};

use super::super::{check_secret, Caller, Core};

/// The Vault path whose `update` capability allows restarting and syncing an app.
pub fn grant_path(namespace: &str, app: &str) -> String {
    format!("keyway/restart/{namespace}/{app}")
}

/// What the caller may do with a secret's apps.
pub(super) struct Grants {
    /// `read` on the secret's data.
    pub read: bool,
    /// Vault's answer for the apps' grant paths.
    caps: Capabilities,
}

impl Grants {
    /// `update` on the app's grant path (only for an app asked about in [`Core::grants`]).
    pub fn may_act(&self, app: &apps::AppRef) -> bool {
        self.caps
            .has(&grant_path(&app.namespace, &app.name), Capability::Update)
    }
}

impl Core {
    /// The caller's capabilities on the kv data path and on each app's grant path, in one call.
    pub(super) async fn grants(
        &self,
        caller: &Caller,
        s: &SecretRef,
        apps: &[apps::AppRef],
    ) -> Result<Grants, AppError> {
        let data = format!("{}/data/{}", s.mount, s.path);
        let grant_paths: Vec<String> = apps
            .iter()
            .map(|a| grant_path(&a.namespace, &a.name))
            .collect();
        let mut paths = vec![data.clone()];
        paths.extend(grant_paths);
        let caps = self
            .capabilities(caller, &paths, "see this app's status")
            .await?;
        Ok(Grants {
            read: caps.has(&data, Capability::Read),
            caps,
        })
    }

    /// The cluster's view of `app`, if it copies `s` and the caller may act on it. A refusal is
    /// audited as `action`.
    pub(super) async fn authorize(
        &self,
        caller: &Caller,
        s: &SecretRef,
        app: &AppRef,
        action: Action,
    ) -> Result<apps::AppRef, AppError> {
        check_secret(s)?;
        let k = self.cluster()?;
        let found = snapshot::fresh(&k.caches)
            .apps_for(&s.mount, &s.path)
            .into_iter()
            .find(|a| a.namespace == app.namespace && a.name == app.name);
        let event = || caller.event(action, s);
        let Some(found) = found else {
            let why = format!("{app}: refused: no such app uses this secret");
            self.refused(event(), why).await?;
            return Err(AppError::NotFound(format!(
                "No app \"{}\" in environment \"{}\" uses this secret.",
                app.name, app.namespace
            )));
        };
        let grants = match self.grants(caller, s, std::slice::from_ref(&found)).await {
            Ok(g) => g,
            Err(e) => {
                let why = format!("{app}: refused: Vault could not be asked ({e})");
                self.refused(event(), why).await?;
                return Err(e);
            }
        };
        let grant = grant_path(&app.namespace, &app.name);
        if !(grants.read && grants.may_act(&found)) {
            let why = format!("{app}: refused by Vault policy ({grant})");
            self.refused(event(), why).await?;
            return Err(AppError::Denied(format!(
                "You may not restart or sync this app: your Vault policies do not grant `update` on {grant}."
            )));
        }
        Ok(found)
    }
}
