//! The cluster side of onboarding one app, pure: the ServiceAccount VSO logs in as (when new), the
//! VaultAuth (when not reusing one), the VaultStaticSecret, and a `kustomization.yaml` listing
//! them, as the files of a Kustomize folder for the team's GitOps repository. The direct path
//! (Keyway's own account creating them, [`apply`]) creates these same objects, parsed back
//! from this text, so the two paths cannot differ. Every name is checked first ([`AppCluster::problem`]).
//!
//! The YAML is written by hand, not by serde_yaml, so that the text is stable (field order as VSO's
//! documentation shows it) and reads like a manifest a person wrote; every string is a JSON
//! string, which YAML reads as a double-quoted scalar, so no name can break out of its field.
//! Tests parse each file back into the typed objects of [`crate::vso`].
//!
//! Every object carries `app.kubernetes.io/managed-by: keyway` (the admission policy lets Keyway's
//! account create only objects so labelled) and `app.kubernetes.io/name: <app>`.
//!
//! Restarts: VSO's `rolloutRestartTargets` live in the VaultStaticSecret. Reloader's annotation
//! belongs on a workload the team already deploys from its own files, so it is not a file of
//! this folder (a Kustomize patch on an object outside the folder fails); [`Rendered::notes`]
//! says which line to add where.

use crate::status::pods::WorkloadKind;

pub mod apply;

/// The label every onboarded object carries.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "keyway");
/// VSO's API version.
const VSO_API: &str = "secrets.hashicorp.com/v1beta1";

/// A workload of the app's namespace, as a restart names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workload {
    pub kind: WorkloadKind,
    pub name: String,
}

/// How the app's pods pick up a change of the Secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Restart {
    /// Nobody restarts them; someone restarts by hand (or the app reads a mounted file live).
    None,
    /// Reloader's `reloader.stakater.com/auto: "true"` on this workload.
    Reloader(Workload),
    /// VSO restarts these workloads itself.
    RolloutTargets(Vec<Workload>),
}

/// Which VaultAuth the VaultStaticSecret uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthChoice {
    /// A new VaultAuth `name` with the kubernetes auth `mount` and `role`.
    New {
        name: String,
        mount: String,
        role: String,
    },
    /// One that already exists in the namespace.
    Existing(String),
}

/// One app's cluster objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppCluster {
    pub namespace: String,
    pub app: String,
    pub service_account: String,
    /// Whether the ServiceAccount is to be created.
    pub new_service_account: bool,
    pub auth: AuthChoice,
    /// kv-v2 mount and path of the secret.
    pub mount: String,
    pub path: String,
    /// The Kubernetes Secret VSO fills.
    pub destination: String,
    /// VSO's `refreshAfter`, e.g. `60s`.
    pub refresh_after: String,
    pub restart: Restart,
}

/// One file of a rendered folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    /// The file's name in the folder, e.g. `vaultauth.yaml`.
    pub name: String,
    pub text: String,
}

/// A rendered Kustomize folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// `kustomization.yaml` last.
    pub files: Vec<RenderedFile>,
    /// What the team must do by hand besides committing the folder.
    pub notes: Vec<String>,
}

impl AppCluster {
    /// The VaultAuth's name the VaultStaticSecret refers to.
    pub fn auth_name(&self) -> &str {
        match &self.auth {
            AuthChoice::New { name, .. } | AuthChoice::Existing(name) => name,
        }
    }

    fn metadata(&self, name: &str) -> String {
        format!(
            "metadata:\n  name: {}\n  namespace: {}\n  labels:\n    {}: {}\n    app.kubernetes.io/name: {}\n",
            s(name),
            s(&self.namespace),
            MANAGED_BY.0,
            MANAGED_BY.1,
            s(&self.app),
        )
    }

    /// The ServiceAccount, when it is new.
    fn service_account_yaml(&self) -> Option<String> {
        self.new_service_account.then(|| {
            format!(
                "apiVersion: v1\nkind: ServiceAccount\n{}",
                self.metadata(&self.service_account)
            )
        })
    }

