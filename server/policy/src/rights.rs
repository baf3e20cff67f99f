//! What a token's capabilities on one secret's kv-v2 API paths mean for Keyway: the single rule
//! the server applies to a `sys/capabilities-self` answer and the access page applies to a
//! local [`crate::Acl`], so "may edit" means the same thing on both.

use crate::capability::Capability;
use crate::paths::{kv, KvApi};

/// The API paths Keyway asks about for one secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretPaths {
    pub data: String,
    pub metadata: String,
    pub subkeys: String,
    pub delete: String,
    pub undelete: String,
}

impl SecretPaths {
    /// The paths of the secret `path` in the kv-v2 mount `mount`.
    pub fn new(mount: &str, path: &str) -> Self {
        SecretPaths {
            data: kv(mount, KvApi::Data, path),
            metadata: kv(mount, KvApi::Metadata, path),
            subkeys: kv(mount, KvApi::Subkeys, path),
            delete: kv(mount, KvApi::Delete, path),
            undelete: kv(mount, KvApi::Undelete, path),
        }
    }

    /// All five, to ask Vault in one call.
    pub fn all(&self) -> [String; 5] {
        [
            self.data.clone(),
            self.metadata.clone(),
            self.subkeys.clone(),
            self.delete.clone(),
            self.undelete.clone(),
        ]
    }
}

/// What the user may do with one secret.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SecretRights {
    /// `read` on data: reveal values.
    pub read: bool,
    /// `create` on data: write the first version.
    pub create: bool,
    /// `update` on data: write a new version (or roll back, which writes one).
    pub update: bool,
    /// `update` on `delete/`: Keyway deletes exactly the version the user saw, through it.
    pub delete: bool,
    /// `update` on `undelete/`.
    pub undelete: bool,
    /// `read` on metadata: versions and their times.
    pub history: bool,
    /// `read` on subkeys: key names without values.
    pub subkeys: bool,
}

impl SecretRights {
    /// The rights `has` (a capabilities answer, or an ACL) gives on `paths`.
    pub fn from_caps(paths: &SecretPaths, has: impl Fn(&str, Capability) -> bool) -> Self {
        use Capability::{Create, Read, Update};
        SecretRights {
            read: has(&paths.data, Read),
            create: has(&paths.data, Create),
            update: has(&paths.data, Update),
            delete: has(&paths.delete, Update),
            undelete: has(&paths.undelete, Update),
            history: has(&paths.metadata, Read),
            subkeys: has(&paths.subkeys, Read),
        }
    }
}
