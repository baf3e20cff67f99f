//! Test fixtures that start real servers.
//!
//! Keyway's adapters are tested against the real thing, not against mocks: a throwaway OpenBao dev
//! server per test ([`Bao`]), a second one as an OIDC provider ([`OidcProvider`]), a 3-node raft
//! cluster for the HA tests ([`BaoCluster`]) and a throwaway database on the PostgreSQL that `./end2end/run test`
//! starts ([`TempDatabase`], skipped with a message outside CI when none is configured). The
//! poll-until helper every real-server test needs ([`eventually`]) lives here too, once. Doubles are left to the few cases a real server cannot produce (timeouts,
//! partitions), and those live next to the tests that need them.

mod bao;
mod bao_cluster;
mod bao_oidc;
mod bao_setup;
mod poll;
mod postgres;

pub use bao::Bao;
pub use bao_cluster::{BaoCluster, Node};
pub use bao_oidc::OidcProvider;
pub use poll::{eventually, until, POLL_INTERVAL};
pub use postgres::{postgres_url, postgres_url_or_skip, TempDatabase};
