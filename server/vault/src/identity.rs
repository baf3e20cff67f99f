//! Vault's identity store: groups (internal ones with chosen members, external ones filled by an
//! auth method's group alias), entities (the people), and the auth mounts an alias hangs on.
//! Always with the platform user's own token.
//!
//! Vault has no check-and-set on groups: a write replaces each list it names, and
//! `modify_index` is only reported. [`Group::modify_index`] is what callers compare, on a fresh
//! read just before writing, to refuse a write over someone else's change.

use std::collections::BTreeMap;

use reqwest::Method;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::client::{decode, NotFound};
use crate::ops::Operation;
use crate::{Vault, VaultError};

/// Whether Vault fills a group's members itself or takes them from an auth method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupType {
    /// Members are entities (and groups) chosen by hand.
    Internal,
    /// Members come from an auth method at login: the LDAP group or OIDC groups-claim value
    /// named by the group's alias.
    External,
}

/// An external group's link to its auth method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupAlias {
    pub id: String,
    /// The LDAP group name or the OIDC groups-claim value.
    pub name: String,
    pub mount_accessor: String,
}

/// One identity group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: String,
    pub name: String,
    pub kind: GroupType,
    pub policies: Vec<String>,
    pub member_entity_ids: Vec<String>,
    pub member_group_ids: Vec<String>,
    pub alias: Option<GroupAlias>,
    pub metadata: BTreeMap<String, String>,
    /// Vault's change counter for the group (not checked by Vault on write).
    pub modify_index: u64,
}

/// What a group create did. Vault has no create-only write for groups: a `POST identity/group`
/// naming a group that exists updates it and answers 204 without the id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupCreated {
    Created(String),
    /// A group of that name appeared since it was last read, and the write went into it.
    UpdatedExisting,
}

/// A group to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGroup {
    pub name: String,
    pub kind: GroupType,
    pub policies: Vec<String>,
    pub member_entity_ids: Vec<String>,
    pub metadata: BTreeMap<String, String>,
}

/// One alias of an entity: the name it logs in with on one auth mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityAlias {
    pub name: String,
    pub mount_accessor: String,
    /// `auth/userpass/`.
    pub mount_path: String,
    pub mount_type: String,
}

/// One entity (a person or a machine), as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntitySummary {
    pub id: String,
    pub name: String,
    pub aliases: Vec<EntityAlias>,
}

/// One entity, read: its own policies and the groups it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entity {
    pub id: String,
    pub name: String,
    pub policies: Vec<String>,
    /// Groups it is a direct or inherited member of.
    pub group_ids: Vec<String>,
    pub aliases: Vec<EntityAlias>,
}

/// An enabled auth method, with the accessor group aliases name it by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthMethod {
    /// `userpass`, `corp/ldap` (no trailing slash).
    pub path: String,
    pub kind: String,
    pub accessor: String,
}

#[derive(Deserialize)]
struct RawAlias {
    #[serde(default)]
    name: String,
    #[serde(default)]
    mount_accessor: String,
    #[serde(default)]
    mount_path: String,
    #[serde(default)]
    mount_type: String,
}

impl From<RawAlias> for EntityAlias {
    fn from(a: RawAlias) -> Self {
        EntityAlias {
            name: a.name,
            mount_accessor: a.mount_accessor,
            mount_path: a.mount_path,
            mount_type: a.mount_type,
        }
    }
}

impl Vault {
    /// Every group's id and name (`LIST identity/group/id`); none is an empty list.
    #[tracing::instrument(skip_all)]
    pub async fn group_ids(
        &self,
        token: &SecretString,
    ) -> Result<Vec<(String, String)>, VaultError> {
        let Some(answer) = self
            .list(Operation::IdentityRead, token, &["identity/group/id"])
            .await?
        else {
            return Ok(Vec::new());
        };
        #[derive(Deserialize)]
        struct Info {
            #[serde(default)]
            name: String,
        }
        #[derive(Deserialize)]
        struct Listed {
            #[serde(default)]
            keys: Vec<String>,
            #[serde(default)]
            key_info: BTreeMap<String, Info>,
        }
        let listed: Listed = decode(answer.status, answer.data(), "the group list")?;
        Ok(listed
            .keys
            .into_iter()
            .map(|id| {
                let name = listed
                    .key_info
                    .get(&id)
                    .map(|i| i.name.clone())
                    .unwrap_or_default();
                (id, name)
            })
            .collect())
    }

    /// One group by id; `None` when there is none.
    #[tracing::instrument(skip_all, fields(group = %id))]
    pub async fn group(&self, token: &SecretString, id: &str) -> Result<Option<Group>, VaultError> {
        self.group_at(token, &["identity/group/id", id]).await
    }

