//! Vault ACL policies, without I/O: read them ([`parse`]), decide what they grant exactly as
//! Vault does ([`Acl`]), and write Keyway's own per-environment policies ([`generate`]).
//!
//! Pure so that the platform page can preview a change locally and tests can pin every rule;
//! the tests in `tests/vs_openbao.rs` hold the evaluator and the generated text against a real
//! OpenBao, so the preview cannot drift from the server.

pub mod capability;
pub mod evaluate;
pub mod generate;
pub mod onboard;
pub mod parse;
pub mod paths;
pub mod rights;

pub use capability::{CapSet, Capability};
pub use evaluate::Acl;
pub use generate::{
    generate, is_managed, levels_at, policy_name, Level, LevelSet, Scope, MANAGED_MARKER,
};
pub use onboard::{app_policy_name, app_role_name, AppVault, KubeRole};
pub use parse::{parse, ParseError, Policy, Rule};
