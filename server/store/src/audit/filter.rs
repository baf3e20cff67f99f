//! What the audit page asks the log for: [`Filter`], with the visibility pre-filter [`Reach`] the
//! server works out from Vault, and the bounds every filter is checked against before any SQL is
//! made of it ([`crate::audit::filter_sql`] is the one place that does that).

use time::OffsetDateTime;

use super::action::Action;
use super::event::{KEY_MAX_CHARS, NAME_MAX_CHARS, PATH_MAX_CHARS};
use super::outcome::Outcome;
use crate::StoreError;

/// Rows returned by [`Filter`] when no limit is given.
pub const DEFAULT_LIMIT: u32 = 100;
/// Most rows one [`Filter`] query returns.
pub const MAX_LIMIT: u32 = 1000;
/// Most entries in any one list of a [`Filter`] or a [`Reach`] (a user's environments, mounts).
pub const FILTER_LIST_MAX: usize = 1000;

/// Which rows `list()` returns, newest first. Every field narrows and they all combine; `None`
/// and an empty list mean "any".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// Exact Vault display name.
    pub actor: Option<String>,
    /// Any of these actions.
    pub actions: Vec<Action>,
    /// Any of these outcomes.
    pub outcomes: Vec<Outcome>,
    /// Exact environment (Kubernetes namespace).
    pub environment: Option<String>,
    /// Exact app (VaultStaticSecret name).
    pub app: Option<String>,
    /// Exact key name, added, changed or removed.
    pub key: Option<String>,
    pub mount: Option<String>,
    /// Exact secret path (within `mount`, when given).
    pub path: Option<String>,
    /// Rows at or after this instant.
    pub since: Option<OffsetDateTime>,
    /// Rows strictly before this instant.
    pub until: Option<OffsetDateTime>,
    /// At most this many rows (default [`DEFAULT_LIMIT`], capped at [`MAX_LIMIT`]).
    pub limit: Option<u32>,
    /// Paging: only rows older than this `seq` (pass the last `seq` of the previous page).
    pub before_seq: Option<i64>,
    /// Which rows the person asking may see at all, decided by the server from Vault; `None`
    /// means no restriction.
    pub reach: Option<Reach>,
    /// Leaves out each intent row whose outcome row is written (the outcome row repeats all it
    /// says), so a history shows one row per finished action and the intents still pending.
    pub hide_finished_intents: bool,
}

/// The rows a person may see: any row matching one of the parts. Nothing in it (the default)
/// matches no row.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reach {
    /// Every row of these environments.
    pub environments: Vec<String>,
    /// Rows about a secret in one of these mounts (the server checks each secret further).
    pub mounts: Vec<String>,
    /// Rows with no environment and no secret: logins, logouts.
    pub everything_else: bool,
    /// Rows of this actor entity that concern no secret (a user's own logins). An empty entity
    /// id (a token without an entity) matches nothing: it would be everyone's unknown entity.
    pub own_entity: Option<String>,
}

impl Filter {
    /// The page size asked for, within bounds.
    pub(crate) fn page_size(&self) -> u32 {
        self.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT)
    }

    /// Refuses a filter no stored row could match for its size alone (a name longer than any
    /// row keeps, a list longer than [`FILTER_LIST_MAX`]) and an empty name in a [`Reach`]:
    /// those are mistakes, or someone probing, and are not worth a query.
    pub(crate) fn check(&self) -> Result<(), StoreError> {
        let names = [
            (&self.actor, NAME_MAX_CHARS),
            (&self.environment, NAME_MAX_CHARS),
            (&self.app, NAME_MAX_CHARS),
            (&self.mount, NAME_MAX_CHARS),
            (&self.path, PATH_MAX_CHARS),
            (&self.key, KEY_MAX_CHARS),
        ];
        for (name, max) in names {
            if name.as_deref().is_some_and(|n| too_long(n, max)) {
                return Err(StoreError::Invalid(
                    "a filter names something longer than any audit row holds",
                ));
            }
        }
        if self.actions.len() > FILTER_LIST_MAX || self.outcomes.len() > FILTER_LIST_MAX {
            return Err(StoreError::Invalid(
                "a filter lists too many actions or outcomes",
            ));
        }
        if let Some(reach) = &self.reach {
            reach.check()?;
        }
        Ok(())
    }
}

impl Reach {
    fn check(&self) -> Result<(), StoreError> {
        for list in [&self.environments, &self.mounts] {
            if list.len() > FILTER_LIST_MAX {
                return Err(StoreError::Invalid(
                    "a reach lists more environments or mounts than Keyway serves",
                ));
            }
            if list
                .iter()
                .any(|n| n.is_empty() || too_long(n, NAME_MAX_CHARS))
            {
                return Err(StoreError::Invalid(
                    "a reach names an empty or overlong environment or mount",
                ));
            }
        }
        if self
            .own_entity
            .as_deref()
            .is_some_and(|e| too_long(e, NAME_MAX_CHARS))
        {
            return Err(StoreError::Invalid("a reach names an overlong entity"));
        }
        Ok(())
    }
}

fn too_long(s: &str, max: usize) -> bool {
    // Bytes first: a string of fewer bytes than `max` cannot have more characters.
    s.len() > max && s.chars().count() > max
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_longer_than_any_row_holds_and_overlong_lists_are_refused() {
        let long = "é".repeat(NAME_MAX_CHARS + 1);
        let fine = "é".repeat(NAME_MAX_CHARS);
        let with = |f: fn(&mut Filter, String), s: &str| {
            let mut filter = Filter::default();
            f(&mut filter, s.to_owned());
            filter.check()
        };
        let setters: [fn(&mut Filter, String); 4] = [
            |f, s| f.actor = Some(s),
            |f, s| f.environment = Some(s),
            |f, s| f.app = Some(s),
            |f, s| f.mount = Some(s),
        ];
        for set in setters {
            assert!(with(set, &fine).is_ok());
            assert!(matches!(with(set, &long), Err(StoreError::Invalid(_))));
        }
        let key = "k".repeat(KEY_MAX_CHARS + 1);
        assert!(with(|f, s| f.key = Some(s), &key).is_err());
        assert!(with(|f, s| f.key = Some(s), &key[1..]).is_ok());

        let many = Filter {
            actions: vec![Action::Login; FILTER_LIST_MAX + 1],
            ..Filter::default()
        };
        assert!(many.check().is_err());
        let reach = |r: Reach| Filter {
            reach: Some(r),
            ..Filter::default()
        };
        let envs = (0..=FILTER_LIST_MAX).map(|i| format!("ns-{i}")).collect();
        assert!(reach(Reach {
            environments: envs,
            ..Reach::default()
        })
        .check()
        .is_err());
        assert!(reach(Reach {
            mounts: vec![String::new()],
            ..Reach::default()
        })
        .check()
        .is_err());
        assert!(reach(Reach::default()).check().is_ok());
    }

    #[test]
    fn the_page_size_is_kept_within_bounds() {
        let size = |limit| {
            Filter {
                limit,
                ..Filter::default()
            }
            .page_size()
        };
        assert_eq!(size(None), DEFAULT_LIMIT);
        assert_eq!(size(Some(0)), 1);
        assert_eq!(size(Some(u32::MAX)), MAX_LIMIT);
    }
}
