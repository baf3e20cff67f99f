//! Keyway's view of Kubernetes: watch-backed caches ([`cache`]), the apps they describe and their
//! status ([`apps`], [`status`]), the two writes Keyway makes ([`actions`]), and the Vault Secrets Operator's resources (`secrets.hashicorp.com/v1beta1`) as Rust
//! types, the ones Keyway reads to tell whether a secret is live. The CRDs the local test cluster
//! installs are generated from these same types (`cargo run -p keyway-k8s --bin crdgen`), and a
//! test fails when the committed YAML in `deploy/crds/` drifts from them. Production clusters run
//! the real VSO with its own CRDs; these types cover the fields Keyway and the VSO stand-in use.
//!
//! Layers, each importing only those below it: [`names`], [`refs`], [`reloader`], [`status`],
//! [`vso`] (pure types and rules) → [`scope`] (the namespaces served) → [`reduced`] (what the
//! caches keep) → [`cache`] (the watches) →
//! [`snapshot`] (their indexed read) → [`apps`] (the views) → [`observe`] (what changed between
//! two snapshots, for the timeline); [`actions`] writes.
//!
//! [`status`] holds the pure rules that turn what the cluster and Vault say into "is my change
//! live?" and "do the pods use it?".

pub mod actions;
pub mod apps;
pub mod cache;
pub mod fleet;
pub mod names;
pub mod observe;
pub mod onboard;
pub mod reduced;
pub mod refs;
pub mod reloader;
pub mod scope;
pub mod snapshot;
pub mod status;
pub mod vso;

use kube::CustomResourceExt;

/// The VSO CRDs as one multi-document YAML file, in a stable order.
pub fn crds_yaml() -> String {
    let crds = [
        vso::VaultConnection::crd(),
        vso::VaultAuth::crd(),
        vso::VaultStaticSecret::crd(),
    ];
    let mut out = String::from(
        "# Generated from server/k8s/src/vso.rs by `cargo run -p keyway-k8s --bin crdgen`. Do not edit.\n",
    );
    for crd in crds {
        out.push_str("---\n");
        out.push_str(&serde_yaml::to_string(&crd).expect("a CRD always serialises"));
    }
    out
}
