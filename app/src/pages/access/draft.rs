//! The access page's draft: the groups shown with the levels and members the platform engineer
//! is setting, and the plan sent for preview and apply (only the groups that differ from what
//! was read). Pure, so the rules are tested without a browser.

use crate::dto::{
    AccessPlan, EnvironmentAccess, ExternalAlias, GroupAccess, GroupKind, GroupTarget, Levels,
    Member, NewGroupKind,
};

/// One group on the page, as read and as being edited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftGroup {
    pub name: String,
    pub target: GroupTarget,
    /// External groups get members from their identity provider, not from here.
    pub external: bool,
    pub alias: Option<ExternalAlias>,
    pub levels: Levels,
    pub was: Levels,
    /// An internal group's members (None for external groups).
    pub members: Option<Vec<Member>>,
    pub members_was: Option<Vec<Member>>,
}

impl DraftGroup {
    /// A group as read.
    pub fn read(g: &GroupAccess) -> Self {
        let (external, alias, members) = match &g.kind {
            GroupKind::Internal { members } => (false, None, Some(members.clone())),
            GroupKind::External { alias } => (true, alias.clone(), None),
        };
        DraftGroup {
            name: g.name.clone(),
            target: GroupTarget::Existing {
                id: g.id.clone(),
                seen: g.seen,
                seen_policies: g.policies.clone(),
                seen_members: members
                    .iter()
                    .flatten()
                    .map(|m| m.entity_id.clone())
                    .collect(),
            },
            external,
            alias,
            levels: g.levels,
            was: g.levels,
            members_was: members.clone(),
            members,
        }
    }

    /// A group to create, with no level yet.
    pub fn new_group(name: String, external: Option<ExternalAlias>) -> Self {
        let kind = match &external {
            None => NewGroupKind::Internal,
            Some(a) => NewGroupKind::External {
                mount: a.mount.clone(),
                alias: a.name.clone(),
            },
        };
        DraftGroup {
            target: GroupTarget::New {
                name: name.clone(),
                kind,
            },
            name,
            external: external.is_some(),
            alias: external.clone(),
            levels: Levels::default(),
            was: Levels::default(),
            members: external.is_none().then(Vec::new),
            members_was: None,
        }
    }

    /// A stable key for the page's lists.
    pub fn key(&self) -> String {
        match &self.target {
            GroupTarget::Existing { id, .. } => format!("id:{id}"),
            GroupTarget::New { name, .. } => format!("new:{name}"),
        }
    }

    pub fn is_new(&self) -> bool {
        matches!(self.target, GroupTarget::New { .. })
    }

    fn member_ids(list: &Option<Vec<Member>>) -> Option<Vec<String>> {
        list.as_ref().map(|m| {
            let mut ids: Vec<String> = m.iter().map(|m| m.entity_id.clone()).collect();
            ids.sort();
            ids
        })
    }

    /// Whether the members differ from what was read.
    pub fn members_changed(&self) -> bool {
        Self::member_ids(&self.members) != Self::member_ids(&self.members_was)
    }

    /// Whether this group is part of the change.
    pub fn changed(&self) -> bool {
        self.is_new() || self.levels != self.was || self.members_changed()
    }

    /// Adds a member (once).
    pub fn add_member(&mut self, member: Member) {
        if let Some(list) = &mut self.members {
            if !list.iter().any(|m| m.entity_id == member.entity_id) {
                list.push(member);
            }
        }
    }

    pub fn remove_member(&mut self, entity_id: &str) {
        if let Some(list) = &mut self.members {
            list.retain(|m| m.entity_id != entity_id);
        }
    }
}

/// The page's groups: those with a level here, as read.
pub fn groups_of(access: &EnvironmentAccess) -> Vec<DraftGroup> {
    access.groups.iter().map(DraftGroup::read).collect()
}

