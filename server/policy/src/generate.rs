//! Keyway's own policies: one per environment and level, `keyway-<namespace>-<level>`, written
//! by a pure function so the access page can show the exact HCL before saving and tests can
//! pin it. Each policy is self-contained (edit repeats view's rules) so a group holding only one
//! of them gets everything that level promises, and nothing else: never `destroy/`, never
//! `delete` on metadata (which removes every version), nothing outside the scope.
//!
//! [`levels_at`] reads levels back from any set of policies, through the same rules the server
//! applies to a `sys/capabilities-self` answer ([`crate::rights`]) and to a restart
//! (`read` on the data and `update` on the app's restart grant, as `cluster/authorize.rs`).

use serde::{Deserialize, Serialize};

use crate::capability::Capability::{self, *};
use crate::evaluate::Acl;
use crate::paths::{kv, restart_grant, restart_grants, KvApi};
use crate::rights::{SecretPaths, SecretRights};

/// The first line of every policy Keyway writes; a policy without it is someone else's and is
/// never overwritten.
pub const MANAGED_MARKER: &str = "# Managed by Keyway";

/// What a group may do in an environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// See key names and versions, reveal values.
    View,
    /// View, and write versions, roll back, soft-delete and undelete.
    Edit,
    /// View, and restart or sync the environment's apps.
    Restart,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::View, Level::Edit, Level::Restart];

    /// The word in policy names and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::View => "view",
            Level::Edit => "edit",
            Level::Restart => "restart",
        }
    }

    /// The level spelled `word`.
    pub fn parse(word: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == word)
    }

    fn grants(self) -> &'static str {
        match self {
            Level::View => "see key names and versions and reveal values",
            Level::Edit => {
                "see and reveal values, write versions, roll back, soft-delete and undelete"
            }
            Level::Restart => "see and reveal values, restart and sync apps",
        }
    }
}

/// An environment: a Kubernetes namespace whose kv secrets live in the kv-v2 mount `mount`
/// under `prefix`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Scope {
    pub namespace: String,
    /// The mount path without slashes at either end, e.g. `dev`, `teams/payments`.
    pub mount: String,
    /// `""` for the whole mount, otherwise a folder ending in `/`, e.g. `payments/`.
    pub prefix: String,
}

/// What some policies grant for one app of a scope.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelSet {
    pub view: bool,
    pub edit: bool,
    pub restart: bool,
}

impl LevelSet {
    pub fn contains(self, level: Level) -> bool {
        match level {
            Level::View => self.view,
            Level::Edit => self.edit,
            Level::Restart => self.restart,
        }
    }
}

/// `keyway-<namespace>-<level>`.
pub fn policy_name(namespace: &str, level: Level) -> String {
    format!("keyway-{namespace}-{}", level.as_str())
}

/// The environment a Keyway policy name is for (`keyway-dev-edit` → `dev`): the inverse of
/// [`policy_name`]; None for any other name.
pub fn environment_of(policy: &str) -> Option<String> {
    let rest = policy.strip_prefix("keyway-")?;
    Level::ALL.iter().find_map(|l| {
        rest.strip_suffix(l.as_str())?
            .strip_suffix('-')
            // A namespace is a DNS label: no dot (an app's policy, `keyway-app.<ns>.<app>`, has).
            .filter(|env| !env.is_empty() && !env.contains('.'))
            .map(str::to_owned)
    })
}

/// Whether the policy text is one Keyway wrote: its first non-empty line is [`MANAGED_MARKER`].
pub fn is_managed(hcl: &str) -> bool {
    hcl.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .is_some_and(|l| l == MANAGED_MARKER)
}

/// The rules of `level` in `scope`, in the order written.
pub fn rules(scope: &Scope, level: Level) -> Vec<(String, Vec<Capability>)> {
    let at = |api| kv(&scope.mount, api, &format!("{}*", scope.prefix));
    let data = match level {
        Level::Edit => vec![Create, Read, Update, Patch, Delete],
        Level::View | Level::Restart => vec![Read],
    };
    let mut rules = vec![
        (at(KvApi::Data), data),
        (at(KvApi::Metadata), vec![Read, List]),
        (at(KvApi::Subkeys), vec![Read]),
    ];
    match level {
        Level::View => {}
        Level::Edit => {
            rules.push((at(KvApi::Delete), vec![Update]));
            rules.push((at(KvApi::Undelete), vec![Update]));
        }
        Level::Restart => rules.push((restart_grants(&scope.namespace), vec![Update])),
    }
    rules
}

/// The HCL text of `keyway-<namespace>-<level>` for `scope`: the marker, a line saying what it
/// grants, then one `path` block per rule.
pub fn generate(scope: &Scope, level: Level) -> String {
    let mut out = format!(
        "{MANAGED_MARKER}\n# {}: {} in environment {}, kv-v2 mount {}, {}.\n",
        policy_name(&scope.namespace, level),
        level.grants(),
        one_line(&scope.namespace),
        one_line(&scope.mount),
        if scope.prefix.is_empty() {
            "every path".to_string()
        } else {
            format!("paths under {}", one_line(&scope.prefix))
        },
    );
    for (path, caps) in rules(scope, level) {
        let words: Vec<String> = caps.iter().map(|c| format!("\"{}\"", c.as_str())).collect();
        out.push_str(&format!(
            "\npath \"{}\" {{\n  capabilities = [{}]\n}}\n",
            quoted(&path),
            words.join(", ")
        ));
    }
    out
}

/// The levels `acl` grants for the app `app_name` of `scope` whose secret is `secret_path`
/// (its full path in the mount, e.g. `payments/api`).
pub fn levels_at(acl: &Acl, scope: &Scope, app_name: &str, secret_path: &str) -> LevelSet {
    let has = |path: &str, cap| acl.capabilities(path).contains(cap);
    let r = SecretRights::from_caps(&SecretPaths::new(&scope.mount, secret_path), has);
    let view = r.read && r.history && r.subkeys;
    LevelSet {
        view,
        edit: view && r.create && r.update && r.delete && r.undelete,
        restart: r.read && has(&restart_grant(&scope.namespace, app_name), Update),
    }
}

/// Text for inside an HCL string: quotes and backslashes escaped.
pub(crate) fn quoted(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Text for a comment: no line breaks.
pub(crate) fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests;
