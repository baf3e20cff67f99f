//! A narrow Vault/OpenBao HTTP client: login, tokens, capabilities, kv-v2, for the platform
//! pages ACL policies and identity groups, and transit signing for the audit checkpoints.
//!
//! Keyway acts *as the user*: every call that reads or changes something takes that user's own
//! token, so Vault's policies, identity templates and audit log see the real person. The
//! [`Vault`] value itself holds no token, only the connection settings, and is cheap to clone.
//!
//! Errors are a [`VaultError`] whose `Display` text is a plain sentence a UI can show as is.
//! Neither tokens nor secret values ever appear in an error, a `Debug` output or a tracing field.
//!
//! ```no_run
//! # async fn demo() -> Result<(), keyway_vault::VaultError> {
//! use keyway_vault::{Vault, VaultConfig};
//! let vault = Vault::new(&VaultConfig::new("https://vault.example:8200".parse().unwrap()))?;
//! let login = vault.login_userpass("userpass", "alice", "s3cret").await?;
//! let secret = vault.kv_read(&login.token, "kv", "apps/payments", None).await?;
//! # let _ = secret; Ok(()) }
//! ```

mod auth;
mod client;
mod error;
mod identity;
mod kube_roles;
mod kv;
mod kv_types;
mod nodes;
mod oidc;
mod ops;
mod policies;
mod sys;
mod token;
pub mod trail;
mod transit;

pub use auth::{AuthMount, Login};
pub use client::{Vault, VaultConfig, MAX_IN_FLIGHT};
pub use error::VaultError;
pub use identity::{
    AuthMethod, Entity, EntityAlias, EntitySummary, Group, GroupAlias, GroupCreated, GroupType,
    NewGroup,
};
pub use kube_roles::KubeRoleRead;
pub use kv_types::{KvData, KvMetadata, KvVersion, VersionInfo, VersionMeta};
pub use nodes::VaultAddrs;
pub use oidc::OidcFailure;
pub use ops::{CallOutcome, Observer, Operation};
pub use policies::{AclPolicy, PolicyCas, PolicyWriteError};
pub use sys::{Capabilities, Capability, Health, KvMount, CAPABILITIES_BATCH};
pub use token::{Renewal, TokenInfo};
pub use transit::{TransitKey, TransitSignature};

/// Re-exported so callers name the same type the API takes.
pub use secrecy::SecretString;
