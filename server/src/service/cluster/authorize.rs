//! Who may act on an app: Vault decides, before Keyway's own cluster account does anything.
//!
//! The caller's token must have `update` on `keyway/restart/<namespace>/<app>` (a path no engine
//! serves, which policies can grant per environment and app) and `read` on the kv secret the app
//! copies; and the app must copy the secret the request names, so a forged call cannot reach
//! another team's app. A refusal is audited; a request that names no possible app is malformed
//! and is not.

use keyway_app::dto::{AppRef, SecretRef};
use keyway_app::error::AppError;
use keyway_k8s::{apps, names, snapshot};
use keyway_policy::paths::{kv, restart_grant, KvApi};
use keyway_store::Action;
use keyway_vault::{Capabilities, Capability};

use super::super::{check_secret, Caller, Core};

/// An app as Vault's grant path names it: its environment (namespace) and name.
#[derive(Clone, Copy)]
pub(super) struct AppId<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
}

impl<'a> From<&'a apps::AppRef> for AppId<'a> {
    fn from(a: &'a apps::AppRef) -> Self {
        AppId {
            namespace: &a.namespace,
            name: &a.name,
        }
    }
}

impl<'a> From<&'a AppRef> for AppId<'a> {
    fn from(a: &'a AppRef) -> Self {
        AppId {
            namespace: &a.namespace,
            name: &a.name,
        }
    }
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
    pub fn may_act<'a>(&self, app: impl Into<AppId<'a>>) -> bool {
        let app = app.into();
        self.caps
            .has(&restart_grant(app.namespace, app.name), Capability::Update)
    }
}

/// The name rules of Kubernetes on an app the client names: a name the cluster cannot hold is
/// malformed (422) and leaves no audit row.
pub(super) fn check_app(app: &AppRef) -> Result<(), AppError> {
    names::namespace_problem("environment", &app.namespace)
        .or_else(|| names::object_name_problem("app", &app.name))
        .map_or(Ok(()), |why| Err(AppError::Invalid(why)))
}

impl Core {
    /// The caller's capabilities on the kv data path and on each app's grant path, in one call.
    pub(super) async fn grants<'a>(
        &self,
        caller: &Caller,
        s: &SecretRef,
        apps: impl IntoIterator<Item = AppId<'a>>,
    ) -> Result<Grants, AppError> {
        let data = kv(&s.mount, KvApi::Data, &s.path);
        let mut paths = vec![data.clone()];
        paths.extend(apps.into_iter().map(|a| restart_grant(a.namespace, a.name)));
        let caps = self
            .capabilities(caller, &paths, "see this app's status")
            .await?;
        Ok(Grants {
            read: caps.has(&data, Capability::Read),
            caps,
        })
    }

    /// The cluster's view of `app`, if the caller may act on it and it copies `s`. Vault is
    /// asked first and the one app is then looked up by name, so a refused click costs one Vault
    /// call and no index of the cluster. A malformed request is refused without a row; every
    /// other refusal is audited as `action`.
    pub(super) async fn authorize(
        &self,
        caller: &Caller,
        s: &SecretRef,
        app: &AppRef,
        action: Action,
    ) -> Result<apps::AppRef, AppError> {
        check_secret(s)?;
        check_app(app)?;
        let k = self.cluster()?;
        let event = || caller.event(action, s);
        let grants = match self.grants(caller, s, [AppId::from(app)]).await {
            Ok(g) => g,
            Err(e) => {
                let why = format!("{app}: refused: Vault could not be asked ({e})");
                self.refused(event(), why).await?;
                return Err(e);
            }
        };
        let grant = restart_grant(&app.namespace, &app.name);
        if !(grants.read && grants.may_act(app)) {
            let why = format!("{app}: refused by Vault policy ({grant})");
            self.refused(event(), why).await?;
            return Err(AppError::Denied(format!(
                "You may not restart or sync this app: your Vault policies do not grant `update` on {grant}."
            )));
        }
        let found = snapshot::app(&k.caches, &app.namespace, &app.name)
            .filter(|a| a.copies(&s.mount, &s.path));
        let Some(found) = found else {
            let why = format!("{app}: refused: no such app uses this secret");
            self.refused(event(), why).await?;
            return Err(AppError::NotFound(format!(
                "No app \"{}\" in environment \"{}\" uses this secret.",
                app.name, app.namespace
            )));
        };
        Ok(found)
    }
}
