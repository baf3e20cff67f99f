//! Typed identities of the things Keyway's cluster side talks about, in a module of their own so
//! every layer (the indexed read, the views, the actions) can name them without importing each
//! other.

use serde::{Deserialize, Serialize};

use crate::status::WorkloadKind;

/// An app's identity: where it lives and what it copies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppRef {
    pub namespace: String,
    /// The VaultStaticSecret's name.
    pub name: String,
    pub mount: String,
    pub path: String,
    /// The Secret it fills.
    pub secret: String,
}

impl AppRef {
    /// Whether this app copies the kv secret `mount`/`path` (slashes around either ignored).
    pub fn copies(&self, mount: &str, path: &str) -> bool {
        self.mount == norm(mount) && self.path == norm(path)
    }
}

/// A mount or path as the cluster's objects and Keyway's requests are compared: without the
/// slashes people put around them.
pub(crate) fn norm(s: &str) -> &str {
    s.trim_matches('/')
}

/// One workload of an app's namespace: its kind and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WorkloadRef {
    pub kind: WorkloadKind,
    pub name: String,
}