    /// One group by name; `None` when there is none.
    #[tracing::instrument(skip_all, fields(group = %name))]
    pub async fn group_by_name(
        &self,
        token: &SecretString,
        name: &str,
    ) -> Result<Option<Group>, VaultError> {
        self.group_at(token, &["identity/group/name", name]).await
    }

    async fn group_at(
        &self,
        token: &SecretString,
        parts: &[&str],
    ) -> Result<Option<Group>, VaultError> {
        let Some(answer) = self.read_one(Operation::IdentityRead, token, parts).await? else {
            return Ok(None);
        };
        #[derive(Deserialize)]
        struct Raw {
            id: String,
            name: String,
            #[serde(rename = "type")]
            kind: GroupType,
            #[serde(default)]
            policies: Option<Vec<String>>,
            #[serde(default)]
            member_entity_ids: Option<Vec<String>>,
            #[serde(default)]
            member_group_ids: Option<Vec<String>>,
            #[serde(default)]
            alias: Option<Value>,
            #[serde(default)]
            metadata: Option<BTreeMap<String, String>>,
            #[serde(default)]
            modify_index: u64,
        }
        let raw: Raw = decode(answer.status, answer.data(), "a group")?;
        // An internal group reads `alias: {}`.
        let alias = raw.alias.and_then(|a| {
            let id = a.get("id")?.as_str()?.to_owned();
            Some(GroupAlias {
                id,
                name: a.get("name")?.as_str()?.to_owned(),
                mount_accessor: a.get("mount_accessor")?.as_str()?.to_owned(),
            })
        });
        Ok(Some(Group {
            id: raw.id,
            name: raw.name,
            kind: raw.kind,
            policies: raw.policies.unwrap_or_default(),
            member_entity_ids: raw.member_entity_ids.unwrap_or_default(),
            member_group_ids: raw.member_group_ids.unwrap_or_default(),
            alias,
            metadata: raw.metadata.unwrap_or_default(),
            modify_index: raw.modify_index,
        }))
    }

    /// Creates a group; returns its id.
    #[tracing::instrument(skip_all, fields(group = %group.name))]
    pub async fn create_group(
        &self,
        token: &SecretString,
        group: &NewGroup,
    ) -> Result<GroupCreated, VaultError> {
        let url = self.url(&["identity/group"], false)?;
        let mut body = json!({
            "name": group.name,
            "type": group.kind,
            "policies": group.policies,
            "metadata": group.metadata,
        });
        if group.kind == GroupType::Internal {
            body["member_entity_ids"] = json!(group.member_entity_ids);
        }
        let answer = self
            .for_user(
                Operation::IdentityWrite,
                Method::POST,
                url,
                token,
                Some(&body),
                NotFound::IsError,
            )
            .await?;
        if answer.status == reqwest::StatusCode::NO_CONTENT {
            return Ok(GroupCreated::UpdatedExisting);
        }
        answer
            .data()
            .get("id")
            .and_then(Value::as_str)
            .map(|id| GroupCreated::Created(id.to_owned()))
            .ok_or_else(|| VaultError::unexpected(answer.status.as_u16(), "a group create"))
    }

    /// Replaces a group's policies, and (internal groups only) its member entities when
    /// `members` is given. Other fields are left as they are.
    #[tracing::instrument(skip_all, fields(group = %id))]
    pub async fn update_group(
        &self,
        token: &SecretString,
        id: &str,
        policies: &[String],
        members: Option<&[String]>,
    ) -> Result<(), VaultError> {
        let url = self.url(&["identity/group/id", id], false)?;
        let mut body = json!({ "policies": policies });
        if let Some(members) = members {
            body["member_entity_ids"] = json!(members);
        }
        self.for_user(
            Operation::IdentityWrite,
            Method::POST,
            url,
            token,
            Some(&body),
            NotFound::IsError,
        )
        .await
        .map(drop)
    }

    /// Links an external group to a group of an auth method (`name`: the LDAP group or the
    /// OIDC groups-claim value).
    #[tracing::instrument(skip_all, fields(group = %group_id))]
    pub async fn create_group_alias(
        &self,
        token: &SecretString,
        group_id: &str,
        name: &str,
        mount_accessor: &str,
    ) -> Result<(), VaultError> {
        let url = self.url(&["identity/group-alias"], false)?;
        let body = json!({
            "name": name,
            "mount_accessor": mount_accessor,
            "canonical_id": group_id,
        });
        self.for_user(
            Operation::IdentityWrite,
            Method::POST,
            url,
            token,
            Some(&body),
            NotFound::IsError,
        )
        .await
        .map(drop)
    }

