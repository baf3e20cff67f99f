//! Typed identities shared by the browser and the server, so no call passes a pair of strings in
//! the wrong order or compares a kind against `Debug` output.
//!
//! Glossary: a *secret* is a kv-v2 secret at `mount/path` in Vault ([`SecretRef`]); an *app* is
//! one VaultStaticSecret in a namespace ([`AppRef`]), which copies a secret into the cluster; the
//! app's namespace is its *environment*; a *workload* is a Deployment, StatefulSet or DaemonSet
//! that reads the app's Kubernetes Secret ([`WorkloadRef`]).

use std::fmt;

use serde::{Deserialize, Serialize};

/// A kv-v2 secret: its mount (`dev`, `teams/payments`) and its path inside the mount.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SecretRef {
    pub mount: String,
    pub path: String,
}

impl SecretRef {
    pub fn new(mount: impl Into<String>, path: impl Into<String>) -> Self {
        SecretRef {
            mount: mount.into(),
            path: path.into(),
        }
    }
}

/// `mount/path`, as Vault's CLI and the UI write it.
impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.mount, self.path)
    }
}

/// An app: one VaultStaticSecret, by namespace and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AppRef {
    pub namespace: String,
    pub name: String,
}

impl AppRef {
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        AppRef {
            namespace: namespace.into(),
            name: name.into(),
        }
    }
}

/// `namespace/name`, as kubectl writes it.
impl fmt::Display for AppRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// The kinds of workload Keyway shows and restarts. On the wire and on screen: the Kubernetes
/// kind, `Deployment`, `StatefulSet`, `DaemonSet`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
    DaemonSet,
}

impl WorkloadKind {
    /// The Kubernetes kind.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
        }
    }
}

impl fmt::Display for WorkloadKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One workload in an app's namespace.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct WorkloadRef {
    pub kind: WorkloadKind,
    pub name: String,
}

impl WorkloadRef {
    pub fn new(kind: WorkloadKind, name: impl Into<String>) -> Self {
        WorkloadRef {
            kind,
            name: name.into(),
        }
    }
}

/// `Deployment/name`, as kubectl writes it.
impl fmt::Display for WorkloadRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind, self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_read_as_their_cli_spelling_and_travel_as_named_fields() {
        let s = SecretRef::new("dev", "webapp/config");
        assert_eq!(s.to_string(), "dev/webapp/config");
        assert_eq!(
            serde_json::to_value(&s).unwrap(),
            serde_json::json!({"mount": "dev", "path": "webapp/config"})
        );
        let w = WorkloadRef::new(WorkloadKind::StatefulSet, "ledger");
        assert_eq!(w.to_string(), "StatefulSet/ledger");
        assert_eq!(
            serde_json::to_value(&w).unwrap(),
            serde_json::json!({"kind": "StatefulSet", "name": "ledger"})
        );
        assert_eq!(AppRef::new("dev", "webapp").to_string(), "dev/webapp");
    }
}
