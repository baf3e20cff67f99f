//! Which namespaces Keyway serves: a configured list (`KEYWAY_NAMESPACES`, the default in
//! `deploy/base/rbac.yaml`: a Role per namespace, no cluster-wide grant) or, when none is given, the
//! whole cluster (`deploy/rbac-cluster-wide.yaml`, an opt-in).
//!
//! A [`Namespace`] is checked once, where it enters (a DNS-1123 label, as Kubernetes itself
//! requires), so every watch and every log line after that holds a name the apiserver accepts.
//! The list is bounded ([`MAX_NAMESPACES`]): each served namespace costs one watch per kind
//! Keyway reads (eight long-lived connections to the apiserver).

use std::fmt;
use std::str::FromStr;

/// At most this many namespaces in `KEYWAY_NAMESPACES` (each is eight watches).
pub const MAX_NAMESPACES: usize = 50;

/// A namespace name Kubernetes accepts: a DNS-1123 label (lowercase letters, digits and `-`,
/// starting and ending with a letter or digit, at most 63 characters).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Namespace(String);

impl Namespace {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Namespace {
    type Err = String;

    /// The rule is [`crate::names::namespace_problem`], the one Keyway also applies to the
    /// environment a request names.
    fn from_str(s: &str) -> Result<Self, String> {
        match crate::names::namespace_problem("namespace", s) {
            Some(why) => Err(why),
            None => Ok(Namespace(s.to_string())),
        }
    }
}

/// The namespaces of `KEYWAY_NAMESPACES`: comma-separated, spaces around names ignored, each
/// named once, between 1 and [`MAX_NAMESPACES`] of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceList(Vec<Namespace>);

impl NamespaceList {
    pub fn iter(&self) -> impl Iterator<Item = &Namespace> {
        self.0.iter()
    }
}

impl fmt::Display for NamespaceList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.0.iter().map(Namespace::as_str).collect();
        f.write_str(&names.join(","))
    }
}

impl FromStr for NamespaceList {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let mut out: Vec<Namespace> = Vec::new();
        for part in s.split(',').map(str::trim) {
            if part.is_empty() {
                continue;
            }
            let ns: Namespace = part.parse()?;
            if out.contains(&ns) {
                return Err(format!("namespace \"{ns}\" is named twice"));
            }
            out.push(ns);
        }
        if out.is_empty() {
            return Err("names no namespace: give one or more, comma-separated (dev,payments), or leave it unset to serve the whole cluster".into());
        }
        if out.len() > MAX_NAMESPACES {
            return Err(format!(
                "names {} namespaces; at most {MAX_NAMESPACES} (each one is eight watches on the apiserver)",
                out.len()
            ));
        }
        Ok(NamespaceList(out))
    }
}

/// What Keyway watches and may act in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every namespace (needs `deploy/rbac-cluster-wide.yaml`).
    ClusterWide,
    /// Only these (needs a Role in each, `deploy/base/rbac.yaml`).
    Namespaces(NamespaceList),
}

impl Scope {
    /// The served namespaces, or `[None]` for the whole cluster: one watch per entry and kind.
    pub fn watch_targets(&self) -> Vec<Option<&Namespace>> {
        match self {
            Scope::ClusterWide => vec![None],
            Scope::Namespaces(list) => list.iter().map(Some).collect(),
        }
    }

    /// Whether objects of `namespace` are Keyway's to show.
    pub fn serves(&self, namespace: &str) -> bool {
        match self {
            Scope::ClusterWide => true,
            Scope::Namespaces(list) => list.iter().any(|n| n.as_str() == namespace),
        }
    }
}

impl From<Option<NamespaceList>> for Scope {
    fn from(list: Option<NamespaceList>) -> Self {
        list.map_or(Scope::ClusterWide, Scope::Namespaces)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::ClusterWide => f.write_str("the whole cluster"),
            Scope::Namespaces(list) => write!(f, "namespaces {list}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_namespace_is_a_dns_label() {
        for good in ["dev", "a", "team-7", "0abc", &"x".repeat(63)] {
            assert_eq!(good.parse::<Namespace>().unwrap().as_str(), good);
        }
        for bad in [
            "",
            "Dev",
            "-dev",
            "dev-",
            "dev_1",
            "dev.prod",
            "dé",
            &"x".repeat(64),
        ] {
            assert!(bad.parse::<Namespace>().is_err(), "{bad:?} accepted");
        }
        let err = "kube_system".parse::<Namespace>().unwrap_err();
        assert!(
            err.contains("use lowercase letters, digits and '-'"),
            "{err}"
        );
    }

    #[test]
    fn a_list_is_comma_separated_each_named_once_and_bounded() {
        let l: NamespaceList = " dev, payments ,staging,".parse().unwrap();
        assert_eq!(l.to_string(), "dev,payments,staging");
        assert!("dev,dev"
            .parse::<NamespaceList>()
            .unwrap_err()
            .contains("named twice"));
        assert!(" , "
            .parse::<NamespaceList>()
            .unwrap_err()
            .contains("names no namespace"));
        assert!("dev,Prod"
            .parse::<NamespaceList>()
            .unwrap_err()
            .contains("\"Prod\""));
        let many: Vec<String> = (0..=MAX_NAMESPACES).map(|i| format!("n{i}")).collect();
        let err = many.join(",").parse::<NamespaceList>().unwrap_err();
        assert!(err.contains("at most 50"), "{err}");
        assert!(many[..MAX_NAMESPACES]
            .join(",")
            .parse::<NamespaceList>()
            .is_ok());
    }

    #[test]
    fn a_scope_serves_its_namespaces_only() {
        let s = Scope::from(Some("dev,payments".parse().unwrap()));
        assert!(s.serves("dev") && s.serves("payments"));
        assert!(!s.serves("kube-system") && !s.serves("staging"));
        assert_eq!(s.watch_targets().len(), 2);
        assert_eq!(s.to_string(), "namespaces dev,payments");
        let all = Scope::from(None);
        assert!(all.serves("kube-system"));
        assert_eq!(all.watch_targets(), vec![None]);
        assert_eq!(all.to_string(), "the whole cluster");
    }
}