    /// Every entity with its aliases (`LIST identity/entity/id`); none is an empty list.
    #[tracing::instrument(skip_all)]
    pub async fn entities(&self, token: &SecretString) -> Result<Vec<EntitySummary>, VaultError> {
        let Some(answer) = self
            .list(Operation::IdentityRead, token, &["identity/entity/id"])
            .await?
        else {
            return Ok(Vec::new());
        };
        #[derive(Deserialize)]
        struct Info {
            #[serde(default)]
            name: String,
            #[serde(default)]
            aliases: Option<Vec<RawAlias>>,
        }
        #[derive(Deserialize)]
        struct Listed {
            #[serde(default)]
            keys: Vec<String>,
            #[serde(default)]
            key_info: BTreeMap<String, Info>,
        }
        let mut listed: Listed = decode(answer.status, answer.data(), "the entity list")?;
        Ok(listed
            .keys
            .into_iter()
            .map(|id| {
                let info = listed.key_info.remove(&id);
                let (name, aliases) = info
                    .map(|i| {
                        (
                            i.name,
                            i.aliases
                                .unwrap_or_default()
                                .into_iter()
                                .map(EntityAlias::from)
                                .collect(),
                        )
                    })
                    .unwrap_or_default();
                EntitySummary { id, name, aliases }
            })
            .collect())
    }

    /// One entity by id; `None` when there is none.
    #[tracing::instrument(skip_all, fields(entity = %id))]
    pub async fn entity(
        &self,
        token: &SecretString,
        id: &str,
    ) -> Result<Option<Entity>, VaultError> {
        let Some(answer) = self
            .read_one(Operation::IdentityRead, token, &["identity/entity/id", id])
            .await?
        else {
            return Ok(None);
        };
        #[derive(Deserialize)]
        struct Raw {
            id: String,
            #[serde(default)]
            name: String,
            #[serde(default)]
            policies: Option<Vec<String>>,
            #[serde(default)]
            group_ids: Option<Vec<String>>,
            #[serde(default)]
            inherited_group_ids: Option<Vec<String>>,
            #[serde(default)]
            aliases: Option<Vec<RawAlias>>,
        }
        let raw: Raw = decode(answer.status, answer.data(), "an entity")?;
        let mut group_ids = raw.group_ids.unwrap_or_default();
        for g in raw.inherited_group_ids.unwrap_or_default() {
            if !group_ids.contains(&g) {
                group_ids.push(g);
            }
        }
        Ok(Some(Entity {
            id: raw.id,
            name: raw.name,
            policies: raw.policies.unwrap_or_default(),
            group_ids,
            aliases: raw
                .aliases
                .unwrap_or_default()
                .into_iter()
                .map(EntityAlias::from)
                .collect(),
        }))
    }

    /// The enabled auth methods (`GET sys/auth`, which needs `read` on `sys/auth`), sorted by path.
    #[tracing::instrument(skip_all)]
    pub async fn auth_methods(&self, token: &SecretString) -> Result<Vec<AuthMethod>, VaultError> {
        let url = self.url(&["sys/auth"], false)?;
        let answer = self
            .for_user(
                Operation::Mounts,
                Method::GET,
                url,
                token,
                None,
                NotFound::IsError,
            )
            .await?;
        let mut out: Vec<AuthMethod> = answer
            .data()
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(path, m)| {
                Some(AuthMethod {
                    path: path.trim_end_matches('/').to_owned(),
                    kind: m.get("type")?.as_str()?.to_owned(),
                    accessor: m.get("accessor")?.as_str()?.to_owned(),
                })
            })
            .collect();
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    /// The token policies a userpass user is given at login (`auth/<mount>/users/<name>`);
    /// `None` when there is no such user.
    #[tracing::instrument(skip_all, fields(mount = %mount))]
    pub async fn userpass_policies(
        &self,
        token: &SecretString,
        mount: &str,
        user: &str,
    ) -> Result<Option<Vec<String>>, VaultError> {
        let Some(answer) = self
            .read_one(
                Operation::IdentityRead,
                token,
                &["auth", mount, "users", user],
            )
            .await?
        else {
            return Ok(None);
        };
        #[derive(Deserialize)]
        struct Raw {
            #[serde(default)]
            token_policies: Option<Vec<String>>,
        }
        let raw: Raw = decode(answer.status, answer.data(), "a userpass user")?;
        Ok(Some(raw.token_policies.unwrap_or_default()))
    }
}