    /// The VaultAuth, when it is new.
    fn vault_auth_yaml(&self) -> Option<String> {
        let AuthChoice::New { name, mount, role } = &self.auth else {
            return None;
        };
        Some(format!(
            "apiVersion: {VSO_API}\nkind: VaultAuth\n{}spec:\n  method: kubernetes\n  mount: {}\n  kubernetes:\n    role: {}\n    serviceAccount: {}\n    audiences:\n      - \"vault\"\n", // keyway_policy::onboard::AUDIENCE (tested)
            self.metadata(name),
            s(mount),
            s(role),
            s(&self.service_account),
        ))
    }

    /// The VaultStaticSecret, named like the app.
    fn static_secret_yaml(&self) -> String {
        let mut out = format!(
            "apiVersion: {VSO_API}\nkind: VaultStaticSecret\n{}spec:\n  vaultAuthRef: {}\n  type: kv-v2\n  mount: {}\n  path: {}\n  refreshAfter: {}\n  destination:\n    name: {}\n    create: true\n",
            self.metadata(&self.app),
            s(self.auth_name()),
            s(&self.mount),
            s(&self.path),
            s(&self.refresh_after),
            s(&self.destination),
        );
        if let Restart::RolloutTargets(targets) = &self.restart {
            out.push_str("  rolloutRestartTargets:\n");
            for target in targets {
                out.push_str(&format!(
                    "    - kind: {}\n      name: {}\n",
                    s(target.kind.as_str()),
                    s(&target.name)
                ));
            }
        }
        out
    }

    /// Why these objects could not be created, if they could not: every name by Kubernetes'
    /// rules ([`crate::names`]), `refreshAfter` a Go duration of whole seconds, minutes or hours.
    pub fn problem(&self) -> Option<String> {
        let mut names = vec![
            ("app", self.app.as_str()),
            ("service account", self.service_account.as_str()),
            ("VaultAuth", self.auth_name()),
            ("Secret", self.destination.as_str()),
        ];
        let workloads = match &self.restart {
            Restart::None => Vec::new(),
            Restart::Reloader(w) => vec![w],
            Restart::RolloutTargets(ws) => ws.iter().collect(),
        };
        names.extend(workloads.iter().map(|w| ("workload", w.name.as_str())));
        let duration_ok = |d: &str| {
            d.len() <= 8
                && d.strip_suffix(['s', 'm', 'h']).is_some_and(|n| {
                    !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && n != "0"
                })
        };
        crate::names::namespace_problem("environment", &self.namespace)
            .or_else(|| {
                names
                    .into_iter()
                    .find_map(|(what, name)| crate::names::object_name_problem(what, name))
            })
            .or_else(|| {
                (!duration_ok(&self.refresh_after)).then(|| {
                    format!(
                        "The refresh interval \"{}\" is not a duration such as 30s, 5m or 1h.",
                        self.refresh_after.chars().take(16).collect::<String>()
                    )
                })
            })
    }

    /// The Kustomize folder: one file per object, then `kustomization.yaml`; or why not
    /// ([`AppCluster::problem`]).
    pub fn render(&self) -> Result<Rendered, String> {
        if let Some(why) = self.problem() {
            return Err(why);
        }
        let file = |name: &str, text: String| RenderedFile {
            name: name.to_string(),
            text,
        };
        let mut files = Vec::new();
        if let Some(sa) = self.service_account_yaml() {
            files.push(file("serviceaccount.yaml", sa));
        }
        if let Some(auth) = self.vault_auth_yaml() {
            files.push(file("vaultauth.yaml", auth));
        }
        files.push(file("vaultstaticsecret.yaml", self.static_secret_yaml()));
        let mut kustomization = String::from(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n",
        );
        for f in &files {
            kustomization.push_str(&format!("  - {}\n", f.name));
        }
        files.push(file("kustomization.yaml", kustomization));
        let mut notes = Vec::new();
        if let Restart::Reloader(w) = &self.restart {
            notes.push(format!(
                "Add the annotation {}: \"true\" to the metadata of {} {} in namespace {}, in the files that deploy it.",
                crate::reloader::AUTO,
                w.kind.as_str(),
                w.name,
                self.namespace
            ));
        }
        Ok(Rendered { files, notes })
    }
}

/// A YAML double-quoted scalar (a JSON string).
fn s(text: &str) -> String {
    serde_json::Value::String(text.to_string()).to_string()
}

#[cfg(test)]
mod tests;
