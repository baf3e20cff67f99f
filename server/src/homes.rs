//! Where each environment's secrets live in Vault (`KEYWAY_ENVIRONMENT_KV`): the one rule the
//! platform pages use to turn an environment (a Kubernetes namespace) into kv-v2 paths, for the
//! policies they write and the default path of an onboarded app.
//!
//! The convention Keyway assumes when an environment is not listed is the common one: a kv-v2
//! mount named like the namespace, all of it (`dev` → mount `dev`). A listed environment names
//! its mount and, optionally, a folder in it (`payments=dev/payments`: the mount `dev`, folder
//! `payments/`), for platforms where several namespaces share one mount.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use keyway_app::dto::KvHome;
use keyway_app::logic::limits::{MOUNT_MAX_BYTES, PATH_MAX_BYTES};
use keyway_k8s::scope::Namespace;

/// The environments listed in `KEYWAY_ENVIRONMENT_KV`, each with its kv home.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Homes(BTreeMap<Namespace, KvHome>);

impl Homes {
    /// Where `environment`'s secrets live: as listed, or the mount named like it.
    pub fn home(&self, environment: &Namespace) -> KvHome {
        self.0.get(environment).cloned().unwrap_or_else(|| KvHome {
            mount: environment.as_str().to_owned(),
            prefix: String::new(),
        })
    }

    /// The environments listed.
    pub fn listed(&self) -> impl Iterator<Item = &Namespace> {
        self.0.keys()
    }

    /// The environment, among `environments`, a secret belongs to: the one whose home holds
    /// `mount`/`path` most narrowly. With `payments=dev/payments` and `dev` unlisted, `dev`'s
    /// home is the whole mount `dev`, yet `dev/payments/billing` is payments'.
    pub fn owner<'a>(
        &self,
        environments: &'a [Namespace],
        mount: &str,
        path: &str,
    ) -> Option<&'a Namespace> {
        environments
            .iter()
            .map(|e| (e, self.home(e)))
            .filter(|(_, h)| holds(h, mount, path))
            .max_by_key(|(_, h)| h.prefix.len())
            .map(|(e, _)| e)
    }

    /// The other environments, among `environments`, whose homes lie inside `environment`'s:
    /// a policy over `environment`'s home reaches their secrets too (Vault's paths cannot say
    /// "all but this folder" without a `deny` that would also cut those environments' own
    /// grants), so the platform pages say so.
    pub fn nested(&self, environment: &Namespace, environments: &[Namespace]) -> Vec<Namespace> {
        let outer = self.home(environment);
        environments
            .iter()
            .filter(|e| *e != environment)
            .filter(|e| {
                let inner = self.home(e);
                inner.prefix.len() > outer.prefix.len()
                    && holds(&outer, &inner.mount, &inner.prefix)
            })
            .cloned()
            .collect()
    }
}

/// Whether `home` holds the secret (or folder) `mount`/`path`.
fn holds(home: &KvHome, mount: &str, path: &str) -> bool {
    home.mount == mount && path.starts_with(&home.prefix)
}

impl fmt::Display for Homes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|(ns, h)| format!("{ns}={}/{}", h.mount, h.prefix.trim_end_matches('/')))
            .map(|s| s.trim_end_matches('/').to_owned())
            .collect();
        f.write_str(&parts.join(","))
    }
}

/// A mount or folder name Vault and Keyway both accept: no empty, `.` or `..` segment, no
/// control character.
fn path_problem(what: &str, s: &str, max: usize) -> Option<String> {
    if s.len() > max {
        return Some(format!("the {what} \"{s}\" is longer than {max} bytes"));
    }
    let bad = s
        .split('/')
        .any(|seg| seg.is_empty() || seg == "." || seg == "..")
        || s.chars()
            .any(|c| c.is_control() || c == '*' || c == '+' || c == '"');
    bad.then(|| format!("\"{s}\" is not a valid {what}"))
}

impl FromStr for Homes {
    type Err = String;

    /// `ns=mount[/folder],ns=mount…`; spaces around items ignored; each namespace once.
    fn from_str(s: &str) -> Result<Self, String> {
        let mut out = BTreeMap::new();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (ns, place) = item.split_once('=').ok_or_else(|| {
                format!("\"{item}\" should read environment=mount or environment=mount/folder")
            })?;
            let ns: Namespace = ns.trim().parse()?;
            let place = place.trim().trim_matches('/');
            let (mount, folder) = place.split_once('/').unwrap_or((place, ""));
            if let Some(why) = path_problem("kv mount", mount, MOUNT_MAX_BYTES) {
                return Err(why);
            }
            if !folder.is_empty() {
                if let Some(why) = path_problem("folder", folder, PATH_MAX_BYTES) {
                    return Err(why);
                }
            }
            let home = KvHome {
                mount: mount.to_owned(),
                prefix: if folder.is_empty() {
                    String::new()
                } else {
                    format!("{folder}/")
                },
            };
            if out.insert(ns.clone(), home).is_some() {
                return Err(format!("the environment {ns} is listed twice"));
            }
        }
        Ok(Homes(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(s: &str) -> Namespace {
        s.parse().unwrap()
    }

    #[test]
    fn a_listed_environment_has_its_mount_and_folder_and_others_the_mount_of_their_name() {
        let homes: Homes = " payments=dev/payments/ , dev=dev".parse().unwrap();
        assert_eq!(
            homes.home(&ns("payments")),
            KvHome {
                mount: "dev".into(),
                prefix: "payments/".into()
            }
        );
        assert_eq!(homes.home(&ns("dev")).prefix, "");
        assert_eq!(
            homes.home(&ns("staging")),
            KvHome {
                mount: "staging".into(),
                prefix: String::new()
            }
        );
        assert_eq!(homes.to_string(), "dev=dev,payments=dev/payments");
    }

    #[test]
    fn a_secret_belongs_to_the_environment_whose_home_holds_it_most_narrowly() {
        let homes: Homes = "payments=dev/payments".parse().unwrap();
        let envs = [ns("dev"), ns("payments"), ns("staging")];
        let owner = |m: &str, p: &str| homes.owner(&envs, m, p).map(|e| e.as_str().to_owned());
        assert_eq!(owner("dev", "webapp/config").as_deref(), Some("dev"));
        assert_eq!(
            owner("dev", "payments/billing/config").as_deref(),
            Some("payments")
        );
        // A folder named like the prefix but longer is not inside it.
        assert_eq!(owner("dev", "payments-old/config").as_deref(), Some("dev"));
        assert_eq!(
            owner("staging", "worker/config").as_deref(),
            Some("staging")
        );
        assert_eq!(owner("prod", "api/config"), None);
        assert_eq!(homes.nested(&ns("dev"), &envs), vec![ns("payments")]);
        assert!(homes.nested(&ns("payments"), &envs).is_empty());
        assert!(homes.nested(&ns("staging"), &envs).is_empty());
    }

    #[test]
    fn bad_lists_are_refused_with_the_reason() {
        for (bad, why) in [
            ("payments", "environment=mount"),
            ("Payments=dev", "namespace"),
            ("a=dev/../x", "not a valid folder"),
            ("a=dev/x*", "not a valid folder"),
            ("a=", "not a valid kv mount"),
            ("a=dev,a=staging", "listed twice"),
        ] {
            let err = bad.parse::<Homes>().unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }
}