/// The plan of the changed groups, with Keyway's policies as the page read them.
pub fn plan(
    environment: &str,
    groups: &[DraftGroup],
    policies_seen: &[crate::dto::SeenPolicy],
    probe_user: &str,
) -> AccessPlan {
    AccessPlan {
        environment: environment.to_owned(),
        policies_seen: policies_seen.to_vec(),
        changes: groups
            .iter()
            .filter(|g| g.changed())
            .map(|g| crate::dto::GroupChange {
                target: g.target.clone(),
                levels: g.levels,
                members: if g.members_changed() || (g.is_new() && !g.external) {
                    DraftGroup::member_ids(&g.members)
                } else {
                    None
                },
            })
            .collect(),
        probe_user: Some(probe_user.trim().to_owned()).filter(|u| !u.is_empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dto::Level;

    fn group(levels: Levels) -> GroupAccess {
        GroupAccess {
            id: "g1".into(),
            name: "devs".into(),
            kind: GroupKind::Internal {
                members: vec![Member {
                    entity_id: "e1".into(),
                    label: "alice".into(),
                }],
            },
            policies: vec!["keyway-dev-view".into(), "other".into()],
            levels,
            seen: 7,
        }
    }

    #[test]
    fn only_changed_groups_are_in_the_plan_with_what_was_seen() {
        let mut g = DraftGroup::read(&group(Levels::default().with(Level::View)));
        assert!(plan("dev", std::slice::from_ref(&g), &[], "")
            .changes
            .is_empty());
        g.levels.set(Level::Edit, true);
        let p = plan("dev", std::slice::from_ref(&g), &[], " bob ");
        assert_eq!(p.probe_user.as_deref(), Some("bob"));
        assert_eq!(p.changes.len(), 1);
        let c = &p.changes[0];
        assert!(c.levels.view && c.levels.edit && !c.levels.restart);
        assert_eq!(c.members, None, "members unchanged: not sent");
        match &c.target {
            GroupTarget::Existing {
                seen,
                seen_policies,
                seen_members,
                ..
            } => {
                assert_eq!(*seen, 7);
                assert_eq!(seen_policies.len(), 2);
                assert_eq!(seen_members, &vec!["e1".to_string()]);
            }
            other => panic!("{other:?}"),
        }
        // Back to what was read: out of the plan again.
        g.levels.set(Level::Edit, false);
        assert!(plan("dev", &[g], &[], "").changes.is_empty());
    }

    #[test]
    fn edit_and_restart_bring_view_and_dropping_view_drops_them() {
        let mut l = Levels::default();
        l.toggle(Level::Restart, true);
        assert!(l.view && l.restart && !l.edit);
        l.toggle(Level::Edit, true);
        l.toggle(Level::View, false);
        assert!(l.is_empty());
        l.toggle(Level::View, true);
        l.toggle(Level::Edit, true);
        l.toggle(Level::Edit, false);
        assert!(l.view && !l.edit);
        let edit_only = Levels {
            edit: true,
            ..Default::default()
        };
        assert!(edit_only.with_view_implied().view);
    }

    #[test]
    fn members_are_sent_whole_when_they_change_and_an_external_group_has_none() {
        let mut g = DraftGroup::read(&group(Levels::default()));
        g.add_member(Member {
            entity_id: "e2".into(),
            label: "bob".into(),
        });
        g.add_member(Member {
            entity_id: "e2".into(),
            label: "bob".into(),
        });
        let p = plan("dev", std::slice::from_ref(&g), &[], "");
        assert_eq!(p.changes[0].members, Some(vec!["e1".into(), "e2".into()]));
        g.remove_member("e2");
        assert!(plan("dev", &[g], &[], "").changes.is_empty());

        let ext = DraftGroup::new_group(
            "ops".into(),
            Some(ExternalAlias {
                name: "cn=ops".into(),
                mount: "ldap".into(),
            }),
        );
        let p = plan("dev", &[ext], &[], "");
        assert_eq!(p.changes[0].members, None);
        let int = DraftGroup::new_group("qa".into(), None);
        assert_eq!(
            plan("dev", &[int], &[], "").changes[0].members,
            Some(vec![])
        );
    }
}
